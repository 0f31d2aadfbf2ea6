// systemd's side of the systemd cgroup driver (--systemd-cgroup; ./systemd-driver.ts):
// the container's cgroup is a transient scope unit that systemd makes over D-Bus, with
// the resources it knows about as unit properties — so that systemd, which owns the
// tree, never rewrites them to its own idea — and then every field written to the files
// by the cgroupfs drivers, as runc does. Loaded only for such containers (dist/systemd.js).
import { readFileSync } from 'node:fs';
import { CorralError } from '../../base/errors';
import { logWarn } from '../../base/log';
import type { DeviceRule, Resources } from '../../spec/types';
import { DBusError, Variant } from '../dbus';
import { blkioWeightToIoWeight, parseCpuList, sharesToWeight, swapToV2 } from './convert';
import { effectiveRules } from './devices';
import { emulate } from './devices-v2';
import { blockIO, defined, isSet, R } from './types';
import { connectSystemd, type Prop, type SystemdClient } from './systemd-client';

export { connectSystemd } from './systemd-client';

/** systemd's "infinity" for limits. */
export const INFINITY = 2n ** 64n - 1n;

export interface UnitName {
  slice: string;
  unit: string;
}

const UNIT_CHARS = /^[A-Za-z0-9:_.\\-]+$/;

/**
 * runc's `[slice]:[prefix]:[name]` form of linux.cgroupsPath: the scope
 * `<prefix>-<name>.scope` in `slice` (system.slice when empty, the root slice for "-").
 * Without a cgroupsPath, `:corral:<id>`.
 */
export function systemdUnitName(cgroupsPath: string | undefined, id: string): UnitName {
  const p = cgroupsPath || `:corral:${id}`;
  const F = '/linux/cgroupsPath';
  const parts = p.split(':');
  if (parts.length !== 3) throw new CorralError(`${F}: "${p}" is not of the form "slice:prefix:name" that --systemd-cgroup expects`);
  const [sliceIn, prefix, name] = parts;
  const slice = sliceIn === '-' ? '-.slice' : sliceIn || 'system.slice';
  if (!slice.endsWith('.slice') || slice.includes('/') || !UNIT_CHARS.test(slice))
    throw new CorralError(`${F}: "${sliceIn}" is not a systemd slice name (such as system.slice or machine-app.slice; no slashes)`);
  if (!name) throw new CorralError(`${F}: "${p}" has no name after the last colon`);
  if (name.endsWith('.slice')) throw new CorralError(`${F}: "${name}" names a slice; corral puts a container in a scope unit (give a name without .slice)`);
  const unit = `${prefix ? `${prefix}-` : ''}${name}.scope`;
  if (!UNIT_CHARS.test(unit) || unit.length > 255) throw new CorralError(`${F}: "${unit}" is not a valid systemd unit name`);
  return { slice, unit };
}

const t = (v: number | bigint) => new Variant('t', typeof v === 'bigint' ? v : v < 0 ? INFINITY : BigInt(v));

/** A cpu list ("0-2,5") as systemd's AllowedCPUs bit mask: byte i holds cpus 8i..8i+7. */
export function cpuMask(list: string): Buffer {
  const cpus = parseCpuList(list);
  const mask = Buffer.alloc(cpus.length ? Math.floor(Math.max(...cpus) / 8) + 1 : 0);
  for (const c of cpus) mask[c >> 3] |= 1 << (c & 7);
  return mask;
}

/** CPUQuotaPerSecUSec, rounded up to 10 ms as systemd keeps it in percent of a CPU. */
export function quotaPerSec(quota: number, period: number): bigint {
  if (quota <= 0) return INFINITY;
  const perSec = (quota * 1_000_000) / period;
  return BigInt(Math.ceil(perSec / 10_000) * 10_000);
}

/** A version such as "252.39-1~deb12u2" → 252. */
export function majorVersion(v: string): number {
  return parseInt(v, 10) || 0;
}

/**
 * DevicePolicy and DeviceAllow that mean what the rules mean, from the same emulation of
 * the v1 controller the eBPF program is made from. systemd lists only what is allowed:
 * exceptions of an allow-by-default state (denies) cannot be said, and are reported;
 * corral's own device rules, written after systemd's, still enforce them.
 */
export function deviceProperties(rules: DeviceRule[], majorName: (type: string, major: number) => string | undefined, warn: (m: string) => void): Prop[] {
  const st = emulate(rules, (i) => `${R}/devices/${i}`);
  if (st.defaultAllow) {
    if (st.exceptions.length) warn(`${R}/devices: systemd's DeviceAllow cannot express deny rules under an allow-all; corral's own device rules enforce them`);
    return [
      ['DevicePolicy', new Variant('s', 'auto')],
      ['DeviceAllow', new Variant('a(ss)', [])],
    ];
  }
  const allow: [string, string][] = [];
  for (const e of st.exceptions) {
    const kind = e.type === 'b' ? 'block' : 'char';
    const access = [...'rwm'].filter((_, i) => e.access & [2, 4, 1][i]).join('');
    let path: string | undefined;
    if (e.major < 0) path = `${kind}-*`;
    else if (e.minor >= 0) path = `/dev/${kind}/${e.major}:${e.minor}`;
    else {
      const name = majorName(e.type, e.major);
      if (name) path = `${kind}-${name}`;
      else warn(`${R}/devices: systemd has no name for ${e.type} ${e.major}:* (not in /proc/devices); its unit does not list it`);
    }
    if (path) allow.push([path, access]);
  }
  return [
    ['DevicePolicy', new Variant('s', 'strict')],
    ['DeviceAllow', new Variant('a(ss)', allow)],
  ];
}

/** The major numbers /proc/devices names, by type. */
export function procDevices(text = readFileSync('/proc/devices', 'utf8')): (type: string, major: number) => string | undefined {
  const names = new Map<string, string>();
  let section = '';
  for (const line of text.split('\n')) {
    if (/^Character devices:/.test(line)) section = 'c';
    else if (/^Block devices:/.test(line)) section = 'b';
    const m = /^\s*(\d+)\s+(\S+)$/.exec(line);
    if (m && section && !names.has(`${section}${m[1]}`)) names.set(`${section}${m[1]}`, m[2]);
  }
  return (type, major) => names.get(`${type}${major}`);
}

/** A unified (v2) key, as the unit property that holds it, when systemd has one. */
function unifiedProperty(key: string, value: string, version: number): Prop[] | undefined {
  const bytes = () => t(value.trim() === 'max' ? -1 : Number(value));
  switch (key) {
    case 'memory.max':
      return [['MemoryMax', bytes()]];
    case 'memory.high':
      return [['MemoryHigh', bytes()]];
    case 'memory.low':
      return [['MemoryLow', bytes()]];
    case 'memory.min':
      return [['MemoryMin', bytes()]];
    case 'memory.swap.max':
      return [['MemorySwapMax', bytes()]];
    case 'pids.max':
      return [['TasksMax', bytes()]];
    case 'cpu.weight':
      return [['CPUWeight', t(Number(value))]];
    case 'cpuset.cpus':
      return version >= 244 ? [['AllowedCPUs', new Variant('ay', cpuMask(value))]] : undefined;
    case 'cpuset.mems':
      return version >= 244 ? [['AllowedMemoryNodes', new Variant('ay', cpuMask(value))]] : undefined;
    case 'cpu.max': {
      const [q, p] = value.trim().split(/\s+/);
      const period = Number(p || 100000);
      const out: Prop[] = [['CPUQuotaPerSecUSec', q === 'max' ? t(-1) : t(quotaPerSec(Number(q), period))]];
      if (p && version >= 242) out.push(['CPUQuotaPeriodUSec', t(period)]);
      return out;
    }
    default:
      return undefined;
  }
}

/** linux.resources as unit properties (runc's table of what systemd knows), for v1 or v2. */
export function resourceProperties(r: Resources, v2: boolean, version: number): Prop[] {
  const out: Prop[] = [];
  const m = r.memory ?? {};
  const c = r.cpu ?? {};
  const b = blockIO(r) ?? {};
  if (v2) {
    if (isSet(m.limit)) out.push(['MemoryMax', t(m.limit)]);
    if (isSet(m.reservation)) out.push(['MemoryLow', t(m.reservation)]);
    if (isSet(m.swap)) out.push(['MemorySwapMax', t(swapV2Bytes(m.swap, m.limit))]);
    if (isSet(c.shares)) out.push(['CPUWeight', t(sharesToWeight(c.shares))]);
    if (isSet(b.weight)) out.push(['IOWeight', t(blkioWeightToIoWeight(b.weight))]);
  } else {
    if (isSet(m.limit)) out.push(['MemoryLimit', t(m.limit)]);
    if (isSet(c.shares)) out.push(['CPUShares', t(c.shares)]);
    if (isSet(b.weight)) out.push(['BlockIOWeight', t(b.weight)]);
  }
  if (defined(r.pids?.limit)) out.push(['TasksMax', t(r.pids.limit > 0 ? r.pids.limit : -1)]);
  if (isSet(c.quota) || isSet(c.period)) {
    const period = isSet(c.period) ? c.period : 100000;
    if (isSet(c.quota)) out.push(['CPUQuotaPerSecUSec', t(quotaPerSec(c.quota, period))]);
    if (isSet(c.period) && version >= 242) out.push(['CPUQuotaPeriodUSec', t(c.period)]);
  }
  if (version >= 244) {
    if (c.cpus) out.push(['AllowedCPUs', new Variant('ay', cpuMask(c.cpus))]);
    if (c.mems) out.push(['AllowedMemoryNodes', new Variant('ay', cpuMask(c.mems))]);
  }
  if (v2) for (const [k, v] of Object.entries(r.unified ?? {})) out.push(...(unifiedProperty(k, v, version) ?? []));
  return out;
}

/** memory.swap.max in bytes (-1: unlimited) for the spec's memory+swap limit. */
function swapV2Bytes(swap: number, limit: number | null | undefined): number {
  const v = swapToV2(swap, isSet(limit) ? limit : undefined, `${R}/memory/swap`);
  return v === 'max' ? -1 : v;
}

/**
 * One org.systemd.property.<Name> annotation (runc's way to set any other unit property)
 * in GVariant text: `uint64 123`, `@t 123`, `true`, `'text'`, `['a', 'b']`, `5` (int32).
 */
export function annotationProperty(key: string, text: string): Prop {
  const name = key.slice('org.systemd.property.'.length);
  const F = `/annotations/${key}`;
  if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new CorralError(`${F}: "${name}" is not a systemd property name`);
  const s = text.trim();
  const TYPES: Record<string, string> = { byte: 'y', int16: 'n', uint16: 'q', int32: 'i', uint32: 'u', int64: 'x', uint64: 't', double: 'd', boolean: 'b' };
  let m = /^(?:@([a-z])|(byte|int16|uint16|int32|uint32|int64|uint64|double|boolean))\s+(.+)$/.exec(s);
  const str = (q: string) => {
    const mm = /^(['"])(.*)\1$/.exec(q.trim());
    return mm ? mm[2].replace(/\\(.)/g, '$1') : undefined;
  };
  if (m) {
    const sig = m[1] ?? TYPES[m[2]];
    const v = m[3].trim();
    if (sig === 'b') return [name, new Variant('b', v === 'true')];
    if (sig === 's') {
      const text2 = str(v);
      if (text2 !== undefined) return [name, new Variant('s', text2)];
    } else if (/^-?\d+$/.test(v) && 'ynqiuxt'.includes(sig)) {
      return [name, new Variant(sig, 'xt'.includes(sig) ? BigInt(v) : Number(v))];
    } else if (sig === 'd' && Number.isFinite(Number(v))) {
      return [name, new Variant('d', Number(v))];
    }
    throw new CorralError(`${F}: cannot read "${text}" as GVariant text of type ${sig}`);
  }
  if (s === 'true' || s === 'false') return [name, new Variant('b', s === 'true')];
  if (/^-?\d+$/.test(s)) return [name, new Variant('i', Number(s))];
  if (/^-?\d*\.\d+$/.test(s)) return [name, new Variant('d', Number(s))];
  const one = str(s);
  if (one !== undefined) return [name, new Variant('s', one)];
  m = /^(?:@as\s+)?\[(.*)\]$/.exec(s);
  if (m) {
    const items = m[1].trim() ? m[1].split(',').map((x) => str(x)) : [];
    if (items.every((x): x is string => x !== undefined)) return [name, new Variant('as', items)];
  }
  throw new CorralError(`${F}: cannot read "${text}" as GVariant text (such as uint64 123, true, 'text' or ['a', 'b'])`);
}

function waitJob(sd: SystemdClient, job: string, what: string): void {
  const result = sd.waitJob(job);
  if (result !== 'done') throw new CorralError(`systemd: ${what}: the job ended "${result}"`);
}

function dbusFailure(what: string, e: unknown): CorralError {
  if (e instanceof CorralError) return e;
  return CorralError.wrap(`systemd: ${what}`, e);
}

/** How the driver reaches systemd: over D-Bus, or a test's double. */
export type Connect = () => SystemdClient;

export interface StartedUnit {
  unit: string;
  /** The unit's cgroup path, as systemd reports it (its ControlGroup property). */
  cgroup: string;
}

/**
 * Starts the container's scope with pid in it and the resources as properties; waits
 * until systemd says it is running.
 */
export function startScope(
  id: string,
  name: UnitName,
  pid: number,
  r: Resources,
  v2: boolean,
  annotations: Record<string, string> | undefined,
  connect: Connect = connectSystemd,
): StartedUnit {
  const sd = connect();
  try {
    sd.subscribe();
    const version = majorVersion(sd.version());
    const props: Prop[] = [
      ['Description', new Variant('s', `corral container ${id}`)],
      ['Slice', new Variant('s', name.slice)],
      ['Delegate', new Variant('b', true)],
      ['PIDs', new Variant('au', [pid])],
      ['DefaultDependencies', new Variant('b', false)],
      ['MemoryAccounting', new Variant('b', true)],
      ['CPUAccounting', new Variant('b', true)],
      ['TasksAccounting', new Variant('b', true)],
      [v2 ? 'IOAccounting' : 'BlockIOAccounting', new Variant('b', true)],
      ...resourceProperties(r, v2, version),
      ...deviceProperties([{ allow: false, type: 'a' }, ...effectiveRules(r.devices)], procDevices(), logWarn),
      ...Object.entries(annotations ?? {})
        .filter(([k]) => k.startsWith('org.systemd.property.'))
        .map(([k, v]) => annotationProperty(k, v)),
    ];
    let job: string;
    try {
      job = sd.startTransientUnit(name.unit, props);
    } catch (e) {
      if (e instanceof DBusError && e.name === 'org.freedesktop.systemd1.UnitExists')
        throw new CorralError(`/linux/cgroupsPath: the systemd unit ${name.unit} already exists (another container's?)`);
      throw dbusFailure(`cannot start ${name.unit} in ${name.slice}`, e);
    }
    waitJob(sd, job, `starting ${name.unit}`);
    const cgroup = sd.controlGroup(name.unit);
    if (!cgroup) throw new CorralError(`systemd: ${name.unit} has no cgroup (did its process exit?)`);
    return { unit: name.unit, cgroup };
  } catch (e) {
    throw dbusFailure(`starting ${name.unit}`, e);
  } finally {
    sd.close();
  }
}

/** Stops the container's scope (systemd kills what is left in it and removes its cgroups). */
export function stopScope(unit: string, connect: Connect = connectSystemd): void {
  let sd: SystemdClient;
  try {
    sd = connect();
  } catch (e) {
    // No systemd left to ask: the cgroupfs cleanup that follows does what it can.
    logWarn((e as Error).message);
    return;
  }
  try {
    sd.subscribe();
    let job: string;
    try {
      job = sd.stopUnit(unit);
    } catch (e) {
      if (e instanceof DBusError && e.name === 'org.freedesktop.systemd1.NoSuchUnit') return; // gone with its last process
      throw e;
    }
    waitJob(sd, job, `stopping ${unit}`);
  } catch (e) {
    throw dbusFailure(`stopping ${unit}`, e);
  } finally {
    sd.close();
  }
}

/** `corral update`: the unit's properties follow the new values (runtime only, as transient units are). */
export function updateScope(unit: string, r: Resources, v2: boolean, connect: Connect = connectSystemd): void {
  const sd = connect();
  try {
    const props = resourceProperties(r, v2, majorVersion(sd.version()));
    if (props.length) sd.setUnitProperties(unit, true, props);
  } catch (e) {
    throw dbusFailure(`updating ${unit}`, e);
  } finally {
    sd.close();
  }
}
