// containerd 1.6 with the systemd cgroup driver, as Kubernetes nodes run it (runc
// options SystemdCgroup = true): the v2 shim then calls the runtime with
// --systemd-cgroup and the cgroupsPath containerd was given, "slice:prefix:id". This
// host's PID 1 is not systemd, so containerd, its shims and the runtime run inside the
// systemd 252 that test/lib/systemd-host.sh boots (as in podman-systemd.test.ts), each
// case once with runc (the control) and once with bin/corral.
//
// One private containerd serves both runtimes: `ctr run --runc-binary` is per container.
// It runs as a transient service with Delegate=yes and KillMode=process, as
// containerd.service does, so its shims outlive a restart and are not systemd's to kill.
// ctr 1.6 refuses --runc-systemd-cgroup without --cgroup; the paths given here have the
// form the CRI plugin gives for a kubelet pod: "kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>".
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORRAL, ROOT, cgroupsNamed, mountsWith, testFile, type Run } from '../lib/corral';
import { imageArchive } from '../lib/image';

const HARNESS = join(ROOT, 'test/lib/systemd-host.sh');
const CGNAME = `corral-cdsd-${process.pid}`;
const IMAGE = 'docker.io/library/corral-busybox:test';
const NS = 'k8s.io';
const SERVICE = 'corral-containerd.service';
const RUNTIMES = [
  { name: 'runc', path: '/usr/sbin/runc' },
  { name: 'corral', path: CORRAL },
];

let booted = false;
// Powering the systemd off takes containerd, the shims, the containers and every mount
// made in its namespaces along.
const { root } = testFile(t, () => {
  if (booted) spawnSync(HARNESS, ['stop', sdDir], { stdio: 'inherit', env });
});
// containerd's root and state are under the scratch directory, bound into the systemd at
// the same path: the snapshots and the bundles' rootfs mounts are made in there, on it.
const scratchDir = join(root, '..');
const sdDir = join(scratchDir, 'systemd');
const C = (...p: string[]) => join(scratchDir, 'containerd', ...p);
const env = { ...process.env, SYSTEMD_HOST_CGROUP: CGNAME, SYSTEMD_HOST_BINDS: `${ROOT} ${scratchDir}` };

function inside(cmd: string[]): Run {
  const r = spawnSync(HARNESS, ['exec', sdDir, ...cmd], { env, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
const ctr = (args: string[]) => inside(['ctr', '--address', C('containerd.sock'), '--namespace', NS, ...args]);
/** `systemctl show` as a map. */
function show(unit: string, props: string[]): Record<string, string> {
  const out = inside(['systemctl', 'show', unit, '-p', props.join(',')])
    .stdout.trim()
    .split('\n');
  return Object.fromEntries(out.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}
/** A status assertion that quotes stderr when it fails. */
const status = (t: Test, r: Run, want: number, what: string) => t.equal(r.status, want, `${what}: ${want}${r.status === want ? '' : ` — stderr: ${r.stderr.trim()}`}`);

let seq = 0;
/** A container of runtime rt: its id, cgroupsPath, scope unit, and the scope's cgroup (from the systemd's root). */
function container(rt: string, what: string) {
  const id = `${what}-${rt}-${++seq}`;
  const pod = `kubepods-besteffort-pod${seq}`;
  const unit = `cri-containerd-${id}.scope`;
  return { id, unit, cgroupsPath: `${pod}.slice:cri-containerd:${id}`, cgroup: `/kubepods.slice/kubepods-besteffort.slice/${pod}.slice/${unit}` };
}
/** `ctr run` with runtime rt (through its recording wrapper) and the systemd cgroup driver. */
const runFlags = (rt: string, c: ReturnType<typeof container>) => ['--runc-binary', C('bin', rt), '--runc-systemd-cgroup', '--cgroup', c.cgroupsPath];
/** containerd's complaints about a container, for a failed case. */
const diag = (id: string) =>
  readFileSync(C('containerd.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes(id) && !/level=(debug|info)/.test(l))
    .slice(-10)
    .join('\n');

/** A case, as one subtest per runtime: a runtime's failure does not cut the other's short. */
function each(name: string, fn: (t: Test, rt: string) => void): void {
  t.test(name, async (t) => {
    for (const rt of RUNTIMES) await t.test(rt.name, async (t) => fn(t, rt.name));
  });
}

t.before(() => {
  mkdirSync(C('bin'), { recursive: true });
  // Each runtime behind a wrapper that records its command line: what the shim really passes.
  for (const rt of RUNTIMES) writeFileSync(C('bin', rt.name), `#!/bin/sh\necho "$*" >> ${C(`${rt.name}.calls`)}\nexec ${rt.path} "$@"\n`, { mode: 0o755 });
  writeFileSync(
    C('config.toml'),
    [
      'version = 2',
      `root = "${C('root')}"`,
      `state = "${C('state')}"`,
      // The CRI plugin would start a streaming server and a CNI watch; ctr does not need it.
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${C('containerd.sock')}"`,
      '[debug]',
      '  level = "debug"',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${C('opt')}"`,
      '',
    ].join('\n'),
  );
  const archive = imageArchive(C(), IMAGE);
  const r = spawnSync(HARNESS, ['start', sdDir], { env, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`systemd did not boot: ${r.stderr}`);
  booted = true;
  const s = inside([
    'systemd-run',
    '--unit',
    SERVICE,
    '-p',
    'Delegate=yes',
    '-p',
    'KillMode=process',
    '-p',
    `StandardOutput=file:${C('containerd.log')}`,
    '-p',
    'StandardError=inherit',
    'containerd',
    '--config',
    C('config.toml'),
  ]);
  if (s.status !== 0) throw new Error(`systemd-run containerd: ${s.stderr}`);
  for (let i = 0; i < 100 && ctr(['version']).status !== 0; i++) spawnSync('sleep', ['0.1']);
  const imp = ctr(['image', 'import', archive]);
  if (imp.status !== 0) throw new Error(`ctr image import: ${imp.stderr}`);
});

each('ctr run --rm: exit statuses; the runtime got --systemd-cgroup and the path', (t, rt) => {
  const a = container(rt, 'rm');
  status(t, ctr(['run', '--rm', ...runFlags(rt, a), IMAGE, a.id, 'true']), 0, 'true');
  // The container's own view of its cgroup, on the unified hierarchy systemd tracks it by.
  const b = container(rt, 'rm');
  const r = ctr(['run', '--rm', ...runFlags(rt, b), IMAGE, b.id, 'sh', '-c', 'grep ^0:: /proc/self/cgroup; exit 7']);
  status(t, r, 7, 'exit 7');
  t.equal(r.stdout, `0::${b.cgroup}\n`, 'in the scope, under the slices the path names');
  t.match(
    readFileSync(C(`${rt}.calls`), 'utf8'),
    new RegExp(`^--root \\S+ --log \\S+ --log-format json --systemd-cgroup create --bundle (\\S+) --pid-file \\S+ ${b.id}$`, 'm'),
    'the shim ran the runtime with --systemd-cgroup',
  );
  for (const c of [a, b]) {
    t.equal(show(c.unit, ['LoadState']).LoadState, 'not-found', `${c.unit} is gone`);
    t.same(cgroupsNamed(c.unit), [], 'no cgroup of it in any hierarchy');
  }
  if (t.counts.fail) t.comment(diag(b.id));
});

each('ctr run -d --memory-limit: the scope, exec, pause, kill, delete', (t, rt) => {
  const c = container(rt, 'd');
  status(t, ctr(['run', '-d', '--null-io', '--memory-limit', '67108864', ...runFlags(rt, c), IMAGE, c.id, 'sleep', '1000']), 0, 'run -d');
  // The bundle containerd wrote: the path is passed through as given.
  const cfg = JSON.parse(readFileSync(C('state/io.containerd.runtime.v2.task', NS, c.id, 'config.json'), 'utf8')) as { linux: { cgroupsPath: string } };
  t.equal(cfg.linux.cgroupsPath, c.cgroupsPath, 'config.json has the cgroupsPath');
  // This host is hybrid: systemd's v1 name for the limit.
  t.same(
    show(c.unit, ['ActiveState', 'MemoryLimit', 'ControlGroup']),
    { ActiveState: 'active', MemoryLimit: '67108864', ControlGroup: c.cgroup },
    'systemd has the scope with the limit',
  );
  const file = (ctrl: string, f: string) => readFileSync(join('/sys/fs/cgroup', ctrl, CGNAME, c.cgroup, f), 'utf8').trim();
  t.equal(file('memory', 'memory.limit_in_bytes'), '67108864', 'and so has the file');
  const e = ctr(['task', 'exec', '--exec-id', 'e1', c.id, 'sh', '-c', 'grep :memory: /proc/self/cgroup; exit 3']);
  status(t, e, 3, 'exec');
  t.match(e.stdout, new RegExp(`^\\d+:memory:${c.cgroup.replace(/\./g, '\\.')}\n$`), "the exec'd process joined the scope");

  status(t, ctr(['task', 'pause', c.id]), 0, 'pause');
  t.equal(file('freezer', 'freezer.state'), 'FROZEN', 'the scope is frozen');
  t.match(ctr(['task', 'ls']).stdout, new RegExp(`^${c.id}\\s+\\d+\\s+PAUSED`, 'm'), 'containerd says PAUSED');
  status(t, ctr(['task', 'resume', c.id]), 0, 'resume');
  t.equal(file('freezer', 'freezer.state'), 'THAWED', 'the scope is thawed');

  status(t, ctr(['task', 'kill', '-s', 'KILL', c.id]), 0, 'kill');
  let stopped = false;
  for (let i = 0; i < 50 && !(stopped = new RegExp(`^${c.id}\\s+\\d+\\s+STOPPED`, 'm').test(ctr(['task', 'ls']).stdout)); i++) spawnSync('sleep', ['0.1']);
  t.ok(stopped, 'stopped');
  status(t, ctr(['task', 'delete', c.id]), 0, 'task delete');
  status(t, ctr(['container', 'delete', c.id]), 0, 'container delete');
  t.equal(show(c.unit, ['LoadState']).LoadState, 'not-found', 'the unit is gone');
  t.same(cgroupsNamed(c.unit), [], 'no cgroup of it in any hierarchy');
  if (t.counts.fail) t.comment(diag(c.id));
});

t.test('nothing left behind', async (t) => {
  t.equal(ctr(['container', 'ls', '-q']).stdout, '', 'no containers');
  t.equal(inside(['systemctl', 'list-units', '--all', '--plain', '--no-legend', 'cri-containerd-*']).stdout, '', 'no container units');
  t.equal(inside(['sh', '-c', `find /run/containerd/runc/${NS} -mindepth 1 2>/dev/null`]).stdout, '', 'no runtime state');
  const sdMounts = () => readFileSync(`/proc/${readFileSync(join(sdDir, 'pid'), 'utf8').trim()}/mountinfo`, 'utf8');
  t.notMatch(sdMounts(), /\/rootfs /, 'no container rootfs mounted in the systemd');
  status(t, inside(['systemctl', 'stop', SERVICE]), 0, 'containerd stopped');
  // KillMode=process: a shim still running would have survived containerd.
  t.equal(inside(['sh', '-c', 'pgrep -l containerd || true']).stdout, '', 'no containerd or shim process');
  t.notOk(existsSync(C('containerd.sock')), 'containerd removed its socket');

  booted = false;
  const stop = spawnSync(HARNESS, ['stop', sdDir], { env, encoding: 'utf8', timeout: 120_000 });
  t.equal(stop.status, 0, `systemd-host stop: ${stop.stderr}`);
  t.same(cgroupsNamed(CGNAME), [], 'no cgroup of the systemd in any hierarchy');
  t.same(mountsWith(scratchDir), [], 'nothing mounted under the scratch dir on the host');
});
