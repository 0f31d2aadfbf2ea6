// Device rules on cgroup v2: there is no devices controller there, only an eBPF program
// (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the container's cgroup. The rules are first
// run through an emulation of what the v1 controller does with them (devices.deny a,
// then each rule in order), so that one config means the same on v1 and v2; the result
// (a default and a list of exceptions) is compiled to a small program.
import { CorralError } from '../../base/errors';
import type { DeviceRule, Resources } from '../../spec/types';
import { effectiveRules, ruleText } from './devices';
import { R } from './types';

const ACC = { m: 1, r: 2, w: 4 } as const; // BPF_DEVCG_ACC_MKNOD, _READ, _WRITE
const TYPE = { b: 1, c: 2 } as const; // BPF_DEVCG_DEV_BLOCK, _CHAR
const ANY = -1;

export interface Exception {
  type: 'b' | 'c';
  major: number;
  minor: number;
  access: number;
}

/** The v1 controller's state: a default (allow or deny everything) and its exceptions. */
export interface DeviceState {
  defaultAllow: boolean;
  exceptions: Exception[];
}

function accessBits(s: string | undefined, field: string): number {
  let bits = 0;
  for (const ch of s || 'rwm') {
    const b = ACC[ch as keyof typeof ACC];
    if (!b) throw new CorralError(`${field}/access: unknown device access ${JSON.stringify(ch)} (one of r, w, m)`);
    bits |= b;
  }
  return bits;
}

const num = (n: number | null | undefined) => (n === undefined || n === null || n < 0 ? ANY : n);

/**
 * Applies rules as the kernel's v1 devices controller does: a rule of type "a" resets
 * the default and drops every exception; otherwise a rule that goes the default's way
 * takes its access out of identical exceptions, and one that goes against it adds (or
 * merges into) an exception.
 */
export function emulate(rules: DeviceRule[], fieldOf: (i: number) => string): DeviceState {
  const st: DeviceState = { defaultAllow: true, exceptions: [] };
  rules.forEach((rule, i) => {
    const field = fieldOf(i);
    const t = rule.type ?? 'a';
    if (t === 'a') {
      st.defaultAllow = rule.allow;
      st.exceptions = [];
      return;
    }
    if (t !== 'b' && t !== 'c') throw new CorralError(`${field}/type: unknown device type ${JSON.stringify(t)} (one of a, b, c)`);
    const ex: Exception = { type: t, major: num(rule.major), minor: num(rule.minor), access: accessBits(rule.access, field) };
    const same = (e: Exception) => e.type === ex.type && e.major === ex.major && e.minor === ex.minor;
    if (rule.allow !== st.defaultAllow) {
      const found = st.exceptions.find(same);
      if (found) found.access |= ex.access;
      else st.exceptions.push(ex);
    } else {
      for (const e of st.exceptions.filter(same)) e.access &= ~ex.access;
      st.exceptions = st.exceptions.filter((e) => e.access !== 0);
    }
  });
  return st;
}

/** Whether the v1 controller in state st lets a process have access to a device. */
export function permits(st: DeviceState, type: 'b' | 'c', major: number, minor: number, access: number): boolean {
  const hits = (e: Exception) => e.type === type && (e.major === ANY || e.major === major) && (e.minor === ANY || e.minor === minor);
  if (st.defaultAllow) return !st.exceptions.some((e) => hits(e) && (access & e.access) !== 0);
  return st.exceptions.some((e) => hits(e) && (access & ~e.access) === 0);
}

// eBPF instruction encoding (struct bpf_insn: code, dst:4|src:4, off s16, imm s32).
const LDX_MEM_W = 0x61;
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU32_MOV_K = 0xb4;
const ALU32_MOV_X = 0xbc;
const JMP32_JNE_K = 0x56;
const JMP32_JEQ_K = 0x16;
const JMP32_JNE_X = 0x5e;
const EXIT = 0x95;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number | 'next';
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number | 'next', imm: number): Insn => ({ code, dst, src, off, imm });

/**
 * The program: r2 = device type, r3 = requested access, r4 = major, r5 = minor (from
 * struct bpf_cgroup_dev_ctx); one block per exception that jumps to the next block when
 * it does not apply, and returns the exception's verdict when it does; then the default.
 * Deny-by-default exceptions apply when they cover all of the access asked for; allow-
 * by-default ones when they share any of it (as the v1 controller decides).
 */
export function compile(st: DeviceState): Buffer {
  const prog: Insn[] = [
    insn(LDX_MEM_W, 2, 1, 0, 0),
    insn(ALU32_AND_K, 2, 0, 0, 0xffff),
    insn(LDX_MEM_W, 3, 1, 0, 0),
    insn(ALU32_RSH_K, 3, 0, 0, 16),
    insn(LDX_MEM_W, 4, 1, 4, 0),
    insn(LDX_MEM_W, 5, 1, 8, 0),
  ];
  for (const e of st.exceptions) {
    const block: Insn[] = [insn(JMP32_JNE_K, 2, 0, 'next', TYPE[e.type])];
    block.push(insn(ALU32_MOV_X, 1, 3, 0, 0), insn(ALU32_AND_K, 1, 0, 0, e.access));
    block.push(st.defaultAllow ? insn(JMP32_JEQ_K, 1, 0, 'next', 0) : insn(JMP32_JNE_X, 1, 3, 'next', 0));
    if (e.major !== ANY) block.push(insn(JMP32_JNE_K, 4, 0, 'next', e.major | 0));
    if (e.minor !== ANY) block.push(insn(JMP32_JNE_K, 5, 0, 'next', e.minor | 0));
    block.push(insn(ALU32_MOV_K, 0, 0, 0, st.defaultAllow ? 0 : 1), insn(EXIT, 0, 0, 0, 0));
    // 'next' is the first instruction after this block.
    block.forEach((b, i) => {
      if (b.off === 'next') b.off = block.length - i - 1;
    });
    prog.push(...block);
  }
  prog.push(insn(ALU32_MOV_K, 0, 0, 0, st.defaultAllow ? 1 : 0), insn(EXIT, 0, 0, 0, 0));
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((p, i) => {
    buf.writeUInt8(p.code, i * 8);
    buf.writeUInt8((p.src << 4) | p.dst, i * 8 + 1);
    buf.writeInt16LE(p.off as number, i * 8 + 2);
    buf.writeInt32LE(p.imm, i * 8 + 4);
  });
  return buf;
}

/** The program for a config's rules (after runc's defaults, as on v1). */
export function deviceProgram(r: Resources): Buffer {
  const n = r.devices?.length ?? 0;
  const rules: DeviceRule[] = [{ allow: false, type: 'a' }, ...effectiveRules(r.devices)];
  const st = emulate(rules, (i) => (i === 0 ? `${R}/devices` : i - 1 < n ? `${R}/devices/${i - 1}` : `${R}/devices (default rule ${ruleText(rules[i])})`));
  return compile(st);
}

/** Attaches the device program for r to the cgroup2 directory dir. */
export function applyDevicesV2(dir: string, r: Resources): void {
  const prog = deviceProgram(r);
  const { addon } = require('../addon') as typeof import('../addon');
  try {
    addon().attachDeviceFilter(dir, prog);
  } catch (e) {
    throw CorralError.wrap(`${R}/devices: cannot apply the device rules as an eBPF program to ${dir}`, e);
  }
}
