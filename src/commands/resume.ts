// resume: thaw a paused container.
import type { CommandMain } from './table';
import { resume } from '../lifecycle/pause';
import { Store } from '../state/store';

export const main: CommandMain<'resume'> = (g, _o, [id]) => {
  resume(new Store(g.root), id);
  return 0;
};
