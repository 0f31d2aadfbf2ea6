// The state store: ids, the container directory, atomic state writes, the lock, and
// the status read from /proc with fake records.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corralError } from '../lib/corral';
import { stateProblems } from '../../src/spec/validate';
import { OCI_VERSION } from '../../src/base/version';
import { Store, ociState, statusOf, validateId, type ContainerRecord } from '../../src/state/store';

const tmp = mkdtempSync(join(tmpdir(), 'corral-store-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshStore = () => new Store(join(tmp, `root-${n++}`, 'nested'));

/** Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot. */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3];
}

function record(id: string, over: Partial<ContainerRecord> = {}): ContainerRecord {
  return {
    id,
    bundle: `/bundles/${id}`,
    rootfs: `/bundles/${id}/rootfs`,
    pid: 0,
    pidStartTime: '',
    created: '2026-01-01T00:00:00Z',
    owner: 'root',
    cgroups: { paths: [], created: [] },
    namespaces: [{ type: 'pid' }],
    hostMountNs: false,
    ...over,
  };
}

t.test('validateId', async (t) => {
  for (const id of ['c1', 'abc', 'A-b_c.d+e', '123', 'a..b', '...x']) t.equal(validateId(id), id, id);
  t.equal(
    corralError(t, () => validateId('')),
    'container id cannot be empty',
  );
  t.equal(
    corralError(t, () => validateId(undefined)),
    'container id cannot be empty',
  );
  for (const bad of ['..', '.', 'a/b', '../etc', 'a b', 'a\nb', 'a:b', '/abs'])
    t.equal(
      corralError(t, () => validateId(bad)),
      `invalid container id format: ${bad}`,
      JSON.stringify(bad),
    );
});

t.test('claim, exists, read, write', async (t) => {
  const s = freshStore();
  const dir = s.claim('c1');
  t.equal(dir, join(s.root, 'c1'));
  t.ok(statSync(dir).isDirectory());
  t.equal(statSync(dir).mode & 0o777, 0o700, "private, as runc's");
  t.equal(
    corralError(t, () => s.claim('c1')),
    'container with id exists: c1',
  );
  t.notOk(s.exists('c1'), 'claimed but not yet written');
  t.equal(
    corralError(t, () => s.read('c1')),
    'container does not exist',
  );
  t.equal(
    corralError(t, () => s.read('nope')),
    'container does not exist',
  );
  const rec = record('c1', { annotations: { a: 'b' }, pid: 42, pidStartTime: '123' });
  s.write(rec);
  t.ok(s.exists('c1'));
  t.same(s.read('c1'), rec);
  s.write({ ...rec, pid: 43 });
  t.equal(s.read('c1').pid, 43, 'overwritten');
  t.same(readdirSync(dir), ['state.json'], 'no temp file left');
  t.equal(s.fifo('c1'), join(dir, 'exec.fifo'));
  t.equal(
    corralError(t, () => s.dir('../x')),
    'invalid container id format: ../x',
  );
  t.equal(
    corralError(t, () => s.claim('a/b')),
    'invalid container id format: a/b',
  );
  t.notOk(existsSync(join(s.root, 'a')), 'nothing made for a bad id');
});

t.test('creating.json, and failures that name the path', async (t) => {
  const s = freshStore();
  const dir = s.claim('c1');
  t.equal(s.readCreating('c1'), undefined, 'none yet');
  const made = { rootfs: '/r', hostMountNs: false, cgroups: { paths: ['/sys/fs/cgroup/x/c1'], created: ['/sys/fs/cgroup/x/c1'] } };
  s.writeCreating('c1', made);
  t.same(s.readCreating('c1'), made);
  t.same(readdirSync(dir), ['creating.json'], 'no temp file left');
  // A write that fails (here: its temporary file's name is taken by a directory).
  mkdirSync(join(dir, `.state.json.${process.pid}`));
  t.equal(
    corralError(t, () => s.write(record('c1'))),
    `write ${join(dir, 'state.json')}: is a directory`,
  );
  t.notOk(existsSync(join(dir, 'state.json')));
  writeFileSync(join(dir, 'state.json'), '{"id": ');
  t.match(
    corralError(t, () => s.read('c1')),
    new RegExp(`^read ${join(dir, 'state.json')}: .*JSON`),
  );
  const file = join(tmp, `plain-${n++}`);
  writeFileSync(file, '');
  t.equal(
    corralError(t, () => new Store(join(file, 'root')).claim('c1')),
    `mkdir ${join(file, 'root')}: not a directory`,
  );
});

t.test('list and remove', async (t) => {
  const s = freshStore();
  t.same(s.list(), [], 'no root yet');
  for (const id of ['b', 'a', 'c']) {
    s.claim(id);
    s.write(record(id));
  }
  s.claim('half'); // claimed, never written: not listed
  mkdirSync(join(s.root, 'bad name'));
  writeFileSync(join(s.root, 'bad name', 'state.json'), '{}');
  writeFileSync(join(s.root, 'file'), '');
  t.same(s.list(), ['a', 'b', 'c']);
  s.remove('b');
  t.notOk(existsSync(join(s.root, 'b')));
  t.same(s.list(), ['a', 'c']);
  s.remove('b');
  s.remove('never');
  t.pass('removing what is not there is fine');
});

t.test('lock: content, release, relock', async (t) => {
  const s = freshStore();
  s.claim('c1');
  const file = join(s.dir('c1'), 'lock');
  const release = s.lock('c1');
  t.equal(readlinkSync(file), `${process.pid} ${startTime(process.pid)}`, 'a symlink to "pid starttime"');
  release();
  t.notOk(lstatSync(file, { throwIfNoEntry: false }), 'released');
  const again = s.lock('c1');
  t.ok(lstatSync(file, { throwIfNoEntry: false }), 'locked again');
  again();
  t.equal(
    corralError(t, () => s.lock('ghost')),
    'container does not exist',
  );
});

t.test('lock: a stale lock is taken over', async (t) => {
  const s = freshStore();
  s.claim('c1');
  const file = join(s.dir('c1'), 'lock');
  const me = `${process.pid} ${startTime(process.pid)}`;
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const dead = [pidMax + 1, pidMax - 1].find((p) => !existsSync(`/proc/${p}`))!;
  for (const holder of [`${dead} 12345`, `${process.pid} 1`, `1 ${Number(startTime(1)) + 1}`]) {
    symlinkSync(holder, file);
    const started = Date.now();
    const release = s.lock('c1');
    t.ok(Date.now() - started < 1000, `"${holder}" taken over at once`);
    t.equal(readlinkSync(file), me);
    release();
  }
});

t.test('lock: a live holder is waited for until the deadline', async (t) => {
  const child = spawn('sleep', ['5'], { stdio: 'ignore' });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve) => child.once('spawn', () => resolve()));
  const pid = child.pid!;
  // spawn() returns once exec happened; stat may still show node's name briefly, the start time is stable.
  const holder = `${pid} ${startTime(pid)}`;
  const s = freshStore();
  s.claim('c1');
  const file = join(s.dir('c1'), 'lock');
  symlinkSync(holder, file);
  // The 30 s deadline, made short: every Date.now() jumps 5 s ahead.
  const realNow = Date.now;
  let calls = 0;
  const t0 = realNow();
  Date.now = () => t0 + 5_000 * calls++;
  let msg: string;
  const started = realNow();
  try {
    msg = corralError(t, () => s.lock('c1'));
  } finally {
    Date.now = realNow;
  }
  t.equal(msg, `container c1 is locked by process ${pid}`);
  t.ok(calls >= 6, `it waited (${calls} looks at the clock)`);
  t.ok(realNow() - started < 2000, 'and the test stayed quick');
  t.equal(readlinkSync(file), holder, "the holder's lock is left alone");
  const t1 = realNow();
  t.equal(
    corralError(t, () => s.lock('c1', 0)),
    `container c1 is locked by process ${pid}`,
    'no wait at all',
  );
  t.ok(realNow() - t1 < 1000);
});

t.test('statusOf and ociState', async (t) => {
  const s = freshStore();
  s.claim('c1');
  const stopped = record('c1', { pid: 0, annotations: {} });
  t.equal(statusOf(s, stopped), 'stopped', 'pid 0');
  t.same(ociState(stopped, 'stopped'), { ociVersion: OCI_VERSION, id: 'c1', status: 'stopped', pid: 0, bundle: '/bundles/c1' }, 'no empty annotations');
  const mine = record('c1', { pid: process.pid, pidStartTime: startTime(process.pid), annotations: { 'org.example': 'x' } });
  writeFileSync(s.fifo('c1'), '');
  t.equal(statusOf(s, mine), 'created', 'alive, with the exec fifo');
  rmSync(s.fifo('c1'));
  t.equal(statusOf(s, mine), 'running', 'alive, without the exec fifo');
  t.equal(statusOf(s, { ...mine, pidStartTime: '1' }), 'stopped', 'a reused pid is not the container');
  const st = ociState(mine, 'running');
  t.same(st, { ociVersion: '1.3.0', id: 'c1', status: 'running', pid: process.pid, bundle: '/bundles/c1', annotations: { 'org.example': 'x' } });
  t.same(stateProblems(st), []);
  t.equal(ociState(mine, 'stopped').pid, 0, 'a stopped container has pid 0');
  t.same(stateProblems(ociState(stopped, 'stopped')), []);
  const freezer = join(tmp, 'freezer.state');
  writeFileSync(freezer, 'FROZEN\n');
  const frozen = { ...mine, cgroups: { paths: [], created: [], freezer } };
  t.equal(statusOf(s, frozen), 'paused');
  writeFileSync(freezer, 'THAWED\n');
  t.equal(statusOf(s, frozen), 'running');
  rmSync(freezer);
  t.equal(statusOf(s, frozen), 'running', 'no freezer file: not paused');
});
