// process.terminal with --console-socket: the pty master reaches the socket (as
// containerd's and conmon's receive it), the slave is the process's stdio and
// controlling terminal, consoleSize applies, /dev/console is the pty.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, baseConfig, bundle, cleanup, corral, messages, scratch, sleep, stateRoot } from '../lib/corral';

const root = stateRoot();
const ids: string[] = [];
const id = (name: string) => (ids.push(`${name}-${process.pid}`), `${name}-${process.pid}`);
t.teardown(() => cleanup(root, ids));

/** Starts the test console socket; resolves with everything it printed once the pty hangs up. */
function consoleSocket(typed = ''): { path: string; output: Promise<string> } {
  const path = join(scratch('console-'), 'console.sock');
  const p = spawn('python3', [join(ROOT, 'test/lib/console-socket.py'), path, ...(typed ? [typed] : [])]);
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  // 'close', not 'exit': the exit can come before the last of its stdout is read.
  const output = new Promise<string>((resolve) => p.on('close', () => resolve(out)));
  for (let i = 0; i < 300 && !existsSync(path); i++) sleep(10);
  return { path, output };
}

t.test('the init gets a pty through the console socket', async (t) => {
  const c = id('tty');
  const sock = consoleSocket();
  const b = bundle(baseConfig(['sh', '-c', 'tty; stty size; readlink /proc/self/fd/0; [ -t 1 ] && echo is-a-tty; ls -l /dev/console']), (cfg) => {
    cfg.process.terminal = true;
    cfg.process.consoleSize = { height: 33, width: 111 };
  });
  const r = corral(root, ['run', '--detach', '--console-socket', sock.path, '--bundle', b, c]);
  t.equal(r.status, 0, r.stderr);
  const out = (await sock.output).replace(/\r/g, '');
  t.match(out, /^listening\nname=\/dev\/pts\/0\n/, 'one fd, the pty name as data');
  t.match(out, /\n\/dev\/pts\/0\n33 111\n\/dev\/pts\/0\nis-a-tty\n/, 'stdio is the pty, with consoleSize');
  t.match(out, /c[-rwx]+\s+1 \S+\s+\S+\s+136,\s+0 .*\/dev\/console/, '/dev/console is the pty');
});

t.test('exec --tty sends its own pty and takes input from it', async (t) => {
  const c = id('exectty');
  t.equal(corral(root, ['run', '--detach', '--bundle', bundle(baseConfig(['sleep', '30'])), c]).status, 0);
  const sock = consoleSocket('echo typed-$((6*7)); exit 4\n');
  const r = corral(root, ['exec', '--tty', '--console-socket', sock.path, c, 'sh']);
  t.equal(r.status, 4, 'the shell read "exit 4" from the pty');
  t.match((await sock.output).replace(/\r/g, ''), /\ntyped-42\n/);
});

t.test('a terminal needs a console socket', async (t) => {
  const c = id('nosock');
  const b = bundle(baseConfig(['true']), (cfg) => {
    cfg.process.terminal = true;
  });
  const r = corral(root, ['create', '--bundle', b, c]);
  t.equal(r.status, 1);
  t.match(messages(r.stderr), /cannot allocate tty if runc will detach without setting console socket/);
  const missing = corral(root, ['create', '--console-socket', '/nonexistent.sock', '--bundle', b, c]);
  t.equal(missing.status, 1);
  t.match(messages(missing.stderr), /connect console socket \/nonexistent.sock: no such file or directory/);
  t.notOk(existsSync(join(root, c)), 'nothing left');
});

// corral needs a terminal of its own: python's pty module gives it one, types a line and
// prints what came out.
const OWN_TTY = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
time.sleep(1.0)
os.write(fd, b'typed-line\\r')
out = b''
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace'))
sys.exit(os.waitstatus_to_exitcode(st))
`;
const onOwnTty = (args: string[]) =>
  spawnSync('python3', ['-c', OWN_TTY, join(ROOT, 'bin/corral'), '--root', root, ...args], { encoding: 'utf8', timeout: 30_000 }) as { status: number; stdout: string };

t.test('run of a terminal container without --console-socket attaches our terminal', async (t) => {
  const c = id('own');
  const b = bundle(baseConfig(['sh', '-c', 'tty; read x; echo got:$x; exit 3']), (cfg) => {
    cfg.process.terminal = true;
  });
  const r = onOwnTty(['run', '--bundle', b, c]);
  t.equal(r.status, 3, "the container's status");
  const out = (r.stdout as string).replace(/\r/g, '');
  t.match(out, /^\/dev\/pts\/\d+\n/, 'its stdio is a pty');
  t.match(out, /got:typed-line\n/, 'what we typed reached it');
  t.notOk(existsSync(join(root, c)), 'deleted after it exited');
});

t.test('exec -t without --console-socket attaches our terminal, as runc: a session leader with the pty as its controlling terminal', async (t) => {
  const c = id('exec-own');
  t.equal(corral(root, ['run', '--detach', '--bundle', bundle(baseConfig(['sleep', '30'])), c]).status, 0);
  // pid, pgrp, session, tty and the terminal's foreground group (/proc/PID/stat 1, 5-8).
  const r = onOwnTty(['exec', '-t', c, 'sh', '-c', 'tty; cut -d" " -f1,5,6,7,8 /proc/$$/stat; read x; echo got:$x; exit 3']);
  t.equal(r.status, 3, "the process's status");
  const out = r.stdout.replace(/\r/g, '');
  t.match(out, /^\/dev\/pts\/\d+\n/, 'its stdio is a pty');
  const [pid, pgrp, sid, ttyNr, tpgid] = out.split('\n')[1].split(' ').map(Number);
  t.equal(pgrp, pid, 'its own process group');
  t.equal(sid, pid, 'a session leader');
  t.not(ttyNr, 0, 'with a controlling terminal');
  t.equal(tpgid, pid, 'in the foreground');
  t.match(out, /got:typed-line\n/, 'what we typed reached it');
  const d = corral(root, ['exec', '-t', '-d', c, 'true']);
  t.equal(d.status, 1);
  t.match(messages(d.stderr), /cannot allocate tty if runc will detach without setting console socket/);
});
