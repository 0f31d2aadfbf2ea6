#!/bin/bash
# Runs the runtime-tools validation suite (../shared/conformance/run.sh) against
# bin/corral and checks that every program in conformance/expected passed
# completely and left nothing behind. The other programs are reported, not judged.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runner=${CONFORMANCE_RUNNER:-$here/../shared/conformance/run.sh}
results=${RESULTS_DIR:-$here/build/conformance}
if [ ! -x "$runner" ] && [ ! -f "$runner" ]; then
  echo "conformance: $runner not found (../shared/conformance is needed)" >&2
  exit 1
fi
mapfile -t expected < <(grep -v '^\s*\(#\|$\)' "$here/conformance/expected")
RESULTS_DIR=$results bash "$runner" "$here/bin/corral" "$@" | tee "$results.log" | grep -E '^(programs|[0-9]+ passed)' || true
node - "$results/summary.json" "${expected[@]}" <<'JS'
const [file, ...expected] = process.argv.slice(2);
const summary = require(file);
const programs = new Map((summary.tests).map((p) => [p.name, p]));
let bad = 0;
for (const name of expected) {
  const p = programs.get(name);
  if (!p) continue; // not selected in this run
  const ok = p.status === 'PASS' && !p.left_behind;
  if (!ok) bad++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(32)} ${p.status} ${p.passed}/${p.passed + p.failed}${p.left_behind ? ` left behind ${p.left_behind}` : ''}${ok ? '' : '  ' + p.reason}`);
}
const others = [...programs.values()].filter((p) => !expected.includes(p.name));
console.log(`not required: ${others.map((p) => `${p.name}=${p.status}`).join(' ')}`);
const checked = expected.filter((n) => programs.has(n)).length;
console.log(`conformance: ${checked - bad} passed, ${bad} failed`);
process.exit(bad ? 1 : 0);
JS
