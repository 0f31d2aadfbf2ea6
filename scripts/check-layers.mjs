// The layering of src/, checked in `make test`: a module imports only from its own layer
// or below, and no modules import each other in a cycle (type-only imports included).
//   base       errors, log, globals, the command type, the spec version: the ground floor
//   spec       the runtime-spec's types, reading and validating configs
//   linux      what the kernel is asked: plan, namespaces, mounts, cgroups, hooks, the addon
//   state      the containers' records (made of linux things: cgroup records, start times)
//   lifecycle  the operations: create, start, exec, delete
//   commands   one module per command: flags in, one call
//   cli        parsing and dispatch
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LAYERS = ['base', 'spec', 'linux', 'state', 'lifecycle', 'commands', 'cli'];

function walk(dir) {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : []));
}
const files = walk(join(root, 'src')).map((f) => relative(root, f));
const graph = new Map();
for (const f of files) {
  const text = readFileSync(join(root, f), 'utf8');
  const deps = [...text.matchAll(/(?:from|import|require\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => {
    const base = relative(root, resolve(root, dirname(f), m[1]));
    return files.find((x) => x === `${base}.ts` || x === `${base}/index.ts`) ?? `${base}.ts`;
  });
  graph.set(f, [...new Set(deps.filter((d) => d.startsWith('src/')))]);
}
const layer = (f) => LAYERS.indexOf(f.split('/')[1]);
const problems = [];
for (const [f, deps] of graph) {
  if (layer(f) < 0) problems.push(`${f}: in no layer (${LAYERS.join(', ')})`);
  for (const d of deps) {
    if (!graph.has(d)) problems.push(`${f}: imports ${d}, which does not exist`);
    else if (layer(d) > layer(f)) problems.push(`${f} (${LAYERS[layer(f)]}) imports ${d} (${LAYERS[layer(d)]}): a lower layer may not import a higher one`);
  }
}
const state = new Map();
const stack = [];
function visit(f) {
  if (state.get(f) === 'done') return;
  if (state.get(f) === 'open') {
    problems.push(`import cycle: ${[...stack.slice(stack.indexOf(f)), f].join(' -> ')}`);
    return;
  }
  state.set(f, 'open');
  stack.push(f);
  for (const d of graph.get(f) ?? []) visit(d);
  stack.pop();
  state.set(f, 'done');
}
for (const f of graph.keys()) visit(f);
if (problems.length) {
  console.error(`check-layers: ${problems.length} problem(s)\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`check-layers: ${graph.size} modules in ${LAYERS.length} layers, no upward import, no cycle`);
