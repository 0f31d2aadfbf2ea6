// pause: freeze every process of the container and return once they are frozen.
import type { CommandMain } from './table';
import { pause } from '../lifecycle/pause';
import { Store } from '../state/store';

export const main: CommandMain<'pause'> = (g, _o, [id]) => {
  pause(new Store(g.root), id);
  return 0;
};
