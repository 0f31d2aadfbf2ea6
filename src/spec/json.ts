// Reading the JSON documents callers hand us (config.json, exec's process.json, update's
// resources): only a regular file is read (a FIFO would block forever, a device never
// end), and nesting is bounded before parsing, so nothing downstream (schema errors,
// the state record) recurses without limit.
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { CorralError, errnoCode, fsError } from '../base/errors';

/** Deeper than any config a caller writes (a seccomp rule's argument sits at depth 7). */
const MAX_JSON_DEPTH = 128;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** The text of a regular file; anything else is refused without blocking on it. */
export function readRegularFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw fsError(`open ${path}`, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CorralError(`open ${path}: must be a regular file (is ${kindOf(st)})`);
    return readFileSync(fd, 'utf8');
  } catch (e) {
    if (errnoCode(e)) throw fsError(`read ${path}`, e);
    throw e;
  } finally {
    closeSync(fd);
  }
}

/** The byte offset where text nests deeper than MAX_JSON_DEPTH, or -1. */
function tooDeepAt(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) return i;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return -1;
}

/** Parses text; what is wrong (syntax, depth) is one line naming `name`. */
export function parseJson(text: string, name: string): unknown {
  const deep = tooDeepAt(text);
  if (deep >= 0) throw new CorralError(`${name}: invalid JSON: nested deeper than ${MAX_JSON_DEPTH} levels (at offset ${deep})`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw CorralError.wrap(`${name}: invalid JSON`, e);
  }
}
