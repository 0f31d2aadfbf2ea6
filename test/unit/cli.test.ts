// bin/corral's command line: flags, usage errors, log formats, spec, features, and
// the commands on containers that do not exist. None of this starts a container.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants } from 'node:os';
import { isCorralError } from '../../src/base/errors';
import { COMMANDS } from '../../src/commands/table';
import { parseSignal } from '../../src/lifecycle/signals';
import { CAPABILITIES, kernelLastCap } from '../../src/linux/capabilities';
import { configProblems } from '../../src/spec/validate';
import { CORRAL, ROOT, messages } from '../lib/corral';

const tmp = mkdtempSync(join(tmpdir(), 'corral-cli-'));
const root = join(tmp, 'root');
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs bin/corral with pipes (nothing here leaves a process holding them). */
function run(args: string[], cwd = tmp): Result {
  const r = spawnSync(CORRAL, args, { cwd, encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const LOG_LINE = /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=error msg=".*"$/;

/** A usage or runtime error: exit 1, nothing on stdout, one runc-style log line on stderr with msg. */
function failsWith(t: Test, r: Result, msg: string | RegExp): void {
  t.equal(r.status, 1, 'exit status 1');
  t.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.split('\n').filter(Boolean);
  t.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
  t.match(lines[0], LOG_LINE);
  if (typeof msg === 'string') t.equal(messages(r.stderr), msg);
  else t.match(messages(r.stderr), msg);
}

t.test('--version', async (t) => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  for (const flag of ['--version', '-v']) {
    const r = run([flag]);
    t.equal(r.status, 0);
    t.equal(r.stderr, '');
    t.match(r.stdout, new RegExp(`^corral version ${version.replace(/\./g, '\\.')}\nspec: 1\\.3\\.0\n`));
  }
});

t.test('--help lists the commands and global flags, as runc lays them out', async (t) => {
  for (const args of [['--help'], ['-h'], ['help'], ['h'], []]) {
    const r = run(args);
    t.equal(r.status, 0, args.join(' '));
    t.equal(r.stderr, '');
    // crun's test_help_command looks for "usage:" (runc's help has "USAGE:").
    t.match(r.stdout, /^NAME:\n   corral - /);
    t.match(r.stdout, /\nUSAGE:\n   corral \[global options\] command \[command options\] \[arguments\.\.\.\]\n/);
    for (const c of COMMANDS) t.match(r.stdout, new RegExp(`\n   ${c.name} +${c.desc.slice(0, 10)}`), c.name);
    t.match(r.stdout, /\n   help, h +Shows a list of commands or help for one command\n/);
    for (const f of ['--root value', '--log value', '--log-format value', '--debug', '--systemd-cgroup', '--rootless value']) t.match(r.stdout, `\n   ${f} `);
  }
});

t.test('help for one command', async (t) => {
  const r = run(['help', 'kill']);
  t.equal(r.status, 0);
  t.equal(r.stderr, '');
  t.match(r.stdout, /^NAME:\n   corral kill - kill sends/);
  t.match(r.stdout, /\nUSAGE:\n   corral kill \[command options\] <container-id> \[signal\]\n/);
  t.match(r.stdout, /\nOPTIONS:\n   --all, -a +send the specified signal/);
  t.notMatch(r.stdout, /--root/, 'not the global flags');
  t.equal(run(['kill', '--help']).stdout, r.stdout, 'kill --help says the same');
  t.match(run(['delete', '-h']).stdout, /--force, -f/);
  t.match(run(['help', 'create']).stdout, /--bundle value, -b value +path to the root of the bundle/);
  failsWith(t, run(['help', 'frobnicate']), "No help topic for 'frobnicate'");
});

t.test('unknown command', async (t) => {
  failsWith(t, run(['frobnicate']), "No help topic for 'frobnicate'");
});

t.test('unknown flags', async (t) => {
  failsWith(t, run(['-x', 'state', 'a']), 'flag provided but not defined: -x');
  failsWith(t, run(['--root', root, 'state', '-x', 'a']), 'flag provided but not defined: -x');
  failsWith(t, run(['--root', root, 'kill', '--bogus', 'a']), 'flag provided but not defined: -bogus');
  failsWith(t, run(['--root', root, 'state', '--force', 'a']), 'flag provided but not defined: -force'); // a flag of another command
});

t.test('argument counts', async (t) => {
  failsWith(t, run(['--root', root, 'state']), 'corral: "state" requires a minimum of 1 argument(s)');
  failsWith(t, run(['--root', root, 'kill']), 'corral: "kill" requires a minimum of 1 argument(s)');
  failsWith(t, run(['--root', root, 'state', 'a', 'b']), 'corral: "state" requires a maximum of 1 argument(s)');
  failsWith(t, run(['--root', root, 'kill', 'a', 'KILL', 'extra']), 'corral: "kill" requires a maximum of 2 argument(s)');
  failsWith(t, run(['--root', root, 'features', 'x']), 'corral: "features" requires a maximum of 0 argument(s)');
});

t.test('--log FILE --log-format json: one JSON line, and the plain message on stderr as runc', async (t) => {
  const log = join(tmp, 'log.json');
  const r = run(['--root', root, '--log', log, '--log-format', 'json', 'state', 'nope']);
  t.equal(r.status, 1);
  t.equal(r.stderr, 'container does not exist\n', 'the containerd shim classifies errors by this');
  t.equal(r.stdout, '');
  const lines = readFileSync(log, 'utf8').split('\n');
  t.equal(lines.length, 2, 'one line and a final newline');
  t.equal(lines[1], '');
  const rec = JSON.parse(lines[0]) as Record<string, string>;
  t.same(Object.keys(rec).sort(), ['level', 'msg', 'time']);
  t.equal(rec.level, 'error');
  t.equal(rec.msg, 'container does not exist');
  t.match(rec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.ok(Math.abs(Date.parse(rec.time) - Date.now()) < 60_000, 'the time is now');
  run(['--root', root, '--log', log, '--log-format', 'json', 'kill', 'nope']);
  t.equal(readFileSync(log, 'utf8').split('\n').filter(Boolean).length, 2, 'appended');
});

t.test('--log FILE in text format', async (t) => {
  const log = join(tmp, 'log.txt');
  const r = run(['--root', root, '--log', log, 'state', 'nope']);
  t.equal(r.status, 1);
  t.equal(r.stderr, 'container does not exist\n');
  const text = readFileSync(log, 'utf8');
  t.match(text.trimEnd(), LOG_LINE);
  t.equal(messages(text), 'container does not exist');
});

t.test('a --log file that cannot be opened: one error line on stderr, exit 1, as runc', async (t) => {
  failsWith(t, run(['--root', root, '--log', '/nonexistent-dir/corral.log', 'list']), 'open /nonexistent-dir/corral.log: no such file or directory');
  failsWith(t, run(['--root', root, '--log', tmp, 'state', 'nope']), `open ${tmp}: is a directory`);
});

t.test('a bad --log-format', async (t) => {
  failsWith(t, run(['--log-format', 'xml', 'state', 'a']), 'invalid log format: xml (one of: text, json)');
});

t.test('spec writes a valid config.json and refuses to overwrite it', async (t) => {
  const dir = mkdtempSync(join(tmp, 'spec-'));
  const r = run(['spec'], dir);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, '');
  t.equal(r.stderr, '');
  const file = join(dir, 'config.json');
  const text = readFileSync(file, 'utf8');
  const c = JSON.parse(text) as Record<string, any>;
  t.same(configProblems(c), []);
  t.equal(c.ociVersion, '1.3.0');
  t.equal(c.root.path, 'rootfs');
  t.same(c.process.args, ['sh']);
  t.notOk(c.linux.namespaces.some((n: { type: string }) => n.type === 'user'));
  t.ok(text.endsWith('}\n'));
  const again = run(['spec'], dir);
  failsWith(t, again, `File ${file} exists. Remove it first`);
  t.equal(readFileSync(file, 'utf8'), text, 'left as it was');
  const other = mkdtempSync(join(tmp, 'spec-b-'));
  t.equal(run(['spec', '--bundle', other]).status, 0, '--bundle');
  t.ok(existsSync(join(other, 'config.json')));
  writeFileSync(join(other, 'config.json'), '{}');
  failsWith(t, run(['spec', '-b', other]), `File ${join(other, 'config.json')} exists. Remove it first`);
});

t.test('spec --rootless', async (t) => {
  const dir = mkdtempSync(join(tmp, 'spec-rootless-'));
  const r = run(['spec', '--rootless'], dir);
  t.equal(r.status, 0, r.stderr);
  const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, any>;
  t.same(configProblems(c), []);
  const types = (c.linux.namespaces as { type: string }[]).map((n) => n.type);
  t.ok(types.includes('user'));
  t.notOk(types.includes('network'));
  t.same(c.linux.uidMappings, [{ containerID: 0, hostID: process.getuid!(), size: 1 }]);
  t.same(c.linux.gidMappings, [{ containerID: 0, hostID: process.getgid!(), size: 1 }]);
  t.notOk(c.linux.resources, 'no cgroup resources');
  t.notOk((c.mounts as { destination: string }[]).some((m) => m.destination === '/sys/fs/cgroup'));
  const sys = (c.mounts as { destination: string; options: string[] }[]).find((m) => m.destination === '/sys');
  t.ok(sys?.options.includes('rbind'), '/sys is bound from the host');
});

t.test('features', async (t) => {
  const r = run(['features']);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '');
  const f = JSON.parse(r.stdout) as Record<string, any>;
  t.equal(f.ociVersionMin, '1.0.0');
  t.equal(f.ociVersionMax, '1.3.0');
  t.same(f.hooks, ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
  t.ok(Array.isArray(f.mountOptions));
  t.same(f.mountOptions, [...f.mountOptions].sort(), 'sorted');
  for (const o of ['ro', 'rw', 'bind', 'rbind', 'nosuid', 'rprivate', 'rslave', 'strictatime']) t.ok(f.mountOptions.includes(o), o);
  for (const o of ['idmap', 'rro']) t.notOk(f.mountOptions.includes(o), `not ${o}`);
  t.ok(f.mountOptions.includes('tmpcopyup'), "tmpcopyup (runc's extension)");
  t.same([...f.linux.namespaces].sort(), ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']);
  t.same(f.linux.capabilities, CAPABILITIES.slice(0, kernelLastCap() + 1));
  t.ok(f.linux.capabilities.includes('CAP_SYS_ADMIN'));
  t.same(f.linux.cgroup.v1, true, 'both drivers are built in');
  t.same(f.linux.cgroup.v2, true);
  t.equal(f.linux.cgroup.systemd, true, 'the systemd driver (D-Bus)');
  t.equal(f.linux.cgroup.systemdUser, false, 'not for rootless systemd --user');
  t.equal(f.annotations['org.opencontainers.runtime-spec.features'], 'corral');
  // runc reports its libseccomp, version and checkpoint support; corral the same, under its names.
  t.match(f.annotations['io.github.seccomp.libseccomp.version'], /^\d+\.\d+\.\d+$/);
  t.equal(f.annotations['corral.version'], (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  t.equal(f.annotations['corral.checkpoint.enabled'], 'false');
  t.ok(f.linux.memoryPolicy.modes.includes('MPOL_BIND') && f.linux.memoryPolicy.flags.includes('MPOL_F_STATIC_NODES'), 'memoryPolicy modes and flags');
  t.same(f.potentiallyUnsafeConfigAnnotations, ['org.systemd.property.'], "what changes corral's behaviour (features.md)");
});

t.test('commands on a container that does not exist', async (t) => {
  for (const cmd of [
    ['state', 'ghost'],
    ['kill', 'ghost'],
    ['kill', 'ghost', 'KILL'],
    ['delete', 'ghost'],
    ['start', 'ghost'],
  ])
    failsWith(t, run(['--root', root, ...cmd]), 'container does not exist');
  const force = run(['--root', root, 'delete', '--force', 'ghost']);
  t.equal(force.status, 0);
  t.equal(force.stderr, '');
  t.equal(run(['--root', root, 'delete', '-f', 'ghost']).status, 0);
  failsWith(t, run(['--root', root, 'state', '../x']), 'invalid container id format: ../x');
});

t.test('list on an empty root', async (t) => {
  t.equal(run(['--root', root, 'list', '-q']).stdout, '');
  t.equal(run(['--root', root, 'list', '--format', 'json']).stdout, '[]\n');
  t.match(run(['--root', root, 'list']).stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\n$/);
  failsWith(t, run(['--root', root, 'list', '--format', 'yaml']), 'invalid format option: yaml (one of: table, json)');
});

// ---------------------------------------------------------------- signals

t.test('parseSignal', async (t) => {
  t.equal(parseSignal('KILL'), 9);
  t.equal(parseSignal('SIGKILL'), 9);
  t.equal(parseSignal('9'), 9);
  t.equal(parseSignal('sigterm'), 15);
  t.equal(parseSignal('term'), 15);
  t.equal(parseSignal('HUP'), constants.signals.SIGHUP);
  t.equal(parseSignal('USR1'), constants.signals.SIGUSR1);
  t.equal(parseSignal(undefined), 15, 'the default is SIGTERM');
  t.equal(parseSignal(''), 15);
  t.equal(parseSignal('64'), 64);
  t.equal(parseSignal('RTMIN'), 34);
  t.equal(parseSignal('RTMIN+1'), 35);
  t.equal(parseSignal('sigrtmin+2'), 36);
  t.equal(parseSignal('SIGRTMAX'), 64);
  t.equal(parseSignal('RTMAX-1'), 63);
  for (const bad of ['BOGUS', 'SIGBOGUS', '0', '65', '-9', '9x', 'RTMIN+x', 'KILL9']) {
    t.throws(() => parseSignal(bad), { message: `unknown signal "${bad}"` }, bad);
    try {
      parseSignal(bad);
    } catch (e) {
      t.ok(isCorralError(e), `${bad}: a CorralError`);
    }
  }
});

t.test('parseSignal: real-time signals past SIGRTMAX are errors', async (t) => {
  t.throws(() => parseSignal('RTMIN+31'), { message: 'unknown signal "RTMIN+31"' });
  t.throws(() => parseSignal('RTMIN+40'), { message: 'unknown signal "RTMIN+40"' });
  t.throws(() => parseSignal('RTMAX-40'), { message: 'unknown signal "RTMAX-40"' });
});

t.test("a lone - is a string flag's value, as containerd passes it", async (t) => {
  for (const args of [
    ['update', '--resources', '-', 'nope'],
    ['update', '-r', '-', 'nope'],
    ['update', '--resources=-', 'nope'],
  ]) {
    const r = run(['--root', root, ...args]);
    t.equal(r.status, 1, args.join(' '));
    t.equal(messages(r.stderr), 'container does not exist', `${args.join(' ')}: the id is the only argument`);
  }
});
