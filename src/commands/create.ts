import type { CommandMain } from '../base/command';
import { create, type CreateArgs } from '../lifecycle/create';

/** create's flags (shared with run) as create() takes them. */
export function createArgs(o: Record<string, unknown>, id: string): CreateArgs {
  return {
    id,
    bundle: o.bundle as string | undefined,
    pidFile: o['pid-file'] as string | undefined,
    consoleSocket: o['console-socket'] as string | undefined,
    pidfdSocket: o['pidfd-socket'] as string | undefined,
    noPivot: !!o['no-pivot'],
    noNewKeyring: !!o['no-new-keyring'],
    preserveFds: o['preserve-fds'] as number,
  };
}

export const main: CommandMain = (g, o, [id]) => {
  create(g, createArgs(o, id));
  return 0;
};
