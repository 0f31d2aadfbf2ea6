// What the header generators share: a TypeScript module of src/ loaded through esbuild,
// and a file written only when its text changed (so make and cmake rebuild nothing else).
import { buildSync } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The exports of root/rel (a .ts file), bundled with what it imports. */
export function loadTs(rel) {
  const { outputFiles } = buildSync({
    entryPoints: [join(root, rel)],
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
  });
  const mod = { exports: {} };
  new Function('module', 'exports', 'require', outputFiles[0].text)(mod, mod.exports, createRequire(import.meta.url));
  return mod.exports;
}

export function writeIfChanged(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileSync(path, text);
}
