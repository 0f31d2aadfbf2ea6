// corral's D-Bus client against a real dbus-daemon (a private one, on a socket of this
// test's own): dbus-daemon checks every message it routes against its signature, so a
// marshalling mistake is refused there rather than passed between two copies of our code.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bus, DBusError, decodeMessage, encodeMessage, MsgType, splitSig, systemBusPath, Variant } from '../../src/linux/dbus';

t.test('signatures split into complete types', async (t) => {
  t.same(splitSig('ssa(sv)a(sa(sv))'), ['s', 's', 'a(sv)', 'a(sa(sv))']);
  t.same(splitSig('a{sv}uo'), ['a{sv}', 'u', 'o']);
  t.throws(() => splitSig('a(s'), /bad D-Bus signature/);
  t.throws(() => splitSig('z'), /bad D-Bus signature/);
});

t.test('a message survives encoding and decoding', async (t) => {
  const body = [
    'corral-x.scope',
    'replace',
    [
      ['PIDs', new Variant('au', [42])],
      ['MemoryLimit', new Variant('t', 2n ** 64n - 1n)],
      ['AllowedCPUs', new Variant('ay', Buffer.from([5]))],
      ['Delegate', new Variant('b', true)],
    ],
    [],
  ];
  const buf = encodeMessage({ type: MsgType.Call, serial: 7, path: '/org/freedesktop/systemd1', member: 'StartTransientUnit', signature: 'ssa(sv)a(sa(sv))', body });
  const m = decodeMessage(buf);
  t.equal(m.serial, 7);
  t.equal(m.member, 'StartTransientUnit');
  t.same(m.body, body, 'variants, 64-bit values, byte arrays and empty arrays come back as they went');
});

t.test('the system bus address', async (t) => {
  t.equal(systemBusPath({}), '/run/dbus/system_bus_socket');
  t.equal(systemBusPath({ DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/run/x%2dy/sock' }), '/run/x-y/sock');
  t.equal(systemBusPath({ DBUS_SYSTEM_BUS_ADDRESS: 'tcp:host=a;unix:guid=1,path=/p' }), '/p');
});

t.test('talking to a real dbus-daemon', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-dbus-'));
  const sock = join(dir, 'bus');
  const d = spawnSync('dbus-daemon', ['--session', `--address=unix:path=${sock}`, '--fork', '--print-pid'], { encoding: 'utf8' });
  t.equal(d.status, 0, `dbus-daemon started ${d.stderr}`);
  const daemon = Number(d.stdout.trim());
  t.teardown(() => {
    try {
      process.kill(daemon, 'SIGTERM');
    } catch {
      // gone
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const a = Bus.connect(sock, true);
  const b = Bus.connect(sock, true);
  t.teardown(() => (a.close(), b.close()));
  const names = a.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'ListNames')[0] as string[];
  t.ok(names.includes('org.freedesktop.DBus'), 'ListNames answers');
  const creds = a.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetConnectionCredentials', 's', 'org.freedesktop.DBus')[0] as [string, Variant][];
  t.same(creds.find(([k]) => k === 'UnixUserID')?.[1], new Variant('u', 0), 'a{sv} replies decode');
  let err: unknown;
  try {
    a.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'GetNameOwner', 's', 'no.such.name');
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof DBusError && err.name === 'org.freedesktop.DBus.Error.NameHasNoOwner', 'errors come back as DBusError with their name');

  // b is the peer: a sends it systemd's call, routed (and checked) by the daemon.
  const bName = b.call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'RequestName', 'su', 'test.corral.Peer', 4);
  t.same(bName, [1], 'the peer owns its name');
  const props = [
    ['Slice', new Variant('s', 'system.slice')],
    ['PIDs', new Variant('au', [1, 2])],
    ['CPUQuotaPerSecUSec', new Variant('t', 2n ** 64n - 1n)],
    [
      'DeviceAllow',
      new Variant('a(ss)', [
        ['/dev/char/1:3', 'rwm'],
        ['char-pts', 'rw'],
      ]),
    ],
    ['AllowedCPUs', new Variant('ay', Buffer.from([3]))],
    ['Delegate', new Variant('b', true)],
  ];
  a.send({
    type: MsgType.Call,
    destination: 'test.corral.Peer',
    path: '/org/freedesktop/systemd1',
    interface: 'org.freedesktop.systemd1.Manager',
    member: 'StartTransientUnit',
    signature: 'ssa(sv)a(sa(sv))',
    body: ['x.scope', 'replace', props, []],
  });
  let got;
  do got = b.next();
  while (got.member !== 'StartTransientUnit');
  t.same(got.body, ['x.scope', 'replace', props, []], 'the peer reads what was sent, after the daemon checked it');
  const sender = got.sender!;
  b.send({
    type: MsgType.Signal,
    path: '/org/freedesktop/systemd1',
    interface: 'org.freedesktop.systemd1.Manager',
    member: 'JobRemoved',
    destination: sender,
    signature: 'uoss',
    body: [1, '/job/1', 'x.scope', 'done'],
  });
  b.send({ type: MsgType.Return, replySerial: got.serial, destination: sender, signature: 'o', body: ['/job/1'] });
  const sig = a.waitSignal((m) => m.member === 'JobRemoved');
  t.same(sig.body, [1, '/job/1', 'x.scope', 'done'], 'waitSignal finds the signal among the messages that arrive');
});
