// The known runtime escapes, each tried for real against corral, and the
// confinement a container is given: capabilities (ambient for a non-root user),
// no_new_privileges against a setuid gain, and the LSM fields refused on this host.
//   CVE-2019-5736   overwrite the runtime's binary through /proc/<pid>/exe
//   CVE-2024-21626  a host fd left open in the container (as a cwd, or walked through)
//   CVE-2021-30465  symlinks (and a symlink swapped in during setup) leading mounts,
//                   masked and read-only paths out of the rootfs
//   CVE-2019-16884 / CVE-2023-27561   a bind mount over /proc redirecting a write
//   CVE-2025-31133 / 52565 / 52881    a /dev/null that is not the null device
// Each test fails against a corral without the protection it names (checked once
// with the protection disabled in a scratch build; see the commit that added this).
import t, { type Test } from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, ROOT, baseConfig, bundle, cleanup, corral, leftovers, messages, mountsWith, scratch, sleep, state, stateRoot } from '../lib/corral';
import { lsmEnabled } from '../lib/host';
import { CAPABILITIES } from '../../src/linux/capabilities';

type Config = Record<string, any>;
type Edit = (c: Config) => void;

const root = stateRoot();
const ids: string[] = [];
const id = (name: string) => (ids.push(`${name}-${process.pid}`), `${name}-${process.pid}`);
const children: ReturnType<typeof spawn>[] = [];
t.teardown(() => {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  cleanup(root, ids);
});

/** A private, writable copy of the busybox rootfs (the shared one is never touched). */
function rootfsCopy(): string {
  const d = join(scratch('rootfs-'), 'rootfs');
  mkdirSync(d);
  // Its contents: a copy even where bundles/busybox/rootfs is itself a link.
  execFileSync('cp', ['-a', `${BUSYBOX_ROOTFS}/.`, d]);
  return d;
}

let probeBin: string | undefined;
/** test/fixtures/probe.c, static. Bound at /tmp/probe (on the container's tmpfs). */
function probe(): string {
  if (!probeBin) {
    probeBin = join(scratch('probe-'), 'probe');
    execFileSync('gcc', ['-static', '-O2', '-o', probeBin, join(ROOT, 'test/fixtures/probe.c')]);
  }
  return probeBin;
}

const bind = (source: string, destination: string, ro = false) => ({ destination, type: 'bind', source, options: ['bind', ...(ro ? ['ro'] : [])] });
const withProbe: Edit = (c) => {
  c.mounts.push(bind(probe(), '/tmp/probe', true));
};

/** Every capability this host can grant (its bounding set lacks CAP_SYS_RESOURCE). */
function hostCaps(): string[] {
  const bnd = BigInt('0x' + (/^CapBnd:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'));
  return CAPABILITIES.filter((_, i) => (bnd >> BigInt(i)) & 1n);
}
/** The most a config can give: every capability, no no_new_privs. The attacks get all of it. */
const privileged: Edit = (c) => {
  const caps = hostCaps();
  c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
  c.process.noNewPrivileges = false;
};

const sha256 = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

/** Waits (bounded) for a file the container writes; the assertions come after. */
function waitFor(path: string): boolean {
  for (let i = 0; i < 3000 && !existsSync(path); i++) sleep(10);
  return existsSync(path);
}

function run(t: Test, name: string, args: string[], edit: Edit): { status: number | null; stdout: string; stderr: string } {
  const c = id(name);
  const r = corral(root, ['run', '--bundle', bundle(baseConfig(args), edit), c]);
  t.same(leftovers(root, c), [], `${name}: nothing left`);
  return { status: r.status, stdout: r.stdout, stderr: messages(r.stderr) };
}

t.test('CVE-2019-5736: the helper that enters a container is a sealed copy; the host binary cannot be written', async (t) => {
  const helper = join(ROOT, 'dist/corral-init');
  const before = sha256(helper);
  const out = scratch('cve5736-');
  const c = id('cve5736');
  const b = bundle(baseConfig(['sleep', '300']), (cfg: Config) => {
    privileged(cfg);
    withProbe(cfg);
    cfg.mounts.push(bind(out, '/tmp/out'));
  });
  const r = corral(root, ['create', '--bundle', b, c]);
  t.equal(r.status, 0, messages(r.stderr));
  const pid = state(root, c).pid as number;
  // Until start, the container's PID 1 is corral-init: what an attacker can reach.
  t.equal(readlinkSync(`/proc/${pid}/exe`), '/memfd:corral-init (deleted)', 'the init runs from a memfd, not from dist/corral-init');
  // The attack, from a process exec'd into the container with every capability: open
  // the init's executable for writing now, and through a kept fd once it is free.
  const script = [
    'readlink /proc/1/exe > /tmp/out/exe',
    '/tmp/probe write:/proc/1/exe > /tmp/out/running',
    'exec 7< /proc/1/exe',
    '/tmp/probe write:/proc/self/fd/7 > /tmp/out/kept-running',
    'touch /tmp/out/ready',
    'while [ "$(readlink /proc/1/exe)" = "$(cat /tmp/out/exe)" ]; do sleep 0.05; done',
    '/tmp/probe write:/proc/self/fd/7 > /tmp/out/after',
    'readlink /proc/self/fd/7 > /tmp/out/kept',
    'touch /tmp/out/done',
  ].join('\n');
  t.equal(corral(root, ['exec', '--detach', c, 'sh', '-c', script]).status, 0);
  t.ok(waitFor(join(out, 'ready')), 'the attacker is in place');
  t.equal(corral(root, ['start', c]).status, 0);
  t.ok(waitFor(join(out, 'done')), 'the attacker saw the init exec');
  const read = (f: string) => readFileSync(join(out, f), 'utf8').trim();
  t.equal(read('exe'), '/memfd:corral-init (deleted)', 'from inside, /proc/1/exe is the memfd');
  t.equal(read('running'), 'write:/proc/1/exe: ETXTBSY', 'not writable while it runs');
  t.equal(read('kept-running'), 'write:/proc/self/fd/7: ETXTBSY');
  t.equal(read('kept'), '/memfd:corral-init (deleted)', 'the kept fd is the memfd');
  t.equal(read('after'), 'write:/proc/self/fd/7: EPERM', "once the init exec'd, the memfd can be opened but not written: it is sealed");
  t.equal(sha256(helper), before, 'dist/corral-init is unchanged');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
});

t.test('CVE-2024-21626: no fd of the host is reachable from the container, cwd is always inside', async (t) => {
  // 1. A created container's init holds the exec fifo and an fd directory until start.
  //    A process exec'd in with every capability walks each of PID 1's fds.
  const swappiness = readFileSync('/proc/sys/vm/swappiness', 'utf8').trim();
  const c = id('cve21626');
  const initHost = () => String(state(root, c).pid);
  t.equal(corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '300']), privileged), c]).status, 0);
  const walk = [
    'for f in /proc/1/fd/*; do n=${f##*/}',
    '  echo "fd $n $(readlink $f)"',
    '  if [ -d $f ]; then',
    '    echo "dir $n $(ls $f/../.. | tr "\\n" " ")"',
    // the host's value, so that even a runtime that lets this through changes nothing
    `    (echo ${swappiness} > $f/../../sys/vm/swappiness) 2>/dev/null && echo "wrote $n"`,
    '  fi',
    'done',
    'echo "own $(ls /proc | tr "\\n" " ")"',
  ].join('\n');
  const hostPid = initHost();
  const w = corral(root, ['exec', c, 'sh', '-c', walk]);
  t.equal(w.status, 0, messages(w.stderr));
  const lines = w.stdout.trim().split('\n');
  t.ok(lines.filter((l) => l.startsWith('fd ')).length >= 3, w.stdout);
  t.same(
    lines.filter((l) => l.startsWith('wrote')),
    [],
    'no host sysctl written through an fd of the init',
  );
  const own = (lines.find((l) => l.startsWith('own ')) ?? '').split(' ').filter((x) => /^\d+$/.test(x));
  for (const l of lines.filter((x) => x.startsWith('dir '))) {
    const seen = l.split(' ').slice(2).filter(Boolean);
    const fd = l.split(' ')[1];
    t.notOk(seen.includes(String(process.pid)) || seen.includes(hostPid), `fd ${fd}: no host pid (this test's ${process.pid}, the init's ${hostPid}) listed: ${seen.join(' ')}`);
    t.notOk(seen.includes('sys'), `fd ${fd}: no sys/ of any /proc`);
    t.ok(own.length > 0 && seen.filter((x) => /^\d+$/.test(x)).every((p) => Number(p) < 1000), `fd ${fd}: pids of the container's namespace only`);
  }
  t.equal(readFileSync('/proc/sys/vm/swappiness', 'utf8').trim(), swappiness);
  t.equal(corral(root, ['delete', '--force', c]).status, 0);

  // 2. process.cwd through /proc/self/fd/N (the runc exploit): refused, for every fd
  //    the init could hold.
  for (let n = 3; n <= 8; n++) {
    const r = run(t, `cwdfd${n}`, ['sh', '-c', 'pwd; ls'], (cfg) => {
      cfg.process.cwd = `/proc/self/fd/${n}`;
    });
    t.equal(r.status, 1, `cwd /proc/self/fd/${n}: refused ${r.stdout}`);
    t.match(r.stderr, new RegExp(`cwd /proc/self/fd/${n}: (too many levels of symbolic links|no such file or directory)`));
  }

  // 3. exec --cwd /proc/self/fd/N, with a profile that notifies: the exec'd process
  //    holds the most fds then (the agent's socket, the runtime's /proc/self link).
  const sockDir = scratch('agent-');
  const sock = join(sockDir, 'agent.sock');
  const tries = [3, 4, 5, 6, 7, 8, 9, 10];
  // Connections: the init, each try, and the exec of part 4.
  const agent = spawn('python3', ['-u', join(ROOT, 'test/fixtures/seccomp-agent.py'), sock, join(sockDir, 'reports'), String(tries.length + 2), 'drop'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(agent);
  await new Promise((resolve) => agent.stdout!.once('data', resolve));
  const e = id('cve21626exec');
  t.equal(
    corral(root, [
      'run',
      '--detach',
      '--bundle',
      bundle(baseConfig(['sleep', '300']), (cfg: Config) => {
        privileged(cfg);
        cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: sock, syscalls: [{ names: ['kexec_load'], action: 'SCMP_ACT_NOTIFY' }] };
      }),
      e,
    ]).status,
    0,
  );
  for (const n of tries) {
    const r = corral(root, ['exec', '--cwd', `/proc/self/fd/${n}`, e, 'sh', '-c', 'pwd; ls']);
    t.equal(r.status, 1, `exec --cwd /proc/self/fd/${n}: refused ${r.stdout}`);
    t.match(messages(r.stderr), new RegExp(`chdir /proc/self/fd/${n}: (not a directory|no such file or directory)`));
  }
  // 4. The running process and an exec'd one: stdio only, cwd inside the root.
  const inside = corral(root, [
    'exec',
    e,
    'sh',
    '-c',
    'ls /proc/self/fd | tr "\\n" " "; echo; ls /proc/1/fd | tr "\\n" " "; echo; readlink /proc/self/cwd; readlink /proc/1/cwd; ls /proc/self/cwd/ | tr "\\n" " "; echo; ls / | tr "\\n" " "',
  ]);
  t.equal(inside.status, 0, messages(inside.stderr));
  const [selfFds, initFds, selfCwd, initCwd, cwdList, rootList] = inside.stdout.split('\n');
  t.equal(selfFds.trim(), '0 1 2 3', "an exec'd process: stdio (and ls's own directory)");
  t.equal(initFds.trim(), '0 1 2', 'the running init: stdio');
  t.same([selfCwd, initCwd], ['/', '/'], 'cwd is /');
  t.equal(cwdList, rootList, "/proc/self/cwd is the container's root");
  t.equal(corral(root, ['delete', '--force', e]).status, 0);
});

t.test('CVE-2021-30465: symlinks never lead a mount, masked or read-only path out of the rootfs', async (t) => {
  // A link names an absolute host path. A runtime that resolved it on the host would
  // act on that host path; corral resolves it inside the rootfs. To see the
  // difference from inside, some links name host paths that are the rootfs's own
  // files: /etc/secret would be masked, /srv made read-only, /srv/x mounted on.
  const r = rootfsCopy();
  writeFileSync(join(r, 'etc/secret'), 'secret\n');
  mkdirSync(join(r, 'srv'));
  const hostDir = scratch('hostdir-');
  const hostFile = join(hostDir, 'victim');
  writeFileSync(hostFile, 'victim\n');
  symlinkSync(join(r, 'etc/secret'), join(r, 'etc/masklink'));
  symlinkSync(join(r, 'srv'), join(r, 'rolink'));
  symlinkSync(join(r, 'srv'), join(r, 'mntlink'));
  symlinkSync(hostFile, join(r, 'etc/hostmask'));
  symlinkSync(hostDir, join(r, 'hostro'));
  symlinkSync('../../../../../../..' + hostDir, join(r, 'hostrel'));
  const out = run(
    t,
    'cve30465',
    ['sh', '-c', 'cat /etc/secret; touch /srv/w && echo srv-writable; awk \'{print $5}\' /proc/self/mountinfo | grep -E "^/(etc|srv|hostro|hostrel|tmp/corral|mntlink)" || true'],
    (c) => {
      c.root = { path: r, readonly: false };
      c.mounts.push({ destination: '/mntlink/x', type: 'tmpfs', source: 'tmpfs' }, { destination: '/hostrel/y', type: 'tmpfs', source: 'tmpfs' });
      c.linux.maskedPaths = ['/etc/masklink', '/etc/hostmask'];
      c.linux.readonlyPaths = ['/rolink', '/hostro', '/hostrel'];
    },
  );
  t.equal(out.status, 0, out.stderr);
  const lines = out.stdout.trim().split('\n');
  t.equal(lines[0], 'secret', '/etc/secret is not masked through a link naming it by its host path');
  t.equal(lines[1], 'srv-writable', '/srv is not made read-only through such a link');
  t.notOk(lines.includes('/srv/x'), 'nothing mounted on /srv/x through such a link');
  t.ok(
    lines.some((l) => l.endsWith(`${r}/srv/x`)),
    `the mount went where the link leads inside the rootfs: ${lines.slice(2).join(' ')}`,
  );
  t.equal(readFileSync(hostFile, 'utf8'), 'victim\n', 'the host file is unchanged');
  writeFileSync(join(hostDir, 'still-writable'), 'x');
  t.same(readdirSync(hostDir).sort(), ['still-writable', 'victim'], 'the host directory gained no mount point and stays writable');
  t.same(mountsWith(hostDir), [], 'no mount on the host');

  // The race: while containers are set up, a directory on the way to a mount point
  // is swapped, again and again, with a link to such a host path.
  const r2 = rootfsCopy();
  mkdirSync(join(r2, 'srv'));
  mkdirSync(join(r2, 'swap'));
  symlinkSync(join(r2, 'srv'), join(r2, 'swaplink'));
  const swapper = spawn(probe(), [`exchange:${join(r2, 'swap')}:${join(r2, 'swaplink')}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(swapper);
  await new Promise((resolve) => swapper.stdout!.once('data', resolve));
  const mounted: string[] = [];
  let ran = 0;
  for (let i = 0; i < 25; i++) {
    const x = run(t, `race${i}`, ['sh', '-c', "awk '{print $5}' /proc/self/mountinfo"], (c) => {
      c.root = { path: r2, readonly: false };
      c.mounts.push({ destination: '/swap/x', type: 'tmpfs', source: 'tmpfs' });
    });
    if (x.status === 0) ran++;
    if (x.stdout.split('\n').includes('/srv/x')) mounted.push(`run ${i}`);
  }
  swapper.kill('SIGKILL');
  t.ok(ran > 0, `containers ran during the swaps (${ran} of 25; the others were refused)`);
  t.same(mounted, [], 'never mounted where the swapped-in link leads on the host');
});

t.test('CVE-2019-16884 / CVE-2023-27561: a bind mount over /proc cannot redirect a sysctl write', async (t) => {
  const fake = scratch('fakeproc-');
  mkdirSync(join(fake, 'sys/kernel'), { recursive: true });
  mkdirSync(join(fake, 'kernel'));
  writeFileSync(join(fake, 'sys/kernel/shmmax'), 'fake\n');
  writeFileSync(join(fake, 'kernel/shmmax'), 'fake\n');
  const cases: [string, Edit][] = [
    [
      'over /proc/sys',
      (c) => {
        c.mounts.push(bind(fake, '/proc/sys'));
      },
    ],
    [
      'over /proc',
      (c) => {
        c.mounts.push(bind(fake, '/proc'));
      },
    ],
  ];
  for (const [name, edit] of cases) {
    const r = run(t, `procover${cases.findIndex((x) => x[0] === name)}`, ['true'], (c) => {
      edit(c);
      c.linux.sysctl = { 'kernel.shmmax': '123456' };
      c.linux.readonlyPaths = [];
    });
    t.equal(r.status, 1, `${name}: refused`);
    t.match(r.stderr, /sysctl: not on procfs: kernel\.shmmax/, `${name}: because the target is not procfs`);
  }
  t.equal(readFileSync(join(fake, 'sys/kernel/shmmax'), 'utf8'), 'fake\n', 'the bind source is unchanged');
  t.equal(readFileSync(join(fake, 'kernel/shmmax'), 'utf8'), 'fake\n');
});

t.test('CVE-2025-31133 class: masking needs the real /dev/null; a host file never lands on a masked path', async (t) => {
  const r = rootfsCopy();
  writeFileSync(join(r, 'etc/secret'), 'secret\n');
  const victimDir = scratch('victim-');
  const victim = join(victimDir, 'victim');
  writeFileSync(victim, 'host-content\n');
  // /dev from the host (so corral makes no devices), with null a regular file or a
  // link to a host file the container sees through another mount.
  const devFile = scratch('devfile-');
  copyFileSync(victim, join(devFile, 'null'));
  const devLink = scratch('devlink-');
  symlinkSync('/victim/victim', join(devLink, 'null'));
  const cases: [string, Edit][] = [
    [
      '/dev/null a regular file',
      (c) => {
        c.mounts.push(bind(devFile, '/dev'));
      },
    ],
    [
      '/dev/null a link to a host file',
      (c) => {
        c.mounts.push(bind(victimDir, '/victim'), bind(devLink, '/dev'));
      },
    ],
    [
      'a host file bound over /dev/null',
      (c) => {
        c.mounts.push(bind(victim, '/dev/null'));
      },
    ],
  ];
  cases.forEach(([name, edit], i) => {
    const x = run(t, `devnull${i}`, ['sh', '-c', 'echo owned > /etc/secret; cat /etc/secret'], (c) => {
      c.root = { path: r, readonly: false };
      c.mounts = c.mounts.filter((m: Config) => !m.destination.startsWith('/dev/pts'));
      edit(c);
      c.linux.maskedPaths = ['/etc/secret'];
    });
    t.equal(x.status, 1, `${name}: refused`);
    t.match(x.stderr, /(maskedPaths: \/dev\/null in the container is not the null device; cannot mask \/etc\/secret|device: mknod \/dev\/null)/, `${name}: ${x.stderr}`);
    t.equal(readFileSync(victim, 'utf8'), 'host-content\n', `${name}: the host file is unchanged`);
  });
  t.equal(readFileSync(join(devFile, 'null'), 'utf8'), 'host-content\n');
  t.equal(readFileSync(join(r, 'etc/secret'), 'utf8'), 'secret\n');
});

t.test('no_new_privileges stops a setuid gain; without it the gain happens', async (t) => {
  const r = rootfsCopy();
  const suid = join(r, 'bin/suid-probe');
  copyFileSync(probe(), suid);
  chownSync(suid, 0, 0);
  chmodSync(suid, 0o4755);
  t.equal(statSync(suid).mode & 0o7777, 0o4755);
  const asUser =
    (nnp: boolean): Edit =>
    (c) => {
      c.root = { path: r, readonly: true };
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.noNewPrivileges = nnp;
    };
  const gained = run(t, 'suid', ['/bin/suid-probe', 'ids'], asUser(false));
  t.equal(gained.stdout, 'ids: uid=1000/0 gid=1000/1000\n', 'without no_new_privileges the setuid bit gives euid 0');
  const kept = run(t, 'suidnnp', ['/bin/suid-probe', 'ids'], asUser(true));
  t.equal(kept.stdout, 'ids: uid=1000/1000 gid=1000/1000\n', 'with it, euid stays 1000');
});

t.test('a non-root user keeps exactly its ambient capabilities, and they work', async (t) => {
  const caps =
    (list: string[], ambient: boolean): Edit =>
    (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = { bounding: list, effective: list, permitted: list, inheritable: ambient ? list : [], ambient: ambient ? list : [] };
      withProbe(c);
    };
  const args = ['/tmp/probe', 'bind80', 'chown:/tmp/f', 'ids'];
  const amb = run(t, 'ambient', args, caps(['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'], true));
  t.equal(amb.stdout, 'bind80: ok\nchown:/tmp/f: ok\nids: uid=1000/1000 gid=1000/1000\n', 'uid 1000 binds port 80 and chowns');
  const none = run(t, 'noambient', args, caps(['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'], false));
  t.equal(none.stdout, 'bind80: EACCES\nchown:/tmp/f: EPERM\nids: uid=1000/1000 gid=1000/1000\n', 'without ambient they are gone after execve');
  const one = run(t, 'oneambient', args, caps(['CAP_NET_BIND_SERVICE'], true));
  t.equal(one.stdout, 'bind80: ok\nchown:/tmp/f: EPERM\nids: uid=1000/1000 gid=1000/1000\n', 'exactly the listed ones');
  const bad = run(t, 'badcap', ['true'], (c) => {
    c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_BOGUS'] };
  });
  t.equal(bad.status, 1);
  t.match(bad.stderr, /\/process\/capabilities\/bounding\/1: unknown capability "CAP_BOGUS"/, 'an unknown capability is an error naming it');
});

// A host with AppArmor or SELinux enabled would apply the labels, not refuse them.
t.test(
  'AppArmor and SELinux labels are refused on this host, which has neither',
  {
    skip: (lsmEnabled('apparmor') || lsmEnabled('selinux')) && 'this host has AppArmor or SELinux enabled: labels are applied there, not refused',
  },
  async (t) => {
    const cases: [string, Edit, RegExp][] = [
      [
        'apparmor',
        (c) => {
          c.process.apparmorProfile = 'docker-default';
        },
        /\/process\/apparmorProfile: AppArmor is not enabled on this host/,
      ],
      [
        'selinux',
        (c) => {
          c.process.selinuxLabel = 'system_u:system_r:container_t:s0';
        },
        /\/process\/selinuxLabel: SELinux is not enabled on this host/,
      ],
      [
        'mountlabel',
        (c) => {
          c.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
        },
        /\/linux\/mountLabel: SELinux is not enabled on this host/,
      ],
    ];
    for (const [name, edit, msg] of cases) {
      const r = run(t, `lsm${name}`, ['true'], edit);
      t.equal(r.status, 1, `${name}: refused, never ignored`);
      t.match(r.stderr, msg);
    }
    // `corral exec` refuses them too.
    const c = id('lsmexec');
    t.equal(corral(root, ['run', '--detach', '--bundle', bundle(baseConfig(['sleep', '300'])), c]).status, 0);
    const ex = corral(root, ['exec', '--apparmor', 'docker-default', c, 'true']);
    t.equal(ex.status, 1);
    t.match(messages(ex.stderr), /AppArmor is not enabled on this host/);
    t.equal(corral(root, ['delete', '--force', c]).status, 0);
  },
);
