import type { CommandMain } from '../base/command';
import { deleteContainer } from '../lifecycle/destroy';
import { Store } from '../state/store';

export const main: CommandMain = (g, o, [id]) => {
  deleteContainer(new Store(g.root), id, !!o.force);
  return 0;
};
