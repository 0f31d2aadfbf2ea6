// resume: thaw a paused container.
import type { CommandMain } from './table';
import { controlFor } from '../linux/cgroups/drivers';
import { Store, statusOf } from '../state/store';
import { requireStatus } from '../lifecycle/status-rules';

export const main: CommandMain<'resume'> = (g, _o, [id]) => {
  const store = new Store(g.root);
  store.withLock(id, (rec) => {
    requireStatus('resume', statusOf(store, rec), id);
    controlFor(rec.cgroups).thaw(rec.cgroups);
  });
  return 0;
};
