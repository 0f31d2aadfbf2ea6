// Reading a bundle's config.json: parse errors and schema problems are reported
// all at once, each as "config.json: <JSON pointer>: <what is wrong>".
import { join, posix } from 'node:path';
import { CorralError } from '../base/errors';
import { parseJson, readRegularFile } from '../spec/json';
import { configProblems } from '../spec/validate';
import type { Config } from '../spec/types';

/**
 * What real callers write that the schema refuses but runc takes: podman puts a
 * device's whole st_mode in fileMode (e.g. 8630 = S_IFCHR|0666); runc keeps only the
 * permission bits, and so do we. runc also cleans a device's path ("/dev/foo/" is
 * /dev/foo).
 */
function normalize(doc: unknown): void {
  const devices = (doc as { linux?: { devices?: unknown } })?.linux?.devices;
  if (!Array.isArray(devices)) return;
  for (const d of devices) {
    if (d && typeof d.fileMode === 'number' && d.fileMode > 0o7777) d.fileMode &= 0o7777;
    if (d && typeof d.path === 'string' && d.path.startsWith('/')) d.path = posix.normalize(d.path).replace(/(.)\/$/, '$1');
  }
}

export function loadConfig(bundle: string, file = join(bundle, 'config.json')): Config {
  const doc = parseJson(readRegularFile(file), file);
  normalize(doc);
  const problems = configProblems(doc);
  if (problems.length) {
    const name = file.endsWith('/config.json') ? 'config.json' : file;
    throw new CorralError(problems.map((p) => `${name}: ${p}`).join('\n'));
  }
  return doc as Config;
}
