// The lifecycle of real containers through runc's commands.
import t from 'tap';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { CORRAL, messages, baseConfig, bundle, cleanup, corral, leftovers, scratch, sleep, state, stateRoot } from '../lib/corral';

const root = stateRoot();
const ids: string[] = [];
const id = (name: string) => (ids.push(`${name}-${process.pid}`), `${name}-${process.pid}`);
t.teardown(() => cleanup(root, ids));

t.test('create, state, start, state, delete', async (t) => {
  const c = id('life');
  const b = bundle(baseConfig(['sh', '-c', 'sleep 30']));
  const r = corral(root, ['create', '--bundle', b, c]);
  t.equal(r.status, 0, r.stderr);
  let s = state(root, c);
  t.equal(s.status, 'created');
  t.equal(s.bundle, b);
  t.equal(s.id, c);
  t.ok((s.pid as number) > 0, 'pid of the waiting init');
  const cmdline = readFileSync(`/proc/${s.pid}/cmdline`, 'utf8');
  t.notMatch(cmdline, /node/, 'the init is not a copy of node');
  t.equal(corral(root, ['start', c]).status, 0);
  s = state(root, c);
  t.equal(s.status, 'running');
  t.match(readFileSync(`/proc/${s.pid}/cmdline`, 'utf8'), /^sleep\0/, 'the init became the user process');
  const del = corral(root, ['delete', c]);
  t.equal(del.status, 1, 'deleting a running container fails');
  t.match(messages(del.stderr), /cannot delete container .* that is not stopped: running/);
  t.equal(corral(root, ['start', c]).status, 1, 'start twice fails');
  t.equal(corral(root, ['kill', c, 'KILL']).status, 0);
  for (let i = 0; i < 100 && state(root, c).status !== 'stopped'; i++) sleep(20);
  t.equal(state(root, c).status, 'stopped');
  t.equal(state(root, c).pid, 0);
  const k = corral(root, ['kill', c]);
  t.equal(k.status, 1);
  t.match(messages(k.stderr), /container not running/);
  t.equal(corral(root, ['delete', c]).status, 0);
  t.same(leftovers(root, c), []);
  const gone = corral(root, ['state', c]);
  t.equal(gone.status, 1);
  t.match(messages(gone.stderr), /container does not exist/);
});

t.test('run exits with the container status and cleans up', async (t) => {
  const c = id('run');
  const b = bundle(baseConfig(['sh', '-c', 'exit 7']));
  const r = corral(root, ['run', '--bundle', b, c]);
  t.equal(r.status, 7);
  t.same(leftovers(root, c), []);
  // A signal that ends the init: 128 + its number, as a shell reports it.
  const k = id('runsig');
  const child = spawn(CORRAL, ['--root', root, 'run', '--bundle', bundle(baseConfig(['sleep', '30'])), k], { stdio: 'ignore' });
  for (let i = 0; i < 200 && corral(root, ['state', k]).stdout.indexOf('"running"') < 0; i++) sleep(10);
  t.equal(corral(root, ['kill', k, 'KILL']).status, 0);
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  t.equal(code, 137, '128 + SIGKILL');
  t.same(leftovers(root, k), []);
});

t.test('run forwards the signals it receives to the container', async (t) => {
  const c = id('fwd');
  const child = spawn(CORRAL, ['--root', root, 'run', '--bundle', bundle(baseConfig(['sh', '-c', 'trap "exit 42" TERM; while :; do sleep 0.05; done'])), c], { stdio: 'ignore' });
  for (let i = 0; i < 200 && corral(root, ['state', c]).stdout.indexOf('"running"') < 0; i++) sleep(10);
  sleep(100);
  child.kill('SIGTERM');
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  t.equal(code, 42, 'the container trapped the forwarded SIGTERM');
  t.same(leftovers(root, c), []);
});

t.test('run prints what the container prints, on the caller stdout', async (t) => {
  const c = id('out');
  const r = corral(root, ['run', '--bundle', bundle(baseConfig(['sh', '-c', 'echo hello; echo oops >&2; hostname; echo $$'])), c]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'hello\ncorral-test\n1\n', 'pid 1 in its own pid namespace');
  t.equal(r.stderr, 'oops\n');
});

t.test('kill takes names, SIG names and numbers; created containers can be killed', async (t) => {
  for (const sig of ['TERM', 'SIGTERM', '15', 'KILL', '9']) {
    const c = id(`kill${sig}`);
    t.equal(corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '30'])), c]).status, 0);
    const k = corral(root, ['kill', c, sig]);
    t.equal(k.status, 0, `${sig}: ${k.stderr}`);
    for (let i = 0; i < 100 && state(root, c).status !== 'stopped'; i++) sleep(20);
    t.equal(state(root, c).status, 'stopped', `created container stopped by ${sig}`);
    t.equal(corral(root, ['delete', c]).status, 0);
  }
  const c = id('killbad');
  t.equal(corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '30'])), c]).status, 0);
  const bad = corral(root, ['kill', c, 'NOPE']);
  t.equal(bad.status, 1);
  t.match(messages(bad.stderr), /unknown signal "NOPE"/);
  t.equal(corral(root, ['delete', c]).status, 1, 'created is not stopped: delete fails');
  t.equal(corral(root, ['delete', '--force', c]).status, 0);
  t.same(leftovers(root, c), []);
});

t.test('a reused pid is not mistaken for the container', async (t) => {
  const c = id('reuse');
  t.equal(corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '30'])), c]).status, 0);
  const file = join(root, c, 'state.json');
  const rec = JSON.parse(readFileSync(file, 'utf8'));
  // Point the record at a live process that is not the container (this test runner).
  rec.pid = process.pid;
  writeFileSync(file, JSON.stringify(rec));
  t.equal(state(root, c).status, 'stopped', 'start time differs: stopped');
  t.equal(corral(root, ['kill', c, 'KILL']).status, 1, 'and kill refuses to signal it');
  t.ok(existsSync(`/proc/${process.pid}`));
  corral(root, ['delete', '--force', c]);
});

t.test('--pid-file is written, relative to the cwd', async (t) => {
  const c = id('pidfile');
  const dir = scratch('pid-');
  const r = corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '30'])), '--pid-file', 'x.pid', c], { cwd: dir });
  t.equal(r.status, 0, r.stderr);
  t.equal(Number(readFileSync(join(dir, 'x.pid'), 'utf8')), state(root, c).pid);
  corral(root, ['delete', '--force', c]);
});

t.test('ids are validated and unique; bad commands fail with runc messages', async (t) => {
  const b = bundle(baseConfig(['sleep', '30']));
  for (const bad of ['../escape', 'a/b', '..']) {
    const r = corral(root, ['create', '--bundle', b, bad]);
    t.equal(r.status, 1);
    t.match(messages(r.stderr), /invalid container id format/);
  }
  t.notOk(existsSync(join(root, '..', 'escape')));
  const c = id('dup');
  t.equal(corral(root, ['create', '--bundle', b, c]).status, 0);
  const again = corral(root, ['create', '--bundle', b, c]);
  t.equal(again.status, 1);
  t.match(messages(again.stderr), /container with id exists/);
  t.equal(state(root, c).status, 'created', 'the first one is untouched');
  corral(root, ['delete', '--force', c]);
  const none = corral(root, ['delete', 'nope']);
  t.equal(none.status, 1);
  t.match(messages(none.stderr), /container does not exist/);
  t.equal(corral(root, ['delete', '--force', 'nope']).status, 0, 'delete --force of nothing is fine, as runc');
  const missing = corral(root, ['kill']);
  t.equal(missing.status, 1);
  t.match(messages(missing.stderr), /"kill" requires a minimum of 1 argument/);
  const flag = corral(root, ['create', '--bogus', 'x']);
  t.equal(flag.status, 1);
  t.match(messages(flag.stderr), /flag provided but not defined: -bogus/);
});

t.test('list shows containers as table, json and ids', async (t) => {
  const c = id('list');
  t.equal(corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '30'])), c]).status, 0);
  t.match(corral(root, ['list']).stdout, new RegExp(`^ID +PID +STATUS +BUNDLE +CREATED +OWNER\\n(.*\\n)*${c} +\\d+ +created `));
  t.match(corral(root, ['list', '-q']).stdout.split('\n'), [c]);
  const json = JSON.parse(corral(root, ['list', '--format', 'json']).stdout);
  t.match(
    json.find((x: { id: string }) => x.id === c),
    { id: c, status: 'created' },
  );
  corral(root, ['delete', '--force', c]);
});

t.test('a container created without process stops at start', async (t) => {
  const c = id('noproc');
  const b = bundle(baseConfig(), (cfg) => {
    delete (cfg as Record<string, unknown>).process;
  });
  t.equal(corral(root, ['create', '--bundle', b, c]).status, 0);
  t.equal(state(root, c).status, 'created');
  const s = corral(root, ['start', c]);
  t.equal(s.status, 0);
  t.match(messages(s.stderr), /has no "process"/);
  for (let i = 0; i < 100 && state(root, c).status !== 'stopped'; i++) sleep(20);
  t.equal(state(root, c).status, 'stopped');
  t.equal(corral(root, ['delete', c]).status, 0);
});

t.test('state dir is private to root', async (t) => {
  const c = id('perm');
  t.equal(corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '30'])), c]).status, 0);
  t.equal(statSync(join(root, c, 'exec.fifo')).mode & 0o777, 0o622);
  corral(root, ['delete', '--force', c]);
});

t.test('--debug traces each phase of create, start, exec and delete with its duration', async (t) => {
  const c = id('phases');
  const b = bundle(baseConfig(['sleep', '30']));
  const phases = (r: { stderr: string }) => [...r.stderr.matchAll(/level=debug msg="(\w+): (.+?) took \d+\.\dms"/g)].map((m) => `${m[1]}: ${m[2]}`);
  const cr = corral(root, ['--debug', 'create', '--bundle', b, c]);
  t.equal(cr.status, 0, cr.stderr);
  t.same(phases(cr), ['create: validate', 'create: helper start', 'create: cgroups', 'create: plan and clone', 'create: mounts and creation hooks', 'create: record and commit']);
  const st = corral(root, ['--debug', 'start', c]);
  t.same(phases(st), ['start: startContainer hooks', 'start: release the init', 'start: poststart hooks']);
  const ex = corral(root, ['--debug', 'exec', c, 'true']);
  t.equal(ex.status, 0, ex.stderr);
  t.same(phases(ex), ['exec: validate', 'exec: join and start the process']);
  const quiet = corral(root, ['exec', c, 'true']);
  t.same(phases(quiet), [], 'without --debug, no trace');
  const del = corral(root, ['--debug', 'delete', '--force', c]);
  t.same(phases(del), ['delete: kill what is left', 'delete: remove the cgroups', 'delete: poststop hooks', 'delete: remove the state']);
  t.same(leftovers(root, c), []);
  const bad = corral(root, ['--debug', 'create', '--bundle', '/nonexistent-bundle', id('phases-bad')]);
  t.match(bad.stderr, /level=debug msg="create: validate failed after \d+\.\dms"/, 'a failing phase says so');
});
