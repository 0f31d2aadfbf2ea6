import type { CommandMain } from './table';
import { start } from '../lifecycle/start';
import { Store } from '../state/store';

export const main: CommandMain<'start'> = (g, _o, [id]) => {
  start(new Store(g.root), id);
  return 0;
};
