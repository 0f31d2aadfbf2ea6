import type { CommandMain } from './table';
import { exec } from '../lifecycle/exec';

export const main: CommandMain<'exec'> = (g, o, [id, ...command]) =>
  exec(g, {
    id,
    command,
    processFile: o.process,
    tty: !!o.tty,
    consoleSocket: o['console-socket'],
    detach: !!o.detach,
    pidFile: o['pid-file'],
    cwd: o.cwd,
    env: o.env,
    user: o.user,
    additionalGids: o['additional-gids'],
    caps: o.cap,
    noNewPrivs: !!o['no-new-privs'],
    apparmor: o.apparmor,
    processLabel: o['process-label'],
    preserveFds: o['preserve-fds'],
    ignorePaused: !!o['ignore-paused'],
    cgroups: o.cgroup,
  });
