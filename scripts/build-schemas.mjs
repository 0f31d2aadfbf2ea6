// Compiles the runtime-spec schemas (Debian's copy + schemas/spec-1.3-additions.json, then
// schemas/runc-lenient.json: what runc takes beyond the spec) into standalone validator
// modules, so corral never compiles a schema at run time.
import Ajv from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const debian = process.env.OCI_SCHEMA_DIR ?? '/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema';
const out = join(root, 'build/schemas');
const base = 'https://corral.invalid/schema/';

if (!existsSync(join(debian, 'config-schema.json'))) {
  console.error(`build-schemas: ${debian}/config-schema.json missing: install golang-github-opencontainers-specs-dev`);
  process.exit(1);
}

function setPointer(doc, pointer, value) {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let node = doc;
  for (const p of parts.slice(0, -1)) node = node[p] ??= {};
  node[parts.at(-1)] = value;
}

// Draft-04 keywords used by these files are the same in ajv's default dialect; what
// differs is only "$schema" and "id", so give each file an absolute $id instead.
function strip(node) {
  if (Array.isArray(node)) return node.forEach(strip);
  if (node && typeof node === 'object') {
    delete node.$schema;
    for (const v of Object.values(node)) strip(v);
  }
}

const overlays = ['spec-1.3-additions.json', 'runc-lenient.json'].map((f) => JSON.parse(readFileSync(join(root, 'schemas', f), 'utf8')));
const ajv = new Ajv({ code: { source: true, optimize: true }, allErrors: true, strict: false, validateFormats: false });
for (const file of readdirSync(debian).filter((f) => f.endsWith('.json'))) {
  const doc = JSON.parse(readFileSync(join(debian, file), 'utf8'));
  strip(doc);
  for (const overlay of overlays) for (const [pointer, value] of Object.entries(overlay[file] ?? {})) setPointer(doc, pointer, value);
  doc.$id = base + file;
  ajv.addSchema(doc);
}

mkdirSync(out, { recursive: true });
const code = standalone(ajv, { validateConfig: base + 'config-schema.json', validateState: base + 'state-schema.json' });
writeFileSync(join(out, 'validators.js'), code);
console.log(`build-schemas: ${out}/validators.js (${code.length} bytes)`);
