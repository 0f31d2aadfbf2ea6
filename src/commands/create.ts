import type { CommandMain } from '../cli/main';
import { create } from '../lifecycle/create';

export const main: CommandMain = (g, o, [id]) => {
  create(g, {
    id,
    bundle: o.bundle as string | undefined,
    pidFile: o['pid-file'] as string | undefined,
    consoleSocket: o['console-socket'] as string | undefined,
    noPivot: !!o['no-pivot'],
    noNewKeyring: !!o['no-new-keyring'],
    preserveFds: o['preserve-fds'] as number,
  });
  return 0;
};
