'use strict';
// corral's entry point (dist/boot.js): runs dist/corral.js with the V8 code cache
// written at build time, so Node neither parses nor compiles the bundle again at
// every start. A stale or foreign cache is rejected by V8 (it checks the source and
// its own version) and the bundle simply compiles. The build writes the cache by
// running a command with CORRAL_WRITE_CODE_CACHE=<file>: taken at exit, it holds the
// functions that command compiled lazily too.
const { readFileSync } = require('fs');
const { Script } = require('vm');
const { join } = require('path');

const file = join(__dirname, 'corral.js');
let cachedData;
try {
  cachedData = readFileSync(join(__dirname, 'corral.cache'));
} catch {
  // no cache: compile as usual
}
const wrapped = `(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`;
const script = new Script(wrapped, { filename: file, cachedData });
const target = process.env.CORRAL_WRITE_CODE_CACHE;
if (target) {
  const exit = process.exit;
  process.exit = (code) => {
    require('fs').writeFileSync(target, script.createCachedData());
    exit(code);
  };
}
const module_ = { exports: {} };
script.runInThisContext().call(module_.exports, module_.exports, require, module_, file, __dirname);
