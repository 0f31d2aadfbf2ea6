// The differential test against runc: every config of test/compat/corpus (written by
// podman, containerd's ctr, `runc spec`, and in the shapes of crun's, runc's and Docker's
// own) runs under runc and under corral, with test/compat/probe.sh as the process, and
// what the container sees is compared section by section: accept/refuse, the status
// lines (ids, capabilities, NoNewPrivs, seccomp), umask, rlimits, hostname, cwd, env,
// mountinfo, masked/readonly paths, sysctls, devices, the cgroup (path and the values of
// the resources the config sets, read on the host) and the exit status.
//
// A section that differs must be listed in differences.md with exactly the lines that
// differ; a listed one is asserted to still differ that way (so a fix shows up as a change
// to the list). COMPAT_WRITE=FILE writes the differences found, in that format, to FILE.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { BUSYBOX_ROOTFS, CORRAL, messages, testFile } from '../lib/corral';
import { DIFFERENCES, type Entry, type Json, formatDifferences, loadCorpus, loadDifferences, stringifyExact } from './corpus';

const RUNC = '/usr/sbin/runc';
const PROBE = readFileSync(join(__dirname, 'probe.sh'), 'utf8');
const RUNTIMES = [
  { name: 'runc', bin: RUNC },
  { name: 'corral', bin: CORRAL },
] as const;
type Runtime = (typeof RUNTIMES)[number];
/** The parent of every cgroupsPath here, removed at the end. */
const PARENT = `corral-compat-${process.pid}`;

// ---------------------------------------------------------------- bundles

/**
 * A bundle for one run: the entry's config with the probe as the process (after an init
 * such as podman's catatonit, kept), no terminal, a fresh copy of the busybox rootfs
 * (runtimes make mount points in it), the placeholder sources made, and cgroupsPath moved
 * under PARENT with the run's id.
 */
function makeBundle(config: Json, id: string): { dir: string; config: Json } {
  const dir = world.tempDir('bundle');
  chmodSync(dir, 0o711); // (a user namespace's root reaches the rootfs)
  const c = structuredClone(config);
  cpSync(BUSYBOX_ROOTFS, join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  c.root = { ...c.root, path: 'rootfs' };
  const p = c.process ?? {};
  const args: string[] = p.args ?? [];
  const init = args.indexOf('--');
  p.args = [
    ...(init > 0 && /init|catatonit|tini/.test(args[0]) ? args.slice(0, init + 1) : []),
    '/bin/sh',
    '-c',
    PROBE,
    'probe',
    probedPaths(c).join(' '),
    Object.keys(c.linux?.sysctl ?? {}).join(' '),
  ];
  p.terminal = false;
  delete p.consoleSize;
  c.process = p;
  for (const m of c.mounts ?? []) {
    const ph = /^@(FILE|DIR)@\/(.+)$/.exec(m.source ?? '');
    if (!ph) continue;
    m.source = join(dir, 'sources', ph[2]);
    if (ph[1] === 'DIR') mkdirSync(m.source, { recursive: true });
    else {
      mkdirSync(join(dir, 'sources'), { recursive: true });
      writeFileSync(m.source, ph[2] === 'etc-hosts' ? '127.0.0.1 localhost\n' : 'compat\n');
    }
  }
  // A user namespace's root owns the rootfs, as podman and containerd arrange for --uidmap.
  const uid = c.linux?.uidMappings?.find((m: Json) => m.containerID === 0)?.hostID;
  const gid = c.linux?.gidMappings?.find((m: Json) => m.containerID === 0)?.hostID;
  if (c.linux?.namespaces?.some((n: Json) => n.type === 'user') && uid !== undefined && gid !== undefined) {
    const r = spawnSync('chown', ['-Rh', `${uid}:${gid}`, join(dir, 'rootfs')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`chown rootfs: ${r.stderr}`);
  }
  if (c.linux?.cgroupsPath) c.linux.cgroupsPath = `${isAbsolute(c.linux.cgroupsPath) ? '/' : ''}${PARENT}/${id}`;
  writeFileSync(join(dir, 'config.json'), stringifyExact(c, 2));
  return { dir, config: c };
}

/** The masked and readonly paths the probe looks at: the config's, and Docker's usual ones. */
function probedPaths(c: Json): string[] {
  const usual = [
    '/proc/kcore',
    '/proc/keys',
    '/proc/timer_list',
    '/proc/sched_debug',
    '/sys/firmware',
    '/proc/scsi',
    '/proc/acpi',
    '/proc/asound',
    '/proc/bus',
    '/proc/fs',
    '/proc/irq',
    '/proc/sys',
    '/proc/sysrq-trigger',
  ];
  return [...new Set([...usual, ...(c.linux?.maskedPaths ?? []), ...(c.linux?.readonlyPaths ?? [])])].filter((p) => !/\s/.test(p));
}

// ---------------------------------------------------------------- one run

interface Outcome {
  ran: boolean;
  message: string;
  sections: Map<string, string[]>;
}

/**
 * The test's own cgroups other than the root (a runtime nests a container without a
 * cgroupsPath under its caller's cgroup, which differs from host to host): cut from paths.
 */
const CALLER_CGROUPS = [
  ...new Set(
    readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .map((l) => l.split(':').slice(2).join(':'))
      .filter((p) => p && p !== '/'),
  ),
];

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `RUNTIME --root ROOT run --bundle DIR ID`, the cgroup read while the probe waits. */
async function runOne(rt: Runtime, root: string, id: string, bundle: { dir: string; config: Json }): Promise<Outcome> {
  const p = spawn(rt.bin, ['--root', root, 'run', '--bundle', bundle.dir, id], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  p.stdin.on('error', () => {}); // a refused run closes it early
  let code: number | null | undefined;
  let signal: string | null = null;
  const exited = new Promise<void>((resolve) => p.on('close', (c, s) => ((code = c), (signal = s), resolve())));
  const deadline = Date.now() + 30_000;
  while (code === undefined && !stdout.includes('@@ end\n') && Date.now() < deadline) await delay(20);
  let cgroup: string[] = [];
  let paths: string[] = [];
  if (stdout.includes('@@ end\n')) {
    ({ cgroup, paths } = readCgroup(rt, root, id, bundle.config));
    p.stdin.end('go\n');
  }
  const timeout = setTimeout(() => p.kill('SIGKILL'), Math.max(1000, deadline - Date.now()));
  await exited;
  clearTimeout(timeout);
  const ran = stdout.includes('@@ end\n');
  const norm = (s: string) =>
    CALLER_CGROUPS.reduce((v, c) => v.split(`${c}/`).join('/'), s)
      .split(bundle.dir)
      .join('BUNDLE')
      .split(id)
      .join('ID')
      .split(PARENT)
      .join('PARENT');
  const sections = new Map<string, string[]>();
  if (ran) {
    let name = '';
    for (const line of stdout.split('\n')) {
      const m = /^@@ (\S+)$/.exec(line);
      if (m) sections.set((name = m[1]), []);
      else if (name && line) sections.get(name)!.push(norm(line));
    }
    sections.delete('end');
    sections.set('mountinfo', normMountinfo(sections.get('mountinfo') ?? []));
    sections.set('cgroup-path', paths.map(norm));
    sections.set('cgroup-values', cgroup);
    sections.set('exit', [`status ${code}${signal ? ` signal ${signal}` : ''}`]);
  }
  const message = norm(messages(stderr).trim());
  return { ran, message, sections };
}

/**
 * mountinfo without what legitimately differs: mount ids, parent ids, anonymous device
 * numbers and peer group numbers; sorted by mount point (mount order of unrelated
 * mounts is not compared), keeping the order of mounts stacked on one point.
 */
function normMountinfo(lines: string[]): string[] {
  const rows = lines.map((l) => {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    const optional =
      f
        .slice(6, sep)
        .map((o) => o.replace(/:\d+$/, ''))
        .join(',') || '-';
    const dev = f[2].startsWith('0:') ? '0:N' : f[2];
    // The rootfs lies on whatever filesystem holds the test's temp dir.
    const fs = f[4] === '/' ? 'HOSTFS' : `${f[sep + 1]} ${f[sep + 2]} ${f[sep + 3]} dev=${dev}`;
    return { mp: f[4], text: `${f[4]} root=${f[3]} ${f[5]} [${optional}] ${fs}` };
  });
  return rows
    .map((r, i) => ({ ...r, i }))
    .sort((a, b) => (a.mp < b.mp ? -1 : a.mp > b.mp ? 1 : a.i - b.i))
    .map((r) => r.text);
}

// The cgroup files read for the resources a config sets: [set?, v1 controller, v1 file, v2 file].
const CGROUP_FILES: [(r: Json) => unknown, string, string, string | undefined][] = [
  [(r) => r.memory?.limit, 'memory', 'memory.limit_in_bytes', 'memory.max'],
  [(r) => r.memory?.reservation, 'memory', 'memory.soft_limit_in_bytes', 'memory.low'],
  [(r) => r.memory?.swap, 'memory', 'memory.memsw.limit_in_bytes', 'memory.swap.max'],
  [(r) => r.memory?.swappiness, 'memory', 'memory.swappiness', undefined],
  [(r) => r.memory?.disableOOMKiller, 'memory', 'memory.oom_control', undefined],
  [(r) => r.cpu?.shares, 'cpu', 'cpu.shares', 'cpu.weight'],
  [(r) => r.cpu?.quota ?? r.cpu?.period, 'cpu', 'cpu.cfs_quota_us', 'cpu.max'],
  [(r) => r.cpu?.quota ?? r.cpu?.period, 'cpu', 'cpu.cfs_period_us', undefined],
  [(r) => r.cpu?.cpus, 'cpuset', 'cpuset.cpus', 'cpuset.cpus'],
  [(r) => r.cpu?.mems, 'cpuset', 'cpuset.mems', 'cpuset.mems'],
  [(r) => r.pids?.limit, 'pids', 'pids.max', 'pids.max'],
  [(r) => r.devices, 'devices', 'devices.list', undefined],
  [(r) => r.blockIO?.weight, 'blkio', 'blkio.weight', 'io.weight'],
];

/** The container's cgroup on the host (from its init's /proc/PID/cgroup) and the values read there. */
function readCgroup(rt: Runtime, root: string, id: string, config: Json): { cgroup: string[]; paths: string[] } {
  const st = spawnSync(rt.bin, ['--root', root, 'state', id], { encoding: 'utf8' });
  let pid: number;
  try {
    pid = (JSON.parse(st.stdout) as { pid: number }).pid;
  } catch {
    return { cgroup: [`state: ${st.stderr.trim()}`], paths: [] };
  }
  let lines: string[];
  try {
    lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean);
  } catch (e) {
    return { cgroup: [`/proc/${pid}/cgroup: ${(e as Error).message}`], paths: [] };
  }
  const dirs = new Map<string, string>(); // controller -> directory on the host
  const paths: string[] = [];
  for (const line of lines) {
    const [, ctrls, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (ctrls === undefined) continue;
    paths.push(`${ctrls || '(unified)'}: ${path}`);
    const mount = ctrls === '' ? (existsSync('/sys/fs/cgroup/unified') ? 'unified' : '') : ctrls.replace(/^name=/, '');
    for (const c of ctrls === '' ? ['(unified)'] : ctrls.split(',')) dirs.set(c, join('/sys/fs/cgroup', mount, path));
  }
  const v2 = !existsSync('/sys/fs/cgroup/memory') && !existsSync('/sys/fs/cgroup/pids');
  const resources = (config.linux?.resources ?? {}) as Json;
  const values: string[] = [];
  for (const [set, ctrl, v1file, v2file] of CGROUP_FILES) {
    if (set(resources) === undefined) continue;
    const file = v2 ? v2file : v1file;
    if (!file) continue;
    const dir = dirs.get(v2 ? '(unified)' : ctrl);
    let value: string;
    try {
      // (devices.list in the order the rules were written: compared as a set)
      const lines = dir ? readFileSync(join(dir, file), 'utf8').trim().split('\n') : ['(no such cgroup)'];
      value = (file === 'devices.list' ? lines.sort() : lines).join(' | ');
    } catch (e) {
      value = `(${(e as NodeJS.ErrnoException).code ?? 'unreadable'})`;
    }
    values.push(`${file} = ${value}`);
  }
  return { cgroup: values, paths };
}

// ---------------------------------------------------------------- comparing

/** The lines only runc showed ("- "), then those only corral did ("+ "), each in its order. */
function diff(a: string[], b: string[]): string[] {
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const only = (xs: string[], other: Map<string, number>) =>
    xs.filter((x) => {
      const n = other.get(x) ?? 0;
      if (n > 0) other.set(x, n - 1);
      return n === 0;
    });
  return [...only(a, count(b)).map((l) => `- ${l}`), ...only(b, count(a)).map((l) => `+ ${l}`)];
}

/** Lines about the v1 /sys/fs/cgroup layout, on a host without v1 hierarchies (they cannot show there). */
const v1Only = (lines: string[]) => !existsSync('/sys/fs/cgroup/memory') && !existsSync('/sys/fs/cgroup/pids') && lines.every((l) => l.includes(' /sys/fs/cgroup'));

const SECTIONS = ['status', 'umask', 'limits', 'hostname', 'cwd', 'env', 'mountinfo', 'paths', 'sysctl', 'devices', 'stdio', 'cgroup-path', 'cgroup-values', 'exit'];

// ---------------------------------------------------------------- the test

const differencesText = existsSync(DIFFERENCES) ? readFileSync(DIFFERENCES, 'utf8') : '';
const listed = loadDifferences(differencesText);
/** "## *": differences that show wherever their lines do (e.g. in every entry with a cgroup mount). */
const common = listed.get('*') ?? new Map<string, { lines: string[]; why: string }>();
const commonSeen = new Set<string>();
const found = new Map<string, Map<string, string[]>>([['*', new Map()]]);
// COMPAT_ONLY=REGEX: only the entries whose name matches (while working on one).
const corpus = loadCorpus().filter((e) => !process.env.COMPAT_ONLY || new RegExp(process.env.COMPAT_ONLY).test(e.name));
const world = testFile(t);
const roots = { runc: world.tempDir('runc-root'), corral: world.root };
const ids: [Runtime, string][] = [];
let agreed = 0;
let differed = 0;

t.teardown(() => {
  // (only what a failed run left: a delete per entry would take minutes)
  for (const [rt, id] of ids) if (existsSync(join(roots[rt.name], id))) spawnSync(rt.bin, ['--root', roots[rt.name], 'delete', '--force', id]);
  // PARENT in each hierarchy (the runtimes leave the parents they made).
  const hierarchies = existsSync('/sys/fs/cgroup/cgroup.controllers') ? [''] : readdirSync('/sys/fs/cgroup');
  for (const h of hierarchies) {
    const dir = join('/sys/fs/cgroup', h, PARENT);
    if (!existsSync(dir)) continue;
    for (const c of readdirSync(dir, { withFileTypes: true })) if (c.isDirectory()) tryRmdir(join(dir, c.name));
    tryRmdir(dir);
  }
  if (process.env.COMPAT_WRITE) {
    writeFileSync(process.env.COMPAT_WRITE, formatDifferences(found, listed, differencesText.split(/^## /m)[0]));
  }
});

function tryRmdir(d: string): void {
  try {
    rmdirSync(d);
  } catch {
    // busy or gone: not ours to force
  }
}

const missing = [RUNC, '/bin/sh'].filter((p) => !existsSync(p));
if (!existsSync(join(BUSYBOX_ROOTFS, 'bin/busybox'))) missing.push(`${BUSYBOX_ROOTFS}/bin/busybox (make bundles/busybox/rootfs/bin/busybox)`);
if (missing.length) {
  t.fail(`the compat test needs ${missing.join(', ')}`);
} else {
  t.test('every listed difference names a corpus entry', async (t) => {
    const names = new Set([...loadCorpus().map((e) => e.name), '*']);
    for (const [entry, sections] of listed) {
      t.ok(names.has(entry), `differences.md: ${entry} is in the corpus`);
      for (const s of [...sections.keys()].map((k) => k.replace(/#\d+$/, '')))
        t.ok(s === 'accept' || SECTIONS.includes(s), `differences.md: ${entry}: section ${s} is one the test compares`);
    }
  });
  for (const entry of corpus) t.test(entry.name, (t) => compareEntry(t, entry));
  t.test('summary', async (t) => {
    t.comment(`${corpus.length} configs: ${agreed} sections agree with runc, ${differed} differ`);
    for (const [s, c] of common) {
      if (process.env.COMPAT_ONLY) break;
      if (v1Only(c.lines)) t.pass(`* / ${s}`, { skip: 'a v1 cgroup mount difference, and this host has no v1 hierarchies' });
      else t.ok(commonSeen.has(s), `the difference listed under * / ${s} still shows (${c.why.slice(0, 100)})`);
    }
  });
}

async function compareEntry(t: Test, entry: Entry): Promise<void> {
  t.comment(entry.produced);
  const slug = entry.name.replace(/[^A-Za-z0-9]+/g, '-');
  // Both at once (each its own id, bundle, state root and cgroup): half the wall time.
  const [runc, corral] = await Promise.all(
    RUNTIMES.map((rt) => {
      const id = `${slug}-${rt.name}-${process.pid}`;
      ids.push([rt, id]);
      return runOne(rt, roots[rt.name], id, makeBundle(entry.config, id));
    }),
  );
  const expect = listed.get(entry.name) ?? new Map();
  const check = (section: string, all: string[], detail = '') => {
    let lines = all;
    for (const [key, c] of common) {
      if (key.replace(/#\d+$/, '') !== section || !c.lines.every((l) => lines.includes(l))) continue;
      lines = lines.filter((l) => !c.lines.includes(l));
      commonSeen.add(key);
      found.get('*')!.set(key, c.lines);
      t.pass(`${section}: differs as listed under * in differences.md (${c.why.slice(0, 120)})`);
    }
    if (all.length) differed++;
    const want = expect.get(section);
    if (want && v1Only(want.lines)) {
      t.pass(section, { skip: 'the listed difference is in v1 cgroup mounts, and this host has no v1 hierarchies' });
      return;
    }
    if (lines.length) (found.get(entry.name) ?? found.set(entry.name, new Map()).get(entry.name)!).set(section, lines);
    if (want) {
      t.same(lines, want.lines, `${section}: differs as listed in differences.md (${want.why.slice(0, 120)})${detail}`);
    } else {
      if (!all.length) agreed++;
      t.same(lines, [], `${section}: corral agrees with runc${detail}`);
    }
  };
  const said = `runc: ${runc.ran ? 'ran' : `refused: ${runc.message}`}; corral: ${corral.ran ? 'ran' : `refused: ${corral.message}`}`;
  if (!runc.ran && !corral.ran) t.comment(`both refuse — ${said}`);
  check(
    'accept',
    runc.ran === corral.ran ? [] : [`- runc: ${runc.ran ? 'ran' : 'refused'}`, `+ corral: ${corral.ran ? 'ran' : 'refused'}`],
    runc.ran === corral.ran ? '' : ` — ${said}`,
  );
  if (!runc.ran || !corral.ran) return;
  for (const s of SECTIONS) check(s, diff(runc.sections.get(s) ?? [], corral.sections.get(s) ?? []));
}
