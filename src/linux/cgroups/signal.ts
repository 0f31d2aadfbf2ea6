// Signalling every process of a container's cgroups (kill --all, delete), as the
// cgroupfs and systemd drivers do it: through the files.
import { writeFileSync } from 'node:fs';
import { logWarn } from '../../base/log';
import { sleepSync } from '../../base/sleep';
import { freeze, freezerState, thaw } from './freezer';
import { cgroupPids } from './record';
import type { CgroupRecord } from './types';

/** Processes to signal besides those in the cgroups (the init, should it be outside them). */
export type Also = () => number[];

function signalPids(rec: CgroupRecord, sig: number, also: Also): void {
  const pids = new Set(cgroupPids(rec));
  for (const p of also()) pids.add(p);
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // exited meanwhile
    }
  }
}

/** SIGKILL through cgroup.kill (v2 and hybrid hosts, Linux 5.14+): no fork can escape it. */
function cgroupKill(rec: CgroupRecord): boolean {
  if (!rec.unified) return false;
  try {
    writeFileSync(`${rec.unified}/cgroup.kill`, '1');
    return true;
  } catch {
    return false;
  }
}

/**
 * Signals every process of the container (kill --all), as runc: SIGKILL through
 * cgroup.kill where there is one; otherwise the cgroup is frozen so that nothing forks
 * past the list of pids, signalled, and thawed — a frozen process acts on no signal,
 * so a paused container is resumed by this (v1 keeps even a SIGKILLed task frozen).
 */
export function signalAll(rec: CgroupRecord, sig: number, also: Also): void {
  const paused = freezerState(rec) !== undefined && freezerState(rec) !== 'thawed';
  if (sig === 9 && cgroupKill(rec)) {
    signalPids(rec, sig, also); // the init, should it be outside the cgroup
    if (paused) thaw(rec);
    return;
  }
  if (rec.freezer && !paused) {
    try {
      freeze(rec, 2000);
    } catch (e) {
      logWarn((e as Error).message);
    }
  }
  signalPids(rec, sig, also);
  try {
    thaw(rec);
  } catch (e) {
    logWarn((e as Error).message);
  }
}

/** SIGKILLs every process of the container and waits until they are gone; false if they are not. */
export function killAll(rec: CgroupRecord, also: Also): boolean {
  for (let i = 0; ; i++) {
    const alive = cgroupPids(rec).length > 0 || also().length > 0;
    if (!alive) return true;
    if (i > 1000) return false;
    if (i === 0) cgroupKill(rec);
    signalPids(rec, 9, also);
    if (i === 0 && freezerState(rec) !== undefined && freezerState(rec) !== 'thawed') {
      try {
        thaw(rec); // a frozen process cannot die
      } catch {
        // no freezer
      }
    }
    sleepSync(i < 20 ? 1 : 10);
  }
}
