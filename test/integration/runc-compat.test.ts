// Where runc's behaviour is what callers (and crun's test suite) rely on: each case
// compared with what runc 1.1.5 does on the same bundle (or, where noted, newer runc).
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, baseConfig, bundle, corral, leftovers, messages, state, testFile } from '../lib/corral';

const { root, id, tempDir } = testFile(t);

t.test('a rootfs reached through a symlink is refused, as runc does; a bundle given through one is fine', async (t) => {
  const links = tempDir('links');
  const link = join(links, 'rootfs-link');
  symlinkSync(BUSYBOX_ROOTFS, link);
  const c = id('rootlink');
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['true']), (cfg) => {
      cfg.root = { path: link, readonly: true };
    }),
    c,
  ]);
  t.equal(r.status, 1);
  t.equal(messages(r.stderr), `/root/path: invalid rootfs ${link}: it goes through a symlink (to ${BUSYBOX_ROOTFS}); give the real path, as runc requires`);
  t.same(leftovers(root, c), []);
  // A relative rootfs in a bundle given through a symlink: the bundle's real directory counts.
  const real = bundle(baseConfig(['true']), (cfg) => {
    cfg.root = { path: 'rootfs', readonly: true };
  });
  mkdirSync(join(real, 'rootfs'));
  const bundleLink = join(links, 'bundle-link');
  symlinkSync(real, bundleLink);
  const ok = id('bundlelink');
  // An empty rootfs: the run gets past the check and fails on the missing "true".
  const r2 = corral(root, ['run', '--bundle', bundleLink, ok]);
  t.notMatch(messages(r2.stderr), /symlink/, messages(r2.stderr));
  t.same(leftovers(root, ok), []);
});

t.test('a device path with a trailing slash (or a double one) is cleaned, as runc does', async (t) => {
  const c = id('devslash');
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', 'ls -l /dev/foo /dev/null']), (cfg) => {
      cfg.linux.devices = [
        { path: '/dev/foo/', type: 'c', major: 1, minor: 3 },
        { path: '/dev//null/', type: 'c', major: 1, minor: 3 },
      ];
    }),
    c,
  ]);
  t.equal(r.status, 0, messages(r.stderr));
  t.match(r.stdout, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/foo$/m);
  t.match(r.stdout, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/null$/m);
  t.same(leftovers(root, c), []);
});

t.test('run --no-subreaper is accepted (a no-op, as runc >= 1.2); update --cpu-idle writes cpu.idle', async (t) => {
  const c = id('nosubreaper');
  const r = corral(root, ['run', '--no-subreaper', '--bundle', bundle(baseConfig(['sh', '-c', 'exit 3'])), c]);
  t.equal(r.status, 3, messages(r.stderr));
  const u = id('cpuidle');
  t.equal(corral(root, ['run', '-d', '--bundle', bundle(baseConfig(['sleep', '100'])), u]).status, 0);
  const dir = (JSON.parse(readFileSync(join(root, u, 'state.json'), 'utf8')) as { cgroups: { paths: string[] } }).cgroups.paths.find((p) => existsSync(join(p, 'cpu.idle')));
  if (!dir) {
    t.skip('this host has no cpu.idle', () => {});
  } else {
    const up = corral(root, ['update', '--cpu-idle', '1', u]);
    t.equal(up.status, 0, messages(up.stderr));
    t.equal(readFileSync(join(dir, 'cpu.idle'), 'utf8').trim(), '1');
    t.match(messages(corral(root, ['update', '--cpu-idle', 'x', u]).stderr), /invalid value for cpu-idle: "x" is not an integer/);
  }
  t.equal(corral(root, ['delete', '--force', u]).status, 0);
  t.same(leftovers(root, u), []);
});

t.test('create --pidfd-socket sends a pidfd of the init, as runc >= 1.2', async (t) => {
  const sock = join(tempDir('pidfd'), 'sock');
  // Receives the fd and says which process it refers to (fdinfo's "Pid:").
  const receiver = spawn(
    'python3',
    [
      '-c',
      `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
print('listening', flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 4096, 1)
pid = [l.split()[1] for l in open('/proc/self/fdinfo/%d' % fds[0]) if l.startswith('Pid:')][0]
print('name=%s pid=%s' % (msg.decode(), pid), flush=True)
`,
      sock,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  receiver.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  await new Promise<void>((res) => {
    const i = setInterval(() => {
      if (out.includes('listening')) {
        clearInterval(i);
        res();
      }
    }, 10);
  });
  const c = id('pidfd');
  const r = corral(root, ['create', '--pidfd-socket', sock, '--bundle', bundle(baseConfig(['sleep', '100'])), c]);
  t.equal(r.status, 0, messages(r.stderr));
  await new Promise((res) => receiver.on('exit', res));
  t.equal(out.split('\n')[1], `name=pidfd pid=${state(root, c).pid}`);
  const bad = id('pidfd-bad');
  const b = corral(root, ['create', '--pidfd-socket', join(tempDir('nosock'), 'none'), '--bundle', bundle(baseConfig(['sleep', '100'])), bad]);
  t.equal(b.status, 1);
  t.match(messages(b.stderr), /^--pidfd-socket: connect .*\/none: No such file or directory$/);
  t.same(leftovers(root, bad), [], 'a failed send leaves nothing');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
});

t.test('linux.memoryPolicy is set with set_mempolicy(2) before the process runs', async (t) => {
  if (!existsSync('/sys/devices/system/node/node0') || !existsSync('/proc/self/numa_maps')) {
    t.skip('this host has no NUMA node 0 or no /proc/PID/numa_maps (CONFIG_NUMA)', () => {});
    return;
  }
  const policyOf = (memoryPolicy: unknown) => {
    const c = id('mempolicy');
    const r = corral(root, [
      'run',
      '--bundle',
      bundle(baseConfig(['head', '-1', '/proc/self/numa_maps']), (cfg) => {
        cfg.linux.memoryPolicy = memoryPolicy;
      }),
      c,
    ]);
    t.same(leftovers(root, c), []);
    return r.status === 0 ? r.stdout.split(' ')[1] : messages(r.stderr);
  };
  // numa_maps names the policy of each mapping: the process's own, inherited across exec.
  t.equal(policyOf({ mode: 'MPOL_BIND', nodes: '0' }), 'bind:0');
  t.equal(policyOf({ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }), 'interleave=static:0');
  t.equal(policyOf({ mode: 'MPOL_LOCAL' }), 'local');
  t.equal(policyOf({ mode: 'MPOL_BIND' }), '/linux/memoryPolicy/nodes: MPOL_BIND needs at least one node');
  t.equal(policyOf({ mode: 'MPOL_LOCAL', nodes: '0' }), '/linux/memoryPolicy/nodes: MPOL_LOCAL takes no nodes');
  t.equal(policyOf({ mode: 'MPOL_PREFERRED', nodes: '0-x' }), '/linux/memoryPolicy/nodes: "0-x" is not a list of node numbers and ranges below 1024 (e.g. "0-3,7")');
  // A node this host does not have: the kernel's refusal, naming the field.
  const missing =
    readFileSync('/sys/devices/system/node/possible', 'utf8')
      .trim()
      .split(/[-,]/)
      .map(Number)
      .reduce((a, b) => Math.max(a, b)) + 1;
  if (missing < 1024) t.equal(policyOf({ mode: 'MPOL_BIND', nodes: String(missing) }), '/linux/memoryPolicy: set_mempolicy: invalid argument');
});
