// Configs other callers write, run as they write them: `runc spec`'s default, the
// r-forms of rootfsPropagation (containerd's CRI, crun's and Docker-style configs),
// the recursive mount options of runc >= 1.2 and crun, and startContainer hooks in a
// container with pid, mount and cgroup namespaces (podman's and containerd's default
// on cgroup v2 hosts).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, ROOT, baseConfig, bundle, cgroupsNamed, corral, leftovers, messages, mountsWith, sleep, state, testFile } from '../lib/corral';

const mounted: string[] = [];
const { root, id, tempDir } = testFile(t, () => {
  for (const m of mounted.reverse()) spawnSync('umount', ['-l', m]);
});

type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(join(ROOT, 'test/fixtures/callers', name), 'utf8'));

/** runc spec's config as it is, but for the rootfs, the terminal and the process. */
function runcSpec(args: string[]): Json {
  const c = fixture('runc-spec.json');
  c.root.path = BUSYBOX_ROOTFS;
  c.process.terminal = false;
  c.process.args = args;
  return c;
}

const status = (text: string, key: string) => new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(text)?.[1];

t.test("runc spec's default config runs: exit status, stdio, the ambient set runc also leaves empty", async (t) => {
  const c = id('runc-spec');
  const r = corral(root, ['--debug', 'run', '--bundle', bundle(runcSpec(['sh', '-c', 'cat /proc/self/status; echo to-stderr >&2; exit 3'])), c]);
  t.equal(r.status, 3, "run exits with the container's status");
  t.match(r.stdout, /^Name:\s+cat/m, 'stdout passes through');
  t.match(r.stderr, /to-stderr/, 'stderr passes through');
  // CAP_AUDIT_WRITE 29, CAP_KILL 5, CAP_NET_BIND_SERVICE 10
  const want = ((1n << 29n) | (1n << 5n) | (1n << 10n)).toString(16).padStart(16, '0');
  t.equal(status(r.stdout, 'CapEff'), want, 'effective: the three');
  t.equal(status(r.stdout, 'CapBnd'), want, 'bounding: the three');
  t.equal(status(r.stdout, 'CapAmb'), '0000000000000000', 'ambient: none (none is inheritable, so the kernel cannot raise them)');
  t.match(
    messages(r.stderr),
    /\/process\/capabilities\/ambient: CAP_KILL is not in both the permitted and inheritable sets; the kernel cannot raise it, skipped/,
    '--debug says what was skipped',
  );
  t.same(leftovers(root, c), []);
});

t.test("runc spec's default config: created -> running -> stopped", async (t) => {
  const c = id('runc-spec-walk');
  const b = bundle(runcSpec(['sleep', '1']));
  t.equal(corral(root, ['create', '--bundle', b, c]).status, 0, 'create');
  t.equal(state(root, c).status, 'created');
  t.equal(corral(root, ['start', c]).status, 0, 'start');
  t.equal(state(root, c).status, 'running');
  for (let i = 0; i < 100 && state(root, c).status !== 'stopped'; i++) sleep(50);
  t.equal(state(root, c).status, 'stopped');
  t.equal(corral(root, ['delete', c]).status, 0, 'delete');
  t.same(leftovers(root, c), []);
});

t.test('a process with ambient capabilities that are inheritable gets them', async (t) => {
  const c = id('ambient');
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(runcSpec(['sh', '-c', 'cat /proc/self/status']), (cfg) => {
      cfg.process.user = { uid: 1000, gid: 1000 };
      (cfg.process.capabilities as Json).inheritable = ['CAP_KILL'];
    }),
    c,
  ]);
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(status(r.stdout, 'CapAmb'), (1n << 5n).toString(16).padStart(16, '0'), 'CAP_KILL raised, the others skipped');
  t.equal(status(r.stdout, 'CapEff'), (1n << 5n).toString(16).padStart(16, '0'), 'as uid 1000 only the ambient one is effective after exec');
});

/** The propagation fields of / in the container's mountinfo ("shared:N", "master:N"). */
function rootPropagation(out: string): string {
  const line = out.split('\n').find((l) => l.split(' ')[4] === '/');
  return (line ?? '').split(' - ')[0].split(' ').slice(6).join(' ');
}

// A slave needs a master: only where the host's mount under the rootfs is shared.
const hostMount = readFileSync('/proc/self/mountinfo', 'utf8')
  .split('\n')
  .map((l) => l.split(' '))
  .filter((f) => f[4] && (BUSYBOX_ROOTFS === f[4] || BUSYBOX_ROOTFS.startsWith(f[4].replace(/\/?$/, '/'))))
  .sort((a, b) => b[4].length - a[4].length)[0];
const hostShared = hostMount.slice(6, hostMount.indexOf('-')).some((f) => f.startsWith('shared:'));
t.comment(`the host's mount under the rootfs (${hostMount[4]}) is ${hostShared ? 'shared' : 'not shared'}`);
for (const [prop, want] of [
  ['rprivate', /^$/],
  ['rslave', hostShared ? /master:\d+/ : /^$/],
  ['rshared', /shared:\d+/],
  ['runbindable', /unbindable/],
] as const) {
  t.test(`rootfsPropagation "${prop}" is taken, as runc takes it`, async (t) => {
    const c = id(`prop-${prop}`);
    const r = corral(root, [
      'run',
      '--bundle',
      bundle(baseConfig(['cat', '/proc/self/mountinfo']), (cfg) => {
        cfg.linux.rootfsPropagation = prop;
      }),
      c,
    ]);
    t.equal(r.status, 0, messages(r.stderr));
    t.match(rootPropagation(r.stdout), want, `/ is ${prop.slice(1)}`);
  });
}

t.test('recursive mount options reach every mount of the tree', async (t) => {
  // A host directory with a tmpfs mounted inside it: ro covers only the top, rro both.
  const src = tempDir('rtree');
  mkdirSync(join(src, 'sub'));
  t.equal(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', join(src, 'sub')]).status, 0);
  mounted.push(join(src, 'sub'));
  const probe = 'touch /data/top 2>/dev/null && echo top-rw || echo top-ro; touch /data/sub/x 2>/dev/null && echo sub-rw || echo sub-ro; grep " /data/sub " /proc/self/mountinfo';
  const run = (name: string, options: string[]) => {
    const r = corral(root, [
      'run',
      '--bundle',
      bundle(baseConfig(['sh', '-c', probe]), (cfg) => {
        (cfg.mounts as Json[]).push({ destination: '/data', type: 'bind', source: src, options });
      }),
      id(name),
    ]);
    t.equal(r.status, 0, `${options.join(',')}: runs (${messages(r.stderr)})`);
    return r.stdout;
  };
  const plain = run('ro', ['rbind', 'ro']);
  t.match(plain, /top-ro\nsub-rw/, 'ro: the top only');
  const rec = run('rro', ['rbind', 'rro', 'rnosuid', 'rnodev', 'rnoexec']);
  t.match(rec, /top-ro\nsub-ro/, 'rro: the submount too');
  t.match(rec.split('\n').find((l) => l.includes(' /data/sub ')) ?? '', / ro,nosuid,nodev,noexec/, 'rnosuid, rnodev, rnoexec on the submount');
  const back = run('rro-rrw', ['rbind', 'rro', 'rrw']);
  t.match(back, /top-rw\nsub-rw/, 'the later rrw wins');
  const atime = run('rnoatime', ['rbind', 'rnoatime']);
  t.match(atime.split('\n').find((l) => l.includes(' /data/sub ')) ?? '', /,noatime/, 'rnoatime on the submount');
  t.same(
    mountsWith(src).filter((m) => m !== join(src, 'sub')),
    [],
    'nothing of the containers left mounted on the host',
  );
});

t.test('iversion is a mount flag, not filesystem data', async (t) => {
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['true']), (cfg) => {
      (cfg.mounts as Json[]).push({ destination: '/iv', type: 'tmpfs', source: 'tmpfs', options: ['iversion', 'nosuid'] });
    }),
    id('iversion'),
  ]);
  t.equal(r.status, 0, messages(r.stderr));
});

t.test('startContainer and createContainer hooks with pid, mount, cgroup (and time) namespaces', async (t) => {
  const log = tempDir('hooklog');
  const nsTypes = ['pid', 'mount', 'cgroup', 'ipc', 'uts', 'network'];
  const hasTime = existsSync('/proc/self/ns/time');
  if (hasTime) nsTypes.push('time');
  else t.comment('no time namespaces on this kernel: tried without');
  // createContainer runs before pivot_root (its path is the runtime's), startContainer after.
  const hook = (file: string) => ({ path: '/bin/sh', args: ['sh', '-c', `readlink /proc/self/ns/cgroup > ${file}`] });
  const c = id('ns-hooks');
  const b = bundle(baseConfig(['sh', '-c', 'readlink /proc/self/ns/cgroup > /hooklog/process; sleep 10']), (cfg) => {
    cfg.linux.namespaces = nsTypes.map((type) => ({ type }));
    (cfg.mounts as Json[]).push({ destination: '/hooklog', type: 'bind', source: log, options: ['rbind', 'rw'] });
    cfg.hooks = { createContainer: [hook(join(log, 'createContainer'))], startContainer: [hook('/hooklog/startContainer')] };
  });
  const cr = corral(root, ['create', '--bundle', b, c]);
  t.equal(cr.status, 0, `create: ${messages(cr.stderr)}`);
  const st = corral(root, ['start', c]);
  t.equal(st.status, 0, `start: ${messages(st.stderr)}`);
  for (let i = 0; i < 100 && !existsSync(join(log, 'process')); i++) sleep(20);
  const ns = (f: string) => (existsSync(join(log, f)) ? readFileSync(join(log, f), 'utf8').trim() : `no ${f}`);
  t.equal(ns('startContainer'), ns('process'), "startContainer ran in the container's cgroup namespace");
  t.equal(ns('createContainer'), ns('process'), 'createContainer too');
  t.not(ns('process'), spawnSync('readlink', ['/proc/self/ns/cgroup']).stdout.toString().trim(), "which is not the host's");
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
});

t.test('the rootless runc spec is taken as runc takes it (run as root here)', async (t) => {
  const c = fixture('runc-spec-rootless.json');
  c.root.path = BUSYBOX_ROOTFS;
  c.process.terminal = false;
  c.process.args = ['id', '-u'];
  const ours = corral(root, ['run', '--bundle', bundle(c), id('rootless-spec')]);
  t.equal(ours.status, 0, messages(ours.stderr));
  t.equal(ours.stdout.trim(), '0', 'root in its user namespace');
});

t.test("a FIFO and a unix socket as bind-mount sources (crun's suite binds both)", async (t) => {
  const dir = tempDir('special');
  t.equal(spawnSync('mkfifo', [join(dir, 'fifo')]).status, 0);
  t.equal(spawnSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(join(dir, 'sock'))})`]).status, 0);
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', 'ls -l /f /s']), (cfg) => {
      (cfg.mounts as Json[]).push(
        { destination: '/f', type: 'bind', source: join(dir, 'fifo'), options: ['bind'] },
        { destination: '/s', type: 'bind', source: join(dir, 'sock'), options: ['bind'] },
      );
    }),
    id('special'),
  ]);
  t.equal(r.status, 0, messages(r.stderr));
  t.match(r.stdout, /^p.* \/f$/m, 'the FIFO is there as a FIFO');
  t.match(r.stdout, /^s.* \/s$/m, 'the socket as a socket');
});

t.test('a cgroupsPath 40 levels deep (no fixed table in the plan)', async (t) => {
  const c = id('deepcg');
  const path = `/corral-deep-${process.pid}/` + Array.from({ length: 39 }, (_, i) => `l${i}`).join('/');
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['cat', '/proc/self/cgroup']), (cfg) => {
      cfg.linux.cgroupsPath = path;
    }),
    c,
  ]);
  t.equal(r.status, 0, messages(r.stderr));
  t.match(r.stdout, new RegExp(`:${path.replace(/\//g, '\\/')}$`, 'm'), 'the process is in it');
  t.same(leftovers(root, c), []);
  t.same(cgroupsNamed(`corral-deep-${process.pid}`), [], 'and every level corral made is gone');
});
