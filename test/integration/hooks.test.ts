// config.json hooks on real containers: when each kind runs (create, start, delete)
// and in what order, what it gets (state on stdin, args, env), in whose namespaces,
// timeouts, and what a failure does to the operation.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, baseConfig, bundle as makeBundle, corral, leftovers, messages, mountsWith, processesWith, sleep, state, testFile } from '../lib/corral';

type Config = Record<string, any>;
type Hook = { path: string; args?: string[]; env?: string[]; timeout?: number };

const { root, id, tempDir: fileTempDir } = testFile(t);
// Hooks run as host root but write here from inside containers too: world-searchable.
const tempDir = (name: string) => {
  const d = fileTempDir(name);
  chmodSync(d, 0o755);
  return d;
};

// One writable rootfs copy for the file: the hooks' log directory is bound into it.
const ROOTFS = join(tempDir('rootfs'), 'rootfs');
execFileSync('cp', ['-a', BUSYBOX_ROOTFS, ROOTFS]);
const HOOK_ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOOKVAR=hello hook world'];
const ANNOTATIONS = { 'org.example.key': 'value', 'org.example.other': 'x y' };
const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Kind = (typeof KINDS)[number];

/**
 * A hook that records, under its name, its stdin (the state), environ, argv and one
 * log line with its namespaces, hostname and /etc/hostname. The log directory is the
 * host path, or /hooklog (the same directory bound into the container) where the
 * host path is not visible (after pivot_root).
 */
function recorder(log: string, name: string, extra = ''): Hook {
  const script = [
    `d=${log}; [ -d "$d" ] || d=/hooklog`,
    'n=$1',
    'cat > "$d/$n.json"',
    // /proc/self of tr: its environment is what the shell got (a hook in the container's
    // pid namespace cannot use $$ with the host's /proc before pivot_root).
    'tr "\\0" "\\n" < /proc/self/environ > "$d/$n.env"',
    'printf "%s\\n" "$0" "$1" > "$d/$n.args"',
    'echo "$n $(readlink /proc/self/ns/uts) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/net) $(hostname) $(cat /etc/hostname) $([ -e "$d/started" ] && echo started || echo not-started)" >> "$d/log"',
    extra,
  ].join('\n');
  return { path: '/bin/sh', args: ['sh', '-c', script, 'hook-argv0', name], env: HOOK_ENV };
}

interface LogLine {
  name: string;
  uts: string;
  mnt: string;
  net: string;
  hostname: string;
  etcHostname: string;
  started: boolean;
}
function readLog(log: string): LogLine[] {
  if (!existsSync(join(log, 'log'))) return [];
  return readFileSync(join(log, 'log'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, uts, mnt, net, hostname, etcHostname, started] = l.split(' ');
      return { name, uts, mnt, net, hostname, etcHostname, started: started === 'started' };
    });
}
/** An environment as a shell passes it on, without what the shell itself adds. */
const shellEnv = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l && !/^(PWD|OLDPWD|SHLVL|_)=/.test(l));
const names = (log: string) => readLog(log).map((l) => l.name);
const stateOf = (log: string, name: string) => JSON.parse(readFileSync(join(log, `${name}.json`), 'utf8')) as Record<string, any>;

/** A bundle whose process marks that it started (in the log dir), then sleeps. */
function hookBundle(log: string, hooks: Partial<Record<Kind, Hook[]>>, process = 'touch /hooklog/started; sleep 30'): string {
  const b = makeBundle(baseConfig(['sh', '-c', process]), (c) => {
    const cfg = c as Config;
    cfg.root = { path: ROOTFS, readonly: true };
    cfg.mounts.push({ destination: '/hooklog', type: 'bind', source: log, options: ['bind'] });
    cfg.annotations = ANNOTATIONS;
    cfg.hooks = hooks;
  });
  return b;
}

/** A process that exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
const hostNs = (type: string) => readlinkSync(`/proc/self/ns/${type}`);

t.test('all six kinds: at create, start and delete, in order, with the state on stdin', async (t) => {
  const log = tempDir('hooklog');
  const hooks: Partial<Record<Kind, Hook[]>> = {};
  for (const k of KINDS) hooks[k] = [recorder(log, `${k}.0`), recorder(log, `${k}.1`)];
  // poststart: the process has been executed (the init is no longer the runtime's helper).
  hooks.poststart![0] = recorder(log, 'poststart.0', 'readlink /proc/$(sed -n \'s/.*"pid":\\([0-9]*\\).*/\\1/p\' "$d/$n.json")/exe > "$d/poststart.exe"');
  const c = id('all');
  const b = hookBundle(log, hooks);

  const cr = corral(root, ['create', '--bundle', b, c]);
  t.equal(cr.status, 0, `create ${messages(cr.stderr)}`);
  t.same(
    names(log),
    ['prestart.0', 'prestart.1', 'createRuntime.0', 'createRuntime.1', 'createContainer.0', 'createContainer.1'],
    'create runs prestart, createRuntime and createContainer, each in config order',
  );
  const pid = state(root, c).pid as number;
  const ns = { uts: readlinkSync(`/proc/${pid}/ns/uts`), mnt: readlinkSync(`/proc/${pid}/ns/mnt`), net: readlinkSync(`/proc/${pid}/ns/net`) };

  const st = corral(root, ['start', c]);
  t.equal(st.status, 0, `start ${messages(st.stderr)}`);
  t.same(names(log).slice(6), ['startContainer.0', 'startContainer.1', 'poststart.0', 'poststart.1'], 'start runs startContainer, then poststart');
  for (let i = 0; i < 200 && !existsSync(join(log, 'started')); i++) sleep(10);
  t.ok(existsSync(join(log, 'started')), 'the process ran');

  t.equal(corral(root, ['kill', c, 'KILL']).status, 0);
  for (let i = 0; i < 200 && state(root, c).status !== 'stopped'; i++) sleep(10);
  t.same(names(log).length, 10, 'nothing runs on kill');
  const del = corral(root, ['delete', c]);
  t.equal(del.status, 0, `delete ${messages(del.stderr)}`);
  t.same(names(log).slice(10), ['poststop.0', 'poststop.1'], 'delete runs poststop');
  t.same(leftovers(root, c), []);

  const lines = Object.fromEntries(readLog(log).map((l) => [l.name, l]));
  t.equal(lines['startContainer.0'].started, false, 'startContainer runs before the process');
  // Namespaces: createContainer and startContainer in the container's, the others in the host's.
  for (const k of KINDS) {
    const l = lines[`${k}.0`];
    if (k === 'createContainer' || k === 'startContainer') {
      t.same({ uts: l.uts, mnt: l.mnt, net: l.net, hostname: l.hostname }, { ...ns, hostname: 'corral-test' }, `${k}: in the container's namespaces`);
    } else {
      t.same({ uts: l.uts, mnt: l.mnt, net: l.net }, { uts: hostNs('uts'), mnt: hostNs('mnt'), net: hostNs('net') }, `${k}: in the host's namespaces`);
      t.equal(l.etcHostname, readFileSync('/etc/hostname', 'utf8').trim(), `${k}: sees the host's files`);
    }
  }
  t.equal(lines['startContainer.0'].etcHostname, 'busybox', "startContainer sees the container's root (after pivot_root)");
  t.equal(lines['createContainer.0'].etcHostname, readFileSync('/etc/hostname', 'utf8').trim(), 'createContainer runs before pivot_root');

  // The state on stdin.
  const want: Record<Kind, string[]> = {
    prestart: ['creating', 'created'],
    createRuntime: ['creating'],
    createContainer: ['creating'],
    startContainer: ['created'],
    poststart: ['running'],
    poststop: ['stopped'],
  };
  for (const k of KINDS) {
    const s = stateOf(log, `${k}.0`);
    t.match(s, { ociVersion: String, id: c, bundle: b, annotations: ANNOTATIONS }, `${k}: id, bundle, annotations`);
    t.ok(want[k].includes(s.status), `${k}: status ${s.status} is ${want[k].join(' or ')}`);
    if (k === 'prestart' || k === 'createRuntime' || k === 'poststart') t.equal(s.pid, pid, `${k}: the pid as the runtime sees it`);
  }
  // Hooks in the container's namespaces get the pid as the container sees it (config.md, "pid").
  for (const k of ['createContainer', 'startContainer'] as const) {
    t.equal(stateOf(log, `${k}.0`).pid, 1, `${k}: the pid as seen in the container (1)`);
  }
  t.equal(readFileSync(join(log, 'poststart.exe'), 'utf8'), '/bin/busybox\n', 'poststart runs after the process was executed');

  // args and env, exactly.
  for (const k of KINDS) {
    t.same(shellEnv(join(log, `${k}.0.env`)), HOOK_ENV, `${k}: env is exactly the hook's env`);
    t.equal(readFileSync(join(log, `${k}.0.args`), 'utf8'), `hook-argv0\n${k}.0\n`, `${k}: args as configured`);
  }
});

t.test("createContainer sees the container's mounts under the rootfs", async (t) => {
  const log = tempDir('hooklog');
  const c = id('ccmounts');
  const probe = `grep -c " ${ROOTFS}/proc " /proc/self/mountinfo > "$d/proc-mounted"; grep -c " ${ROOTFS}/hooklog " /proc/self/mountinfo > "$d/log-mounted"`;
  const r = corral(root, ['create', '--bundle', hookBundle(log, { createContainer: [recorder(log, 'cc', probe)] }), c]);
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(readFileSync(join(log, 'proc-mounted'), 'utf8').trim(), '1', 'proc is mounted in the rootfs');
  t.equal(readFileSync(join(log, 'log-mounted'), 'utf8').trim(), '1', 'and the bind mounts');
  t.same(mountsWith(ROOTFS), [], 'none of it on the host');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
});

t.test("a hook without args gets its path as argv[0]; without env, the runtime's environment (as runc)", async (t) => {
  const log = tempDir('hooklog');
  const script = join(log, 'noargs.sh');
  writeFileSync(script, `#!/bin/sh\ncat > /dev/null\necho "$0 $#" > ${log}/noargs\ntr "\\0" "\\n" < /proc/self/environ > ${log}/noargs.env\n`);
  chmodSync(script, 0o755);
  const c = id('noargs');
  const r = corral(
    root,
    [
      'run',
      '--bundle',
      hookBundle(
        log,
        {
          createRuntime: [{ path: script }],
          // args[0] need not be the path: it is what the hook sees as argv[0].
          poststart: [{ path: '/bin/sh', args: ['custom-argv0', '-c', `cat > /dev/null; tr "\\0" " " < /proc/$$/cmdline > ${log}/argv0`] }],
          // "env": [] is an empty environment, not an absent one.
          poststop: [{ path: '/bin/sh', args: ['sh', '-c', `cat > /dev/null; tr "\\0" "\\n" < /proc/self/environ > ${log}/empty.env`], env: [] }],
        },
        'true',
      ),
      c,
    ],
    { env: { ...process.env, CORRAL_HOOK_MARK: 'from the runtime' } },
  );
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(readFileSync(join(log, 'noargs'), 'utf8'), `${script} 0\n`);
  const env = shellEnv(join(log, 'noargs.env'));
  t.ok(env.includes('CORRAL_HOOK_MARK=from the runtime'), "the runtime's environment is inherited");
  t.ok(env.includes(`PATH=${process.env.PATH}`), "its PATH too (crun's test_hook_env_inherit)");
  t.same(shellEnv(join(log, 'empty.env')), [], '"env": [] gives an empty environment');
  t.match(readFileSync(join(log, 'argv0'), 'utf8'), /^custom-argv0 -c /, 'argv[0] is args[0], not the path');
});

t.test('a hook that times out is killed and fails the operation', async (t) => {
  const log = tempDir('hooklog');
  const marker = `9.${process.pid}`; // a unique, 9 s sleep
  for (const k of ['createRuntime', 'createContainer', 'prestart'] as const) {
    const c = id(`timeout-${k}`);
    const t0 = Date.now();
    const r = corral(root, [
      'create',
      '--bundle',
      hookBundle(log, {
        [k]: [{ path: '/bin/sleep', args: ['sleep', marker], timeout: 1 }],
        poststop: [recorder(log, `poststop-${k}`)],
      }),
      c,
    ]);
    const took = Date.now() - t0;
    t.equal(r.status, 1, `${k}: create fails`);
    t.match(messages(r.stderr), new RegExp(`${k} hook.*timed out`), `${k}: says it timed out`);
    t.ok(took < 6000, `${k}: fails after the 1 s timeout, long before the 9 s of the hook (${took} ms)`);
    t.same(processesWith(marker), [], `${k}: the hook was killed`);
    t.same(leftovers(root, c), [], `${k}: nothing left`);
    t.ok(names(log).includes(`poststop-${k}`), `${k}: poststop ran`);
  }
  // In start: the process never runs.
  const c = id('timeout-startContainer');
  t.equal(corral(root, ['create', '--bundle', hookBundle(log, { startContainer: [{ path: '/bin/sleep', args: ['sleep', marker], timeout: 1 }] }), c]).status, 0);
  const t0 = Date.now();
  const r = corral(root, ['start', c]);
  t.equal(r.status, 1, 'startContainer: start fails');
  t.match(messages(r.stderr), /startContainer hook.*timed out/);
  t.ok(Date.now() - t0 < 6000, 'after the timeout, long before the hook would end');
  t.same(processesWith(marker), [], 'the hook was killed');
  sleep(200);
  t.notOk(existsSync(join(log, 'started')), 'the process did not run');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
  // In poststart: an error, as any poststart failure.
  const p = id('timeout-poststart');
  const ps = corral(root, ['run', '--bundle', hookBundle(log, { poststart: [{ path: '/bin/sleep', args: ['sleep', marker], timeout: 1 }] }), p]);
  t.equal(ps.status, 1, 'poststart timing out: run fails');
  t.match(messages(ps.stderr), /poststart hook.*timed out/);
  t.same(processesWith(marker), []);
  t.same(leftovers(root, p), [], 'run deleted the container');
});

t.test('a failing poststart hook fails start and stops the container; a failing poststop hook is a warning', async (t) => {
  // runtime.md, lifecycle 9: "If any poststart hook fails, the runtime MUST generate an
  // error, stop the container" (runc >= 1.2: start fails and the init is killed;
  // crun's test_fail_poststart: run fails).
  const log = tempDir('hooklog');
  const fail = (k: string): Hook => ({ path: '/bin/sh', args: ['sh', '-c', `cat > /dev/null; echo ${k} failed >&2; exit 3`], env: HOOK_ENV });
  const c = id('warn');
  t.equal(
    corral(root, [
      'create',
      '--bundle',
      hookBundle(log, {
        poststart: [fail('poststart'), recorder(log, 'poststart.1')],
        poststop: [fail('poststop'), recorder(log, 'poststop.1')],
      }),
      c,
    ]).status,
    0,
  );
  const pid = state(root, c).pid as number;
  const st = corral(root, ['start', c]);
  t.equal(st.status, 1, 'start fails');
  t.match(messages(st.stderr), /poststart hook .*failed: exit status 3, output: poststart failed/, 'the error names the hook');
  t.equal(state(root, c).status, 'stopped', 'the container is stopped');
  t.notOk(alive(pid), 'its init is gone');
  t.notOk(names(log).includes('poststart.1'), 'the next poststart hook did not run');
  const del = corral(root, ['delete', c]);
  t.equal(del.status, 0, 'delete exits 0');
  t.match(messages(del.stderr), /poststop hook .*failed: exit status 3, output: poststop failed/);
  t.match(del.stderr, /level=warn/);
  t.ok(names(log).includes('poststop.1'), 'the next poststop hook ran');
  t.same(leftovers(root, c), []);
  // and through run: it fails and deletes the container, poststop hooks included.
  const r = id('warnrun');
  const rr = corral(root, ['run', '--bundle', hookBundle(log, { poststart: [fail('poststart')], poststop: [recorder(log, 'poststop-run')] }), r]);
  t.equal(rr.status, 1, 'run fails');
  t.match(messages(rr.stderr), /poststart hook .*failed: exit status 3/);
  t.ok(names(log).includes('poststop-run'), 'poststop ran');
  t.same(leftovers(root, r), []);
  t.same(processesWith(join(root, r)), []);
});

t.test('a failing createRuntime, createContainer or startContainer hook fails the operation and leaves nothing', async (t) => {
  const log = tempDir('hooklog');
  const fail = (k: string): Hook => ({ path: '/bin/sh', args: ['sh', '-c', `cat > /dev/null; echo ${k} broke >&2; exit 4`], env: HOOK_ENV });
  for (const k of ['createRuntime', 'createContainer'] as const) {
    const c = id(`fail-${k}`);
    const r = corral(root, [
      'create',
      '--bundle',
      hookBundle(log, {
        [k]: [fail(k), recorder(log, `${k}-after`)],
        poststop: [recorder(log, `poststop-${k}`)],
      }),
      c,
    ]);
    t.equal(r.status, 1, `${k}: create fails`);
    t.match(messages(r.stderr), new RegExp(`${k} hook /hooks/${k}/0 \\(/bin/sh\\) failed: exit status 4, output: ${k} broke`));
    t.notOk(names(log).includes(`${k}-after`), `${k}: the later hooks of the kind do not run`);
    t.ok(names(log).includes(`poststop-${k}`), `${k}: poststop runs (the lifecycle continues at delete)`);
    t.same(leftovers(root, c), [], `${k}: no state dir, no cgroup`);
    t.same(processesWith(join(root, c)), [], `${k}: no process`);
    t.same(mountsWith(ROOTFS), [], `${k}: no mount`);
    t.same(
      corral(root, ['list', '-q'])
        .stdout.split('\n')
        .filter((l) => l === c),
      [],
      `${k}: not listed`,
    );
  }
  // startContainer: start fails, the process never runs, the container is stopped.
  const c = id('fail-startContainer');
  t.equal(
    corral(root, [
      'create',
      '--bundle',
      hookBundle(log, {
        startContainer: [fail('startContainer')],
        poststop: [recorder(log, 'poststop-startContainer')],
      }),
      c,
    ]).status,
    0,
  );
  const pid = state(root, c).pid as number;
  const r = corral(root, ['start', c]);
  t.equal(r.status, 1, 'startContainer: start fails');
  t.match(messages(r.stderr), /startContainer hook \/hooks\/startContainer\/0 \(\/bin\/sh\) failed: exit status 4, output: startContainer broke/);
  sleep(200);
  t.notOk(existsSync(join(log, 'started')), 'the process did not run');
  const st = corral(root, ['state', c]);
  const status = st.status === 0 ? JSON.parse(st.stdout).status : 'gone';
  t.ok(status === 'stopped' || status === 'gone', `the container is stopped (runtime-spec: "stop the container"), got ${status}`);
  t.notOk(alive(pid), 'its init is gone');
  corral(root, ['delete', '--force', c]);
  t.ok(names(log).includes('poststop-startContainer'), 'poststop runs');
  t.same(leftovers(root, c), [], 'nothing left after delete');
});

t.test('createContainer and startContainer enter the namespaces the container joined by path too', async (t) => {
  const log = tempDir('hooklog');
  const ns = `corral-hk-${process.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  t.teardown(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {
      /* gone */
    }
  });
  const c = id('joined');
  const b = hookBundle(log, { createContainer: [recorder(log, 'cc')], startContainer: [recorder(log, 'sc')] });
  const cfg = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')) as Config;
  cfg.linux.namespaces = cfg.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: `/var/run/netns/${ns}` } : n));
  writeFileSync(join(b, 'config.json'), JSON.stringify(cfg));
  t.equal(corral(root, ['create', '--bundle', b, c]).status, 0);
  const pid = state(root, c).pid as number;
  const netns = readlinkSync(`/proc/${pid}/ns/net`);
  t.not(netns, hostNs('net'));
  t.equal(corral(root, ['start', c]).status, 0);
  const lines = Object.fromEntries(readLog(log).map((l) => [l.name, l]));
  t.equal(lines.cc?.net, netns, 'createContainer: in the joined network namespace');
  t.equal(lines.sc?.net, netns, 'startContainer: in the joined network namespace');
  t.equal(lines.sc?.uts, readlinkSync(`/proc/${pid}/ns/uts`), "startContainer: in the container's new uts namespace");
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
});

t.test('hooks that do not read their stdin', async (t) => {
  // Reading the state is up to the hook: one that exits at once must not fail because
  // the runtime could not write the state to it (runc ignores EPIPE there).
  const hooks = Array.from({ length: 10 }, () => ({ path: '/bin/true' }));
  const failures: string[] = [];
  for (let i = 0; i < 8; i++) {
    const c = id(`nostdin${i}`);
    const b = makeBundle(baseConfig(['true']), (cfg) => {
      (cfg as Config).root = { path: ROOTFS, readonly: true };
      (cfg as Config).hooks = { prestart: hooks, createRuntime: hooks, createContainer: hooks, startContainer: hooks };
    });
    const r = corral(root, ['run', '--bundle', b, c]);
    if (r.status !== 0) failures.push(messages(r.stderr).trim());
    corral(root, ['delete', '--force', c]);
    t.same(leftovers(root, c), []);
  }
  t.same(failures, [], '320 hooks of /bin/true all succeed (no "spawnSync ... EPIPE")');
});
