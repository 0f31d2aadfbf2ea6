// resume: thaw a paused container.
import type { CommandMain } from './table';
import { thaw } from '../linux/cgroups/freezer';
import { Store, statusOf } from '../state/store';
import { requireStatus } from '../lifecycle/status-rules';

export const main: CommandMain<'resume'> = (g, _o, [id]) => {
  const store = new Store(g.root);
  store.withLock(id, (rec) => {
    requireStatus('resume', statusOf(store, rec), id);
    thaw(rec.cgroups);
  });
  return 0;
};
