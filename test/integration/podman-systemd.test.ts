// podman 4.3 with cgroup_manager = "systemd" (its default on systemd hosts): it passes
// --systemd-cgroup with cgroupsPath "machine.slice:libpod:<id>" and puts conmon in a
// scope of its own. This host's PID 1 is not systemd, so podman, conmon and the runtime
// run inside the systemd 252 that test/lib/systemd-host.sh boots (as systemd.test.ts
// does), each case once with runc (the control) and once with bin/corral.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, CORRAL, ROOT, cgroupsNamed, mountsWith, testFile, type Run } from '../lib/corral';

const HARNESS = join(ROOT, 'test/lib/systemd-host.sh');
const CGNAME = `corral-pmsd-${process.pid}`;
const IMAGE = 'localhost/busybox:corral';
const RUNTIMES = [
  { name: 'runc', path: '/usr/sbin/runc' },
  { name: 'corral', path: CORRAL },
];

let booted = false;
const { root } = testFile(t, () => {
  // Whatever a failed case left: podman's own cleanup first, then the systemd (and with
  // it every process, mount and cgroup of its namespaces).
  if (!booted) return;
  podman(['rm', '-a', '-f', '-t', '0']);
  spawnSync(HARNESS, ['stop', sdDir], { stdio: 'inherit', env });
});
// The scratch directory holds the podman storage and the systemd's own DIR; it is bound
// into the systemd at the same path, so podman's overlay mounts happen in there, on it.
const scratchDir = join(root, '..');
const sdDir = join(scratchDir, 'systemd');
const P = (...p: string[]) => join(scratchDir, 'podman', ...p);
const env = { ...process.env, SYSTEMD_HOST_CGROUP: CGNAME, SYSTEMD_HOST_BINDS: `${ROOT} ${scratchDir}` };

for (const d of ['root', 'runroot', 'tmp', 'imgtmp', 'io']) mkdirSync(P(d), { recursive: true });
// default_ulimits: podman's default RLIMIT_NOFILE cannot be set here (see podman.test.ts).
// netns none: the systemd shares the host's network namespace but has its own /run and
// /etc, so netavark would share the host's bridge and iptables without sharing its lock
// and IPAM database with the host's podman.
writeFileSync(
  P('containers.conf'),
  `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"

[engine]
events_logger = "file"
image_copy_tmp_dir = "${P('imgtmp')}"
`,
);

let seq = 0;
/** A command inside the systemd. stdout/stderr are files: conmon keeps them open. */
function inside(cmd: string[], extraEnv: Record<string, string> = {}): Run {
  const n = ++seq;
  const [out, err] = [P('io', `${n}.out`), P('io', `${n}.err`)];
  const fds = [openSync(out, 'w'), openSync(err, 'w')];
  try {
    // cwd: conmon writes its "oom" file into the cwd podman 4.3 leaves it (podman#13102).
    const r = spawnSync(HARNESS, ['exec', sdDir, ...cmd], { cwd: P('io'), env: { ...env, ...extraEnv }, stdio: ['ignore', ...fds], timeout: 120_000, killSignal: 'SIGKILL' });
    return { status: r.status, signal: r.signal, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    fds.forEach(closeSync);
  }
}
function podman(args: string[]): Run {
  return inside(['podman', '--root', P('root'), '--runroot', P('runroot'), '--tmpdir', P('tmp'), '--cgroup-manager=systemd', ...args], {
    CONTAINERS_CONF: P('containers.conf'),
    TMPDIR: P('imgtmp'),
  });
}
/** `systemctl show` as a map. */
function show(unit: string, props: string[]): Record<string, string> {
  const out = inside(['systemctl', 'show', unit, '-p', props.join(',')])
    .stdout.trim()
    .split('\n');
  return Object.fromEntries(out.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
/** A file of the container's scope, seen from the host. */
const scopeFile = (id: string, ctrl: string, file: string) => readFileSync(join('/sys/fs/cgroup', ctrl, CGNAME, 'machine.slice', `libpod-${id}.scope`, file), 'utf8').trim();
/** Every container podman made (run --rm ones too), from its event log. */
const created = () => [
  ...new Set(
    readFileSync(P('tmp', 'events', 'events.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string>)
      .filter((e) => e.Type === 'container' && e.Status === 'create')
      .map((e) => e.ID),
  ),
];
/** A status assertion that quotes stderr when it fails. */
const status = (t: Test, r: Run, want: number, what: string) => t.equal(r.status, want, `${what}: ${want}${r.status === want ? '' : ` — stderr: ${r.stderr.trim()}`}`);
/** A case, as one subtest per runtime: a runtime's failure does not cut the other's short. */
function each(name: string, fn: (t: Test, pm: (args: string[]) => Run) => void): void {
  t.test(name, async (t) => {
    for (const rt of RUNTIMES) await t.test(rt.name, async (t) => fn(t, (args) => podman(['--runtime', rt.path, ...args])));
  });
}

t.before(() => {
  const r = spawnSync(HARNESS, ['start', sdDir], { env, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`systemd did not boot: ${r.stderr}`);
  booted = true;
  // Imported inside: containers/image's blob-info cache (/var/lib/containers/cache, not
  // movable in 4.3) then lands in the systemd's throw-away root.
  const tar = spawnSync('tar', ['-C', BUSYBOX_ROOTFS, '-cf', P('busybox.tar'), '.']);
  if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
  const i = podman(['import', P('busybox.tar'), IMAGE]);
  if (i.status !== 0) throw new Error(`podman import: ${i.stderr}`);
});

each('run --rm: exit statuses', (t, pm) => {
  status(t, pm(['run', '--rm', IMAGE, 'true']), 0, 'true');
  status(t, pm(['run', '--rm', IMAGE, 'sh', '-c', 'exit 7']), 7, 'exit 7');
});

each('run -d with resources: the scope, exec, pause, stop, rm', (t, pm) => {
  const r = pm(['run', '-d', '--memory', '64m', '--pids-limit', '30', '--cpu-shares', '512', IMAGE, 'sleep', '1000']);
  status(t, r, 0, 'run -d');
  const id = r.stdout.trim();
  const unit = `libpod-${id}.scope`;
  // This host is hybrid: systemd's v1 names for the limits.
  t.same(
    show(unit, ['ActiveState', 'MemoryLimit', 'TasksMax', 'CPUShares']),
    { ActiveState: 'active', MemoryLimit: '67108864', TasksMax: '30', CPUShares: '512' },
    'systemd has the scope with the limits',
  );
  t.same(
    [scopeFile(id, 'memory', 'memory.limit_in_bytes'), scopeFile(id, 'pids', 'pids.max'), scopeFile(id, 'cpu', 'cpu.shares')],
    ['67108864', '30', '512'],
    'and so do the files',
  );
  // The container's /sys/fs/cgroup (v1: each hierarchy bound from the container's own
  // cgroup) and the exec'd process's cgroup: both the scope's.
  const e = podman(['exec', id, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; grep :memory: /proc/self/cgroup']);
  status(t, e, 0, 'exec');
  t.match(e.stdout, new RegExp(`^67108864\n30\n\\d+:memory:/machine\\.slice/${unit.replace(/\./g, '\\.')}\n$`), 'the container sees its own cgroup; exec joins it');

  status(t, podman(['pause', id]), 0, 'pause');
  t.equal(scopeFile(id, 'freezer', 'freezer.state'), 'FROZEN');
  status(t, podman(['unpause', id]), 0, 'unpause');
  t.equal(scopeFile(id, 'freezer', 'freezer.state'), 'THAWED');

  // sleep as PID 1 ignores SIGTERM: any stop timeout would be waited out in full.
  status(t, podman(['stop', '-t', '0', id]), 0, 'stop');
  status(t, podman(['rm', id]), 0, 'rm');
  t.equal(show(unit, ['LoadState']).LoadState, 'not-found', 'the unit is gone');
  t.same(cgroupsNamed(unit), [], 'no cgroup of it in any hierarchy');
});

each('--memory 32m: OOM-killed', (t, pm) => {
  // (x starts non-empty: `$x0123456789` would read a variable named x0123456789)
  status(t, pm(['run', '--rm', '--memory', '32m', IMAGE, 'sh', '-c', 'x=0123456789; while :; do x=$x$x$x$x$x$x$x$x$x$x; done']), 137, 'killed');
});

t.test('nothing left behind', async (t) => {
  const rm = podman(['rm', '-a', '-f', '-t', '0']);
  t.equal(rm.status, 0, `podman rm -af: ${rm.stderr}`);
  t.equal(podman(['ps', '-a', '-q', '--external']).stdout, '', 'no containers, not even in storage');
  const ids = created();
  t.ok(ids.length >= 8, `the event log lists the ${ids.length} containers podman made`);
  // Units of the containers and of their conmons.
  t.equal(inside(['systemctl', 'list-units', '--all', '--plain', '--no-legend', 'libpod*']).stdout, '', 'no libpod units');
  t.same(
    ids.flatMap((id) => cgroupsNamed(`libpod-${id}.scope`)),
    [],
    'no container cgroups',
  );
  t.equal(inside(['sh', '-c', 'find /run/runc /run/corral -mindepth 1 2>/dev/null']).stdout, '', 'no runtime state');
  const sdMounts = readFileSync(`/proc/${readFileSync(join(sdDir, 'pid'), 'utf8').trim()}/mountinfo`, 'utf8');
  t.notMatch(sdMounts, /\/(merged|userdata\/shm) /, 'no container rootfs or shm mounted in the systemd');

  // Powering the systemd off takes its namespaces, and every mount made in them, along.
  booted = false;
  const stop = spawnSync(HARNESS, ['stop', sdDir], { env, encoding: 'utf8', timeout: 120_000 });
  t.equal(stop.status, 0, `systemd-host stop: ${stop.stderr}`);
  t.same(cgroupsNamed(CGNAME), [], 'no cgroup of the systemd in any hierarchy');
  t.same(mountsWith(scratchDir), [], 'nothing mounted under the scratch dir on the host');
});
