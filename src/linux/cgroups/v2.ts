// linux.resources on the unified (cgroup2) hierarchy.
import type { Resources } from '../../spec/types';
import { writeCg } from './write';

export function applyV2(dir: string, controllers: string[], r: Resources, hybrid: boolean): void {
  const has = (c: string) => controllers.includes(c);
  const R = '/linux/resources';
  // On a hybrid host the v1 hierarchies carry everything but what only v2 has.
  if (!hybrid) {
    const m = r.memory;
    if (m && has('memory')) {
      if (m.limit !== undefined) writeCg(dir, 'memory.max', m.limit > 0 ? m.limit : 'max', `${R}/memory/limit`);
      if (m.reservation !== undefined) writeCg(dir, 'memory.low', m.reservation, `${R}/memory/reservation`);
      if (m.swap !== undefined && m.limit !== undefined && m.swap > 0)
        writeCg(dir, 'memory.swap.max', m.swap - m.limit, `${R}/memory/swap`);
    }
    if (r.pids?.limit !== undefined && has('pids'))
      writeCg(dir, 'pids.max', r.pids.limit > 0 ? r.pids.limit : 'max', `${R}/pids/limit`);
    const c = r.cpu;
    if (c && has('cpu')) {
      if (c.shares) writeCg(dir, 'cpu.weight', 1 + Math.floor(((c.shares - 2) * 9999) / 262142), `${R}/cpu/shares`);
      if (c.quota || c.period) writeCg(dir, 'cpu.max', `${c.quota && c.quota > 0 ? c.quota : 'max'} ${c.period ?? 100000}`, `${R}/cpu/quota`);
    }
    if (c && has('cpuset')) {
      if (c.cpus) writeCg(dir, 'cpuset.cpus', c.cpus, `${R}/cpu/cpus`);
      if (c.mems) writeCg(dir, 'cpuset.mems', c.mems, `${R}/cpu/mems`);
    }
  }
  for (const [key, value] of Object.entries(r.unified ?? {})) writeCg(dir, key, value, `${R}/unified/${key}`);
}
