// Broken configs as a stranger would hand them over: a seeded corpus of mutations of
// `runc spec`'s config (wrong types, huge and negative numbers, NUL bytes, long strings,
// missing and extra fields, truncated and corrupted text). Each one either runs or fails
// with an error of corral's own — never a stack, a crash or a hang — and leaves nothing.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { BUSYBOX_ROOTFS, ROOT, cgroupsMatching, corral, scratch, testFile } from '../lib/corral';

const { root, id } = testFile(t);
const N = 90;

let seed = 20261206;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed / 0x7fffffff);
const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
const WEIRD: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 53,
  -(2 ** 63),
  1e300,
  '',
  'x',
  '/',
  '../..',
  'a'.repeat(5000),
  'a\0b',
  [],
  {},
  [1, 'two'],
  { a: 1 },
  'é😀',
  '/proc/self/fd/0',
  'SCMP_ACT_KILL',
  'CAP_SYS_ADMIN',
  4294967296,
  '/dev/null',
];

type Json = Record<string, any>;
function paths(o: unknown, p: string[] = [], out: string[][] = []): string[][] {
  out.push(p);
  if (o && typeof o === 'object') for (const k of Object.keys(o)) paths((o as Json)[k], [...p, k], out);
  return out;
}

function mutateValue(c: Json): string {
  const all = paths(c).filter((p) => p.length);
  for (let n = 0; n < 1 + Math.floor(rnd() * 3); n++) {
    const p = pick(all);
    let o: Json = c;
    for (const k of p.slice(0, -1)) o = o?.[k];
    if (!o || typeof o !== 'object') continue;
    const k = p.at(-1)!;
    const r = rnd();
    if (r < 0.6) o[k] = pick(WEIRD);
    else if (r < 0.8) delete o[k];
    else if (Array.isArray(o[k])) o[k].push(pick(WEIRD));
    else o[k] = [o[k]];
  }
  return JSON.stringify(c);
}

function mutateText(text: string): string {
  const pos = Math.floor(rnd() * text.length);
  const r = rnd();
  if (r < 0.3) return text.slice(0, pos);
  if (r < 0.6) return text.slice(0, pos) + String.fromCharCode(Math.floor(rnd() * 256)) + text.slice(pos + 1);
  if (r < 0.8) return text.slice(0, pos) + '\\u0000' + text.slice(pos);
  return text.replace(/\{/, '{"deep": ' + '['.repeat(300) + ']'.repeat(300) + ',');
}

const base = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/callers/runc-spec.json'), 'utf8')) as Json;
base.root = { path: BUSYBOX_ROOTFS, readonly: true };
Object.assign(base.process, { terminal: false, args: ['true'], rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 }] });
base.process.user.additionalGids = [1, 2];
base.hooks = { prestart: [{ path: '/bin/true', args: ['true'], timeout: 5 }] };
base.linux.resources = { memory: { limit: 100000000 }, pids: { limit: 100 }, cpu: { shares: 512 } };
base.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
base.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }] };

t.test(`${N} broken configs: corral's own error or a run, never a stack, and nothing left`, async (t) => {
  const outcomes = { ran: 0, refused: 0 };
  const ids = new Set<string>();
  for (let i = 0; i < N; i++) {
    const text = i % 3 === 2 ? mutateText(JSON.stringify(base)) : mutateValue(structuredClone(base));
    const dir = scratch('fuzz-');
    writeFileSync(join(dir, 'config.json'), text);
    const c = id(`fuzz${i}`);
    const r = corral(root, ['run', '--bundle', dir, c], { timeout: 30_000 });
    const bad = r.signal !== null || /internal error|\n\s+at |RangeError|TypeError/.test(r.stderr);
    if (bad) t.fail(`case ${i}: ${r.signal ?? ''} ${r.stderr.slice(0, 500)}\n${text.slice(0, 2000)}`);
    if (r.status === 0) outcomes.ran++;
    else outcomes.refused++;
    corral(root, ['delete', '--force', c]);
    if (existsSync(join(root, c))) t.fail(`case ${i}: left its state directory`);
    ids.add(c);
  }
  t.same(
    cgroupsMatching((n) => ids.has(n)),
    [],
    'no cgroup left',
  );
  t.pass(`${N} configs: ${outcomes.ran} ran, ${outcomes.refused} refused, none crashed, hung or leaked`);
});
