// linux.seccomp beyond the basics in process.test.ts: SCMP_ACT_NOTIFY with a real
// seccomp agent (test/fixtures/seccomp-agent.py) on listenerPath, for the init and
// for exec'd processes; what is refused and why; every architecture and flag corral
// lists in `features` really loads; podman's and docker's default profiles, as those
// engines write them into config.json, load and confine.
import t, { type Test } from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, ROOT, baseConfig, bundle, cleanup, corral, leftovers, messages, scratch, state, stateRoot } from '../lib/corral';
import { SECCOMP_ARCHS, SPEC_SECCOMP_ARCHS } from '../../src/linux/seccomp';
import { kernelAtLeast } from '../lib/host';
import { DOCKER_CAPS, DOCKER_PROFILE, DOCKER_PROFILE_UPSTREAM, PODMAN_CAPS, PODMAN_PROFILE, PODMAN_PROFILE_UPSTREAM, ociProfile } from '../fixtures/seccomp-profiles';

type Config = Record<string, any>;
type Edit = (c: Config) => void;

const root = stateRoot();
const ids: string[] = [];
const id = (name: string) => (ids.push(`${name}-${process.pid}`), `${name}-${process.pid}`);
const agents: ReturnType<typeof spawn>[] = [];
t.teardown(() => {
  for (const a of agents) if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
  cleanup(root, ids);
});

const AGENT = join(ROOT, 'test/fixtures/seccomp-agent.py');
const SHARED_ROOTFS = readdirSync(BUSYBOX_ROOTFS).sort();
const ARCHS = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

interface Report {
  state: Record<string, any>;
  nfds: number;
  fd: string | null;
  seen: Record<string, number>;
}

/** Starts the agent for n connections; done resolves with its reports once it exits. */
async function agent(n: number, mode?: 'drop'): Promise<{ sock: string; done: Promise<Report[]> }> {
  const dir = scratch('agent-');
  const sock = join(dir, 'agent.sock');
  const out = join(dir, 'reports');
  const p = spawn('python3', ['-u', AGENT, sock, out, String(n), ...(mode ? [mode] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
  agents.push(p);
  await new Promise<void>((resolve, reject) => {
    p.stdout!.on('data', (d) => {
      if (String(d).includes('listening')) resolve();
    });
    p.on('exit', () => reject(new Error('the agent exited before listening')));
  });
  // Not an assertion: only so that a broken run ends instead of hanging the suite.
  const guard = setTimeout(() => p.kill('SIGKILL'), 60_000);
  const done = new Promise<Report[]>((resolve) =>
    p.on('exit', () => {
      clearTimeout(guard);
      resolve(
        existsSync(out)
          ? readFileSync(out, 'utf8')
              .trim()
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l) as Report)
          : [],
      );
    }),
  );
  return { sock, done };
}

const notifyProfile =
  (sock: string, names: string[], extra: Config = {}): Edit =>
  (c) => {
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ARCHS,
      listenerPath: sock,
      listenerMetadata: 'opaque;data=1',
      syscalls: [{ names, action: 'SCMP_ACT_NOTIFY' }],
      ...extra,
    };
  };

// PID 1's fds (the program corral exec'd): stdio only, never the listener.
const FDS = 'for f in /proc/1/fd/*; do echo "fd $f -> $(readlink $f)"; done';

for (const nnp of [true, false]) {
  t.test(`SCMP_ACT_NOTIFY: the agent gets the listener and the state, and decides (noNewPrivileges ${nnp})`, async (t) => {
    const a = await agent(1);
    const out = scratch('notify-out-');
    const c = id(`notify${nnp ? 'nnp' : ''}`);
    const b = bundle(baseConfig(['sh', '-c', `(mkdir /tmp/d; echo ppid=$PPID; ${FDS}; ls -d /tmp/d) > /tmp/out/log 2>&1`]), (cfg) => {
      cfg.process.noNewPrivileges = nnp;
      cfg.annotations = { 'org.example/key': 'value' };
      (cfg as Config).mounts.push({ destination: '/tmp/out', type: 'bind', source: out, options: ['bind'] });
      notifyProfile(a.sock, ['mkdir', 'mkdirat', 'getppid'])(cfg);
    });
    const r = corral(root, ['create', '--bundle', b, c]);
    t.equal(r.status, 0, messages(r.stderr));
    const pid = state(root, c).pid as number;
    t.equal(corral(root, ['start', c]).status, 0);
    const [rep, ...more] = await a.done;
    t.same(more, [], 'one connection');
    t.equal(rep.nfds, 1, 'one fd over SCM_RIGHTS');
    t.equal(rep.fd, 'anon_inode:seccomp notify', 'the fd is a seccomp listener');
    t.same(
      rep.state,
      {
        ociVersion: '1.3.0',
        fds: ['seccompFd'],
        pid,
        metadata: 'opaque;data=1',
        state: { ociVersion: '1.3.0', id: c, status: 'created', pid, bundle: b, annotations: { 'org.example/key': 'value' } },
      },
      'the container process state of config-linux.md, with the pid the runtime sees',
    );
    const log = readFileSync(join(out, 'log'), 'utf8');
    t.match(log, /mkdir: can't create directory '\/tmp\/d': No medium found/, 'mkdir failed with the errno the agent chose');
    t.match(log, /\nppid=4242\n/, 'getppid returned what the agent made up');
    const fds = log.split('\n').filter((l) => l.startsWith('fd '));
    t.ok(fds.length >= 3, fds.join('; '));
    t.same(
      fds.filter((l) => !/^fd \/proc\/1\/fd\/[012] -> /.test(l) && !/ -> pipe:/.test(l)),
      [],
      "PID 1 holds stdio (and the pipe of the shell's own $(...)) only",
    );
    t.same(
      fds.filter((l) => /seccomp|socket:|anon_inode/.test(l)),
      [],
      "not the listener, not the agent's socket",
    );
    t.match(log, /ls: \/tmp\/d: No such file or directory/, 'nothing was made');
    t.ok((rep.seen.mkdir ?? 0) + (rep.seen.mkdirat ?? 0) >= 1 && rep.seen.getppid >= 1, `seen: ${JSON.stringify(rep.seen)}`);
    t.equal(corral(root, ['delete', c]).status, 0);
    t.same(leftovers(root, c), []);
  });

  t.test(`SCMP_ACT_NOTIFY on the syscalls the runtime itself makes after loading (noNewPrivileges ${nnp})`, async (t) => {
    // runc's "important syscalls" case: the filter is in force for corral's own
    // last steps (closing the hand-over socket, execve); the agent lets them go on.
    const a = await agent(1);
    const c = id(`notifyexec${nnp ? 'nnp' : ''}`);
    const r = corral(root, [
      'run',
      '--bundle',
      bundle(baseConfig(['sh', '-c', 'cat /etc/hostname; echo done']), (cfg) => {
        cfg.process.noNewPrivileges = nnp;
        notifyProfile(a.sock, ['execve', 'openat', 'open', 'read', 'close'])(cfg);
      }),
      c,
    ]);
    t.equal(r.status, 0, messages(r.stderr));
    t.equal(r.stdout, `${readFileSync(join(BUSYBOX_ROOTFS, 'etc/hostname'), 'utf8')}done\n`, 'the program ran');
    const [rep] = await a.done;
    t.ok(rep.seen.execve >= 1 && rep.seen.close >= 1 && rep.seen.openat >= 1, `the agent saw them: ${JSON.stringify(rep.seen)}`);
  });
}

t.test('SCMP_ACT_NOTIFY: without an agent holding the listener, notified syscalls fail with ENOSYS', async (t) => {
  const a = await agent(1, 'drop');
  const r = corral(root, ['run', '--bundle', bundle(baseConfig(['sh', '-c', 'mkdir /tmp/d 2>&1; echo after']), notifyProfile(a.sock, ['mkdir', 'mkdirat'])), id('notifydrop')]);
  t.equal(r.status, 0, messages(r.stderr));
  t.match(r.stdout, /mkdir: can't create directory '\/tmp\/d': Function not implemented\nafter\n/);
  const [rep] = await a.done;
  t.equal(rep.fd, 'anon_inode:seccomp notify');
});

t.test("SCMP_ACT_NOTIFY for exec: a connection of its own, status running, the exec'd pid", async (t) => {
  const a = await agent(2);
  const c = id('notifyexecd');
  const b = bundle(baseConfig(['sleep', '300']), notifyProfile(a.sock, ['mkdir', 'mkdirat']));
  t.equal(corral(root, ['run', '--detach', '--bundle', b, c]).status, 0);
  const init = state(root, c).pid as number;
  const pidFile = join(scratch('pidfile-'), 'pid');
  const e = corral(root, ['exec', '--pid-file', pidFile, c, 'sh', '-c', 'mkdir /tmp/x 2>&1; echo fds=$(ls /proc/self/fd | tr "\\n" " ")']);
  t.equal(e.status, 0, messages(e.stderr));
  t.match(e.stdout, /mkdir: can't create directory '\/tmp\/x': No medium found\nfds=0 1 2 3\n/, "the agent decides for the exec'd process; it holds no listener");
  const execPid = Number(readFileSync(pidFile, 'utf8'));
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  const reps = await a.done;
  t.equal(reps.length, 2, "the init and the exec'd process each connected");
  const execd = reps.find((r) => r.state.state?.status === 'running');
  const initRep = reps.find((r) => r.state.state?.status === 'created');
  t.equal(initRep?.state.pid, init, "the init's connection");
  t.equal(execd?.state.pid, execPid, "the exec'd process's pid, as the runtime sees it");
  t.equal(execd?.state.state.pid, init, "state.pid is the container's");
  t.equal(execd?.state.state.id, c);
  t.equal(execd?.fd, 'anon_inode:seccomp notify');
  t.ok((execd?.seen.mkdir ?? 0) + (execd?.seen.mkdirat ?? 0) >= 1);
});

t.test('SCMP_ACT_NOTIFY: what is refused, with the field named', async (t) => {
  const missing = join(scratch('nosock-'), 'none.sock');
  const refuse = (t: Test, name: string, edit: Edit, msg: RegExp) => {
    const c = id(name);
    const r = corral(root, ['run', '--bundle', bundle(baseConfig(['true']), edit), c]);
    t.equal(r.status, 1, `${name}: refused`);
    t.match(messages(r.stderr), msg, name);
    t.same(leftovers(root, c), [], `${name}: nothing left`);
  };
  refuse(t, 'noagent', notifyProfile(missing, ['mkdir']), new RegExp(`seccomp: cannot connect to the seccomp agent at ${missing}: No such file or directory`));
  refuse(
    t,
    'nolistener',
    (c) => {
      notifyProfile('', ['mkdir'])(c);
      delete c.linux.seccomp.listenerPath;
      delete c.linux.seccomp.listenerMetadata;
    },
    /\/linux\/seccomp\/listenerPath: SCMP_ACT_NOTIFY needs the path of the seccomp agent's socket/,
  );
  refuse(t, 'emptylistener', notifyProfile('', ['mkdir']), /\/linux\/seccomp\/listenerPath: SCMP_ACT_NOTIFY needs/);
  refuse(
    t,
    'metaonly',
    (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerMetadata: 'x' };
    },
    /\/linux\/seccomp\/listenerMetadata: must not be set without listenerPath/,
  );
  refuse(t, 'notifysendmsg', notifyProfile(missing, ['mkdir', 'sendmsg']), /\/linux\/seccomp\/syscalls\/0: SCMP_ACT_NOTIFY cannot be used for sendmsg/);
  refuse(
    t,
    'notifydefault',
    (c) => {
      notifyProfile(missing, ['mkdir'])(c);
      c.linux.seccomp.defaultAction = 'SCMP_ACT_NOTIFY';
    },
    /\/linux\/seccomp\/defaultAction: SCMP_ACT_NOTIFY cannot be the default action/,
  );
  refuse(
    t,
    'errnoallow',
    (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 5 }] };
    },
    /\/linux\/seccomp\/syscalls\/0\/errnoRet: SCMP_ACT_KILL takes no errno/,
  );
  refuse(
    t,
    'defaulterrno',
    (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 5 };
    },
    /\/linux\/seccomp\/defaultErrnoRet: SCMP_ACT_ALLOW takes no errno/,
  );
  // As the spec says: without a notifying rule listenerPath is ignored.
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', 'mkdir /tmp/d && echo made']), (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: missing, listenerMetadata: 'x', syscalls: [{ names: ['kexec_load'], action: 'SCMP_ACT_ERRNO' }] };
    }),
    id('ignored'),
  ]);
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(r.stdout, 'made\n', 'listenerPath ignored without SCMP_ACT_NOTIFY');
});

t.test("every architecture corral lists loads; the spec's others are refused by name", async (t) => {
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', 'echo ran; grep ^Seccomp: /proc/self/status']), (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: SECCOMP_ARCHS, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    }),
    id('allarchs'),
  ]);
  t.equal(r.status, 0, messages(r.stderr));
  t.match(r.stdout, /^ran\nSeccomp:\s+2\n$/, `${SECCOMP_ARCHS.length} architectures in one profile (those of the other byte order are no part of the filter)`);
  const others = SPEC_SECCOMP_ARCHS.filter((a) => !SECCOMP_ARCHS.includes(a));
  t.same(others, ['SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB'], 'new in libseccomp 2.6');
  for (const arch of others) {
    const c = id(`arch-${arch.slice(10).toLowerCase()}`);
    const x = corral(root, [
      'run',
      '--bundle',
      bundle(baseConfig(['true']), (cfg) => {
        cfg.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', arch] };
      }),
      c,
    ]);
    t.equal(x.status, 1, arch);
    // The schema corral validates with (runtime-spec 1.1 + additions) may name them
    // already; else corral's own check does.
    t.match(messages(x.stderr), new RegExp(`/linux/seccomp/architectures/1: (must be one of|architecture "${arch}" is not supported by this build's libseccomp)`));
  }
  const f = corral(root, ['features']);
  t.equal(f.status, 0);
  const seccomp = JSON.parse(f.stdout).linux.seccomp;
  t.same(seccomp.archs, SECCOMP_ARCHS, 'features lists exactly these');
  t.ok(seccomp.actions.includes('SCMP_ACT_NOTIFY'), 'and SCMP_ACT_NOTIFY');
});

t.test('every flag loads, WAIT_KILLABLE_RECV and TSYNC with a listener too', async (t) => {
  // WAIT_KILLABLE_RECV came with Linux 5.19.
  const flags = ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'].filter(
    (f) => f !== 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV' || kernelAtLeast('5.19'),
  );
  if (flags.length < 4) t.comment('SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV left out: this kernel is older than 5.19');
  for (const flag of flags) {
    const r = corral(root, [
      'run',
      '--bundle',
      bundle(baseConfig(['sh', '-c', 'mkdir /tmp/d 2>&1; true']), (c) => {
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHS, flags: [flag], syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
      }),
      id(`flag${flags.indexOf(flag)}`),
    ]);
    t.equal(r.status, 0, `${flag}: ${messages(r.stderr)}`);
    t.match(r.stdout, /Operation not permitted/, `${flag}: the filter is in force`);
  }
  const a = await agent(1);
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', 'mkdir /tmp/d 2>&1; true']), notifyProfile(a.sock, ['mkdir', 'mkdirat'], { flags })),
    id('flagsnotify'),
  ]);
  t.equal(r.status, 0, messages(r.stderr));
  t.match(r.stdout, /No medium found/, `all ${flags.length} flags with a listener`);
  await a.done;
});

// ---- podman's and docker's default profiles ----

const PROBE_SRC = join(ROOT, 'test/fixtures/probe.c');
let probeBin: string | undefined;
/** test/fixtures/probe.c, compiled static; bound read-only at /tmp/probe (on the tmpfs: the shared rootfs stays untouched). Never run it on the host. */
function probe(): string {
  if (!probeBin) {
    probeBin = join(scratch('probe-'), 'probe');
    execFileSync('gcc', ['-static', '-O2', '-o', probeBin, PROBE_SRC]);
  }
  return probeBin;
}

// x86_64 numbers, for syscalls the probe has no name for.
// personality(ADDR_NO_RANDOMIZE) is outside podman's list of personalities.
const NR = { personality: '135:0x40000', kexec_load: 246, bpf: 321, perf_event_open: 298, swapon: 167, nosuch: 999 };

function confined(t: Test, name: string, script: string, edit: Edit): string {
  const c = id(name);
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', script]), (cfg) => {
      (cfg as Config).mounts.push({ destination: '/tmp/probe', type: 'bind', source: probe(), options: ['bind', 'ro'] });
      edit(cfg);
    }),
    c,
  ]);
  t.equal(r.status, 0, `${name}: ${messages(r.stderr)}`);
  t.same(leftovers(root, c), []);
  return r.stdout;
}

const withCaps =
  (caps: string[]): Edit =>
  (c) => {
    c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
  };
const ORDINARY =
  'echo hi | sort; ls / > /dev/null && echo ls-ok; date +%Y > /dev/null && echo date-ok; ps | grep -c sh; id -u; ' +
  'mkdir /tmp/d && touch /tmp/d/f && rm -r /tmp/d && echo files-ok; sleep 0.01 && echo sleep-ok; wc -c < /etc/passwd';

t.test('the packaged profiles are the ones in test/fixtures', async (t) => {
  for (const [mine, upstream] of [
    [PODMAN_PROFILE, PODMAN_PROFILE_UPSTREAM],
    [DOCKER_PROFILE, DOCKER_PROFILE_UPSTREAM],
  ]) {
    if (!existsSync(upstream)) {
      t.comment(`${upstream}: package not installed, not compared`);
      continue;
    }
    t.equal(readFileSync(mine, 'utf8'), readFileSync(upstream, 'utf8'), `${mine} is ${upstream}`);
  }
});

t.test("podman's default profile loads, ordinary programs run, and it blocks what it says", async (t) => {
  const profile = ociProfile(PODMAN_PROFILE, PODMAN_CAPS);
  const edit: Edit = (c) => {
    withCaps(PODMAN_CAPS)(c);
    c.linux.seccomp = profile;
  };
  const out = confined(t, 'podman', `${ORDINARY}; grep ^Seccomp: /proc/self/status`, edit);
  t.match(out, /^hi\nls-ok\ndate-ok\n\d+\n0\nfiles-ok\nsleep-ok\n\d+\nSeccomp:\s+2\n$/, 'ordinary programs run under the filter');
  const raw = Object.entries(NR).map(([n, nr]) => `sys:${n}:${nr}`);
  const blocked = confined(t, 'podmanblocked', `/tmp/probe ${raw.join(' ')} keyctl`, edit);
  const free = confined(t, 'podmanfree', `/tmp/probe ${raw.join(' ')} keyctl`, withCaps(PODMAN_CAPS));
  // podman's entries: kexec_load, swapon: EPERM for everyone; bpf, perf_event_open:
  // EPERM without CAP_SYS_ADMIN; a personality outside its list and any syscall the
  // profile does not name: its defaultErrnoRet, ENOSYS.
  t.same(
    blocked.trim().split('\n'),
    ['sys:personality: ENOSYS', 'sys:kexec_load: EPERM', 'sys:bpf: EPERM', 'sys:perf_event_open: EPERM', 'sys:swapon: EPERM', 'sys:nosuch: ENOSYS', 'keyctl: ok'],
    "what the profile refuses, with its errno; keyctl is allowed by podman's profile",
  );
  t.notSame(blocked, free, 'without the profile the same calls get other answers');
  t.match(free, /sys:personality: ok/, 'e.g. personality(0xffff) succeeds without it');
});

t.test("docker's default profile blocks keyctl, user namespaces as non-root, and mount", async (t) => {
  const profile = ociProfile(DOCKER_PROFILE, DOCKER_CAPS);
  const docker: Edit = (c) => {
    withCaps(DOCKER_CAPS)(c);
    c.linux.seccomp = profile;
  };
  t.match(confined(t, 'docker', ORDINARY, docker), /^hi\nls-ok\ndate-ok\n\d+\n0\nfiles-ok\nsleep-ok\n\d+\n$/, 'ordinary programs run');
  const asUser: Edit = (c) => {
    c.process.user = { uid: 1000, gid: 1000 };
  };
  const probes = '/tmp/probe keyctl clone-userns unshare-user'; // unshare last: it leaves the process in the new namespace
  // Each against the same process without the profile: the difference is the filter.
  const user = confined(t, 'dockeruser', probes, (c) => {
    docker(c);
    asUser(c);
  });
  const userFree = confined(t, 'dockeruserfree', probes, (c) => {
    withCaps(DOCKER_CAPS)(c);
    asUser(c);
  });
  t.equal(user, 'keyctl: EPERM\nclone-userns: EPERM\nunshare-user: EPERM\n', 'as uid 1000 under the profile');
  t.equal(userFree, 'keyctl: ok\nclone-userns: ok\nunshare-user: ok\n', 'as uid 1000 without it, all three work');
  // mount needs CAP_SYS_ADMIN anyway: give it, with the profile docker makes for its
  // default capabilities, so only the filter stands in the way.
  const withAdmin: Edit = (c) => {
    withCaps([...DOCKER_CAPS, 'CAP_SYS_ADMIN'])(c);
  };
  const mounted = confined(t, 'dockermount', '/tmp/probe mount:/tmp', (c) => {
    withAdmin(c);
    c.linux.seccomp = profile;
  });
  const mountFree = confined(t, 'dockermountfree', '/tmp/probe mount:/tmp', withAdmin);
  t.equal(mounted, 'mount:/tmp: EPERM\n', 'mount refused by the filter although the process holds CAP_SYS_ADMIN');
  t.equal(mountFree, 'mount:/tmp: ok\n', 'without the filter the same process mounts');
});

t.test('the shared rootfs is as it was', async (t) => {
  t.same(readdirSync(BUSYBOX_ROOTFS).sort(), SHARED_ROOTFS, 'no mount point was made in it');
});
