import type { CommandMain, Flags } from './table';
import { create, type CreateArgs } from '../lifecycle/create';

/** create's flags (shared with run) as create() takes them. */
export function createArgs(o: Flags<'create'>, id: string): CreateArgs {
  return {
    id,
    bundle: o.bundle,
    pidFile: o['pid-file'],
    consoleSocket: o['console-socket'],
    pidfdSocket: o['pidfd-socket'],
    noPivot: !!o['no-pivot'],
    noNewKeyring: !!o['no-new-keyring'],
    preserveFds: o['preserve-fds'],
  };
}

export const main: CommandMain<'create'> = (g, o, [id]) => {
  create(g, createArgs(o, id));
  return 0;
};
