// Reading a bundle's config.json: parse errors and schema problems are reported
// all at once, each as "config.json: <JSON pointer>: <what is wrong>".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorralError, fsError } from '../cli/errors';
import { configProblems } from '../spec/validate';
import type { Config } from '../spec/types';

export function loadConfig(bundle: string, file = join(bundle, 'config.json')): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw fsError(`open ${file}`, e);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CorralError(`${file}: invalid JSON: ${(e as Error).message}`);
  }
  const problems = configProblems(doc);
  if (problems.length) {
    const name = file.endsWith('/config.json') ? 'config.json' : file;
    throw new CorralError(problems.map((p) => `${name}: ${p}`).join('\n'));
  }
  return doc as Config;
}
