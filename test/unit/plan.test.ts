// The plan: mount options, capability masks, seccomp records and createPlan's records,
// all computed without starting anything.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isCorralError } from '../../src/base/errors';
import { CAPABILITIES, capabilityMasks, kernelLastCap } from '../../src/linux/capabilities';
import { hostLayout, dirOf } from '../../src/linux/cgroups/layout';
import { cgroupPathFor } from '../../src/linux/cgroups/manager';
import { MS, PROPAGATION, parseMountOptions } from '../../src/linux/mounts';
import { NAMESPACES } from '../../src/linux/namespaces';
import { Plan, createPlan, type CreateOptions } from '../../src/linux/plan';
import { RECORDS } from '../../src/linux/plan-records';
import { addSeccomp } from '../../src/linux/seccomp';
import type { Config } from '../../src/spec/types';
import { baseConfig, corralError } from '../lib/corral';

type Cfg = Record<string, any>;

const bundleDir = mkdtempSync(join(tmpdir(), 'corral-plan-'));
mkdirSync(join(bundleDir, 'rootfs'));
mkdirSync(join(bundleDir, 'data'));
writeFileSync(join(bundleDir, 'file.txt'), 'x');
t.teardown(() => rmSync(bundleDir, { recursive: true, force: true }));

const opts = (o: Partial<CreateOptions> = {}): CreateOptions => ({
  bundle: bundleDir,
  fifo: '/run/c/exec.fifo',
  noPivot: false,
  preserveFds: 0,
  cgroups: { paths: [], created: [] },
  cgroupHome: [],
  cleanup: { files: [], dir: '/run/c' },
  id: 'c1',
  ...o,
});

/** baseConfig() on the temp rootfs, after edit. */
function config(edit?: (c: Cfg) => void): Config {
  const c = structuredClone(baseConfig(['sh', '-c', 'echo hi'])) as Cfg;
  c.root = { path: 'rootfs', readonly: true };
  edit?.(c);
  return c as Config;
}

const plan = (edit?: (c: Cfg) => void, o?: Partial<CreateOptions>) => createPlan(config(edit), opts(o));
const tagged = (p: Plan, tag: string) => p.records.filter((r) => r[0] === tag).map((r) => r.slice(1));
const one = (p: Plan, tag: string) => {
  const r = tagged(p, tag);
  if (r.length !== 1) throw new Error(`${r.length} ${tag} records`);
  return r[0];
};

/** The message of the CorralError fn throws (fails the test on any other outcome). */

// ---------------------------------------------------------------- mount options

t.test('parseMountOptions: flags set and cleared', async (t) => {
  t.equal(parseMountOptions(['ro'], 'f').flags, MS.RDONLY);
  t.equal(parseMountOptions(['ro', 'rw'], 'f').flags, 0, 'rw clears ro');
  t.equal(parseMountOptions(['rw', 'ro'], 'f').flags, MS.RDONLY, 'the last one wins');
  t.equal(parseMountOptions(['nosuid', 'nodev', 'noexec'], 'f').flags, MS.NOSUID | MS.NODEV | MS.NOEXEC);
  t.equal(parseMountOptions(['nosuid', 'nodev', 'noexec', 'suid', 'dev', 'exec'], 'f').flags, 0);
  t.equal(parseMountOptions(['nosuid', 'strictatime'], 'f').flags, MS.NOSUID | MS.STRICTATIME);
  t.equal(parseMountOptions(['sync', 'async'], 'f').flags, 0);
  t.equal(parseMountOptions(['noatime', 'atime', 'relatime', 'norelatime'], 'f').flags, 0);
  t.equal(parseMountOptions(['defaults'], 'f').flags, 0);
  t.equal(parseMountOptions(['remount', 'ro'], 'f').flags, MS.REMOUNT | MS.RDONLY);
  t.same(parseMountOptions([], 'f'), { flags: 0, propagation: 0, data: [], bind: false, copyup: false, attrSet: 0, attrClear: 0 });
  t.equal(parseMountOptions(['iversion'], 'f').flags, MS.I_VERSION, 'iversion is a flag, not filesystem data');
  t.same(parseMountOptions(['iversion', 'noiversion'], 'f').data, []);
  t.equal(parseMountOptions(['rw', 'tmpcopyup'], 'f').copyup, true, "tmpcopyup, runc's extension");
});

t.test('parseMountOptions: propagation', async (t) => {
  t.equal(parseMountOptions(['rslave'], 'f').propagation, MS.SLAVE | MS.REC);
  t.equal(parseMountOptions(['private'], 'f').propagation, MS.PRIVATE);
  t.equal(parseMountOptions(['rshared'], 'f').propagation, MS.SHARED | MS.REC);
  t.equal(parseMountOptions(['runbindable'], 'f').propagation, MS.UNBINDABLE | MS.REC);
  t.equal(parseMountOptions(['shared', 'rprivate'], 'f').propagation, MS.PRIVATE | MS.REC, 'the last one wins');
  t.equal(parseMountOptions(['rslave'], 'f').flags, 0, 'propagation is not in flags');
});

t.test('parseMountOptions: data options', async (t) => {
  const p = parseMountOptions(['nosuid', 'mode=755', 'ro', 'size=65536k', 'newinstance'], 'f');
  t.same(p.data, ['mode=755', 'size=65536k', 'newinstance'], 'in order');
  t.equal(p.flags, MS.NOSUID | MS.RDONLY);
});

t.test('parseMountOptions: bind and rbind', async (t) => {
  const b = parseMountOptions(['bind', 'ro'], 'f');
  t.equal(b.bind, true);
  t.equal(b.flags, MS.BIND | MS.RDONLY);
  const r = parseMountOptions(['rbind'], 'f');
  t.equal(r.bind, true);
  t.equal(r.flags, MS.BIND | MS.REC);
  t.equal(parseMountOptions(['ro'], 'f').bind, false);
});

t.test('parseMountOptions: unsupported options are errors naming the field', async (t) => {
  t.throws(() => parseMountOptions(['ro', 'nosuid', 'idmap'], '/mounts/3/options'), {
    message: '/mounts/3/options/2: mount option "idmap" is not supported by corral',
  });
});

t.test('parseMountOptions: recursive options are mount_setattr attributes', async (t) => {
  const RDONLY = 0x1,
    NOSUID = 0x2,
    NODEV = 0x4,
    NOEXEC = 0x8,
    ATIME = 0x70,
    NOATIME = 0x10,
    STRICTATIME = 0x20;
  const r = parseMountOptions(['rbind', 'rro', 'rnosuid', 'rnodev', 'rnoexec'], 'f');
  t.same([r.attrSet, r.attrClear, r.data, r.flags], [RDONLY | NOSUID | NODEV | NOEXEC, 0, [], MS.BIND | MS.REC]);
  const back = parseMountOptions(['rro', 'rrw', 'rnosuid', 'rsuid'], 'f');
  t.same([back.attrSet, back.attrClear], [0, RDONLY | NOSUID], 'the later option wins');
  const atime = parseMountOptions(['rnoatime'], 'f');
  t.same([atime.attrSet, atime.attrClear], [NOATIME, ATIME], 'an atime mode clears the whole atime field');
  const strict = parseMountOptions(['rnoatime', 'rstrictatime'], 'f');
  t.same([strict.attrSet, strict.attrClear], [STRICTATIME, ATIME]);
});

// ---------------------------------------------------------------- capabilities

t.test('capabilityMasks: the five sets as bit masks', async (t) => {
  const m = capabilityMasks({ bounding: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_SYS_ADMIN'], permitted: ['CAP_NET_RAW', 'CAP_CHOWN'], ambient: [] });
  // order: bounding, effective, inheritable, permitted, ambient
  t.same(m, [String(1 + (1 << 5)), String(2 ** 21), '0', String(2 ** 13 + 1), '0']);
  t.same(capabilityMasks({}), ['0', '0', '0', '0', '0']);
  const last = kernelLastCap();
  t.ok(last >= 36 && last < 64, `cap_last_cap ${last}`);
  const all = capabilityMasks({ bounding: CAPABILITIES });
  t.equal(all[0], ((1n << BigInt(Math.min(last, CAPABILITIES.length - 1) + 1)) - 1n).toString(), 'capabilities newer than the kernel are left out');
  const newest = capabilityMasks({ bounding: ['CAP_CHECKPOINT_RESTORE'] })[0];
  t.equal(newest, last >= 40 ? (1n << 40n).toString() : '0');
});

t.test('capabilityMasks: unknown names are errors with a pointer', async (t) => {
  t.throws(() => capabilityMasks({ effective: ['CAP_KILL', 'CAP_BOGUS'] }), {
    message: '/process/capabilities/effective/1: unknown capability "CAP_BOGUS"',
  });
  t.throws(() => capabilityMasks({ ambient: ['kill'] }, '/x/capabilities'), { message: '/x/capabilities/ambient/0: unknown capability "kill"' });
  const msg = corralError(t, () =>
    plan((c) => {
      c.process.capabilities.permitted.push('CAP_NOPE');
    }),
  );
  t.equal(msg, '/process/capabilities/permitted/6: unknown capability "CAP_NOPE"');
});

// ---------------------------------------------------------------- namespaces and id maps

const baseFlags = ['pid', 'network', 'ipc', 'uts', 'mount'].reduce((f, n) => f | NAMESPACES[n].flag, 0);

t.test('namespaces: new ones in cloneflags, joined ones as setns', async (t) => {
  const p = plan();
  t.same(p.records[0], ['mode', 'create']);
  t.same(one(p, 'cloneflags'), [String(baseFlags)]);
  t.same(tagged(p, 'setns'), []);
  const j = plan((c) => {
    c.linux.namespaces[1].path = '/proc/1/ns/net';
    c.linux.namespaces[2].path = '/proc/1/ns/ipc';
  });
  t.same(tagged(j, 'setns'), [
    [String(NAMESPACES.network.flag), '/proc/1/ns/net'],
    [String(NAMESPACES.ipc.flag), '/proc/1/ns/ipc'],
  ]);
  t.same(one(j, 'cloneflags'), [String(baseFlags & ~NAMESPACES.network.flag & ~NAMESPACES.ipc.flag)]);
  const tm = plan((c) => {
    c.linux.namespaces.push({ type: 'time' }, { type: 'cgroup' });
  });
  t.same(one(tm, 'cloneflags'), [String(baseFlags | 0x80 | 0x02000000)]);
  t.same(tagged(p, 'uidmap'), [], 'no id maps without a user namespace');
});

t.test('user namespace: uid/gid map text', async (t) => {
  const p = plan((c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [
      { containerID: 0, hostID: 100000, size: 1000 },
      { containerID: 1000, hostID: 5000, size: 1 },
    ];
    c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
  });
  t.same(one(p, 'uidmap'), ['0 100000 1000\n1000 5000 1\n']);
  t.same(one(p, 'gidmap'), ['0 200000 65536\n']);
  t.same(one(p, 'cloneflags'), [String(baseFlags | NAMESPACES.user.flag)]);
  const joined = plan((c) => {
    c.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
  });
  t.same(tagged(joined, 'uidmap'), [], 'a joined user namespace has its maps');
  t.same(tagged(joined, 'gidmap'), []);
});

t.test('time namespace offsets', async (t) => {
  const p = plan((c) => {
    c.linux.namespaces.push({ type: 'time' });
    c.linux.timeOffsets = { monotonic: { secs: 10 }, boottime: { secs: 2, nanosecs: 3 } };
  });
  t.same(one(p, 'timens'), ['monotonic 10 0\nboottime 2 3\n']);
  t.same(tagged(plan(), 'timens'), []);
});

// ---------------------------------------------------------------- devices and links

const defaults = [
  ['/dev/null', 'c', '1', '3'],
  ['/dev/zero', 'c', '1', '5'],
  ['/dev/full', 'c', '1', '7'],
  ['/dev/random', 'c', '1', '8'],
  ['/dev/urandom', 'c', '1', '9'],
  ['/dev/tty', 'c', '5', '0'],
];

t.test('devices: the defaults, mknod without a user namespace', async (t) => {
  t.same(
    tagged(plan(), 'device'),
    defaults.map((d) => [...d, '438', '0', '0', 'mknod']),
  );
});

t.test('devices: config devices replace defaults of the same path; "u" is "c"', async (t) => {
  const p = plan((c) => {
    c.linux.devices = [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 1, gid: 2 },
      { path: '/dev/null', type: 'u', major: 1, minor: 3, fileMode: 0o620 },
      { path: '/dev/loop0', type: 'b', major: 7, minor: 0 },
    ];
  });
  const d = tagged(p, 'device');
  t.same(d, [
    ...defaults.filter((x) => x[0] !== '/dev/null').map((x) => [...x, '438', '0', '0', 'mknod']),
    ['/dev/fuse', 'c', '10', '229', '384', '1', '2', 'mknod'],
    ['/dev/null', 'c', '1', '3', '400', '0', '0', 'mknod'],
    ['/dev/loop0', 'b', '7', '0', '438', '0', '0', 'mknod'],
  ]);
});

t.test('devices: bound from the host under a user namespace, owners mapped', async (t) => {
  const p = plan((c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, uid: 5, gid: 6 }];
  });
  const d = tagged(p, 'device');
  t.equal(d.length, 7);
  t.ok(
    d.every((r) => r[7] === 'bind'),
    'every device is bound',
  );
  t.same(d[0], ['/dev/null', 'c', '1', '3', '438', '100000', '200000', 'bind']);
  t.same(d[6], ['/dev/fuse', 'c', '10', '229', '438', '100005', '200006', 'bind']);
});

t.test('symlinks: the defaults, ptmx only with a devpts mount', async (t) => {
  const links = [
    ['/proc/self/fd', '/dev/fd'],
    ['/proc/self/fd/0', '/dev/stdin'],
    ['/proc/self/fd/1', '/dev/stdout'],
    ['/proc/self/fd/2', '/dev/stderr'],
  ];
  if (existsSync('/proc/kcore')) links.push(['/proc/kcore', '/dev/core']);
  t.same(tagged(plan(), 'symlink'), [...links, ['pts/ptmx', '/dev/ptmx']]);
  t.same(
    tagged(
      plan((c) => {
        c.mounts = c.mounts.filter((m: Cfg) => m.type !== 'devpts');
      }),
      'symlink',
    ),
    links,
  );
});

t.test('a bind-mounted /dev: no default devices or links, config devices stay', async (t) => {
  const p = plan((c) => {
    c.mounts = c.mounts.filter((m: Cfg) => !m.destination.startsWith('/dev'));
    c.mounts.push({ destination: '/dev', type: 'bind', source: 'data', options: ['rbind'] });
    c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }];
  });
  t.same(tagged(p, 'device'), [['/dev/fuse', 'c', '10', '229', '438', '0', '0', 'mknod']]);
  t.same(tagged(p, 'symlink'), []);
});

// ---------------------------------------------------------------- paths, sysctls, misc

t.test('masked, readonly and sysctl records', async (t) => {
  const p = plan((c) => {
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '8192' };
  });
  t.same(tagged(p, 'masked'), [['/proc/kcore'], ['/proc/keys']]);
  t.same(tagged(p, 'readonly'), [['/proc/sys'], ['/proc/sysrq-trigger']]);
  t.same(tagged(p, 'sysctl'), [
    ['net.ipv4.ip_forward', '1'],
    ['kernel.msgmax', '8192'],
  ]);
});

t.test('options and config fields become their records', async (t) => {
  const p = plan(
    (c) => {
      c.process.oomScoreAdj = 100;
      c.domainname = 'example.org';
      c.linux.rootfsPropagation = 'slave';
      c.hooks = { createRuntime: [{ path: '/bin/true' }] };
    },
    {
      noPivot: true,
      preserveFds: 2,
      cgroupHome: ['/sys/fs/cgroup/cgroup.procs'],
      cgroups: { paths: ['/sys/fs/cgroup/a', '/sys/fs/cgroup/unified/a'], created: ['/sys/fs/cgroup/a'], unified: '/sys/fs/cgroup/unified/a' },
      cleanup: { files: ['/run/x'], dir: '/run/c' },
    },
  );
  t.same(tagged(p, 'cgroup'), [['/sys/fs/cgroup/a/cgroup.procs'], ['/sys/fs/cgroup/unified/a/cgroup.procs']], 'a record per directory to join');
  t.same(one(p, 'cgroup2'), ['/sys/fs/cgroup/unified/a'], 'the cgroup2 directory, to clone the init into');
  t.same(one(p, 'cgroup-home'), ['/sys/fs/cgroup/cgroup.procs']);
  t.same(one(p, 'cleanup-cgroup'), ['/sys/fs/cgroup/a']);
  t.same(one(p, 'cleanup-file'), ['/run/x']);
  t.same(one(p, 'cleanup-dir'), ['/run/c']);
  t.same(one(p, 'oomscore'), ['100']);
  t.same(one(p, 'hostname'), ['corral-test']);
  t.same(one(p, 'domainname'), ['example.org']);
  t.same(one(p, 'rootfs'), [join(bundleDir, 'rootfs')]);
  t.same(one(p, 'readonlyroot'), ['1']);
  t.same(one(p, 'nopivot'), ['1']);
  t.same(one(p, 'rootprop'), [String(PROPAGATION.slave)]);
  t.same(one(p, 'hooks'), ['1']);
  t.same(one(p, 'preservefds'), ['2']);
  t.same(one(p, 'fifo'), ['/run/c/exec.fifo']);
  const q = plan((c) => {
    c.root.readonly = false;
  });
  for (const tag of ['readonlyroot', 'nopivot', 'rootprop', 'hooks', 'preservefds', 'oomscore', 'domainname', 'cgroup', 'cgroup2'])
    t.same(tagged(q, tag), [], `no ${tag} record by default`);
});

// ---------------------------------------------------------------- rlimits and the process

t.test('rlimits', async (t) => {
  const p = plan((c) => {
    c.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
    ];
  });
  t.same(tagged(p, 'rlimit'), [
    ['7', '1024', '4096'],
    ['4', '0', '0'],
  ]);
  const msg = corralError(t, () =>
    plan((c) => {
      c.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 },
        { type: 'RLIMIT_BOGUS', soft: 1, hard: 1 },
      ];
    }),
  );
  t.match(msg, /^\/process\/rlimits\/1\/type: unknown rlimit "RLIMIT_BOGUS" \(one of RLIMIT_CPU, .*RLIMIT_NOFILE.*\)$/);
  t.equal(
    corralError(t, () =>
      plan((c) => {
        c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }];
      }),
    ),
    '/process/rlimits/0: soft limit 10 is above hard limit 5',
  );
});

t.test('rlimits: unlimited (2^64-1) stays RLIM_INFINITY', async (t) => {
  // A config written by Go (podman, containerd) says 18446744073709551615 for "unlimited".
  const c = JSON.parse(JSON.stringify(config()).replace('"args"', '"rlimits":[{"type":"RLIMIT_CORE","soft":18446744073709551615,"hard":18446744073709551615}],"args"'));
  const p = createPlan(c as Config, opts());
  t.same(tagged(p, 'rlimit'), [['4', '18446744073709551615', '18446744073709551615']]);
});

t.test('process: user, gids, caps, cwd, args, env', async (t) => {
  const p = plan((c) => {
    c.process.user = { uid: 1000, gid: 100, umask: 0o22, additionalGids: [5, 6] };
    c.process.cwd = '/tmp';
    c.process.env = ['A=1', 'B=two words'];
  });
  t.same(one(p, 'user'), ['1000', '100', '18']);
  t.same(tagged(p, 'gid'), [['5'], ['6']]);
  const caps = one(p, 'caps');
  const set = String(1 + 2 + 32 + 64 + 128 + 8192); // CHOWN DAC_OVERRIDE KILL SETGID SETUID NET_RAW
  t.same(caps, [set, set, '0', set, '0']);
  t.same(one(p, 'nnp'), ['1']);
  t.same(one(p, 'cwd'), ['/tmp']);
  t.same(tagged(p, 'arg'), [['sh'], ['-c'], ['echo hi']]);
  t.same(tagged(p, 'env'), [['A=1'], ['B=two words']]);
  t.same(one(plan(), 'user'), ['0', '0', '-1'], 'no umask is -1');
  t.same(
    tagged(
      plan((c) => {
        c.process.noNewPrivileges = false;
      }),
      'nnp',
    ),
    [],
  );
  const last = p.records.at(-1);
  t.same(last, ['env', 'B=two words'], 'the process records come last');
});

t.test('process: args are required', async (t) => {
  t.equal(
    corralError(t, () =>
      plan((c) => {
        c.process.args = [];
      }),
    ),
    '/process/args: the process needs at least one argument',
  );
  t.equal(
    corralError(t, () =>
      plan((c) => {
        delete c.process.args;
      }),
    ),
    '/process/args: the process needs at least one argument',
  );
});

t.test('no process: no process records', async (t) => {
  const p = plan((c) => {
    delete c.process;
  });
  for (const tag of ['user', 'gid', 'caps', 'rlimit', 'nnp', 'cwd', 'arg', 'env']) t.same(tagged(p, tag), [], `no ${tag}`);
  t.same(p.records.at(-1), ['fifo', '/run/c/exec.fifo']);
});

t.test('a process without user runs as root or is rejected by name', async (t) => {
  let p: Plan | undefined;
  try {
    p = plan((c) => {
      delete c.process.user;
    });
  } catch (e) {
    t.ok(isCorralError(e), `a CorralError, not ${String(e)}`);
    t.match((e as Error).message, /\/process\/user/);
    return;
  }
  t.same(one(p, 'user'), ['0', '0', '-1']);
});

// ---------------------------------------------------------------- seccomp

t.test('seccomp records', async (t) => {
  const p = plan((c) => {
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_AARCH64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        {
          names: ['personality'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 8, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 255, valueTwo: 7, op: 'SCMP_CMP_MASKED_EQ' },
          ],
        },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
      ],
    };
  });
  t.same(one(p, 'seccomp'), ['SCMP_ACT_ERRNO', '38']);
  t.same(tagged(p, 'seccomp-arch'), [['x86_64'], ['aarch64']]);
  t.same(one(p, 'seccomp-flags'), ['6']);
  t.same(tagged(p, 'seccomp-rule'), [
    ['SCMP_ACT_ALLOW', '1', 'read', ''],
    ['SCMP_ACT_ALLOW', '1', 'write', ''],
    ['SCMP_ACT_ALLOW', '1', 'personality', '0:8:0:SCMP_CMP_EQ;1:255:7:SCMP_CMP_MASKED_EQ'],
    ['SCMP_ACT_ERRNO', '13', 'mkdir', ''],
  ]);
  const fifo = p.records.findIndex((r) => r[0] === 'fifo');
  const sc = p.records.findIndex((r) => r[0] === 'seccomp');
  const user = p.records.findIndex((r) => r[0] === 'user');
  t.ok(fifo < sc && sc < user, 'seccomp after the fifo, before the process');
  const plain = new Plan();
  addSeccomp(plain, { defaultAction: 'SCMP_ACT_ALLOW' });
  t.same(plain.records, [['seccomp', 'SCMP_ACT_ALLOW', '1']], 'no flags record without flags');
  t.same(tagged(plan(), 'seccomp'), [], 'no seccomp without linux.seccomp');
  const ignored = new Plan();
  addSeccomp(ignored, { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock', listenerMetadata: 'm' });
  t.same(ignored.records, [['seccomp', 'SCMP_ACT_ALLOW', '1']], 'listenerPath is ignored when nothing notifies');
});

t.test('seccomp notify: the listener record carries the container process state', async (t) => {
  const p = plan((c) => {
    c.annotations = { a: 'b' };
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', listenerMetadata: 'meta', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
  });
  t.same(tagged(p, 'seccomp-rule'), [['SCMP_ACT_NOTIFY', '1', 'mkdir', '']]);
  const [path, tmpl] = one(p, 'seccomp-listener');
  t.equal(path, '/run/agent.sock');
  t.equal(tmpl.split('\x01').length, 3, 'the pid, twice, is left to the helper');
  const doc = JSON.parse(tmpl.split('\x01').join('4242'));
  t.same(doc, {
    ociVersion: '1.3.0',
    fds: ['seccompFd'],
    pid: 4242,
    metadata: 'meta',
    state: { ociVersion: '1.3.0', id: doc.state.id, status: 'created', pid: 4242, bundle: doc.state.bundle, annotations: { a: 'b' } },
  });
  const exec = new Plan();
  addSeccomp(exec, { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/l', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }, '/linux/seccomp', {
    id: 'c1',
    bundle: '/b',
    initPid: 77,
  });
  const e = JSON.parse(one(exec, 'seccomp-listener')[1].split('\x01').join('5'));
  t.same(
    e,
    { ociVersion: '1.3.0', fds: ['seccompFd'], pid: 5, state: { ociVersion: '1.3.0', id: 'c1', status: 'running', pid: 77, bundle: '/b' } },
    "for exec: running, the init's pid in state, no metadata when none is set",
  );
});

t.test('seccomp errors name the field', async (t) => {
  const err = (s: Cfg) =>
    corralError(t, () =>
      plan((c) => {
        c.linux.seccomp = s;
      }),
    );
  t.equal(err({ defaultAction: 'SCMP_ACT_NOPE' }), '/linux/seccomp/defaultAction: unknown seccomp action "SCMP_ACT_NOPE"');
  t.equal(
    err({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_ALLOW' },
        { names: ['b'], action: 'BOGUS' },
      ],
    }),
    '/linux/seccomp/syscalls/1/action: unknown seccomp action "BOGUS"',
  );
  t.equal(
    err({ defaultAction: 'SCMP_ACT_NOTIFY' }),
    "/linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default action: the runtime's own hand-over of the listener would wait on it",
  );
  t.equal(
    err({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }),
    "/linux/seccomp/listenerPath: SCMP_ACT_NOTIFY needs the path of the seccomp agent's socket",
  );
  t.equal(
    err({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/l.sock', syscalls: [{ names: ['sendmsg'], action: 'SCMP_ACT_NOTIFY' }] }),
    '/linux/seccomp/syscalls/0: SCMP_ACT_NOTIFY cannot be used for sendmsg: corral hands the listener to the agent with it',
  );
  t.equal(err({ defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'm' }), '/linux/seccomp/listenerMetadata: must not be set without listenerPath');
  t.equal(err({ defaultAction: 'SCMP_ACT_LOG', defaultErrnoRet: 1 }), '/linux/seccomp/defaultErrnoRet: SCMP_ACT_LOG takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)');
  t.equal(
    err({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_TRAP', errnoRet: 1 }] }),
    '/linux/seccomp/syscalls/0/errnoRet: SCMP_ACT_TRAP takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)',
  );
  t.equal(
    err({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['a'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 1, op: 'SCMP_CMP_SIMILAR' },
          ],
        },
      ],
    }),
    '/linux/seccomp/syscalls/0/args/1/op: unknown operator "SCMP_CMP_SIMILAR"',
  );
  t.equal(
    err({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['a'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }),
    '/linux/seccomp/syscalls/0/args/0/index: syscalls have 6 arguments (got 6)',
  );
  t.equal(err({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_VAX'] }), '/linux/seccomp/architectures/1: unknown architecture "SCMP_ARCH_VAX"');
  t.equal(err({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NOPE'] }), '/linux/seccomp/flags/0: unknown or unsupported seccomp flag "SECCOMP_FILTER_FLAG_NOPE"');
});

// ---------------------------------------------------------------- rootfs and mounts

t.test('rootfs: relative to the bundle or absolute; missing is an error', async (t) => {
  t.same(
    one(
      plan((c) => {
        c.root.path = join(bundleDir, 'data');
      }),
      'rootfs',
    ),
    [join(bundleDir, 'data')],
  );
  t.equal(
    corralError(t, () =>
      plan((c) => {
        c.root.path = 'nope';
      }),
    ),
    `/root/path: rootfs ${join(bundleDir, 'nope')}: no such file or directory`,
  );
  t.equal(
    corralError(t, () =>
      plan((c) => {
        c.root.path = 'file.txt';
      }),
    ),
    `/root/path: rootfs ${join(bundleDir, 'file.txt')}: not a directory`,
  );
});

t.test('mount records', async (t) => {
  const p = plan();
  const m = tagged(p, 'mount');
  t.equal(m.length, 5);
  t.same(m[0], ['proc', '/proc', 'proc', '0', '', '0', 'dir', '0', '0', '0']);
  t.same(m[1], ['tmpfs', '/dev', 'tmpfs', String(MS.NOSUID | MS.STRICTATIME), 'mode=755,size=65536k', '0', 'dir', '0', '0', '0']);
  t.same(m[4], ['sysfs', '/sys', 'sysfs', String(MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY), '', '0', 'dir', '0', '0', '0']);
});

t.test('bind mounts: source from the bundle, kind from the source', async (t) => {
  const p = plan((c) => {
    c.mounts.push({ destination: '/data', type: 'bind', source: 'data', options: ['ro', 'rslave'] });
    c.mounts.push({ destination: '/etc/f', source: join(bundleDir, 'file.txt'), options: ['bind'] });
    c.mounts.push({ destination: '/r', type: 'none', source: './data', options: ['rbind', 'nosuid'] });
  });
  const m = tagged(p, 'mount').slice(5);
  t.same(m, [
    [join(bundleDir, 'data'), '/data', '', String(MS.BIND | MS.RDONLY), '', String(MS.SLAVE | MS.REC), 'dir', '0', '0', '0'],
    [join(bundleDir, 'file.txt'), '/etc/f', '', String(MS.BIND), '', '0', 'file', '0', '0', '0'],
    [join(bundleDir, 'data'), '/r', '', String(MS.BIND | MS.REC | MS.NOSUID), '', '0', 'dir', '0', '0', '0'],
  ]);
  t.equal(
    corralError(t, () =>
      plan((c) => {
        c.mounts.push({ destination: '/x', type: 'bind', source: 'missing' });
      }),
    ),
    `/mounts/5/source: ${join(bundleDir, 'missing')}: no such file or directory`,
  );
});

t.test('mount errors name the field', async (t) => {
  t.equal(
    corralError(t, () =>
      plan((c) => {
        c.mounts[3].options = ['nosuid', 'idmap'];
      }),
    ),
    '/mounts/3/options/1: mount option "idmap" is not supported by corral',
  );
  t.equal(
    corralError(t, () =>
      plan((c) => {
        c.mounts.push({ destination: '/m', type: 'bind', source: 'data', uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] });
      }),
    ),
    '/mounts/5: id-mapped mounts are not supported by corral',
  );
});

t.test('a cgroup mount follows the host layout', async (t) => {
  const layout = hostLayout();
  // The container's directories as createCgroups makes them for a config without cgroupsPath.
  const paths = layout.hierarchies.map((h) => dirOf(h, cgroupPathFor(h, undefined, 'c1')));
  const m = tagged(
    plan(
      (c) => {
        c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] });
      },
      { cgroups: { paths, created: [] } },
    ),
    'mount',
  ).slice(5);
  const base = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  if (layout.mode === 'v2') {
    t.same(m, [['cgroup', '/sys/fs/cgroup', 'cgroup2', String(MS.RDONLY | base), '', '0', 'dir', '0', '0', '0']]);
    return;
  }
  t.same(m[0], ['tmpfs', '/sys/fs/cgroup', 'tmpfs', String(base), 'mode=755', '0', 'dir', '0', '0', '0']);
  t.equal(m.length, layout.hierarchies.length + 2, 'tmpfs, one bind per hierarchy, remount ro');
  layout.hierarchies.forEach((h, i) => {
    const name = h.version === 2 ? 'unified' : h.controllers.map((c) => c.replace(/^name=/, '')).join(',');
    t.same(m[i + 1], [paths[i], `/sys/fs/cgroup/${name}`, '', String(MS.BIND | base | MS.RDONLY), '', '0', 'dir', '0', '0', '0']);
  });
  t.same(m.at(-1), ['', '/sys/fs/cgroup', '', String(MS.REMOUNT | MS.RDONLY | base), 'mode=755', '0', 'none', '0', '0', '0']);
  // --systemd-cgroup: cgroupsPath is "slice:prefix:name"; the binds come from where the
  // container was put (the scope systemd made), not from the path.
  const dirs = layout.hierarchies.map((h) => join(h.mount, 'system.slice/libpod-x.scope'));
  const sd = tagged(
    plan(
      (c) => {
        c.linux.cgroupsPath = 'machine.slice:libpod:x';
        c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid'] });
      },
      { cgroups: { paths: dirs, created: [] } },
    ),
    'mount',
  ).slice(6, 6 + dirs.length);
  t.same(
    sd.map((x) => x[0]),
    dirs,
    "the record's directories are the sources",
  );
});

// ---------------------------------------------------------------- encoding

t.test('Plan.encode: "<len>\\n", then records framed by length', async (t) => {
  const p = new Plan().add('mode', 'create').add('arg', 'héllo').add('rlimit', 7, '1', 2).add('env', '');
  const buf = p.encode();
  const nl = buf.indexOf(10);
  const body = buf.subarray(nl + 1);
  t.equal(buf.subarray(0, nl).toString(), String(body.length), 'the length counts bytes');
  const field = (s: string) => {
    const b = Buffer.from(s);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return Buffer.concat([len, b, Buffer.alloc(1)]);
  };
  const head = (tag: number, n: number) => Buffer.from([tag & 0xff, tag >> 8, n, 0]);
  const idx = (tag: string) => Object.keys(RECORDS).indexOf(tag);
  t.same(
    body,
    Buffer.concat([
      head(idx('mode'), 1),
      field('create'),
      head(idx('arg'), 1),
      field('héllo'),
      head(idx('rlimit'), 3),
      field('7'),
      field('1'),
      field('2'),
      head(idx('env'), 1),
      field(''),
    ]),
  );
  t.same(new Plan().encode().toString(), '0\n');
  const full = plan();
  t.ok(full.has('fifo'));
  t.notOk(full.has('nopivot'));
});

// ---------------------------------------------------------------- drift

t.test('corral-init parses every record as Node meant it (check-plan)', async (t) => {
  const helper = join(__dirname, '../../dist/corral-init');
  if (!t.ok(existsSync(helper), 'dist/corral-init is built (make test builds it)')) return;
  const p = plan(
    (c) => {
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2 ** 64 }]; // Go's 18446744073709551615, "unlimited", as JSON.parse reads it
      c.process.user = { uid: 1000, gid: 1000, umask: 0o22, additionalGids: [5, 6] };
      c.process.oomScoreAdj = 100;
      c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 };
      c.process.scheduler = { policy: 'SCHED_BATCH', nice: -3, runtime: 1, deadline: 2, period: 3 };
      c.process.terminal = true;
      c.process.consoleSize = { height: 24, width: 80 };
      c.domainname = 'example.org';
      c.linux.namespaces.push({ type: 'user' }, { type: 'cgroup', path: '/proc/self/ns/cgroup' }, { type: 'time' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.timeOffsets = { monotonic: { secs: 5, nanosecs: 7 } };
      c.linux.rootfsPropagation = 'rslave';
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 }];
      c.linux.personality = { domain: 'LINUX32' };
      c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] };
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 38,
        architectures: ['SCMP_ARCH_X86_64'],
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        listenerPath: '/run/agent.sock',
        listenerMetadata: 'meta',
        syscalls: [
          { names: ['getcwd'], action: 'SCMP_ACT_NOTIFY' },
          { names: ['mkdir'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 2, op: 'SCMP_CMP_EQ' }] },
        ],
      };
      c.hooks = { createRuntime: [{ path: '/bin/true' }] };
      c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'rnoatime', 'rro'] });
    },
    {
      noPivot: true,
      preserveFds: 2,
      consoleSocket: '/run/console.sock',
      cgroups: { paths: ['/sys/fs/cgroup/unified/c1'], created: ['/sys/fs/cgroup/unified/c1'], unified: '/sys/fs/cgroup/unified/c1' },
      cgroupHome: ['/sys/fs/cgroup/unified/cgroup.procs'],
      cleanup: { files: ['/run/c/state.json'], dir: '/run/c' },
    },
  );
  // What no create config makes: exec's console fd.
  p.add('console-fd', 7);
  const sent = p.records.map((r) => r.join('\x1f'));
  const missing = Object.keys(RECORDS).filter((tag) => !p.has(tag as keyof typeof RECORDS));
  t.same(missing, [], 'the plan holds every kind of record the table defines');
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(helper, ['check-plan'], { input: p.encode() });
  t.equal(r.status, 0, r.stderr.toString());
  const parsed = r.stdout.toString().split('\x1e').filter(Boolean);
  t.same([...parsed].sort(), [...sent].sort(), 'what corral-init parsed is what Node sent, field for field');
});
