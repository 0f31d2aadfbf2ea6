// Node's side of the conversation with corral-init (addon/init/main.cc): start it
// with the caller's stdio and preserved fds, send the plan, and read its text lines.
import { closeSync, readSync, writeSync } from 'node:fs';
import { CorralError, errnoCode } from '../base/errors';
import { addon } from './addon';
import { helperPath } from './paths';
import { MESSAGES } from './plan-records';

export class Helper {
  private pending = '';
  private constructor(
    readonly pid: number,
    private sock: number,
  ) {}

  /** Starts corral-init in mode; fds 0-2 and 3..3+preserveFds-1 are passed through. */
  /**
   * Starts corral-init in mode; fds 0-2 and 3..3+preserveFds-1 are passed through,
   * then its socket, then `extra` (in order: the helper's fd of extra[i] is
   * Helper.extraFd(preserveFds, i)).
   */
  static start(mode: 'create' | 'exec', preserveFds: number, extra: number[] = []): Helper {
    const a = addon();
    const [mine, theirs] = a.socketPair();
    const fds = [0, 1, 2];
    for (let i = 0; i < preserveFds; i++) fds.push(3 + i);
    const sockFd = fds.length;
    fds.push(theirs, ...extra);
    const pid = a.spawn(helperPath, ['corral-init', mode, String(sockFd)], fds);
    closeSync(theirs);
    return new Helper(pid, mine);
  }

  static extraFd(preserveFds: number, i: number): number {
    return 3 + preserveFds + 1 + i;
  }

  /** One message of the conversation (plan-records.ts's MESSAGES). */
  say(message: (typeof MESSAGES)[keyof typeof MESSAGES]): void {
    this.send(`${message}\n`);
  }

  send(data: string | Buffer): void {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length;) off += writeSync(this.sock, buf, off);
  }

  /** The next line, or undefined when the helper closed its end. */
  readLine(): string | undefined {
    const buf = Buffer.alloc(4096);
    for (;;) {
      const nl = this.pending.indexOf('\n');
      if (nl >= 0) {
        const line = this.pending.slice(0, nl);
        this.pending = this.pending.slice(nl + 1);
        return line;
      }
      let n: number;
      try {
        n = readSync(this.sock, buf, 0, buf.length, null);
      } catch (e) {
        if (errnoCode(e) === 'EINTR' || errnoCode(e) === 'EAGAIN') continue;
        throw e;
      }
      if (n === 0) return undefined;
      this.pending += buf.toString('utf8', 0, n);
    }
  }

  /** Reads a line and fails with the helper's own message when it reports an error. */
  expect(prefix: string): string {
    const line = this.readLine();
    if (line === undefined) throw new CorralError(`container setup failed: ${this.exitText()}`);
    if (line.startsWith(`${MESSAGES.error} `)) throw new CorralError(line.slice(MESSAGES.error.length + 1));
    if (!line.startsWith(prefix)) throw new CorralError(`helper: expected "${prefix}", got "${line}"`);
    return line.slice(prefix.length).trim();
  }

  private exitText(): string {
    const r = this.wait();
    return r.signal ? `helper killed by signal ${r.signal}` : `helper exited with status ${r.status}`;
  }

  private waited?: { status?: number; signal?: number };
  wait(): { status?: number; signal?: number } {
    this.waited ??= addon().wait(this.pid, false);
    return this.waited;
  }

  close(): void {
    if (this.sock >= 0) closeSync(this.sock);
    this.sock = -1;
  }
}
