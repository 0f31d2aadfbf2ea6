// Runs config.json hooks with the container's state on stdin (runtime-spec
// config.md "POSIX-platform Hooks"). Hooks of the runtime namespace are started
// directly; createContainer/startContainer hooks enter the container's namespaces
// through corral-init's hook mode.
import { readFileSync } from 'node:fs';
import { errnoText } from '../base/errno';
import { CorralError, errnoCode } from '../base/errors';
import { logWarn } from '../base/log';
import type { Hook, Hooks, OciState } from '../spec/types';
import { NAMESPACES } from './namespaces';
import { helperPath } from './paths';

export type HookName = keyof Hooks;

/** A longer timeout is no timeout (2^31 s: 68 years). */
const MAX_TIMEOUT = 2 ** 31;

/** pid as seen inside its innermost pid namespace (the last NSpid field). */
function pidInContainer(pid: number): number {
  try {
    const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) return Number(m[1].trim().split(/\s+/).at(-1));
  } catch {
    // gone: keep the host's pid
  }
  return pid;
}

function runOne(name: HookName, i: number, hook: Hook, state: OciState, enterPid?: number, nsTypes: string[] = []): void {
  const args = hook.args?.length ? hook.args : [hook.path];
  let flags = 0;
  if (enterPid) {
    // Hooks in the container's namespaces see the pid as the container does.
    state = { ...state, pid: pidInContainer(enterPid) };
    flags = nsTypes.reduce((f, t) => f | (NAMESPACES[t]?.flag ?? 0), 0);
  }
  // corral-init runs the hook in a process group of its own and, at the timeout, kills
  // the whole group (a hook's children would otherwise outlive it), then itself.
  const timeout = hook.timeout ? Math.min(hook.timeout, MAX_TIMEOUT) : 0;
  const argv = ['hook', String(enterPid ?? 0), String(flags), String(timeout), hook.path, ...args];
  // As runc (Go's exec.Cmd with a nil Env): a hook without "env" inherits corral's
  // environment; with one, even empty, it gets exactly that.
  const env: Record<string, string> = hook.env ? {} : ({ ...process.env } as Record<string, string>);
  for (const e of hook.env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  // Loaded here: child_process costs ~3 ms at start, and most containers have no hooks.
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(helperPath, argv, {
    argv0: 'corral-init',
    env,
    input: JSON.stringify(state),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const where = `/hooks/${name}/${i} (${hook.path})`;
  // A hook may exit without reading its stdin: only its status counts then.
  if (r.error && errnoCode(r.error) !== 'EPIPE') {
    const code = errnoCode(r.error);
    if (code === 'ETIMEDOUT') throw new CorralError(`${name} hook ${where}: timed out after ${hook.timeout}s`);
    throw new CorralError(`${name} hook ${where}: ${code === 'ENOENT' ? errnoText(code) : r.error.message}`);
  }
  if (r.signal === 'SIGKILL' && hook.timeout) throw new CorralError(`${name} hook ${where}: timed out after ${hook.timeout}s`);
  if (r.status !== 0) {
    const out = `${r.stderr?.toString() ?? ''}${r.stdout?.toString() ?? ''}`.trim();
    const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    throw new CorralError(`${name} hook ${where} failed: ${how}${out ? `, output: ${out}` : ''}`);
  }
}

/** Runs every hook of one kind in order; the first failure is thrown. */
export function runHooks(hooks: Hooks | undefined, name: HookName, state: OciState, enterPid?: number, nsTypes?: string[]): void {
  (hooks?.[name] ?? []).forEach((h, i) => runOne(name, i, h, state, enterPid, nsTypes));
}

/** poststop: a failure is a warning, and the remaining hooks still run. */
export function runHooksWarn(hooks: Hooks | undefined, name: HookName, state: OciState): void {
  (hooks?.[name] ?? []).forEach((h, i) => {
    try {
      runOne(name, i, h, state);
    } catch (e) {
      logWarn((e as Error).message);
    }
  });
}
