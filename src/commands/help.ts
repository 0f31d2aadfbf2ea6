// Help text in the layout of runc's (urfave/cli): NAME, USAGE, COMMANDS or OPTIONS,
// made from the same table the parser uses. Loaded only for help.
import { COMMANDS, GLOBAL_FLAGS, findCommand, type FlagSpec } from './table';
import { writeAll } from '../base/log';

/** "--name value, -n value" as urfave/cli writes a flag. */
function flagName(f: FlagSpec): string {
  const value = f.type === 'boolean' ? '' : ' value';
  return [f.name, ...(f.alias ?? [])].map((n) => `${n.length > 1 ? '--' : '-'}${n}${value}`).join(', ');
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  const width = Math.max(...flags.map((f) => flagName(f).length));
  return flags.map((f) => {
    const def = f.default !== undefined && f.type !== 'boolean' ? ` (default: ${JSON.stringify(f.default)})` : '';
    return `   ${flagName(f).padEnd(width)}  ${f.desc}${f.unsupported ? ` (${f.unsupported})` : ''}${def}`;
  });
}

function text(command?: string): string {
  const spec = command ? findCommand(command) : undefined;
  if (spec) {
    const flags = [...spec.flags, { name: 'help', alias: ['h'], type: 'boolean', desc: 'show help' } as FlagSpec];
    return [
      'NAME:',
      `   corral ${spec.name} - ${spec.desc}`,
      '',
      'USAGE:',
      `   corral ${spec.name} [command options] ${spec.args}`.trimEnd(),
      '',
      'OPTIONS:',
      ...flagLines(flags),
      '',
    ].join('\n');
  }
  const names = [...COMMANDS.map((c) => [c.name, c.desc]), ['help, h', 'Shows a list of commands or help for one command']];
  const width = Math.max(...names.map(([n]) => n.length));
  return [
    'NAME:',
    '   corral - Open Container Initiative runtime',
    '',
    'corral is an OCI runtime-spec container runtime with the command line of runc.',
    '',
    'USAGE:',
    '   corral [global options] command [command options] [arguments...]',
    '',
    'COMMANDS:',
    ...names.map(([n, d]) => `   ${n.padEnd(width)}  ${d}`),
    '',
    'GLOBAL OPTIONS:',
    ...flagLines(GLOBAL_FLAGS),
    '',
  ].join('\n');
}

export function printHelp(command?: string): void {
  writeAll(1, text(command));
}
