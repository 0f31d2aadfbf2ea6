// The container process as configured: argv, env, cwd, user and groups, umask,
// rlimits, capabilities, no_new_privs, oom_score_adj, seccomp, exit status, and the
// file descriptors it gets (only stdio, plus --preserve-fds).
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, CORRAL, baseConfig, bundle as makeBundle, corral, leftovers, messages, state, testFile, type Run } from '../lib/corral';

type Cfg = Parameters<typeof makeBundle>[1];
type Config = Record<string, any>;

const { root, id, tempDir } = testFile(t);
const bundle = (config: Config, edit?: Cfg) => makeBundle(config, edit);

function run(t: Test, name: string, args: string[], edit?: Cfg): Run {
  const c = id(name);
  const r = corral(root, ['run', '--bundle', bundle(baseConfig(args), edit), c]);
  t.same(leftovers(root, c), [], `${name}: nothing left after run`);
  return r;
}

/** sh -c script in a container; expects exit 0 and returns stdout. */
function sh(t: Test, name: string, script: string, edit?: Cfg): string {
  // "; true": the shell stays PID 1 instead of exec'ing the last command.
  const r = run(t, name, ['sh', '-c', `${script}; true`], edit);
  t.equal(r.status, 0, `${name}: exits 0 ${messages(r.stderr)}`);
  return r.stdout;
}

const withProcess = (p: Config) => (c: Config) => {
  Object.assign(c.process, p);
};
const caps = (list: string[], sets = ['bounding', 'effective', 'permitted']) => Object.fromEntries(sets.map((s) => [s, list]));
/** Cap* and a few other lines of /proc/<pid>/status, as a record. */
function statusOf(text: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const l of text.split('\n')) {
    const m = /^(\w+):\s*(.*?)\s*$/.exec(l);
    if (m) r[m[1]] = m[2];
  }
  return r;
}
const STATUS = 'grep -E "^(Cap|NoNewPrivs|Seccomp|Groups|Uid|Gid)" /proc/1/status';
const hex = (bits: number[]) =>
  bits
    .reduce((m, b) => m | (1n << BigInt(b)), 0n)
    .toString(16)
    .padStart(16, '0');

t.test('args reach the process exactly', async (t) => {
  const args = ['sh', '-c', 'for a in "$@"; do printf "[%s]" "$a"; done; echo; tr "\\0" "|" < /proc/1/cmdline; true', 'argv0', 'a b', '$HOME', '', '*', 'ü'];
  const r = run(t, 'args', args);
  t.equal(r.status, 0, messages(r.stderr));
  const [seen, cmdline] = r.stdout.split('\n');
  t.equal(seen, '[a b][$HOME][][*][ü]', 'no splitting, globbing or expansion');
  t.equal(cmdline, args.join('|') + '|', '/proc/1/cmdline is args');
  const abs = run(t, 'argsabs', ['/bin/echo', 'absolute', 'path']);
  t.equal(abs.stdout, 'absolute path\n');
});

t.test('env is exactly the configured environment', async (t) => {
  const env = ['PATH=/usr/bin:/bin', 'HOME=/root', 'FOO=bar baz', 'EMPTY=', 'EQ=a=b', 'TERM=dumb'];
  const out = sh(t, 'env', 'tr "\\0" "\\n" < /proc/1/environ', withProcess({ env }));
  t.same(out.trim().split('\n'), env, 'nothing added, nothing from the host (no NODE_*, TAP_*, SUDO_*...)');
  // PATH from env is used to find args[0].
  const r = run(t, 'envpath', ['hostid'], withProcess({ env: ['PATH=/usr/bin'] }));
  t.equal(r.status, 0, 'args[0] is looked up in the configured PATH');
  const miss = run(t, 'envnopath', ['hostid'], withProcess({ env: ['PATH=/sbin'] }));
  t.equal(miss.status, 1);
  t.match(messages(miss.stderr), /exec: "hostid": executable file not found in \$PATH/);
});

t.test('HOME is set from /etc/passwd when env lacks it, as runc does', async (t) => {
  const out = sh(t, 'home', 'tr "\\0" "\\n" < /proc/1/environ', withProcess({ env: ['PATH=/bin:/usr/bin'], user: { uid: 1000, gid: 1000 } }));
  t.ok(out.split('\n').includes('HOME=/home'), `HOME of uid 1000 from the rootfs passwd: ${out.trim().replace(/\n/g, ' ')}`);
});

t.test('cwd: used, and created when missing', async (t) => {
  const rootfs = join(tempDir('rootfs'), 'rootfs');
  execFileSync('cp', ['-a', BUSYBOX_ROOTFS, rootfs]);
  const out = sh(t, 'cwd', 'pwd; ls -d "$PWD"', (c) => {
    const cfg = c as Config;
    cfg.root = { path: rootfs, readonly: true };
    cfg.process.cwd = '/work/new/dir';
  });
  t.equal(out, '/work/new/dir\n/work/new/dir\n');
  t.ok(lstatSync(join(rootfs, 'work/new/dir')).isDirectory(), 'created in the rootfs');
  const tmp = sh(t, 'cwdtmp', 'pwd; ls -ld . | cut -c1-10', withProcess({ cwd: '/tmp/a/b' }));
  t.equal(tmp, '/tmp/a/b\ndrwxr-xr-x\n', 'created on a mount (0755), after the mounts');
  const etc = sh(t, 'cwdetc', 'pwd; ls', withProcess({ cwd: '/etc' }));
  t.equal(etc, '/etc\ngroup\nhostname\npasswd\n');
});

t.test('user: uid, gid, additionalGids and umask', async (t) => {
  const out = sh(
    t,
    'user',
    `id; umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d; ${STATUS}`,
    withProcess({
      user: { uid: 1000, gid: 1000, additionalGids: [5, 65534], umask: 0o027 },
    }),
  );
  const lines = out.split('\n');
  t.equal(lines[0], 'uid=1000(user) gid=1000(user) groups=5(tty),65534(nogroup)');
  t.equal(lines[1], '0027');
  t.equal(lines[2], '640', 'a file created under umask 027');
  t.equal(lines[3], '750', 'a directory created under umask 027');
  const s = statusOf(out);
  t.match(s.Uid, /^1000\s+1000\s+1000\s+1000$/, 'real, effective, saved and fs uid');
  t.match(s.Gid, /^1000\s+1000\s+1000\s+1000$/);
  t.same(s.Groups.split(/\s+/), ['5', '65534'], 'supplementary groups are exactly additionalGids');

  const plain = sh(t, 'userplain', `id; umask; ${STATUS}`, withProcess({ user: { uid: 1234, gid: 4321 } }));
  t.match(plain, /^uid=1234 gid=4321( groups=4321)?\n0022\n/, 'ids without passwd entries; default umask 0022');
  t.equal(statusOf(plain).Groups ?? '', '', 'no supplementary groups unless configured');
  const rootUser = sh(t, 'userroot', `id; ${STATUS}`, withProcess({ user: { uid: 0, gid: 0 } }));
  t.match(rootUser, /^uid=0\(root\) gid=0\(root\)/);
  t.equal(statusOf(rootUser).Groups ?? '', '', 'root has no supplementary groups of the host');
});

t.test('rlimits', async (t) => {
  const out = sh(
    t,
    'rlimits',
    'ulimit -n; ulimit -Hn; ulimit -Sc; grep -E "^Max (open files|processes|core file size)" /proc/1/limits',
    withProcess({
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 },
        { type: 'RLIMIT_NPROC', soft: 300, hard: 400 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
      ],
    }),
  );
  const lines = out.trim().split('\n');
  t.same(lines.slice(0, 3), ['512', '1024', '0'], 'ulimit inside: soft and hard nofile, soft core');
  t.match(out, /Max core file size\s+0\s+4096\s+bytes/);
  t.match(out, /Max processes\s+300\s+400\s+processes/);
  t.match(out, /Max open files\s+512\s+1024\s+files/);
  const many = run(t, 'rlimitsfd', ['sh', '-c', 'exec 9</dev/null; exec 20</dev/null && echo opened'], withProcess({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 10 }] }));
  t.notMatch(many.stdout, /opened/, 'fd 20 cannot be opened with RLIMIT_NOFILE 10');
  const bad = run(t, 'rlimitsbad', ['true'], withProcess({ rlimits: [{ type: 'RLIMIT_NOFILE', soft: 20, hard: 10 }] }));
  t.equal(bad.status, 1, 'soft above hard is refused');
  t.match(messages(bad.stderr), /\/process\/rlimits\/0: soft limit 20 is above hard limit 10/);
});

t.test('capabilities of root', async (t) => {
  const set = ['CAP_KILL', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_NET_RAW'];
  const out = sh(t, 'capsroot', `${STATUS}; touch /tmp/f; chown 1000 /tmp/f && echo chown-ok`, withProcess({ capabilities: caps(set) }));
  const s = statusOf(out);
  const want = hex([5, 0, 1, 7, 6, 13]);
  t.equal(s.CapBnd, want, 'CapBnd');
  t.equal(s.CapEff, want, 'CapEff');
  t.equal(s.CapPrm, want, 'CapPrm');
  t.equal(s.CapInh, hex([]), 'CapInh');
  t.equal(s.CapAmb, hex([]), 'CapAmb');
  t.match(out, /chown-ok/, 'CAP_CHOWN works');
  const noChown = sh(t, 'capsnochown', `${STATUS}; touch /tmp/f; chown 1000 /tmp/f 2>&1 || true`, withProcess({ capabilities: caps(['CAP_KILL']) }));
  t.equal(statusOf(noChown).CapEff, hex([5]));
  t.match(noChown, /chown: \/tmp\/f: Operation not permitted/, 'without CAP_CHOWN root cannot chown');
  const none = sh(t, 'capsnone', STATUS, (c) => {
    (c as Config).process.capabilities = {};
  });
  const n = statusOf(none);
  t.same([n.CapBnd, n.CapEff, n.CapPrm, n.CapInh, n.CapAmb], Array(5).fill(hex([])), 'empty sets: no capability at all');
  // A capability the host's bounding set lacks cannot be granted (this runner lacks CAP_SYS_RESOURCE? then it is dropped).
  const all = sh(t, 'capsall', STATUS, withProcess({ capabilities: caps(['CAP_CHOWN', 'CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE', 'CAP_BPF']) }));
  t.equal(statusOf(all).CapBnd, hex([0, 21, 40, 39]), 'high capability numbers (39, 40) are set');
});

t.test('capabilities of a non-root user, with and without ambient', async (t) => {
  const amb = ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'];
  const out = sh(
    t,
    'capsamb',
    STATUS,
    withProcess({
      user: { uid: 1000, gid: 1000 },
      capabilities: caps(amb, ['bounding', 'effective', 'permitted', 'inheritable', 'ambient']),
    }),
  );
  const s = statusOf(out);
  const want = hex([10, 13]);
  t.same(
    { CapBnd: s.CapBnd, CapEff: s.CapEff, CapPrm: s.CapPrm, CapInh: s.CapInh, CapAmb: s.CapAmb },
    { CapBnd: want, CapEff: want, CapPrm: want, CapInh: want, CapAmb: want },
    'ambient capabilities survive execve as uid 1000',
  );
  const noAmb = sh(t, 'capsnoamb', STATUS, withProcess({ user: { uid: 1000, gid: 1000 }, capabilities: caps(amb) }));
  const n = statusOf(noAmb);
  t.same(
    { CapBnd: n.CapBnd, CapEff: n.CapEff, CapPrm: n.CapPrm, CapAmb: n.CapAmb },
    { CapBnd: want, CapEff: hex([]), CapPrm: hex([]), CapAmb: hex([]) },
    'without ambient, execve as uid 1000 drops them (bounding stays)',
  );
});

t.test('noNewPrivileges', async (t) => {
  t.equal(statusOf(sh(t, 'nnp1', STATUS, withProcess({ noNewPrivileges: true }))).NoNewPrivs, '1');
  t.equal(statusOf(sh(t, 'nnp0', STATUS, withProcess({ noNewPrivileges: false }))).NoNewPrivs, '0');
  t.equal(
    statusOf(
      sh(t, 'nnpunset', STATUS, (c) => {
        delete (c as Config).process.noNewPrivileges;
      }),
    ).NoNewPrivs,
    '0',
  );
});

t.test('oomScoreAdj, inside and from outside', async (t) => {
  t.equal(sh(t, 'oom', 'cat /proc/self/oom_score_adj', withProcess({ oomScoreAdj: 500 })), '500\n');
  const c = id('oomout');
  t.equal(corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '30']), withProcess({ oomScoreAdj: 321 })), c]).status, 0);
  const pid = state(root, c).pid as number;
  t.equal(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'), '321\n', 'set on the init already at create');
  t.equal(corral(root, ['start', c]).status, 0);
  t.equal(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8'), '321\n', 'kept by the process');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  const unset = sh(t, 'oomunset', 'cat /proc/self/oom_score_adj');
  t.equal(unset, readFileSync('/proc/self/oom_score_adj', 'utf8'), 'inherited when unset');
});

t.test('seccomp', async (t) => {
  const profile =
    (syscalls: Config[], defaultAction = 'SCMP_ACT_ALLOW') =>
    (c: Config) => {
      (c as Config).linux.seccomp = { defaultAction, architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], syscalls };
    };
  const out = sh(
    t,
    'seccomp',
    'mkdir /tmp/d 2>&1; touch /tmp/f && echo touch-ok; ls /tmp; grep ^Seccomp: /proc/self/status',
    profile([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }]),
  );
  t.match(out, /mkdir: can't create directory '\/tmp\/d': Operation not permitted/, 'mkdir fails with EPERM');
  t.match(out, /touch-ok\nf\nSeccomp:\s+2\n$/, 'other programs work; the filter is in mode 2');
  const errno = sh(t, 'seccomperrno', 'mkdir /tmp/d 2>&1; true', profile([{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }]));
  t.match(errno, /Permission denied/, 'errnoRet picks the errno');
  // An argument condition: kill(2) with signal 10 (SIGUSR1) is refused, other signals pass.
  const args = sh(
    t,
    'seccompargs',
    'trap "" USR1 USR2; kill -USR1 $$ 2>&1; kill -USR2 $$ && echo usr2-ok; kill -0 $$ && echo zero-ok',
    profile([{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 10, op: 'SCMP_CMP_EQ' }] }]),
  );
  t.match(args, /kill.*Operation not permitted/, 'kill(pid, SIGUSR1) refused');
  t.match(args, /usr2-ok\nzero-ok\n$/, 'other signals allowed');
  // SCMP_ACT_KILL: the process dies of SIGSYS.
  const killed = sh(t, 'seccompkill', '(mknod /tmp/p p); echo status=$?; ls /tmp', profile([{ names: ['mknod', 'mknodat'], action: 'SCMP_ACT_KILL' }]));
  t.equal(killed, 'status=159\n', 'mknod killed by SIGSYS (128+31) before making anything');
  // An allow-list with errno by default.
  const deny = run(t, 'seccompdeny', ['sh', '-c', 'echo hi'], profile([], 'SCMP_ACT_ERRNO'));
  t.not(deny.status, 0, 'nothing may run when every syscall fails');
});

t.test('exit status of the process through run', async (t) => {
  for (const code of [0, 1, 42, 255]) t.equal(run(t, `exit${code}`, ['sh', '-c', `exit ${code}`]).status, code, `exit ${code}`);
  t.equal(run(t, 'exit127', ['sh', '-c', 'nonexistent-command']).status, 127, "a shell's command not found");
  t.equal(run(t, 'exitfalse', ['false']).status, 1, 'false');
});

t.test('a process that exits at once: run returns its status every time', async (t) => {
  const b = bundle(baseConfig(['sh', '-c', 'exit 7']));
  const seen: string[] = [];
  for (let i = 0; i < 60; i++) {
    const c = id(`quick${i}`);
    const r = corral(root, ['run', '--bundle', b, c]);
    if (r.status !== 7) seen.push(`${r.status}: ${messages(r.stderr).trim()}`);
    corral(root, ['delete', '--force', c]);
  }
  // A race once lost here: "container init exited before start" when the init wrote the
  // fifo byte, exec'd and exited between start's read and its liveness check.
  t.same(seen, [], '60 runs, status 7 each');
});

/** Runs corral with extra fds 3.. (files opened on the given paths) and files for stdout/stderr. */
function corralFds(args: string[], files: string[]): Run {
  const out = tempDir('out');
  const o = openSync(join(out, 'stdout'), 'w');
  const e = openSync(join(out, 'stderr'), 'w');
  const extra = files.map((f) => openSync(f, 'r'));
  try {
    const r = spawnSync(CORRAL, ['--root', root, ...args], { stdio: ['ignore', o, e, ...extra], timeout: 30_000 });
    return { status: r.status, signal: r.signal, stdout: readFileSync(join(out, 'stdout'), 'utf8'), stderr: readFileSync(join(out, 'stderr'), 'utf8') };
  } finally {
    for (const fd of [o, e, ...extra]) closeSync(fd);
  }
}

t.test('no fd of the host reaches the container', async (t) => {
  const d = tempDir('fds');
  const files = ['a', 'b', 'c'].map((n) => {
    writeFileSync(join(d, n), `content ${n}\n`);
    return join(d, n);
  });
  // corral itself inherits fds 3, 4 and 5 (not close-on-exec), as from a careless caller.
  const c = id('fds');
  const r = corralFds(['run', '--bundle', bundle(baseConfig(['sh', '-c', 'ls /proc/self/fd | tr "\\n" " "'])), c], files);
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(r.stdout.trim(), '0 1 2 3', 'ls sees stdio and its own directory fd only');
  // PID 1 seen from inside while it is not a shell (one building a pipeline briefly
  // holds a pipe end of its own): exec into a container whose init is sleep.
  const c3 = id('fdsin');
  t.equal(corralFds(['run', '--detach', '--bundle', bundle(baseConfig(['sleep', '30'])), c3], files).status, 0);
  const init = corral(root, ['exec', c3, 'ls', '/proc/1/fd']);
  t.equal(init.stdout.split('\n').filter(Boolean).join(' '), '0 1 2', 'PID 1 holds stdio only');
  corral(root, ['delete', '--force', c3]);
  t.same(leftovers(root, c), []);
  // From outside: a created and a started container hold stdio only.
  const c2 = id('fdsout');
  t.equal(corralFds(['create', '--bundle', bundle(baseConfig(['sleep', '30'])), c2], files).status, 0);
  const pid = state(root, c2).pid as number;
  t.equal(corral(root, ['start', c2]).status, 0);
  t.same(readdirSync(`/proc/${pid}/fd`).sort(), ['0', '1', '2'], 'the running process, from outside');
  t.equal(corral(root, ['delete', '--force', c2]).status, 0);
});

t.test('--preserve-fds N passes fds 3..3+N-1', async (t) => {
  const d = tempDir('pfds');
  const files = ['a', 'b', 'c'].map((n) => {
    writeFileSync(join(d, n), `content ${n}\n`);
    return join(d, n);
  });
  const c = id('pfds');
  const r = corralFds(['run', '--preserve-fds', '2', '--bundle', bundle(baseConfig(['sh', '-c', 'cat <&3; cat <&4; (cat <&5) 2>&1 || true'])), c], files);
  t.equal(r.status, 0, messages(r.stderr));
  const lines = r.stdout.split('\n');
  t.equal(lines[0], 'content a', "fd 3 is the caller's fd 3");
  t.equal(lines[1], 'content b', "fd 4 is the caller's fd 4");
  t.match(lines[2], /Bad file descriptor/, 'fd 5 is not passed');
  t.same(leftovers(root, c), []);
  // PID 1's fds, seen while it is not a shell (one building a pipeline briefly holds a
  // pipe end of its own: a fresh-clone run saw it as fd 5).
  const c1 = id('pfdsinit');
  t.equal(corralFds(['run', '--detach', '--preserve-fds', '2', '--bundle', bundle(baseConfig(['sleep', '30'])), c1], files).status, 0);
  const init = corral(root, ['exec', c1, 'ls', '/proc/1/fd']);
  t.equal(init.stdout.split('\n').filter(Boolean).join(' '), '0 1 2 3 4', 'stdio and the two preserved fds');
  t.equal(corral(root, ['delete', '--force', c1]).status, 0);
  // With create/start: the preserved fds are held by the created container.
  const c2 = id('pfdscreate');
  t.equal(corralFds(['create', '--preserve-fds', '1', '--bundle', bundle(baseConfig(['sleep', '30'])), c2], files).status, 0);
  const pid = state(root, c2).pid as number;
  t.equal(corral(root, ['start', c2]).status, 0);
  t.same(readdirSync(`/proc/${pid}/fd`).sort(), ['0', '1', '2', '3'], 'fd 3 preserved across create and start');
  t.equal(readFileSync(`/proc/${pid}/fd/3`, 'utf8'), 'content a\n');
  t.equal(corral(root, ['delete', '--force', c2]).status, 0);
});

t.test('socket activation: $LISTEN_FDS fds come before the preserved ones, as runc', async (t) => {
  const d = tempDir('listen');
  const files = ['a', 'b', 'c'].map((n) => {
    writeFileSync(join(d, n), `content ${n}\n`);
    return join(d, n);
  });
  const c = id('listenfds');
  // No pipeline before the listing: a shell building one (PID 1 here) briefly holds a pipe
  // end of its own, which a fresh-clone run saw as fd 5.
  const b = bundle(baseConfig(['sh', '-c', 'ls /proc/1/fd; echo --; cat <&3; (cat <&4) 2>&1; tr "\\0" "\\n" < /proc/1/environ | grep ^LISTEN_; true']));
  const o = openSync(join(d, 'out'), 'w');
  const extra = files.map((f) => openSync(f, 'r'));
  let status: number | null;
  try {
    // LISTEN_PID must be corral's own pid: the shell execs it.
    status = spawnSync('/bin/sh', ['-c', 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', CORRAL, '--root', root, 'run', '--preserve-fds', '1', '--bundle', b, c], {
      stdio: ['ignore', o, o, ...extra],
      timeout: 30_000,
    }).status;
  } finally {
    for (const fd of [o, ...extra]) closeSync(fd);
  }
  t.equal(status, 0);
  const out = readFileSync(join(d, 'out'), 'utf8').split('\n');
  const fds = out.slice(0, out.indexOf('--'));
  const lines = out.slice(out.indexOf('--') + 1);
  t.equal(fds.join(' '), '0 1 2 3 4', 'stdio, one activation fd, one preserved fd');
  t.equal(lines[0], 'content a', 'fd 3: the activation socket');
  t.equal(lines[1], 'content b', 'fd 4: the preserved fd after it');
  t.same(lines.slice(2).filter(Boolean), ['LISTEN_FDS=1', 'LISTEN_PID=1'], 'the process is told about it');
  t.same(leftovers(root, c), []);
});
