// Turns a validated config into the helper's plan: every namespace, mount, device,
// path, id map, capability mask, rlimit, argv and env resolved to plain values.
// The records and their wire format are defined in ./plan-records.ts.
import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { errnoText } from '../base/errno';
import { CorralError } from '../base/errors';
import { logDebug } from '../base/log';
import type { Config, IdMapping, Linux, Mount, Process } from '../spec/types';
import type { CgroupRecord } from './cgroups/types';
import { CAPABILITIES, capabilityMasks } from './capabilities';
import { hostLayout } from './cgroups/layout';
import { procsFiles } from './cgroups/record';
import { DEFAULT_DEVICES, defaultSymlinks } from './devices';
import { MS, PROPAGATION, parseMountOptions } from './mounts';
import { NAMESPACES, CLONE_NEWUSER } from './namespaces';
import { Plan, u64 } from './plan-records';
import { RLIMITS } from './rlimits';
import { addSeccomp } from './seccomp';

export { Plan, u64 } from './plan-records';

function idMap(maps: IdMapping[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** The host id a container id maps to (for device ownership in a user namespace). */
function toHost(maps: IdMapping[] | undefined, id: number): number {
  for (const m of maps ?? []) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID;
  return id;
}

export interface CreateOptions {
  bundle: string;
  fifo: string;
  noPivot: boolean;
  preserveFds: number;
  /**
   * Where the container was put (its directory in each of hostLayout()'s hierarchies, in
   * that order): the init joins them (the cgroup2 one by CLONE_INTO_CGROUP), cgroup
   * mounts bind them, and what corral made is undone should Node vanish.
   */
  cgroups: CgroupRecord;
  cgroupHome: string[];
  cleanup: { files: string[]; dir: string };
  id: string;
  /** Where the pty master goes when process.terminal is set: a socket path or an fd of the helper. */
  consoleSocket?: string | number;
  /** runc's --no-new-keyring: otherwise the container gets its own session keyring. */
  noNewKeyring?: boolean;
}

export function rootfsOf(config: Config, bundle: string): string {
  const p = config.root?.path ?? 'rootfs';
  return isAbsolute(p) ? p : join(bundle, p);
}

/** The process part of a plan: shared by create and exec. */
export function addProcess(plan: Plan, proc: Process, field = '/process'): void {
  const u = proc.user ?? { uid: 0, gid: 0 }; // runc's default when the config has none
  plan.add('user', u.uid, u.gid, u.umask ?? -1);
  for (const g of u.additionalGids ?? []) plan.add('gid', g);
  let masks;
  try {
    masks = capabilityMasks(proc.capabilities ?? {}, `${field}/capabilities`);
  } catch (e) {
    throw new CorralError((e as Error).message);
  }
  plan.add('caps', masks[0], masks[1], masks[2], masks[3], raisableAmbient(masks, field));
  (proc.rlimits ?? []).forEach((r, i) => {
    const n = RLIMITS[r.type];
    if (n === undefined) throw new CorralError(`${field}/rlimits/${i}/type: unknown rlimit "${r.type}" (one of ${Object.keys(RLIMITS).join(', ')})`);
    if (r.soft > r.hard) throw new CorralError(`${field}/rlimits/${i}: soft limit ${r.soft} is above hard limit ${r.hard}`);
    plan.add('rlimit', n, u64(r.soft), u64(r.hard));
  });
  if (proc.noNewPrivileges) plan.add('nnp', 1);
  if (proc.ioPriority) {
    const cls = IOPRIO_CLASSES[proc.ioPriority.class];
    const prio = proc.ioPriority.priority ?? 0;
    if (prio < 0 || prio > 7) throw new CorralError(`${field}/ioPriority/priority: must be 0..7 (got ${prio})`);
    plan.add('ioprio', (cls << 13) | prio);
  }
  const s = proc.scheduler;
  if (s) {
    const flags = (s.flags ?? []).reduce((f, name) => f | SCHED_FLAGS[name], 0);
    plan.add('sched', SCHED_POLICIES[s.policy], s.nice ?? 0, s.priority ?? 0, flags, u64(s.runtime ?? 0), u64(s.deadline ?? 0), u64(s.period ?? 0));
  }
  if (proc.execCPUAffinity) throw new CorralError(`${field}/execCPUAffinity: is not supported by corral`);
  plan.add('cwd', proc.cwd || '/');
  if (!proc.args?.length) throw new CorralError(`${field}/args: the process needs at least one argument`);
  for (const a of proc.args) plan.add('arg', a);
  for (const e of proc.env ?? []) plan.add('env', e);
}

/**
 * The kernel raises an ambient capability only where it is both permitted and
 * inheritable. runc and crun go on without the others (`runc spec` lists ambient ones
 * with no inheritable set): so do we, saying so at --debug.
 */
function raisableAmbient(masks: string[], field: string): string {
  const [, , inheritable, permitted, ambient] = masks.map(BigInt);
  const raisable = ambient & inheritable & permitted;
  for (let bit = 0; ambient >> BigInt(bit); bit++)
    if ((ambient >> BigInt(bit)) & 1n && !((raisable >> BigInt(bit)) & 1n))
      logDebug(`${field}/capabilities/ambient: ${CAPABILITIES[bit]} is not in both the permitted and inheritable sets; the kernel cannot raise it, skipped`);
  return raisable.toString();
}

const IOPRIO_CLASSES: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
const SCHED_POLICIES: Record<string, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};
const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};
const PERSONALITIES: Record<string, number> = { LINUX: 0, LINUX32: 0x0008 };
// <linux/mempolicy.h>
export const MPOL_MODES: Record<string, number> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MPOL_FLAGS: Record<string, number> = { MPOL_F_STATIC_NODES: 1 << 15, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_NUMA_BALANCING: 1 << 13 };

/** linux.memoryPolicy: set_mempolicy(2) in the init; "0-3,7" goes as the node list 0,1,2,3,7. */
function addMemoryPolicy(plan: Plan, m: { mode?: string; nodes?: string; flags?: string[] }): void {
  const F = '/linux/memoryPolicy';
  const mode = m.mode === undefined ? undefined : MPOL_MODES[m.mode];
  if (mode === undefined) throw new CorralError(`${F}/mode: ${m.mode === undefined ? 'is required' : `unknown mode "${m.mode}"`}`);
  const flags = (m.flags ?? []).reduce((f, name, i) => {
    if (MPOL_FLAGS[name] === undefined) throw new CorralError(`${F}/flags/${i}: unknown flag "${name}"`);
    return f | MPOL_FLAGS[name];
  }, 0);
  const nodes: number[] = [];
  for (const part of (m.nodes ?? '').split(',').filter((p) => p.trim() !== '')) {
    const r = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    const lo = r ? Number(r[1]) : NaN;
    const hi = r?.[2] !== undefined ? Number(r[2]) : lo;
    if (!r || hi < lo || hi >= 1024) throw new CorralError(`${F}/nodes: "${m.nodes}" is not a list of node numbers and ranges below 1024 (e.g. "0-3,7")`);
    for (let n = lo; n <= hi; n++) nodes.push(n);
  }
  const noNodes = m.mode === 'MPOL_DEFAULT' || m.mode === 'MPOL_LOCAL';
  if (noNodes && nodes.length) throw new CorralError(`${F}/nodes: ${m.mode} takes no nodes`);
  if (!noNodes && m.mode !== 'MPOL_PREFERRED' && !nodes.length) throw new CorralError(`${F}/nodes: ${m.mode} needs at least one node`);
  plan.add('mempolicy', mode, flags, nodes.join(','));
}

/** process.terminal: the pty is made in the process, its master sent to the console socket. */
export function addTerminal(plan: Plan, proc: Process, consoleSocket: string | number | undefined): void {
  if (consoleSocket === undefined) throw new CorralError('/process/terminal: a terminal needs --console-socket');
  plan.add('terminal', 1);
  // A path the helper connects to, or (run attached to our terminal) an fd it inherits.
  if (typeof consoleSocket === 'number') plan.add('console-fd', consoleSocket);
  else plan.add('console-path', consoleSocket);
  if (proc.consoleSize) plan.add('console-size', proc.consoleSize.height, proc.consoleSize.width);
}

const CGROUP_MOUNT_FLAGS = MS.NOSUID | MS.NODEV | MS.NOEXEC;

/** A "cgroup" mount: cgroup2 where the host is v2, else a tmpfs with each v1 hierarchy bound in. */
function addCgroupMount(plan: Plan, m: Mount, flags: number, dirs: string[]): void {
  const layout = hostLayout();
  const ro = flags & MS.RDONLY;
  if (layout.mode === 'v2') {
    plan.add('mount', 'cgroup', m.destination, 'cgroup2', flags | CGROUP_MOUNT_FLAGS, '', 0, 'dir', 0, 0, 0);
    return;
  }
  plan.add('mount', 'tmpfs', m.destination, 'tmpfs', CGROUP_MOUNT_FLAGS, 'mode=755', 0, 'dir', 0, 0, 0);
  layout.hierarchies.forEach((h, i) => {
    const name = h.version === 2 ? 'unified' : h.controllers.map((c) => c.replace(/^name=/, '')).join(',');
    // Where the container was put, not cgroupsPath: with --systemd-cgroup that is
    // "slice:prefix:name", and the cgroup is the scope systemd made.
    plan.add('mount', dirs[i], join(m.destination, name), '', MS.BIND | CGROUP_MOUNT_FLAGS | ro, '', 0, 'dir', 0, 0, 0);
  });
  if (ro) plan.add('mount', '', m.destination, '', MS.REMOUNT | MS.RDONLY | CGROUP_MOUNT_FLAGS, 'mode=755', 0, 'none', 0, 0, 0);
}

/** Namespaces to join (setns, in order) or make (one clone flag set), and the id maps. */
function addNamespaces(plan: Plan, linux: Linux): void {
  const namespaces = linux.namespaces ?? [];
  let cloneflags = 0;
  for (const ns of namespaces) {
    const info = NAMESPACES[ns.type];
    if (ns.path) plan.add('setns', info.flag, ns.path);
    else cloneflags |= info.flag;
  }
  plan.add('cloneflags', cloneflags);
  if (cloneflags & CLONE_NEWUSER) {
    plan.add('uidmap', idMap(linux.uidMappings ?? []));
    plan.add('gidmap', idMap(linux.gidMappings ?? []));
  }
  if (linux.timeOffsets) {
    const t = Object.entries(linux.timeOffsets)
      .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
      .join('');
    plan.add('timens', t);
  }
}

/** The cgroups the init joins, and what corral-init removes should create fail after it took over. */
function addCgroupsAndCleanup(plan: Plan, o: CreateOptions): void {
  for (const f of procsFiles(o.cgroups)) plan.add('cgroup', f);
  if (o.cgroups.unified) plan.add('cgroup2', o.cgroups.unified);
  for (const f of o.cgroupHome) plan.add('cgroup-home', f);
  for (const d of o.cgroups.created) plan.add('cleanup-cgroup', d);
  for (const f of o.cleanup.files) plan.add('cleanup-file', f);
  plan.add('cleanup-dir', o.cleanup.dir);
}

function addRootfs(plan: Plan, config: Config, o: CreateOptions): void {
  const rootfs = rootfsOf(config, o.bundle);
  let st;
  try {
    st = statSync(rootfs);
  } catch {
    throw new CorralError(`/root/path: rootfs ${rootfs}: ${errnoText('ENOENT')}`);
  }
  if (!st.isDirectory()) throw new CorralError(`/root/path: rootfs ${rootfs}: ${errnoText('ENOTDIR')}`);
  plan.add('rootfs', rootfs);
  if (config.root?.readonly) plan.add('readonlyroot', 1);
  if (o.noPivot) plan.add('nopivot', 1);
  if (config.linux?.rootfsPropagation) plan.add('rootprop', PROPAGATION[config.linux.rootfsPropagation]);
}

/** The config's mounts, in order; what the devices step needs to know about /dev. */
function addMounts(plan: Plan, config: Config, o: CreateOptions): { devBound: boolean; hasDevpts: boolean } {
  let devBound = false;
  let hasDevpts = false;
  (config.mounts ?? []).forEach((m, i) => {
    const field = `/mounts/${i}`;
    let opts;
    try {
      opts = parseMountOptions(m.options ?? [], `${field}/options`);
    } catch (e) {
      throw new CorralError((e as Error).message);
    }
    const type = m.type ?? '';
    const bind = opts.bind || type === 'bind';
    if (m.uidMappings || m.gidMappings) throw new CorralError(`${field}: id-mapped mounts are not supported by corral`);
    if (type === 'cgroup' || type === 'cgroup2') {
      addCgroupMount(plan, m, opts.flags, o.cgroups.paths);
      return;
    }
    let kind = 'dir';
    let src = m.source ?? '';
    if (bind) {
      src = isAbsolute(src) ? src : resolve(o.bundle, src);
      try {
        kind = statSync(src).isDirectory() ? 'dir' : 'file';
      } catch {
        throw new CorralError(`${field}/source: ${src}: ${errnoText('ENOENT')}`);
      }
      if (m.destination === '/dev') devBound = true;
    }
    if (type === 'devpts') hasDevpts = true;
    const flags = opts.flags | (bind ? MS.BIND : 0);
    if (opts.copyup && type !== 'tmpfs') throw new CorralError(`${field}/options: tmpcopyup is for tmpfs mounts (got type "${type}")`);
    plan.add('mount', src, m.destination, bind ? '' : type, flags, opts.data.join(','), opts.propagation, kind, opts.copyup ? 1 : 0, opts.attrSet, opts.attrClear);
  });
  return { devBound, hasDevpts };
}

/** The default devices and linux.devices (bound from the host in a user namespace), and /dev's links. */
function addDevices(plan: Plan, linux: Linux, dev: { devBound: boolean; hasDevpts: boolean }): void {
  const userns = (linux.namespaces ?? []).some((n) => n.type === 'user');
  // A /dev bound from the caller has its own devices; linux.devices are still made in it.
  const devices = dev.devBound ? [] : DEFAULT_DEVICES.filter((d) => !linux.devices?.some((c) => c.path === d.path));
  // With a devpts, /dev/ptmx is always its link (runc's way), whatever linux.devices says.
  const ptmxLink = !dev.devBound && dev.hasDevpts;
  for (const d of [...devices, ...(linux.devices ?? []).filter((d) => !(ptmxLink && d.path === '/dev/ptmx'))]) {
    const type = d.type === 'u' ? 'c' : d.type;
    plan.add(
      'device',
      d.path,
      type,
      d.major ?? 0,
      d.minor ?? 0,
      d.fileMode ?? 0o666,
      toHost(linux.uidMappings, d.uid ?? 0),
      toHost(linux.gidMappings, d.gid ?? 0),
      userns ? 'bind' : 'mknod',
    );
  }
  if (!dev.devBound) for (const [target, link] of defaultSymlinks(dev.hasDevpts)) plan.add('symlink', target, link);
}

function addPersonality(plan: Plan, personality: NonNullable<Linux['personality']>): void {
  if (personality.flags?.length) throw new CorralError('/linux/personality/flags: personality flags are not supported by corral');
  const dom = PERSONALITIES[personality.domain];
  if (dom === undefined) throw new CorralError(`/linux/personality/domain: unknown domain "${personality.domain}" (LINUX or LINUX32)`);
  plan.add('personality', dom);
}

/** The plan of `create`, in the order corral-init reads it (see plan-records.ts). */
export function createPlan(config: Config, o: CreateOptions): Plan {
  const plan = new Plan().add('mode', 'create');
  const linux = config.linux ?? {};
  addNamespaces(plan, linux);
  addCgroupsAndCleanup(plan, o);
  const proc = config.process;
  if (proc?.oomScoreAdj !== undefined) plan.add('oomscore', proc.oomScoreAdj);
  if (config.hostname !== undefined) plan.add('hostname', config.hostname);
  if (config.domainname !== undefined) plan.add('domainname', config.domainname);
  addRootfs(plan, config, o);
  addDevices(plan, linux, addMounts(plan, config, o));
  for (const [k, v] of Object.entries(linux.sysctl ?? {})) plan.add('sysctl', k, v);
  for (const p of linux.maskedPaths ?? []) plan.add('masked', p);
  for (const p of linux.readonlyPaths ?? []) plan.add('readonly', p);
  const h = config.hooks ?? {};
  if (h.prestart?.length || h.createRuntime?.length || h.createContainer?.length) plan.add('hooks', 1);
  if (o.preserveFds) plan.add('preservefds', o.preserveFds);
  if (!o.noNewKeyring) plan.add('keyring', `_ses.${o.id}`);
  if (linux.personality) addPersonality(plan, linux.personality);
  if (linux.memoryPolicy) addMemoryPolicy(plan, linux.memoryPolicy);
  for (const key of ['intelRdt', 'netDevices'] as const) if (linux[key] !== undefined) throw new CorralError(`/linux/${key}: is not supported by corral`);
  plan.add('fifo', o.fifo);
  if (linux.seccomp) addSeccomp(plan, linux.seccomp, '/linux/seccomp', { id: o.id, bundle: o.bundle, annotations: config.annotations });
  // Without a process the init only waits for start, then exits (see lifecycle/start.ts).
  if (proc) addProcess(plan, proc);
  if (proc?.terminal) addTerminal(plan, proc, o.consoleSocket);
  return plan;
}
