import type { CommandMain } from './table';
import { controlFor } from '../linux/cgroups/drivers';
import { signalAll } from '../lifecycle/destroy';
import { parseSignal } from '../lifecycle/signals';
import { Store, statusOf } from '../state/store';
import { requireStatus } from '../lifecycle/status-rules';
import { errnoCode } from '../base/errors';

export const main: CommandMain<'kill'> = (g, o, [id, sig]) => {
  const store = new Store(g.root);
  const rec = store.read(id);
  const signal = parseSignal(sig);
  // As runc: --all signals whatever is left in the cgroup, even once the init is gone.
  if (o.all) {
    signalAll(rec, signal);
    return 0;
  }
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
  return 0;
};
