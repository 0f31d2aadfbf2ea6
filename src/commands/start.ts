import type { CommandMain } from '../base/command';
import { start } from '../lifecycle/start';
import { Store } from '../state/store';

export const main: CommandMain = (g, _o, [id]) => {
  start(new Store(g.root), id);
  return 0;
};
