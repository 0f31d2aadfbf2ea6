// --systemd-cgroup against a real systemd: this host's PID 1 is not systemd, so the test
// boots Debian's systemd 252 as PID 1 of its own namespaces (test/lib/systemd-host.sh;
// hybrid cgroups as the host's, D-Bus system bus inside) and runs corral in there. What
// is checked is what systemd says (systemctl show) and what the kernel has (the files).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, baseConfig, bundle, cgroupsNamed, corral, messages, testFile, type Run } from '../lib/corral';
import { hierarchyOf, hugePageSizes, pageBytes, requires } from '../lib/host';

const HARNESS = join(ROOT, 'test/lib/systemd-host.sh');
const CGNAME = `corral-sd-${process.pid}`;
const sdDir = join(mkdtempSync(join(tmpdir(), 'corral-systemd-')), 'host');
const { root, id } = testFile(t, () => {
  spawnSync(HARNESS, ['stop', sdDir], { stdio: 'inherit', env: { ...process.env, SYSTEMD_HOST_CGROUP: CGNAME } });
  rmdirSync(dirname(sdDir));
});
// The state root and the bundles are under the test file's scratch directory: shared
// into the systemd's root at the same path, as /work (the project) is.
const scratchBase = join(root, '..');
const env = { ...process.env, SYSTEMD_HOST_CGROUP: CGNAME, SYSTEMD_HOST_BINDS: `${ROOT} ${scratchBase}` };

function inside(cmd: string[]): Run {
  const r = spawnSync(HARNESS, ['exec', sdDir, ...cmd], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
/** corral --systemd-cgroup, run inside that systemd's namespaces. */
const sdCorral = (args: string[]) => corral(root, ['--systemd-cgroup', ...args], { wrap: [HARNESS, 'exec', sdDir], env, timeout: 60_000 });
/** `systemctl show` of a unit, as a map (a property listed on several lines: joined by newlines). */
function show(unit: string, props: string[]): Record<string, string> {
  const r = inside(['systemctl', 'show', unit, '-p', props.join(',')]);
  const out: Record<string, string> = {};
  for (const l of r.stdout.trim().split('\n')) {
    const [k, v] = [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)];
    out[k] = k in out ? `${out[k]}\n${v}` : v;
  }
  return out;
}
/** A cgroup file of the systemd's tree, seen from the host. */
const hostCg = (ctrl: string, cgroup: string, file: string) => readFileSync(join('/sys/fs/cgroup', ctrl, CGNAME, cgroup, file), 'utf8').trim();
const initPid = (c: string) => JSON.parse(sdCorral(['state', c]).stdout).pid as number;

t.before(() => {
  const r = spawnSync(HARNESS, ['start', sdDir], { env, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`systemd did not boot: ${r.stderr}`);
});

t.test('without a systemd to talk to: a clear error, and nothing left', async (t) => {
  const c = id('nosd');
  const r = corral(root, ['--systemd-cgroup', 'run', '--bundle', bundle(baseConfig()), c]);
  t.equal(r.status, 1);
  t.match(
    messages(r.stderr),
    /--systemd-cgroup: cannot reach systemd over D-Bus at \/run\/dbus\/system_bus_socket: .*no such file or directory \(systemd is not running on this host/i,
  );
  t.notOk(existsSync(join(root, c)), 'no state');
  t.same(cgroupsNamed(c), [], 'no cgroup');
});

t.test('create: a scope systemd made, holding the init, with the resources as its properties', async (t) => {
  const c = id('scope');
  const unit = `corral-test-${c}.scope`;
  const cgroup = `system.slice/${unit}`;
  const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
    cfg.linux.cgroupsPath = `system.slice:corral-test:${c}`;
    cfg.linux.resources = { memory: { limit: 104857600 }, cpu: { shares: 512, quota: 50000, period: 100000 }, pids: { limit: 50 } };
    cfg.annotations = { 'org.systemd.property.TimeoutStopUSec': 'uint64 123456789' };
  });
  const r = sdCorral(['create', '--bundle', b, c]);
  t.equal(r.status, 0, messages(r.stderr));
  const p = show(unit, [
    'ActiveState',
    'ControlGroup',
    'Slice',
    'Delegate',
    'MemoryLimit',
    'CPUShares',
    'CPUQuotaPerSecUSec',
    'TasksMax',
    'DevicePolicy',
    'DeviceAllow',
    'TimeoutStopUSec',
    'Description',
  ]);
  t.match(
    p,
    {
      ActiveState: 'active',
      ControlGroup: `/${cgroup}`,
      Slice: 'system.slice',
      Delegate: 'yes',
      MemoryLimit: '104857600',
      CPUShares: '512',
      CPUQuotaPerSecUSec: '500ms',
      TasksMax: '50',
      DevicePolicy: 'strict',
      TimeoutStopUSec: '2min 3.456789s',
      Description: `corral container ${c}`,
    },
    'systemd knows the unit as corral asked',
  );
  t.match(p.DeviceAllow, /\/dev\/char\/1:3 rwm/, "runc's default device rules are the unit's DeviceAllow");
  t.match(p.DeviceAllow, /char-pts rwm/);
  const pid = initPid(c);
  const own = inside(['cat', `/proc/${pid}/cgroup`]).stdout;
  for (const h of ['memory', 'pids', 'cpu', 'freezer', 'name=systemd']) t.match(own, new RegExp(`:${h}:/${cgroup}\\n`), `the init is in the scope on ${h}`);
  t.match(own, new RegExp(`^0::/${cgroup}$`, 'm'), 'and on the unified hierarchy, where systemd tracks it');
  t.equal(hostCg('memory', cgroup, 'memory.limit_in_bytes'), '104857600');
  t.equal(hostCg('pids', cgroup, 'pids.max'), '50');
  t.equal(hostCg('cpu', cgroup, 'cpu.cfs_quota_us'), '50000');
  t.equal(hostCg('freezer', cgroup, 'freezer.state'), 'THAWED', 'corral made the freezer cgroup systemd does not manage, at the same path');
  const rec = JSON.parse(readFileSync(join(root, c, 'state.json'), 'utf8')) as { cgroups: { driver?: string; systemd?: string } };
  t.equal(rec.cgroups.systemd, unit, 'the record names the unit');
  t.equal(rec.cgroups.driver, 'systemd', 'and its driver');

  // systemd rewrites a unit's cgroup from its properties whenever it realizes it again:
  // what corral gave it must be what the container has.
  t.equal(inside(['systemctl', 'set-property', '--runtime', unit, 'CPUShares=600']).status, 0);
  inside(['systemctl', 'daemon-reload']);
  t.equal(hostCg('memory', cgroup, 'memory.limit_in_bytes'), '104857600', 'the memory limit survives systemd realizing the unit again');
  t.equal(hostCg('cpu', cgroup, 'cpu.shares'), '600', '(it did realize it)');
  t.notMatch(hostCg('devices', cgroup, 'devices.list'), /^a \*:\* rwm$/m, 'and the device rules are not opened up');

  t.equal(sdCorral(['start', c]).status, 0);
  t.equal(sdCorral(['pause', c]).status, 0);
  t.equal(hostCg('freezer', cgroup, 'freezer.state'), 'FROZEN');
  t.equal(sdCorral(['resume', c]).status, 0);
  t.equal(hostCg('freezer', cgroup, 'freezer.state'), 'THAWED');
  t.equal(sdCorral(['kill', c, 'KILL']).status, 0);
  const d = sdCorral(['delete', '--force', c]);
  t.equal(d.status, 0, messages(d.stderr));
  t.equal(show(unit, ['LoadState']).LoadState, 'not-found', 'the unit is gone');
  t.same(cgroupsNamed(unit), [], 'no cgroup of it in any hierarchy');
  t.notOk(existsSync(join(root, c)), 'no state');
});

t.test('update: the unit and the files follow', async (t) => {
  const c = id('upd');
  const unit = `corral-${c}.scope`;
  const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
    cfg.linux.resources = { memory: { limit: 104857600 }, pids: { limit: 50 } };
  });
  t.equal(sdCorral(['create', '--bundle', b, c]).status, 0, 'created without a cgroupsPath');
  t.equal(show(unit, ['ControlGroup']).ControlGroup, `/system.slice/${unit}`, 'the default: corral-<id>.scope in system.slice');
  const u = sdCorral(['update', '--memory', '209715200', '--pids-limit', '70', c]);
  t.equal(u.status, 0, messages(u.stderr));
  t.match(show(unit, ['MemoryLimit', 'TasksMax']), { MemoryLimit: '209715200', TasksMax: '70' });
  t.equal(hostCg('memory', `system.slice/${unit}`, 'memory.limit_in_bytes'), '209715200');
  t.equal(hostCg('pids', `system.slice/${unit}`, 'pids.max'), '70');
  // As an earlier corral wrote the record: no driver, only the unit.
  const file = join(root, c, 'state.json');
  const rec = JSON.parse(readFileSync(file, 'utf8')) as { cgroups: { driver?: string } };
  delete rec.cgroups.driver;
  writeFileSync(file, JSON.stringify(rec));
  t.equal(sdCorral(['delete', '--force', c]).status, 0);
  t.equal(show(unit, ['LoadState']).LoadState, 'not-found', 'a record without its driver: the unit it names is stopped');
  t.same(cgroupsNamed(unit), []);
});

t.test('a container that ends by itself: systemd collects its scope, and run cleans up the rest', async (t) => {
  const c = id('ends');
  const r = sdCorral(['run', '--bundle', bundle(baseConfig(['sh', '-c', 'exit 3'])), c]);
  t.equal(r.status, 3, 'the exit status');
  t.equal(show(`corral-${c}.scope`, ['LoadState']).LoadState, 'not-found');
  t.same(cgroupsNamed(`corral-${c}.scope`), []);
  t.notOk(existsSync(join(root, c)));
});

t.test('errors name what was wrong and leave nothing behind', async (t) => {
  const c = id('bad');
  const none = () => {
    t.notOk(existsSync(join(root, c)), 'no state');
    t.same(cgroupsNamed(`corral-${c}.scope`), [], 'no cgroup');
    t.equal(show(`corral-${c}.scope`, ['LoadState']).LoadState, 'not-found', 'no unit');
  };
  let r = sdCorral(['create', '--bundle', bundle(baseConfig(), (cfg) => (cfg.linux.cgroupsPath = '/corral/x')), c]);
  t.match(messages(r.stderr), '/linux/cgroupsPath: "/corral/x" is not of the form "slice:prefix:name" that --systemd-cgroup expects');
  none();
  r = sdCorral(['create', '--bundle', bundle(baseConfig(), (cfg) => (cfg.annotations = { 'org.systemd.property.CPUWeight': 'uint64 lots' })), c]);
  t.match(messages(r.stderr), '/annotations/org.systemd.property.CPUWeight: cannot read "uint64 lots" as GVariant text of type t');
  none();
  r = sdCorral(['create', '--bundle', bundle(baseConfig(), (cfg) => (cfg.annotations = { 'org.systemd.property.NoSuchThing': 'true' })), c]);
  t.match(messages(r.stderr), /systemd: cannot start corral-.* in system\.slice: .*NoSuchThing/, "systemd's own refusal, passed on");
  none();
  r = sdCorral(['create', '--bundle', bundle(baseConfig(['/no/such/program'])), c]);
  t.equal(r.status, 1, 'a failure after systemd made the scope');
  t.match(messages(r.stderr), /no\/such\/program/);
  none();

  // A unit that is there already: the first container is not touched.
  const first = id('first');
  const path = `system.slice:corral-test:taken-${process.pid}`;
  t.equal(sdCorral(['create', '--bundle', bundle(baseConfig(['sleep', '1000']), (cfg) => (cfg.linux.cgroupsPath = path)), first]).status, 0);
  r = sdCorral(['create', '--bundle', bundle(baseConfig(), (cfg) => (cfg.linux.cgroupsPath = path)), c]);
  t.match(messages(r.stderr), `/linux/cgroupsPath: the systemd unit corral-test-taken-${process.pid}.scope already exists`);
  t.notOk(existsSync(join(root, c)));
  t.equal(show(`corral-test-taken-${process.pid}.scope`, ['ActiveState']).ActiveState, 'active', 'the first container keeps its unit');
  t.equal(JSON.parse(sdCorral(['state', first]).stdout).status, 'created');
  t.equal(sdCorral(['delete', '--force', first]).status, 0);
});

// hugetlb is what this host keeps on its unified side; the smallest huge page size it has.
const SIZE = hugePageSizes()[0];
t.test(
  'the unified side of this hybrid host is written as with cgroupfs',
  {
    skip: requires([!!SIZE, 'huge pages'], [hierarchyOf('hugetlb')?.version === 2, 'hugetlb on the unified side of a hybrid layout']),
  },
  async (t) => {
    const c = id('huge');
    const unit = `corral-${c}.scope`;
    const limit = 2 * pageBytes(SIZE);
    const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
      cfg.linux.resources = { hugepageLimits: [{ pageSize: SIZE, limit }] };
    });
    const r = sdCorral(['create', '--bundle', b, c]);
    t.equal(r.status, 0, messages(r.stderr));
    t.equal(hostCg('unified', `system.slice/${unit}`, `hugetlb.${SIZE}.max`), String(limit));
    t.equal(sdCorral(['delete', '--force', c]).status, 0);
    t.same(cgroupsNamed(unit), []);
  },
);
