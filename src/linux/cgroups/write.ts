import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CorralError, errnoCode } from '../../base/errors';
import { errnoText } from '../../base/errno';

/** Why a write to a cgroup file failed, in words; ENOENT on a missing file is "not supported". */
export function whyFailed(path: string, e: unknown): string {
  const code = errnoCode(e) ?? '';
  // cgroupfs answers EACCES, not ENOENT, for a file it does not have.
  if ((code === 'ENOENT' || code === 'EACCES') && !existsSync(path)) return 'not supported by this host (no such file)';
  return errnoText(code);
}

/** Never creates a file: a cgroup file that is not there is a feature the host lacks. */
const WRITE_EXISTING = constants.O_WRONLY | constants.O_TRUNC;

/** One write(2) of text to an existing file (cgroupfs takes a value per write). */
export function writeExisting(path: string, text: string): void {
  const fd = openSync(path, WRITE_EXISTING);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Writes value to dir/file; an error names the config field, the file and the value. */
export function writeCg(dir: string, file: string, value: string | number, field: string, hint = ''): void {
  const path = join(dir, file);
  try {
    writeExisting(path, String(value));
  } catch (e) {
    throw new CorralError(`${field}: cannot set ${path} to ${JSON.stringify(String(value))}: ${whyFailed(path, e)}${hint}`);
  }
}

/** The trimmed content of dir/file, or undefined when it cannot be read. */
export function readCg(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** A numeric cgroup file ("max" reads as Infinity); undefined when missing or not a number. */
export function readNum(dir: string, file: string): number | undefined {
  const s = readCg(dir, file);
  if (s === undefined) return undefined;
  if (s === 'max') return Infinity;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

export function hasFile(dir: string, file: string): boolean {
  return existsSync(join(dir, file));
}

/** "key value" lines (memory.stat, cpu.stat, memory.events) as a map. */
export function readKeyed(dir: string, file: string): Record<string, number> | undefined {
  const s = readCg(dir, file);
  if (s === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const line of s.split('\n')) {
    const [k, v] = line.split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}
