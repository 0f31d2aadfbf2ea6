#!/usr/bin/env node
// Writes the hand-made part of the corpus: configs in the shapes that crun's and runc's
// own test suites and Docker use (corral's own configs, written from what those projects
// document and check, not copied from them), into test/compat/corpus/{crun-tests,
// runc-tests,docker}/NAME.json. Run by hand: node test/compat/shapes.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const CORPUS = join(dirname(new URL(import.meta.url).pathname), 'corpus');
const clone = (v) => structuredClone(v);

function save(caller, name, produced, config) {
  mkdirSync(join(CORPUS, caller), { recursive: true });
  writeFileSync(join(CORPUS, caller, `${name}.json`), JSON.stringify({ _compat: { produced }, ...config }, null, 2) + '\n');
}

// ---------------------------------------------------------------- crun's test suite
// Its base config: a read-only root, only a mount namespace, no capabilities listed,
// PATH=/bin, rootfsPropagation "rprivate", proc without a source, cgroup rw; tests add
// the other namespaces and one feature each.
const crunBase = {
  ociVersion: '1.0.0',
  process: { user: { uid: 0, gid: 0 }, terminal: false, args: ['/init', 'true'], env: ['PATH=/bin', 'TERM=xterm'], cwd: '/', noNewPrivileges: true },
  root: { path: 'rootfs', readonly: true },
  mounts: [
    { destination: '/proc', type: 'proc' },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'rw'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ],
  linux: { rootfsPropagation: 'rprivate', namespaces: [{ type: 'mount' }] },
};
const allNs = (c, extra = []) => {
  for (const type of ['pid', 'ipc', 'uts', 'network', ...extra]) c.linux.namespaces.push({ type });
  return c;
};
const crun = (name, what, edit) => {
  const c = clone(crunBase);
  edit?.(c);
  save('crun-tests', name, `hand-written in the shape of crun's test suite (tests/tests_utils.py base config): ${what}`, c);
};
crun('base', 'the base config as is', undefined);
crun('all-namespaces', 'base + pid, ipc, uts, network namespaces', (c) => allNs(c));
crun('cgroupns', 'base + all namespaces and a cgroup namespace', (c) => allNs(c, ['cgroup']));
crun('userns', 'base + all namespaces and a user namespace mapping 0 -> 100000 (65536 ids)', (c) => {
  allNs(c, ['user']);
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
});
crun('capabilities', 'all namespaces + capability sets with inheritable and ambient (a raise the kernel allows)', (c) => {
  allNs(c);
  const caps = ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_KILL'];
  c.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: ['CAP_KILL'] };
});
crun('uid-gid', 'all namespaces + user uid 1, gid 2, additionalGids, umask', (c) => {
  allNs(c);
  c.process.user = { uid: 1, gid: 2, additionalGids: [3, 4, 5], umask: 63 };
});
crun('rlimits', 'all namespaces + rlimits', (c) => {
  allNs(c);
  c.process.rlimits = [
    { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
    { type: 'RLIMIT_NPROC', soft: 50, hard: 60 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
  ];
});
crun('hostname-domainname', 'all namespaces + hostname and domainname', (c) => {
  allNs(c);
  c.hostname = 'foomachine';
  c.domainname = 'foo.example';
});
crun('paths', 'all namespaces + masked (a file, a directory) and readonly paths', (c) => {
  allNs(c);
  c.linux.maskedPaths = ['/proc/kcore', '/etc/passwd', '/home', '/nonexistent'];
  c.linux.readonlyPaths = ['/proc/sys', '/var'];
});
crun('devices', 'all namespaces + a device node and a device cgroup rule', (c) => {
  allNs(c);
  c.linux.devices = [{ path: '/dev/foo', type: 'c', major: 1, minor: 3, fileMode: 0o644, uid: 0, gid: 0 }];
  c.linux.resources = {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
    ],
  };
});
crun('resources', 'all namespaces + memory, cpu and pids limits (no cgroupsPath)', (c) => {
  allNs(c);
  c.linux.resources = { memory: { limit: 67108864 }, cpu: { shares: 512, quota: 50000, period: 100000 }, pids: { limit: 64 } };
});
crun('tmpfs-bind-options', 'all namespaces + a tmpfs with mode/size and a read-only nosuid bind mount', (c) => {
  allNs(c);
  c.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777', 'size=1m', 'nodev'] });
  c.mounts.push({ destination: '/mnt', type: 'bind', source: '@DIR@/vol', options: ['bind', 'ro', 'nosuid'] });
});
crun('rro-bind', 'all namespaces + a recursive read-only bind mount (rro)', (c) => {
  allNs(c);
  c.mounts.push({ destination: '/mnt', type: 'bind', source: '@DIR@/vol', options: ['rbind', 'rro'] });
});

// ---------------------------------------------------------------- runc's test suite
// Its bundles are `runc spec` (ambient capabilities and all) with process.args set and
// then edited one field at a time (the tests use jq).
const spec = JSON.parse(readFileSync(join(CORPUS, 'runc/spec.json'), 'utf8'));
delete spec._compat;
spec.process.terminal = false;
spec.process.args = ['sh'];
const runc = (name, what, edit) => {
  const c = clone(spec);
  edit(c);
  save('runc-tests', name, `hand-written in the shape of runc's integration tests (tests/integration/helpers.bash: runc spec, then edited): ${what}`, c);
};
runc('user-additional-gids', 'user 1000:1000 with additionalGids', (c) => (c.process.user = { uid: 1000, gid: 1000, additionalGids: [100, 65534] }));
runc('rlimits', "rlimits added to the spec's NOFILE", (c) =>
  c.process.rlimits.push({ type: 'RLIMIT_NPROC', soft: 100, hard: 200 }, { type: 'RLIMIT_STACK', soft: 8388608, hard: 8388608 }),
);
runc('masked-paths', 'maskedPaths += a file and a directory of the rootfs', (c) => c.linux.maskedPaths.push('/etc/passwd', '/home'));
runc('readonly-paths', 'readonlyPaths += a directory of the rootfs, root writable', (c) => {
  c.root.readonly = false;
  c.linux.readonlyPaths.push('/etc');
});
runc('hooks', 'hooks of every kind running /bin/true', (c) => {
  const h = [{ path: '/bin/true', args: ['true'] }];
  c.hooks = { prestart: h, createRuntime: h, createContainer: h, startContainer: [{ path: '/bin/true', args: ['true'] }], poststart: h, poststop: h };
});
runc('cgroups', 'cgroupsPath and memory, cpu, pids, blkio resources', (c) => {
  c.linux.cgroupsPath = '/runc-cgroups-integration-test/test-cgroup';
  c.linux.resources = { ...c.linux.resources, memory: { limit: 33554432, reservation: 25165824 }, cpu: { shares: 100, quota: 500000, period: 1000000 }, pids: { limit: 20 } };
});
runc('bind-mount', 'an rbind mount of a host directory', (c) => c.mounts.push({ source: '@DIR@/vol', destination: '/mnt', options: ['rbind', 'rw'] }));
runc('cwd-env', 'cwd /tmp and extra env', (c) => {
  c.process.cwd = '/tmp';
  c.process.env.push('FOO=bar', 'EMPTY=');
});
runc('seccomp', 'a seccomp profile allowing all but mkdir/mkdirat', (c) => {
  c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
});
runc('userns', 'a user namespace mapping 0 -> 100000 (65536 ids)', (c) => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
});

// ---------------------------------------------------------------- Docker
// The shape dockerd writes: its 14 default capabilities (no inheritable or ambient),
// rprivate binds, its masked and readonly lists, /dev/shm 64m, mqueue, devpts gid=5, a
// cgroup mount read-only, the device cgroup allow-list, cgroupsPath /docker/ID.
const dockerCaps = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];
const devRule = (type, major, minor, access) => ({ allow: true, type, major, minor, access });
const dockerBase = {
  ociVersion: '1.0.2-dev',
  process: {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=0123456789ab'],
    cwd: '/',
    capabilities: { bounding: dockerCaps, effective: dockerCaps, permitted: dockerCaps },
    apparmorProfile: '',
    oomScoreAdj: 0,
  },
  root: { path: 'rootfs', readonly: false },
  hostname: '0123456789ab',
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
    { destination: '/etc/resolv.conf', type: 'bind', source: '@FILE@/etc-resolv.conf', options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: '@FILE@/etc-hostname', options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: '@FILE@/etc-hosts', options: ['rbind', 'rprivate'] },
  ],
  linux: {
    resources: {
      devices: [
        { allow: false, access: 'rwm' },
        devRule('c', 1, 5, 'rwm'),
        devRule('c', 1, 3, 'rwm'),
        devRule('c', 1, 9, 'rwm'),
        devRule('c', 1, 8, 'rwm'),
        devRule('c', 5, 0, 'rwm'),
        devRule('c', 5, 1, 'rwm'),
        devRule('c', null, null, 'm'),
        devRule('b', null, null, 'm'),
        devRule('c', 1, 7, 'rwm'),
        devRule('c', 136, null, 'rwm'),
        devRule('c', 5, 2, 'rwm'),
        devRule('c', 10, 200, 'rwm'),
      ],
      blockIO: {},
    },
    cgroupsPath: '/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }],
    maskedPaths: [
      '/proc/asound',
      '/proc/acpi',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/proc/sched_debug',
      '/proc/scsi',
      '/sys/firmware',
      '/sys/devices/virtual/powercap',
    ],
    readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  },
};
// (devRule's null major/minor mean "any" in Docker's JSON; the spec's shape omits them)
for (const r of dockerBase.linux.resources.devices) for (const k of ['major', 'minor']) if (r[k] === null) delete r[k];
const docker = (name, what, edit) => {
  const c = clone(dockerBase);
  edit?.(c);
  save('docker', name, `hand-written in the shape dockerd writes (docker run ${what})`, c);
};
docker('default', 'IMAGE sh', undefined);
docker('volume-rshared', '-v /HOST:/mnt:rshared: rootfsPropagation rshared for it', (c) => {
  c.linux.rootfsPropagation = 'rshared';
  c.mounts.push({ destination: '/mnt', type: 'bind', source: '@DIR@/vol', options: ['rbind', 'rshared'] });
});
docker('volume-rslave', '-v /HOST:/mnt:rslave,ro: rootfsPropagation rslave for it', (c) => {
  c.linux.rootfsPropagation = 'rslave';
  c.mounts.push({ destination: '/mnt', type: 'bind', source: '@DIR@/vol', options: ['rbind', 'ro', 'rslave'] });
});
docker('user-resources', '--user 65534:65534 --group-add 5 --memory 128m --memory-swap 256m --cpu-shares 512 --cpus 1.5 --pids-limit 50', (c) => {
  c.process.user = { uid: 65534, gid: 65534, additionalGids: [5] };
  Object.assign(c.linux.resources, { memory: { limit: 134217728, swap: 268435456 }, cpu: { shares: 512, quota: 150000, period: 100000 }, pids: { limit: 50 } });
});
docker('read-only-tmpfs', '--read-only --tmpfs /run', (c) => {
  c.root.readonly = true;
  c.mounts.push({ destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'] });
});
docker('no-new-privileges-ulimit', '--security-opt no-new-privileges --ulimit nofile=1024:2048', (c) => {
  c.process.noNewPrivileges = true;
  c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }];
});
