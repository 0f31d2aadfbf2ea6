// The systemd driver's translations: cgroupsPath → unit, linux.resources → unit
// properties, device rules → DeviceAllow, annotations → properties. (Talking to a real
// systemd is tested in test/integration/systemd.test.ts.)
import t from 'tap';
import { Variant } from '../../src/linux/dbus';
import {
  annotationProperty,
  cpuMask,
  deviceProperties,
  INFINITY,
  majorVersion,
  procDevices,
  quotaPerSec,
  resourceProperties,
  systemdUnitName,
} from '../../src/linux/cgroups/systemd';
import { DEFAULT_RULES } from '../../src/linux/cgroups/devices';

const v = (sig: string, value: unknown) => new Variant(sig, value);

t.test('cgroupsPath in the slice:prefix:name form', async (t) => {
  t.same(systemdUnitName('system.slice:docker:abc', 'x'), { slice: 'system.slice', unit: 'docker-abc.scope' });
  t.same(systemdUnitName(undefined, 'c1'), { slice: 'system.slice', unit: 'corral-c1.scope' }, 'the default, as runc with its own name');
  t.same(systemdUnitName('-:p:n', 'x'), { slice: '-.slice', unit: 'p-n.scope' }, '"-" is the root slice');
  t.same(systemdUnitName('machine-app.slice::n', 'x'), { slice: 'machine-app.slice', unit: 'n.scope' }, 'no prefix');
  t.throws(() => systemdUnitName('/corral/x', 'x'), /cgroupsPath: "\/corral\/x" is not of the form "slice:prefix:name"/);
  t.throws(() => systemdUnitName('a/b.slice:p:n', 'x'), /not a systemd slice name/);
  t.throws(() => systemdUnitName('system:p:n', 'x'), /not a systemd slice name/);
  t.throws(() => systemdUnitName('system.slice:p:', 'x'), /has no name/);
  t.throws(() => systemdUnitName('system.slice:p:pod.slice', 'x'), /names a slice; corral puts a container in a scope unit/);
  t.throws(() => systemdUnitName('system.slice:p:a b', 'x'), /not a valid systemd unit name/);
});

t.test('values systemd keeps its own way', async (t) => {
  t.same([...cpuMask('0-2,9')], [0b111, 0b10], 'AllowedCPUs: byte i has cpus 8i..8i+7, lowest bit first');
  t.same([...cpuMask('')], []);
  t.equal(quotaPerSec(50000, 100000), 500000n, 'half a CPU = 500 ms per second');
  t.equal(quotaPerSec(12345, 100000), 130000n, 'rounded up to 10 ms (systemd keeps percents)');
  t.equal(quotaPerSec(-1, 100000), INFINITY);
  t.equal(majorVersion('252.39-1~deb12u2'), 252);
  t.equal(majorVersion('v255'), 0, 'not a number: 0, so no newer property is sent');
});

t.test('resources as unit properties', async (t) => {
  const r = {
    memory: { limit: 104857600, reservation: 52428800, swap: 209715200 },
    cpu: { shares: 1024, quota: 50000, period: 200000, cpus: '0-1', mems: '0' },
    pids: { limit: 20 },
    blockIO: { weight: 500 },
  };
  t.same(
    resourceProperties(r, false, 252),
    [
      ['MemoryLimit', v('t', 104857600n)],
      ['CPUShares', v('t', 1024n)],
      ['BlockIOWeight', v('t', 500n)],
      ['TasksMax', v('t', 20n)],
      ['CPUQuotaPerSecUSec', v('t', 250000n)],
      ['CPUQuotaPeriodUSec', v('t', 200000n)],
      ['AllowedCPUs', v('ay', Buffer.from([3]))],
      ['AllowedMemoryNodes', v('ay', Buffer.from([1]))],
    ],
    'v1: the legacy names',
  );
  t.same(
    resourceProperties(r, true, 252).slice(0, 5),
    [
      ['MemoryMax', v('t', 104857600n)],
      ['MemoryLow', v('t', 52428800n)],
      ['MemorySwapMax', v('t', 104857600n)],
      ['CPUWeight', v('t', 39n)],
      ['IOWeight', v('t', 4950n)],
    ],
    'v2: the unified names, with the cgroupfs conversions (swap is memory+swap in the spec)',
  );
  t.same(
    resourceProperties(r, false, 241).map(([n]) => n),
    ['MemoryLimit', 'CPUShares', 'BlockIOWeight', 'TasksMax', 'CPUQuotaPerSecUSec'],
    'what an older systemd does not know is not sent',
  );
  t.same(
    resourceProperties({ memory: { limit: -1 }, pids: { limit: -1 } }, true, 252),
    [
      ['MemoryMax', v('t', INFINITY)],
      ['TasksMax', v('t', INFINITY)],
    ],
    '-1 is infinity',
  );
  t.same(
    resourceProperties({ unified: { 'memory.high': '1000000', 'cpu.max': 'max 50000', 'pids.max': 'max', 'io.latency': '8:0 target=10' } }, true, 252),
    [
      ['MemoryHigh', v('t', 1000000n)],
      ['CPUQuotaPerSecUSec', v('t', INFINITY)],
      ['CPUQuotaPeriodUSec', v('t', 50000n)],
      ['TasksMax', v('t', INFINITY)],
    ],
    'unified keys systemd has a property for (the rest go to the files only)',
  );
  t.same(resourceProperties({ unified: { 'memory.high': '1' } }, false, 252), [], 'no unified keys on v1');
});

t.test('device rules as DeviceAllow', async (t) => {
  const names = procDevices('Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n');
  t.equal(names('c', 136), 'pts');
  t.equal(names('b', 8), 'sd');
  t.equal(names('b', 1), undefined);
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  const deny = { allow: false, type: 'a' };
  t.same(
    deviceProperties([deny, ...DEFAULT_RULES], names, warn),
    [
      ['DevicePolicy', v('s', 'strict')],
      [
        'DeviceAllow',
        v('a(ss)', [
          ['char-*', 'm'],
          ['block-*', 'm'],
          ['/dev/char/1:3', 'rwm'],
          ['/dev/char/1:8', 'rwm'],
          ['/dev/char/1:7', 'rwm'],
          ['/dev/char/5:0', 'rwm'],
          ['/dev/char/1:5', 'rwm'],
          ['/dev/char/1:9', 'rwm'],
          ['char-pts', 'rwm'],
          ['/dev/char/5:2', 'rwm'],
          ['/dev/char/10:200', 'rwm'],
        ]),
      ],
    ],
    "runc's defaults, each as systemd names it",
  );
  t.same(warnings, []);
  t.same(
    deviceProperties([deny, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }], names, warn)[1],
    ['DeviceAllow', v('a(ss)', [['/dev/char/1:3', 'r']])],
    'a deny takes its access back, as the v1 controller does',
  );
  t.same(
    deviceProperties([deny, { allow: true, access: 'rwm' }], names, warn),
    [
      ['DevicePolicy', v('s', 'auto')],
      ['DeviceAllow', v('a(ss)', [])],
    ],
    'allow all',
  );
  t.same(warnings, []);
  deviceProperties([deny, { allow: true }, { allow: false, type: 'b', major: 8, minor: null, access: 'w' }], names, warn);
  t.match(warnings[0], /cannot express deny rules under an allow-all/, 'a deny under allow-all is reported');
  t.same(deviceProperties([deny, { allow: true, type: 'c', major: 250, minor: null, access: 'r' }], names, warn)[1], ['DeviceAllow', v('a(ss)', [])]);
  t.match(warnings[1], /no name for c 250:\*/, 'a major /proc/devices does not name is reported');
});

t.test('org.systemd.property annotations in GVariant text', async (t) => {
  const p = (s: string) => annotationProperty('org.systemd.property.X', s)[1];
  t.same(annotationProperty('org.systemd.property.TimeoutStopUSec', 'uint64 123456789'), ['TimeoutStopUSec', v('t', 123456789n)]);
  t.same(p("'inactive-or-failed'"), v('s', 'inactive-or-failed'));
  t.same(p('"a \\"b\\""'), v('s', 'a "b"'));
  t.same(p('@t 5'), v('t', 5n));
  t.same(p('uint32 7'), v('u', 7));
  t.same(p('true'), v('b', true));
  t.same(p('boolean false'), v('b', false));
  t.same(p('42'), v('i', 42), 'a bare integer is an int32, as GVariant reads it');
  t.same(p("['a.service', 'b.service']"), v('as', ['a.service', 'b.service']));
  t.same(p('[]'), v('as', []));
  t.throws(() => p('uint64 x'), /org.systemd.property.X: cannot read "uint64 x" as GVariant text of type t/);
  t.throws(() => p('{1: 2}'), /cannot read/);
  t.throws(() => annotationProperty('org.systemd.property.lower', '1'), /"lower" is not a systemd property name/);
});
