// The v1 and v2 drivers and the v1 → v2 conversions, against fake cgroupfs trees built in
// a temp dir: each test lays out the files a kernel would have, the drivers write there.
import t from 'tap';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Resources } from '../../src/spec/types';
import { applyV1 } from '../../src/linux/cgroups/v1';
import { applyV2 } from '../../src/linux/cgroups/v2';
import { blkioWeightToIoWeight, hugePageSizeName, parseCpuList, sharesToWeight, swapToV2 } from '../../src/linux/cgroups/convert';
import { applyResourcesTo, checkHost, createCgroups, enableControllers, makeCgroupDirs, needs } from '../../src/linux/cgroups/manager';
import { cgroupPids, removeCgroups } from '../../src/linux/cgroups/record';
import type { Hierarchy, Layout } from '../../src/linux/cgroups/layout';
import type { CgroupRecord } from '../../src/linux/cgroups/types';

const UNLIMITED = '9223372036854771712';

// Every fake tree lives under one directory, removed when the file's tests end.
const trees = mkdtempSync(join(tmpdir(), 'corral-cgtest-'));
t.teardown(() => rmSync(trees, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const d = mkdtempSync(join(trees, 'tree-'));
  for (const [f, c] of Object.entries(files)) {
    mkdirSync(dirname(join(d, f)), { recursive: true });
    writeFileSync(join(d, f), c);
  }
  return d;
}
const read = (d: string, f: string) => readFileSync(join(d, f), 'utf8');

const V1_MEMORY = {
  'memory.limit_in_bytes': UNLIMITED,
  'memory.memsw.limit_in_bytes': UNLIMITED,
  'memory.soft_limit_in_bytes': UNLIMITED,
  'memory.kmem.limit_in_bytes': UNLIMITED,
  'memory.kmem.tcp.limit_in_bytes': UNLIMITED,
  'memory.swappiness': '60',
  'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
  'memory.use_hierarchy': '1',
  'memory.usage_in_bytes': '4000000',
};
const V1_CPU = {
  'cpu.shares': '1024',
  'cpu.cfs_period_us': '100000',
  'cpu.cfs_quota_us': '-1',
  'cpu.cfs_burst_us': '0',
  'cpu.rt_period_us': '1000000',
  'cpu.rt_runtime_us': '0',
  'cpu.idle': '0',
};

t.test('conversions', async (t) => {
  t.equal(sharesToWeight(2), 1, 'the least shares: the least weight');
  t.equal(sharesToWeight(262144), 10000, 'the most shares: the most weight');
  t.equal(sharesToWeight(1024), 39, 'the default shares');
  t.equal(blkioWeightToIoWeight(10), 1);
  t.equal(blkioWeightToIoWeight(1000), 10000);
  t.equal(blkioWeightToIoWeight(500), 4950);
  t.equal(swapToV2(-1, 1000, 'f'), 'max');
  t.equal(swapToV2(3000, 1000, 'f'), 2000, 'v2 limits swap alone: memory+swap minus memory');
  t.throws(() => swapToV2(500, 1000, '/f'), /\/f: memory\+swap limit 500 is below the memory limit 1000/);
  t.throws(() => swapToV2(500, undefined, '/f'), /\/f: a swap limit .* needs a memory limit/);
  t.same(parseCpuList('0-2,5'), [0, 1, 2, 5]);
  t.equal(hugePageSizeName(2048), '2MB');
  t.equal(hugePageSizeName(1048576), '1GB');
  t.equal(hugePageSizeName(64), '64KB');
});

t.test('v1 memory: every field in its file', async (t) => {
  const d = tree(V1_MEMORY);
  const warnings: string[] = [];
  applyV1(
    d,
    ['memory'],
    {
      memory: { limit: 50593792, reservation: 40000000, swap: 60000000, kernel: 30000000, kernelTCP: 20000000, swappiness: 10, disableOOMKiller: true, useHierarchy: true },
    },
    { warn: (m) => warnings.push(m) },
  );
  t.equal(read(d, 'memory.limit_in_bytes'), '50593792');
  t.equal(read(d, 'memory.soft_limit_in_bytes'), '40000000');
  t.equal(read(d, 'memory.memsw.limit_in_bytes'), '60000000');
  t.equal(read(d, 'memory.kmem.limit_in_bytes'), '30000000');
  t.equal(read(d, 'memory.kmem.tcp.limit_in_bytes'), '20000000');
  t.equal(read(d, 'memory.swappiness'), '10');
  t.equal(read(d, 'memory.oom_control'), '1');
  t.equal(read(d, 'memory.use_hierarchy'), '1');
  t.same(warnings, [], 'the kernel memory limit took (this fake kernel keeps it)');
});

t.test('v1 memory: unlimited, zero means unset, and refusals', async (t) => {
  const d = tree({ ...V1_MEMORY, 'memory.limit_in_bytes': '1000000', 'memory.memsw.limit_in_bytes': '1000000' });
  applyV1(d, ['memory'], { memory: { limit: -1, reservation: 0 } });
  t.equal(read(d, 'memory.limit_in_bytes'), '-1');
  t.equal(read(d, 'memory.memsw.limit_in_bytes'), '-1', 'unlimited memory without a swap value: unlimited swap too');
  t.equal(read(d, 'memory.soft_limit_in_bytes'), UNLIMITED, '0 is not set (as runc)');
  t.throws(() => applyV1(d, ['memory'], { memory: { limit: 2000, swap: 1000 } }), /\/linux\/resources\/memory\/swap: memory\+swap limit 1000 is below the memory limit 2000/);
  t.throws(() => applyV1(d, ['memory'], { memory: { swappiness: 101 } }), /\/linux\/resources\/memory\/swappiness: must be between 0 and 100/);
  t.throws(
    () => applyV1(d, ['memory'], { memory: { limit: 1000000, checkBeforeUpdate: true } }, { update: true }),
    /memory\/limit: the new limit 1000000 is below the current usage 4000000 .*checkBeforeUpdate/,
  );
  applyV1(d, ['memory'], { memory: { limit: 1000000, checkBeforeUpdate: true } }, {});
  t.equal(read(d, 'memory.limit_in_bytes'), '1000000', 'checkBeforeUpdate is about updates');
  const noSwap = tree({ 'memory.limit_in_bytes': UNLIMITED });
  t.throws(
    () => applyV1(noSwap, ['memory'], { memory: { limit: 1000, swap: 2000 } }),
    /memory\/swap: cannot set .*memory\.memsw\.limit_in_bytes to "2000": not supported by this host \(no such file\) \(swap accounting is off/,
  );
  t.equal(existsSync(join(noSwap, 'memory.memsw.limit_in_bytes')), false, 'a missing file is never created');
});

t.test('v1 cpu and cpuset', async (t) => {
  const d = tree({ ...V1_CPU, 'cpuset.cpus': '0-1', 'cpuset.mems': '0' });
  applyV1(d, ['cpu', 'cpuset'], {
    cpu: { shares: 512, quota: 50000, period: 200000, burst: 10000, realtimePeriod: 500000, realtimeRuntime: 20000, idle: 1, cpus: '1', mems: '0' },
  });
  t.equal(read(d, 'cpu.shares'), '512');
  t.equal(read(d, 'cpu.cfs_quota_us'), '50000');
  t.equal(read(d, 'cpu.cfs_period_us'), '200000');
  t.equal(read(d, 'cpu.cfs_burst_us'), '10000');
  t.equal(read(d, 'cpu.rt_period_us'), '500000');
  t.equal(read(d, 'cpu.rt_runtime_us'), '20000');
  t.equal(read(d, 'cpu.idle'), '1');
  t.equal(read(d, 'cpuset.cpus'), '1');
  t.equal(read(d, 'cpuset.mems'), '0');
  t.throws(() => applyV1(d, ['cpu'], { cpu: { quota: 1000, burst: 5000 } }), /cpu\/burst: 5000 is larger than the quota 1000/);
  const only = tree({ 'cpu.shares': '1024' });
  t.throws(() => applyV1(only, ['cpu'], { cpu: { idle: 1 } }), /\/linux\/resources\/cpu\/idle: cannot set .*cpu\.idle to "1": not supported by this host/);
});

t.test('v1 real-time budget: the parents below the root that lack room are given it', async (t) => {
  // a already exists (another container's /corral) and holds a sibling with 1%.
  const root = tree({
    ...V1_CPU,
    'a/cpu.rt_runtime_us': '0',
    'a/cpu.rt_period_us': '1000000',
    'a/other/cpu.rt_runtime_us': '10000',
    'a/other/cpu.rt_period_us': '1000000',
    'a/b/cpu.rt_runtime_us': '0',
    'a/b/cpu.rt_period_us': '1000000',
  });
  const d = join(root, 'a/b');
  // 1000 us of 100000 is 1%: a needs 2% of its 1 s period for both children.
  applyV1(d, ['cpu'], { cpu: { realtimeRuntime: 1000, realtimePeriod: 100000 } });
  t.equal(read(root, 'a/cpu.rt_runtime_us'), '20000', "the parent holds both children's shares");
  t.equal(read(root, 'a/b/cpu.rt_runtime_us'), '1000');
  t.equal(read(root, 'a/b/cpu.rt_period_us'), '100000');
  t.equal(read(root, 'cpu.rt_runtime_us'), '0', "the hierarchy's root is left alone");
  // A parent with room enough is not touched.
  const roomy = tree({ ...V1_CPU, 'a/cpu.rt_runtime_us': '500000', 'a/b/cpu.rt_runtime_us': '0' });
  applyV1(join(roomy, 'a/b'), ['cpu'], { cpu: { realtimeRuntime: 30000 } });
  t.equal(read(roomy, 'a/cpu.rt_runtime_us'), '500000');
  t.equal(read(roomy, 'a/b/cpu.rt_runtime_us'), '30000');
});

t.test('v1 pids: -1 is max, 0 is a limit', async (t) => {
  const d = tree({ 'pids.max': 'max' });
  applyV1(d, ['pids'], { pids: { limit: 0 } });
  t.equal(read(d, 'pids.max'), '0');
  applyV1(d, ['pids'], { pids: { limit: -1 } });
  t.equal(read(d, 'pids.max'), 'max');
  applyV1(d, ['pids'], { pids: { limit: 42 } });
  t.equal(read(d, 'pids.max'), '42');
});

t.test('v1 blkio: bfq files where CFQ is gone, throttles, no leaf weights', async (t) => {
  const files = {
    'blkio.bfq.weight': '100',
    'blkio.bfq.weight_device': '',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
  };
  const d = tree(files);
  applyV1(d, ['blkio'], {
    blockIO: {
      weight: 500,
      weightDevice: [{ major: 254, minor: 0, weight: 300 }],
      throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1000 }],
      throttleWriteBpsDevice: [{ major: 254, minor: 0, rate: 2000 }],
      throttleReadIOPSDevice: [{ major: 254, minor: 0, rate: 30 }],
      throttleWriteIOPSDevice: [{ major: 254, minor: 0, rate: 40 }],
    },
  });
  t.equal(read(d, 'blkio.bfq.weight'), '500');
  t.equal(read(d, 'blkio.bfq.weight_device'), '254:0 300');
  t.equal(read(d, 'blkio.throttle.read_bps_device'), '254:0 1000');
  t.equal(read(d, 'blkio.throttle.write_bps_device'), '254:0 2000');
  t.equal(read(d, 'blkio.throttle.read_iops_device'), '254:0 30');
  t.equal(read(d, 'blkio.throttle.write_iops_device'), '254:0 40');
  t.throws(
    () => applyV1(d, ['blkio'], { blockIO: { leafWeight: 300 } }),
    /\/linux\/resources\/blockIO\/leafWeight: cannot set .*blkio\.leaf_weight to "300": not supported by this host/,
  );
  const cfq = tree({ 'blkio.weight': '500', 'blkio.weight_device': '', 'blkio.bfq.weight': '100' });
  applyV1(cfq, ['blkio'], { blockIO: { weight: 200, weightDevice: [{ major: 8, minor: 0, weight: 100 }] } });
  t.equal(read(cfq, 'blkio.weight'), '200', 'blkio.weight where the kernel has it');
  t.equal(read(cfq, 'blkio.weight_device'), '8:0 100');
});

t.test('hugetlb: v1 and v2 files, reservations, unknown sizes', async (t) => {
  const v1 = tree({ 'hugetlb.2MB.limit_in_bytes': '0', 'hugetlb.2MB.rsvd.limit_in_bytes': '0', 'hugetlb.1GB.limit_in_bytes': '0' });
  applyV1(v1, ['hugetlb'], {
    hugepageLimits: [
      { pageSize: '2MB', limit: 4194304 },
      { pageSize: '1GB', limit: 1073741824 },
    ],
  });
  t.equal(read(v1, 'hugetlb.2MB.limit_in_bytes'), '4194304');
  t.equal(read(v1, 'hugetlb.2MB.rsvd.limit_in_bytes'), '4194304', 'the reservation limit too where the kernel has it');
  t.equal(read(v1, 'hugetlb.1GB.limit_in_bytes'), '1073741824');
  t.throws(
    () => applyV1(v1, ['hugetlb'], { hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }),
    /\/linux\/resources\/hugepageLimits\/0\/pageSize: "3MB" is not a huge page size of this host \(no .*hugetlb\.3MB\.limit_in_bytes; sizes: 2MB, 1GB\)/,
  );
  const v2 = tree({ 'hugetlb.2MB.max': 'max', 'hugetlb.2MB.rsvd.max': 'max', 'hugetlb.1GB.max': 'max' });
  applyV2(v2, ['hugetlb'], { hugepageLimits: [{ pageSize: '2MB', limit: 2147483648 }] });
  t.equal(read(v2, 'hugetlb.2MB.max'), '2147483648');
  t.equal(read(v2, 'hugetlb.2MB.rsvd.max'), '2147483648');
  t.equal(read(v2, 'hugetlb.1GB.max'), 'max');
});

t.test('v1 network and rdma', async (t) => {
  const d = tree({ 'net_cls.classid': '0', 'net_prio.ifpriomap': '', 'rdma.max': '' });
  applyV1(d, ['net_cls', 'net_prio', 'rdma'], {
    network: { classID: 1048577, priorities: [{ name: 'lo', priority: 5 }] },
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
  });
  t.equal(read(d, 'net_cls.classid'), '1048577');
  t.equal(read(d, 'net_prio.ifpriomap'), 'lo 5');
  t.equal(read(d, 'rdma.max'), 'mlx5_1 hca_handle=3 hca_object=10000');
  t.throws(() => applyV1(d, ['rdma'], { rdma: { x: {} } }), /\/linux\/resources\/rdma\/x: needs hcaHandles or hcaObjects/);
});

t.test('v1 devices: deny all, the config in order, then the defaults', async (t) => {
  const d = tree({ 'devices.allow': '', 'devices.deny': '' });
  // A regular file keeps only the last write: check the last rule lands in devices.allow.
  applyV1(d, ['devices'], {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
    ],
  });
  t.equal(read(d, 'devices.deny'), 'a');
  t.equal(read(d, 'devices.allow'), 'c 10:200 rwm', 'the last default rule (tun)');
  const u = tree({ 'devices.allow': 'untouched', 'devices.deny': 'untouched' });
  applyV1(u, ['devices'], { devices: [{ allow: true, access: 'rwm' }] }, { update: true });
  t.equal(read(u, 'devices.allow'), 'untouched', 'an update leaves device rules alone (as runc)');
});

const V2_FILES = {
  'memory.max': 'max',
  'memory.low': '0',
  'memory.swap.max': 'max',
  'memory.current': '3000000',
  'cpu.weight': '100',
  'cpu.max': 'max 100000',
  'cpu.max.burst': '0',
  'cpu.idle': '0',
  'cpuset.cpus': '',
  'cpuset.mems': '',
  'pids.max': 'max',
  'io.weight': 'default 100',
  'io.max': '',
  'hugetlb.2MB.max': 'max',
  'rdma.max': '',
  'memory.high': 'max',
  'cgroup.max.depth': 'max',
};
const V2_ALL = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma'];

t.test('v2: the converted values in their files', async (t) => {
  const d = tree(V2_FILES);
  applyV2(d, V2_ALL, {
    memory: { limit: 100000000, reservation: 50000000, swap: 150000000 },
    cpu: { shares: 1024, quota: 50000, period: 200000, burst: 1000, idle: 1, cpus: '0', mems: '0' },
    pids: { limit: 64 },
    blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 1000 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }],
    rdma: { mlx4_0: { hcaObjects: 1000 } },
    unified: { 'memory.high': '90000000', 'cgroup.max.depth': '3' },
  });
  t.equal(read(d, 'memory.max'), '100000000');
  t.equal(read(d, 'memory.low'), '50000000');
  t.equal(read(d, 'memory.swap.max'), '50000000', 'memory+swap 150M with memory 100M: 50M of swap');
  t.equal(read(d, 'memory.high'), '90000000', 'unified keys are written as given');
  t.equal(read(d, 'cgroup.max.depth'), '3', 'core files too');
  t.equal(read(d, 'cpu.weight'), '39');
  t.equal(read(d, 'cpu.max'), '50000 200000');
  t.equal(read(d, 'cpu.max.burst'), '1000');
  t.equal(read(d, 'cpu.idle'), '1');
  t.equal(read(d, 'cpuset.cpus'), '0');
  t.equal(read(d, 'pids.max'), '64');
  t.equal(read(d, 'io.weight'), '8:0 10000', 'no bfq: io.weight, converted (the last write)');
  t.equal(read(d, 'io.max'), '8:0 rbps=1048576');
  t.equal(read(d, 'hugetlb.2MB.max'), '2097152');
  t.equal(read(d, 'rdma.max'), 'mlx4_0 hca_object=1000');
});

t.test('v2: partial cpu.max, bfq, unlimited values', async (t) => {
  const d = tree({ ...V2_FILES, 'cpu.max': '20000 50000', 'io.bfq.weight': 'default 100' });
  applyV2(d, V2_ALL, { cpu: { period: 100000 }, blockIO: { weight: 300 }, memory: { limit: -1, reservation: -1 }, pids: { limit: -1 } });
  t.equal(read(d, 'cpu.max'), '20000 100000', 'the quota already there is kept');
  applyV2(d, V2_ALL, { cpu: { quota: -1 } });
  t.equal(read(d, 'cpu.max'), 'max 100000');
  t.equal(read(d, 'io.bfq.weight'), '300', 'bfq takes the v1 scale');
  t.equal(read(d, 'memory.max'), 'max');
  t.equal(read(d, 'memory.swap.max'), 'max');
  t.equal(read(d, 'memory.low'), 'max');
  t.equal(read(d, 'pids.max'), 'max');
  writeFileSync(join(d, 'memory.max'), '1000000');
  applyV2(d, V2_ALL, { memory: { swap: 3000000 } });
  t.equal(read(d, 'memory.swap.max'), '2000000', 'a swap update alone goes with the current memory.max');
});

t.test('v2: what cgroup v2 cannot do is refused, naming the field', async (t) => {
  const d = tree(V2_FILES);
  const refuse = (r: Resources, re: RegExp) => t.throws(() => applyV2(d, V2_ALL, r), re);
  refuse({ memory: { swappiness: 10 } }, /\/linux\/resources\/memory\/swappiness: not supported on cgroup v2 \(there is no memory\.swappiness there\)/);
  refuse({ memory: { kernelTCP: 1000 } }, /memory\/kernelTCP: not supported on cgroup v2/);
  refuse({ memory: { disableOOMKiller: true } }, /memory\/disableOOMKiller: not supported on cgroup v2 \(there is no memory\.oom_control/);
  refuse({ memory: { useHierarchy: false } }, /memory\/useHierarchy: cgroup v2 is always hierarchical/);
  refuse({ cpu: { realtimeRuntime: 1000 } }, /cpu\/realtimeRuntime: not supported on cgroup v2/);
  refuse({ cpu: { shares: 1 } }, /cpu\/shares: 1 is out of range/);
  refuse({ blockIO: { leafWeight: 300 } }, /blockIO\/leafWeight: not supported on cgroup v2/);
  refuse({ blockIO: { weight: 5 } }, /blockIO\/weight: 5 is out of range \(10 to 1000\)/);
  t.doesNotThrow(() => applyV2(d, V2_ALL, { memory: { limit: 1000000, checkBeforeUpdate: true } }), 'not an update: no check');
  t.throws(
    () => applyV2(d, V2_ALL, { memory: { limit: 1000000, checkBeforeUpdate: true } }, { update: true }),
    /memory\/limit: the new limit 1000000 is below the current usage 3000000/,
  );
  const warnings: string[] = [];
  applyV2(d, V2_ALL, { memory: { kernel: 1000 } }, { warn: (m) => warnings.push(m) });
  t.match(warnings.join(), /memory\/kernel: kernel memory limits do not exist on cgroup v2/);
  t.throws(() => applyV2(d, V2_ALL, { unified: { 'memory/max': '1' } }), /unified\/memory\/max: not a cgroup file name/);
  t.throws(() => applyV2(d, V2_ALL, { unified: { '../x': '1' } }), /unified\/\.\.\/x: not a cgroup file name/);
  t.throws(
    () => applyV2(d, ['hugetlb'], { unified: { 'memory.high': '1' } }, { v1Controllers: ['memory'] }),
    /unified\/memory\.high: the memory controller is on a cgroup v1 hierarchy on this \(hybrid\) host/,
  );
  t.throws(() => applyV2(d, ['hugetlb'], { unified: { 'misc.max': '1' } }), /unified\/misc\.max: the misc controller is not available in the unified hierarchy/);
  t.throws(
    () => applyV2(d, V2_ALL, { unified: { 'memory.nosuch': '1' } }),
    /unified\/memory\.nosuch: cannot set .*memory\.nosuch to "1": not supported by this host \(no such file\)/,
  );
});

// A hybrid layout like this machine's, on a fake tree: v1 memory and pids, cgroup2 with hugetlb.
function hybrid(): { layout: Layout; root: string } {
  const root = tree({
    'memory/c/memory.limit_in_bytes': UNLIMITED,
    'memory/c/memory.usage_in_bytes': '0',
    'memory/c/cgroup.procs': '11\n12\n',
    'memory/c/sub/cgroup.procs': '13\n',
    'pids/c/pids.max': 'max',
    'pids/c/cgroup.procs': '11\n12\n',
    'devices/c/devices.allow': '',
    'devices/c/devices.deny': '',
    'unified/cgroup.subtree_control': '',
    'unified/p/cgroup.subtree_control': '',
    'unified/p/c/hugetlb.2MB.max': 'max',
  });
  const h = (version: 1 | 2, name: string, controllers: string[]): Hierarchy => ({ version, mount: join(root, name), root: '/', controllers, own: '/' });
  return { root, layout: { mode: 'hybrid', hierarchies: [h(1, 'memory', ['memory']), h(1, 'pids', ['pids']), h(1, 'devices', ['devices']), h(2, 'unified', ['hugetlb'])] } };
}

t.test('a hybrid host: each field to the hierarchy that owns its controller', async (t) => {
  const { root, layout } = hybrid();
  const rec: CgroupRecord = { paths: [join(root, 'memory/c'), join(root, 'pids/c'), join(root, 'devices/c'), join(root, 'unified/p/c')], created: [] };
  applyResourcesTo(layout, rec, { memory: { limit: 1000000 }, pids: { limit: 10 }, hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }] }, {});
  t.equal(read(root, 'memory/c/memory.limit_in_bytes'), '1000000');
  t.equal(read(root, 'pids/c/pids.max'), '10');
  t.equal(read(root, 'unified/p/c/hugetlb.2MB.max'), '4194304', 'hugetlb on the v2 side');
  t.equal(read(root, 'unified/cgroup.subtree_control'), '+hugetlb', 'enabled in the root');
  t.equal(read(root, 'unified/p/cgroup.subtree_control'), '+hugetlb', 'and in the parent');
  t.throws(
    () => applyResourcesTo(layout, rec, { network: { classID: 1 } }, {}),
    /\/linux\/resources\/network\/classID: the net_cls cgroup controller is not available on this host \(it is not mounted\), so net_cls\.classid cannot be set/,
  );
  t.throws(() => applyResourcesTo(layout, rec, { cpu: { shares: 100 } }, {}), /cpu\/shares: the cpu cgroup controller is not available/);
  t.throws(() => applyResourcesTo(layout, rec, { unified: { 'memory.high': '1' } }, {}), /on a cgroup v1 hierarchy on this \(hybrid\) host/);
  t.same(cgroupPids(rec).sort(), [11, 12, 13], 'pids of the container and of the sub-cgroups it made');
});

t.test('needs and checkHost', async (t) => {
  t.same(
    needs({ memory: { limit: 0, swappiness: 10 }, cpu: { cpus: '0' }, blockIO: { throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 1 }] } }).map((n) => [
      n.field,
      n.controller,
      n.file,
    ]),
    [
      ['/linux/resources/memory/swappiness', 'memory', 'memory.swappiness'],
      ['/linux/resources/cpu/cpus', 'cpuset', 'cpuset.cpus'],
      ['/linux/resources/blockIO/throttleWriteIOPSDevice', 'blkio', 'blkio.throttle.write_iops_device'],
    ],
  );
  const v1only: Layout = { mode: 'v1', hierarchies: [{ version: 1, mount: '/x', root: '/', controllers: ['memory'], own: '/' }] };
  t.throws(() => checkHost(v1only, { unified: { 'memory.high': '1' } }), /unified\/memory\.high: this host has no cgroup v2 \(unified\) hierarchy/);
  t.throws(
    () => checkHost(v1only, { devices: [{ allow: false, access: 'rwm' }] }),
    /\/linux\/resources\/devices: the devices cgroup controller is not mounted on this host and there is no cgroup v2 hierarchy/,
  );
  t.doesNotThrow(() => checkHost(v1only, {}), 'the default rules alone are no reason to fail');
  const v2: Layout = { mode: 'v2', hierarchies: [{ version: 2, mount: '/x', root: '/', controllers: ['memory', 'io'], own: '/' }] };
  t.doesNotThrow(() => checkHost(v2, { blockIO: { weight: 100 } }), 'blkio is io on v2');
  t.throws(
    () => checkHost(v2, { pids: { limit: 1 } }),
    /pids\/limit: the pids cgroup controller is not available on this host \(the unified hierarchy does not offer it\), so pids\.max cannot be set/,
  );
});

t.test('enableControllers: from the root down to the parent, errors name the field', async (t) => {
  const root = tree({ 'cgroup.subtree_control': 'memory', 'a/cgroup.subtree_control': '', 'a/b/cgroup.subtree_control': '' });
  const h: Hierarchy = { version: 2, mount: root, root: '/', controllers: ['memory', 'pids'], own: '/' };
  enableControllers(h, join(root, 'a/b/c'), ['memory'], '/f');
  t.equal(read(root, 'cgroup.subtree_control'), 'memory', 'already on: not written');
  t.equal(read(root, 'a/cgroup.subtree_control'), '+memory');
  t.equal(read(root, 'a/b/cgroup.subtree_control'), '+memory');
  t.throws(() => enableControllers(h, join(root, 'x/y'), ['pids'], '/linux/resources/pids/limit'), /\/linux\/resources\/pids\/limit: cannot read .*x\/cgroup\.subtree_control/);
});

t.test('makeCgroupDirs, createCgroups and removeCgroups on a fake layout', async (t) => {
  const { root, layout } = hybrid();
  const rec = makeCgroupDirs('id1', '/n1/n2', layout);
  t.same(
    rec.paths,
    ['memory', 'pids', 'devices', 'unified'].map((h) => join(root, h, 'n1/n2')),
  );
  t.equal(rec.unified, join(root, 'unified/n1/n2'));
  t.equal(rec.freezer, join(root, 'unified/n1/n2/cgroup.freeze'), 'no v1 freezer: the v2 one');
  t.equal(rec.created.length, 8, 'two levels in four hierarchies');
  mkdirSync(join(root, 'memory/n1/n2/made-inside'));
  removeCgroups(rec, 0);
  for (const p of rec.created) t.equal(existsSync(p), false, `${p} removed`);
  t.equal(existsSync(join(root, 'memory/n1/n2/made-inside')), false, 'with what the container made inside');
  t.ok(existsSync(join(root, 'memory')), 'the hierarchy stays');
  let planned: CgroupRecord | undefined;
  const shared = makeCgroupDirs('id3', '/p/c', layout, undefined, (p) => {
    planned = p;
    t.notOk(existsSync(join(root, 'memory/p')), 'told before the first mkdir');
  });
  const sorted = (r?: CgroupRecord) => r && { ...r, created: [...r.created].sort() };
  t.same(sorted(planned), sorted(shared), 'what it said it would make is what it made');
  t.same(
    shared.created,
    [join(root, 'memory/p/c'), join(root, 'pids/p/c'), join(root, 'devices/p/c'), join(root, 'memory/p'), join(root, 'pids/p'), join(root, 'devices/p')].sort(
      (a, b) => b.length - a.length,
    ),
    'existing directories (unified/p/c) are not recorded as made',
  );
  t.same(makeCgroupDirs('id4', undefined, layout).paths[0], join(root, 'memory/corral/id4'), 'the default path');
  // Two levels with no devices hierarchy and no v2: a failing field undoes the directories.
  const plain: Layout = { mode: 'v1', hierarchies: layout.hierarchies.slice(0, 2) };
  t.throws(() => createCgroups('id2', '/m1/m2', { cpu: { shares: 100 } }, plain), /cpu\/shares: the cpu cgroup controller is not available/);
  t.equal(existsSync(join(root, 'memory/m1')), false, 'nothing left after a failed create');
  const ok = createCgroups('id5', '/m1', {}, plain);
  t.equal(ok.resources, undefined, 'nothing to record');
  removeCgroups(ok, 0);
});

t.test('v2 OOM watch: memory.events changes, counted by its oom key', async (t) => {
  const { watchV2 } = await import('../../src/linux/cgroups/oom');
  const d = tree({ 'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n' });
  let ooms = 0;
  let gone = false;
  let seen: () => void = () => {};
  const w = watchV2(
    d,
    () => {
      ooms++;
      seen();
    },
    () => {
      gone = true;
    },
  );
  const next = () =>
    new Promise<void>((resolve) => {
      seen = resolve;
    });
  let wait = next();
  writeFileSync(join(d, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
  await wait;
  t.equal(ooms, 1, 'one OOM');
  wait = next();
  writeFileSync(join(d, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n');
  writeFileSync(join(d, 'memory.events'), 'low 0\nhigh 0\nmax 5\noom 2\noom_kill 2\n');
  await wait;
  t.equal(ooms, 2, 'other changes are no OOM');
  w.close();
  t.equal(gone, false);
});
