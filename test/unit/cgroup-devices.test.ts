// Device rules for cgroup v2: the emulation of the v1 controller the eBPF program is
// compiled from, and the program's encoding. (Loading it into the kernel is tested in
// test/integration/cgroups.test.ts, on this host's cgroup2 hierarchy.)
import t from 'tap';
import type { DeviceRule } from '../../src/spec/types';
import { compile, deviceProgram, emulate, permits, type DeviceState } from '../../src/linux/cgroups/devices-v2';

const M = 1;
const Rd = 2;
const W = 4;
const field = (i: number) => `/linux/resources/devices/${i}`;
const st = (rules: DeviceRule[]) => emulate([{ allow: false, type: 'a' }, ...rules], field);

t.test('the v1 controller emulated', async (t) => {
  let s = st([
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'm' },
  ]);
  t.same(s, { defaultAllow: false, exceptions: [{ type: 'c', major: 1, minor: 3, access: M | Rd | W }] }, 'identical allows merge');
  t.ok(permits(s, 'c', 1, 3, Rd | W));
  t.notOk(permits(s, 'c', 1, 5, Rd), 'denied by default');
  t.notOk(permits(s, 'b', 1, 3, Rd), 'the type counts');
  s = st([
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
  ]);
  t.same(s.exceptions, [{ type: 'c', major: 1, minor: 3, access: M | Rd }], 'a deny takes its access out of the identical exception');
  t.notOk(permits(s, 'c', 1, 3, Rd | W), 'all of the access must be covered');
  t.ok(permits(s, 'c', 1, 3, Rd));
  s = st([
    { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'r' },
  ]);
  t.same(s.exceptions, [], 'an exception with no access left goes');
  s = st([
    { allow: true, type: 'c', major: null, minor: null, access: 'm' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'm' },
  ]);
  t.ok(permits(s, 'c', 1, 3, M), 'a deny of one device does not punch a hole in a wildcard (as v1)');
  t.ok(permits(s, 'c', 136, 7, M), 'wildcards');
  s = st([
    { allow: true, access: 'rwm' },
    { allow: false, type: 'b', major: 8, minor: null, access: 'w' },
  ]);
  t.same(s, { defaultAllow: true, exceptions: [{ type: 'b', major: 8, minor: -1, access: W }] }, '"a" resets: allow by default, exceptions deny');
  t.notOk(permits(s, 'b', 8, 1, Rd | W), 'any overlap with a deny exception is denied');
  t.ok(permits(s, 'b', 8, 1, Rd));
  t.ok(permits(s, 'c', 1, 1, M | Rd | W));
  t.throws(() => st([{ allow: true, type: 'x', access: 'r' }]), /\/linux\/resources\/devices\/1\/type: unknown device type "x"/);
  t.throws(() => st([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rx' }]), /\/linux\/resources\/devices\/1\/access: unknown device access "x"/);
});

/** Runs a compiled program on a request, as the kernel would: a tiny interpreter of the instructions used. */
function run(prog: Buffer, type: number, access: number, major: number, minor: number): number {
  const r = new Array<number>(11).fill(0);
  const ctx = [(access << 16) | type, major, minor];
  for (let pc = 0; pc < prog.length / 8;) {
    const code = prog.readUInt8(pc * 8);
    const dst = prog.readUInt8(pc * 8 + 1) & 0xf;
    const src = prog.readUInt8(pc * 8 + 1) >> 4;
    const off = prog.readInt16LE(pc * 8 + 2);
    const imm = prog.readInt32LE(pc * 8 + 4);
    pc++;
    switch (code) {
      case 0x61:
        r[dst] = ctx[off / 4] >>> 0;
        break;
      case 0x54:
        r[dst] = (r[dst] & imm) >>> 0;
        break;
      case 0x74:
        r[dst] = r[dst] >>> imm;
        break;
      case 0xb4:
        r[dst] = imm >>> 0;
        break;
      case 0xbc:
        r[dst] = r[src] >>> 0;
        break;
      case 0x56:
        if (r[dst] !== imm >>> 0) pc += off;
        break;
      case 0x16:
        if (r[dst] === imm >>> 0) pc += off;
        break;
      case 0x5e:
        if (r[dst] !== r[src]) pc += off;
        break;
      case 0x95:
        return r[0];
      default:
        throw new Error(`unknown opcode ${code.toString(16)}`);
    }
  }
  throw new Error('fell off the end');
}

t.test('the compiled program decides as the emulated controller', async (t) => {
  const states: DeviceState[] = [
    st([]),
    st([
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' },
      { allow: true, type: 'b', major: 8, minor: null, access: 'r' },
    ]),
    emulate(
      [
        { allow: true, access: 'rwm' },
        { allow: false, type: 'c', major: 10, minor: 200, access: 'rw' },
        { allow: false, type: 'b', major: null, minor: null, access: 'm' },
      ],
      field,
    ),
  ];
  const requests: [number, 'b' | 'c', number, number][] = [];
  for (const type of ['b', 'c'] as const)
    for (const [major, minor] of [
      [1, 3],
      [1, 5],
      [8, 0],
      [8, 16],
      [10, 200],
      [136, 2],
    ])
      for (const access of [M, Rd, W, Rd | W]) requests.push([access, type, major, minor]);
  for (const s of states) {
    const prog = compile(s);
    let agree = 0;
    for (const [access, type, major, minor] of requests) {
      if (run(prog, type === 'b' ? 1 : 2, access, major, minor) === (permits(s, type, major, minor, access) ? 1 : 0)) agree++;
    }
    t.equal(agree, requests.length, `${s.exceptions.length} exceptions, default ${s.defaultAllow ? 'allow' : 'deny'}: every request`);
  }
  const p = deviceProgram({});
  t.equal(run(p, 2, Rd | W, 1, 3), 1, 'the default rules let /dev/null be opened');
  t.equal(run(p, 2, Rd, 1, 11), 0, 'not /dev/kmsg');
  t.equal(run(p, 2, M, 4, 1), 1, 'mknod of any char device (c *:* m)');
  t.equal(run(p, 1, Rd, 8, 0), 0, 'no block device');
  t.equal(p.length % 8, 0);
  t.equal(p.readUInt8(p.length - 8), 0x95, 'ends with exit');
});
