// Helpers for tests that drive bin/corral for real: a private --root, bundles that
// share the busybox rootfs read-only, and checks that nothing was left behind.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, writeFileSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Test } from 'tap';
import { isCorralError } from '../../src/base/errors';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '../..');
export const CORRAL = join(ROOT, 'bin/corral');
export const BUSYBOX_ROOTFS = join(ROOT, 'bundles/busybox/rootfs');

export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

// Everything a test file makes in /tmp lives under one directory, removed by cleanup().
let scratchDir: string | undefined;
export function scratch(prefix: string): string {
  scratchDir ??= mkdtempSync(join(tmpdir(), 'corral-test-'));
  return mkdtempSync(join(scratchDir, prefix));
}

/** A fresh state root for one test file. */
export function stateRoot(): string {
  return scratch('root-');
}

let outDir: string | undefined;

/**
 * Runs bin/corral. Its stdout/stderr are files, not pipes: a created container keeps
 * the caller's stdio open, so a pipe would only reach EOF when the container exits.
 */
export function corral(root: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number; wrap?: string[] } = {}): Run {
  outDir ??= scratch('out-');
  const outFile = join(outDir, 'stdout');
  const errFile = join(outDir, 'stderr');
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  let r: SpawnSyncReturns<Buffer>;
  try {
    // wrap: a command that runs corral elsewhere (e.g. inside a test's systemd).
    const [cmd, ...argv] = [...(opts.wrap ?? []), CORRAL, '--root', root, ...args];
    r = spawnSync(cmd, argv, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      timeout: opts.timeout ?? 30_000,
      stdio: ['ignore', out, err],
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  return { status: r.status, signal: r.signal, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
}

type Json = Record<string, unknown>;

/** A config like `corral spec` makes, but runnable without a terminal, on the shared rootfs. */
export function baseConfig(args: string[] = ['true']): Json {
  return {
    ociVersion: '1.3.0',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_NET_RAW'],
        effective: ['CAP_KILL', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_NET_RAW'],
        permitted: ['CAP_KILL', 'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_SETUID', 'CAP_SETGID', 'CAP_NET_RAW'],
      },
      noNewPrivileges: true,
    },
    root: { path: BUSYBOX_ROOTFS, readonly: true },
    hostname: 'corral-test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore', '/proc/keys'],
      readonlyPaths: ['/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** Writes a bundle (config.json only; the rootfs is shared) and returns its directory. */
export function bundle(config: Json, edit?: (c: Json & { process: Json; linux: Json }) => void): string {
  const dir = scratch('bundle-');
  const c = structuredClone(config) as Json & { process: Json; linux: Json };
  edit?.(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return dir;
}

export function state(root: string, id: string): Json {
  const r = corral(root, ['state', id]);
  if (r.status !== 0) throw new Error(`state ${id}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Json;
}

/** cgroup directories anywhere under /sys/fs/cgroup whose last component is name. */
export function cgroupsNamed(name: string): string[] {
  return cgroupsMatching((n) => n === name);
}

/** cgroup directories anywhere under /sys/fs/cgroup whose last component passes test (one walk). */
export function cgroupsMatching(test: (name: string) => boolean): string[] {
  const found: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const walk = (d: string, depth: number) => {
      if (depth > 6) return;
      let entries: string[];
      try {
        entries = readdirSync(d, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name);
      } catch {
        return;
      }
      for (const e of entries) {
        if (test(e)) found.push(join(d, e));
        walk(join(d, e), depth + 1);
      }
    };
    walk(join('/sys/fs/cgroup', h), 0);
  }
  return found;
}

/** Mounts whose mount point contains needle. */
export function mountsWith(needle: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.includes(needle));
}

/** Processes whose command line contains needle. */
export function processesWith(needle: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)) pids.push(Number(p));
    } catch {
      // gone
    }
  }
  return pids.filter((p) => p !== process.pid);
}

export function leftovers(root: string, id: string): string[] {
  const l: string[] = [];
  if (existsSync(join(root, id))) l.push(`state dir ${join(root, id)}`);
  for (const c of cgroupsNamed(id)) l.push(`cgroup ${c}`);
  return l;
}

export function cleanup(root: string, ids: string[]): void {
  for (const id of ids) corral(root, ['delete', '--force', id]);
  rmSync(root, { recursive: true, force: true });
  // Never recurse into something still mounted.
  if (scratchDir && !mountsWith(scratchDir).length) rmSync(scratchDir, { recursive: true, force: true });
}

export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The messages of corral's log lines (time="..." level=... msg="..."), unquoted. */
export function messages(text: string): string {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = / msg=(".*")$/.exec(l);
      return m ? (JSON.parse(m[1]) as string) : l;
    })
    .join('\n');
}

/**
 * A test file's world: a state root, ids unique to this run, and its scratch
 * directory for everything the file makes (made searchable, so a user namespace's
 * root reaches the bundles in it; TMPDIR points there, so os.tmpdir() users land in
 * it too). At teardown `before` runs (e.g. to unmount what the file mounted), then
 * every container is deleted and the directory removed.
 */
export function testFile(
  tap: { teardown(fn: () => void): void },
  before?: () => void,
): {
  root: string;
  id: (name: string) => string;
  tempDir: (name: string) => string;
} {
  const base = scratch('file-');
  chmodSync(scratchDir!, 0o711);
  chmodSync(base, 0o711);
  process.env.TMPDIR = base;
  const root = stateRoot();
  const ids: string[] = [];
  tap.teardown(() => {
    before?.();
    cleanup(root, ids);
  });
  return {
    root,
    id: (name) => (ids.push(`${name}-${process.pid}`), `${name}-${process.pid}`),
    tempDir: (name) => scratch(`${name}-`),
  };
}

export interface CorralEvent {
  type: string;
  id: string;
  data?: Record<string, unknown>;
}

/**
 * `corral events` running in the background: its JSON lines so far (from a file, not
 * a pipe, as for every corral run here), and its exit code once it ends.
 */
export function eventsOf(root: string, id: string, interval: string): { lines: () => CorralEvent[]; exited: Promise<number | null> } {
  const outFile = join(scratch('events-'), 'out');
  const fd = openSync(outFile, 'w');
  const events = spawn(CORRAL, ['--root', root, 'events', '--interval', interval, id], { stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => events.on('exit', (code) => resolve(code)));
  const lines = () =>
    readFileSync(outFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CorralEvent);
  return { lines, exited };
}

/** The message of the CorralError fn throws (a failed assertion when it throws none or another). */
export function corralError(t: Test, fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    t.ok(isCorralError(e), `a CorralError, not ${String(e)}`);
    return (e as Error).message;
  }
  t.fail('did not throw');
  return '';
}
