// podman 4.3 (with conmon) drives bin/corral for real, and runc as the control in the
// same run: one table of cases, each run once per runtime against one private podman
// storage (--root/--runroot/--tmpdir and a containers.conf under a temp dir), with a
// busybox image made by `podman import` of bundles/busybox/rootfs (no registry here).
//
// A case podman itself cannot do on this host (its probe fails with runc too) is
// skipped for both runtimes, with the reason. A case that fails with corral only is a
// corral bug: the assertions state the correct (runc's) behaviour and the corral run is
// marked todo with the reason.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS, CORRAL, mountsWith } from '../lib/corral';

const RUNC = '/usr/sbin/runc';
const IMAGE = 'localhost/busybox:corral';

// ---------------------------------------------------------------- private podman

const DIR = mkdtempSync(join(tmpdir(), 'corral-podman-'));
const D = (...p: string[]) => join(DIR, ...p);
for (const d of ['root', 'runroot', 'tmp', 'imgtmp', 'io']) mkdirSync(D(d));
const GLOBAL = ['--root', D('root'), '--runroot', D('runroot'), '--tmpdir', D('tmp')];

// Podman's default RLIMIT_NOFILE (1048576) cannot be set by any runtime on a host whose
// bounding set lacks CAP_SYS_RESOURCE, so every container here gets modest limits. The
// cgroup manager is fixed to cgroupfs: corral has no systemd cgroup driver yet. The
// network config dir stays the machine's (/etc/containers/networks, where podman keeps
// only netavark.lock for its default network): rootful netavark shares iptables chains
// and /run/containers/networks/ipam.db with every other podman on the host, and that
// lock is what serialises them; a private one races any concurrent podman.
const BASE_CONF = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
image_copy_tmp_dir = "${D('imgtmp')}"
`;
const CONF = D('containers.conf');
writeFileSync(CONF, BASE_CONF);

// The containers.conf way: runtimes by name, and runtime_supports_json (podman then
// passes --log-format=json --log FILE and reads FILE as one JSON object).
const JSON_CONF = D('containers-json.conf');
writeFileSync(
  JSON_CONF,
  BASE_CONF.replace('[engine]\n', '[engine]\nruntime_supports_json = ["corral", "runc"]\n') + `\n[engine.runtimes]\ncorral = ["${CORRAL}"]\nrunc = ["${RUNC}"]\n`,
);

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Opts {
  /** written to a file that becomes stdin (otherwise stdin is /dev/null) */
  input?: string;
  cwd?: string;
  conf?: string;
  timeout?: number;
}

let seq = 0;
/**
 * Runs a command with stdout/stderr in files: conmon inherits podman's stdio and keeps
 * it open as long as the container lives, so a pipe would not reach EOF for run -d.
 */
function spawnFiles(cmd: string, args: string[], o: Opts = {}): Run {
  const n = ++seq;
  const files = { in: D('io', `${n}.in`), out: D('io', `${n}.out`), err: D('io', `${n}.err`) };
  if (o.input !== undefined) writeFileSync(files.in, o.input);
  const fin = o.input !== undefined ? openSync(files.in, 'r') : 'ignore';
  const fout = openSync(files.out, 'w');
  const ferr = openSync(files.err, 'w');
  try {
    const r = spawnSync(cmd, args, {
      // TMPDIR: podman's own temporary files (it would use /var/tmp) stay in DIR too.
      cwd: o.cwd ?? DIR,
      env: { ...process.env, CONTAINERS_CONF: o.conf ?? CONF, TMPDIR: D('imgtmp') },
      stdio: [fin, fout, ferr],
      timeout: o.timeout ?? 60_000,
      killSignal: 'SIGKILL',
    });
    return { status: r.status, signal: r.signal, stdout: readFileSync(files.out, 'utf8'), stderr: readFileSync(files.err, 'utf8') };
  } finally {
    if (typeof fin === 'number') closeSync(fin);
    closeSync(fout);
    closeSync(ferr);
    for (const f of Object.values(files)) rmSync(f, { force: true });
  }
}

const podman = (args: string[], o: Opts = {}) => spawnFiles('podman', [...GLOBAL, ...args], o);
const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

class Runtime {
  constructor(
    readonly name: 'corral' | 'runc',
    readonly path: string,
  ) {}

  /** podman --runtime <this runtime> ARGS */
  pm(args: string[], o: Opts = {}): Run {
    return podman(['--runtime', this.path, ...args], o);
  }

  /** podman run --rm OPTIONS IMAGE COMMAND... */
  run(opts: string[], cmd: string[], o: Opts = {}): Run {
    return this.pm(['run', '--rm', ...opts, IMAGE, ...cmd], o);
  }

  /** podman run -d: the container's full id */
  detached(opts: string[], cmd: string[]): string {
    const r = this.pm(['run', '-d', ...opts, IMAGE, ...cmd]);
    if (r.status !== 0) throw new Error(`[${this.name}] podman run -d ${opts.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  }

  /**
   * podman ARGS with a terminal: util-linux `script` gives podman a pty (33 rows, 101
   * columns), typed is what the user types; the output has its \r removed.
   */
  tty(args: string[], typed = ''): Run {
    const line = ['podman', ...GLOBAL, '--runtime', this.path, ...args].map(quote).join(' ');
    const r = spawnFiles('script', ['-qec', `stty cols 101 rows 33; ${line}`, '/dev/null'], { input: typed });
    return { ...r, stdout: r.stdout.replace(/\r/g, '') };
  }

  inspect(id: string, format: string): string {
    return podman(['inspect', '--format', format, id]).stdout.trim();
  }

  /** The runtime's state directory for a container (both use their default --root). */
  stateDir(id: string): string {
    return join(this.name === 'corral' ? '/run/corral' : '/run/runc', id);
  }
}

const RUNTIMES = [new Runtime('runc', RUNC), new Runtime('corral', CORRAL)];
const runc = RUNTIMES[0];

// ---------------------------------------------------------------- helpers

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitFor(what: () => boolean, ms = 5000): boolean {
  for (const end = Date.now() + ms; Date.now() < end; sleep(50)) if (what()) return true;
  return what();
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function fetch(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
  });
}

/** A 64-hex id from `podman run -d`, `create` or a --cidfile. */
const isId = (s: string) => /^[0-9a-f]{64}$/.test(s);

/** Names under libpod_parent in every cgroup hierarchy (where cgroupfs puts containers). */
function podmanCgroups(): string[] {
  const found: string[] = [];
  const roots = existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((h) => join('/sys/fs/cgroup', h));
  for (const r of roots) {
    try {
      for (const e of readdirSync(join(r, 'libpod_parent'), { withFileTypes: true })) if (e.isDirectory()) found.push(join(r, 'libpod_parent', e.name));
    } catch {
      // no libpod_parent in this hierarchy
    }
  }
  return found;
}

/** Every container this run's podman made, from its event log (run --rm ones included). */
function createdContainers(): string[] {
  const log = D('tmp', 'events', 'events.log');
  const events = existsSync(log)
    ? readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, string>)
    : [];
  return [...new Set(events.filter((e) => e.Type === 'container' && e.Status === 'create').map((e) => e.ID))];
}

// ---------------------------------------------------------------- the cases

type Say = (what: string, r?: Run) => string;

interface Case {
  name: string;
  /**
   * What this case needs from the host, as `podman run` options tried with runc (with
   * `true` as the command): when that fails, podman cannot do the case here at all.
   */
  needs?: string[];
  /** A corral bug this case shows: the corral run is todo with this reason. */
  corralBug?: string;
  fn: (t: Test, rt: Runtime, say: Say) => void | Promise<void>;
}

/** Assertions of a Test and where their message argument is (after how many values). */
const ASSERTIONS: Record<string, number> = { ok: 1, notOk: 1, equal: 2, not: 2, same: 2, match: 2, doesNotThrow: 1, fail: 0 };

/**
 * The test with every assertion marked { todo }: a corral bug's run still runs and
 * reports each assertion, but its failures are not the suite's. (A todo on the subtest
 * itself would make tap skip its function.)
 */
function asTodo(t: Test, todo: string): Test {
  return new Proxy(t, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop);
      if (typeof prop !== 'string' || !(prop in ASSERTIONS) || typeof v !== 'function') return v;
      const n = ASSERTIONS[prop];
      return (...args: unknown[]) => (v as (...a: unknown[]) => unknown).call(target, ...args.slice(0, n), args[n], { ...(args[n + 1] as object | undefined), todo });
    },
  });
}

/** Status assertion whose message names the runtime and, on failure, quotes stderr. */
function status(t: Test, r: Run, want: number, say: Say, what: string): void {
  t.equal(r.status, want, say(`${what}: exit ${want}`, r.status === want ? undefined : r));
}

const cases: Case[] = [
  {
    name: 'run --rm',
    fn: (t, rt, say) => {
      const cid = D('io', `cid-${rt.name}`);
      const r = rt.run(['--cidfile', cid], ['echo', 'hi']);
      status(t, r, 0, say, 'run --rm echo hi');
      t.equal(r.stdout, 'hi\n', say("the container's output"));
      const id = readFileSync(cid, 'utf8').trim();
      rmSync(cid);
      t.ok(isId(id), say('--cidfile holds the id'));
      t.notOk(podman(['ps', '-a', '-q', '--no-trunc']).stdout.includes(id), say('the container is gone from podman'));
      t.notOk(existsSync(rt.stateDir(id)), say(`the runtime's state ${rt.stateDir(id)} is gone`));
    },
  },
  {
    name: "exit codes (the container's, and 125/126/127 from runtime errors)",
    fn: (t, rt, say) => {
      status(t, rt.run([], ['sh', '-c', 'exit 3']), 3, say, "the container's status");
      const nf = rt.run([], ['nonexistent']);
      status(t, nf, 127, say, 'a command that does not exist');
      // (text log lines, as a runtime not in runtime_supports_json writes them, escape the quotes)
      t.match(nf.stderr, /exec: \\?"nonexistent\\?": executable file not found in \$PATH/, say("the runtime's message reaches the user"));
      t.match(nf.stderr, /OCI runtime attempted to invoke a command that was not found/, say('podman classified it as not found'));
      const nx = rt.run([], ['/etc/passwd']);
      status(t, nx, 126, say, 'a file that is not executable');
      t.match(nx.stderr, /exec: \\?"?\/etc\/passwd\\?"?: permission denied/, say("the runtime's message reaches the user"));
      t.match(nx.stderr, /: OCI permission denied\n$/, say('podman classified it as permission denied'));
      // Neither: a bind mount of a file onto a directory is a plain runtime error.
      const bad = rt.run(['-v', `${D('containers.conf')}:/bin:ro`], ['true']);
      status(t, bad, 126, say, 'any other runtime error');
      t.match(bad.stderr, /Error: OCI runtime error: .*not a directory/, say('reported as an OCI runtime error'));
      // podman start maps every failure of the runtime to 125.
      const id = rt.pm(['create', IMAGE, 'nonexistent']).stdout.trim();
      const st = podman(['start', id]);
      status(t, st, 125, say, 'podman start of a container whose command does not exist');
      t.match(st.stderr, /executable file not found in \$PATH/, say("with the runtime's message"));
      podman(['rm', '-f', id]);
    },
  },
  {
    name: '-i (stdin piped)',
    fn: (t, rt, say) => {
      const r = rt.run(['-i'], ['sh', '-c', 'wc -l; echo done'], { input: 'one\ntwo\nthree\n' });
      status(t, r, 0, say, 'run -i');
      t.equal(r.stdout, '3\ndone\n', say('the container read stdin to its end'));
      const none = rt.run([], ['sh', '-c', 'cat; echo eof'], { input: 'not attached\n' });
      t.equal(none.stdout, 'eof\n', say('without -i stdin is not attached'));
    },
  },
  {
    name: '-t (a terminal)',
    fn: (t, rt, say) => {
      const r = rt.tty(['run', '--rm', '-t', IMAGE, 'sh', '-c', 'tty; stty size; echo $TERM; [ -t 0 ] && echo stdin-tty; exit 4']);
      status(t, r, 4, say, 'run -t');
      t.match(r.stdout, /^\/dev\/pts\/0\n33 101\nxterm\nstdin-tty\n/, say("a pty of podman's size, TERM=xterm"));
      // The shell outlives script(1)'s late ^D (see exec -it below).
      const it = rt.tty(['run', '--rm', '-it', IMAGE, 'sh'], 'echo typed-$((6*7))\nsleep 3; exit 5\n');
      status(t, it, 5, say, 'run -it with typed input');
      t.match(it.stdout, /\ntyped-42\n/, say('what was typed ran in the container'));
    },
  },
  {
    name: '-d + exec',
    fn: (t, rt, say) => {
      const id = rt.detached([], ['sleep', '600']);
      const r = podman(['exec', id, 'sh', '-c', 'echo $$; cat /proc/1/cmdline; echo; exit 9']);
      status(t, r, 9, say, "exec passes the process's status");
      // eslint-disable-next-line no-control-regex -- /proc/PID/cmdline ends each argument with a NUL
      t.match(r.stdout, /^\d+\nsleep\x00600\x00\n$/, say("exec runs beside the container's init"));
      t.not(r.stdout.split('\n')[0], '1', say("the exec'd process is not PID 1"));
      const i = podman(['exec', '-i', id, 'sh', '-c', 'read a; read b; echo "$b $a"'], { input: 'first\nsecond\n' });
      t.equal(i.stdout, 'second first\n', say('exec -i reads stdin'));
      const flags = podman(['exec', '--user', '1000:1001', '--env', 'GREETING=hello', '--workdir', '/tmp', id, 'sh', '-c', 'id -u; id -g; echo $GREETING; pwd']);
      t.equal(flags.stdout, '1000\n1001\nhello\n/tmp\n', say('exec --user --env --workdir'));
      const d = podman(['exec', '-d', id, 'sh', '-c', 'echo detached > /tmp/mark; exec sleep 601']);
      status(t, d, 0, say, 'exec -d');
      t.ok(
        waitFor(() => podman(['exec', id, 'cat', '/tmp/mark']).stdout === 'detached\n'),
        say('the detached exec ran'),
      );
      t.match(podman(['exec', id, 'ps', '-o', 'pid,args']).stdout, /^\s+1 sleep 600\n\s+\d+ sleep 601\n/m, say('and is still running beside the init'));
      const nf = podman(['exec', id, 'nonexistent']);
      status(t, nf, 127, say, 'exec of a command that does not exist');
      t.match(nf.stderr, /executable file not found in \$PATH/, say("exec: the runtime's message"));
      status(t, podman(['exec', id, '/etc/passwd']), 126, say, 'exec of a file that is not executable');
      podman(['rm', '-f', '-t', '0', id]);
    },
  },
  {
    name: '-d + exec -t',
    fn: (t, rt, say) => {
      // A container without a terminal, and one with (-dt): exec -t gets its own pty.
      for (const opts of [[], ['-t']]) {
        const id = rt.detached(opts, ['sleep', '600']);
        const r = rt.tty(['exec', '-t', id, 'sh', '-c', 'tty; stty size; [ -t 1 ] && echo stdout-tty; exit 6']);
        status(t, r, 6, say, `exec -t in a container run ${opts.join(' ') || 'without -t'}`);
        t.match(r.stdout, /^\/dev\/pts\/\d+\n33 101\nstdout-tty\n/, say("exec -t: a pty of podman's size"));
        // script(1) sends ^D up to ~2 s after its stdin (the typed text) runs out. Should the
        // shell be gone by then, conmon closes the attach socket with that byte unread, the
        // kernel gives podman ECONNRESET before the output still queued, and podman takes it
        // as EOF and prints nothing (a podman/conmon race, seen with runc too): the shell
        // outlives the ^D.
        const it = rt.tty(['exec', '-it', id, 'sh'], 'echo typed-$((6*7))\nsleep 3; exit 7\n');
        status(t, it, 7, say, 'exec -it with typed input');
        t.match(it.stdout, /\ntyped-42\n/, say('exec -it: what was typed ran'));
        podman(['rm', '-f', '-t', '0', id]);
      }
    },
  },
  {
    name: 'logs',
    fn: (t, rt, say) => {
      const id = rt.detached([], ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; echo line-3']);
      t.equal(podman(['wait', id]).stdout.trim(), '0', say('podman wait gives the status'));
      const l = podman(['logs', id]);
      status(t, l, 0, say, 'podman logs');
      t.equal(l.stdout, 'to-stdout\nline-3\n', say('logs: stdout'));
      t.equal(l.stderr, 'to-stderr\n', say('logs: stderr'));
      podman(['rm', id]);
    },
  },
  {
    name: 'stop',
    fn: (t, rt, say) => {
      const id = rt.detached([], ['sh', '-c', 'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.1; done']);
      waitFor(() => podman(['logs', id]).stdout.includes('ready'));
      status(t, podman(['stop', '-t', '10', id]), 0, say, 'podman stop');
      t.equal(rt.inspect(id, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 0', say('stopped by SIGTERM, its own status'));
      t.match(podman(['logs', id]).stdout, /got-term/, say('the container saw SIGTERM'));
      podman(['rm', id]);
      // PID 1 without a handler ignores SIGTERM: podman falls back to SIGKILL.
      const deaf = rt.detached([], ['sleep', '600']);
      const start = Date.now();
      status(t, podman(['stop', '-t', '1', deaf]), 0, say, 'podman stop -t 1 of a process that ignores SIGTERM');
      t.ok(Date.now() - start < 8000, say('killed after the timeout'));
      t.equal(rt.inspect(deaf, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137', say('SIGKILL: exit 137'));
      podman(['rm', deaf]);
    },
  },
  {
    name: 'kill',
    fn: (t, rt, say) => {
      const id = rt.detached([], ['sleep', '600']);
      status(t, podman(['kill', id]), 0, say, 'podman kill');
      t.equal(podman(['wait', id]).stdout.trim(), '137', say('SIGKILL by default: 137'));
      const usr = rt.detached([], ['sh', '-c', 'trap "exit 42" USR1; echo ready; while :; do sleep 0.1; done']);
      waitFor(() => podman(['logs', usr]).stdout.includes('ready'));
      status(t, podman(['kill', '-s', 'USR1', usr]), 0, say, 'podman kill -s USR1');
      t.equal(podman(['wait', usr]).stdout.trim(), '42', say("the signal reached the container's handler"));
      podman(['rm', id, usr]);
    },
  },
  {
    name: 'rm -f',
    fn: (t, rt, say) => {
      const id = rt.detached([], ['sleep', '600']);
      const pid = Number(rt.inspect(id, '{{.State.Pid}}'));
      t.ok(pid > 0 && existsSync(rt.stateDir(id)), say('running, with runtime state'));
      status(t, podman(['rm', '-f', '-t', '0', id]), 0, say, 'podman rm -f of a running container');
      t.notOk(podman(['ps', '-a', '-q', '--no-trunc']).stdout.includes(id), say('gone from podman'));
      t.ok(
        waitFor(() => !existsSync(`/proc/${pid}`)),
        say('its process is gone'),
      );
      t.notOk(existsSync(rt.stateDir(id)), say('its runtime state is gone'));
    },
  },
  {
    name: 'pause/unpause',
    fn: (t, rt, say) => {
      const id = rt.detached([], ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done']);
      const pid = Number(rt.inspect(id, '{{.State.Pid}}'));
      const count = () => readFileSync(`/proc/${pid}/root/tmp/count`, 'utf8');
      waitFor(() => existsSync(`/proc/${pid}/root/tmp/count`));
      status(t, podman(['pause', id]), 0, say, 'podman pause');
      t.equal(rt.inspect(id, '{{.State.Status}}'), 'paused', say('podman sees it paused'));
      const frozen = count();
      sleep(400);
      t.equal(count(), frozen, say('nothing runs while paused'));
      status(t, podman(['unpause', id]), 0, say, 'podman unpause');
      t.equal(rt.inspect(id, '{{.State.Status}}'), 'running', say('running again'));
      t.ok(
        waitFor(() => count() !== frozen, 2000),
        say('it runs again'),
      );
      podman(['rm', '-f', '-t', '0', id]);
    },
  },
  {
    name: '--memory',
    needs: ['--memory', '64m'],
    fn: (t, rt, say) => {
      const r = rt.run(['--memory', '64m'], ['sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max']);
      status(t, r, 0, say, 'run --memory 64m');
      t.equal(r.stdout, '67108864\n', say("the container's memory limit"));
    },
  },
  {
    name: '--pids-limit',
    needs: ['--pids-limit', '10'],
    fn: (t, rt, say) => {
      const r = rt.run(
        ['--pids-limit', '10'],
        ['sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; for i in $(seq 20); do sleep 2 & done; wait'],
      );
      t.equal(r.stdout, '10\n', say('pids.max'));
      t.match(r.stderr, /can't fork/, say('the 11th process cannot be made'));
    },
  },
  {
    name: '--cpus',
    needs: ['--cpus', '0.5'],
    fn: (t, rt, say) => {
      const r = rt.run(
        ['--cpus', '0.5'],
        [
          'sh',
          '-c',
          'if [ -f /sys/fs/cgroup/cpu.max ]; then cat /sys/fs/cgroup/cpu.max; else echo $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us); fi',
        ],
      );
      status(t, r, 0, say, 'run --cpus 0.5');
      t.equal(r.stdout, '50000 100000\n', say('CFS quota and period'));
    },
  },
  {
    name: '--read-only',
    fn: (t, rt, say) => {
      const r = rt.run(
        ['--read-only'],
        ['sh', '-c', 'touch /x 2>&1; for d in /tmp /run /var/tmp; do touch $d/y && echo $d-writable; done; grep " / " /proc/mounts | cut -d" " -f4 | cut -d, -f1'],
      );
      status(t, r, 0, say, 'run --read-only');
      t.equal(r.stdout, 'touch: /x: Read-only file system\n/tmp-writable\n/run-writable\n/var/tmp-writable\nro\n', say('/ is read-only, /tmp /run /var/tmp are writable tmpfs'));
    },
  },
  {
    name: '-v host:ctr:ro',
    fn: (t, rt, say) => {
      const host = D(`vol-${rt.name}`);
      mkdirSync(host);
      writeFileSync(join(host, 'file'), 'from-the-host\n');
      const r = rt.run(['-v', `${host}:/data:ro`], ['sh', '-c', 'cat /data/file; echo x > /data/file || echo write-refused; touch /data/new || echo create-refused']);
      status(t, r, 0, say, 'run -v ...:ro');
      t.equal(r.stdout, 'from-the-host\nwrite-refused\ncreate-refused\n', say('readable, not writable'));
      t.match(r.stderr, /Read-only file system/, say('EROFS'));
      t.equal(readFileSync(join(host, 'file'), 'utf8'), 'from-the-host\n', say('the host file is unchanged'));
      t.same(readdirSync(host), ['file'], say('nothing was created on the host'));
    },
  },
  {
    name: '--tmpfs',
    fn: (t, rt, say) => {
      const r = rt.run(
        ['--tmpfs', '/scratch:size=1m,mode=1777', '--tmpfs', '/etc'],
        [
          'sh',
          '-c',
          'grep " /scratch " /proc/mounts; stat -c %a /scratch; dd if=/dev/zero of=/scratch/big bs=1k count=2048 2>/dev/null || echo full; grep ^root: /etc/passwd; grep " /etc " /proc/mounts | cut -d" " -f3',
        ],
      );
      status(t, r, 0, say, 'run --tmpfs');
      t.match(r.stdout, /^tmpfs \/scratch tmpfs rw,nosuid,nodev,relatime,size=1024k/, say('a 1m tmpfs on /scratch'));
      t.match(r.stdout, /\n1777\nfull\n/, say('mode 1777, and 1m is all it holds'));
      t.match(r.stdout, /\nroot:x:0:0:root:\/root:\/bin\/sh\ntmpfs\n$/, say("a tmpfs on /etc starts with the image's /etc (tmpcopyup)"));
    },
  },
  {
    name: '--user',
    fn: (t, rt, say) => {
      const r = rt.run(['--user', '1000:1001'], ['sh', '-c', 'id -u; id -g; touch /root/x 2>&1']);
      t.equal(r.stdout, '1000\n1001\ntouch: /root/x: Permission denied\n', say('uid 1000 gid 1001, not root'));
      const named = rt.run(['--user', 'nobody'], ['id']);
      t.equal(named.stdout, 'uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n', say("--user nobody, from the image's /etc/passwd"));
    },
  },
  {
    name: '--cap-drop/--cap-add',
    fn: (t, rt, say) => {
      const caps = (opts: string[]) => rt.run(opts, ['sh', '-c', 'grep -E "^Cap(Prm|Eff|Bnd)" /proc/self/status | cut -f2 | tr "\\n" " "']).stdout.trim();
      t.equal(caps(['--cap-drop', 'ALL', '--cap-add', 'NET_BIND_SERVICE']), '0000000000000400 0000000000000400 0000000000000400', say('ALL dropped but NET_BIND_SERVICE'));
      t.equal(caps([]), '00000000a80425fb 00000000a80425fb 00000000a80425fb', say("podman's default set"));
      t.equal(caps(['--cap-add', 'SYS_ADMIN']), '00000000a82425fb 00000000a82425fb 00000000a82425fb', say('--cap-add SYS_ADMIN'));
      const r = rt.run(['--cap-drop', 'CHOWN'], ['sh', '-c', 'chown 5 /tmp 2>&1; echo $?']);
      t.equal(r.stdout, 'chown: /tmp: Operation not permitted\n1\n', say('--cap-drop CHOWN: chown refused'));
    },
  },
  {
    name: '--hostname, --env, --workdir',
    fn: (t, rt, say) => {
      const r = rt.run(['--hostname', 'my-host', '--env', 'FOO=bar baz', '--workdir', '/etc'], ['sh', '-c', 'hostname; echo "$FOO"; pwd; grep -c my-host /etc/hosts']);
      status(t, r, 0, say, 'run --hostname --env --workdir');
      t.equal(r.stdout, 'my-host\nbar baz\n/etc\n1\n', say('hostname, env, cwd and /etc/hosts'));
    },
  },
  {
    name: '--network none',
    fn: (t, rt, say) => {
      const r = rt.run(['--network', 'none'], ['sh', '-c', 'ls /sys/class/net; ip link show lo | head -1']);
      status(t, r, 0, say, 'run --network none');
      t.match(r.stdout, /^lo\n1: lo: <LOOPBACK,UP,LOWER_UP> /, say('only lo, and it is up'));
    },
  },
  {
    name: 'default network, -p 127.0.0.1:PORT:80 to httpd',
    needs: ['-p', '127.0.0.1::80'],
    fn: async (t, rt, say) => {
      const port = await freePort();
      const id = rt.detached(['-p', `127.0.0.1:${port}:80`], ['sh', '-c', 'mkdir /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www']);
      let got: { status: number; body: string } | undefined;
      for (let i = 0; i < 50 && !got; i++) {
        got = await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined);
        if (!got) await new Promise((r) => setTimeout(r, 100));
      }
      t.same(got, { status: 200, body: `hello from ${id.slice(0, 12)}\n` }, say('the host reaches httpd in the container through the published port'));
      const ip = podman(['exec', id, 'sh', '-c', 'ip -o -4 addr show eth0 | grep -o "inet [0-9.]*"; ip route | grep default']);
      t.match(ip.stdout, /^inet 10\.88\.\d+\.\d+\ndefault via 10\.88\.0\.1 dev eth0/, say("eth0 on podman's bridge, with a default route"));
      podman(['rm', '-f', '-t', '0', id]);
    },
  },
  {
    name: '--init',
    needs: ['--init'],
    fn: (t, rt, say) => {
      const r = rt.run(['--init'], ['sh', '-c', 'echo $$; tr "\\0" " " < /proc/1/cmdline']);
      status(t, r, 0, say, 'run --init');
      const [pid, cmdline] = r.stdout.split('\n');
      t.not(pid, '1', say('the command is not PID 1'));
      t.match(cmdline, /^\/run\/podman-init -- sh -c /, say("PID 1 is podman's init (catatonit)"));
      // The init forwards SIGTERM to a process that, not being PID 1, dies of it.
      const id = rt.detached(['--init'], ['sleep', '600']);
      const start = Date.now();
      podman(['stop', '-t', '10', id]);
      t.ok(Date.now() - start < 5000, say('stop with --init does not wait for the timeout'));
      podman(['rm', '-f', id]);
    },
  },
  {
    name: '--ulimit',
    fn: (t, rt, say) => {
      // --ulimit replaces containers.conf's default_ulimits: nproc must be given too.
      const r = rt.run(
        ['--ulimit', 'nofile=512:800', '--ulimit', 'nproc=100:200', '--ulimit', 'core=0:0'],
        ['sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu; ulimit -c'],
      );
      status(t, r, 0, say, 'run --ulimit');
      t.equal(r.stdout, '512\n800\n100\n200\n0\n', say('soft and hard limits'));
      const d = rt.run([], ['sh', '-c', 'ulimit -n; ulimit -Hn']);
      t.equal(d.stdout, '1024\n1024\n', say('containers.conf default_ulimits'));
    },
  },
  {
    name: '--security-opt no-new-privileges',
    fn: (t, rt, say) => {
      t.equal(rt.run(['--security-opt', 'no-new-privileges'], ['grep', 'NoNewPrivs', '/proc/self/status']).stdout, 'NoNewPrivs:\t1\n', say('set'));
      t.equal(rt.run([], ['grep', 'NoNewPrivs', '/proc/self/status']).stdout, 'NoNewPrivs:\t0\n', say('not set by default'));
    },
  },
  {
    name: 'the default seccomp profile',
    fn: (t, rt, say) => {
      // Podman's profile (/usr/share/containers/seccomp.json) allows unshare and keyctl;
      // personality() is allowed only with a few personas, others get ENOSYS.
      const r = rt.run([], ['sh', '-c', 'grep "^Seccomp:" /proc/self/status; linux32 true && echo linux32-ok; linux32 -R true']);
      t.equal(r.stdout, 'Seccomp:\t2\nlinux32-ok\n', say('filter mode, allowed persona works'));
      t.match(r.stderr, /personality\(0x40008\): Function not implemented/, say('a persona outside the profile: ENOSYS'));
      const off = rt.run(['--security-opt', 'seccomp=unconfined'], ['sh', '-c', 'grep "^Seccomp:" /proc/self/status; linux32 -R true && echo allowed']);
      t.equal(off.stdout, 'Seccomp:\t0\nallowed\n', say('seccomp=unconfined: no filter'));
    },
  },
  {
    name: 'OOM kill: OOMKilled, exit 137',
    needs: ['--memory', '32m', '--memory-swap', '32m'],
    fn: (t, rt, say) => {
      const id = rt.pm(['create', '--memory', '32m', '--memory-swap', '32m', IMAGE, 'tail', '/dev/zero']).stdout.trim();
      t.ok(isId(id), say('created'));
      // conmon writes its "oom" file into its working directory, which podman 4.3 does
      // not set (containers/podman#13102, fixed in 5.0): start it from the bundle.
      const bundle = rt.inspect(id, '{{.StaticDir}}');
      const r = podman(['start', '-a', id], { cwd: bundle });
      t.equal(r.status, 137, say('podman start -a: 137'));
      t.equal(rt.inspect(id, '{{.State.OOMKilled}} {{.State.ExitCode}}'), 'true 137', say('OOMKilled true, exit code 137'));
      podman(['rm', id]);
    },
  },
  // Beyond the issue's list: what podman users pass every day.
  {
    name: '--device',
    fn: (t, rt, say) => {
      const r = rt.run(['--device', '/dev/null:/dev/mynull'], ['sh', '-c', 'ls -l /dev/mynull; echo x > /dev/mynull && echo writable']);
      status(t, r, 0, say, 'run --device /dev/null:/dev/mynull');
      t.match(r.stdout, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* \/dev\/mynull\nwritable\n$/, say("the device node, with the host's mode"));
    },
  },
  {
    name: '--privileged',
    fn: (t, rt, say) => {
      const bounding = /CapBnd:\s+(\w+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
      const r = rt.run(
        ['--privileged'],
        ['sh', '-c', 'grep CapEff /proc/self/status | cut -f2; grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1; [ -c /dev/kmsg ] && echo host-devices'],
      );
      status(t, r, 0, say, 'run --privileged');
      t.equal(r.stdout, `${bounding}\nrw\nhost-devices\n`, say("every capability of the bounding set, /sys writable, the host's devices"));
    },
  },
  {
    name: 'containers.conf: [engine.runtimes] by name, runtime_supports_json',
    fn: (t, rt, say) => {
      const ok = podman(['--runtime', rt.name, 'run', '--rm', IMAGE, 'echo', 'by-name'], { conf: JSON_CONF });
      status(t, ok, 0, say, `podman --runtime ${rt.name}`);
      t.equal(ok.stdout, 'by-name\n', say('ran through the containers.conf entry'));
      // A failing run: podman parses the whole log file as one JSON object.
      const bad = podman(['--runtime', rt.name, 'run', '--name', `json-${rt.name}`, IMAGE, 'nonexistent'], { conf: JSON_CONF });
      status(t, bad, 127, say, 'a failing run');
      t.match(
        bad.stderr,
        new RegExp(
          `^Error: ${rt.name}: (runc create failed: unable to start container process: )?exec: "nonexistent": executable file not found in \\$PATH: OCI runtime attempted to invoke a command that was not found\\n$`,
        ),
        say("podman shows the runtime's message from the JSON log"),
      );
      const id = podman(['ps', '-a', '-q', '--no-trunc', '--filter', `name=json-${rt.name}`]).stdout.trim();
      const log = readFileSync(D('runroot', 'overlay-containers', id, 'userdata', 'oci-log'), 'utf8');
      let entry: Record<string, unknown> = {};
      t.equal(log.trim().split('\n').length, 1, say('the runtime wrote one line'));
      t.doesNotThrow(() => (entry = JSON.parse(log) as Record<string, unknown>), say('the log file is one JSON object'));
      t.equal(entry.level, 'error', say('level error'));
      t.match(entry.msg, /executable file not found in \$PATH/, say('the message'));
      t.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, say('an RFC 3339 time'));
      podman(['rm', '-f', id]);
      const exec = podman(['--runtime', rt.name, 'run', '-d', IMAGE, 'sleep', '600'], { conf: JSON_CONF }).stdout.trim();
      const e = podman(['exec', exec, 'nonexistent'], { conf: JSON_CONF });
      status(t, e, 127, say, 'a failing exec');
      t.match(e.stderr, new RegExp(`^Error: ${rt.name}: .*executable file not found in \\$PATH`), say('exec: the message from the JSON log'));
      podman(['rm', '-f', '-t', '0', exec], { conf: JSON_CONF });
    },
  },
];

// ---------------------------------------------------------------- running them

const missing = ['podman', 'conmon', 'script', 'unshare'].filter((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0);
if (!existsSync(RUNC)) missing.push(RUNC);
t.teardown(() => {
  if (!missing.length) for (const conf of [JSON_CONF, CONF]) podman(['rm', '-a', '-f', '-t', '0'], { conf });
  // Never recurse into something still mounted.
  if (!mountsWith(DIR).length) rmSync(DIR, { recursive: true, force: true });
});
if (missing.length) {
  t.fail(`podman tests need ${missing.join(', ')} (scripts/install-deps.sh installs them)`);
} else {
  t.before(() => {
    const tar = spawnSync('tar', ['-C', BUSYBOX_ROOTFS, '-cf', D('busybox.tar'), '.']);
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
    // containers/image keeps a blob-info cache in /var/lib/containers/cache, which podman
    // 4.3 cannot move: the import runs in a private mount namespace with a tmpfs there.
    const r = spawnFiles('unshare', [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount -t tmpfs tmpfs /var/lib && exec "$@"',
      'sh',
      'podman',
      ...GLOBAL,
      'import',
      D('busybox.tar'),
      IMAGE,
    ]);
    if (r.status !== 0) throw new Error(`podman import: ${r.stderr}`);
  });

  for (const c of cases) {
    t.test(c.name, async (t) => {
      let skip: string | undefined;
      if (c.needs) {
        const p = runc.run(c.needs, ['true']);
        if (p.status !== 0) skip = `podman cannot do this on this host: \`podman run ${c.needs.join(' ')}\` fails with runc too: ${p.stderr.trim()}`;
      }
      if (skip) t.comment(`skipped for both runtimes: ${skip}`);
      for (const rt of RUNTIMES) {
        const say: Say = (what, r) => `[${rt.name}] ${what}${r ? ` — stderr: ${r.stderr.trim()}` : ''}`;
        if (skip) {
          t.skip(`${c.name} with ${rt.name}: ${skip}`, () => {});
          continue;
        }
        const todo = rt.name === 'corral' && c.corralBug ? `corral bug: ${c.corralBug}` : undefined;
        await t.test(`${c.name} with ${rt.name}`, async (t) => {
          if (!todo) return c.fn(t, rt, say);
          try {
            await c.fn(asTodo(t, todo), rt, say);
          } catch (e) {
            t.fail(`[${rt.name}] ${(e as Error).message}`, { todo });
          }
        });
      }
    });
  }

  t.test('nothing left behind', async (t) => {
    const rm = podman(['rm', '-a', '-f', '-t', '0'], { conf: JSON_CONF });
    t.equal(rm.status, 0, `podman rm -af: ${rm.stderr}`);
    t.equal(podman(['ps', '-a', '-q']).stdout, '', 'no containers');
    // Other podman users on the host (a concurrent run of this file) are not ours to judge.
    const ids = createdContainers();
    t.ok(ids.length > 0, `podman's event log lists the ${ids.length} containers this run made`);
    for (const rt of RUNTIMES)
      t.same(
        ids.filter((id) => existsSync(rt.stateDir(id))),
        [],
        `[${rt.name}] no state left in ${rt.stateDir('')}`,
      );
    t.same(
      podmanCgroups().filter((c) => ids.some((id) => c.endsWith(`/libpod-${id}`))),
      [],
      'no container cgroups left under libpod_parent',
    );
    t.same(mountsWith(DIR), [], 'nothing mounted under the podman storage');
  });
}
