// Where runc's behaviour is what callers (and crun's test suite) rely on: each case
// compared with what runc 1.1.5 does on the same bundle (or, where noted, newer runc).
import t from 'tap';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, baseConfig, bundle, corral, leftovers, messages, testFile } from '../lib/corral';

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
