// The walk-through bundles of bundles/examples, prepared by their own prepare.sh and
// run with bin/corral; each result is checked from inside and from the host.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, cleanup, corral, leftovers, messages, scratch, state, stateRoot } from '../lib/corral';
import { canAddLink, cgroupFile as hostHas, hierarchyOf, requires } from '../lib/host';

const root = stateRoot();
const ids: string[] = [];
const id = (name: string) => (ids.push(`ex-${name}-${process.pid}`), `ex-${name}-${process.pid}`);
const dir = (name: string) => join(ROOT, 'bundles/examples', name);
const prepare = (name: string, ...args: string[]) => execFileSync(join(dir(name), 'prepare.sh'), args, { stdio: 'pipe' });
const cgroupFile = (c: string, hierarchy: string, file: string) => {
  const rec = JSON.parse(readFileSync(join(root, c, 'state.json'), 'utf8'));
  // The hierarchy's mount, wherever this host has it (cpu may be joined with cpuacct).
  const mount = hierarchyOf(hierarchy)!.mount;
  const p = (rec.cgroups.paths as string[]).find((x) => x.startsWith(`${mount}/`))!;
  return readFileSync(join(p, file), 'utf8').trim();
};
t.teardown(() => {
  cleanup(root, ids);
  for (const e of ['netns', 'allns', 'forkbomb', 'robind', 'tarball']) spawnSync(join(dir(e), 'prepare.sh'), ['clean']);
});

t.test(
  '(a) a prepared network namespace with a veth pair, cpu shares, memory limit',
  { skip: requires([canAddLink('veth'), 'veth network devices (the veth module)']) },
  async (t) => {
    prepare('netns');
    const c = id('netns');
    const r = corral(root, ['run', '--bundle', dir('netns'), c]);
    t.equal(r.status, 0, messages(r.stderr));
    t.match(r.stdout, /inet 10\.0\.0\.2\/24/);
    t.match(r.stdout, /default via 10\.0\.0\.1/);
    t.match(r.stdout, /2 packets transmitted, 2 packets received/, 'the container pings the host end');
    // From the host side, while a container of the same bundle runs.
    const cfg = JSON.parse(readFileSync(join(dir('netns'), 'config.json'), 'utf8'));
    cfg.process.args = ['sleep', '30'];
    const b = scratch('netns-');
    cfg.root.path = join(dir('netns'), 'rootfs');
    writeFileSync(join(b, 'config.json'), JSON.stringify(cfg));
    const d = id('netns-d');
    t.equal(corral(root, ['run', '--detach', '--bundle', b, d]).status, 0);
    t.equal(spawnSync(join(ROOT, 'bundles/busybox/rootfs/bin/busybox'), ['ping', '-c', '1', '-W', '2', '10.0.0.2']).status, 0, 'the host pings the container end');
    t.equal(cgroupFile(d, 'cpu', 'cpu.shares'), '512');
    t.equal(cgroupFile(d, 'memory', 'memory.limit_in_bytes'), String(512 * 1024 * 1024));
    t.equal(readFileSync(`/proc/${state(root, d).pid}/cmdline`, 'utf8').split('\0')[0], 'sleep');
    corral(root, ['delete', '--force', d]);
    prepare('netns', 'clean');
  },
);

t.test('(b) all namespace kinds, a memory limit, an overlay where upper wins', async (t) => {
  prepare('allns');
  const c = id('allns');
  const r = corral(root, ['run', '--bundle', dir('allns'), c]);
  t.equal(r.status, 0, messages(r.stderr));
  const lines = r.stdout.trim().split('\n');
  t.same(lines.slice(0, 4), ['from lower', 'upper wins', 'both', 'lower-only'], 'the merged view');
  const host = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'].map((n) =>
    execFileSync('readlink', [`/proc/self/ns/${n}`])
      .toString()
      .trim(),
  );
  t.equal(lines.length, 4 + host.length);
  lines.slice(4).forEach((l, i) => t.not(l, host[i], `a new ${host[i].split(':')[0]} namespace`));
  t.same(leftovers(root, c), []);
});

t.test('(c) a fork bomb stops at pids.max 20', async (t) => {
  prepare('forkbomb');
  const c = id('forkbomb');
  const r = corral(root, ['run', '--bundle', dir('forkbomb'), c], { timeout: 60_000 });
  t.equal(r.status, 0, 'the init survives the bomb');
  t.match(r.stdout, /^forkbomb\n/, 'its hostname');
  t.match(r.stdout, /survived\n$/);
  t.match(r.stderr, /can't fork: Resource temporarily unavailable/, 'forks beyond the limit fail');
  t.same(leftovers(root, c), [], 'every bomb process is gone with the container');
});

t.test('(d) a read-only bind of a host directory, 100M without swap, and exec into it', async (t) => {
  prepare('robind');
  const c = id('robind');
  const run = corral(root, ['run', '--detach', '--bundle', dir('robind'), c]);
  if (!hostHas('memory', 'memory.memsw.limit_in_bytes')) {
    // Its "swap off" is a memory+swap limit: refused where swap is not accounted.
    t.equal(run.status, 1, 'refused: this host has no swap accounting');
    t.match(
      messages(run.stderr),
      /\/linux\/resources\/memory\/swap: cannot set \S+\/memory\.memsw\.limit_in_bytes to "104857600": not supported by this host \(no such file\) \(swap accounting is off/,
    );
    t.same(leftovers(root, c), []);
    prepare('robind', 'clean');
    return;
  }
  t.equal(run.status, 0, messages(run.stderr));
  const read = corral(root, ['exec', c, 'cat', '/data/file']);
  t.equal(read.stdout, 'host data\n', 'read works');
  const write = corral(root, ['exec', c, 'sh', '-c', 'echo x > /data/file']);
  t.not(write.status, 0);
  t.match(write.stderr, /Read-only file system/, 'write fails');
  t.equal(readFileSync('/var/tmp/corral-ex-data/file', 'utf8'), 'host data\n');
  t.equal(cgroupFile(c, 'memory', 'memory.limit_in_bytes'), String(100 * 1024 * 1024));
  t.equal(cgroupFile(c, 'memory', 'memory.memsw.limit_in_bytes'), String(100 * 1024 * 1024), 'memory+swap = memory: no swap');
  corral(root, ['delete', '--force', c]);
  prepare('robind', 'clean');
});

t.test('(e) a rootfs from a tarball, hostname container-fun, only its own processes', async (t) => {
  prepare('tarball');
  const c = id('tarball');
  const r = corral(root, ['run', '--bundle', dir('tarball'), c]);
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(r.stdout, 'container-fun\nPID   COMMAND\n    1 ps\n');
  prepare('tarball', 'clean');
});
