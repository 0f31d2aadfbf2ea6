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
node - "$results" "${expected[@]}" <<'JS'
const [dir, ...lines] = process.argv.slice(2);
const { readFileSync } = require('fs');
const summary = require(`${dir}/summary.json`);
const programs = new Map((summary.tests).map((p) => [p.name, p]));
const allowed = new Map(lines.map((l) => {
  const [name, allow] = l.split(/\s+allow:\s+/);
  return [name.trim(), allow];
}));
const expected = [...allowed.keys()];
// A FAIL is fine when every "not ok" is the one assertion this host cannot honour.
const onlyAllowed = (p) => {
  const allow = allowed.get(p.name);
  if (!allow || p.status !== 'FAIL' || !p.passed) return false;
  const notOk = readFileSync(`${dir}/${p.name}.tap`, 'utf8').split('\n').filter((l) => /^not ok \d+/.test(l));
  return notOk.length > 0 && notOk.every((l) => l.replace(/^not ok \d+ - /, '') === allow);
};
let bad = 0;
for (const name of expected) {
  const p = programs.get(name);
  if (!p) continue; // not selected in this run
  const ok = (p.status === 'PASS' || onlyAllowed(p)) && !p.left_behind;
  if (!ok) bad++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(32)} ${p.status} ${p.passed}/${p.passed + p.failed}${p.left_behind ? ` left behind ${p.left_behind}` : ''}${ok ? (p.status === 'PASS' ? '' : `  only the allowed "${allowed.get(name)}" fails`) : '  ' + p.reason}`);
}
const others = [...programs.values()].filter((p) => !expected.includes(p.name));
console.log(`not required: ${others.map((p) => `${p.name}=${p.status}`).join(' ')}`);
const checked = expected.filter((n) => programs.has(n)).length;
console.log(`conformance: ${checked - bad} passed, ${bad} failed`);
process.exit(bad ? 1 : 0);
JS
