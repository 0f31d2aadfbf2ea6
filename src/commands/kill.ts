// kill: send a signal (default SIGTERM) to the container's init, or --all its processes.
import type { CommandMain } from './table';
import { kill } from '../lifecycle/kill';
import { Store } from '../state/store';

export const main: CommandMain<'kill'> = (g, o, [id, sig]) => {
  kill(new Store(g.root), id, sig, !!o.all);
  return 0;
};
