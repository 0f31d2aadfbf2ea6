// The cgroup layout of a host from synthetic /proc/self/mountinfo and /proc/self/cgroup
// texts, where a container's cgroup goes, and device rules.
import t from 'tap';
import { dirOf, parseLayout, type Hierarchy } from '../../src/linux/cgroups/layout';
import { cgroupPathFor } from '../../src/linux/cgroups/manager';
import { DEFAULT_RULES, effectiveRules, ruleText } from '../../src/linux/cgroups/devices';

const noControllers = () => [];

// A systemd v1 host (CentOS 7 style): a tmpfs with one mount per hierarchy.
const V1_MOUNTINFO = `18 41 0:17 / /sys rw,nosuid,nodev,noexec,relatime shared:6 - sysfs sysfs rw
25 18 0:21 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpuacct,cpu
30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
31 25 0:27 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpuset,clone_children
32 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,net_prio,net_cls
33 25 0:29 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,freezer
90 41 0:26 / /var/lib/other/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
41 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
`;
const V1_CGROUP = `11:freezer:/
10:net_cls,net_prio:/
9:cpuset:/
8:memory:/user.slice
4:cpu,cpuacct:/user.slice
1:name=systemd:/user.slice/user-1000.slice/session-1.scope
`;

// A pure cgroup2 host.
const V2_MOUNTINFO = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
99 1 0:26 / /mnt/cg2 rw,relatime shared:4 - cgroup2 cgroup2 rw
`;
const V2_CGROUP = '0::/user.slice/user-1000.slice/session-2.scope\n';

// Hybrid, as this machine: v1 controllers plus cgroup2 at /sys/fs/cgroup/unified.
const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_CGROUP = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/6050ea9a7f2aa7330d95ac03fb1974e8
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;

// Inside a container: the hierarchies' roots are the container's own cgroups.
const NESTED_MOUNTINFO = `700 690 0:26 /docker/abc /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate
`;
const NESTED_CGROUP = '0::/docker/abc\n';

t.test('a v1 host', async (t) => {
  const l = parseLayout(V1_MOUNTINFO, V1_CGROUP, () => {
    throw new Error('no v2 here');
  });
  t.equal(l.mode, 'v1');
  t.same(
    l.hierarchies,
    [
      { version: 1, mount: '/sys/fs/cgroup/systemd', root: '/', controllers: ['name=systemd'], own: '/user.slice/user-1000.slice/session-1.scope' },
      { version: 1, mount: '/sys/fs/cgroup/cpu,cpuacct', root: '/', controllers: ['cpuacct', 'cpu'], own: '/user.slice' },
      { version: 1, mount: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'], own: '/user.slice' },
      { version: 1, mount: '/sys/fs/cgroup/cpuset', root: '/', controllers: ['cpuset'], own: '/' },
      { version: 1, mount: '/sys/fs/cgroup/net_cls,net_prio', root: '/', controllers: ['net_prio', 'net_cls'], own: '/' },
      { version: 1, mount: '/sys/fs/cgroup/freezer', root: '/', controllers: ['freezer'], own: '/' },
    ],
    'one per hierarchy (the second memory mount is skipped); mount options are not controllers',
  );
});

t.test('a v2 host', async (t) => {
  const asked: string[] = [];
  const l = parseLayout(V2_MOUNTINFO, V2_CGROUP, (m) => (asked.push(m), ['cpu', 'memory', 'pids']));
  t.equal(l.mode, 'v2');
  t.same(l.hierarchies, [{ version: 2, mount: '/sys/fs/cgroup', root: '/', controllers: ['cpu', 'memory', 'pids'], own: '/user.slice/user-1000.slice/session-2.scope' }]);
  t.same(asked, ['/sys/fs/cgroup'], 'controllers are read from the first cgroup2 mount only');
});

t.test('a hybrid host', async (t) => {
  const l = parseLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP, (m) => (m === '/sys/fs/cgroup/unified' ? [] : ['wrong']));
  t.equal(l.mode, 'hybrid');
  t.equal(l.hierarchies.length, 10);
  const v2 = l.hierarchies.filter((h) => h.version === 2);
  t.same(v2, [{ version: 2, mount: '/sys/fs/cgroup/unified', root: '/', controllers: [], own: '/' }]);
  const mem = l.hierarchies.find((h) => h.controllers.includes('memory'));
  t.same(mem, { version: 1, mount: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'], own: '/process_api/6050ea9a7f2aa7330d95ac03fb1974e8' });
  t.same(l.hierarchies.find((h) => h.mount.endsWith('/systemd'))?.controllers, ['name=systemd']);
  t.ok(l.hierarchies.filter((h) => h.version === 1).every((h) => h.controllers.length === 1 && h.root === '/'));
});

t.test('a mount whose root is not "/" (inside a container)', async (t) => {
  const l = parseLayout(NESTED_MOUNTINFO, NESTED_CGROUP, () => ['memory']);
  t.equal(l.mode, 'v2');
  const h = l.hierarchies[0];
  t.same(h, { version: 2, mount: '/sys/fs/cgroup', root: '/docker/abc', controllers: ['memory'], own: '/docker/abc' });
  t.equal(dirOf(h, h.own), '/sys/fs/cgroup', 'our own cgroup is the mount itself');
  t.equal(dirOf(h, '/docker/abc/corral/c1'), '/sys/fs/cgroup/corral/c1');
  t.equal(dirOf(h, cgroupPathFor(h, 'sub/c1', 'c1')), '/sys/fs/cgroup/sub/c1', 'relative paths go under our own cgroup');
});

t.test('a cgroup outside the mount root stays inside the mount', {}, async (t) => {
  const h = parseLayout(NESTED_MOUNTINFO, NESTED_CGROUP, () => []).hierarchies[0];
  const d = dirOf(h, cgroupPathFor(h, undefined, 'c1'));
  t.ok(d === h.mount || d.startsWith(h.mount + '/'), `${d} is under ${h.mount}`);
});

t.test('escaped mount points and own cgroups of a v1 hierarchy in another order', async (t) => {
  const mi = '50 25 0:40 / /sys/fs/cgroup/with\\040space rw,relatime - cgroup cgroup rw,cpu,cpuacct\n';
  const l = parseLayout(mi, '3:cpuacct,cpu:/a b\n', noControllers);
  t.same(l.hierarchies, [{ version: 1, mount: '/sys/fs/cgroup/with space', root: '/', controllers: ['cpu', 'cpuacct'], own: '/a b' }]);
});

t.test('a hierarchy missing from /proc/self/cgroup: own is "/"', async (t) => {
  const l = parseLayout(V1_MOUNTINFO, '1:name=systemd:/x\n', noControllers);
  t.equal(l.hierarchies.find((h) => h.controllers.includes('memory'))?.own, '/');
  t.equal(l.hierarchies[0].own, '/x');
  const v2 = parseLayout(V2_MOUNTINFO, '', () => []);
  t.equal(v2.hierarchies[0].own, '/');
});

t.test('dirOf', async (t) => {
  const h: Hierarchy = { version: 1, mount: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'], own: '/user.slice' };
  t.equal(dirOf(h, '/'), '/sys/fs/cgroup/memory');
  t.equal(dirOf(h, '/corral/c1'), '/sys/fs/cgroup/memory/corral/c1');
  t.equal(dirOf(h, '/user.slice'), '/sys/fs/cgroup/memory/user.slice');
  const sub: Hierarchy = { ...h, root: '/kubepods/pod1' };
  t.equal(dirOf(sub, '/kubepods/pod1'), '/sys/fs/cgroup/memory');
  t.equal(dirOf(sub, '/kubepods/pod1/c/d'), '/sys/fs/cgroup/memory/c/d');
});

t.test('cgroupPathFor', async (t) => {
  const h: Hierarchy = { version: 2, mount: '/sys/fs/cgroup', root: '/', controllers: [], own: '/user.slice/session-1.scope' };
  t.equal(cgroupPathFor(h, '/machine/c1', 'c1'), '/machine/c1', 'absolute as given');
  t.equal(cgroupPathFor(h, 'mine/c1', 'c1'), '/user.slice/session-1.scope/mine/c1', 'relative under our own cgroup');
  t.equal(cgroupPathFor(h, undefined, 'c1'), '/corral/c1', 'the default');
  t.equal(cgroupPathFor(h, '', 'c2'), '/corral/c2', 'empty is the default');
  t.equal(dirOf(h, cgroupPathFor(h, 'mine/c1', 'c1')), '/sys/fs/cgroup/user.slice/session-1.scope/mine/c1');
});

t.test('device rule text', async (t) => {
  t.equal(ruleText({ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }), 'c 1:3 rwm');
  t.equal(ruleText({ allow: true, type: 'b', major: 8, minor: 0, access: 'r' }), 'b 8:0 r');
  t.equal(ruleText({ allow: true, type: 'c', major: null, minor: null, access: 'm' }), 'c *:* m');
  t.equal(ruleText({ allow: true, type: 'c', major: 136 }), 'c 136:* rwm', 'missing minor and access');
  t.equal(ruleText({ allow: false, type: 'c', major: -1, minor: 5, access: 'w' }), 'c *:5 w', 'negative is a wildcard');
  t.equal(ruleText({ allow: false, access: 'rwm' }), 'a', 'no type is all devices');
  t.equal(ruleText({ allow: true, type: 'a' }), 'a');
});

t.test('effective device rules: the config first, then the defaults', async (t) => {
  t.same(effectiveRules(undefined), DEFAULT_RULES);
  t.not(effectiveRules(undefined), DEFAULT_RULES, 'a copy');
  const deny = { allow: false, access: 'rwm' };
  const fuse = { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' };
  const r = effectiveRules([deny, fuse]);
  t.same(r, [deny, fuse, ...DEFAULT_RULES]);
  t.same(r.map(ruleText).slice(0, 5), ['a', 'c 10:229 rwm', 'c *:* m', 'b *:* m', 'c 1:3 rwm']);
  t.ok(
    r.slice(2).every((x) => x.allow),
    'the defaults only allow',
  );
  t.ok(r.map(ruleText).includes('c 136:* rwm'), 'ptys');
  t.ok(r.map(ruleText).includes('c 10:200 rwm'), 'tun');
});
