// Help text, made by yargs from the same table the fast parser uses. Loaded only
// for --help and usage errors, so yargs costs nothing on the container paths.
import yargs from 'yargs/yargs';
import { COMMANDS, GLOBAL_FLAGS, findCommand, type FlagSpec } from '../cli/table';
import { writeAll } from '../cli/log';

function options(flags: FlagSpec[]): Record<string, object> {
  return Object.fromEntries(flags.filter((f) => f.name !== 'help' && f.name !== 'version').map((f) => [f.name, {
    type: f.type, alias: f.alias, describe: f.desc + (f.unsupported ? ` (${f.unsupported})` : ''), default: f.default,
  }]));
}

export function printHelp(command?: string): void {
  const spec = command ? findCommand(command) : undefined;
  let y = yargs([]).scriptName('corral').wrap(Math.min(100, process.stdout.columns ?? 100)).version(false).help(false);
  if (spec) {
    y = y.usage(`corral ${spec.name} [options] ${spec.args}\n\n${spec.desc}`).options(options(spec.flags));
  } else {
    y = y.usage('corral [global options] <command> [command options] [arguments...]\n\n' +
      'corral is an OCI runtime-spec container runtime with the command line of runc.')
      .options(options(GLOBAL_FLAGS));
    for (const c of COMMANDS) y = y.command(`${c.name}${c.args ? ' ' + c.args : ''}`, c.desc);
  }
  y.showHelp((s: string) => writeAll(1, s + '\n'));
}
