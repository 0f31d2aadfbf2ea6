// corral exec: a process that joins a running container's namespaces, cgroups,
// identity and seccomp, as runc exec does.
import t from 'tap';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseConfig, bundle, cleanup, corral, messages, scratch, sleep, state, stateRoot } from '../lib/corral';

const root = stateRoot();
const ids: string[] = [];
const id = (name: string) => (ids.push(`${name}-${process.pid}`), `${name}-${process.pid}`);
t.teardown(() => cleanup(root, ids));

function running(name: string, edit?: Parameters<typeof bundle>[1]): { c: string; pid: number } {
  const c = id(name);
  const r = corral(root, ['run', '--detach', '--bundle', bundle(baseConfig(['sleep', '60']), edit), c]);
  if (r.status !== 0) throw new Error(r.stderr);
  return { c, pid: state(root, c).pid as number };
}

t.test('exec runs in the container and exits with the process status', async (t) => {
  const { c, pid } = running('basic');
  const r = corral(root, ['exec', c, 'sh', '-c', 'hostname; echo $$; cat /proc/1/cmdline | tr "\\0" " "; exit 5']);
  t.equal(r.status, 5, r.stderr);
  t.equal(r.stdout, 'corral-test\n' + r.stdout.split('\n')[1] + '\nsleep 60 ');
  t.not(r.stdout.split('\n')[1], '1', 'not the init');
  // Every namespace of the exec'd process is the init's.
  const d = corral(root, ['exec', '-d', '--pid-file', join(scratch('pid-'), 'p'), c, 'sleep', '5']);
  t.equal(d.status, 0, d.stderr);
  const ps = corral(root, ['exec', c, 'sh', '-c', 'for n in pid net ipc uts mnt; do readlink /proc/self/ns/$n; done']);
  const init = ['pid', 'net', 'ipc', 'uts', 'mnt'].map((n) => readlinkSync(`/proc/${pid}/ns/${n}`));
  t.same(ps.stdout.trim().split('\n'), init, 'same namespaces as the init');
});

t.test('exec flags: --user, --env, --cwd, --detach with --pid-file', async (t) => {
  const { c } = running('flags');
  const r = corral(root, [
    'exec',
    '--user',
    '1000:1000',
    '--additional-gids',
    '5',
    '--env',
    'FOO=bar',
    '--env',
    'PATH=/bin',
    '--cwd',
    '/tmp',
    c,
    'sh',
    '-c',
    'id -u; id -g; id -G; echo $FOO $PATH; pwd',
  ]);
  t.equal(r.status, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['1000', '1000', '1000 5', 'bar /bin', '/tmp']);
  const dir = scratch('pid-');
  const d = corral(root, ['exec', '--detach', '--pid-file', join(dir, 'exec.pid'), c, 'sleep', '30']);
  t.equal(d.status, 0, d.stderr);
  const pid = Number(readFileSync(join(dir, 'exec.pid'), 'utf8'));
  t.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\x0030\x00');
  const rec = JSON.parse(readFileSync(join(root, c, 'state.json'), 'utf8'));
  const procs = readFileSync(join(rec.cgroups.paths[0], 'cgroup.procs'), 'utf8').split('\n').map(Number);
  t.ok(procs.includes(pid), "the exec'd process is in the container's cgroup");
});

t.test('exec --process takes a process.json', async (t) => {
  const { c } = running('procjson');
  const file = join(scratch('proc-'), 'process.json');
  writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'echo $A; id -u; pwd'], env: ['A=from-json', 'PATH=/bin'], cwd: '/proc', user: { uid: 65534, gid: 65534 } }));
  const r = corral(root, ['exec', '--process', file, c]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'from-json\n65534\n/proc\n');
  writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', user: { uid: 'root' } }));
  const bad = corral(root, ['exec', '--process', file, c]);
  t.equal(bad.status, 1);
  t.match(messages(bad.stderr), /\/user\/uid: must be integer \(got "root"\)/);
});

t.test("exec applies oomScoreAdj: from --process, and the container's without it (as runc)", async (t) => {
  const { c } = running('oomscore', (cfg) => {
    cfg.process.oomScoreAdj = 300;
  });
  const file = join(scratch('proc-'), 'process.json');
  writeFileSync(file, JSON.stringify({ args: ['cat', '/proc/self/oom_score_adj'], cwd: '/', user: { uid: 0, gid: 0 }, oomScoreAdj: 500 }));
  const r = corral(root, ['exec', '--process', file, c]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '500\n');
  t.equal(corral(root, ['exec', c, 'cat', '/proc/self/oom_score_adj']).stdout, '300\n', "the container's process value");
  writeFileSync(file, JSON.stringify({ args: ['cat', '/proc/self/oom_score_adj'], cwd: '/', user: { uid: 0, gid: 0 } }));
  t.equal(corral(root, ['exec', '--process', file, c]).stdout, readFileSync('/proc/self/oom_score_adj', 'utf8'), "none given: the caller's");
});

t.test("exec gets the container's seccomp profile and capabilities", async (t) => {
  const { c } = running('confined', (cfg) => {
    (cfg.linux as Record<string, unknown>).seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
  });
  const r = corral(root, ['exec', c, 'sh', '-c', 'mkdir /tmp/x 2>&1; grep -E "^Cap(Eff|Bnd)" /proc/self/status']);
  t.match(r.stdout, /Operation not permitted/);
  t.match(r.stdout, /CapEff:\s+00000000000020e3\b/, "the container's effective set");
  const cap = corral(root, ['exec', '--cap', 'CAP_SYS_ADMIN', c, 'grep', 'CapEff', '/proc/self/status']);
  t.match(cap.stdout, /CapEff:\s+00000000002020e3\b/, '--cap adds CAP_SYS_ADMIN');
});

t.test('exec fails clearly', async (t) => {
  const { c } = running('fails');
  const nf = corral(root, ['exec', c, 'nonexistent']);
  t.equal(nf.status, 1);
  t.match(messages(nf.stderr), /exec: "nonexistent": executable file not found in \$PATH/);
  const user = corral(root, ['exec', '--user', 'root', c, 'true']);
  t.match(messages(user.stderr), /--user: "root" is not uid\[:gid\]/);
  t.equal(corral(root, ['kill', c, 'KILL']).status, 0);
  for (let i = 0; i < 200 && state(root, c).status !== 'stopped'; i++) sleep(10);
  const stopped = corral(root, ['exec', c, 'true']);
  t.equal(stopped.status, 1);
  t.match(messages(stopped.stderr), /cannot exec in a stopped container/);
  const none = corral(root, ['exec', 'nope-' + process.pid, 'true']);
  t.match(messages(none.stderr), /container does not exist/);
});

t.test('exec --cgroup joins an existing sub-cgroup', async (t) => {
  const { c } = running('subcg');
  const rec = JSON.parse(readFileSync(join(root, c, 'state.json'), 'utf8'));
  const memory = (rec.cgroups.paths as string[]).find((p) => p.includes('/memory/'))!;
  mkdirSync(join(memory, 'sub'));
  const r = corral(root, ['exec', '--cgroup', 'memory:sub', c, 'cat', '/proc/self/cgroup']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, new RegExp(`:memory:/corral/${c}/sub\n`), 'in the memory sub-cgroup');
  t.match(r.stdout, new RegExp(`:pids:/corral/${c}\n`), "other hierarchies: the container's own cgroup");
  const bad = corral(root, ['exec', '--cgroup', 'nope', c, 'true']);
  t.match(messages(bad.stderr), /--cgroup nope: .*\/nope: no such cgroup/);
  const esc = corral(root, ['exec', '--cgroup', '../x', c, 'true']);
  t.match(messages(esc.stderr), /must be a relative path inside the container's cgroup/);
});
