// Namespaces of real containers, checked from inside (what the process sees) and
// from outside (/proc/<pid>/... of the host): new ones, joined ones, id maps, time offsets.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { baseConfig, bundle as makeBundle, corral, leftovers, messages, mountsWith, state, stateRoot, testFile, BUSYBOX_ROOTFS } from '../lib/corral';
import { canAddLink, requires } from '../lib/host';

type Cfg = Parameters<typeof makeBundle>[1];
type Config = Record<string, any>;

const netnses: string[] = [];
const { root, id } = testFile(t, () => {
  for (const n of netnses) spawnQuiet('ip', ['netns', 'del', n]);
});
const bundle = (config: Config, edit?: Cfg) => makeBundle(config, edit);

function spawnQuiet(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return '';
  }
}

/** Runs sh -c script in a fresh container (config edited by edit) and returns stdout. */
function run(t: Test, name: string, script: string, edit?: Cfg): string {
  const c = id(name);
  const r = corral(root, ['run', '--bundle', bundle(baseConfig(['sh', '-c', script]), edit), c]);
  t.equal(r.status, 0, `${name}: run exits 0 ${messages(r.stderr)}`);
  t.same(leftovers(root, c), [], `${name}: nothing left after run`);
  return r.stdout;
}

/** Creates and starts a container whose process is args; returns its id and host pid. */
function started(t: Test, name: string, args: string[], edit?: Cfg): { c: string; pid: number } {
  const c = id(name);
  const r = corral(root, ['create', '--bundle', bundle(baseConfig(args), edit), c]);
  t.equal(r.status, 0, `${name}: create ${messages(r.stderr)}`);
  const s = corral(root, ['start', c]);
  t.equal(s.status, 0, `${name}: start ${messages(s.stderr)}`);
  return { c, pid: state(root, c).pid as number };
}

function remove(t: Test, c: string): void {
  t.equal(corral(root, ['delete', '--force', c]).status, 0, `delete ${c}`);
  t.same(leftovers(root, c), [], `nothing left of ${c}`);
}

const hostNs = (type: string) => readlinkSync(`/proc/self/ns/${type}`);
const nsOf = (pid: number | 'self', type: string) => readlinkSync(`/proc/${pid}/ns/${type}`);
const statusField = (pid: number, field: string) => (new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8')) ?? [])[1];

const userns = (hostID: number) => (c: Config) => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID, size: 65536 }];
};

t.test('pid: the process is PID 1 of its own pid namespace', async (t) => {
  const out = run(t, 'pid', 'echo $$; ps -o pid,args; true');
  const [self, , ...procs] = out.trim().split('\n');
  t.equal(self, '1', '$$ is 1');
  const pids = procs.map((l) => Number(l.trim().split(/\s+/)[0]));
  t.equal(pids[0], 1, 'ps lists PID 1 first');
  t.match(procs[0], /^\s*1 sh -c /, 'PID 1 is the configured process');
  t.equal(procs.length, 2, `only sh and ps are visible: ${procs.join(' | ')}`);

  const { c, pid } = started(t, 'pidout', ['sleep', '30']);
  t.match(statusField(pid, 'NSpid'), new RegExp(`^${pid}\\s+1$`), 'NSpid from outside: host pid, then 1');
  t.not(nsOf(pid, 'pid'), hostNs('pid'), 'another pid namespace than the host');
  t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\0/, 'the state pid is the process');
  remove(t, c);
});

t.test('uts: hostname and domainname are set in the container only', async (t) => {
  const before = hostname();
  const hostDomain = readFileSync('/proc/sys/kernel/domainname', 'utf8');
  const out = run(t, 'uts', 'hostname; cat /proc/sys/kernel/domainname; uname -n; readlink /proc/self/ns/uts', (c) => {
    (c as Config).hostname = 'corral-uts';
    (c as Config).domainname = 'corral.example';
  });
  const [h, d, u, ns] = out.trim().split('\n');
  t.equal(h, 'corral-uts');
  t.equal(d, 'corral.example');
  t.equal(u, 'corral-uts', 'uname -n agrees');
  t.not(ns, hostNs('uts'));
  t.equal(hostname(), before, 'host hostname unchanged');
  t.equal(readFileSync('/proc/sys/kernel/domainname', 'utf8'), hostDomain, 'host domainname unchanged');
});

t.test('ipc: System V objects of the host are not visible', async (t) => {
  const made = /(\d+)/.exec(execFileSync('ipcmk', ['-M', '4096'], { encoding: 'utf8' }))?.[1];
  t.ok(made, 'a shm segment on the host');
  t.teardown(() => {
    if (made) spawnQuiet('ipcrm', ['-m', made]);
  });
  t.ok(readFileSync('/proc/sysvipc/shm', 'utf8').trim().split('\n').length >= 2, 'the host lists it');
  const out = run(t, 'ipc', 'cat /proc/sysvipc/shm | wc -l; readlink /proc/self/ns/ipc');
  const [lines, ns] = out.trim().split('\n');
  t.equal(lines.trim(), '1', 'only the header line inside');
  t.not(ns, hostNs('ipc'));
});

t.test('network: a new namespace has only lo', async (t) => {
  const out = run(t, 'net', 'ip -o link | cut -d: -f2; echo --; ls /sys/class/net; readlink /proc/self/ns/net');
  const [links, rest] = out.split('--\n');
  t.same(
    links
      .trim()
      .split('\n')
      .map((s) => s.trim()),
    ['lo'],
    'ip link: only lo',
  );
  const lines = rest.trim().split('\n');
  t.same(lines.slice(0, -1).join(' ').split(/\s+/), ['lo'], '/sys/class/net: only lo');
  t.not(lines[lines.length - 1], hostNs('net'));
  // runc (and crun) bring the loopback interface of a new network namespace up.
  const lo = run(t, 'netlo', 'ip -o link show lo; ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; echo ping=$?');
  t.match(lo, /<[^>]*\bUP\b[^>]*>/, 'lo is up');
  t.match(lo, /ping=0/, '127.0.0.1 answers');
});

// A device made in the named namespace marks it: a bridge, or a dummy where the bridge module is missing.
const LINK = ['bridge', 'dummy'].find(canAddLink);
t.test('network: joins a named namespace by path', { skip: requires([!!LINK, 'bridge and dummy network devices (their modules)']) }, async (t) => {
  const ns = `corral-ns-${process.pid}`;
  const dev = `cbr${process.pid}`.slice(0, 15);
  execFileSync('ip', ['netns', 'add', ns]);
  netnses.push(ns);
  execFileSync('ip', ['-n', ns, 'link', 'add', dev, 'type', LINK!]);
  const nsInode = readlinkSync(`/proc/self/ns/net`); // the host's, for contrast
  const out = run(t, 'netjoin', 'ip -o link | cut -d: -f2 | sed "s/@.*//"; stat -L -c %i /proc/self/ns/net', (c) => {
    const cfg = c as Config;
    cfg.linux.namespaces = cfg.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/var/run/netns/${ns}` } : n));
  });
  const lines = out
    .trim()
    .split('\n')
    .map((s) => s.trim());
  t.same(lines.slice(0, -1).sort(), [dev, 'lo'].sort(), 'the interface made in the named namespace is there, nothing of the host');
  t.equal(lines[lines.length - 1], String(execFileSync('stat', ['-L', '-c', '%i', `/var/run/netns/${ns}`], { encoding: 'utf8' }).trim()), 'the same namespace inode');
  t.not(`net:[${lines[lines.length - 1]}]`, nsInode);
  execFileSync('ip', ['netns', 'del', ns]);
  netnses.splice(netnses.indexOf(ns), 1);
  t.notOk(existsSync(`/var/run/netns/${ns}`), 'netns removed');
});

t.test('mount: the container mounts stay inside, the host mounts stay outside', async (t) => {
  const out = run(t, 'mnt', 'cut -d" " -f5 /proc/self/mountinfo; readlink /proc/self/ns/mnt');
  const lines = out.trim().split('\n');
  const points = lines.slice(0, -1);
  t.not(lines[lines.length - 1], hostNs('mnt'));
  for (const p of ['/', '/proc', '/dev', '/dev/pts', '/tmp', '/sys']) t.ok(points.includes(p), `${p} mounted inside`);
  t.notOk(
    points.some((p) => p.startsWith(BUSYBOX_ROOTFS) || p.startsWith('/work')),
    'no host path in the container mount table',
  );
  t.notOk(points.includes('/sys/fs/cgroup/memory'), 'no host cgroup mounts');
  const { c, pid } = started(t, 'mntout', ['sleep', '30']);
  t.same(mountsWith(BUSYBOX_ROOTFS), [], 'no container mount is visible on the host');
  t.not(nsOf(pid, 'mnt'), hostNs('mnt'));
  remove(t, c);
});

t.test('cgroup: a new cgroup namespace is rooted at the container cgroup', async (t) => {
  const inside = run(t, 'cgns', 'cat /proc/self/cgroup; readlink /proc/self/ns/cgroup', (c) => {
    (c as Config).linux.namespaces.push({ type: 'cgroup' });
  })
    .trim()
    .split('\n');
  const ns = inside.pop();
  t.not(ns, hostNs('cgroup'));
  t.ok(inside.length > 0);
  for (const l of inside) t.match(l, /^\d+:[^:]*:\/$/, `rooted: ${l}`);
  const { c, pid } = started(t, 'cgnsout', ['sleep', '30'], (cfg) => {
    (cfg as Config).linux.namespaces.push({ type: 'cgroup' });
  });
  const outside = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  for (const l of outside) t.match(l, new RegExp(`/corral/${c}$`), `from outside, in its cgroup: ${l}`);
  remove(t, c);
  // Without a cgroup namespace the process sees its full cgroup path.
  const shared = run(t, 'nocgns', 'cat /proc/self/cgroup').trim().split('\n');
  t.ok(
    shared.some((l) => l.endsWith(`/corral/nocgns-${process.pid}`)),
    'the host cgroup path is visible without a cgroup namespace',
  );
});

t.test('user: id maps, the host uid from outside, unmapped owners are nobody', async (t) => {
  const out = run(t, 'user', 'id; cat /proc/self/uid_map /proc/self/gid_map; stat -c %u:%g /bin/busybox; ls -ln /bin/busybox; readlink /proc/self/ns/user', userns(200000));
  const lines = out.trim().split('\n');
  t.equal(lines[0], 'uid=0(root) gid=0(root)');
  t.match(lines[1], /^\s*0\s+200000\s+65536$/, 'uid_map');
  t.match(lines[2], /^\s*0\s+200000\s+65536$/, 'gid_map');
  t.equal(lines[3], '65534:65534', 'files of host root are owned by the overflow id (nobody)');
  t.match(lines[4], /^\S+\s+\d+\s+65534\s+65534\s/);
  t.not(lines[5], hostNs('user'));

  const { c, pid } = started(t, 'userout', ['sleep', '30'], userns(200000));
  t.match(statusField(pid, 'Uid'), /^200000\s+200000\s+200000\s+200000$/, 'host uid of the container root');
  t.match(statusField(pid, 'Gid'), /^200000\s+200000\s+200000\s+200000$/, 'host gid of the container root');
  t.equal(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' '), '0 200000 65536');
  remove(t, c);

  // A non-root user of the container maps to hostID + uid.
  const u = started(t, 'userout1000', ['sleep', '30'], (cfg) => {
    userns(200000)(cfg as Config);
    (cfg as Config).process.user = { uid: 1000, gid: 1000 };
  });
  t.match(statusField(u.pid, 'Uid'), /^201000\s+201000\s+201000\s+201000$/);
  t.match(statusField(u.pid, 'Gid'), /^201000\s+201000\s+201000\s+201000$/);
  remove(t, u.c);
});

t.test('user: the state root may be private to the host root', async (t) => {
  // runc keeps its root 0700 and hands the exec fifo to the init as an fd; a runtime
  // that opens it by path from inside the user namespace cannot reach it.
  const priv = stateRoot();
  t.teardown(() => rmSync(priv, { recursive: true, force: true }));
  const c = `userpriv-${process.pid}`;
  const r = corral(priv, ['run', '--bundle', bundle(baseConfig(['id', '-u']), userns(200000)), c]);
  t.equal(r.status, 0, `a user-namespaced container runs with a 0700 --root ${messages(r.stderr)}`);
  t.equal(r.stdout, '0\n');
  corral(priv, ['delete', '--force', c]);
  t.same(leftovers(priv, c), []);
});

t.test("user: joining another container's user namespace by path", async (t) => {
  const a = started(t, 'userjoina', ['sleep', '30'], userns(200000));
  const c = id('userjoinb');
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', 'id; readlink /proc/self/ns/user; cat /proc/self/uid_map']), (cfg) => {
      const x = cfg as Config;
      x.linux.namespaces = [
        { type: 'user', path: `/proc/${a.pid}/ns/user` },
        { type: 'network', path: `/proc/${a.pid}/ns/net` },
        { type: 'pid' },
        { type: 'mount' },
        { type: 'ipc' },
        { type: 'uts' },
      ];
    }),
    c,
  ]);
  // The init must become root of the joined namespace (host uid 0 is unmapped there).
  t.equal(r.status, 0, `runs in the joined user namespace ${messages(r.stderr)}`);
  t.match(
    r.stdout,
    new RegExp(`^uid=0\\(root\\) gid=0\\(root\\)\\n${nsOf(a.pid, 'user').replace(/[[\]]/g, '\\$&')}\\n\\s*0\\s+200000\\s+65536\\n$`),
    "root of the other container's user namespace",
  );
  t.same(leftovers(root, c), []);
  remove(t, a.c);
});

t.test('time: boottime and monotonic offsets', async (t) => {
  const offsets = { monotonic: { secs: 7 * 86400 }, boottime: { secs: 1_000_000 } };
  const before = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const out = run(t, 'time', 'cat /proc/uptime; cat /proc/self/timens_offsets; readlink /proc/self/ns/time', (c) => {
    (c as Config).linux.namespaces.push({ type: 'time' });
    (c as Config).linux.timeOffsets = offsets;
  });
  const after = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const lines = out.trim().split('\n');
  const inside = Number(lines[0].split(' ')[0]);
  t.ok(inside >= before + 1_000_000 - 1 && inside <= after + 1_000_000 + 1, `uptime inside ${inside} = outside (${before}..${after}) + 1000000`);
  const offs = Object.fromEntries(
    lines.slice(1, -1).map((l) => {
      const [k, s, n] = l.trim().split(/\s+/);
      return [k, `${s} ${n}`];
    }),
  );
  t.same(offs, { monotonic: `${7 * 86400} 0`, boottime: '1000000 0' }, 'timens_offsets');
  t.not(lines[lines.length - 1], hostNs('time'));
});

t.test("joining another running container's namespaces by path", async (t) => {
  const a = started(t, 'joina', ['sleep', '30'], (c) => {
    (c as Config).hostname = 'corral-a';
  });
  const types: [string, string][] = [
    ['pid', 'pid'],
    ['network', 'net'],
    ['ipc', 'ipc'],
    ['uts', 'uts'],
  ];
  const out = run(t, 'joinb', 'hostname; echo $$; for n in pid net ipc uts mnt; do readlink /proc/self/ns/$n; done; ps -o pid,args', (c) => {
    const cfg = c as Config;
    delete cfg.hostname;
    cfg.linux.namespaces = [...types.map(([type, proc]) => ({ type, path: `/proc/${a.pid}/ns/${proc}` })), { type: 'mount' }];
  });
  const lines = out.trim().split('\n');
  t.equal(lines[0], 'corral-a', 'the hostname of the joined uts namespace');
  t.not(lines[1], '1', 'not PID 1: the pid namespace already has one');
  types.forEach(([, proc], i) => t.equal(lines[2 + i], nsOf(a.pid, proc), `same ${proc} namespace as the other container`));
  t.not(lines[6], nsOf(a.pid, 'mnt'), 'a mount namespace of its own');
  t.ok(
    lines.slice(7).some((l) => /^\s*1 sleep 30$/.test(l)),
    "sees the other container's PID 1",
  );
  remove(t, a.c);
});

t.test("every namespace created new differs from the host's", async (t) => {
  const all = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'];
  const allNew = (c: Config) => {
    c.linux.namespaces = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup', 'time'].map((type) => ({ type }));
    userns(300000)(c);
  };
  // One container seen from outside, kept running while a second one looks from inside.
  const first = started(t, 'allns1', ['sleep', '30'], (c) => allNew(c as Config));
  const outside = all.map((n) => nsOf(first.pid, n));
  all.forEach((n, i) => t.not(outside[i], hostNs(n), `${n}: ${outside[i]} is new (from outside)`));
  const inside = run(t, 'allns2', all.map((n) => `readlink /proc/self/ns/${n}`).join('; '), (c) => allNew(c as Config))
    .trim()
    .split('\n');
  t.equal(inside.length, all.length);
  all.forEach((n, i) => {
    t.match(inside[i], new RegExp(`^${n}:\\[\\d+\\]$`));
    t.not(inside[i], hostNs(n), `${n}: ${inside[i]} is new (from inside)`);
    t.not(inside[i], outside[i], `${n}: each container gets its own`);
  });
  remove(t, first.c);
});

t.test("without a namespace entry the host's is shared", async (t) => {
  const out = run(t, 'shared', 'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc', (c) => {
    const cfg = c as Config;
    cfg.linux.namespaces = cfg.linux.namespaces.filter((n: { type: string }) => n.type !== 'network' && n.type !== 'ipc');
  });
  t.same(out.trim().split('\n'), [hostNs('net'), hostNs('ipc')]);
});
