// Bad input and faults: a clear error that names what was wrong, and nothing left
// behind — no state directory, cgroup, mount or process.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
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
  [
    'uid of the wrong type',
    (c) => {
      c.process.user.uid = 'root';
    },
    /config\.json: \/process\/user\/uid: must be integer \(got "root"\)/,
  ],
  [
    'namespace listed twice',
    (c) => {
      c.linux.namespaces.push({ type: 'pid' });
    },
    /\/linux\/namespaces\/5\/type: namespace "pid" is listed twice/,
  ],
  [
    'unknown namespace type',
    (c) => {
      c.linux.namespaces.push({ type: 'bogus' });
    },
    /\/linux\/namespaces\/5\/type: must be one of/,
  ],
  [
    'relative mount destination',
    (c) => {
      c.mounts.push({ destination: 'rel', type: 'tmpfs', source: 'tmpfs' });
    },
    /\/mounts\/5\/destination: must be an absolute path \(got "rel"\)/,
  ],
  [
    'unknown propagation',
    (c) => {
      c.linux.rootfsPropagation = 'sideways';
    },
    /\/linux\/rootfsPropagation: must be one of "private", "shared", "slave", "unbindable", "rprivate", "rshared", "rslave", "runbindable" \(got "sideways"\)/,
  ],
  // No value may carry a NUL: the kernel would read only up to it.
  [
    'NUL in a mount destination',
    (c) => {
      c.mounts.push({ destination: '/a\0dir', type: 'tmpfs', source: 'tmpfs' });
    },
    /^config\.json: \/mounts\/5\/destination: must not contain a NUL byte$/,
  ],
  [
    'NUL in a mount option',
    (c) => {
      c.mounts[3].options.push('size=1m\0net');
    },
    /^config\.json: \/mounts\/3\/options\/2: must not contain a NUL byte$/,
  ],
  [
    'NUL in a hook argument',
    (c) => {
      c.hooks = { prestart: [{ path: '/bin/true', args: ['true', 'a\0b'] }] };
    },
    /^config\.json: \/hooks\/prestart\/0\/args\/1: must not contain a NUL byte$/,
  ],
  [
    'NUL in an env entry',
    (c) => {
      c.process.env.push('A=b\0c');
    },
    /^config\.json: \/process\/env\/2: must not contain a NUL byte$/,
  ],
  [
    'NUL in an annotation key',
    (c) => {
      c.annotations = { 'a\0b': 'x' };
    },
    /^config\.json: \/annotations\/a\\u0000b: a key must not contain a NUL byte$/,
  ],
  // Longer than the kernel takes: the step, the value (cut) and the errno.
  [
    'a hostname longer than the kernel allows',
    (c) => {
      c.hostname = 'h'.repeat(70000);
    },
    /^sethostname h{256}\.\.\.: invalid argument$/m,
  ],
  [
    'a cwd longer than a name may be',
    (c) => {
      c.process.cwd = '/' + 'd'.repeat(300);
    },
    /^cwd \/d{255}\.\.\.: file name too long$/m,
  ],
  [
    'a mount destination longer than a path may be',
    (c) => {
      c.mounts.push({ destination: '/' + 'm'.repeat(5000), type: 'tmpfs', source: 'tmpfs' });
    },
    /^mount: create mount point \/m{255}\.\.\.: file name too long$/m,
  ],
  [
    'missing rootfs',
    (c) => {
      c.root.path = '/nonexistent/rootfs';
    },
    /\/root\/path: rootfs \/nonexistent\/rootfs: no such file or directory/,
  ],
  [
    'missing executable',
    (c) => {
      c.process.args = ['/bin/nonexistent'];
    },
    /exec: \/bin\/nonexistent: no such file or directory/,
  ],
  [
    'executable not in PATH',
    (c) => {
      c.process.args = ['nonexistent'];
    },
    /exec: "nonexistent": executable file not found in \$PATH/,
  ],
  [
    'unknown capability',
    (c) => {
      c.process.capabilities.bounding.push('CAP_TEST');
    },
    /\/process\/capabilities\/bounding\/6: unknown capability "CAP_TEST"/,
  ],
  [
    'unknown rlimit',
    (c) => {
      c.process.rlimits = [{ type: 'RLIMIT_TEST', soft: 1, hard: 1 }];
    },
    /\/process\/rlimits\/0\/type: unknown rlimit "RLIMIT_TEST"/,
  ],
  [
    'bind source missing',
    (c) => {
      c.mounts.push({ destination: '/x', type: 'bind', source: '/nonexistent-src', options: ['bind'] });
    },
    /\/mounts\/5\/source: \/nonexistent-src: no such file or directory/,
  ],
  [
    'hostname without uts namespace',
    (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'uts');
    },
    /\/hostname: setting the hostname needs a uts namespace/,
  ],
  [
    'mount that fails in the kernel',
    (c) => {
      c.mounts.push({ destination: '/bad', type: 'nosuchfs', source: 'x' });
    },
    /nosuchfs on \/bad: no such device/,
  ],
  [
    'namespace path that is not a namespace',
    (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: '/etc/hostname' } : n));
    },
    /setns \/etc\/hostname: invalid argument/,
  ],
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
  const r = corral(root, [
    'create',
    '--bundle',
    bundle(baseConfig(), (cfg) => {
      (cfg.process as any).user.uid = 'root';
      (cfg.process as any).cwd = 5;
      (cfg as any).hostname = 7;
    }),
    c,
  ]);
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
  const r = corral(root, [
    'create',
    '--bundle',
    bundle(baseConfig(['sleep', '10']), (cfg) => {
      (cfg as any).hooks = {
        prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo boom >&2; exit 3'] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${dir}/poststop`] }],
      };
    }),
    c,
  ]);
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

t.test('no value of the config reaches a record of the plan as anything but itself', async (t) => {
  // More records of each kind than any fixed table would hold.
  const c = id('many');
  const args = Array.from({ length: 2000 }, (_, i) => `a${i}`);
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', 'echo $#; id -G | wc -w', 'sh', ...args]), (cfg) => {
      (cfg.process as any).user = { uid: 0, gid: 0, additionalGids: Array.from({ length: 300 }, (_, i) => 1000 + i) };
      (cfg.process as any).env.push(...Array.from({ length: 1000 }, (_, i) => `V${i}=${i}`));
      (cfg as any).linux.maskedPaths = Array.from({ length: 600 }, (_, i) => `/proc/nonexistent-${i}`);
    }),
    c,
  ]);
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(r.stdout, '2000\n301\n', '2000 arguments, 300 groups and gid 0');
  nothingLeft(t, c);
});

t.test('a deeply nested config is one line of error, not a stack', async (t) => {
  const c = id('deep');
  const dir = scratch('bundle-');
  const cfg = JSON.stringify(baseConfig()).replace(/}$/, `, "x": ${'['.repeat(10000)}${']'.repeat(10000)}}`);
  writeFileSync(join(dir, 'config.json'), cfg);
  const r = corral(root, ['create', '--bundle', dir, c]);
  t.equal(r.status, 1);
  t.match(messages(r.stderr), /^[^\n]*config\.json: invalid JSON: nested deeper than 128 levels \(at offset \d+\)$/);
  t.notMatch(r.stderr, /internal error|    at /, 'no stack');
  nothingLeft(t, c);
});

t.test('a config.json that is not a regular file is refused at once', async (t) => {
  const dir = scratch('bundle-');
  t.equal(spawnSync('mkfifo', [join(dir, 'config.json')]).status, 0);
  const c = id('fifo');
  const r = corral(root, ['create', '--bundle', dir, c], { timeout: 10_000 });
  t.equal(r.signal, null, 'does not hang on the FIFO');
  t.equal(r.status, 1);
  t.match(messages(r.stderr), /open .*\/config\.json: must be a regular file \(is a FIFO\)/);
  const d2 = scratch('bundle-');
  mkdirSync(join(d2, 'config.json'));
  t.match(messages(corral(root, ['create', '--bundle', d2, c]).stderr), /must be a regular file \(is a directory\)/);
  nothingLeft(t, c);
});

t.test('a number JSON cannot hold (1e400) is refused by its field', async (t) => {
  const c = id('inf');
  const dir = scratch('bundle-');
  const cfg = baseConfig() as any;
  cfg.hooks = { prestart: [{ path: '/bin/true', timeout: 12345 }] };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg).replace('12345', '1e400'));
  const r = corral(root, ['create', '--bundle', dir, c]);
  t.equal(r.status, 1);
  t.equal(messages(r.stderr).trim(), 'config.json: /hooks/prestart/0/timeout: number out of range');
  nothingLeft(t, c);
});

t.test('RLIMIT_NOFILE below what the init needs still starts the process with it', async (t) => {
  const c = id('nofile');
  const r = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['sh', '-c', 'ulimit -n; ulimit -Hn']), (cfg) => {
      (cfg.process as any).rlimits = [{ type: 'RLIMIT_NOFILE', soft: 0, hard: 1024 }];
    }),
    c,
  ]);
  t.equal(r.status, 0, messages(r.stderr));
  t.equal(r.stdout, '0\n1024\n');
  const both = corral(root, [
    'run',
    '--bundle',
    bundle(baseConfig(['true']), (cfg) => {
      (cfg.process as any).rlimits = [{ type: 'RLIMIT_NOFILE', soft: 0, hard: 0 }];
    }),
    id('nofile0'),
  ]);
  t.equal(both.status, 0, `soft and hard 0: ${messages(both.stderr)}`);
  nothingLeft(t, c);
});

t.test('a hook killed at its timeout takes what it started with it', async (t) => {
  const c = id('hookgroup');
  const marker = `7.${process.pid}1`;
  const r = corral(
    root,
    [
      'create',
      '--bundle',
      bundle(baseConfig(['true']), (cfg) => {
        (cfg as any).hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `sleep ${marker} & sleep ${marker}; wait`], timeout: 1 }] };
      }),
      c,
    ],
    { timeout: 20_000 },
  );
  t.equal(r.status, 1);
  t.match(messages(r.stderr), /prestart hook \/hooks\/prestart\/0 \(\/bin\/sh\): timed out after 1s/);
  t.same(processesWith(marker), [], 'neither the hook nor its child is left');
  nothingLeft(t, c);
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
  t.same(
    readdirSync(root).filter((n) => n.startsWith('unreadable')),
    [],
  );
});
