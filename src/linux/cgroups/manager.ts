// Creating a container's cgroups on every hierarchy of the host and applying
// linux.resources there: each field goes to the hierarchy that owns its controller
// (on a hybrid host, v1 for most, the unified hierarchy for what only it has).
import * as fs from 'node:fs';
import { join, isAbsolute, dirname, relative } from 'node:path';
import { CorralError, errnoCode } from '../../base/errors';
import type { CgroupRecord } from './types';
import type { Resources } from '../../spec/types';
import { dirOf, hostLayout, type Hierarchy, type Layout } from './layout';
import { removeCgroups } from './record';
import { blockIO, defined, isSet, R, THROTTLES, type ApplyOptions } from './types';
import { applyV1 } from './v1';
import { applyV2, keyController } from './v2';
import { applyDevicesV2 } from './devices-v2';
import { readNum, whyFailed } from './write';

export { cgroupPids, procsFiles, removeCgroups } from './record';

/** The cgroup path of a container: absolute as given, relative under our own cgroup. */
export function cgroupPathFor(h: Hierarchy, cgroupsPath: string | undefined, id: string): string {
  const p = cgroupsPath || `/corral/${id}`;
  return isAbsolute(p) ? p : join(h.own, p);
}

function mkdirTracked(dir: string, created: string[], onNew: (d: string) => void): void {
  if (fs.existsSync(dir)) return;
  mkdirTracked(dirname(dir), created, onNew);
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return;
    throw CorralError.wrap(`cgroup: mkdir ${dir}`, e);
  }
  created.unshift(dir);
  onNew(dir);
}

/** dir and those of its ancestors that do not exist yet. */
function missing(dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; !fs.existsSync(d); d = dirname(d)) out.push(d);
  return out;
}

const deepestFirst = (a: string, b: string) => b.length - a.length;

// A new cpuset cgroup starts with no cpus and no mems: no process could join it.
function inheritCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const file = join(dir, f);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() === '') fs.writeFileSync(file, fs.readFileSync(join(dirname(dir), f), 'utf8').trim());
  }
}

/** Called with what is about to be made, before the first mkdir (see CreatingRecord). */
export type Intent = (planned: CgroupRecord) => void;

/** Makes the container's directory in every hierarchy, recording what it made. */
export function makeCgroupDirs(id: string, cgroupsPath: string | undefined, layout: Layout, rec: CgroupRecord = { paths: [], created: [] }, intent?: Intent): CgroupRecord {
  const dirs = layout.hierarchies.map((h) => dirOf(h, cgroupPathFor(h, cgroupsPath, id)));
  layout.hierarchies.forEach((h, i) => {
    rec.paths.push(dirs[i]);
    if (h.version === 1 && h.controllers.includes('freezer')) rec.freezer = join(dirs[i], 'freezer.state');
    if (h.version === 2) rec.unified = dirs[i];
  });
  // Without a v1 freezer (a v2 host), the unified hierarchy's core freezer.
  if (!rec.freezer && rec.unified) rec.freezer = join(rec.unified, 'cgroup.freeze');
  intent?.({ ...rec, created: [...new Set([...rec.created, ...dirs.flatMap(missing)])].sort(deepestFirst) });
  layout.hierarchies.forEach((h, i) => {
    const cpuset = h.version === 1 && h.controllers.includes('cpuset');
    mkdirTracked(dirs[i], rec.created, cpuset ? inheritCpuset : () => {});
  });
  rec.created.sort(deepestFirst);
  return rec;
}

/** The cgroupfs driver's create: the container's cgroups and its resources; undoes everything on failure. */
export function createCgroups(id: string, cgroupsPath: string | undefined, resources: Resources | undefined, layout = hostLayout(), intent?: Intent): CgroupRecord {
  const rec: CgroupRecord = { driver: 'cgroupfs', paths: [], created: [] };
  try {
    populate(rec, id, cgroupsPath, resources, layout, intent);
  } catch (e) {
    removeCgroups(rec, 0);
    throw e;
  }
  return rec;
}

/** The directories of the container in every hierarchy, its controllers and its resources (both drivers). */
export function populate(rec: CgroupRecord, id: string, cgroupsPath: string | undefined, resources: Resources | undefined, layout: Layout, intent?: Intent): void {
  makeCgroupDirs(id, cgroupsPath, layout, rec, intent);
  // A v2 host: every controller the parent offers, as runc and crun do, so that the
  // container's files (and its stats) are there for later updates.
  const v2 = layout.hierarchies.find((h) => h.version === 2);
  if (v2 && layout.mode === 'v2' && rec.unified) enableControllers(v2, rec.unified, v2.controllers, undefined);
  applyResourcesTo(layout, rec, resources ?? {}, {});
  if (resources && Object.keys(resources).length) rec.resources = resources;
}

/**
 * v1 with real-time group scheduling: a cgroup without a real-time budget refuses
 * SCHED_FIFO and SCHED_RR (sched_setattr: EPERM). Said before the init runs, with
 * the way out (runc >= 1.2 fails there with only the errno).
 */
export function checkRealtimePolicy(rec: CgroupRecord, policy: string | undefined, layout = hostLayout()): void {
  if (policy !== 'SCHED_FIFO' && policy !== 'SCHED_RR') return;
  const dir = rec.paths[layout.hierarchies.findIndex((h) => h.version === 1 && h.controllers.includes('cpu'))];
  if (dir && readNum(dir, 'cpu.rt_runtime_us') === 0)
    throw new CorralError(
      `/process/scheduler/policy: ${policy} needs a real-time budget, and the container's cgroup has none ` +
        `(${dir}/cpu.rt_runtime_us is 0 on this cgroup v1 host): set /linux/resources/cpu/realtimeRuntime`,
    );
}

/** cgroup.procs of this process's own cgroups, for the helper to return to. */
export function homeProcsFiles(): string[] {
  return hostLayout().hierarchies.map((h) => join(dirOf(h, h.own), 'cgroup.procs'));
}

/** Applies r to the cgroups of rec on this host (`corral update`, or creation). */
export function applyResources(rec: CgroupRecord, r: Resources, o: ApplyOptions = {}): void {
  applyResourcesTo(hostLayout(), rec, r, o);
}

interface Need {
  field: string;
  /** The v1 name of the controller (blkio, not io). */
  controller: string;
  file: string;
}

/** The controllers the set fields of r need, each with the field and the file it goes to. */
export function needs(r: Resources): Need[] {
  const out: Need[] = [];
  const add = (field: string, controller: string, file: string) => out.push({ field: `${R}/${field}`, controller, file });
  const m = r.memory ?? {};
  for (const [k, file] of [
    ['limit', 'memory.limit_in_bytes'],
    ['reservation', 'memory.soft_limit_in_bytes'],
    ['swap', 'memory.memsw.limit_in_bytes'],
    ['kernel', 'memory.kmem.limit_in_bytes'],
    ['kernelTCP', 'memory.kmem.tcp.limit_in_bytes'],
  ] as const)
    if (isSet(m[k])) add(`memory/${k}`, 'memory', file);
  if (defined(m.swappiness) && m.swappiness !== -1) add('memory/swappiness', 'memory', 'memory.swappiness');
  if (m.disableOOMKiller) add('memory/disableOOMKiller', 'memory', 'memory.oom_control');
  if (m.useHierarchy === false) add('memory/useHierarchy', 'memory', 'memory.use_hierarchy');
  const c = r.cpu ?? {};
  for (const [k, file] of [
    ['shares', 'cpu.shares'],
    ['quota', 'cpu.cfs_quota_us'],
    ['period', 'cpu.cfs_period_us'],
    ['realtimeRuntime', 'cpu.rt_runtime_us'],
    ['realtimePeriod', 'cpu.rt_period_us'],
  ] as const)
    if (isSet(c[k])) add(`cpu/${k}`, 'cpu', file);
  if (defined(c.burst)) add('cpu/burst', 'cpu', 'cpu.cfs_burst_us');
  if (defined(c.idle)) add('cpu/idle', 'cpu', 'cpu.idle');
  if (c.cpus) add('cpu/cpus', 'cpuset', 'cpuset.cpus');
  if (c.mems) add('cpu/mems', 'cpuset', 'cpuset.mems');
  if (defined(r.pids?.limit)) add('pids/limit', 'pids', 'pids.max');
  const b = blockIO(r) ?? {};
  if (isSet(b.weight)) add('blockIO/weight', 'blkio', 'blkio.weight');
  if (isSet(b.leafWeight)) add('blockIO/leafWeight', 'blkio', 'blkio.leaf_weight');
  if (b.weightDevice?.length) add('blockIO/weightDevice', 'blkio', 'blkio.weight_device');
  for (const [k, file] of THROTTLES) if (b[k]?.length) add(`blockIO/${k}`, 'blkio', `blkio.throttle.${file}`);
  if (r.hugepageLimits?.length) add('hugepageLimits', 'hugetlb', `hugetlb.${r.hugepageLimits[0].pageSize}.limit_in_bytes`);
  if (isSet(r.network?.classID)) add('network/classID', 'net_cls', 'net_cls.classid');
  if (r.network?.priorities?.length) add('network/priorities', 'net_prio', 'net_prio.ifpriomap');
  if (Object.keys(r.rdma ?? {}).length) add('rdma', 'rdma', 'rdma.max');
  return out;
}

const V2_NAME: Record<string, string> = { blkio: 'io' };

/** The hierarchy that carries a (v1-named) controller, if any. */
function ownerOf(layout: Layout, controller: string): Hierarchy | undefined {
  return (
    layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller)) ??
    layout.hierarchies.find((h) => h.version === 2 && h.controllers.includes(V2_NAME[controller] ?? controller))
  );
}

/** Fails, naming the field and the file, for what no hierarchy of the host can take. */
export function checkHost(layout: Layout, r: Resources): void {
  for (const n of needs(r)) {
    if (ownerOf(layout, n.controller)) continue;
    const where = layout.mode === 'v2' ? 'the unified hierarchy does not offer it' : 'it is not mounted';
    throw new CorralError(`${n.field}: the ${n.controller} cgroup controller is not available on this host (${where}), so ${n.file} cannot be set`);
  }
  // Device rules need the v1 controller or a cgroup2 hierarchy to attach a program to;
  // only rules the config gives are worth an error (runc's defaults come with every one).
  if (r.devices?.length && !layout.hierarchies.some((h) => h.version === 2 || h.controllers.includes('devices')))
    throw new CorralError(`${R}/devices: the devices cgroup controller is not mounted on this host and there is no cgroup v2 hierarchy for an eBPF device program`);
  const unified = Object.keys(r.unified ?? {});
  if (unified.length && !layout.hierarchies.some((h) => h.version === 2)) throw new CorralError(`${R}/unified/${unified[0]}: this host has no cgroup v2 (unified) hierarchy`);
}

/**
 * Makes controllers available to dir: "+c" in cgroup.subtree_control of every ancestor
 * from the hierarchy's root down to dir's parent. `field` names what needed it in an
 * error; without it, failures are ignored (a best effort for the defaults).
 */
export function enableControllers(h: Hierarchy, dir: string, controllers: string[], field: string | undefined): void {
  if (!controllers.length) return;
  const rel = relative(h.mount, dirname(dir));
  const chain = [h.mount];
  if (rel && !rel.startsWith('..')) for (const part of rel.split('/')) chain.push(join(chain[chain.length - 1], part));
  for (const a of chain) {
    const file = join(a, 'cgroup.subtree_control');
    let on: string[];
    try {
      on = fs.readFileSync(file, 'utf8').trim().split(/\s+/);
    } catch (e) {
      if (field) throw new CorralError(`${field}: cannot read ${file}: ${whyFailed(file, e)}`);
      return;
    }
    for (const c of controllers.filter((x) => !on.includes(x))) {
      try {
        fs.writeFileSync(file, `+${c}`);
      } catch (e) {
        if (!field) continue;
        const busy = errnoCode(e) === 'EBUSY' ? ' (it has processes of its own: a cgroup v2 parent cannot)' : '';
        throw new CorralError(`${field}: cannot enable the ${c} controller in ${file}: ${whyFailed(file, e)}${busy}`);
      }
    }
  }
}

/** Controllers the unified hierarchy must give the container for r. */
function v2Needs(layout: Layout, h: Hierarchy, r: Resources): { controller: string; field: string }[] {
  const out = needs(r)
    .filter((n) => ownerOf(layout, n.controller) === h)
    .map((n) => ({ controller: V2_NAME[n.controller] ?? n.controller, field: n.field }));
  for (const key of Object.keys(r.unified ?? {})) {
    const c = keyController(key);
    if (c !== 'cgroup' && h.controllers.includes(c)) out.push({ controller: c, field: `${R}/unified/${key}` });
  }
  return out;
}

export function applyResourcesTo(layout: Layout, rec: CgroupRecord, r: Resources, o: ApplyOptions): void {
  checkHost(layout, r);
  const v1Controllers = layout.hierarchies.filter((h) => h.version === 1).flatMap((h) => h.controllers);
  layout.hierarchies.forEach((h, i) => {
    const dir = rec.paths[i];
    if (!dir) return;
    if (h.version === 1) {
      applyV1(dir, h.controllers, r, o);
      return;
    }
    for (const n of v2Needs(layout, h, r)) enableControllers(h, dir, [n.controller], n.field);
    applyV2(dir, h.controllers, r, { ...o, v1Controllers });
    // Device rules: v1 has a controller for them; v2 only an eBPF program.
    if (!v1Controllers.includes('devices') && !o.update) applyDevicesV2(dir, r);
  });
}
