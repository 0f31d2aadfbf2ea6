// Mounts of real containers: bind (rw, ro, file), tmpfs options, the usual kernel
// filesystems, a read-only root, overlay, missing destinations, symlinks that point
// out of the rootfs, masked and read-only paths, devices and /dev links, sysctls and
// rootfsPropagation — checked from inside, and on the host where they must not show.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, baseConfig, bundle as makeBundle, corral, leftovers, messages, mountsWith, sleep, state, testFile } from '../lib/corral';

type Cfg = Parameters<typeof makeBundle>[1];
type Config = Record<string, any>;

const hostMounts: string[] = [];
const {
  root,
  id,
  tempDir: fileTempDir,
} = testFile(t, () => {
  for (const m of hostMounts.reverse()) quiet('umount', ['-l', m]);
});
const bundle = (config: Config, edit?: Cfg) => makeBundle(config, edit);

function quiet(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return '';
  }
}

/** A temp dir (searchable by anyone), removed at the end. */
function tempDir(name: string): string {
  const d = fileTempDir(name);
  chmodSync(d, 0o755);
  return d;
}

/** A private, writable copy of the busybox rootfs. */
function rootfsCopy(): string {
  const d = tempDir('rootfs');
  execFileSync('cp', ['-a', BUSYBOX_ROOTFS, join(d, 'rootfs')]);
  return join(d, 'rootfs');
}

// Missing mount destinations are created in the rootfs: never in the shared one.
const ROOTFS = rootfsCopy();

function run(t: Test, name: string, script: string, edit?: Cfg): { status: number | null; stdout: string; stderr: string } {
  const c = id(name);
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', script]), (cfg) => {
      (cfg as Config).root = { path: ROOTFS, readonly: true };
      edit?.(cfg);
    }),
    c,
  ]);
  t.same(leftovers(root, c), [], `${name}: nothing left after run`);
  return { status: r.status, stdout: r.stdout, stderr: messages(r.stderr) };
}

/** Runs and expects success; returns stdout. */
function ok(t: Test, name: string, script: string, edit?: Cfg): string {
  const r = run(t, name, script, edit);
  t.equal(r.status, 0, `${name}: exits 0 ${r.stderr}`);
  return r.stdout;
}

const addMounts =
  (...ms: Config[]) =>
  (c: Config) => {
    c.mounts.push(...ms);
  };
/** "mountpoint fstype options" per line, from the container's mountinfo. */
const MOUNTS = `awk '{i = 7; while ($i != "-") i++; print $5, $(i + 1), $6 "," $(i + 3)}' /proc/self/mountinfo`;
function mountTable(out: string): Map<string, { type: string; opts: string[] }> {
  const m = new Map<string, { type: string; opts: string[] }>();
  for (const l of out.trim().split('\n')) {
    const [point, type, opts] = l.split(' ');
    if (point && type) m.set(point, { type, opts: (opts ?? '').split(',') });
  }
  return m;
}

t.test('bind mounts: rw, ro (EROFS) and a single file', async (t) => {
  const host = tempDir('bind');
  writeFileSync(join(host, 'f'), 'host\n');
  const file = join(host, 'single');
  writeFileSync(file, 'just one file\n');
  const out = ok(
    t,
    'bind',
    [
      'cat /mnt/rw/f',
      'echo inside > /mnt/rw/new && echo rw-write=ok',
      'cat /mnt/ro/f',
      'echo x 2>&1 > /mnt/ro/nope || true',
      'touch /mnt/ro/nope2 2>&1 || true',
      'cat /etc/single',
      '[ -f /etc/single ] && echo single-is-file',
      MOUNTS,
    ].join('; '),
    addMounts(
      { destination: '/mnt/rw', type: 'bind', source: host, options: ['rbind', 'rw'] },
      { destination: '/mnt/ro', type: 'bind', source: host, options: ['bind', 'ro'] },
      { destination: '/etc/single', type: 'bind', source: file, options: ['bind', 'ro'] },
    ),
  );
  const lines = out.split('\n');
  t.equal(lines[0], 'host', 'rw bind shows the host dir');
  t.equal(lines[1], 'rw-write=ok');
  t.equal(readFileSync(join(host, 'new'), 'utf8'), 'inside\n', 'the write reached the host');
  t.equal(lines[2], 'host', 'ro bind shows the host dir');
  t.match(out, /nope: Read-only file system/, 'write to the ro bind: EROFS');
  t.match(out, /nope2.*Read-only file system/, 'touch in the ro bind: EROFS');
  t.notOk(existsSync(join(host, 'nope')) || existsSync(join(host, 'nope2')), 'nothing written through the ro bind');
  t.match(out, /just one file\nsingle-is-file/, 'a file bound on a file (created in the rootfs)');
  const m = mountTable(out.slice(out.indexOf('single-is-file')));
  t.ok(m.get('/mnt/ro')?.opts.includes('ro'), 'ro in mountinfo');
  t.ok(m.get('/mnt/rw')?.opts.includes('rw'), 'rw in mountinfo');
  writeFileSync(join(host, 'after'), 'x');
  t.ok(existsSync(join(host, 'after')), 'the host dir itself is still writable');
  t.same(mountsWith(host), [], 'no bind mount left on the host');
});

t.test('bind mount flags: noexec, nosuid, nodev are applied to the bind', async (t) => {
  const host = tempDir('bindflags');
  execFileSync('cp', [join(BUSYBOX_ROOTFS, 'bin/busybox'), join(host, 'busybox')]);
  const out = ok(
    t,
    'bindflags',
    `/mnt/exec/busybox echo exec-ok; (/mnt/noexec/busybox echo nope) 2>&1 || true; ${MOUNTS}`,
    addMounts(
      { destination: '/mnt/exec', type: 'bind', source: host, options: ['bind', 'ro'] },
      { destination: '/mnt/noexec', type: 'bind', source: host, options: ['bind', 'noexec', 'nosuid', 'nodev'] },
    ),
  );
  t.match(out, /^exec-ok\n/, 'executable from a plain bind');
  t.match(out, /\/mnt\/noexec\/busybox: Permission denied/, 'not from a noexec bind');
  const m = mountTable(out);
  t.ok(
    ['noexec', 'nosuid', 'nodev', 'rw'].every((o) => m.get('/mnt/noexec')?.opts.includes(o)),
    `flags: ${m.get('/mnt/noexec')?.opts}`,
  );
  t.ok(m.get('/mnt/exec')?.opts.includes('ro'));
});

t.test('in a user namespace: ro binds, a read-only root, masked paths and devices', async (t) => {
  const host = tempDir('userbind');
  writeFileSync(join(host, 'f'), 'host\n');
  const out = ok(
    t,
    'userns-mounts',
    [
      'cat /mnt/ro/f',
      '(echo x > /mnt/ro/y) 2>&1 || true',
      'touch /x 2>&1 || true',
      'stat -c "%n|%F|%t|%T" /dev/null /dev/zero /dev/tty',
      'echo hi > /dev/null && echo null-ok',
      'wc -c < /proc/keys',
    ].join('; '),
    (c) => {
      const cfg = c as Config;
      cfg.linux.namespaces.push({ type: 'user' });
      cfg.linux.uidMappings = [{ containerID: 0, hostID: 400000, size: 65536 }];
      cfg.linux.gidMappings = [{ containerID: 0, hostID: 400000, size: 65536 }];
      cfg.mounts.push({ destination: '/mnt/ro', type: 'bind', source: host, options: ['bind', 'ro', 'nosuid', 'nodev'] });
    },
  );
  t.same(out.trim().split('\n'), [
    'host',
    "sh: can't create /mnt/ro/y: Read-only file system",
    'touch: /x: Read-only file system',
    '/dev/null|character special file|1|3',
    '/dev/zero|character special file|1|5',
    '/dev/tty|character special file|5|0',
    'null-ok',
    '0',
  ]);
});

t.test('a relative bind source is relative to the bundle', async (t) => {
  const c = id('relsrc');
  const b = bundle(baseConfig(['cat', '/mnt/data/f']), (cfg) => {
    (cfg as Config).root = { path: ROOTFS, readonly: true };
    (cfg as Config).mounts.push({ destination: '/mnt/data', type: 'bind', source: 'data', options: ['bind', 'ro'] });
  });
  mkdirSync(join(b, 'data'));
  writeFileSync(join(b, 'data', 'f'), 'from the bundle\n');
  const r = corral(root, ['run', '--bundle', b, c], { cwd: '/' });
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(r.stdout, 'from the bundle\n');
  t.same(leftovers(root, c), []);
});

t.test("a cgroup mount shows the container's own cgroups", async (t) => {
  const out = ok(
    t,
    'cgmount',
    `ls /sys/fs/cgroup | tr "\\n" " "; echo; cat /sys/fs/cgroup/pids/cgroup.procs /sys/fs/cgroup/unified/cgroup.procs 2>&1 | tr "\\n" " "; echo; touch /sys/fs/cgroup/x 2>&1; ${MOUNTS}`,
    (c) => {
      const cfg = c as Config;
      cfg.linux.namespaces.push({ type: 'cgroup' });
      cfg.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] });
    },
  );
  const lines = out.split('\n');
  const hier = readdirSync('/sys/fs/cgroup').sort();
  t.same(lines[0].trim().split(' ').sort(), hier, "the host's hierarchies");
  t.match(lines[1], /^1 (\d+ )*1 /, "the container's processes are in the root of each (its own cgroup)");
  t.match(lines[2], /Read-only file system/, 'ro');
  const m = mountTable(lines.slice(3).join('\n'));
  t.ok(m.get('/sys/fs/cgroup/pids')?.opts.includes('ro'), 'each hierarchy ro too');
});

t.test('tmpfs with size and mode', async (t) => {
  const out = ok(
    t,
    'tmpfs',
    ['stat -c %a /scratch', 'df -k /scratch | tail -1', 'dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>&1 | grep -o "No space left on device" | head -1', MOUNTS].join('; '),
    addMounts({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=1m', 'mode=0710'] }),
  );
  const lines = out.split('\n');
  t.equal(lines[0], '710', 'mode');
  t.equal(lines[1].split(/\s+/)[1], '1024', 'size: 1024 KiB');
  t.equal(lines[2], 'No space left on device', 'a 2 MiB file does not fit');
  const m = mountTable(lines.slice(3).join('\n')).get('/scratch');
  t.equal(m?.type, 'tmpfs');
  t.ok(m?.opts.includes('nosuid') && m?.opts.includes('nodev'), `flags: ${m?.opts}`);
  t.ok(m?.opts.includes('size=1024k') && m?.opts.includes('mode=710'), `data: ${m?.opts}`);
});

t.test('proc, sysfs, devpts and mqueue are mounted and work', async (t) => {
  const out = ok(
    t,
    'kernelfs',
    [MOUNTS, 'echo --', 'cat /proc/1/comm', 'ls /sys/class/net', 'ls /dev/pts', 'ls -d /dev/mqueue'].join('; '),
    addMounts({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] }),
  );
  const [table, rest] = out.split('--\n');
  const m = mountTable(table);
  t.equal(m.get('/proc')?.type, 'proc');
  t.equal(m.get('/sys')?.type, 'sysfs');
  t.ok(m.get('/sys')?.opts.includes('ro'), 'sysfs ro as configured');
  t.equal(m.get('/dev/pts')?.type, 'devpts');
  t.equal(m.get('/dev/mqueue')?.type, 'mqueue');
  t.equal(m.get('/dev')?.type, 'tmpfs');
  t.match(rest, /^sh\nlo\nptmx\n\/dev\/mqueue\n$/, 'proc shows the container, sysfs its netns, devpts a new instance');
});

t.test('root.readonly', async (t) => {
  const ro = run(t, 'rootro', 'touch /newfile 2>&1; touch /tmp/ok && echo tmp-ok; awk \'$5 == "/" {print $6}\' /proc/self/mountinfo');
  t.match(ro.stdout, /newfile: Read-only file system/, 'the root is read-only');
  t.match(ro.stdout, /tmp-ok/, 'a tmpfs on it is still writable');
  t.match(ro.stdout, /\nro,[^\n]*\n$/, 'ro in mountinfo');
  t.notOk(existsSync(join(ROOTFS, 'newfile')));
  const rootfs = rootfsCopy();
  const rw = ok(t, 'rootrw', 'touch /newfile && echo written', (c) => {
    (c as Config).root = { path: rootfs, readonly: false };
  });
  t.equal(rw, 'written\n');
  t.ok(existsSync(join(rootfs, 'newfile')), 'a writable root writes to the rootfs');
});

t.test('overlay: upper wins, writes go to upperdir', async (t) => {
  const d = tempDir('overlay');
  for (const s of ['lower', 'upper', 'work']) mkdirSync(join(d, s));
  writeFileSync(join(d, 'lower', 'a'), 'lower-a\n');
  writeFileSync(join(d, 'lower', 'b'), 'lower-b\n');
  writeFileSync(join(d, 'upper', 'a'), 'upper-a\n');
  const out = ok(
    t,
    'overlay',
    'cat /ov/a /ov/b; echo new > /ov/c; rm /ov/b; ls /ov',
    addMounts({
      destination: '/ov',
      type: 'overlay',
      source: 'overlay',
      options: [`lowerdir=${join(d, 'lower')}`, `upperdir=${join(d, 'upper')}`, `workdir=${join(d, 'work')}`],
    }),
  );
  t.equal(out, 'upper-a\nlower-b\na\nc\n');
  t.equal(readFileSync(join(d, 'upper', 'c'), 'utf8'), 'new\n', 'new file in upperdir');
  t.notOk(existsSync(join(d, 'lower', 'c')), 'lowerdir untouched');
  t.equal(readFileSync(join(d, 'lower', 'b'), 'utf8'), 'lower-b\n', 'a deleted lower file stays in lowerdir');
  t.ok(lstatSync(join(d, 'upper', 'b')).isCharacterDevice(), 'a whiteout in upperdir');
  t.same(mountsWith(d), [], 'the overlay is not mounted on the host');
});

t.test('missing mount destinations are created in the rootfs', async (t) => {
  const rootfs = rootfsCopy();
  const src = tempDir('src');
  writeFileSync(join(src, 'file'), 'content\n');
  const out = ok(t, 'mkdest', 'ls -d /made/deep/dir; cat /made/file/here; grep -c " /made/" /proc/self/mountinfo', (c) => {
    const cfg = c as Config;
    cfg.root = { path: rootfs, readonly: true };
    cfg.mounts.push(
      { destination: '/made/deep/dir', type: 'tmpfs', source: 'tmpfs' },
      { destination: '/made/file/here', type: 'bind', source: join(src, 'file'), options: ['bind'] },
    );
  });
  t.equal(out, '/made/deep/dir\ncontent\n2\n');
  t.ok(lstatSync(join(rootfs, 'made/deep/dir')).isDirectory(), 'directory created for a directory mount');
  t.ok(lstatSync(join(rootfs, 'made/file/here')).isFile(), 'file created for a file bind');
});

t.test('a symlink in the rootfs never leads a mount out of it', async (t) => {
  const rootfs = rootfsCopy();
  const tag = `corral-escape-${process.pid}`;
  const hostTargets = ['rel', 'abs', 'dangling', 'danglingfile'].map((k) => join('/var/tmp', `${tag}-${k}`));
  t.teardown(() => {
    for (const h of hostTargets) rmSync(h, { recursive: true, force: true });
  });
  symlinkSync('../../../../../../../..', join(rootfs, 'up')); // relative, climbs past /
  symlinkSync('/var/tmp', join(rootfs, 'abs')); // absolute: the host's /var/tmp?
  symlinkSync(hostTargets[2], join(rootfs, 'dangling')); // absolute, dangling
  symlinkSync(hostTargets[3], join(rootfs, 'danglingfile')); // the same, for a file
  const src = tempDir('escsrc');
  writeFileSync(join(src, 'marker'), 'marker\n');
  // Relative and absolute links through directories that exist.
  const out = ok(t, 'escape', `${MOUNTS} | cut -d" " -f1; cat /var/tmp/${tag}-abs/marker`, (c) => {
    const cfg = c as Config;
    cfg.root = { path: rootfs, readonly: false };
    cfg.mounts.push(
      { destination: `/up/var/tmp/${tag}-rel/created`, type: 'tmpfs', source: 'tmpfs' },
      { destination: `/abs/${tag}-abs`, type: 'bind', source: src, options: ['bind'] },
    );
  });
  const points = out.trim().split('\n');
  t.ok(points.includes(`/var/tmp/${tag}-rel/created`), 'the relative link resolved inside the rootfs');
  t.ok(points.includes(`/var/tmp/${tag}-abs`), 'the absolute link resolved inside the rootfs');
  t.match(out, /marker\n$/, 'and the bind is there');
  t.notOk(existsSync(hostTargets[0]), `host ${hostTargets[0]} untouched`);
  t.notOk(existsSync(hostTargets[1]), `host ${hostTargets[1]} untouched`);
  t.ok(existsSync(join(rootfs, `var/tmp/${tag}-rel/created`)), 'created in the rootfs instead');
  t.ok(existsSync(join(rootfs, `var/tmp/${tag}-abs`)), 'created in the rootfs instead');
  t.same(mountsWith(tag), [], 'no mount on the host');
  // A dangling absolute link, as a directory on the way and as the destination itself.
  const d = run(t, 'escdangle', `${MOUNTS} | cut -d" " -f1`, (c) => {
    const cfg = c as Config;
    cfg.root = { path: rootfs, readonly: false };
    cfg.mounts.push({ destination: '/dangling/sub', type: 'tmpfs', source: 'tmpfs' });
  });
  t.notOk(existsSync(hostTargets[2]), `host ${hostTargets[2]} untouched (dangling link, directory on the way)`);
  t.equal(d.status, 0, `a destination through a dangling link is created inside the rootfs, as runc does ${d.stderr}`);
  t.ok(existsSync(join(rootfs, `var/tmp/${tag}-dangling/sub`)), 'there');
  const f = run(t, 'escdanglefile', 'cat /danglingfile', (c) => {
    const cfg = c as Config;
    cfg.root = { path: rootfs, readonly: false };
    cfg.mounts.push({ destination: '/danglingfile', type: 'bind', source: join(src, 'marker'), options: ['bind'] });
  });
  t.notOk(existsSync(hostTargets[3]), `host ${hostTargets[3]} untouched (dangling link as a file destination)`);
  t.equal(f.status, 0, `a dangling link as the destination is created inside the rootfs, as runc does ${f.stderr}`);
  t.equal(f.stdout, 'marker\n', 'the file is bound there');
  t.ok(lstatSync(join(rootfs, `var/tmp/${tag}-danglingfile`)).isFile(), 'a file created inside the rootfs');
  t.same(mountsWith(tag), [], 'no mount on the host');
});

t.test('maskedPaths: files hidden by /dev/null, directories by an empty read-only tmpfs', async (t) => {
  const rootfs = rootfsCopy();
  writeFileSync(join(rootfs, 'home/secret'), 'secret\n');
  writeFileSync(join(rootfs, 'etc/secret-file'), 'secret\n');
  const out = ok(
    t,
    'masked',
    [
      'wc -c < /proc/timer_list',
      'stat -c "%F %t:%T" /proc/timer_list /proc/keys /etc/secret-file',
      'cat /etc/secret-file | wc -c',
      'ls -A /home | wc -l',
      'ls -A /proc/acpi | wc -l',
      'ls -A /sys/firmware | wc -l',
      'touch /home/x 2>&1 || true',
      MOUNTS,
    ].join('; '),
    (c) => {
      const cfg = c as Config;
      cfg.root = { path: rootfs, readonly: false };
      cfg.linux.maskedPaths = ['/proc/timer_list', '/proc/keys', '/etc/secret-file', '/home', '/proc/acpi', '/sys/firmware', '/does/not/exist'];
    },
  );
  const lines = out.split('\n');
  t.equal(lines[0].trim(), '0', '/proc/timer_list reads empty');
  t.same(lines.slice(1, 4), ['character special file 1:3', 'character special file 1:3', 'character special file 1:3'], 'files are the null device');
  t.equal(lines[4].trim(), '0', 'a masked rootfs file reads empty');
  t.same(
    lines.slice(5, 8).map((s) => s.trim()),
    ['0', '0', '0'],
    'masked directories are empty',
  );
  t.match(lines[8], /Read-only file system/, 'and read-only');
  const m = mountTable(lines.slice(9).join('\n'));
  for (const p of ['/home', '/proc/acpi', '/sys/firmware']) {
    t.equal(m.get(p)?.type, 'tmpfs', `${p}: tmpfs`);
    t.ok(m.get(p)?.opts.includes('ro'), `${p}: ro`);
  }
  t.ok(existsSync(join(rootfs, 'home/secret')), 'the rootfs is untouched');
  t.notOk(existsSync(join(rootfs, 'does')), 'a missing masked path is not created');
});

t.test('readonlyPaths', async (t) => {
  const rootfs = rootfsCopy();
  const out = ok(
    t,
    'rdonly',
    ['(echo x > /proc/sys/kernel/hostname) 2>&1 || true', 'touch /var/x 2>&1 || true', 'touch /root/x && echo root-writable', 'cat /proc/sys/kernel/ostype', MOUNTS].join('; '),
    (c) => {
      const cfg = c as Config;
      cfg.root = { path: rootfs, readonly: false };
      cfg.linux.readonlyPaths = ['/proc/sys', '/var', '/does/not/exist'];
    },
  );
  t.match(out, /hostname: Read-only file system/, '/proc/sys is read-only');
  t.match(out, /\/var\/x.*Read-only file system/, '/var is read-only');
  t.match(out, /root-writable\nLinux\n/, 'the rest stays writable; read-only paths stay readable');
  const m = mountTable(out.slice(out.indexOf('Linux\n') + 6));
  t.ok(m.get('/proc/sys')?.opts.includes('ro'));
  t.ok(m.get('/var')?.opts.includes('ro'));
  t.ok(existsSync(join(rootfs, 'root/x')));
  t.notOk(existsSync(join(rootfs, 'var/x')));
  t.notOk(existsSync(join(rootfs, 'does')), 'a missing read-only path is not created');
});

t.test('linux.devices: type, mode, owner, major and minor', async (t) => {
  const out = ok(
    t,
    'devices',
    ['stat -c "%n|%F|%a|%u|%g|%t|%T" /dev/mynull /dev/myloop /dev/sub/dir/myfifo /dev/null', 'echo hi > /dev/mynull && echo mynull-writable'].join('; '),
    (c) => {
      (c as Config).linux.devices = [
        { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 1000, gid: 5 },
        { path: '/dev/myloop', type: 'b', major: 7, minor: 0, fileMode: 0o600, uid: 0, gid: 0 },
        { path: '/dev/sub/dir/myfifo', type: 'p', fileMode: 0o640, uid: 1000, gid: 1000 },
        { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 0, gid: 0 },
      ];
    },
  );
  t.same(
    out.trim().split('\n'),
    [
      '/dev/mynull|character special file|620|1000|5|1|3',
      '/dev/myloop|block special file|600|0|0|7|0',
      '/dev/sub/dir/myfifo|fifo|640|1000|1000|0|0',
      '/dev/null|character special file|640|0|0|1|3',
      'mynull-writable',
    ],
    'as configured (a configured /dev/null replaces the default one)',
  );
});

t.test('default devices and /dev links', async (t) => {
  const out = ok(
    t,
    'defdev',
    [
      'stat -c "%n|%F|%a|%u|%g|%t|%T" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty',
      'for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done',
      'head -c 4 /dev/zero | od -An -tx1',
      '(echo x > /dev/full) 2>&1 || true',
      'echo to-stderr > /dev/stderr',
      'ls /dev/fd/ | tr "\\n" " "; echo',
      'ls /dev | tr "\\n" " "',
    ].join('; '),
  );
  const lines = out.trim().split('\n');
  t.same(lines.slice(0, 6), [
    '/dev/null|character special file|666|0|0|1|3',
    '/dev/zero|character special file|666|0|0|1|5',
    '/dev/full|character special file|666|0|0|1|7',
    '/dev/random|character special file|666|0|0|1|8',
    '/dev/urandom|character special file|666|0|0|1|9',
    '/dev/tty|character special file|666|0|0|5|0',
  ]);
  t.same(lines.slice(6, 11), ['fd -> /proc/self/fd', 'stdin -> /proc/self/fd/0', 'stdout -> /proc/self/fd/1', 'stderr -> /proc/self/fd/2', 'ptmx -> pts/ptmx']);
  t.equal(lines[11].trim(), '00 00 00 00', '/dev/zero reads zeros');
  t.match(lines[12], /No space left on device/, '/dev/full is full');
  t.match(lines[13], /^0 1 2 /, '/dev/fd lists the process fds');
  const devs = lines[14].trim().split(/\s+/);
  t.notOk(
    devs.some((d) => /^(vd|sd|nvme|loop|tty\d|mem$|kmsg$)/.test(d)),
    `no host device: ${devs.join(' ')}`,
  );
  if (existsSync('/proc/kcore')) t.ok(devs.includes('core'));
  else t.notOk(devs.includes('core'), 'no /dev/core without /proc/kcore');
});

t.test('sysctl: namespaced values are set inside only', async (t) => {
  const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
  const hostShmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8');
  const out = ok(t, 'sysctl', 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax', (c) => {
    (c as Config).linux.sysctl = { 'net.ipv4.ip_forward': hostForward.trim() === '1' ? '0' : '1', 'kernel.shmmax': '65536', 'kernel.msgmax': '4096' };
  });
  t.same(out.trim().split('\n'), [hostForward.trim() === '1' ? '0' : '1', '65536', '4096']);
  t.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward, 'host ip_forward unchanged');
  t.equal(readFileSync('/proc/sys/kernel/shmmax', 'utf8'), hostShmmax, 'host shmmax unchanged');
});

t.test('sysctl: values that would change the host are refused', async (t) => {
  // Each is written with the host's current value, so a runtime that wrongly writes
  // it changes nothing.
  const swappiness = readFileSync('/proc/sys/vm/swappiness', 'utf8').trim();
  const forward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  const shmmax = readFileSync('/proc/sys/kernel/shmmax', 'utf8').trim();
  const cases: [string, Record<string, string>, Cfg, RegExp][] = [
    // runc: "sysctl is not in a separate kernel namespace"
    ['not namespaced (vm.swappiness)', { 'vm.swappiness': swappiness }, undefined, /vm\.swappiness/],
    [
      'net.* without a network namespace',
      { 'net.ipv4.ip_forward': forward },
      (c) => {
        (c as Config).linux.namespaces = (c as Config).linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
      },
      /\/linux\/sysctl\/net\.ipv4\.ip_forward: net\.\* sysctls need a network namespace/,
    ],
    [
      'kernel.shm* without an ipc namespace',
      { 'kernel.shmmax': shmmax },
      (c) => {
        (c as Config).linux.namespaces = (c as Config).linux.namespaces.filter((n: { type: string }) => n.type !== 'ipc');
      },
      /\/linux\/sysctl\/kernel\.shmmax: ipc sysctls need an ipc namespace/,
    ],
  ];
  for (const [name, sysctl, edit, msg] of cases) {
    const r = run(t, `sysctlbad-${name.replace(/\W+/g, '')}`.slice(0, 40), 'true', (c) => {
      edit?.(c);
      (c as Config).linux.sysctl = sysctl;
    });
    t.equal(r.status, 1, `${name}: refused`);
    t.match(r.stderr, msg, `${name}: the error names the sysctl`);
  }
  t.equal(readFileSync('/proc/sys/vm/swappiness', 'utf8').trim(), swappiness);
});

t.test('rootfsPropagation', async (t) => {
  // The rootfs is a shared mount on the host, so slave and shared are observable.
  const rootfs = rootfsCopy();
  execFileSync('mount', ['--bind', rootfs, rootfs]);
  hostMounts.push(rootfs);
  execFileSync('mount', ['--make-shared', rootfs]);
  mkdirSync(join(rootfs, 'probe'));
  const want: Record<string, (opt: string) => boolean> = {
    private: (o) => !/shared:|master:|unbindable/.test(o),
    slave: (o) => /master:\d+/.test(o) && !/shared:/.test(o),
    shared: (o) => /shared:\d+/.test(o),
    unbindable: (o) => /unbindable/.test(o) && !/shared:/.test(o),
  };
  // Mounts made on the host under the rootfs reach a slave or shared root only.
  const receives: Record<string, boolean> = { private: false, slave: true, shared: true, unbindable: false };
  for (const prop of [...Object.keys(want), 'default']) {
    const c = id(`prop${prop}`);
    const r = corral(root, [
      'create',
      '--bundle',
      bundle(baseConfig(['sleep', '30']), (cfg) => {
        const x = cfg as Config;
        x.root = { path: rootfs, readonly: true };
        if (prop !== 'default') x.linux.rootfsPropagation = prop;
      }),
      c,
    ]);
    t.equal(r.status, 0, `${prop}: create ${messages(r.stderr)}`);
    if (r.status !== 0) continue;
    t.equal(corral(root, ['start', c]).status, 0);
    const pid = state(root, c).pid as number;
    const rootLine =
      readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .split('\n')
        .find((l) => l.split(' ')[4] === '/') ?? '';
    const optional = rootLine.split(' - ')[0].split(' ').slice(6).join(' ');
    if (prop !== 'default') t.ok(want[prop](optional), `${prop}: / has "${optional}"`);
    t.same(
      mountsWith(rootfs).filter((m) => m !== rootfs),
      [],
      `${prop}: no container mount propagated to the host`,
    );
    execFileSync('mount', ['-t', 'tmpfs', 'probe', join(rootfs, 'probe')]);
    sleep(50);
    const seen = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[4] === '/probe');
    execFileSync('umount', [join(rootfs, 'probe')]);
    if (prop !== 'default') t.equal(seen, receives[prop], `${prop}: a host mount under the rootfs ${receives[prop] ? 'reaches' : 'does not reach'} the container`);
    else t.equal(seen, true, 'default (rslave, as runc): host mounts under the rootfs reach the container');
    t.equal(corral(root, ['delete', '--force', c]).status, 0);
    t.same(leftovers(root, c), []);
  }
  execFileSync('umount', [rootfs]);
  hostMounts.pop();
  t.same(mountsWith(rootfs), []);
});

// Make sure nothing of this file is left mounted under the busybox rootfs.
t.test('nothing is left mounted on the host', async (t) => {
  t.same(mountsWith(BUSYBOX_ROOTFS), []);
  t.same(mountsWith(ROOTFS), []);
  t.same(readdirSync(root), []);
});
