// Tearing a container down: kill what is left, remove its cgroups and host mounts,
// run poststop hooks, and remove its state.
import { existsSync, readFileSync } from 'node:fs';
import { CorralError, isCorralError } from '../base/errors';
import type { Also } from '../linux/cgroups/driver';
import { controlFor } from '../linux/cgroups/drivers';
import { runHooksWarn } from '../linux/hooks';
import { isSameProcess } from '../linux/procfs';
import { Store, ociState, statusOf, type ContainerRecord } from '../state/store';
import { requireStatus } from './status-rules';
import { NOT_EXIST } from '../base/messages';
import { phase } from '../base/log';

/** The init, while it is still the container's (it may be outside the cgroups). */
function initOf(rec: ContainerRecord): Also {
  return () => (isSameProcess(rec.pid, rec.pidStartTime) ? [rec.pid] : []);
}

/** Signals every process of the container (kill --all), as its cgroup driver does it. */
export function signalAll(rec: ContainerRecord, sig: number): void {
  controlFor(rec.cgroups).signalAll(rec.cgroups, sig, initOf(rec));
}

/** SIGKILLs every process of the container and waits until they are gone. */
export function killAll(rec: ContainerRecord): void {
  if (!controlFor(rec.cgroups).killAll(rec.cgroups, initOf(rec))) throw new CorralError(`container ${rec.id}: processes did not exit after SIGKILL`);
}

/** Mounts under the rootfs in our mount namespace (a container that shares it made them). */
function unmountUnder(root: string): void {
  const { addon, MNT_DETACH } = require('../linux/addon') as typeof import('../linux/addon');
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
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
  const trace = <T>(name: string, fn: () => T) => phase('delete', name, fn);
  trace('kill what is left', () => killAll(rec));
  trace('remove the cgroups', () => controlFor(rec.cgroups).remove(rec.cgroups));
  if (rec.hostMountNs) trace('unmount', () => unmountUnder(rec.rootfs));
  trace('poststop hooks', () => runHooksWarn(rec.hooks, 'poststop', ociState(rec, 'stopped')));
  trace('remove the state', () => store.remove(rec.id));
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
  let created: boolean;
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
