// corral's entry point. Kept small: it parses with yargs-parser and loads only the
// bundle of the command it runs (dist/cmd-<name>.js).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import parser from 'yargs-parser';
import { CorralError, isCorralError } from '../base/errors';
import type { Globals } from '../base/globals';
import { configureLog, logDebug, logError } from '../base/log';
import { GLOBAL_FLAGS, findCommand, type FlagSpec } from '../commands/table';
import { main as stateMain } from '../commands/state';
import { main as killMain } from '../commands/kill';
import { main as startMain } from '../commands/start';
import { main as deleteMain } from '../commands/delete';

interface Parsed {
  opts: Record<string, unknown>;
  args: string[];
}

class UsageError extends CorralError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

function parse(argv: string[], flags: readonly FlagSpec[], halt: boolean): Parsed {
  const cfg: parser.Options = {
    boolean: flags.filter((f) => f.type === 'boolean').map((f) => f.name),
    string: flags.filter((f) => f.type === 'string').map((f) => f.name),
    number: flags.filter((f) => f.type === 'number').map((f) => f.name),
    array: flags.filter((f) => f.array).map((f) => f.name),
    alias: Object.fromEntries(flags.filter((f) => f.alias).map((f) => [f.name, [...f.alias!]])),
    configuration: {
      'halt-at-non-option': halt,
      'camel-case-expansion': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'boolean-negation': false,
      'duplicate-arguments-array': true,
      'greedy-arrays': false,
      'short-option-groups': false,
    },
  };
  // yargs-parser never takes a lone "-" as a value; runc's callers pass one
  // (containerd: `update --resources -`): glue it to its string flag.
  const strings = new Set(flags.filter((f) => f.type === 'string').flatMap((f) => [f.name, ...(f.alias ?? [])]));
  const glued: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (argv[i + 1] === '-' && /^--?[^=]+$/.test(a) && strings.has(a.replace(/^--?/, ''))) {
      glued.push(`${a}=-`);
      i++;
    } else glued.push(a);
  }
  const r = parser.detailed(glued, cfg);
  if (r.error) throw new UsageError(r.error.message);
  const known = new Set(flags.flatMap((f) => [f.name, ...(f.alias ?? [])]));
  const opts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.argv)) {
    if (k === '_' || k === '--') continue;
    if (!known.has(k)) throw new UsageError(`flag provided but not defined: -${k}`);
    opts[k] = v;
  }
  for (const f of flags) {
    if (f.unsupported && opts[f.name] !== undefined) throw new UsageError(`--${f.name}: ${f.unsupported}`);
    // A flag given twice: the last one wins, as with runc's flag package.
    if (!f.array && Array.isArray(opts[f.name])) opts[f.name] = (opts[f.name] as unknown[]).at(-1);
    const values = Array.isArray(opts[f.name]) ? (opts[f.name] as unknown[]) : [opts[f.name]];
    if (f.type === 'number' && opts[f.name] !== undefined && !values.every((v) => Number.isInteger(v)))
      throw new UsageError(`invalid value ${JSON.stringify(r.argv[f.name])} for flag -${f.name}: must be an integer`);
    if (opts[f.name] === undefined && f.default !== undefined) opts[f.name] = f.default;
  }
  const args = (r.argv._ as (string | number)[]).map(String);
  if (r.argv['--']) args.push(...(r.argv['--'] as string[]).map(String));
  return { opts, args };
}

/** A command bundle of dist/, through boot.js's code-cached loader when started by it. */
function loadBundle<T>(name: string): T {
  const load = (globalThis as { __corralLoad?: (n: string) => unknown }).__corralLoad;
  return (load ? load(name) : require(join(__dirname, `${name}.js`))) as T;
}

function showHelp(command?: string): number {
  loadBundle<{ printHelp(command?: string): void }>('cmd-help').printHelp(command);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const g = parse(argv, GLOBAL_FLAGS, true);
  const fmt = g.opts['log-format'];
  if (fmt !== 'text' && fmt !== 'json') throw new UsageError(`invalid log format: ${String(fmt)} (one of: text, json)`);
  configureLog(g.opts.log ? resolve(g.opts.log as string) : undefined, fmt, !!g.opts.debug);
  if (g.opts.version) {
    const { out } = await import('../base/log');
    out(`corral version ${VERSION}\nspec: 1.3.0\nnode: ${process.version}\n`);
    return 0;
  }
  if (!['true', 'false', 'auto'].includes(String(g.opts.rootless))) throw new UsageError(`invalid --rootless value: ${String(g.opts.rootless)} (one of: true, false, auto)`);
  if (g.opts.criu) throw new UsageError('--criu: checkpoint/restore is not supported by corral');
  const [name, ...rest] = g.args;
  if (name === 'help' || name === 'h') {
    if (rest[0] && !findCommand(rest[0])) throw new UsageError(`No help topic for '${rest[0]}'`);
    return showHelp(rest[0]);
  }
  if (g.opts.help || !name) return showHelp();
  const spec = findCommand(name);
  if (!spec) throw new UsageError(`No help topic for '${name}'`);
  const c = parse(rest, [...spec.flags, ...GLOBAL_FLAGS.filter((f) => f.name === 'help')], !!spec.haltAtArg);
  if (c.opts.help) return showHelp(name);
  if (c.args.length < spec.minArgs) throw new UsageError(`corral: "${name}" requires a minimum of ${spec.minArgs} argument(s)`, name);
  if (c.args.length > spec.maxArgs) throw new UsageError(`corral: "${name}" requires a maximum of ${spec.maxArgs} argument(s)`, name);
  const globals: Globals = {
    root: resolve(g.opts.root as string), // absolute: create changes into the bundle directory
    log: g.opts.log ? resolve(g.opts.log as string) : undefined,
    logFormat: fmt,
    debug: !!g.opts.debug,
    systemdCgroup: !!g.opts['systemd-cgroup'],
    rootless: String(g.opts.rootless),
  };
  const hot = HOT[name];
  if (hot) return hot(globals, c.opts, c.args);
  if (!existsSync(join(__dirname, `cmd-${name}.js`))) throw new CorralError(`${name}: this command is not supported by corral yet`);
  return loadBundle<{ main: Main }>(`cmd-${name}`).main(globals, c.opts, c.args);
}

declare const VERSION: string;

// The commands a container manager calls several times per container are part of
// this bundle; loading a second file costs more than they weigh.
const HOT = { state: stateMain, kill: killMain, start: startMain, delete: deleteMain } as unknown as Record<string, Main>;

/** A command's main as dispatch sees it: parse() made the flags its table entry declares. */
type Main = (g: Globals, opts: Record<string, unknown>, args: string[]) => number | Promise<number>;

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (isCorralError(e)) {
      if (e.cause instanceof Error) logDebug(`cause: ${e.cause.stack ?? e.cause.message}`);
      logError(e.message);
    } else logError(`internal error: ${(e as Error)?.stack ?? String(e)}`);
    process.exit(isCorralError(e) ? e.exitCode : 1);
  },
);
