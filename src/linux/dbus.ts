// A small synchronous D-Bus client: enough of the wire protocol (little-endian
// marshalling, EXTERNAL authentication, method calls, signals) to talk to systemd's
// manager for the systemd cgroup driver. Synchronous because every corral command is:
// the socket is a plain blocking fd with a timeout, read with fs.readSync.
import { closeSync, readSync, writeSync } from 'node:fs';
import { addon } from './addon';
import { errnoCode } from '../base/errors';

/** A value of D-Bus type `t` carried in a variant: `new Variant('t', 1n)`. */
export class Variant {
  constructor(
    readonly sig: string,
    readonly value: unknown,
  ) {}
}

export class DBusError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

const ALIGN: Record<string, number> = { y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, h: 4, s: 4, o: 4, g: 1, a: 4, '(': 8, '{': 8, v: 1 };

/** The end (exclusive) of the single complete type that starts at sig[i]. */
function typeEnd(sig: string, i: number): number {
  const c = sig[i];
  if (c === 'a') return typeEnd(sig, i + 1);
  if (c === '(' || c === '{') {
    let j = i + 1;
    while (sig[j] !== (c === '(' ? ')' : '}')) {
      if (j >= sig.length) throw new Error(`bad D-Bus signature ${sig}`);
      j = typeEnd(sig, j);
    }
    return j + 1;
  }
  if (!(c in ALIGN)) throw new Error(`bad D-Bus signature ${sig}`);
  return i + 1;
}

/** "sa(sv)" → ["s", "a(sv)"]. */
export function splitSig(sig: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < sig.length;) {
    const j = typeEnd(sig, i);
    out.push(sig.slice(i, j));
    i = j;
  }
  return out;
}

class Writer {
  buf = Buffer.alloc(256);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }

  align(n: number): void {
    const pad = (n - (this.len % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }

  private u32(v: number): void {
    this.align(4);
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  private bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }

  write(sig: string, v: unknown): void {
    const c = sig[0];
    switch (c) {
      case 'y':
        this.room(1);
        this.buf[this.len++] = Number(v);
        return;
      case 'b':
        return this.u32(v ? 1 : 0);
      case 'u':
      case 'h':
        return this.u32(Number(v));
      case 'i':
        this.align(4);
        this.room(4);
        this.buf.writeInt32LE(Number(v), this.len);
        this.len += 4;
        return;
      case 'n':
      case 'q':
        this.align(2);
        this.room(2);
        if (c === 'n') this.buf.writeInt16LE(Number(v), this.len);
        else this.buf.writeUInt16LE(Number(v), this.len);
        this.len += 2;
        return;
      case 't':
      case 'x':
        this.align(8);
        this.room(8);
        if (c === 't') this.buf.writeBigUInt64LE(BigInt(v as number | bigint), this.len);
        else this.buf.writeBigInt64LE(BigInt(v as number | bigint), this.len);
        this.len += 8;
        return;
      case 'd':
        this.align(8);
        this.room(8);
        this.buf.writeDoubleLE(Number(v), this.len);
        this.len += 8;
        return;
      case 's':
      case 'o': {
        const b = Buffer.from(String(v));
        this.u32(b.length);
        this.bytes(b);
        this.bytes(Buffer.from([0]));
        return;
      }
      case 'g': {
        const b = Buffer.from(String(v));
        this.room(1);
        this.buf[this.len++] = b.length;
        this.bytes(b);
        this.bytes(Buffer.from([0]));
        return;
      }
      case 'v': {
        const variant = v as Variant;
        this.write('g', variant.sig);
        this.write(variant.sig, variant.value);
        return;
      }
      case '(':
      case '{': {
        this.align(8);
        const fields = splitSig(sig.slice(1, -1));
        const vals = v as unknown[];
        fields.forEach((f, i) => this.write(f, vals[i]));
        return;
      }
      case 'a': {
        const elem = sig.slice(1);
        this.u32(0);
        const at = this.len - 4;
        this.align(ALIGN[elem[0]]);
        const start = this.len;
        const items = Buffer.isBuffer(v) ? [...v] : (v as unknown[]);
        for (const item of items) this.write(elem, item);
        this.buf.writeUInt32LE(this.len - start, at);
        return;
      }
      default:
        throw new Error(`cannot marshal D-Bus type ${sig}`);
    }
  }
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}

  align(n: number): void {
    this.pos += (n - (this.pos % n)) % n;
  }

  read(sig: string): unknown {
    const c = sig[0];
    const b = this.buf;
    if (c !== 'y' && c !== 'g' && c !== 'v') this.align(ALIGN[c]);
    switch (c) {
      case 'y':
        return b[this.pos++];
      case 'b':
        return ((this.pos += 4), b.readUInt32LE(this.pos - 4) !== 0);
      case 'u':
      case 'h':
        return ((this.pos += 4), b.readUInt32LE(this.pos - 4));
      case 'i':
        return ((this.pos += 4), b.readInt32LE(this.pos - 4));
      case 'n':
        return ((this.pos += 2), b.readInt16LE(this.pos - 2));
      case 'q':
        return ((this.pos += 2), b.readUInt16LE(this.pos - 2));
      case 't':
        return ((this.pos += 8), b.readBigUInt64LE(this.pos - 8));
      case 'x':
        return ((this.pos += 8), b.readBigInt64LE(this.pos - 8));
      case 'd':
        return ((this.pos += 8), b.readDoubleLE(this.pos - 8));
      case 's':
      case 'o': {
        const n = b.readUInt32LE(this.pos);
        const s = b.toString('utf8', this.pos + 4, this.pos + 4 + n);
        this.pos += 4 + n + 1;
        return s;
      }
      case 'g': {
        const n = b[this.pos];
        const s = b.toString('utf8', this.pos + 1, this.pos + 1 + n);
        this.pos += 1 + n + 1;
        return s;
      }
      case 'v': {
        const s = this.read('g') as string;
        return new Variant(s, this.read(s));
      }
      case '(':
      case '{':
        return splitSig(sig.slice(1, -1)).map((f) => this.read(f));
      case 'a': {
        const n = b.readUInt32LE(this.pos);
        this.pos += 4;
        const elem = sig.slice(1);
        this.align(ALIGN[elem[0]]);
        const end = this.pos + n;
        const out: unknown[] = [];
        while (this.pos < end) out.push(this.read(elem));
        return elem === 'y' ? Buffer.from(out as number[]) : out;
      }
      default:
        throw new Error(`cannot read D-Bus type ${sig}`);
    }
  }
}

export const enum MsgType {
  Call = 1,
  Return = 2,
  Error = 3,
  Signal = 4,
}
const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8 } as const;
const FIELD_SIG: Record<number, string> = { 1: 'o', 2: 's', 3: 's', 4: 's', 5: 'u', 6: 's', 7: 's', 8: 'g', 9: 'u' };

export interface Message {
  type: MsgType;
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  signature?: string;
  body: unknown[];
}

export function encodeMessage(m: Message): Buffer {
  const body = new Writer();
  const sig = m.signature ?? '';
  const types = splitSig(sig);
  types.forEach((t, i) => body.write(t, m.body[i]));
  const h = new Writer();
  h.write('y', 'l'.charCodeAt(0));
  h.write('y', m.type);
  h.write('y', 0);
  h.write('y', 1);
  h.write('u', body.len);
  h.write('u', m.serial);
  const fields: [number, Variant][] = [];
  for (const [name, code] of Object.entries(FIELD)) {
    const v = m[name as keyof typeof FIELD];
    if (v !== undefined && (name !== 'signature' || v !== '')) fields.push([code, new Variant(FIELD_SIG[code], v)]);
  }
  h.write('a(yv)', fields);
  h.align(8);
  return Buffer.concat([h.buf.subarray(0, h.len), body.buf.subarray(0, body.len)]);
}

/** The length of the whole message at the start of buf, once its fixed header is there. */
function messageLength(buf: Buffer): number | undefined {
  if (buf.length < 16) return undefined;
  if (buf[0] !== 'l'.charCodeAt(0)) throw new Error('D-Bus: only little-endian peers are supported');
  const fieldsLen = buf.readUInt32LE(12);
  const headerLen = 16 + fieldsLen + ((8 - ((16 + fieldsLen) % 8)) % 8);
  return headerLen + buf.readUInt32LE(4);
}

export function decodeMessage(buf: Buffer): Message {
  const r = new Reader(buf, 12);
  const fields = r.read('a(yv)') as [number, Variant][];
  r.align(8);
  const m: Message = { type: buf[1] as MsgType, serial: buf.readUInt32LE(8), body: [] };
  const names = Object.fromEntries(Object.entries(FIELD).map(([k, v]) => [v, k]));
  for (const [code, v] of fields) if (names[code]) (m as unknown as Record<string, unknown>)[names[code]] = v.value;
  const body = new Reader(buf.subarray(r.pos));
  m.body = splitSig(m.signature ?? '').map((t) => body.read(t));
  return m;
}

/** Where the system bus is: $DBUS_SYSTEM_BUS_ADDRESS (its unix:path= form) or the standard socket. */
export function systemBusPath(env = process.env): string {
  const addr = env.DBUS_SYSTEM_BUS_ADDRESS;
  for (const part of (addr ?? '').split(';')) {
    const m = /^unix:(?:.*,)?path=([^,]+)/.exec(part);
    if (m) return m[1].replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
  return '/run/dbus/system_bus_socket';
}

export class Bus {
  private serial = 0;
  private pending = Buffer.alloc(0);
  /** Signals that arrived while waiting for a reply, oldest first. */
  readonly signals: Message[] = [];

  /** A message bus (dbus-daemon), not a direct connection to systemd. */
  private constructor(
    private fd: number,
    readonly messageBus: boolean,
  ) {}

  /**
   * Connects and authenticates as our uid. `hello` is for a message bus (dbus-daemon);
   * systemd's private socket is a direct peer and takes no Hello.
   */
  static connect(path: string, hello: boolean, timeoutMs = 30_000): Bus {
    const fd = addon().connectUnix(path, timeoutMs);
    const bus = new Bus(fd, hello);
    try {
      const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
      writeSync(fd, `\0AUTH EXTERNAL ${uid}\r\n`);
      const line = bus.readLine();
      if (!line.startsWith('OK ')) throw new Error(`D-Bus authentication at ${path} refused: ${line}`);
      writeSync(fd, 'BEGIN\r\n');
      if (hello) bus.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'Hello');
    } catch (e) {
      bus.close();
      throw e;
    }
    return bus;
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }

  private fill(): void {
    const chunk = Buffer.alloc(65536);
    let n: number;
    try {
      n = readSync(this.fd, chunk, 0, chunk.length, null);
    } catch (e) {
      if (errnoCode(e) === 'EAGAIN') throw new Error('D-Bus: no answer in time', { cause: e });
      throw e;
    }
    if (n === 0) throw new Error('D-Bus: the connection was closed');
    this.pending = Buffer.concat([this.pending, chunk.subarray(0, n)]);
  }

  private readLine(): string {
    for (;;) {
      const i = this.pending.indexOf('\r\n');
      if (i >= 0) {
        const line = this.pending.toString('utf8', 0, i);
        this.pending = this.pending.subarray(i + 2);
        return line;
      }
      this.fill();
    }
  }

  /** The next message from the peer, blocking. */
  next(): Message {
    for (;;) {
      const n = messageLength(this.pending);
      if (n !== undefined && this.pending.length >= n) {
        const m = decodeMessage(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        return m;
      }
      this.fill();
    }
  }

  send(m: Omit<Message, 'serial'>): number {
    const serial = ++this.serial;
    writeSync(this.fd, encodeMessage({ ...m, serial }));
    return serial;
  }

  /** Calls a method and returns the reply's body; a D-Bus error is thrown as DBusError. */
  call(destination: string, path: string, iface: string, member: string, signature = '', ...body: unknown[]): unknown[] {
    const serial = this.send({ type: MsgType.Call, destination, path, interface: iface, member, signature, body });
    for (;;) {
      const m = this.next();
      if (m.type === MsgType.Signal) {
        this.signals.push(m);
        continue;
      }
      if (m.replySerial !== serial) continue;
      if (m.type === MsgType.Error) throw new DBusError(m.errorName ?? 'error', String(m.body[0] ?? m.errorName));
      return m.body;
    }
  }

  /** Waits for a signal that `match` accepts (looking first at those already received). */
  waitSignal(match: (m: Message) => boolean): Message {
    for (;;) {
      const i = this.signals.findIndex(match);
      if (i >= 0) return this.signals.splice(i, 1)[0];
      const m = this.next();
      if (m.type === MsgType.Signal) this.signals.push(m);
    }
  }
}
