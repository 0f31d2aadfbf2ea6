import type { CommandMain } from '../cli/main';
import { CorralError } from '../cli/errors';
import { signalAll } from '../lifecycle/destroy';
import { parseSignal } from '../lifecycle/signals';
import { Store, statusOf } from '../state/store';

export const main: CommandMain = (g, o, [id, sig]) => {
  const store = new Store(g.root);
  const rec = store.read(id);
  const signal = parseSignal(sig);
  if (statusOf(store, rec) === 'stopped') throw new CorralError('container not running');
  if (o.all) {
    signalAll(rec, signal);
    return 0;
  }
  try {
    process.kill(rec.pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new CorralError('container not running');
    throw e;
  }
  return 0;
};
