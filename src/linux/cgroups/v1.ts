// linux.resources on cgroup v1 controller files. Each writer takes the container's
// directory in one hierarchy and the controllers that hierarchy carries, so that it can
// be pointed at a fake tree in tests.
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CorralError } from '../../base/errors';
import { logDebug, logWarn } from '../../base/log';
import type { Resources } from '../../spec/types';
import { effectiveRules, ruleText } from './devices';
import { blockIO, defined, isSet, R, THROTTLES, type ApplyOptions } from './types';
import { hasFile, readCg, readNum, writeCg } from './write';

export function applyV1(dir: string, controllers: string[], r: Resources, o: ApplyOptions = {}): void {
  const has = (c: string) => controllers.includes(c);
  // As runc, an update leaves the device rules as they are (containerd sends them every time).
  if (has('devices') && !o.update) devicesV1(dir, r);
  if (has('memory')) memoryV1(dir, r, o);
  if (has('cpu')) cpuV1(dir, r);
  if (has('cpuset')) cpusetV1(dir, r);
  if (has('pids')) pidsV1(dir, r);
  if (has('blkio')) blkioV1(dir, r);
  if (has('hugetlb')) hugetlbV1(dir, r);
  if (has('net_cls')) netClsV1(dir, r);
  if (has('net_prio')) netPrioV1(dir, r);
  if (has('rdma')) rdmaWrite(dir, r);
}

/** The rules in the config's order after denying everything, then runc's defaults. */
function devicesV1(dir: string, r: Resources): void {
  writeCg(dir, 'devices.deny', 'a', `${R}/devices`);
  effectiveRules(r.devices).forEach((rule, i) => {
    const file = rule.allow ? 'devices.allow' : 'devices.deny';
    const field = i < (r.devices?.length ?? 0) ? `${R}/devices/${i}` : `${R}/devices (default rule ${ruleText(rule)})`;
    writeCg(dir, file, ruleText(rule), field);
  });
}

const unlimitedOrAbove = (v: number) => (v === -1 ? Infinity : v);

export function memoryV1(dir: string, r: Resources, o: ApplyOptions): void {
  const m = r.memory;
  if (!m) return;
  const F = `${R}/memory`;
  const warn = o.warn ?? logWarn;
  const limit = isSet(m.limit) ? m.limit : undefined;
  let swap = isSet(m.swap) ? m.swap : undefined;
  if (limit !== undefined && swap !== undefined && limit !== -1 && swap !== -1 && swap < limit)
    throw new CorralError(`${F}/swap: memory+swap limit ${swap} is below the memory limit ${limit}`);
  if (limit !== undefined && limit > 0 && m.checkBeforeUpdate && o.update) {
    const usage = readNum(dir, 'memory.usage_in_bytes');
    if (usage !== undefined && usage > limit) throw new CorralError(`${F}/limit: the new limit ${limit} is below the current usage ${usage} of ${dir} (checkBeforeUpdate)`);
  }
  // Unlimited memory without a word on swap means unlimited swap too (as runc).
  if (limit === -1 && swap === undefined && hasFile(dir, 'memory.memsw.limit_in_bytes')) swap = -1;
  const setLimit = () => limit !== undefined && writeCg(dir, 'memory.limit_in_bytes', limit, `${F}/limit`, limitHint(dir, limit));
  const setSwap = () =>
    swap !== undefined &&
    writeCg(dir, 'memory.memsw.limit_in_bytes', swap, `${F}/swap`, hasFile(dir, 'memory.memsw.limit_in_bytes') ? '' : ' (swap accounting is off: boot with swapaccount=1)');
  // The kernel keeps memory.limit <= memory.memsw.limit at every step: raise the
  // swap limit first when it goes above the current memory limit.
  if (limit !== undefined && swap !== undefined && unlimitedOrAbove(swap) >= (readNum(dir, 'memory.limit_in_bytes') ?? Infinity)) {
    setSwap();
    setLimit();
  } else {
    setLimit();
    setSwap();
  }
  if (isSet(m.reservation)) writeCg(dir, 'memory.soft_limit_in_bytes', m.reservation, `${F}/reservation`);
  if (isSet(m.kernel)) {
    // Deprecated since Linux 5.4; 6.x accepts the write and ignores it. The spec marks
    // it NOT RECOMMENDED: say so rather than refuse every old config.
    try {
      writeCg(dir, 'memory.kmem.limit_in_bytes', m.kernel, `${F}/kernel`);
      const got = readNum(dir, 'memory.kmem.limit_in_bytes');
      if (m.kernel !== -1 && got !== undefined && got !== m.kernel && got >= 2 ** 62)
        warn(`${F}/kernel: this kernel ignores kernel memory limits (${dir}/memory.kmem.limit_in_bytes stays unlimited)`);
    } catch (e) {
      warn(`${(e as Error).message}; kernel memory limits are deprecated, ignored`);
    }
  }
  if (isSet(m.kernelTCP)) writeCg(dir, 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP, `${F}/kernelTCP`);
  if (defined(m.swappiness) && m.swappiness !== -1) {
    if (m.swappiness < 0 || m.swappiness > 100) throw new CorralError(`${F}/swappiness: must be between 0 and 100 (got ${m.swappiness})`);
    writeCg(dir, 'memory.swappiness', m.swappiness, `${F}/swappiness`);
  }
  if (defined(m.disableOOMKiller)) writeCg(dir, 'memory.oom_control', m.disableOOMKiller ? 1 : 0, `${F}/disableOOMKiller`);
  if (defined(m.useHierarchy))
    writeCg(dir, 'memory.use_hierarchy', m.useHierarchy ? 1 : 0, `${F}/useHierarchy`, m.useHierarchy ? '' : ' (this kernel only does hierarchical accounting)');
}

function limitHint(dir: string, limit: number): string {
  const usage = readNum(dir, 'memory.usage_in_bytes');
  return usage !== undefined && limit > 0 && usage > limit ? ` (the current usage is ${usage})` : '';
}

/** A cgroup's real-time share (rt_runtime_us / rt_period_us); -1 (the root's "unlimited") is 1. */
function rtRatio(d: string): number {
  const runtime = readNum(d, 'cpu.rt_runtime_us') ?? 0;
  return runtime < 0 ? 1 : runtime / (readNum(d, 'cpu.rt_period_us') ?? 1_000_000);
}

/**
 * On v1 the real-time shares of a cgroup's children may not add up to more than its
 * own, and new cgroups get none: with the container under /corral (runc puts it
 * directly under the root, which has a budget), every ancestor below the root that
 * lacks the room is given it, from the top down, counting what its other children
 * already hold.
 */
function rtBudget(dir: string, runtime: number, period: number): void {
  const chain: { d: string; need: number }[] = [];
  let need = runtime / period;
  for (let child = dir, d = dirname(dir); hasFile(d, 'cpu.rt_runtime_us'); child = d, d = dirname(d)) {
    let others = 0;
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory() && `${d}/${e.name}` !== child) others += Math.max(0, rtRatio(`${d}/${e.name}`));
    need += others;
    // The hierarchy's root is the host's to set (sched_rt_runtime_us).
    if (rtRatio(d) >= need || !hasFile(dirname(d), 'cpu.rt_runtime_us')) break;
    chain.unshift({ d, need });
  }
  for (const { d, need: n } of chain) {
    const value = Math.ceil(n * (readNum(d, 'cpu.rt_period_us') ?? 1_000_000));
    logDebug(`cgroup: giving ${d} a real-time budget of ${value} us for its child`);
    writeCg(d, 'cpu.rt_runtime_us', value, `${R}/cpu/realtimeRuntime`, ` (the parent ${dirname(d)} must have a real-time budget for it)`);
  }
}

export function cpuV1(dir: string, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  const F = `${R}/cpu`;
  if (isSet(c.shares)) {
    writeCg(dir, 'cpu.shares', c.shares, `${F}/shares`);
    const got = readNum(dir, 'cpu.shares');
    // The kernel clamps to [2, 262144] silently.
    if (got !== undefined && got !== c.shares)
      throw new CorralError(`${F}/shares: ${c.shares} is out of the range this kernel allows (${dir}/cpu.shares became ${got}; 2 to 262144)`);
  }
  if (isSet(c.realtimePeriod) || isSet(c.realtimeRuntime)) {
    const setPeriod = () => isSet(c.realtimePeriod) && writeCg(dir, 'cpu.rt_period_us', c.realtimePeriod, `${F}/realtimePeriod`);
    const setRuntime = () => {
      if (!isSet(c.realtimeRuntime)) return;
      if (c.realtimeRuntime > 0) rtBudget(dir, c.realtimeRuntime, isSet(c.realtimePeriod) ? c.realtimePeriod : (readNum(dir, 'cpu.rt_period_us') ?? 1_000_000));
      writeCg(dir, 'cpu.rt_runtime_us', c.realtimeRuntime, `${F}/realtimeRuntime`, ' (it must not exceed the period, nor the budget of the parent cgroup)');
    };
    // runtime <= period at every step.
    if (isSet(c.realtimePeriod) && c.realtimePeriod < (readNum(dir, 'cpu.rt_runtime_us') ?? 0)) {
      setRuntime();
      setPeriod();
    } else {
      setPeriod();
      setRuntime();
    }
  }
  if (isSet(c.period)) writeCg(dir, 'cpu.cfs_period_us', c.period, `${F}/period`);
  const setQuota = () => isSet(c.quota) && writeCg(dir, 'cpu.cfs_quota_us', c.quota, `${F}/quota`);
  const setBurst = () => defined(c.burst) && writeCg(dir, 'cpu.cfs_burst_us', c.burst, `${F}/burst`, ' (it must not exceed the quota)');
  if (isSet(c.quota) && defined(c.burst) && c.burst > 0 && c.quota > 0 && c.burst > c.quota) throw new CorralError(`${F}/burst: ${c.burst} is larger than the quota ${c.quota}`);
  // burst <= quota at every step: lower the burst first when the quota goes below it.
  if (isSet(c.quota) && c.quota > 0 && c.quota < (readNum(dir, 'cpu.cfs_burst_us') ?? 0)) {
    setBurst();
    setQuota();
  } else {
    setQuota();
    setBurst();
  }
  if (defined(c.idle)) writeCg(dir, 'cpu.idle', c.idle, `${F}/idle`);
}

export function cpusetV1(dir: string, r: Resources): void {
  const c = r.cpu;
  if (c?.cpus) writeCg(dir, 'cpuset.cpus', c.cpus, `${R}/cpu/cpus`, ` (the parent has ${readCg(dirname(dir), 'cpuset.cpus') ?? '?'})`);
  if (c?.mems) writeCg(dir, 'cpuset.mems', c.mems, `${R}/cpu/mems`, ` (the parent has ${readCg(dirname(dir), 'cpuset.mems') ?? '?'})`);
}

/** -1 is unlimited; 0 is a real limit (the spec says so, the kernel agrees). */
export function pidsValue(limit: number): number | 'max' {
  return limit < 0 ? 'max' : limit;
}

function pidsV1(dir: string, r: Resources): void {
  if (defined(r.pids?.limit)) writeCg(dir, 'pids.max', pidsValue(r.pids.limit), `${R}/pids/limit`);
}

function blkioV1(dir: string, r: Resources): void {
  const b = blockIO(r);
  if (!b) return;
  const F = `${R}/blockIO`;
  // Without CFQ (gone since 5.0) the proportional weights live in the bfq files.
  const weightFile = hasFile(dir, 'blkio.weight') || !hasFile(dir, 'blkio.bfq.weight') ? 'blkio.weight' : 'blkio.bfq.weight';
  const deviceFile = hasFile(dir, 'blkio.weight_device') || !hasFile(dir, 'blkio.bfq.weight_device') ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  if (isSet(b.weight)) writeCg(dir, weightFile, b.weight, `${F}/weight`);
  if (isSet(b.leafWeight)) writeCg(dir, 'blkio.leaf_weight', b.leafWeight, `${F}/leafWeight`, ' (leaf weights went with the CFQ scheduler)');
  (b.weightDevice ?? []).forEach((d, i) => {
    if (defined(d.weight)) writeCg(dir, deviceFile, `${d.major}:${d.minor} ${d.weight}`, `${F}/weightDevice/${i}/weight`);
    if (defined(d.leafWeight))
      writeCg(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, `${F}/weightDevice/${i}/leafWeight`, ' (leaf weights went with the CFQ scheduler)');
  });
  for (const [key, file] of THROTTLES) {
    (b[key] ?? []).forEach((d, i) => writeCg(dir, `blkio.throttle.${file}`, `${d.major}:${d.minor} ${d.rate}`, `${F}/${key}/${i}`, ' (is there such a block device?)'));
  }
}

function sizeBytes(s: string): number {
  return parseInt(s, 10) * 1024 ** ('KMGTP'.indexOf(s[s.length - 2]) + 1);
}

/** Page sizes the hugetlb files of dir name ("2MB", "1GB"). */
export function hugePageSizes(dir: string, suffix: string): string[] {
  try {
    return readdirSync(dir)
      .map((f) => new RegExp(`^hugetlb\\.([0-9]+[KMGTP]B)\\.${suffix.replace(/\./g, '\\.')}$`).exec(f)?.[1])
      .filter((s): s is string => !!s)
      .sort((a, b) => sizeBytes(a) - sizeBytes(b));
  } catch {
    return [];
  }
}

/** Writes hugepageLimits as <prefix><size>.<limitFile> (and the reservation file when the kernel has it). */
export function hugetlbWrite(dir: string, r: Resources, limitFile: string, rsvdFile: string): void {
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const F = `${R}/hugepageLimits/${i}`;
    const file = `hugetlb.${h.pageSize}.${limitFile}`;
    if (!hasFile(dir, file)) {
      const sizes = hugePageSizes(dir, limitFile);
      throw new CorralError(`${F}/pageSize: ${JSON.stringify(h.pageSize)} is not a huge page size of this host (no ${dir}/${file}; sizes: ${sizes.join(', ') || 'none'})`);
    }
    writeCg(dir, file, h.limit, `${F}/limit`);
    const rsvd = `hugetlb.${h.pageSize}.${rsvdFile}`;
    if (hasFile(dir, rsvd)) writeCg(dir, rsvd, h.limit, `${F}/limit`);
  });
}

export function hugetlbV1(dir: string, r: Resources): void {
  hugetlbWrite(dir, r, 'limit_in_bytes', 'rsvd.limit_in_bytes');
}

function netClsV1(dir: string, r: Resources): void {
  const id = r.network?.classID;
  if (isSet(id)) writeCg(dir, 'net_cls.classid', id, `${R}/network/classID`);
}

function netPrioV1(dir: string, r: Resources): void {
  (r.network?.priorities ?? []).forEach((p, i) => writeCg(dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `${R}/network/priorities/${i}`, ' (is there such an interface?)'));
}

/** rdma.max takes one device a line, on v1 and v2 alike. */
export function rdmaWrite(dir: string, r: Resources): void {
  for (const [dev, l] of Object.entries(r.rdma ?? {})) {
    const parts = [dev];
    if (defined(l.hcaHandles)) parts.push(`hca_handle=${l.hcaHandles}`);
    if (defined(l.hcaObjects)) parts.push(`hca_object=${l.hcaObjects}`);
    if (parts.length === 1) throw new CorralError(`${R}/rdma/${dev}: needs hcaHandles or hcaObjects`);
    writeCg(dir, 'rdma.max', parts.join(' '), `${R}/rdma/${dev}`, ' (is there such an RDMA device?)');
  }
}
