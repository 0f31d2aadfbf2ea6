import type { CommandMain } from '../base/command';
import { exec } from '../lifecycle/exec';

const list = <T>(v: unknown): T[] | undefined => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]) as T[]);

export const main: CommandMain = (g, o, [id, ...command]) =>
  exec(g, {
    id,
    command,
    processFile: o.process as string | undefined,
    tty: !!o.tty,
    consoleSocket: o['console-socket'] as string | undefined,
    detach: !!o.detach,
    pidFile: o['pid-file'] as string | undefined,
    cwd: o.cwd as string | undefined,
    env: list<string>(o.env),
    user: o.user as string | undefined,
    additionalGids: list<number>(o['additional-gids']),
    caps: list<string>(o.cap),
    noNewPrivs: !!o['no-new-privs'],
    apparmor: o.apparmor as string | undefined,
    processLabel: o['process-label'] as string | undefined,
    preserveFds: o['preserve-fds'] as number,
    ignorePaused: !!o['ignore-paused'],
    cgroups: list<string>(o.cgroup),
  });
