// Tearing a container down: kill what is left, remove its cgroups and host mounts,
// run poststop hooks, and remove its state.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CorralError, isCorralError } from '../base/errors';
import { freeze, freezerState, thaw } from '../linux/cgroups/freezer';
import { cgroupPids, removeCgroups } from '../linux/cgroups/record';
import { systemdDriver } from '../linux/cgroups/systemd-driver';
import { logWarn } from '../base/log';
import { runHooksWarn } from '../linux/hooks';
import { isSameProcess } from '../linux/procfs';
import { Store, ociState, statusOf, type ContainerRecord } from '../state/store';
import { requireStatus } from './status-rules';
import { NOT_EXIST } from '../base/messages';
import { sleepSync } from '../base/sleep';

function signalPids(rec: ContainerRecord, sig: number): void {
  const pids = new Set(cgroupPids(rec.cgroups));
  if (isSameProcess(rec.pid, rec.pidStartTime)) pids.add(rec.pid);
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // exited meanwhile
    }
  }
}

/** SIGKILL through cgroup.kill (v2 and hybrid hosts, Linux 5.14+): no fork can escape it. */
function cgroupKill(rec: ContainerRecord): boolean {
  if (!rec.cgroups.unified) return false;
  try {
    writeFileSync(`${rec.cgroups.unified}/cgroup.kill`, '1');
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
export function signalAll(rec: ContainerRecord, sig: number): void {
  const paused = freezerState(rec.cgroups) !== undefined && freezerState(rec.cgroups) !== 'thawed';
  if (sig === 9 && cgroupKill(rec)) {
    signalPids(rec, sig); // the init, should it be outside the cgroup
    if (paused) thaw(rec.cgroups);
    return;
  }
  if (rec.cgroups.freezer && !paused) {
    try {
      freeze(rec.cgroups, 2000);
    } catch (e) {
      logWarn((e as Error).message);
    }
  }
  signalPids(rec, sig);
  try {
    thaw(rec.cgroups);
  } catch (e) {
    logWarn((e as Error).message);
  }
}

/** SIGKILLs every process of the container and waits until they are gone. */
export function killAll(rec: ContainerRecord): void {
  for (let i = 0; ; i++) {
    const alive = cgroupPids(rec.cgroups).length > 0 || isSameProcess(rec.pid, rec.pidStartTime);
    if (!alive) return;
    if (i > 1000) throw new CorralError(`container ${rec.id}: processes did not exit after SIGKILL`);
    if (i === 0) cgroupKill(rec);
    signalPids(rec, 9);
    if (i === 0 && freezerState(rec.cgroups) !== undefined && freezerState(rec.cgroups) !== 'thawed') {
      try {
        thaw(rec.cgroups); // a frozen process cannot die
      } catch {
        // no freezer
      }
    }
    sleepSync(i < 20 ? 1 : 10);
  }
}

/** Mounts under the rootfs in our mount namespace (a container that shares it made them). */
function unmountUnder(root: string): void {
  const { addon, MNT_DETACH } = require('../linux/addon') as typeof import('../linux/addon');
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === root || m.startsWith(root + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    try {
      addon().umount(m, MNT_DETACH);
    } catch {
      // already gone
    }
  }
}

export function destroy(store: Store, rec: ContainerRecord): void {
  killAll(rec);
  if (rec.cgroups.systemd) {
    systemdDriver().stopScope(rec.cgroups.systemd);
  }
  removeCgroups(rec.cgroups);
  if (rec.hostMountNs) unmountUnder(rec.rootfs);
  runHooksWarn(rec.hooks, 'poststop', ociState(rec, 'stopped'));
  store.remove(rec.id);
}

export function deleteContainer(store: Store, id: string, force: boolean): void {
  if (!store.exists(id) && existsSync(store.dir(id))) return deleteUnrecorded(store, id, force);
  let rec: ContainerRecord;
  try {
    rec = store.read(id);
  } catch (e) {
    if (force && isCorralError(e) && !existsSync(store.dir(id))) return;
    throw e;
  }
  const unlock = store.lock(id);
  try {
    const status = statusOf(store, rec);
    if (!force) requireStatus('delete', status, id);
    destroy(store, rec);
  } finally {
    unlock();
  }
}

/**
 * A directory without state.json: a create still running, or what a killed one left.
 * A running create holds the lock: `delete` says, as runc, that the container does not
 * exist (yet); --force waits for the create to end and deletes what it made. What a
 * killed create left is removed with or without --force, as a stopped container is:
 * the cgroups (and host mounts) its creating.json names, and the directory.
 */
function deleteUnrecorded(store: Store, id: string, force: boolean): void {
  let unlock: () => void;
  try {
    unlock = store.lock(id, force ? undefined : 0);
  } catch (e) {
    if (force) return; // gone meanwhile, or a create that still runs after the lock's wait
    throw isCorralError(e) && / is locked by /.test(e.message) ? new CorralError(NOT_EXIST) : e;
  }
  let created = false;
  try {
    created = store.exists(id); // the create succeeded meanwhile
    const made = created ? undefined : store.readCreating(id);
    if (made) destroy(store, { ...made, id, bundle: '', pid: 0, pidStartTime: '', created: '', owner: '', namespaces: [] });
    else if (!created) store.remove(id);
  } finally {
    unlock();
  }
  if (created) deleteContainer(store, id, force);
}
