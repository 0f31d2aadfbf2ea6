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
  const r = corral(root, ['run', '--bundle', bundle(baseConfig(['true']), (cfg) => { cfg.root = { path: link, readonly: true }; }), c]);
  t.equal(r.status, 1);
  t.equal(messages(r.stderr), `/root/path: invalid rootfs ${link}: it goes through a symlink (to ${BUSYBOX_ROOTFS}); give the real path, as runc requires`);
  t.same(leftovers(root, c), []);
  // A relative rootfs in a bundle given through a symlink: the bundle's real directory counts.
  const real = bundle(baseConfig(['true']), (cfg) => { cfg.root = { path: 'rootfs', readonly: true }; });
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
  const r = corral(root, ['run', '--bundle', bundle(baseConfig(['sh', '-c', 'ls -l /dev/foo /dev/null']), (cfg) => {
    cfg.linux.devices = [{ path: '/dev/foo/', type: 'c', major: 1, minor: 3 }, { path: '/dev//null/', type: 'c', major: 1, minor: 3 }];
  }), c]);
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
  const dir = (JSON.parse(readFileSync(join(root, u, 'state.json'), 'utf8')) as { cgroups: { paths: string[] } }).cgroups.paths
    .find((p) => existsSync(join(p, 'cpu.idle')));
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
  const receiver = spawn('python3', ['-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(1)
print('listening', flush=True)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 4096, 1)
pid = [l.split()[1] for l in open('/proc/self/fdinfo/%d' % fds[0]) if l.startswith('Pid:')][0]
print('name=%s pid=%s' % (msg.decode(), pid), flush=True)
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  receiver.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise<void>((res) => { const i = setInterval(() => { if (out.includes('listening')) { clearInterval(i); res(); } }, 10); });
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
