// Bad input and faults: a clear error that names what was wrong, and nothing left
// behind — no state directory, cgroup, mount or process.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { CORRAL, baseConfig, bundle, cleanup, corral, leftovers, messages, mountsWith, processesWith, scratch, sleep, stateRoot } from '../lib/corral';

const root = stateRoot();
const ids: string[] = [];
const id = (name: string) => (ids.push(`${name}-${process.pid}`), `${name}-${process.pid}`);
t.teardown(() => cleanup(root, ids));

function nothingLeft(t: Test, c: string) {
  t.same(leftovers(root, c), [], 'no state dir, no cgroup');
  t.same(processesWith(join(root, c)), [], 'no process');
  t.same(mountsWith(c), [], 'no mount');
}

const cases: [string, (c: Record<string, any>) => void, RegExp][] = [
  ['uid of the wrong type', (c) => { c.process.user.uid = 'root'; }, /config\.json: \/process\/user\/uid: must be integer \(got "root"\)/],
  ['namespace listed twice', (c) => { c.linux.namespaces.push({ type: 'pid' }); }, /\/linux\/namespaces\/5\/type: namespace "pid" is listed twice/],
  ['unknown namespace type', (c) => { c.linux.namespaces.push({ type: 'bogus' }); }, /\/linux\/namespaces\/5\/type: must be one of/],
  ['relative mount destination', (c) => { c.mounts.push({ destination: 'rel', type: 'tmpfs', source: 'tmpfs' }); }, /\/mounts\/5\/destination: must be an absolute path \(got "rel"\)/],
  ['unknown propagation', (c) => { c.linux.rootfsPropagation = 'sideways'; }, /\/linux\/rootfsPropagation: must be one of "private", "shared", "slave", "unbindable" \(got "sideways"\)/],
  ['missing rootfs', (c) => { c.root.path = '/nonexistent/rootfs'; }, /\/root\/path: rootfs \/nonexistent\/rootfs: no such file or directory/],
  ['missing executable', (c) => { c.process.args = ['/bin/nonexistent']; }, /exec: \/bin\/nonexistent: no such file or directory/],
  ['executable not in PATH', (c) => { c.process.args = ['nonexistent']; }, /exec: "nonexistent": executable file not found in \$PATH/],
  ['unknown capability', (c) => { c.process.capabilities.bounding.push('CAP_TEST'); }, /\/process\/capabilities\/bounding\/6: unknown capability "CAP_TEST"/],
  ['unknown rlimit', (c) => { c.process.rlimits = [{ type: 'RLIMIT_TEST', soft: 1, hard: 1 }]; }, /\/process\/rlimits\/0\/type: unknown rlimit "RLIMIT_TEST"/],
  ['bind source missing', (c) => { c.mounts.push({ destination: '/x', type: 'bind', source: '/nonexistent-src', options: ['bind'] }); }, /\/mounts\/5\/source: \/nonexistent-src: no such file or directory/],
  ['hostname without uts namespace', (c) => { c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts'); }, /\/hostname: setting the hostname needs a uts namespace/],
  ['mount that fails in the kernel', (c) => { c.mounts.push({ destination: '/bad', type: 'nosuchfs', source: 'x' }); }, /nosuchfs on \/bad: no such device/],
  ['namespace path that is not a namespace', (c) => { c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => n.type === 'network' ? { type: 'network', path: '/etc/hostname' } : n); }, /setns \/etc\/hostname: invalid argument/],
];

for (const [name, edit, want] of cases) {
  t.test(name, async (t) => {
    const c = id(name.replace(/\W+/g, '-'));
    const r = corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '10']), edit as never), c]);
    t.equal(r.status, 1, 'create fails');
    t.match(messages(r.stderr), want);
    nothingLeft(t, c);
  });
}

t.test('every schema problem is listed at once', async (t) => {
  const c = id('many');
  const r = corral(root, ['create', '--bundle', bundle(baseConfig(), (cfg) => {
    (cfg.process as any).user.uid = 'root';
    (cfg.process as any).cwd = 5;
    (cfg as any).hostname = 7;
  }), c]);
  t.equal(r.status, 1);
  const m = messages(r.stderr);
  t.match(m, /\/process\/user\/uid: must be integer/);
  t.match(m, /\/process\/cwd: must be string \(got 5\)/);
  t.match(m, /\/hostname: must be string \(got 7\)/);
  nothingLeft(t, c);
});

t.test('a failing prestart hook stops the container and runs poststop', async (t) => {
  const c = id('hookfail');
  const dir = scratch('hook-');
  const r = corral(root, ['create', '--bundle', bundle(baseConfig(['sleep', '10']), (cfg) => {
    (cfg as any).hooks = {
      prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo boom >&2; exit 3'] }],
      poststop: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/poststop`] }],
    };
  }), c]);
  t.equal(r.status, 1);
  t.match(messages(r.stderr), /prestart hook \/hooks\/prestart\/0 \(\/bin\/sh\) failed: exit status 3, output: boom/);
  t.ok(existsSync(join(dir, 'poststop')), 'poststop ran');
  nothingLeft(t, c);
});

t.test('create killed while its init is being set up leaves nothing', async (t) => {
  const c = id('killed');
  const dir = scratch('hook-');
  const marker = join(dir, 'hook-started');
  const b = bundle(baseConfig(['sleep', '10']), (cfg) => {
    (cfg as any).hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}; sleep 20`] }] };
  });
  const child = spawn(CORRAL, ['--root', root, 'create', '--bundle', b, c], { stdio: 'ignore' });
  for (let i = 0; i < 500 && !existsSync(marker); i++) sleep(10);
  t.ok(existsSync(marker), 'the create reached its hooks: namespaces, cgroups and mounts exist');
  t.ok(existsSync(join(root, c)), 'state dir exists meanwhile');
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  // corral-init notices that corral is gone and rolls everything back.
  for (let i = 0; i < 300 && leftovers(root, c).length; i++) sleep(10);
  nothingLeft(t, c);
  spawn('pkill', ['-f', marker]);
});

t.test('a config that cannot be read', async (t) => {
  const c = id('unreadable');
  const dir = scratch('bundle-');
  const r = corral(root, ['create', '--bundle', dir, c]);
  t.equal(r.status, 1);
  t.match(messages(r.stderr), new RegExp(`open ${dir}/config.json: no such file or directory`));
  writeFileSync(join(dir, 'config.json'), '{"ociVersion": ');
  const r2 = corral(root, ['create', '--bundle', dir, c]);
  t.match(messages(r2.stderr), /config.json: invalid JSON/);
  chmodSync(dir, 0o755);
  nothingLeft(t, c);
  t.same(readdirSync(root).filter((n) => n.startsWith('unreadable')), []);
});
