// Tearing a container down: kill what is left, remove its cgroups and host mounts,
// run poststop hooks, and remove its state.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CorralError, isCorralError } from '../cli/errors';
import { cgroupPids, removeCgroups } from '../linux/cgroups/manager';
import { runHooksWarn } from '../linux/hooks';
import { isSameProcess } from '../linux/procfs';
import { Store, ociState, statusOf, type ContainerRecord } from '../state/store';

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function signalAll(rec: ContainerRecord, sig: number): void {
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

/** SIGKILLs every process of the container and waits until they are gone. */
export function killAll(rec: ContainerRecord): void {
  for (let i = 0; ; i++) {
    const alive = cgroupPids(rec.cgroups).length > 0 || isSameProcess(rec.pid, rec.pidStartTime);
    if (!alive) return;
    if (i > 1000) throw new CorralError(`container ${rec.id}: processes did not exit after SIGKILL`);
    signalAll(rec, 9);
    if (i === 0 && rec.cgroups.freezer) {
      try {
        writeFileSync(rec.cgroups.freezer, 'THAWED'); // a frozen process cannot die
      } catch {
        // no freezer
      }
    }
    sleep(i < 20 ? 1 : 10);
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
  removeCgroups(rec.cgroups);
  if (rec.hostMountNs) unmountUnder(rec.rootfs);
  runHooksWarn(rec.hooks, 'poststop', ociState(rec, 'stopped'));
  store.remove(rec.id);
}

export function deleteContainer(store: Store, id: string, force: boolean): void {
  let rec: ContainerRecord;
  try {
    rec = store.read(id);
  } catch (e) {
    if (!force || !isCorralError(e)) throw e;
    // A directory without state: a create still running (wait for its lock) or one that was killed.
    if (!existsSync(store.dir(id))) return;
    let unlock: (() => void) | undefined;
    try {
      unlock = store.lock(id);
    } catch {
      return;
    }
    if (store.exists(id)) {
      unlock();
      return deleteContainer(store, id, force);
    }
    store.remove(id);
    return;
  }
  const unlock = store.lock(id);
  try {
    const status = statusOf(store, rec);
    if (status !== 'stopped' && !force)
      throw new CorralError(`cannot delete container ${id} that is not stopped: ${status}`);
    destroy(store, rec);
  } finally {
    unlock();
  }
}
