'use strict';
// corral's entry point (dist/boot.js). It runs dist/corral.js, and the command
// bundles corral.js loads (dist/cmd-*.js), with V8 code caches written at build
// time, so Node neither parses nor compiles them again at every start. V8 checks
// only the source's length (and its own version), so each cache starts with the
// mtime and size of the bundle it was made from: any other bundle compiles afresh. The build writes the caches by running commands with
// CORRAL_WRITE_CODE_CACHE=1: taken at exit, they hold what those commands compiled
// lazily too.
const { readFileSync, statSync, writeFileSync } = require('fs');
const { Script } = require('vm');
const { join } = require('path');

const loaded = new Map();

function load(name) {
  let mod = loaded.get(name);
  if (mod) return mod.exports;
  const file = join(__dirname, `${name}.js`);
  const st = statSync(file);
  let cachedData;
  try {
    const c = readFileSync(join(__dirname, `${name}.cache`));
    if (c.readDoubleLE(0) === st.mtimeMs && c.readDoubleLE(8) === st.size) cachedData = c.subarray(16);
  } catch {
    // no cache: compile as usual
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
  const script = new Script(wrapped, { filename: file, cachedData });
  mod = { exports: {}, script, st };
  loaded.set(name, mod);
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, __dirname);
  return mod.exports;
}

if (process.env.CORRAL_WRITE_CODE_CACHE) {
  const exit = process.exit;
  process.exit = (code) => {
    for (const [name, mod] of loaded) {
      const head = Buffer.alloc(16);
      head.writeDoubleLE(mod.st.mtimeMs, 0);
      head.writeDoubleLE(mod.st.size, 8);
      writeFileSync(join(__dirname, `${name}.cache`), Buffer.concat([head, mod.script.createCachedData()]));
    }
    exit(code);
  };
}
globalThis.__corralLoad = load;
load('corral');
