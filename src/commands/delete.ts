import type { CommandMain } from './table';
import { deleteContainer } from '../lifecycle/destroy';
import { Store } from '../state/store';

export const main: CommandMain<'delete'> = (g, o, [id]) => {
  deleteContainer(new Store(g.root), id, !!o.force);
  return 0;
};
