#!/usr/bin/env node
// Captures the config.json that podman 4.3 and containerd 1.6's `ctr run` really write,
// and `runc spec`'s, into test/compat/corpus/{podman,containerd,runc}/NAME.json. Run once by hand (as root):
//   node test/compat/capture.mjs [podman|containerd|runc]
// Each caller runs a wrapper runtime that copies $bundle/config.json on `create` and then
// execs runc, so the container runs for real. Host-specific paths are replaced by
// placeholders the harness fills in (see sanitise()); `_compat` says how it was made.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

// The test's own TypeScript helpers, compiled on the fly.
const require = createRequire(import.meta.url);
require('@isaacs/ts-node-temp-fork-for-pr-2009/register/transpile-only');
const { parseExact, stringifyExact } = require('./corpus.ts');
const { imageArchive } = require('../lib/image.ts');

const HERE = dirname(new URL(import.meta.url).pathname);
const ROOT = resolve(HERE, '../..');
const ROOTFS = join(ROOT, 'bundles/busybox/rootfs');
const { CORPUS } = require('./corpus.ts');
const DIR = mkdtempSync(join(tmpdir(), 'corral-capture-'));
const D = (...p) => join(DIR, ...p);
// Searchable for a user namespace's root (the rootfs lies under it).
spawnSync('chmod', ['0711', DIR]);
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

// The wrapper: on `create`, the bundle's config.json is copied to captured.json.
const WRAPPER = D('capture-runtime.sh');
writeFileSync(
  WRAPPER,
  `#!/bin/sh
prev=; bundle=.; create=
for a in "$@"; do
  case "$prev" in --bundle|-b) bundle=$a;; esac
  case "$a" in --bundle=*) bundle=\${a#--bundle=};; create) create=1;; esac
  prev=$a
done
[ -n "$create" ] && cp "$bundle/config.json" ${D('captured.json')}
exec /usr/sbin/runc "$@"
`,
  { mode: 0o755 },
);

// A host directory for -v / --mount sources, and a device-free file.
const VOL = D('vol');
mkdirSync(VOL);

function sh(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

/**
 * What the harness fills in: the rootfs, sources under the caller's private storage
 * (podman's /etc/hosts, /run/.containerenv, shm, ...) become "@FILE@/NAME" (a file the
 * harness makes) or "@DIR@/NAME" (a directory), the test volume "@DIR@/vol"; a network
 * namespace path (podman's netavark netns) is dropped, so a fresh one is made.
 */
function sanitise(config, storage, how) {
  const c = structuredClone(config);
  c.root.path = 'rootfs';
  const swaps = [];
  for (const m of c.mounts ?? []) {
    if (!m.source?.startsWith('/')) continue;
    if (m.source === VOL || m.source.startsWith(VOL + '/')) {
      m.source = '@DIR@/vol';
    } else if (m.source.startsWith(storage)) {
      const name = m.destination.replace(/^\//, '').replace(/\//g, '-');
      // (the caller has removed them by now: podman's shm is the one directory)
      const isDir = m.destination === '/dev/shm';
      swaps.push(`${m.source.slice(storage.length).replace(/[0-9a-f]{64}/g, 'ID')} -> ${isDir ? 'dir' : 'file'}`);
      m.source = `${isDir ? '@DIR@' : '@FILE@'}/${name}`;
    }
  }
  let droppedNetns = false;
  for (const ns of c.linux?.namespaces ?? []) {
    if (ns.type !== 'network' || !ns.path) continue;
    delete ns.path;
    droppedNetns = true;
  }
  const notes = [];
  if (swaps.length) notes.push(`bind sources in the caller's storage replaced by placeholders: ${swaps.join(', ')}`);
  if (droppedNetns) notes.push("network namespace path (the caller's netns) dropped: a new one");
  return { _compat: { produced: how, ...(notes.length ? { rewritten: notes } : {}) }, ...c };
}

function save(caller, name, config) {
  mkdirSync(join(CORPUS, caller), { recursive: true });
  writeFileSync(join(CORPUS, caller, `${name}.json`), stringifyExact(config, 2) + '\n');
}

// ---------------------------------------------------------------- podman

const PODMAN_CASES = {
  default: [],
  'cap-add-net-admin': ['--cap-add', 'NET_ADMIN'],
  'cap-drop-all': ['--cap-drop', 'ALL'],
  'cap-drop-chown-add-sys-time': ['--cap-drop', 'CHOWN', '--cap-add', 'SYS_TIME'],
  'read-only': ['--read-only'],
  'read-only-no-tmpfs': ['--read-only', '--read-only-tmpfs=false'],
  ...Object.fromEntries(['shared', 'slave', 'private', 'rshared', 'rslave', 'rprivate'].map((p) => [`volume-${p}`, ['-v', `${VOL}:/mnt:${p}`]])),
  'volume-ro': ['-v', `${VOL}:/mnt:ro`],
  'volume-nosuid-noexec-nodev': ['-v', `${VOL}:/mnt:nosuid,noexec,nodev`],
  'volume-rw-suid-exec-dev': ['-v', `${VOL}:/mnt:rw,suid,exec,dev`],
  'volume-ro-rslave': ['-v', `${VOL}:/mnt:ro,rslave`],
  tmpfs: ['--tmpfs', '/scratch'],
  'tmpfs-options': ['--tmpfs', '/scratch:rw,size=1m,mode=1777,noexec'],
  device: ['--device', '/dev/null:/dev/mynull'],
  'device-readonly': ['--device', '/dev/zero:/dev/myzero:r'],
  'userns-keep-id': ['--userns=keep-id'],
  uidmap: ['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536'],
  init: ['--init'],
  'ulimit-nofile': ['--ulimit', 'nofile=512:1024'],
  'ulimit-nproc-core': ['--ulimit', 'nproc=100:200', '--ulimit', 'core=-1'],
  'ulimit-within-host': ['--ulimit', 'nofile=512:1024', '--ulimit', 'nproc=100:200', '--ulimit', 'core=0:0'],
  'no-new-privileges': ['--security-opt', 'no-new-privileges'],
  'seccomp-unconfined': ['--security-opt', 'seccomp=unconfined'],
  'unmask-all': ['--security-opt', 'unmask=ALL'],
  sysctl: ['--sysctl', 'net.ipv4.ip_forward=1', '--sysctl', 'kernel.msgmax=65536'],
  'shm-size': ['--shm-size', '1m'],
  privileged: ['--privileged'],
  'pids-limit': ['--pids-limit', '100'],
  memory: ['--memory', '64m'],
  'memory-swap': ['--memory', '64m', '--memory-swap', '128m'],
  cpus: ['--cpus', '0.5'],
  'cpu-shares-cpuset': ['--cpu-shares', '512', '--cpuset-cpus', '0'],
  'user-groups': ['--user', '1000:1000', '--group-add', '5'],
  'hostname-workdir-env': ['--hostname', 'box', '--workdir', '/tmp', '-e', 'FOO=bar'],
  'network-none': ['--network', 'none'],
  'host-namespaces': ['--network', 'host', '--ipc', 'host', '--uts', 'host'],
  'pid-host': ['--pid', 'host'],
  'cgroupns-host': ['--cgroupns', 'host'],
};

function capturePodman() {
  for (const d of ['root', 'runroot', 'tmp', 'imgtmp']) mkdirSync(D('podman', d), { recursive: true });
  const conf = D('podman', 'containers.conf');
  // cgroupfs: there is no systemd as PID 1 here; events to a file for the same reason.
  // Podman's default RLIMIT_NOFILE (1048576) cannot be set without CAP_SYS_RESOURCE in
  // the bounding set (this machine lacks it): the limits test/integration/podman.test.ts uses.
  writeFileSync(
    conf,
    `[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nimage_copy_tmp_dir = "${D('podman', 'imgtmp')}"\n`,
  );
  const env = { CONTAINERS_CONF: conf, TMPDIR: D('podman', 'imgtmp') };
  const global = ['--root', D('podman', 'root'), '--runroot', D('podman', 'runroot'), '--tmpdir', D('podman', 'tmp')];
  const image = 'localhost/busybox:corral';
  const tar = sh('tar', ['-C', ROOTFS, '-cf', D('busybox.tar'), '.']);
  if (tar.status !== 0) throw new Error(tar.stderr);
  // As test/integration/podman.test.ts: a tmpfs over /var/lib for containers/image's blob cache.
  const imp = sh(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /var/lib && exec "$@"', 'sh', 'podman', ...global, 'import', D('busybox.tar'), image],
    env,
  );
  if (imp.status !== 0) throw new Error(`podman import: ${imp.stderr}`);
  const version = sh('podman', ['--version']).stdout.trim();
  for (const [name, flags] of Object.entries(PODMAN_CASES)) {
    rmSync(D('captured.json'), { force: true });
    const r = sh('podman', [...global, '--runtime', WRAPPER, 'run', '--rm', ...flags, image, 'true'], env);
    const shown = flags.map((f) => f.replace(VOL, '/HOST/VOL')).join(' ');
    if (!existsSync(D('captured.json'))) {
      console.log(`podman ${name}: no config written (exit ${r.status}): ${r.stderr.trim()}`);
      continue;
    }
    const how =
      `${version}: podman run --rm ${shown} IMAGE true (containers.conf: cgroup_manager cgroupfs, default_ulimits nofile=1024:1024 nproc=4096:4096; run as root)` +
      (r.status !== 0 ? `; with runc it exited ${r.status}: ${r.stderr.trim().split('\n').pop()}` : '');
    save('podman', name, sanitise(parseExact(readFileSync(D('captured.json'), 'utf8')), DIR, how));
    console.log(`podman ${name}: exit ${r.status}`);
  }
  sh('podman', [...global, 'rm', '-a', '-f', '-t', '0'], env);
  sh('podman', [...global, 'system', 'reset', '-f'], env);
}

// ---------------------------------------------------------------- containerd

const CTR_CASES = {
  default: [],
  privileged: ['--privileged'],
  'read-only': ['--read-only'],
  'memory-limit': ['--memory-limit', String(64 << 20)],
  'cap-add': ['--cap-add', 'CAP_SYS_ADMIN', '--cap-add', 'CAP_NET_ADMIN'],
  'cap-drop': ['--cap-drop', 'CAP_CHOWN'],
  seccomp: ['--seccomp'],
  uidmap: ['--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536'],
  mount: ['--mount', `type=bind,src=${VOL},dst=/mnt,options=rbind:ro`],
  'mount-tmpfs': ['--mount', 'type=tmpfs,src=tmpfs,dst=/scratch,options=nosuid:size=1m'],
  'cpus-shares': ['--cpus', '0.5', '--cpu-shares', '512'],
  'env-cwd': ['--env', 'FOO=bar', '--cwd', '/tmp'],
  'allow-new-privs': ['--allow-new-privs'],
  'net-host': ['--net-host'],
  'rootfs-propagation': ['--rootfs-propagation', 'rslave'],
};

function captureContainerd() {
  const dir = D('containerd');
  mkdirSync(dir, { mode: 0o711 });
  const sock = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${sock}"`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${dir}/opt"`,
      '',
    ].join('\n'),
  );
  const log = openSync(join(dir, 'containerd.log'), 'w');
  // The wrapper is also `runc` on containerd's PATH: with --uidmap ctr 1.6 does not pass --runc-binary on.
  mkdirSync(join(dir, 'bin'));
  spawnSync('ln', ['-s', WRAPPER, join(dir, 'bin', 'runc')]);
  const env = { ...process.env, TMPDIR: DIR, PATH: `${join(dir, 'bin')}:${process.env.PATH}` };
  const daemon = spawn('containerd', ['--config', config], { stdio: ['ignore', log, log], env });
  closeSync(log);
  const ctr = (args) => sh('ctr', ['--address', sock, '--namespace', 'compat', ...args]);
  for (let i = 0; i < 200 && ctr(['version']).status !== 0; i++) sleep(50);
  const image = 'docker.io/library/corral-busybox:compat';
  try {
    mkdirSync(D('layout'));
    const imp = ctr(['image', 'import', imageArchive(D('layout'), image)]);
    if (imp.status !== 0) throw new Error(`ctr image import: ${imp.stderr}`);
    const version = sh('ctr', ['--version']).stdout.trim();
    let n = 0;
    for (const [name, flags] of Object.entries(CTR_CASES)) {
      rmSync(D('captured.json'), { force: true });
      const r = ctr(['run', '--rm', '--runc-binary', WRAPPER, ...flags, image, `compat-${n++}`, 'true']);
      const shown = flags.map((f) => f.replace(VOL, '/HOST/VOL')).join(' ');
      if (!existsSync(D('captured.json'))) {
        console.log(`ctr ${name}: no config written (exit ${r.status}): ${r.stderr.trim()}`);
        continue;
      }
      const how =
        `${version}: ctr run --rm --runc-binary CAPTURE ${shown} IMAGE ID true (namespace compat, run as root)` +
        (r.status !== 0 ? `; with runc it exited ${r.status}: ${r.stderr.trim().split('\n').pop()}` : '');
      save('containerd', name, sanitise(parseExact(readFileSync(D('captured.json'), 'utf8')), dir, how));
      console.log(`ctr ${name}: exit ${r.status}`);
    }
    ctr(['image', 'rm', '--sync', image]);
  } finally {
    daemon.kill('SIGTERM');
    sleep(1000);
  }
}

// ---------------------------------------------------------------- runc spec

function captureRuncSpec() {
  const version = sh('runc', ['--version']).stdout.split('\n')[0];
  for (const [name, flags] of [
    ['spec', []],
    ['spec-rootless', ['--rootless']],
  ]) {
    const dir = D(`runc-${name}`);
    mkdirSync(dir);
    const r = sh('runc', ['spec', ...flags, '--bundle', dir]);
    if (r.status !== 0) throw new Error(`runc spec ${flags}: ${r.stderr}`);
    const c = parseExact(readFileSync(join(dir, 'config.json'), 'utf8'));
    save('runc', name, { _compat: { produced: `${version}: runc spec ${flags.join(' ')}`.trim() }, ...c });
    console.log(`runc ${name}`);
  }
}

const which = process.argv[2];
try {
  if (!which || which === 'runc') captureRuncSpec();
  if (!which || which === 'podman') capturePodman();
  if (!which || which === 'containerd') captureContainerd();
} finally {
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8').includes(DIR);
  if (process.env.KEEP) console.log(DIR);
  else if (!mounted) rmSync(DIR, { recursive: true, force: true });
  else console.log(`left ${DIR} (still mounted)`);
}
