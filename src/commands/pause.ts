// pause: freeze every process of the container (v1 freezer or v2 cgroup.freeze) and
// return once the kernel says they are frozen.
import type { CommandMain } from './table';
import { controlFor } from '../linux/cgroups/drivers';
import { Store, statusOf } from '../state/store';
import { requireStatus } from '../lifecycle/status-rules';

export const main: CommandMain<'pause'> = (g, _o, [id]) => {
  const store = new Store(g.root);
  store.withLock(id, (rec) => {
    const status = statusOf(store, rec);
    requireStatus('pause', status, id);
    controlFor(rec.cgroups).freeze(rec.cgroups);
  });
  return 0;
};
