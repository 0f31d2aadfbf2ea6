// runc's command line: global flags and commands, with their flags. The parser
// (src/cli/main.ts, yargs-parser) and help (./help.ts) are made from this table, and
// each command's typed flags (Flags<'exec'>) are derived from it: a flag a command
// reads but does not declare fails tsc.
import type { Globals } from '../base/globals';

export type FlagType = 'boolean' | 'string' | 'number';

export interface FlagSpec {
  name: string;
  alias?: readonly string[];
  type: FlagType;
  desc: string;
  default?: string | number | boolean;
  /** May be given more than once (--env A --env B). */
  array?: boolean;
  /** Accepted for compatibility, with a reason when it is not honoured. */
  unsupported?: string;
}

export interface CommandSpec {
  name: string;
  args: string;
  desc: string;
  flags: readonly FlagSpec[];
  minArgs: number;
  maxArgs: number;
  /** Flags stop at the first argument (the command line of exec). */
  haltAtArg?: boolean;
}

export const GLOBAL_FLAGS = [
  { name: 'root', type: 'string', default: '/run/corral', desc: 'root directory for storage of container state (this should be located in tmpfs)' },
  { name: 'log', type: 'string', desc: 'set the log file to write corral logs to (default is stderr)' },
  { name: 'log-format', type: 'string', default: 'text', desc: 'set the log format ("text" or "json")' },
  { name: 'debug', type: 'boolean', desc: 'enable debug logging' },
  { name: 'systemd-cgroup', type: 'boolean', desc: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name"' },
  { name: 'rootless', type: 'string', default: 'auto', desc: 'ignore cgroup permission errors ("true", "false", or "auto")' },
  { name: 'criu', type: 'string', desc: 'path to the criu binary used for checkpoint and restore', unsupported: 'checkpoint/restore is not supported by corral' },
  { name: 'help', alias: ['h'], type: 'boolean', desc: 'show help' },
  { name: 'version', alias: ['v'], type: 'boolean', desc: 'print the version' },
] as const satisfies readonly FlagSpec[];

const bundle = { name: 'bundle', alias: ['b'], type: 'string', desc: 'path to the root of the bundle directory, defaults to the current directory' } as const satisfies FlagSpec;
const consoleSocket = {
  name: 'console-socket',
  type: 'string',
  desc: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
} as const satisfies FlagSpec;
const pidFile = { name: 'pid-file', type: 'string', desc: 'specify the file to write the process id to' } as const satisfies FlagSpec;
const noPivot = { name: 'no-pivot', type: 'boolean', desc: 'do not use pivot root to jail process inside rootfs' } as const satisfies FlagSpec;
const noNewKeyring = { name: 'no-new-keyring', type: 'boolean', desc: 'do not create a new session keyring for the container' } as const satisfies FlagSpec;
const preserveFds = {
  name: 'preserve-fds',
  type: 'number',
  default: 0,
  desc: 'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
} as const satisfies FlagSpec;
const pidfdSocket = {
  name: 'pidfd-socket',
  type: 'string',
  desc: 'path to an AF_UNIX socket which will receive a file descriptor referencing the init process',
} as const satisfies FlagSpec;
const format = { name: 'format', alias: ['f'], type: 'string', default: 'table', desc: 'select one of: table or json' } as const satisfies FlagSpec;

export const COMMANDS = [
  {
    name: 'create',
    args: '<container-id>',
    desc: 'create a container',
    minArgs: 1,
    maxArgs: 1,
    flags: [bundle, consoleSocket, pidfdSocket, pidFile, noPivot, noNewKeyring, preserveFds],
  },
  { name: 'start', args: '<container-id>', desc: 'executes the user defined process in a created container', minArgs: 1, maxArgs: 1, flags: [] },
  { name: 'state', args: '<container-id>', desc: 'output the state of a container', minArgs: 1, maxArgs: 1, flags: [] },
  {
    name: 'kill',
    args: '<container-id> [signal]',
    desc: "kill sends the specified signal (default: SIGTERM) to the container's init process",
    minArgs: 1,
    maxArgs: 2,
    flags: [{ name: 'all', alias: ['a'], type: 'boolean', desc: 'send the specified signal to all processes inside the container' }],
  },
  {
    name: 'delete',
    args: '<container-id>',
    desc: 'delete any resources held by the container often used with detached container',
    minArgs: 1,
    maxArgs: 1,
    flags: [{ name: 'force', alias: ['f'], type: 'boolean', desc: 'Forcibly deletes the container if it is still running (uses SIGKILL)' }],
  },
  {
    name: 'run',
    args: '<container-id>',
    desc: 'create and run a container',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      bundle,
      consoleSocket,
      pidfdSocket,
      pidFile,
      noPivot,
      noNewKeyring,
      preserveFds,
      { name: 'detach', alias: ['d'], type: 'boolean', desc: "detach from the container's process" },
      { name: 'keep', type: 'boolean', desc: 'do not delete the container after it exits' },
      // runc >= 1.2 accepts it and does nothing: corral only becomes a subreaper for run's own wait.
      { name: 'no-subreaper', type: 'boolean', desc: 'disable the use of the subreaper used to reap reparented processes (no effect, as in runc >= 1.2)' },
    ],
  },
  {
    name: 'exec',
    args: '<container-id> <command> [command options]',
    desc: 'execute new process inside the container',
    minArgs: 1,
    maxArgs: Infinity,
    haltAtArg: true,
    flags: [
      consoleSocket,
      pidFile,
      preserveFds,
      { name: 'cwd', type: 'string', desc: 'current working directory in the container' },
      { name: 'env', alias: ['e'], type: 'string', array: true, desc: 'set environment variables' },
      { name: 'tty', alias: ['t'], type: 'boolean', desc: 'allocate a pseudo-TTY' },
      { name: 'user', alias: ['u'], type: 'string', desc: 'UID (format: <uid>[:<gid>])' },
      { name: 'additional-gids', alias: ['g'], type: 'number', array: true, desc: 'additional gids' },
      { name: 'process', alias: ['p'], type: 'string', desc: 'path to the process.json' },
      { name: 'detach', alias: ['d'], type: 'boolean', desc: "detach from the container's process" },
      { name: 'process-label', type: 'string', desc: 'set the asm process label for the process commonly used with selinux' },
      { name: 'apparmor', type: 'string', desc: 'set the apparmor profile for the process' },
      { name: 'no-new-privs', type: 'boolean', desc: 'set the no new privileges value for the process' },
      { name: 'cap', alias: ['c'], type: 'string', array: true, desc: 'add a capability to the bounding set for the process' },
      { name: 'ignore-paused', type: 'boolean', desc: 'allow exec in a paused container' },
      { name: 'cgroup', type: 'string', array: true, desc: 'run the process in an (existing) sub-cgroup(s)' },
    ],
  },
  {
    name: 'update',
    args: '<container-id>',
    desc: 'update container resource constraints',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      { name: 'resources', alias: ['r'], type: 'string', desc: "path to the file containing the resources to update or '-' to read from the standard input" },
      { name: 'blkio-weight', type: 'number', desc: 'specifies per cgroup weight, range is from 10 to 1000' },
      { name: 'cpu-period', type: 'string', desc: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default' },
      { name: 'cpu-quota', type: 'string', desc: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period' },
      { name: 'cpu-burst', type: 'string', desc: 'CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period' },
      { name: 'cpu-share', type: 'string', desc: 'CPU shares (relative weight vs. other containers)' },
      { name: 'cpu-rt-period', type: 'string', desc: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default' },
      { name: 'cpu-rt-runtime', type: 'string', desc: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period' },
      { name: 'cpuset-cpus', type: 'string', desc: 'CPU(s) to use' },
      { name: 'cpuset-mems', type: 'string', desc: 'Memory node(s) to use' },
      { name: 'memory', type: 'string', desc: 'Memory limit (in bytes)' },
      { name: 'memory-reservation', type: 'string', desc: 'Memory reservation or soft_limit (in bytes)' },
      { name: 'memory-swap', type: 'string', desc: "Total memory usage (memory + swap); set '-1' to enable unlimited swap" },
      { name: 'pids-limit', type: 'number', desc: 'Maximum number of pids allowed in the container' },
      { name: 'cpu-idle', type: 'string', desc: 'set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE' },
      { name: 'l3-cache-schema', type: 'string', desc: 'The string of Intel RDT/CAT L3 cache schema', unsupported: 'Intel RDT is not supported by corral' },
      { name: 'mem-bw-schema', type: 'string', desc: 'The string of Intel RDT/MBA memory bandwidth schema', unsupported: 'Intel RDT is not supported by corral' },
    ],
  },
  { name: 'pause', args: '<container-id>', desc: 'pause suspends all processes inside the container', minArgs: 1, maxArgs: 1, flags: [] },
  { name: 'resume', args: '<container-id>', desc: 'resumes all processes that have been previously paused', minArgs: 1, maxArgs: 1, flags: [] },
  {
    name: 'ps',
    args: '<container-id> [ps options]',
    desc: 'ps displays the processes running inside a container',
    minArgs: 1,
    maxArgs: Infinity,
    haltAtArg: true,
    flags: [{ name: 'format', alias: ['f'], type: 'string', default: 'table', desc: 'select one of: table or json' }],
  },
  {
    name: 'events',
    args: '<container-id>',
    desc: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    minArgs: 1,
    maxArgs: 1,
    flags: [
      { name: 'interval', type: 'string', default: '5s', desc: 'set the stats collection interval' },
      { name: 'stats', type: 'boolean', desc: "display the container's stats then exit" },
    ],
  },
  {
    name: 'list',
    args: '',
    desc: 'lists containers started by corral with the given root',
    minArgs: 0,
    maxArgs: 0,
    flags: [format, { name: 'quiet', alias: ['q'], type: 'boolean', desc: 'display only container IDs' }],
  },
  {
    name: 'spec',
    args: '',
    desc: 'create a new specification file',
    minArgs: 0,
    maxArgs: 0,
    flags: [bundle, { name: 'rootless', type: 'boolean', desc: 'generate a configuration for a rootless container' }],
  },
  { name: 'features', args: '', desc: 'show the enabled features', minArgs: 0, maxArgs: 0, flags: [] },
] as const satisfies readonly CommandSpec[];

export function findCommand(name: string): CommandSpec | undefined {
  return (COMMANDS as readonly CommandSpec[]).find((c) => c.name === name);
}

export type CommandName = (typeof COMMANDS)[number]['name'];

/** What the parser hands a flag of this spec: arrays for repeatable flags. */
type ValueOf<F> = F extends { type: 'boolean' }
  ? boolean
  : F extends { type: 'number' }
    ? F extends { array: true }
      ? number[]
      : number
    : F extends { array: true }
      ? string[]
      : string;

type FlagsOf<N extends CommandName> = Extract<(typeof COMMANDS)[number], { name: N }>['flags'][number];

/** A command's flags by name, typed from the table; a flag with a default is always set. */
export type Flags<N extends CommandName> = {
  [F in FlagsOf<N> as F extends { default: unknown } ? F['name'] : never]: ValueOf<F>;
} & {
  [F in FlagsOf<N> as F extends { default: unknown } ? never : F['name']]?: ValueOf<F>;
};

/** What every command module exports as `main`: typed flags in, exit status out. */
export type CommandMain<N extends CommandName> = (g: Globals, opts: Flags<N>, args: string[]) => number | Promise<number>;
