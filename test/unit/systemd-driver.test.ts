// The systemd cgroup driver against a double of systemd's Manager: which unit it asks
// for, with which properties, what it stops and when, and what it records. (The unit
// properties themselves: cgroup-systemd.test.ts; a real systemd: test/integration/systemd.test.ts.)
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DBusError, Variant } from '../../src/linux/dbus';
import { chooseDriver, controlFor, driverFor, driverName } from '../../src/linux/cgroups/drivers';
import type { Hierarchy, Layout } from '../../src/linux/cgroups/layout';
import type { Prop, SystemdClient } from '../../src/linux/cgroups/systemd-client';
import { systemdDriver } from '../../src/linux/cgroups/systemd-driver';
import type { CgroupRecord } from '../../src/linux/cgroups/types';

const trees = mkdtempSync(join(tmpdir(), 'corral-sdtest-'));
t.teardown(() => rmSync(trees, { recursive: true, force: true }));

type Call = [string, ...unknown[]];

/** systemd's Manager as a recording: every call, in order; `fail` makes one method throw. */
class FakeSystemd implements SystemdClient {
  calls: Call[] = [];
  open = 0;
  jobResult = 'done';
  cgroup = '/machine.slice/test-c1.scope';
  fail: Record<string, Error> = {};
  private jobs = 0;

  connect = (): SystemdClient => {
    this.open++;
    this.calls.push(['connect']);
    return this;
  };

  private call(name: string, ...args: unknown[]): void {
    this.calls.push([name, ...args]);
    if (this.fail[name]) throw this.fail[name];
  }

  subscribe(): void {
    this.call('subscribe');
  }
  version(): string {
    this.call('version');
    return '252.39-1~deb12u2';
  }
  startTransientUnit(unit: string, props: Prop[]): string {
    this.call('startTransientUnit', unit, props);
    return `/org/freedesktop/systemd1/job/${++this.jobs}`;
  }
  stopUnit(unit: string): string {
    this.call('stopUnit', unit);
    return `/org/freedesktop/systemd1/job/${++this.jobs}`;
  }
  setUnitProperties(unit: string, runtime: boolean, props: Prop[]): void {
    this.call('setUnitProperties', unit, runtime, props);
  }
  controlGroup(unit: string): string {
    this.call('controlGroup', unit);
    return this.cgroup;
  }
  waitJob(job: string): string {
    this.call('waitJob', job);
    return this.jobResult;
  }
  close(): void {
    this.open--;
  }

  names(): string[] {
    return this.calls.map((c) => c[0]);
  }
  props(): Map<string, unknown> {
    const c = this.calls.find((x) => x[0] === 'startTransientUnit' || x[0] === 'setUnitProperties');
    const props = (c?.[0] === 'startTransientUnit' ? c[2] : c?.[3]) as Prop[];
    return new Map(props.map(([k, v]) => [k, (v as Variant).value]));
  }
}

/** A v1 host with memory and pids hierarchies, in a scratch directory, where systemd made the scope. */
function v1Host(): { root: string; layout: Layout } {
  const root = mkdtempSync(join(trees, 'host-'));
  for (const [d, f] of [
    ['memory', 'memory.limit_in_bytes'],
    ['pids', 'pids.max'],
  ]) {
    mkdirSync(join(root, d, 'machine.slice/test-c1.scope'), { recursive: true });
    writeFileSync(join(root, d, 'machine.slice/test-c1.scope', f), 'max');
  }
  const h = (name: string): Hierarchy => ({ version: 1, mount: join(root, name), root: '/', controllers: [name], own: '/' });
  return { root, layout: { mode: 'v1', hierarchies: [h('memory'), h('pids')] } };
}

const resources = { memory: { limit: 104857600 }, pids: { limit: 20 } };

t.test('create: the scope with the process in it, then the directories and files', async (t) => {
  const sd = new FakeSystemd();
  const { root, layout } = v1Host();
  const planned: CgroupRecord[] = [];
  const rec = systemdDriver(sd.connect).create({
    id: 'c1',
    cgroupsPath: 'machine.slice:test:c1',
    resources,
    annotations: { 'org.systemd.property.CollectMode': "'inactive-or-failed'" },
    pid: 4242,
    layout,
    intent: (p) => planned.push(structuredClone(p)),
  });
  t.same(sd.names(), ['connect', 'subscribe', 'version', 'startTransientUnit', 'waitJob', 'controlGroup'], 'subscribed before the job it waits for');
  t.equal(sd.calls[3][1], 'test-c1.scope', 'the unit runc would name');
  const props = sd.props();
  t.equal(props.get('Slice'), 'machine.slice');
  t.same(props.get('PIDs'), [4242], 'the waiting process in it');
  t.equal(props.get('Delegate'), true);
  t.equal(props.get('MemoryLimit'), 104857600n, 'resources as v1 properties');
  t.equal(props.get('TasksMax'), 20n);
  t.equal(props.get('BlockIOAccounting'), true);
  t.equal(props.get('CollectMode'), 'inactive-or-failed', 'an org.systemd.property annotation');
  t.equal(props.get('DevicePolicy'), 'strict');
  t.equal(sd.open, 0, 'the connection closed');
  t.same(
    rec,
    {
      driver: 'systemd',
      systemd: 'test-c1.scope',
      paths: [join(root, 'memory/machine.slice/test-c1.scope'), join(root, 'pids/machine.slice/test-c1.scope')],
      created: rec.created,
      resources,
    },
    'the record: its driver and unit, the directories in every hierarchy',
  );
  t.equal(readFileSync(join(rec.paths[1], 'pids.max'), 'utf8'), '20', 'every field written to the files too');
  t.same(planned[0], { driver: 'systemd', paths: [], created: [], systemd: 'test-c1.scope' }, 'the unit recorded before systemd makes it');
  t.equal(driverName(rec), 'systemd');
});

t.test('create: what fails, and what is undone', async (t) => {
  const sd = new FakeSystemd();
  const { root, layout } = v1Host();
  const create = (extra: object = {}) => systemdDriver(sd.connect).create({ id: 'c1', cgroupsPath: 'machine.slice:test:c1', resources, pid: 1, layout, ...extra });

  t.throws(() => create({ resources: { cpu: { shares: 100 } } }), /cpu\/shares: the cpu cgroup controller is not available/);
  t.same(sd.calls, [], 'a field the host cannot take fails before systemd is asked');

  t.throws(() => create({ cgroupsPath: '/not/systemd' }), /cgroupsPath: "\/not\/systemd" is not of the form "slice:prefix:name"/);
  t.same(sd.calls, []);

  sd.fail.startTransientUnit = new DBusError('org.freedesktop.systemd1.UnitExists', 'Unit test-c1.scope already exists.');
  t.throws(() => create(), { message: "/linux/cgroupsPath: the systemd unit test-c1.scope already exists (another container's?)" });
  t.notOk(sd.names().includes('stopUnit'), 'not ours to stop');
  t.equal(sd.open, 0);

  sd.calls = [];
  sd.fail.startTransientUnit = new DBusError('org.freedesktop.DBus.Error.AccessDenied', 'no');
  t.throws(() => create(), { message: 'systemd: cannot start test-c1.scope in machine.slice: no' });

  sd.fail = {};
  sd.jobResult = 'failed';
  t.throws(() => create(), { message: 'systemd: starting test-c1.scope: the job ended "failed"' });
  sd.jobResult = 'done';

  // The scope is made, the directories are not (a hierarchy whose mount is a file): the scope is stopped again.
  sd.calls = [];
  writeFileSync(join(root, 'blocked'), '');
  const blocked: Layout = { mode: 'v1', hierarchies: [{ ...layout.hierarchies[0], mount: join(root, 'blocked') }] };
  t.throws(() => create({ layout: blocked, resources: { memory: { limit: 1 } } }), /cgroup: mkdir/);
  t.same(sd.names(), ['connect', 'subscribe', 'version', 'startTransientUnit', 'waitJob', 'controlGroup', 'connect', 'subscribe', 'stopUnit', 'waitJob'], 'started, then stopped');
  t.same(sd.calls[8], ['stopUnit', 'test-c1.scope']);
  t.equal(sd.open, 0);
});

t.test('update: the unit follows all the resources, the files what changed', async (t) => {
  const sd = new FakeSystemd();
  const rec: CgroupRecord = { driver: 'systemd', systemd: 'test-c1.scope', paths: [], created: [] };
  systemdDriver(sd.connect).update(rec, {}, { memory: { limit: 2097152 }, pids: { limit: 30 } });
  t.same(sd.names(), ['connect', 'version', 'setUnitProperties']);
  t.equal(sd.calls[2][1], 'test-c1.scope');
  t.equal(sd.calls[2][2], true, 'runtime only, as the transient unit is');
  const props = sd.props();
  t.equal(props.get('TasksMax'), 30n);
  t.ok(props.get('MemoryLimit') === 2097152n || props.get('MemoryMax') === 2097152n, 'the memory limit, named for this host');
  t.equal(sd.open, 0);

  sd.calls = [];
  systemdDriver(sd.connect).update(rec, {}, {});
  t.same(sd.names(), ['connect', 'version'], 'nothing to set: no call');
});

t.test('remove: the unit stopped, then the directories removed', async (t) => {
  const sd = new FakeSystemd();
  const { root } = v1Host();
  const made = () => {
    const dir = join(root, 'memory/machine.slice/test-c1.scope');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    return { driver: 'systemd', systemd: 'test-c1.scope', paths: [dir], created: [dir, join(root, 'memory/machine.slice')] } as CgroupRecord;
  };
  let rec = made();
  systemdDriver(sd.connect).remove(rec);
  t.same(sd.calls, [['connect'], ['subscribe'], ['stopUnit', 'test-c1.scope'], ['waitJob', '/org/freedesktop/systemd1/job/1']]);
  t.notOk(existsSync(join(root, 'memory/machine.slice')), 'what corral made is gone');

  rec = made();
  sd.calls = [];
  sd.fail.stopUnit = new DBusError('org.freedesktop.systemd1.NoSuchUnit', 'Unit test-c1.scope not loaded.');
  systemdDriver(sd.connect).remove(rec);
  t.notOk(existsSync(rec.paths[0]), 'a unit gone with its last process: the directories still go');

  rec = made();
  systemdDriver(() => {
    throw new Error('--systemd-cgroup: cannot reach systemd');
  }).remove(rec);
  t.notOk(existsSync(rec.paths[0]), 'no systemd to ask: a warning, and the directories go');

  rec = made();
  sd.fail.stopUnit = new DBusError('org.freedesktop.DBus.Error.AccessDenied', 'no');
  t.throws(() => systemdDriver(sd.connect).remove(rec), { message: 'systemd: stopping test-c1.scope: no' });
  t.equal(sd.open, 0);
});

t.test('the driver comes from the record, and old records still name theirs', async (t) => {
  t.equal(driverName({ paths: [], created: [], systemd: 'x.scope' }), 'systemd', 'state from before the driver was recorded: the unit says it');
  t.equal(driverName({ paths: [], created: [] }), 'cgroupfs');
  t.equal(driverName({ driver: 'cgroupfs', paths: [], created: [] }), 'cgroupfs');
  t.equal(controlFor({ paths: [], created: [], systemd: 'x.scope' }).name, 'systemd');
  t.equal(driverFor({ driver: 'systemd', paths: [], created: [] }).name, 'systemd');
  t.equal(chooseDriver({ systemdCgroup: true }).name, 'systemd');
  t.equal(chooseDriver({}).name, 'cgroupfs');
  t.throws(() => controlFor({ driver: 'rootless' as 'cgroupfs', paths: [], created: [] }), /cgroup driver "rootless" of this container is not one this corral knows/);
});
