// config.json and state checks: schema errors as "pointer: message (got X)" lines,
// and the semantic rules the schemas cannot express.
import t from 'tap';
import { configProblems, stateProblems } from '../../src/spec/validate';
import { baseConfig } from '../lib/corral';

type Cfg = Record<string, any>;

/** Problems of baseConfig() after edit. */
function problems(edit: (c: Cfg) => void): string[] {
  const c = structuredClone(baseConfig()) as Cfg;
  edit(c);
  return configProblems(c);
}

const withoutNs = (c: Cfg, type: string) => {
  c.linux.namespaces = (c.linux.namespaces as { type: string }[]).filter((n) => n.type !== type);
};

t.test('a valid config has no problems', async (t) => {
  t.same(configProblems(baseConfig()), []);
  t.same(configProblems(baseConfig(['sh', '-c', 'echo hi'])), []);
  t.same(configProblems({ ociVersion: '1.3.0' }), [], 'only ociVersion is required');
});

t.test('type errors: pointer, message and the value found', async (t) => {
  t.same(
    problems((c) => {
      c.process.user.uid = 'root';
    }),
    ['/process/user/uid: must be integer (got "root")'],
  );
  t.same(
    problems((c) => {
      c.process.user.uid = -1;
    }),
    ['/process/user/uid: must be >= 0 (got -1)'],
  );
  t.same(
    problems((c) => {
      c.hostname = 3;
    }),
    ['/hostname: must be string (got 3)'],
  );
  t.same(
    problems((c) => {
      c.process.args = 'true';
    }),
    ['/process/args: must be array (got "true")'],
  );
  t.same(
    problems((c) => {
      c.root = 5;
    }),
    ['/root: must be object (got 5)'],
  );
  t.same(
    problems((c) => {
      c.process.env = ['A=1', 7];
    }),
    ['/process/env/1: must be string (got 7)'],
  );
  t.same(configProblems(null), ['/: must be object (got null)']);
  t.same(configProblems('x'), ['/: must be object (got "x")']);
});

t.test('long values are shortened in (got ...)', async (t) => {
  const p = problems((c) => {
    c.hostname = { long: 'x'.repeat(200) };
  });
  t.equal(p.length, 1);
  t.match(p[0], /^\/hostname: must be string \(got \{"long":"x+\.\.\.\)$/);
  t.ok(p[0].length < 120, 'shortened');
});

t.test('required fields', async (t) => {
  t.same(configProblems({}), ['/ociVersion: is required']);
  t.same(
    problems((c) => {
      delete c.ociVersion;
      delete c.process.cwd;
    }),
    ['/ociVersion: is required', '/process/cwd: is required'],
  );
  t.same(
    problems((c) => {
      delete c.root.path;
    }),
    ['/root/path: is required'],
  );
  t.same(
    problems((c) => {
      delete c.mounts[0].destination;
    }),
    ['/mounts/0/destination: is required'],
  );
  t.same(
    problems((c) => {
      c.linux.namespaces.push({});
    }),
    ['/linux/namespaces/5/type: is required'],
  );
  const noGot = problems((c) => {
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1 }];
  });
  t.same(noGot, ['/process/rlimits/0/hard: is required'], 'no (got ...) for a missing field');
});

t.test('enum errors list the allowed values', async (t) => {
  t.same(
    problems((c) => {
      c.linux.namespaces.push({ type: 'bogus' });
    }),
    ['/linux/namespaces/5/type: must be one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time" (got "bogus")'],
  );
  const p = problems((c) => {
    c.process.scheduler = { policy: 'SCHED_BOGUS' };
  });
  t.equal(p.length, 1);
  t.match(p[0], /^\/process\/scheduler\/policy: must be one of "SCHED_OTHER", .*"SCHED_DEADLINE" \(got "SCHED_BOGUS"\)$/);
  const io = problems((c) => {
    c.process.ioPriority = { class: 'X', priority: 1 };
  });
  t.same(io, ['/process/ioPriority/class: must be one of "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE" (got "X")']);
  const mp = problems((c) => {
    c.linux.memoryPolicy = { mode: 'nope' };
  });
  t.equal(mp.length, 1);
  t.match(mp[0], /^\/linux\/memoryPolicy\/mode: must be one of "MPOL_DEFAULT", .* \(got "nope"\)$/);
});

t.test('semantic: a namespace listed twice', async (t) => {
  t.same(
    problems((c) => {
      c.linux.namespaces.push({ type: 'pid' });
    }),
    ['/linux/namespaces/5/type: namespace "pid" is listed twice (also at /linux/namespaces/0)'],
  );
});

t.test('semantic: relative paths', async (t) => {
  t.same(
    problems((c) => {
      c.mounts[2].destination = 'dev/pts';
    }),
    ['/mounts/2/destination: must be an absolute path (got "dev/pts")'],
  );
  t.same(
    problems((c) => {
      c.process.cwd = 'here';
    }),
    ['/process/cwd: must be an absolute path (got "here")'],
  );
  t.same(
    problems((c) => {
      c.linux.namespaces[1].path = 'proc/1/ns/net';
    }),
    ['/linux/namespaces/1/path: must be an absolute path (got "proc/1/ns/net")'],
  );
  t.same(
    problems((c) => {
      c.linux.namespaces[1].path = '/proc/1/ns/net';
    }),
    [],
    'an absolute namespace path is fine',
  );
});

t.test('semantic: rootfsPropagation', async (t) => {
  const p = problems((c) => {
    c.linux.rootfsPropagation = 'weird';
  });
  t.ok(p.length >= 1);
  t.ok(
    p.every((l) => l.startsWith('/linux/rootfsPropagation: ')),
    p.join('\n'),
  );
  t.ok(p.some((l) => l.includes('"weird"')));
  for (const ok of ['private', 'shared', 'slave', 'unbindable'])
    t.same(
      problems((c) => {
        c.linux.rootfsPropagation = ok;
      }),
      [],
      ok,
    );
});

t.test('semantic: hostname and domainname need a uts namespace', async (t) => {
  t.same(
    problems((c) => withoutNs(c, 'uts')),
    ['/hostname: setting the hostname needs a uts namespace in /linux/namespaces'],
  );
  t.same(
    problems((c) => {
      withoutNs(c, 'uts');
      delete c.hostname;
      c.domainname = 'example.org';
    }),
    ['/domainname: setting the domainname needs a uts namespace in /linux/namespaces'],
  );
  t.same(
    problems((c) => {
      withoutNs(c, 'uts');
      delete c.hostname;
    }),
    [],
    'no uts and no hostname is fine',
  );
});

t.test('semantic: user namespaces and id mappings', async (t) => {
  const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
  t.same(
    problems((c) => {
      c.linux.uidMappings = maps;
    }),
    ['/linux/uidMappings: id mappings need a user namespace in /linux/namespaces'],
  );
  t.same(
    problems((c) => {
      c.linux.gidMappings = maps;
    }),
    ['/linux/uidMappings: id mappings need a user namespace in /linux/namespaces'],
  );
  t.same(
    problems((c) => {
      c.linux.namespaces.push({ type: 'user' });
    }),
    ['/linux/uidMappings: a new user namespace needs both uidMappings and gidMappings'],
  );
  t.same(
    problems((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = maps;
    }),
    ['/linux/uidMappings: a new user namespace needs both uidMappings and gidMappings'],
    'gidMappings missing',
  );
  t.same(
    problems((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = maps;
      c.linux.gidMappings = maps;
    }),
    [],
  );
  t.same(
    problems((c) => {
      c.linux.namespaces.push({ type: 'user', path: '/proc/1/ns/user' });
    }),
    [],
    'joining a user namespace needs no mappings',
  );
});

t.test('semantic: time namespaces', async (t) => {
  t.same(
    problems((c) => {
      c.linux.timeOffsets = { monotonic: { secs: 1 } };
    }),
    ['/linux/timeOffsets: needs a time namespace in /linux/namespaces'],
  );
  t.same(
    problems((c) => {
      c.linux.namespaces.push({ type: 'time', path: '/proc/1/ns/time' });
      c.linux.timeOffsets = { monotonic: { secs: 1 } };
    }),
    ['/linux/timeOffsets: cannot be set when joining an existing time namespace'],
  );
});

t.test('semantic: sysctls need their namespaces', async (t) => {
  t.same(
    problems((c) => {
      withoutNs(c, 'network');
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }),
    ['/linux/sysctl/net.ipv4.ip_forward: net.* sysctls need a network namespace'],
  );
  t.same(
    problems((c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    }),
    [],
    'with a network namespace',
  );
  t.same(
    problems((c) => {
      withoutNs(c, 'ipc');
      c.linux.sysctl = { 'kernel.shmmax': '1', 'fs.mqueue.msg_max': '5' };
    }),
    ['/linux/sysctl/kernel.shmmax: ipc sysctls need an ipc namespace', '/linux/sysctl/fs.mqueue.msg_max: ipc sysctls need an ipc namespace'],
  );
});

t.test("semantic: uts sysctls (crun's test_uts_sysctl, runc's validator)", async (t) => {
  for (const uts of [true, false]) {
    t.same(
      problems((c) => {
        if (!uts) {
          withoutNs(c, 'uts');
          delete c.hostname;
        }
        c.linux.sysctl = { 'kernel.hostname': 'foo' };
      }),
      ['/linux/sysctl/kernel.hostname: not allowed, as it conflicts with the "hostname" field (set /hostname instead)'],
      `kernel.hostname is always refused (${uts ? 'with' : 'without'} a uts namespace)`,
    );
  }
  t.same(
    problems((c) => {
      withoutNs(c, 'uts');
      delete c.hostname;
      c.linux.sysctl = { 'kernel.domainname': 'foo' };
    }),
    ['/linux/sysctl/kernel.domainname: needs a uts namespace'],
  );
  t.same(
    problems((c) => {
      c.linux.sysctl = { 'kernel.domainname': 'foo' };
    }),
    [],
    'kernel.domainname in a uts namespace',
  );
  t.same(
    problems((c) => {
      c.domainname = 'foo';
      c.linux.sysctl = { 'kernel.domainname': 'foo' };
    }),
    [],
    'the same as /domainname',
  );
  t.same(
    problems((c) => {
      c.domainname = 'foomachine';
      c.linux.sysctl = { 'kernel.domainname': 'foo' };
    }),
    ['/linux/sysctl/kernel.domainname: "foo" conflicts with /domainname "foomachine"'],
  );
});

t.test('semantic: an rlimit type listed twice', async (t) => {
  t.same(
    problems((c) => {
      c.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 1, hard: 2 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
        { type: 'RLIMIT_NOFILE', soft: 1, hard: 2 },
      ];
    }),
    ['/process/rlimits/2/type: "RLIMIT_NOFILE" is listed twice'],
  );
});

t.test('every problem is listed at once', async (t) => {
  const p = problems((c) => {
    c.process.user.uid = 'root';
    delete c.ociVersion;
    c.linux.namespaces.push({ type: 'pid' });
    c.mounts[0].destination = 'proc';
    c.linux.timeOffsets = { monotonic: { secs: 1 } };
  });
  t.equal(p.length, 5, p.join('\n'));
  t.ok(p.includes('/process/user/uid: must be integer (got "root")'));
  t.ok(p.includes('/ociVersion: is required'));
  t.ok(p.includes('/linux/namespaces/5/type: namespace "pid" is listed twice (also at /linux/namespaces/0)'));
  t.ok(p.includes('/mounts/0/destination: must be an absolute path (got "proc")'));
  t.ok(p.includes('/linux/timeOffsets: needs a time namespace in /linux/namespaces'));
  t.equal(new Set(p).size, p.length, 'no line repeated');
});

t.test('newer spec fields are accepted', async (t) => {
  t.same(
    problems((c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { monotonic: { secs: 1 }, boottime: { secs: 2, nanosecs: 3 } };
    }),
    [],
    'time namespace and timeOffsets',
  );
  t.same(
    problems((c) => {
      c.process.scheduler = { policy: 'SCHED_OTHER', nice: 0 };
    }),
    [],
    'process.scheduler',
  );
  t.same(
    problems((c) => {
      c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 };
    }),
    [],
    'process.ioPriority',
  );
  t.same(
    problems((c) => {
      c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
    }),
    [],
    'linux.memoryPolicy',
  );
  t.same(
    problems((c) => {
      c.linux.netDevices = { eth0: { name: 'ceth0' } };
    }),
    [],
    'linux.netDevices',
  );
});

t.test('stateProblems', async (t) => {
  const good = { ociVersion: '1.3.0', id: 'c1', status: 'running', pid: 42, bundle: '/b', annotations: { a: 'b' } };
  t.same(stateProblems(good), []);
  t.same(stateProblems({ ...good, status: 'stopped', pid: 0 }), []);
  const bad = stateProblems({ ociVersion: '1.3.0', id: 'c1', status: 'weird', pid: 'x' });
  t.same(bad, ['/bundle: is required', '/status: must be one of "creating", "created", "running", "stopped" (got "weird")', '/pid: must be integer (got "x")']);
});
