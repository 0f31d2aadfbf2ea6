// `run` of a terminal container without --console-socket: corral is the console. The
// pty master is ours; our terminal goes raw and bytes are copied both ways, window
// size changes follow ours, signals sent to us go to the container, and we wait for
// it without blocking Node's event loop.
import { createReadStream, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { addon } from '../linux/addon';
import { errnoCode } from '../base/errors';

function writeAllFd(fd: number, data: Buffer): void {
  for (let off = 0; off < data.length;) {
    try {
      off += writeSync(fd, data, off);
    } catch (e) {
      if (errnoCode(e) !== 'EAGAIN') return; // the pty is gone
    }
  }
}

export function attachConsole(master: number, pid: number): Promise<{ status?: number; signal?: number }> {
  const a = addon();
  const resize = () => {
    if (process.stdout.isTTY && process.stdout.rows) a.setWinsize(master, process.stdout.rows, process.stdout.columns);
  };
  resize();
  process.on('SIGWINCH', resize);
  const forward = (sig: NodeJS.Signals) => () => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]) process.on(sig, forward(sig));
  if (isatty(0)) process.stdin.setRawMode(true);
  process.stdin.on('data', (d: Buffer) => writeAllFd(master, d));
  const out = createReadStream('', { fd: master, autoClose: false, highWaterMark: 16 * 1024 });
  let outputDone = false;
  out.on('data', (d) => process.stdout.write(d));
  // EIO once the last holder of the pty's slave is gone.
  out.on('error', () => (outputDone = true));
  out.on('end', () => (outputDone = true));
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const r = a.tryWait(pid);
      if (!r) return;
      clearInterval(timer);
      // Let what the process wrote last reach our terminal.
      const deadline = Date.now() + 500;
      const finish = setInterval(() => {
        if (!outputDone && Date.now() < deadline) return;
        clearInterval(finish);
        if (isatty(0)) process.stdin.setRawMode(false);
        process.stdin.pause();
        out.destroy();
        resolve(r);
      }, 10);
    }, 20);
  });
}
