// kill: a signal to the container's init, or (--all) to every process of its cgroups.
import { errnoCode } from '../base/errors';
import { controlFor } from '../linux/cgroups/drivers';
import { Store, statusOf } from '../state/store';
import { signalAll } from './destroy';
import { parseSignal } from './signals';
import { requireStatus } from './status-rules';

/** signal as given on the command line (a name or number, SIGTERM when absent). */
export function kill(store: Store, id: string, signalArg: string | undefined, all: boolean): void {
  const rec = store.read(id); // as runc: an id that does not exist before a signal that is wrong
  const signal = parseSignal(signalArg);
  // As runc: --all signals whatever is left in the cgroup, even once the init is gone.
  if (all) return signalAll(rec, signal);
  const status = statusOf(store, rec);
  requireStatus('kill', status, id);
  try {
    process.kill(rec.pid, signal);
  } catch (e) {
    if (errnoCode(e) === 'ESRCH') requireStatus('kill', 'stopped', id); // gone meanwhile
    throw e;
  }
  // A frozen init does not die of SIGKILL until it is thawed (as runc).
  if (status === 'paused' && signal === 9) controlFor(rec.cgroups).thaw(rec.cgroups);
}
