// resume: thaw a paused container.
import type { CommandMain } from '../base/command';
import { CorralError } from '../base/errors';
import { thaw } from '../linux/cgroups/freezer';
import { Store, statusOf } from '../state/store';

export const main: CommandMain = (g, _o, [id]) => {
  const store = new Store(g.root);
  store.withLock(id, (rec) => {
    if (statusOf(store, rec) !== 'paused') throw new CorralError('container not paused');
    thaw(rec.cgroups);
  });
  return 0;
};
