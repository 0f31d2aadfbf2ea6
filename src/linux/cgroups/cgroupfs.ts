// The cgroupfs driver: corral makes the container's directories in every hierarchy of
// the host (v1, v2 or hybrid) and writes its resources there itself.
import type { CgroupControl, CgroupDriver } from './driver';
import { freeze, freezerState, thaw } from './freezer';
import { hostLayout } from './layout';
import { applyResources, createCgroups } from './manager';
import { cgroupPids, removeCgroups } from './record';
import { killAll, signalAll } from './signal';
import { collectStats } from './stats';

export const cgroupfsControl: CgroupControl = {
  name: 'cgroupfs',
  remove: (rec) => removeCgroups(rec),
  freeze: (rec, timeoutMs) => freeze(rec, timeoutMs),
  thaw: (rec) => thaw(rec),
  state: freezerState,
  pids: cgroupPids,
  signalAll,
  killAll,
};

// A function, not a constant: esbuild keeps a top-level spread, and with it manager.ts,
// in bundles that need only cgroupfsControl.
export function cgroupfsDriver(): CgroupDriver {
  return {
    ...cgroupfsControl,
    create: (req) => createCgroups(req.id, req.cgroupsPath, req.resources, req.layout, req.intent),
    update: (rec, patch) => applyResources(rec, patch, { update: true }),
    stats: (rec) => collectStats(hostLayout(), rec),
  };
}
