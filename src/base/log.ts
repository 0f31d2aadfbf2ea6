// Where corral's messages go. Nothing here touches process.stdout/stderr: Node would
// make the caller's stdio non-blocking, and the container inherits those fds.
import { openSync, writeSync, closeSync } from 'node:fs';
import { errnoCode, fsError } from './errors';
import { sleepSync } from './sleep';

export type LogFormat = 'text' | 'json';

interface LogConfig {
  path?: string;
  format: LogFormat;
  debug: boolean;
}
// Each command bundle of dist/ has its own copy of this module: the configuration lives
// on globalThis, so what corral.js set up holds in the command it loads.
const config: LogConfig = ((globalThis as { __corralLog?: LogConfig }).__corralLog ??= { format: 'text', debug: false });

/** As runc, a --log file that cannot be opened is an error ("open PATH: reason", exit 1). */
export function configureLog(path: string | undefined, format: LogFormat, debug: boolean): void {
  if (path) {
    try {
      closeSync(openSync(path, 'a', 0o644));
    } catch (e) {
      throw fsError(`open ${path}`, e);
    }
  }
  config.path = path;
  config.format = format;
  config.debug = debug;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function textLine(level: string, msg: string): string {
  return `time="${now()}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

function emit(level: string, msg: string): void {
  if (config.path) {
    const line = config.format === 'json' ? JSON.stringify({ level, msg, time: now() }) + '\n' : textLine(level, msg);
    try {
      const fd = openSync(config.path, 'a', 0o644);
      writeSync(fd, line);
      closeSync(fd);
      return;
    } catch {
      // fall through to stderr: a message must not be lost
    }
  }
  writeAll(2, textLine(level, msg));
}

export function logError(msg: string): void {
  emit('error', msg);
  // As runc: with --log the message also goes to stderr, plain. The containerd shim
  // tells "not found" from other errors by what the runtime printed there.
  if (config.path) writeAll(2, msg + '\n');
}

export function logWarn(msg: string): void {
  emit('warning', msg);
}

export function logDebug(msg: string): void {
  if (config.debug) emit('debug', msg);
}

/** Writes to stdout with a blocking write, without creating process.stdout. */
export function out(text: string): void {
  writeAll(1, text);
}

/** A blocking write of all of text, even to an fd the caller left non-blocking. */
export function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      if (errnoCode(e) !== 'EAGAIN') throw e;
      sleepSync(1);
    }
  }
}

/**
 * --debug: "<operation>: <phase> took 1.2ms" once fn returns (or "failed after" once it
 * throws), so a slow or failing create/start/exec/delete shows where its time went.
 */
export function phase<T>(operation: string, name: string, fn: () => T): T {
  if (!config.debug) return fn();
  const t0 = performance.now();
  const took = () => `${(performance.now() - t0).toFixed(1)}ms`;
  try {
    const r = fn();
    emit('debug', `${operation}: ${name} took ${took()}`);
    return r;
  } catch (e) {
    emit('debug', `${operation}: ${name} failed after ${took()}`);
    throw e;
  }
}
