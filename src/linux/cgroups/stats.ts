// A container's resource usage in runc's `events --stats` format (runc's types.Stats):
// cpu, cpuset, memory, pids, blkio, hugetlb, read from whichever hierarchy owns each
// controller. Counters are uint64 in runc: values above 2^53 stay exact as bigints.
import { readdirSync } from 'node:fs';
import type { CgroupRecord } from './types';
import { parseCpuList } from './convert';
import type { Layout } from './layout';
import { readCg } from './write';

type Num = number | bigint;
type Obj = Record<string, unknown>;

const MAX_UINT64 = 18446744073709551615n;
const USER_HZ_NS = 10_000_000n; // cpuacct.stat counts in USER_HZ (100) ticks

function num(s: string | undefined): Num | undefined {
  if (s === undefined) return undefined;
  s = s.trim();
  if (s === 'max') return MAX_UINT64;
  if (!/^-?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : BigInt(s);
}

function file(dir: string, f: string): Num | undefined {
  return num(readCg(dir, f));
}

function keyed(dir: string, f: string): Record<string, Num> {
  const out: Record<string, Num> = {};
  for (const line of (readCg(dir, f) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    const n = num(v);
    if (k && n !== undefined) out[k] = n;
  }
  return out;
}

const isZero = (v: unknown) => v === undefined || v === 0 || v === 0n || (Array.isArray(v) && v.length === 0);

/** Go's omitempty for the keys listed: zero numbers and empty lists are left out. */
function omit(o: Obj, keys: string[]): Obj {
  for (const k of keys) if (isZero(o[k])) delete o[k];
  return o;
}

function times(v: Num | undefined, by: bigint): Num | undefined {
  if (v === undefined) return undefined;
  const r = BigInt(v) * by;
  return r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r;
}

function sum(a: Num | undefined, b: Num | undefined): Num | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a === MAX_UINT64 || b === MAX_UINT64) return MAX_UINT64;
  const r = BigInt(a) + BigInt(b);
  return r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r;
}

function memoryEntry(limit: Num | undefined, usage: Num | undefined, max: Num | undefined, failcnt: Num | undefined): Obj {
  return omit({ limit: limit ?? 0, usage, max, failcnt: failcnt ?? 0 }, ['usage', 'max']);
}

/** "8:0 Read 4096" lines (v1 blkio) as runc's entries. */
function blkioEntries(dir: string, f: string): Obj[] {
  const out: Obj[] = [];
  for (const line of (readCg(dir, f) ?? '').split('\n')) {
    const [dev, op, v] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m || v === undefined) continue;
    out.push(omit({ major: Number(m[1]), minor: Number(m[2]), op, value: num(v) }, ['major', 'minor', 'op', 'value']));
  }
  return out;
}

/** io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...") as runc reports it on v2. */
function ioStat(dir: string): Obj {
  const bytes: Obj[] = [];
  const ios: Obj[] = [];
  for (const line of (readCg(dir, 'io.stat') ?? '').split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const v = Object.fromEntries(kv.map((p) => p.split('=')).map(([k, x]) => [k, num(x)]));
    const entry = (op: string, value: Num | undefined) => omit({ major: Number(m[1]), minor: Number(m[2]), op, value }, ['major', 'minor', 'value']);
    bytes.push(entry('Read', v.rbytes), entry('Write', v.wbytes));
    ios.push(entry('Read', v.rios), entry('Write', v.wios));
  }
  return omit({ ioServiceBytesRecursive: bytes, ioServicedRecursive: ios }, ['ioServiceBytesRecursive', 'ioServicedRecursive']);
}

function hugetlbSizes(dir: string, suffix: string): string[] {
  try {
    return readdirSync(dir)
      .map((f) => new RegExp(`^hugetlb\\.(\\w+)\\.${suffix}$`).exec(f)?.[1])
      .filter((s): s is string => !!s);
  } catch {
    return [];
  }
}

function cpuV1(cpuacct: string | undefined, cpu: string | undefined): Obj {
  const usage: Obj = { kernel: 0, user: 0 };
  if (cpuacct) {
    usage.total = file(cpuacct, 'cpuacct.usage');
    const list = (f: string) =>
      (readCg(cpuacct, f) ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((x) => num(x) ?? 0);
    usage.percpu = list('cpuacct.usage_percpu');
    usage.percpu_kernel = list('cpuacct.usage_percpu_sys');
    usage.percpu_user = list('cpuacct.usage_percpu_user');
    const st = keyed(cpuacct, 'cpuacct.stat');
    usage.kernel = times(st.system, USER_HZ_NS) ?? 0;
    usage.user = times(st.user, USER_HZ_NS) ?? 0;
  }
  const t = cpu ? keyed(cpu, 'cpu.stat') : {};
  const throttling = omit({ periods: t.nr_periods, throttledPeriods: t.nr_throttled, throttledTime: t.throttled_time }, ['periods', 'throttledPeriods', 'throttledTime']);
  return {
    usage: omit({ total: usage.total, percpu: usage.percpu, percpu_kernel: usage.percpu_kernel, percpu_user: usage.percpu_user, kernel: usage.kernel, user: usage.user }, [
      'total',
      'percpu',
      'percpu_kernel',
      'percpu_user',
    ]),
    throttling,
  };
}

function cpuV2(dir: string): Obj {
  const st = keyed(dir, 'cpu.stat');
  const us = 1000n;
  return {
    usage: omit({ total: times(st.usage_usec, us), kernel: times(st.system_usec, us) ?? 0, user: times(st.user_usec, us) ?? 0 }, ['total']),
    throttling: omit({ periods: st.nr_periods, throttledPeriods: st.nr_throttled, throttledTime: times(st.throttled_usec, us) }, ['periods', 'throttledPeriods', 'throttledTime']),
  };
}

function cpusetV1(dir: string): Obj {
  const n = (f: string) => file(dir, `cpuset.${f}`) ?? 0;
  return omit(
    {
      cpus: parseCpuList(readCg(dir, 'cpuset.effective_cpus') ?? readCg(dir, 'cpuset.cpus') ?? ''),
      cpu_exclusive: n('cpu_exclusive'),
      mems: parseCpuList(readCg(dir, 'cpuset.effective_mems') ?? readCg(dir, 'cpuset.mems') ?? ''),
      mem_hardwall: n('mem_hardwall'),
      mem_exclusive: n('mem_exclusive'),
      memory_migrate: n('memory_migrate'),
      memory_spread_page: n('memory_spread_page'),
      memory_spread_slab: n('memory_spread_slab'),
      memory_pressure: n('memory_pressure'),
      sched_load_balance: n('sched_load_balance'),
      sched_relax_domain_level: n('sched_relax_domain_level'),
    },
    ['cpus', 'mems'],
  );
}

function memoryV1(dir: string): Obj {
  const e = (p: string) => memoryEntry(file(dir, `${p}limit_in_bytes`), file(dir, `${p}usage_in_bytes`), file(dir, `${p}max_usage_in_bytes`), file(dir, `${p}failcnt`));
  const raw = keyed(dir, 'memory.stat');
  return omit(
    {
      cache: raw.cache,
      usage: e('memory.'),
      swap: e('memory.memsw.'),
      kernel: e('memory.kmem.'),
      kernelTCP: e('memory.kmem.tcp.'),
      raw,
    },
    ['cache', 'raw'],
  );
}

function memoryV2(dir: string): Obj {
  const raw = keyed(dir, 'memory.stat');
  const events = keyed(dir, 'memory.events');
  const current = file(dir, 'memory.current');
  const limit = file(dir, 'memory.max');
  // v1's memsw is memory + swap: so is runc's swap entry on v2.
  const swap = memoryEntry(sum(limit, file(dir, 'memory.swap.max')), sum(current, file(dir, 'memory.swap.current')), undefined, events.max);
  return omit(
    {
      cache: raw.file,
      usage: memoryEntry(limit, current, file(dir, 'memory.peak'), events.max),
      swap,
      kernel: memoryEntry(0, raw.kernel, undefined, 0),
      kernelTCP: memoryEntry(0, raw.sock, undefined, 0),
      raw,
    },
    ['cache', 'raw'],
  );
}

function pids(dir: string): Obj {
  const limit = file(dir, 'pids.max');
  return omit({ current: file(dir, 'pids.current'), limit: limit === MAX_UINT64 ? 0 : limit }, ['current', 'limit']);
}

function hugetlbV1(dir: string): Obj {
  const out: Obj = {};
  for (const s of hugetlbSizes(dir, 'limit_in_bytes')) {
    out[s] = omit({ usage: file(dir, `hugetlb.${s}.usage_in_bytes`), max: file(dir, `hugetlb.${s}.max_usage_in_bytes`), failcnt: file(dir, `hugetlb.${s}.failcnt`) ?? 0 }, [
      'usage',
      'max',
    ]);
  }
  return out;
}

function hugetlbV2(dir: string): Obj {
  const out: Obj = {};
  for (const s of hugetlbSizes(dir, 'max')) {
    out[s] = omit({ usage: file(dir, `hugetlb.${s}.current`), failcnt: keyed(dir, `hugetlb.${s}.events`).max ?? 0 }, ['usage']);
  }
  return out;
}

/** The stats of the container whose cgroups rec records, on the host layout given. */
export function collectStats(layout: Layout, rec: CgroupRecord): Obj {
  const s: Obj = { cpu: { usage: { kernel: 0, user: 0 }, throttling: {} }, memory: {}, pids: {}, blkio: {}, hugetlb: {} };
  const dirFor = (version: 1 | 2, c: string) => {
    const i = layout.hierarchies.findIndex((h) => h.version === version && h.controllers.includes(c));
    return i >= 0 ? rec.paths[i] : undefined;
  };
  const v2i = layout.hierarchies.findIndex((h) => h.version === 2);
  const v2 = v2i >= 0 ? rec.paths[v2i] : undefined;
  const v2has = (c: string) => v2 !== undefined && layout.hierarchies[v2i].controllers.includes(c);
  if (dirFor(1, 'cpuacct') || dirFor(1, 'cpu')) s.cpu = cpuV1(dirFor(1, 'cpuacct'), dirFor(1, 'cpu'));
  else if (v2 && layout.mode === 'v2') s.cpu = cpuV2(v2); // cpu.stat is a core file on v2
  const cpuset = dirFor(1, 'cpuset');
  if (cpuset) s.cpuset = cpusetV1(cpuset);
  const mem = dirFor(1, 'memory');
  if (mem) s.memory = memoryV1(mem);
  else if (v2has('memory')) s.memory = memoryV2(v2!);
  const p = dirFor(1, 'pids') ?? (v2has('pids') ? v2 : undefined);
  if (p) s.pids = pids(p);
  const blkio = dirFor(1, 'blkio');
  if (blkio) {
    // CFQ's own counters where the kernel still has them, else the throttle layer's.
    const cfq = readCg(blkio, 'blkio.io_service_bytes_recursive') !== undefined;
    const pre = cfq ? 'blkio.' : 'blkio.throttle.';
    s.blkio = omit({ ioServiceBytesRecursive: blkioEntries(blkio, `${pre}io_service_bytes_recursive`), ioServicedRecursive: blkioEntries(blkio, `${pre}io_serviced_recursive`) }, [
      'ioServiceBytesRecursive',
      'ioServicedRecursive',
    ]);
  } else if (v2has('io')) s.blkio = ioStat(v2!);
  const huge = dirFor(1, 'hugetlb');
  if (huge) s.hugetlb = hugetlbV1(huge);
  else if (v2has('hugetlb')) s.hugetlb = hugetlbV2(v2!);
  s.intel_rdt = {};
  s.network_interfaces = null;
  return s;
}

/** JSON with bigints written as plain numbers, as Go writes uint64. */
export function toJson(v: unknown): string {
  const marks: string[] = [];
  const text = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `\u0000big${marks.push(x.toString()) - 1}\u0000` : x));
  return text.replace(/"\\u0000big(\d+)\\u0000"/g, (_m, i: string) => marks[Number(i)]);
}
