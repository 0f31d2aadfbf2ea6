// pause: freeze every process of the container (v1 freezer or v2 cgroup.freeze) and
// return once the kernel says they are frozen.
import type { CommandMain } from '../base/command';
import { CorralError } from '../base/errors';
import { freeze } from '../linux/cgroups/freezer';
import { Store, statusOf } from '../state/store';

export const main: CommandMain = (g, _o, [id]) => {
  const store = new Store(g.root);
  store.withLock(id, (rec) => {
    const status = statusOf(store, rec);
    if (status !== 'running' && status !== 'created') throw new CorralError('container not running');
    freeze(rec.cgroups);
  });
  return 0;
};
