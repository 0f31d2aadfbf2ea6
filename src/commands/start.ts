import type { CommandMain } from '../cli/main';
import { start } from '../lifecycle/start';
import { Store } from '../state/store';

export const main: CommandMain = async (g, _o, [id]) => {
  await start(new Store(g.root), id);
  return 0;
};
