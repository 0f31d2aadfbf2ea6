'use strict';
// corral's entry point (dist/boot.js). It runs dist/corral.js, and the command
// bundles corral.js loads (dist/cmd-*.js), with V8 code caches written at build
// time, so Node neither parses nor compiles them again at every start. A stale or
// foreign cache is rejected by V8 (it checks the source and its own version) and
// the bundle simply compiles. The build writes the caches by running commands with
// CORRAL_WRITE_CODE_CACHE=1: taken at exit, they hold what those commands compiled
// lazily too.
const { readFileSync, writeFileSync } = require('fs');
const { Script } = require('vm');
const { join } = require('path');

const loaded = new Map();

function load(name) {
  let mod = loaded.get(name);
  if (mod) return mod.exports;
  const file = join(__dirname, `${name}.js`);
  let cachedData;
  try {
    cachedData = readFileSync(join(__dirname, `${name}.cache`));
  } catch {
    // no cache: compile as usual
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const script = new Script(wrapped, { filename: file, cachedData });
  mod = { exports: {}, script };
  loaded.set(name, mod);
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, __dirname);
  return mod.exports;
}

if (process.env.CORRAL_WRITE_CODE_CACHE) {
  const exit = process.exit;
  process.exit = (code) => {
    for (const [name, mod] of loaded) writeFileSync(join(__dirname, `${name}.cache`), mod.script.createCachedData());
    exit(code);
  };
}
globalThis.__corralLoad = load;
load('corral');
