// update: change a live container's resources, from runc's flags or from a
// linux.resources JSON document (--resources FILE, or - for stdin as containerd sends
// it). What is given is written; what is not given stays. The container record keeps
// the resources as they now are.
import { readFileSync } from 'node:fs';
import { parseJson, readRegularFile } from '../spec/json';
import type { CommandMain, Flags } from './table';
import { CorralError, isCorralError } from '../base/errors';
import type { Resources } from '../spec/types';
import { Store } from '../state/store';
import { update } from '../lifecycle/update';

/** docker's units.RAMInBytes: "512m", "1.5g", "100KiB", "1024" (bytes), powers of 1024. */
function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mul = m[2] ? 1024 ** ('kmgtp'.indexOf(m[2].toLowerCase()) + 1) : 1;
  return Math.floor(parseFloat(m[1]) * mul);
}

function flagValue(o: Flags<'update'>, name: keyof Flags<'update'>, parse: (s: string) => number): number | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  try {
    return parse(String(v));
  } catch (e) {
    throw CorralError.wrap(`invalid value for ${name}`, e);
  }
}

const uint = (s: string) => {
  if (!/^\d+$/.test(s)) throw new Error(`${JSON.stringify(s)} is not an unsigned integer`);
  return Number(s);
};
const int = (s: string) => {
  if (!/^-?\d+$/.test(s)) throw new Error(`${JSON.stringify(s)} is not an integer`);
  return Number(s);
};
const memory = (s: string) => (s === '-1' ? -1 : ramInBytes(s));

/** The resources runc's update flags stand for. */
function resourcesFromFlags(o: Flags<'update'>): Resources {
  const r: Resources = {};
  const set = <K extends 'cpu' | 'memory'>(k: K, field: string, v: number | string | undefined) => {
    if (v === undefined) return;
    const obj = (r[k] ??= {}) as Record<string, unknown>;
    obj[field] = v;
  };
  set('cpu', 'period', flagValue(o, 'cpu-period', uint));
  set('cpu', 'quota', flagValue(o, 'cpu-quota', int));
  set('cpu', 'burst', flagValue(o, 'cpu-burst', uint));
  set('cpu', 'shares', flagValue(o, 'cpu-share', uint));
  set('cpu', 'realtimePeriod', flagValue(o, 'cpu-rt-period', uint));
  set('cpu', 'realtimeRuntime', flagValue(o, 'cpu-rt-runtime', int));
  set('cpu', 'idle', flagValue(o, 'cpu-idle', int));
  if (o['cpuset-cpus'] !== undefined) set('cpu', 'cpus', String(o['cpuset-cpus']));
  if (o['cpuset-mems'] !== undefined) set('cpu', 'mems', String(o['cpuset-mems']));
  set('memory', 'limit', flagValue(o, 'memory', memory));
  set('memory', 'reservation', flagValue(o, 'memory-reservation', memory));
  set('memory', 'swap', flagValue(o, 'memory-swap', memory));
  if (o['pids-limit'] !== undefined) r.pids = { limit: Number(o['pids-limit']) };
  if (o['blkio-weight'] !== undefined) r.blockIO = { weight: Number(o['blkio-weight']) };
  return r;
}

function readResources(from: string): Resources {
  let text: string;
  try {
    text = from === '-' ? readFileSync(0, 'utf8') : readRegularFile(from);
  } catch (e) {
    if (isCorralError(e)) throw e;
    throw CorralError.wrap(`--resources: cannot read ${from === '-' ? 'standard input' : from}`, e);
  }
  const r = parseJson(text, '--resources');
  // The schema of linux.resources, with errors naming /linux/resources/... fields
  // (loaded only here: flag updates need none of it).
  const { configProblems } = require('../spec/validate') as typeof import('../spec/validate');
  const problems = configProblems({ ociVersion: '1.3.0', linux: { resources: r } });
  if (problems.length) throw new CorralError(`--resources: ${problems.join('; ')}`);
  return r as Resources;
}

export const main: CommandMain<'update'> = (g, o, [id]) => {
  const store = new Store(g.root);
  store.read(id); // as runc: an id that does not exist before a flag that is wrong
  update(store, id, o.resources !== undefined ? readResources(o.resources) : resourcesFromFlags(o));
  return 0;
};
