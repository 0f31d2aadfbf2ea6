#!/bin/bash
# Runs the runtime-tools validation suite (../shared/conformance/run.sh) against
# bin/corral and checks that every program in conformance/expected passed
# completely and left nothing behind. The other programs are reported, not judged.
# Host facts that conformance/expected names (`requires`, `allow-if-no`) are probed
# here first, so a host limit the probe found is never counted as a regression.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runner=${CONFORMANCE_RUNNER:-$here/../shared/conformance/run.sh}
results=${RESULTS_DIR:-$here/build/conformance}
cg=${CGROUP_ROOT:-/sys/fs/cgroup} # a fake tree, to check both answers of a probe
if [ ! -x "$runner" ] && [ ! -f "$runner" ]; then
  echo "conformance: $runner not found (../shared/conformance is needed)" >&2
  exit 1
fi

# fact NAME: exit status 0 when this host has it.
fact() {
  case $1 in
    swap-accounting) [ -e "$cg/memory/memory.memsw.limit_in_bytes" ] ;; # swapaccount=1
    kmem-tcp) [ -e "$cg/memory/memory.kmem.tcp.limit_in_bytes" ] ;;
    kmem-limit) # the kernel keeps a kernel memory limit (Linux 6.x takes the write and ignores it)
      local d="$cg/memory/corral-kmem-probe-$$" ok=1
      mkdir "$d" 2>/dev/null || return 1
      { echo 1048576 >"$d/memory.kmem.limit_in_bytes" && [ "$(cat "$d/memory.kmem.limit_in_bytes")" = 1048576 ] && ok=0; } 2>/dev/null || true
      rmdir "$d" 2>/dev/null || rm -rf "$d" # a fake tree's directory is not a cgroup
      return $ok ;;
    *) echo "conformance: unknown host fact '$1' in conformance/expected" >&2; exit 2 ;;
  esac
}
mapfile -t expected < <(grep -v '^\s*\(#\|$\)' "$here/conformance/expected")
lacks=""
for f in $(printf '%s\n' "${expected[@]}" | grep -oE '(requires|allow-if-no) [a-z0-9-]+' | cut -d' ' -f2 | sort -u); do
  fact "$f" || lacks="$lacks $f"
done
[ -z "$lacks" ] || echo "conformance: this host lacks:$lacks"

RESULTS_DIR=$results bash "$runner" "$here/bin/corral" "$@" | tee "$results.log" | grep -E '^(programs|[0-9]+ passed)' || true
HOST_LACKS=$lacks node - "$results" "${expected[@]}" <<'JS'
const [dir, ...lines] = process.argv.slice(2);
const { readFileSync } = require('fs');
const summary = require(`${dir}/summary.json`);
const programs = new Map((summary.tests).map((p) => [p.name, p]));
const lacks = new Set(process.env.HOST_LACKS.split(' ').filter(Boolean));
// name → the assertions allowed to fail on this host, and the facts it lacks that the program needs.
const rules = new Map();
for (const l of lines) {
  const m = /^(\S+)(?:\s+(?:allow:\s+(.+)|allow-if-no\s+(\S+):\s+(.+)|requires\s+(\S+)))?\s*$/.exec(l.trim());
  if (!m) {
    console.error(`conformance/expected: cannot read "${l}"`);
    process.exit(2);
  }
  const r = rules.get(m[1]) ?? { allow: [], missing: [] };
  rules.set(m[1], r);
  if (m[2]) r.allow.push(m[2]);
  if (m[3] && lacks.has(m[3])) r.allow.push(m[4]);
  if (m[5] && lacks.has(m[5])) r.missing.push(m[5]);
}
const expected = [...rules.keys()];
// A FAIL is fine when every "not ok" is an assertion this host cannot honour.
const onlyAllowed = (p) => {
  const { allow } = rules.get(p.name);
  if (!allow.length || p.status !== 'FAIL' || !p.passed) return false;
  const notOk = readFileSync(`${dir}/${p.name}.tap`, 'utf8').split('\n').filter((l) => /^not ok \d+/.test(l));
  return notOk.length > 0 && notOk.every((l) => allow.includes(l.replace(/^not ok \d+ - /, '')));
};
let bad = 0;
let skipped = 0;
for (const name of expected) {
  const p = programs.get(name);
  if (!p) continue; // not selected in this run
  const { allow, missing } = rules.get(name);
  const line = `${name.padEnd(32)} ${p.status} ${p.passed}/${p.passed + p.failed}${p.left_behind ? ` left behind ${p.left_behind}` : ''}`;
  if (missing.length) {
    skipped++;
    console.log(`skip ${line}  not judged: this host lacks ${missing.join(', ')}`);
    continue;
  }
  const ok = (p.status === 'PASS' || onlyAllowed(p)) && !p.left_behind;
  if (!ok) bad++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${line}${ok ? (p.status === 'PASS' ? '' : `  only what this host cannot honour fails: "${allow.join('", "')}"`) : '  ' + p.reason}`);
}
const others = [...programs.values()].filter((p) => !expected.includes(p.name));
console.log(`not required: ${others.map((p) => `${p.name}=${p.status}`).join(' ')}`);
const checked = expected.filter((n) => programs.has(n)).length - skipped;
console.log(`conformance: ${checked - bad} passed, ${bad} failed${skipped ? `, ${skipped} not judged (host limits)` : ''}`);
process.exit(bad ? 1 : 0);
JS
