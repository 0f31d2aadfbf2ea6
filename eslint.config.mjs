// eslint (flat config): eslint's and typescript-eslint's recommended rules over the
// TypeScript of src/ and test/ and the JavaScript of scripts/ and test/compat/.
// Not type-aware: recommendedTypeChecked doubles the run (~12 s against ~5 s) and
// mostly reports tap's style (un-awaited t.test, async callbacks without await).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Node's globals, read from the Node that runs eslint (no `globals` package needed),
// and the CommonJS module scope of scripts/boot.js.
const nodeGlobals = Object.fromEntries(Object.getOwnPropertyNames(globalThis).map((n) => [n, 'readonly']));
const commonjs = { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' };

export default tseslint.config(
  { ignores: ['build/', 'dist/', 'bin/', 'bundles/', 'node_modules/', 'conformance/', 'conformance-results/', '.tap/', 'tmp/'] },
  // A disable comment whose rule no longer fires there is itself an error: none go stale.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Regular expressions that match text laid out with spaces (help output, stack
      // frames) read better with the spaces written out than as " {3}".
      'no-regex-spaces': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // src/ loads modules with require() where they are used, on purpose: what Node
      // loads at the start of state/kill/delete/start is startup cost, and a require
      // through a non-literal path keeps esbuild from bundling a module (the addon,
      // the schema validators, the command bundles, the systemd driver).
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests build and bend OCI configs and states as loose JSON, values of the
      // wrong type included on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  { files: ['**/*.{js,mjs}'], languageOptions: { globals: nodeGlobals } },
  {
    // boot.js is dist/'s CommonJS entry point, run by node as it is: require is its import.
    files: ['scripts/boot.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, ...commonjs } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
