// Resource control on real containers: values in the right cgroup files (v1, and the
// unified side of this hybrid host), OOM kills and `events`, pids.limit against a fork
// loop, pause/resume, update, ps, kill --all, and nothing left behind after delete.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostLayout } from '../../src/linux/cgroups/layout';
import { blkioWeightFile, blockDevice, cgroupFile, hasCommand, hasSwap, hierarchyOf, hugePageSizes, pageBytes, requires } from '../lib/host';
import { CORRAL, ROOT, baseConfig, bundle, cleanup, corral, eventsOf, leftovers, messages, scratch, sleep, state, stateRoot } from '../lib/corral';

const root = stateRoot();
const ids: string[] = [];
const id = (name: string) => (ids.push(`${name}-${process.pid}`), `${name}-${process.pid}`);
t.teardown(() => cleanup(root, ids));

const CG = '/sys/fs/cgroup';
const read = (path: string) => readFileSync(path, 'utf8').trim();
const cg = (ctrl: string, path: string, file: string) => read(join(CG, ctrl, path, file));
type Rec = { cgroups: { paths: string[]; created: string[]; resources?: Record<string, unknown> } };
const record = (c: string) => JSON.parse(readFileSync(join(root, c, 'state.json'), 'utf8')) as Rec;
const procState = (pid: number) => {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
};

function until(cond: () => boolean, what: string, ms = 10_000): void {
  for (let waited = 0; !cond(); waited += 20) {
    if (waited > ms) throw new Error(`gave up waiting for ${what}`);
    sleep(20);
  }
}

function stopped(c: string): boolean {
  return state(root, c).status === 'stopped';
}

// What this host has (test/lib/host.ts); each dependent assertion follows it.
const HYBRID = requires([hostLayout().mode === 'hybrid', 'a hybrid cgroup layout (v1 controllers, cgroup2 at /sys/fs/cgroup/unified; cgroups-v2.test.ts covers v2)']);
const at = (ctrl: string) => hierarchyOf(ctrl)?.mount ?? join(CG, ctrl);
const cgf = (ctrl: string, path: string, file: string) => read(join(at(ctrl), path, file));
const MEMSW = cgroupFile('memory', 'memory.memsw.limit_in_bytes');
const NO_MEMSW = 'swap accounting (memory.memsw.*; boot with swapaccount=1)';
const SIZES = hugePageSizes();
const HUGETLB = hierarchyOf('hugetlb');
/** hugetlb's limit file for a page size, where this host keeps the controller (v1, or the unified side). */
const hugeFile = (size: string) => `hugetlb.${size}.${HUGETLB?.version === 1 ? 'limit_in_bytes' : 'max'}`;
const DEV = blockDevice();

type Res = Record<string, any>;
/**
 * Fields that depend on the host: where it has the file, the value lands there (read
 * back as `lands` says); where it lacks it, create fails naming the field and the file
 * (`refused`), as it must on such a host.
 */
interface Optional {
  fact: string;
  has: boolean;
  resources: Res;
  lands: [string, string, string | RegExp][];
  refused: RegExp;
}
const missingFile = (field: string, file: string, value: string) =>
  new RegExp(`/linux/resources/${field}: cannot set \\S+/${file.replace(/\./g, '\\.')} to "${value}": not supported by this host \\(no such file\\)`);
const OPTIONAL: Optional[] = [
  {
    fact: NO_MEMSW,
    has: MEMSW,
    resources: { memory: { swap: 60000000 } },
    lands: [['memory', 'memory.memsw.limit_in_bytes', '59998208']],
    refused: /\/linux\/resources\/memory\/swap: cannot set \S+\/memory\.memsw\.limit_in_bytes to "60000000": not supported by this host \(no such file\) \(swap accounting is off/,
  },
  {
    fact: 'memory.kmem.tcp.limit_in_bytes',
    has: cgroupFile('memory', 'memory.kmem.tcp.limit_in_bytes'),
    resources: { memory: { kernelTCP: 20000000 } },
    lands: [['memory', 'memory.kmem.tcp.limit_in_bytes', '19996672']],
    refused: missingFile('memory/kernelTCP', 'memory.kmem.tcp.limit_in_bytes', '20000000'),
  },
  {
    fact: 'CFS bandwidth control (cpu.cfs_quota_us)',
    has: cgroupFile('cpu', 'cpu.cfs_quota_us'),
    resources: { cpu: { quota: 50000, period: 200000 } },
    lands: [
      ['cpu', 'cpu.cfs_quota_us', '50000'],
      ['cpu', 'cpu.cfs_period_us', '200000'],
    ],
    refused: missingFile('cpu/period', 'cpu.cfs_period_us', '200000'),
  },
  {
    fact: 'cpu.cfs_burst_us (Linux 5.14)',
    has: cgroupFile('cpu', 'cpu.cfs_burst_us'),
    resources: { cpu: { burst: 10000 } },
    lands: [['cpu', 'cpu.cfs_burst_us', '10000']],
    refused: missingFile('cpu/burst', 'cpu.cfs_burst_us', '10000'),
  },
  {
    fact: 'cpu.idle (Linux 5.15)',
    has: cgroupFile('cpu', 'cpu.idle'),
    resources: { cpu: { idle: 0 } },
    lands: [['cpu', 'cpu.idle', '0']],
    refused: missingFile('cpu/idle', 'cpu.idle', '0'),
  },
  {
    fact: 'real-time group scheduling (cpu.rt_runtime_us, CONFIG_RT_GROUP_SCHED)',
    has: cgroupFile('cpu', 'cpu.rt_runtime_us'),
    resources: { cpu: { realtimePeriod: 1000000, realtimeRuntime: 10000 } },
    lands: [
      ['cpu', 'cpu.rt_period_us', '1000000'],
      ['cpu', 'cpu.rt_runtime_us', '10000'],
    ],
    refused: missingFile('cpu/realtimePeriod', 'cpu.rt_period_us', '1000000'),
  },
  {
    fact: 'a blkio weight file (blkio.weight with CFQ, blkio.bfq.weight with BFQ)',
    has: !!blkioWeightFile(),
    resources: { blockIO: { weight: 300 } },
    lands: [['blkio', blkioWeightFile() ?? '', '300']],
    refused: missingFile('blockIO/weight', 'blkio.weight', '300'),
  },
  {
    fact: 'blkio.leaf_weight (CFQ, gone since Linux 5.0)',
    has: cgroupFile('blkio', 'blkio.leaf_weight'),
    resources: { blockIO: { leafWeight: 300 } },
    lands: [['blkio', 'blkio.leaf_weight', '300']],
    refused: /\/linux\/resources\/blockIO\/leafWeight: cannot set \S+\/blkio\.leaf_weight to "300": not supported by this host \(no such file\) \(leaf weights went with the CFQ/,
  },
  {
    fact: 'the net_cls controller',
    has: !!hierarchyOf('net_cls'),
    resources: { network: { classID: 1048577 } },
    lands: [['net_cls', 'net_cls.classid', '1048577']],
    refused: /\/linux\/resources\/network\/classID: the net_cls cgroup controller is not available on this host \(it is not mounted\), so net_cls\.classid cannot be set/,
  },
  {
    fact: 'the net_prio controller',
    has: !!hierarchyOf('net_prio'),
    resources: { network: { priorities: [{ name: 'lo', priority: 1 }] } },
    lands: [['net_prio', 'net_prio.ifpriomap', /^lo 1$/m]],
    refused: /\/linux\/resources\/network\/priorities: the net_prio cgroup controller is not available/,
  },
];
if (DEV) {
  OPTIONAL.push({
    fact: 'blkio throttling (CONFIG_BLK_DEV_THROTTLING)',
    has: cgroupFile('blkio', 'blkio.throttle.read_bps_device'),
    resources: {
      blockIO: {
        throttleReadBpsDevice: [{ major: +DEV.split(':')[0], minor: +DEV.split(':')[1], rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: +DEV.split(':')[0], minor: +DEV.split(':')[1], rate: 100 }],
      },
    },
    lands: [
      ['blkio', 'blkio.throttle.read_bps_device', `${DEV} 1048576`],
      ['blkio', 'blkio.throttle.write_iops_device', `${DEV} 100`],
    ],
    refused: missingFile('blockIO/throttleReadBpsDevice/0', 'blkio.throttle.read_bps_device', `${DEV} 1048576`),
  });
}

/** a and b merged one level down (memory: {...} with memory: {...}; arrays are b's). */
const merge = (a: Res, b: Res): Res =>
  Object.fromEntries([...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [k, Array.isArray(a[k] ?? b[k]) ? (b[k] ?? a[k]) : { ...a[k], ...b[k] }]));

t.test('every v1 field lands in its file, hugetlb where the host keeps it; the record keeps them', { skip: HYBRID }, async (t) => {
  const c = id('values');
  const path = `/corral-test-${process.pid}/values`;
  let resources: Res = {
    memory: { limit: 50593792, reservation: 40000000, kernel: 50593792, swappiness: 10, disableOOMKiller: true },
    cpu: { shares: 512, cpus: '0', mems: '0' },
    pids: { limit: 77 },
    // Every huge page size the host has (2MB only, or 2MB and 1GB, ...).
    ...(SIZES.length && HUGETLB ? { hugepageLimits: SIZES.map((size) => ({ pageSize: size, limit: 2 * pageBytes(size) })) } : {}),
  };
  const present = OPTIONAL.filter((o) => o.has);
  for (const o of present) resources = merge(resources, o.resources);
  for (const o of OPTIONAL.filter((o) => !o.has)) t.comment(`not on this host: ${o.fact} (its refusal is checked below)`);
  const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
    cfg.linux.cgroupsPath = path;
    cfg.linux.resources = resources;
  });
  const r = corral(root, ['create', '--bundle', b, c]);
  t.equal(r.status, 0, r.stderr);
  // Linux 6.x accepts a kernel memory limit and ignores it, or has no file for it: a warning
  // either way; an older kernel keeps it.
  const kmem = cgroupFile('memory', 'memory.kmem.limit_in_bytes') ? cgf('memory', path, 'memory.kmem.limit_in_bytes') : undefined;
  if (kmem === '50593792') t.notMatch(messages(r.stderr), /memory\/kernel/, 'kernel memory: this kernel keeps the limit, no warning');
  else
    t.match(
      messages(r.stderr),
      kmem === undefined
        ? /\/linux\/resources\/memory\/kernel: cannot set \S+\/memory\.kmem\.limit_in_bytes .*kernel memory limits are deprecated, ignored/
        : /\/linux\/resources\/memory\/kernel: this kernel ignores kernel memory limits .*memory\.kmem\.limit_in_bytes/,
      'kernel memory: a warning, as Linux 6.x ignores the limit',
    );
  t.equal(cgf('memory', path, 'memory.limit_in_bytes'), '50593792');
  t.equal(cgf('memory', path, 'memory.soft_limit_in_bytes'), '39997440', 'rounded down to pages by the kernel');
  t.equal(cgf('memory', path, 'memory.swappiness'), '10');
  t.match(cgf('memory', path, 'memory.oom_control'), /^oom_kill_disable 1$/m);
  t.equal(cgf('cpu', path, 'cpu.shares'), '512');
  t.equal(cgf('cpuset', path, 'cpuset.cpus'), '0');
  t.equal(cgf('cpuset', path, 'cpuset.mems'), '0');
  t.equal(cgf('pids', path, 'pids.max'), '77');
  for (const o of present) {
    for (const [ctrl, file, want] of o.lands) {
      if (typeof want === 'string') t.equal(cgf(ctrl, path, file), want, `${ctrl}/${file} (${o.fact})`);
      else t.match(cgf(ctrl, path, file), want, `${ctrl}/${file} (${o.fact})`);
    }
  }
  if (present.some((o) => o.lands.some(([, f]) => f === 'cpu.rt_runtime_us')))
    t.equal(cgf('cpu', `/corral-test-${process.pid}`, 'cpu.rt_runtime_us'), '10000', 'the parent corral made got the real-time budget');
  if (!SIZES.length || !HUGETLB) {
    t.skip(`hugetlb: ${requires([!!SIZES.length, 'huge pages (/sys/kernel/mm/hugepages)'], [!!HUGETLB, 'the hugetlb cgroup controller'])}`, () => {});
  } else {
    for (const size of SIZES)
      t.equal(cgf('hugetlb', path, hugeFile(size)), String(2 * pageBytes(size)), `hugetlb ${size} on the ${HUGETLB.version === 1 ? 'v1' : 'cgroup2'} side, as this host keeps it`);
    if (HUGETLB.version === 2) t.match(read(join(HUGETLB.mount, 'cgroup.subtree_control')), /\bhugetlb\b/, 'enabled down from the root');
  }
  const pid = state(root, c).pid as number;
  for (const h of ['memory', 'cpu', 'pids', 'unified']) t.match(read(join(at(h), path, 'cgroup.procs')), new RegExp(`^${pid}$`, 'm'), `the init is in the ${h} cgroup`);
  t.same(record(c).cgroups.resources, JSON.parse(JSON.stringify(resources)), 'the record keeps the resources');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
  t.equal(existsSync(join(at('memory'), `/corral-test-${process.pid}`)), false, 'the parent corral made is gone too');
});

t.test('what this host cannot honour fails, naming the field and the file, and leaves nothing', { skip: HYBRID }, async (t) => {
  const cases: [Res, RegExp][] = [
    ...OPTIONAL.filter((o) => !o.has).map((o): [Res, RegExp] => [o.resources, o.refused]),
    [
      { hugepageLimits: [{ pageSize: '3MB', limit: 3145728 }] },
      !HUGETLB
        ? /\/linux\/resources\/hugepageLimits\S*: the hugetlb cgroup controller is not available on this host/
        : new RegExp(
            `/linux/resources/hugepageLimits/0/pageSize: "3MB" is not a huge page size of this host \\(no ${HUGETLB?.mount ?? ''}/\\S*${hugeFile('3MB').replace(/\./g, '\\.')}; sizes: ${SIZES.join(', ') || 'none'}\\)`,
          ),
    ],
    [
      { memory: { useHierarchy: false } },
      /\/linux\/resources\/memory\/useHierarchy: cannot set .*memory\.use_hierarchy to "0": invalid argument \(this kernel only does hierarchical accounting\)/,
    ],
    [{ memory: { limit: 100000000, swap: 50000000 } }, /\/linux\/resources\/memory\/swap: memory\+swap limit 50000000 is below the memory limit 100000000/],
    [{ cpu: { shares: 1 } }, /\/linux\/resources\/cpu\/shares: 1 is out of the range this kernel allows/],
    // Above any kernel's CPU limit (NR_CPUS is at most 8192).
    [{ cpu: { cpus: '99999' } }, /\/linux\/resources\/cpu\/cpus: cannot set .*cpuset\.cpus to "99999": numerical result out of range \(the parent has [0-9-,]+\)/],
    [{ unified: { 'memory.high': '1000000' } }, /\/linux\/resources\/unified\/memory\.high: the memory controller is on a cgroup v1 hierarchy on this \(hybrid\) host/],
  ];
  // With an rdma controller the made-up device is what the kernel refuses.
  cases.push([
    { rdma: { mlx5_1: { hcaHandles: 3 } } },
    hierarchyOf('rdma')
      ? /\/linux\/resources\/rdma\/mlx5_1: cannot set \S+\/rdma\.max to "mlx5_1 hca_handle=3": .*\(is there such an RDMA device\?\)/
      : /\/linux\/resources\/rdma: the rdma cgroup controller is not available on this host/,
  ]);
  cases.forEach(([resources, re], i) => {
    const c = id(`refuse${i}`);
    const b = bundle(baseConfig(['true']), (cfg) => {
      cfg.linux.cgroupsPath = `/corral-test-${process.pid}/refused`;
      cfg.linux.resources = resources;
    });
    const r = corral(root, ['create', '--bundle', b, c]);
    t.equal(r.status, 1, `refused: ${JSON.stringify(resources)}`);
    t.match(messages(r.stderr), re, 'naming the field and the file, and why');
    t.same(leftovers(root, c), []);
    t.equal(existsSync(join(at('memory'), `corral-test-${process.pid}`)), false, 'no cgroup left');
  });
});

t.test('unified keys the cgroup2 side owns are written there', { skip: HYBRID }, async (t) => {
  const c = id('unified');
  const path = `/corral-test-${process.pid}/unified`;
  // A hugetlb key when hugetlb is on the unified side: the largest size this host has.
  const size = HUGETLB?.version === 2 ? SIZES[SIZES.length - 1] : undefined;
  if (!size) t.comment(`no hugetlb key: ${HUGETLB ? 'hugetlb is on a v1 hierarchy here' : 'no hugetlb controller here'}`);
  const keys: Record<string, string> = { 'cgroup.max.descendants': '5', ...(size ? { [`hugetlb.${size}.max`]: String(pageBytes(size)) } : {}) };
  const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
    cfg.linux.cgroupsPath = path;
    cfg.linux.resources = { unified: keys };
  });
  const r = corral(root, ['create', '--bundle', b, c]);
  t.equal(r.status, 0, r.stderr);
  for (const [k, v] of Object.entries(keys)) t.equal(cgf('unified', path, k), v, k);
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
});

// Without swap accounting a memory limit alone stops a process only when there is no swap to go to.
t.test(
  'a process over its memory limit is OOM-killed and events reports it',
  { skip: HYBRID || (!MEMSW && hasSwap() && `this host has swap and lacks ${NO_MEMSW}`) },
  async (t) => {
    const c = id('oom');
    const path = `/corral-test-${process.pid}/oom`;
    const b = bundle(baseConfig(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']), (cfg) => {
      cfg.linux.cgroupsPath = path;
      cfg.linux.resources = { memory: { limit: 16777216, ...(MEMSW ? { swap: 16777216 } : {}) } };
    });
    t.equal(corral(root, ['create', '--bundle', b, c]).status, 0);
    const { lines, exited } = eventsOf(root, c, '50ms');
    // A stats line means the OOM notification is registered (it is before the first tick).
    until(() => lines().some((e) => e.type === 'stats'), 'the first stats line');
    const first = lines()[0];
    t.equal(first.id, c);
    t.has(first.data, { memory: { usage: { limit: 16777216 } }, pids: { current: 1 } }, "stats in runc's format");
    t.ok(Array.isArray((first.data!.cpu as { usage: { percpu: unknown } }).usage.percpu), 'per-cpu usage');
    t.equal(corral(root, ['start', c]).status, 0);
    until(() => stopped(c), 'the container to stop');
    t.match(cg('memory', path, 'memory.oom_control'), /^oom_kill [1-9]/m, 'the kernel OOM-killed it');
    until(() => lines().some((e) => e.type === 'oom'), 'the oom event');
    t.same(
      lines().find((e) => e.type === 'oom'),
      { type: 'oom', id: c },
    );
    t.equal(corral(root, ['delete', c]).status, 0);
    t.equal(await exited, 0, 'events ends when the container is deleted');
    t.same(leftovers(root, c), []);
  },
);

t.test('events --stats: one line; bad intervals and stopped containers are refused', { skip: HYBRID }, async (t) => {
  const c = id('stats');
  const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
    cfg.linux.resources = { pids: { limit: 50 }, ...(SIZES.length && HUGETLB ? { hugepageLimits: [{ pageSize: SIZES[0], limit: pageBytes(SIZES[0]) }] } : {}) };
  });
  t.equal(corral(root, ['run', '-d', '--bundle', b, c]).status, 0);
  const r = corral(root, ['events', '--stats', c]);
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 1);
  const e = JSON.parse(lines[0]) as { type: string; data: Record<string, Record<string, unknown>> };
  t.equal(e.type, 'stats');
  t.same(e.data.pids, { current: 1, limit: 50 });
  if (MEMSW) t.match(lines[0], /"swap":\{"limit":9223372036854771712,/, 'uint64 values stay exact');
  else t.skip(`the unlimited swap limit: this host lacks ${NO_MEMSW}`, () => {});
  if (SIZES.length && HUGETLB) t.has(e.data.hugetlb, { [SIZES[0]]: { failcnt: 0 } }, `hugetlb from the ${HUGETLB.version === 1 ? 'v1' : 'unified'} side`);
  else t.skip('hugetlb stats: this host has no huge pages or no hugetlb controller', () => {});
  const last = Number(read('/sys/fs/cgroup/cpuset/cpuset.effective_cpus').split(/[-,]/).pop());
  t.same(
    (e.data.cpuset as { cpus: number[] }).cpus,
    Array.from({ length: last + 1 }, (_, i) => i),
    'the cpus it may use',
  );
  t.match(messages(corral(root, ['events', '--interval', '0s', c]).stderr), /duration interval must be greater than 0/);
  t.match(messages(corral(root, ['events', '--interval', 'soon', c]).stderr), /invalid value "soon" for flag -interval/);
  t.equal(corral(root, ['kill', c, 'KILL']).status, 0);
  until(() => stopped(c), 'the container to stop');
  t.match(messages(corral(root, ['events', '--stats', c]).stderr), new RegExp(`container with id ${c} is not running`));
  t.equal(corral(root, ['delete', c]).status, 0);
});

t.test('a fork loop stops at pids.limit', { skip: HYBRID }, async (t) => {
  const c = id('forks');
  const path = `/corral-test-${process.pid}/forks`;
  // The inner shell forks sleeps until the kernel refuses (a failed fork ends a script),
  // then the outer one notes it is done, without forking.
  const script = 'sh -c "while :; do sleep 1000 & done"; echo done > /tmp/done; exec sleep 1000';
  const b = bundle(baseConfig(['sh', '-c', script]), (cfg) => {
    cfg.linux.cgroupsPath = path;
    cfg.linux.resources = { pids: { limit: 8 } };
  });
  t.equal(corral(root, ['run', '-d', '--bundle', b, c]).status, 0);
  const pid = state(root, c).pid as number;
  until(() => existsSync(`/proc/${pid}/root/tmp/done`), 'the loop to end');
  if (cgroupFile('pids', 'pids.peak')) t.equal(cg('pids', path, 'pids.peak'), '8', 'it reached the limit, not beyond');
  else t.skip('pids.peak: this kernel lacks it', () => {});
  t.match(cg('pids', path, 'pids.events'), /^max [1-9]/m, 'forks were refused');
  t.equal(cg('pids', path, 'pids.current'), '7', 'the init and six sleeps remain');
  t.equal(read(join(CG, 'pids', path, 'cgroup.procs')).split('\n').length, 7);
  t.equal(state(root, c).status, 'running');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
});

t.test('pids.limit 0 is a real limit: the process runs, and can fork nothing (spec 1.3, runc >= 1.4)', { skip: HYBRID }, async (t) => {
  // crun's test_limit_pid_0: a process that forks nothing runs. Before, corral wrote
  // pids.max 0 before the init was born into the cgroup, and the clone failed.
  const c = id('pids0');
  const path = `/corral-test-${process.pid}/pids0`;
  const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
    cfg.linux.cgroupsPath = path;
    cfg.linux.resources = { pids: { limit: 0 } };
  });
  const r = corral(root, ['run', '-d', '--bundle', b, c]);
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(cg('pids', path, 'pids.max'), '0');
  t.equal(state(root, c).status, 'running');
  t.same(record(c).cgroups.resources, { pids: { limit: 0 } }, 'the record keeps the limit');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
  // The shell runs, its first fork is refused.
  const f = id('pids0-fork');
  const run = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', 'echo started; (true); echo forked']), (cfg) => {
      cfg.linux.resources = { pids: { limit: 0 } };
    }),
    f,
  ]);
  t.equal(run.stdout, 'started\n');
  t.match(run.stderr, /can't fork/);
  t.not(run.status, 0);
  t.same(leftovers(root, f), []);
});

t.test('pause and resume', { skip: HYBRID }, async (t) => {
  const c = id('pause');
  const path = `/corral-test-${process.pid}/pause`;
  const b = bundle(baseConfig(['sh', '-c', 'sleep 1000 & exec sleep 1000']), (cfg) => {
    cfg.linux.cgroupsPath = path;
  });
  t.equal(corral(root, ['run', '-d', '--bundle', b, c]).status, 0);
  const pids = () =>
    read(join(CG, 'pids', path, 'cgroup.procs'))
      .split('\n')
      .map(Number);
  until(() => pids().length === 2, 'both processes');
  t.equal(corral(root, ['pause', c]).status, 0);
  t.equal(state(root, c).status, 'paused');
  t.equal(cg('freezer', path, 'freezer.state'), 'FROZEN');
  for (const p of pids()) t.equal(procState(p), 'D', `process ${p} is frozen`);
  const again = corral(root, ['pause', c]);
  t.equal(again.status, 1);
  t.match(messages(again.stderr), /container not running/);
  t.equal(corral(root, ['resume', c]).status, 0);
  t.equal(state(root, c).status, 'running');
  t.equal(cg('freezer', path, 'freezer.state'), 'THAWED');
  for (const p of pids()) t.equal(procState(p), 'S', `process ${p} runs again`);
  const notPaused = corral(root, ['resume', c]);
  t.equal(notPaused.status, 1);
  t.match(messages(notPaused.stderr), /container not paused/);
  // A paused container dies of kill --all KILL: it is thawed for that (as runc).
  t.equal(corral(root, ['pause', c]).status, 0);
  t.equal(corral(root, ['kill', '--all', c, 'KILL']).status, 0);
  until(() => stopped(c), 'the paused container to die');
  t.equal(corral(root, ['delete', c]).status, 0);
  t.same(leftovers(root, c), []);
  // A created container can be paused too, and comes back created.
  const d = id('pausecreated');
  t.equal(corral(root, ['create', '--bundle', bundle(baseConfig(['true'])), d]).status, 0);
  t.equal(corral(root, ['pause', d]).status, 0);
  t.equal(state(root, d).status, 'paused');
  t.equal(corral(root, ['resume', d]).status, 0);
  t.equal(state(root, d).status, 'created');
  const single = corral(root, ['pause', d]);
  t.equal(single.status, 0);
  t.equal(corral(root, ['kill', d, 'KILL']).status, 0, 'a SIGKILL to the init of a paused container');
  until(() => stopped(d), 'the paused init to die');
  t.equal(corral(root, ['delete', d]).status, 0);
  t.same(leftovers(root, d), []);
});

t.test('update: flags, a file, stdin; files change and the record follows', { skip: HYBRID }, async (t) => {
  const sw = (swap: number) => (MEMSW ? { swap } : {});
  const c = id('update');
  const path = `/corral-test-${process.pid}/update`;
  const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
    cfg.linux.cgroupsPath = path;
    cfg.linux.resources = { memory: { limit: 52428800, ...sw(52428800) }, pids: { limit: 10 }, cpu: { shares: 1024 } };
  });
  t.equal(corral(root, ['run', '-d', '--bundle', b, c]).status, 0);
  if (!MEMSW) t.comment(`no swap values: this host lacks ${NO_MEMSW}`);
  // Above the current memory+swap limit: the swap limit has to be raised first.
  let r = corral(root, [
    'update',
    '--memory',
    '100m',
    ...(MEMSW ? ['--memory-swap', '200m'] : []),
    '--pids-limit',
    '20',
    '--cpu-share',
    '256',
    '--cpu-quota',
    '30000',
    '--cpu-period',
    '100000',
    c,
  ]);
  t.equal(r.status, 0, r.stderr);
  t.equal(cg('memory', path, 'memory.limit_in_bytes'), '104857600');
  if (MEMSW) t.equal(cg('memory', path, 'memory.memsw.limit_in_bytes'), '209715200');
  t.equal(cg('pids', path, 'pids.max'), '20');
  t.equal(cg('cpu', path, 'cpu.shares'), '256');
  t.equal(cg('cpu', path, 'cpu.cfs_quota_us'), '30000');
  t.same(record(c).cgroups.resources, {
    memory: { limit: 104857600, ...sw(209715200) },
    pids: { limit: 20 },
    cpu: { shares: 256, quota: 30000, period: 100000 },
  });
  // Below it again: the memory limit first.
  const file = join(scratch('resources-'), 'r.json');
  writeFileSync(file, JSON.stringify({ memory: { limit: 31457280, ...sw(41943040) }, pids: { limit: -1 } }));
  r = corral(root, ['update', '--resources', file, c]);
  t.equal(r.status, 0, r.stderr);
  t.equal(cg('memory', path, 'memory.limit_in_bytes'), '31457280');
  if (MEMSW) t.equal(cg('memory', path, 'memory.memsw.limit_in_bytes'), '41943040');
  t.equal(cg('pids', path, 'pids.max'), 'max');
  // containerd's way: the JSON on stdin.
  const viaStdin = spawnSync(CORRAL, ['--root', root, 'update', '--resources=-', c], {
    input: JSON.stringify({ cpu: { shares: 2048 }, devices: [{ allow: true, access: 'rwm' }] }),
  });
  t.equal(viaStdin.status, 0, viaStdin.stderr.toString());
  t.equal(cg('cpu', path, 'cpu.shares'), '2048');
  t.notMatch(cg('devices', path, 'devices.list'), /^a \*:\* rwm$/m, 'device rules are not updated (as runc)');
  t.same(
    record(c).cgroups.resources,
    {
      memory: { limit: 31457280, ...sw(41943040) },
      pids: { limit: -1 },
      cpu: { shares: 2048, quota: 30000, period: 100000 },
    },
    'the record merges each update',
  );
  r = corral(root, ['update', '--memory', '1k', ...(MEMSW ? ['--memory-swap', '1k'] : []), c]);
  t.equal(r.status, 1);
  t.match(messages(r.stderr), /\/linux\/resources\/memory\/limit: cannot set .*memory\.limit_in_bytes to "1024": device or resource busy \(the current usage is \d+\)/);
  writeFileSync(file, JSON.stringify({ memory: { limit: 4096, checkBeforeUpdate: true } }));
  r = corral(root, ['update', '-r', file, c]);
  t.match(messages(r.stderr), /memory\/limit: the new limit 4096 is below the current usage \d+ .*checkBeforeUpdate/);
  writeFileSync(file, JSON.stringify({ memory: { limit: 'lots' } }));
  t.match(messages(corral(root, ['update', '-r', file, c]).stderr), /--resources: \/linux\/resources\/memory\/limit: must be integer \(got "lots"\)/);
  t.match(messages(corral(root, ['update', '--memory', 'lots', c]).stderr), /invalid value for memory: invalid size: 'lots'/);
  t.match(messages(corral(root, ['update', '--cpu-period', 'x', c]).stderr), /invalid value for cpu-period: "x" is not an unsigned integer/);
  t.equal(cg('memory', path, 'memory.limit_in_bytes'), '31457280', 'refused updates change nothing');
  t.equal(corral(root, ['kill', c, 'KILL']).status, 0);
  until(() => stopped(c), 'the container to stop');
  t.match(messages(corral(root, ['update', '--pids-limit', '5', c]).stderr), /container not running/);
  t.equal(corral(root, ['delete', c]).status, 0);
  t.same(leftovers(root, c), []);
});

t.test('ps: table (with ps arguments) and json', { skip: HYBRID }, async (t) => {
  const c = id('ps');
  const path = `/corral-test-${process.pid}/ps`;
  const b = bundle(baseConfig(['sh', '-c', 'sleep 1001 & exec sleep 1002']), (cfg) => {
    cfg.linux.cgroupsPath = path;
  });
  t.equal(corral(root, ['run', '-d', '--bundle', b, c]).status, 0);
  const procs = () =>
    read(join(CG, 'pids', path, 'cgroup.procs'))
      .split('\n')
      .map(Number)
      .sort();
  until(() => procs().length === 2, 'both processes');
  const json = corral(root, ['ps', '--format', 'json', c]);
  t.equal(json.status, 0, json.stderr);
  t.same((JSON.parse(json.stdout) as number[]).sort(), procs());
  const table = corral(root, ['ps', c]);
  t.equal(table.status, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  t.match(lines[0], /^UID\s+PID\s+PPID/, 'ps -ef header');
  t.equal(lines.length, 3, 'the header and the two processes, nothing of the host');
  t.match(table.stdout, /sleep 1001/);
  t.match(table.stdout, /sleep 1002/);
  const custom = corral(root, ['ps', c, '--', '-o', 'pid,comm']);
  t.equal(custom.status, 0, custom.stderr);
  t.match(custom.stdout.split('\n')[0], /^\s*PID COMMAND$/);
  t.same(
    custom.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => Number(l.trim().split(/\s+/)[0]))
      .sort(),
    procs(),
  );
  t.match(corral(root, ['ps', c, '-o', 'pid,comm']).stdout, /^\s*PID COMMAND\n/, 'without the separator too');
  t.match(messages(corral(root, ['ps', c, '-o', 'comm']).stderr), /couldn't find PID field in ps output/);
  t.match(messages(corral(root, ['ps', '--format', 'yaml', c]).stderr), /invalid format option/);
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
});

t.test('real-time: a budget under the default /corral parent; SCHED_FIFO and SCHED_RR need one', { skip: HYBRID }, async (t) => {
  // Hosts with real-time group scheduling on v1 (CONFIG_RT_GROUP_SCHED) have cpu.rt_runtime_us.
  if (!existsSync(join(CG, 'cpu/cpu.rt_runtime_us'))) {
    t.skip('this host has no cpu.rt_runtime_us (no real-time group scheduling on v1)', () => {});
    return;
  }
  const sched = (c: string, config: Record<string, unknown>, resources?: Record<string, unknown>) =>
    corral(root, [
      'run',
      '--bundle',
      bundle(baseConfig(['sh', '-c', 'grep -E "^policy" /proc/self/sched; cat /proc/self/cgroup']), (cfg) => {
        cfg.process.scheduler = config;
        if (resources) cfg.linux.resources = resources;
      }),
      c,
    ]);
  // crun's test_cgroup_cpu_realtime: 1% of a 100 ms period, in /corral/ID (the /corral
  // parent another container may have made already, without a budget).
  const rt = id('rt');
  const r = sched(rt, { policy: 'SCHED_OTHER' }, { cpu: { realtimeRuntime: 1000, realtimePeriod: 100000 } });
  t.equal(r.status, 0, messages(r.stderr));
  t.match(r.stdout, new RegExp(`cpu[^\\n]*:/corral/${rt}`), 'in the default cgroup');
  t.ok(Number(read(join(CG, 'cpu/corral/cpu.rt_runtime_us'))) >= 10000, '/corral got at least the 1% share of its 1 s period');
  t.same(leftovers(root, rt), []);
  for (const policy of ['SCHED_FIFO', 'SCHED_RR']) {
    const no = id(`rt-none-${policy}`);
    const refused = sched(no, { policy, priority: 10 });
    t.equal(refused.status, 1, `${policy} without a budget is refused`);
    t.match(messages(refused.stderr), new RegExp(`/process/scheduler/policy: ${policy} needs a real-time budget.*cpu.rt_runtime_us is 0.*/linux/resources/cpu/realtimeRuntime`));
    t.same(leftovers(root, no), []);
    const ok = id(`rt-${policy}`);
    // crun's test_scheduler_flags: with SCHED_FLAG_RESET_ON_FORK (the shell's children get SCHED_OTHER).
    const ran = sched(ok, { policy, priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] }, { cpu: { realtimeRuntime: 10000 } });
    t.equal(ran.status, 0, messages(ran.stderr));
    t.match(ran.stdout, /^policy\s+:\s+0$/m, `${policy}: reset on fork for the children`);
    const shell = sched(id(`rt-shell-${policy}`), { policy, priority: 10 }, { cpu: { realtimeRuntime: 10000 } });
    t.equal(shell.status, 0, messages(shell.stderr));
    t.match(shell.stdout, new RegExp(`^policy\\s+:\\s+${policy === 'SCHED_FIFO' ? 1 : 2}$`, 'm'), `${policy}: the process (and its children) run with it`);
  }
  const bad = sched(id('rt-bad'), { policy: 'SCHED_FIFO', priority: 1000 }, { cpu: { realtimeRuntime: 10000 } });
  t.equal(bad.status, 1);
  t.match(messages(bad.stderr), /\/process\/scheduler: sched_setattr: invalid argument/, "the kernel's refusal names the field");
});

t.test('kill --all signals every process', { skip: HYBRID }, async (t) => {
  const c = id('killall');
  const path = `/corral-test-${process.pid}/killall`;
  const b = bundle(baseConfig(['sh', '-c', 'trap "exit 3" TERM; sleep 1000 & sleep 1000 & wait']), (cfg) => {
    cfg.linux.cgroupsPath = path;
  });
  t.equal(corral(root, ['run', '-d', '--bundle', b, c]).status, 0);
  until(() => read(join(CG, 'pids', path, 'cgroup.procs')).split('\n').length === 3, 'three processes');
  t.equal(corral(root, ['kill', '--all', c, 'TERM']).status, 0);
  until(() => stopped(c), 'every process to exit');
  t.equal(read(join(CG, 'pids', path, 'cgroup.procs')), '', 'none left in the cgroup');
  t.equal(corral(root, ['delete', c]).status, 0);
  t.same(leftovers(root, c), []);
});

t.test('kill --all once the init has died: the processes left in the cgroup are signalled, as runc', { skip: HYBRID }, async (t) => {
  // Without a pid namespace the init's death does not take the others with it.
  const c = id('killall-orphans');
  const path = `/corral-test-${process.pid}/killall-orphans`;
  const b = bundle(baseConfig(['sh', '-c', 'sleep 1000 & sleep 1000 & wait']), (cfg) => {
    cfg.linux.cgroupsPath = path;
    cfg.linux.namespaces = (cfg.linux.namespaces as { type: string }[]).filter((n: { type: string }) => n.type !== 'pid');
  });
  t.equal(corral(root, ['run', '-d', '--bundle', b, c]).status, 0);
  const procs = join(CG, 'pids', path, 'cgroup.procs');
  until(() => read(procs).split('\n').length === 3, 'three processes');
  process.kill(state(root, c).pid as number, 'SIGKILL');
  until(() => stopped(c) && read(procs).split('\n').length === 2, 'the init to die');
  t.equal(corral(root, ['kill', c, 'KILL']).status, 1, 'without --all: the container is not running');
  const k = corral(root, ['kill', '--all', c, 'KILL']);
  t.equal(k.status, 0, messages(k.stderr));
  until(() => read(procs) === '', 'the orphans to die');
  t.equal(corral(root, ['kill', '--all', c, 'KILL']).status, 0, 'nothing left to signal is not an error either');
  t.equal(corral(root, ['delete', c]).status, 0);
  t.same(leftovers(root, c), []);
});

t.test('delete leaves no cgroup: nested relative paths, sub-cgroups, shared parents', { skip: HYBRID }, async (t) => {
  const own = (ctrl: string) =>
    readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[1]?.split(',').includes(ctrl))!
      .split(':')[2];
  const c = id('nested');
  const rel = `corral-rel-${process.pid}/a/b`;
  const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
    cfg.linux.cgroupsPath = rel;
  });
  t.equal(corral(root, ['run', '-d', '--bundle', b, c]).status, 0);
  const memDir = join(CG, 'memory', own('memory'), rel);
  t.ok(existsSync(memDir), 'relative to our own memory cgroup');
  t.ok(existsSync(join(CG, 'pids', own('pids'), rel)), 'and to our own pids cgroup');
  mkdirSync(join(memDir, 'made-by-the-container'));
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  for (const h of readdirSync(CG)) t.equal(existsSync(join(CG, h, h === 'memory' ? own('memory') : '/', `corral-rel-${process.pid}`)), false, `nothing left in ${h}`);
  // Two containers under one parent: the first one's delete keeps it while the second lives.
  const x = id('sharedx');
  const y = id('sharedy');
  const parent = `/corral-shared-${process.pid}`;
  t.equal(
    corral(root, [
      'run',
      '-d',
      '--bundle',
      bundle(baseConfig(['sleep', '1000']), (cfg) => {
        cfg.linux.cgroupsPath = `${parent}/x`;
      }),
      x,
    ]).status,
    0,
  );
  t.equal(
    corral(root, [
      'run',
      '-d',
      '--bundle',
      bundle(baseConfig(['sleep', '1000']), (cfg) => {
        cfg.linux.cgroupsPath = `${parent}/y`;
      }),
      y,
    ]).status,
    0,
  );
  t.equal(corral(root, ['delete', '--force', x]).status, 0);
  t.ok(existsSync(join(CG, 'pids', parent, 'y')), 'the other container keeps its cgroup');
  t.ok(existsSync(join(CG, 'pids', parent)), 'and the shared parent');
  t.equal(existsSync(join(CG, 'pids', parent, 'x')), false);
  t.equal(corral(root, ['delete', '--force', y]).status, 0);
  t.equal(existsSync(join(CG, 'pids', parent, 'y')), false);
  for (const h of readdirSync(CG)) {
    try {
      rmdirSync(join(CG, h, parent)); // made by x, kept while y used it: not y's to remove
    } catch {
      // not there
    }
  }
});

t.test("the eBPF device filter of a v2 host, enforced on this host's cgroup2 hierarchy", { skip: HYBRID }, async (t) => {
  // A v2 host has no devices controller; corral attaches the program deviceProgram()
  // makes. The unified hierarchy here takes the same programs: load one there and try
  // devices from a shell inside that cgroup.
  const { deviceProgram } = await import('../../src/linux/cgroups/devices-v2');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built addon, loaded by path as src/linux/addon.ts does
  const addon = require(join(ROOT, 'dist/corral.node')) as { attachDeviceFilter(dir: string, insns: Buffer): void };
  const tryIn = (resources: Record<string, unknown>) => {
    const dir = join(CG, 'unified', `corral-bpf-${process.pid}`);
    mkdirSync(dir);
    try {
      addon.attachDeviceFilter(dir, deviceProgram(resources));
      const script = `echo $$ > ${dir}/cgroup.procs; for f in null zero kmsg; do (: < /dev/$f) 2>/dev/null && echo $f:r; (: >> /dev/$f) 2>/dev/null && echo $f:w; done; true`;
      const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
      return r.stdout.trim().split('\n');
    } finally {
      rmdirSync(dir);
    }
  };
  t.same(tryIn({}), ['null:r', 'null:w', 'zero:r', 'zero:w'], 'the default rules: /dev/null and /dev/zero, not /dev/kmsg');
  t.same(
    tryIn({ devices: [{ allow: true, type: 'c', major: 1, minor: 11, access: 'r' }] }),
    ['null:r', 'null:w', 'zero:r', 'zero:w', 'kmsg:r'],
    'a config rule: /dev/kmsg for reading only',
  );
  t.same(tryIn({ devices: [{ allow: true, access: 'rwm' }] }), ['null:r', 'null:w', 'zero:r', 'zero:w', 'kmsg:r', 'kmsg:w'], 'allow all');
  t.throws(() => addon.attachDeviceFilter(join(CG, 'unified'), Buffer.alloc(8)), /BPF_PROG_LOAD/, 'a bad program: the kernel says why');
});

t.test("the v2 freezer of a v2 host, on this host's cgroup2 hierarchy", { skip: HYBRID }, async (t) => {
  // A v2 host pauses through cgroup.freeze; the unified hierarchy here has one too.
  const { freeze, thaw, freezerState } = await import('../../src/linux/cgroups/freezer');
  const { Store, statusOf } = await import('../../src/state/store');
  const c = id('freeze2');
  const path = `/corral-test-${process.pid}/freeze2`;
  t.equal(
    corral(root, [
      'run',
      '-d',
      '--bundle',
      bundle(baseConfig(['sleep', '1000']), (cfg) => {
        cfg.linux.cgroupsPath = path;
      }),
      c,
    ]).status,
    0,
  );
  const store = new Store(root);
  const rec = store.read(c);
  t.equal(rec.cgroups.unified, join(CG, 'unified', path), 'the record has the unified directory');
  const v2 = { ...rec, cgroups: { ...rec.cgroups, freezer: join(rec.cgroups.unified!, 'cgroup.freeze') } };
  freeze(v2.cgroups);
  t.match(cg('unified', path, 'cgroup.events'), /^frozen 1$/m, 'the kernel reports the cgroup frozen');
  t.equal(freezerState(v2.cgroups), 'frozen');
  t.equal(statusOf(store, v2), 'paused');
  thaw(v2.cgroups);
  t.match(cg('unified', path, 'cgroup.events'), /^frozen 0$/m);
  t.equal(statusOf(store, v2), 'running');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
});

t.test(
  'the init is born in its cgroup2 directory (clone3 CLONE_INTO_CGROUP), the v1 ones joined before',
  { skip: HYBRID || requires([hasCommand('strace'), 'strace (make deps installs it)']) },
  async (t) => {
    const trace = join(scratch('strace-'), 'trace');
    // `run` of a process that prints its cgroups: strace follows Node, the helper it
    // spawns and the init, and ends with them.
    const run = (c: string, edit?: (cfg: Record<string, any>) => void) => {
      const b = bundle(baseConfig(['cat', '/proc/self/cgroup']), (cfg) => {
        cfg.linux.cgroupsPath = `/corral-test-${process.pid}/${c}`;
        edit?.(cfg);
      });
      const r = corral(root, ['run', '--bundle', b, c], { wrap: ['strace', '-f', '-qq', '-e', 'trace=clone,clone3', '-e', 'signal=none', '-o', trace] });
      t.equal(r.status, 0, messages(r.stderr));
      return { trace: readFileSync(trace, 'utf8'), own: r.stdout };
    };
    const c = id('clone3');
    const path = `/corral-test-${process.pid}/${c}`;
    let r = run(c);
    t.match(r.trace, /clone3\(\{flags=[A-Z_|]*CLONE_NEWPID[A-Z_|]*\|CLONE_INTO_CGROUP, exit_signal=SIGCHLD.*cgroup=\d+\}/, 'the init is cloned with CLONE_INTO_CGROUP');
    t.match(r.own, new RegExp(`^0::${path}$`, 'm'), "into the container's cgroup2 directory");
    t.match(r.own, new RegExp(`:memory:${path}$`, 'm'), 'and is in the v1 ones');

    // Joining a cgroup namespace by path: the kernel would refuse the clone, so the
    // cgroup2 directory is joined the old way, before the setns.
    const host = id('cgns-host');
    t.equal(
      corral(root, [
        'run',
        '-d',
        '--bundle',
        bundle(baseConfig(['sleep', '1000']), (cfg) => {
          cfg.linux.namespaces = [...(cfg.linux.namespaces as object[]), { type: 'cgroup' }];
        }),
        host,
      ]).status,
      0,
    );
    const c2 = id('cgns-join');
    r = run(c2, (cfg) => {
      cfg.linux.namespaces = [...(cfg.linux.namespaces as object[]), { type: 'cgroup', path: `/proc/${state(root, host).pid}/ns/cgroup` }];
    });
    t.notMatch(r.trace, /CLONE_INTO_CGROUP/, 'no clone into the cgroup');
    t.match(r.own, new RegExp(`^0::.*/corral-test-${process.pid}/${c2}$`, 'm'), 'and yet the init is in its cgroup2 directory');
    t.equal(corral(root, ['delete', '--force', host]).status, 0);
    for (const x of [c, c2, host]) t.same(leftovers(root, x), []);
  },
);
