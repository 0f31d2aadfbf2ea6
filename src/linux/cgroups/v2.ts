// linux.resources on the unified (cgroup2) hierarchy, with the standard v1 → v2
// conversions. `controllers` is what the hierarchy offers (its root's cgroup.controllers):
// on a hybrid host that is only what no v1 hierarchy took, so this driver writes exactly
// the part of the config the v2 side owns.
import { CorralError } from '../../base/errors';
import { logWarn } from '../../base/log';
import type { Resources } from '../../spec/types';
import { blkioWeightToIoWeight, sharesToWeight, swapToV2 } from './convert';
import { blockIO, defined, isSet, R, THROTTLES, type ApplyOptions } from './types';
import { hugetlbWrite, pidsValue, rdmaWrite } from './v1';
import { hasFile, readCg, readNum, writeCg } from './write';

export interface V2Options extends ApplyOptions {
  /** Controllers bound to v1 hierarchies on this (hybrid) host. */
  v1Controllers?: string[];
}

export function applyV2(dir: string, controllers: string[], r: Resources, o: V2Options = {}): void {
  const has = (c: string) => controllers.includes(c);
  if (has('memory')) memoryV2(dir, r, o);
  if (has('cpu')) cpuV2(dir, r);
  if (has('cpuset')) cpusetV2(dir, r);
  if (has('pids') && defined(r.pids?.limit)) writeCg(dir, 'pids.max', pidsValue(r.pids.limit), `${R}/pids/limit`);
  if (has('io')) ioV2(dir, r);
  if (has('hugetlb')) hugetlbWrite(dir, r, 'max', 'rsvd.max');
  if (has('rdma')) rdmaWrite(dir, r);
  unifiedV2(dir, controllers, r, o);
}

const maxOr = (v: number) => (v === -1 ? 'max' : v);
const v2Only = (field: string, file: string) => new CorralError(`${field}: not supported on cgroup v2 (there is no ${file} there)`);

export function memoryV2(dir: string, r: Resources, o: ApplyOptions): void {
  const m = r.memory;
  if (!m) return;
  const F = `${R}/memory`;
  const limit = isSet(m.limit) ? m.limit : undefined;
  if (limit !== undefined && limit > 0 && m.checkBeforeUpdate && o.update) {
    // v1's kernel refuses a limit below the usage; v2's would OOM-kill instead.
    const usage = readNum(dir, 'memory.current');
    if (usage !== undefined && usage > limit) throw new CorralError(`${F}/limit: the new limit ${limit} is below the current usage ${usage} of ${dir} (checkBeforeUpdate)`);
  }
  if (isSet(m.swap)) {
    let withLimit = limit;
    if (withLimit === undefined) {
      const cur = readNum(dir, 'memory.max');
      withLimit = cur === undefined || cur === Infinity ? undefined : cur;
    }
    // The swap limit goes first when memory.max shrinks: neither file bounds the other on v2.
    const swap = swapToV2(m.swap, withLimit, `${F}/swap`);
    writeCg(dir, 'memory.swap.max', swap, `${F}/swap`, ' (is swap accounting on?)');
  } else if (limit === -1 && hasFile(dir, 'memory.swap.max')) {
    writeCg(dir, 'memory.swap.max', 'max', `${F}/swap`);
  }
  if (limit !== undefined) writeCg(dir, 'memory.max', maxOr(limit), `${F}/limit`);
  if (isSet(m.reservation)) writeCg(dir, 'memory.low', maxOr(m.reservation), `${F}/reservation`);
  if (isSet(m.kernel)) (o.warn ?? logWarn)(`${F}/kernel: kernel memory limits do not exist on cgroup v2 (kernel memory is always accounted in memory.max), ignored`);
  if (isSet(m.kernelTCP)) throw v2Only(`${F}/kernelTCP`, 'memory.kmem.tcp.limit_in_bytes');
  if (defined(m.swappiness) && m.swappiness !== -1) throw v2Only(`${F}/swappiness`, 'memory.swappiness');
  if (m.disableOOMKiller) throw v2Only(`${F}/disableOOMKiller`, 'memory.oom_control');
  if (m.useHierarchy === false) throw new CorralError(`${F}/useHierarchy: cgroup v2 is always hierarchical`);
}

export function cpuV2(dir: string, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  const F = `${R}/cpu`;
  if (isSet(c.shares)) {
    if (c.shares < 2 || c.shares > 262144) throw new CorralError(`${F}/shares: ${c.shares} is out of range (2 to 262144)`);
    writeCg(dir, 'cpu.weight', sharesToWeight(c.shares), `${F}/shares`);
  }
  if (isSet(c.realtimePeriod)) throw v2Only(`${F}/realtimePeriod`, 'cpu.rt_period_us');
  if (isSet(c.realtimeRuntime)) throw v2Only(`${F}/realtimeRuntime`, 'cpu.rt_runtime_us');
  if (isSet(c.quota) && defined(c.burst) && c.quota > 0 && c.burst > c.quota) throw new CorralError(`${F}/burst: ${c.burst} is larger than the quota ${c.quota}`);
  const setMax = () => {
    if (!isSet(c.quota) && !isSet(c.period)) return;
    // cpu.max is "quota period": keep what is not given.
    const [curQuota, curPeriod] = (readCg(dir, 'cpu.max') ?? 'max 100000').split(/\s+/);
    const quota = isSet(c.quota) ? (c.quota > 0 ? c.quota : 'max') : curQuota;
    const period = isSet(c.period) ? c.period : curPeriod || 100000;
    writeCg(dir, 'cpu.max', `${quota} ${period}`, `${F}/${isSet(c.quota) ? 'quota' : 'period'}`);
  };
  const setBurst = () => defined(c.burst) && writeCg(dir, 'cpu.max.burst', c.burst, `${F}/burst`, ' (it must not exceed the quota)');
  if (isSet(c.quota) && c.quota > 0 && c.quota < (readNum(dir, 'cpu.max.burst') ?? 0)) {
    setBurst();
    setMax();
  } else {
    setMax();
    setBurst();
  }
  if (defined(c.idle)) writeCg(dir, 'cpu.idle', c.idle, `${F}/idle`);
}

function cpusetV2(dir: string, r: Resources): void {
  if (r.cpu?.cpus) writeCg(dir, 'cpuset.cpus', r.cpu.cpus, `${R}/cpu/cpus`);
  if (r.cpu?.mems) writeCg(dir, 'cpuset.mems', r.cpu.mems, `${R}/cpu/mems`);
}

function ioV2(dir: string, r: Resources): void {
  const b = blockIO(r);
  if (!b) return;
  const F = `${R}/blockIO`;
  // With bfq the weight keeps its v1 scale; io.weight takes the converted one.
  const bfq = hasFile(dir, 'io.bfq.weight');
  const weight = (w: number) => (bfq ? w : blkioWeightToIoWeight(w));
  const wfile = bfq ? 'io.bfq.weight' : 'io.weight';
  if (isSet(b.weight)) {
    if (b.weight < 10 || b.weight > 1000) throw new CorralError(`${F}/weight: ${b.weight} is out of range (10 to 1000)`);
    writeCg(dir, wfile, weight(b.weight), `${F}/weight`);
  }
  if (isSet(b.leafWeight)) throw v2Only(`${F}/leafWeight`, 'blkio.leaf_weight');
  (b.weightDevice ?? []).forEach((d, i) => {
    if (defined(d.weight)) writeCg(dir, wfile, `${d.major}:${d.minor} ${weight(d.weight)}`, `${F}/weightDevice/${i}/weight`);
    if (defined(d.leafWeight)) throw v2Only(`${F}/weightDevice/${i}/leafWeight`, 'blkio.leaf_weight_device');
  });
  for (const [key, , v2key] of THROTTLES) {
    (b[key] ?? []).forEach((d, i) =>
      writeCg(dir, 'io.max', `${d.major}:${d.minor} ${v2key}=${d.rate > 0 ? d.rate : 'max'}`, `${F}/${key}/${i}`, ' (is there such a block device?)'),
    );
  }
}

/** The controller a unified key belongs to ("memory.high" → memory; "cgroup.*" is the core). */
export function keyController(key: string): string {
  return key.split('.')[0];
}

function unifiedV2(dir: string, controllers: string[], r: Resources, o: V2Options): void {
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const F = `${R}/unified/${key}`;
    if (!/^[a-z_]+\.[\w.-]+$/.test(key) || key.includes('..')) throw new CorralError(`${F}: not a cgroup file name`);
    const c = keyController(key);
    if (c !== 'cgroup' && !controllers.includes(c)) {
      if (o.v1Controllers?.includes(c))
        throw new CorralError(
          `${F}: the ${c} controller is on a cgroup v1 hierarchy on this (hybrid) host, not on the unified one; set it through the v1 fields of linux.resources`,
        );
      throw new CorralError(`${F}: the ${c} controller is not available in the unified hierarchy of this host`);
    }
    writeCg(dir, key, value, F);
  }
}
