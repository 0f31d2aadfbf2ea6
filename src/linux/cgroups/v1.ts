// linux.resources on cgroup v1 controller files.
import type { Resources } from '../../spec/types';
import { effectiveRules, ruleText } from './devices';
import { writeCg } from './write';

export function applyV1(dir: string, controllers: string[], r: Resources): void {
  const has = (c: string) => controllers.includes(c);
  const R = '/linux/resources';
  if (has('devices')) {
    writeCg(dir, 'devices.deny', 'a', `${R}/devices`);
    effectiveRules(r.devices).forEach((rule, i) => {
      const file = rule.allow ? 'devices.allow' : 'devices.deny';
      writeCg(dir, file, ruleText(rule), `${R}/devices/${i}`);
    });
  }
  const m = r.memory;
  if (m && has('memory')) {
    const F = `${R}/memory`;
    if (m.reservation !== undefined) writeCg(dir, 'memory.soft_limit_in_bytes', m.reservation, `${F}/reservation`);
    // memsw must never be below the limit: order the two writes so neither step violates that.
    if (m.limit !== undefined && m.swap !== undefined && m.swap !== 0) {
      writeCg(dir, 'memory.limit_in_bytes', m.limit, `${F}/limit`);
      writeCg(dir, 'memory.memsw.limit_in_bytes', m.swap, `${F}/swap`);
    } else if (m.limit !== undefined) {
      writeCg(dir, 'memory.limit_in_bytes', m.limit, `${F}/limit`);
    }
    if (m.kernel !== undefined) writeCg(dir, 'memory.kmem.limit_in_bytes', m.kernel, `${F}/kernel`);
    if (m.kernelTCP !== undefined) writeCg(dir, 'memory.kmem.tcp.limit_in_bytes', m.kernelTCP, `${F}/kernelTCP`);
    if (m.swappiness !== undefined && m.swappiness !== null) writeCg(dir, 'memory.swappiness', m.swappiness, `${F}/swappiness`);
    if (m.disableOOMKiller) writeCg(dir, 'memory.oom_control', 1, `${F}/disableOOMKiller`);
    if (m.useHierarchy !== undefined) writeCg(dir, 'memory.use_hierarchy', m.useHierarchy ? 1 : 0, `${F}/useHierarchy`);
  }
  const c = r.cpu;
  if (c && (has('cpu') || has('cpuset'))) {
    const F = `${R}/cpu`;
    if (has('cpu')) {
      if (c.shares) writeCg(dir, 'cpu.shares', c.shares, `${F}/shares`);
      if (c.period) writeCg(dir, 'cpu.cfs_period_us', c.period, `${F}/period`);
      if (c.quota) writeCg(dir, 'cpu.cfs_quota_us', c.quota, `${F}/quota`);
      if (c.burst !== undefined) writeCg(dir, 'cpu.cfs_burst_us', c.burst, `${F}/burst`);
      if (c.realtimePeriod) writeCg(dir, 'cpu.rt_period_us', c.realtimePeriod, `${F}/realtimePeriod`);
      if (c.realtimeRuntime) writeCg(dir, 'cpu.rt_runtime_us', c.realtimeRuntime, `${F}/realtimeRuntime`);
      if (c.idle !== undefined) writeCg(dir, 'cpu.idle', c.idle, `${F}/idle`);
    }
    if (has('cpuset')) {
      if (c.cpus) writeCg(dir, 'cpuset.cpus', c.cpus, `${F}/cpus`);
      if (c.mems) writeCg(dir, 'cpuset.mems', c.mems, `${F}/mems`);
    }
  }
  if (r.pids?.limit !== undefined && has('pids'))
    writeCg(dir, 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max', `${R}/pids/limit`);
}
