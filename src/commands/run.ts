// run: create + start, then wait for the container and delete it (unless --detach),
// exiting with the container's status.
import type { CommandMain } from './table';
import { addon } from '../linux/addon';
import { waitForExit } from '../lifecycle/wait';
import { create } from '../lifecycle/create';
import { createArgs } from './create';
import { destroy } from '../lifecycle/destroy';
import { start } from '../lifecycle/start';
import { Store } from '../state/store';

export const main: CommandMain<'run'> = async (g, o, [id]) => {
  const detach = !!o.detach;
  // The init's parent (corral-init) exits after create: the init is re-parented to
  // us, so we can wait for it and forward the signals we receive.
  if (!detach) addon().setSubreaper();
  const store = new Store(g.root);
  const { record, console } = create(g, { ...createArgs(o, id), attachTerminal: !detach });
  try {
    start(store, id);
  } catch (e) {
    destroy(store, record);
    throw e;
  }
  if (detach) return 0;
  const status = await waitForExit(record.pid, console);
  if (!o.keep) destroy(store, store.read(id));
  return status;
};
