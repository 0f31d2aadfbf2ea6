// Signal names and numbers as `kill` takes them: KILL, SIGKILL, 9.
import { constants } from 'node:os';
import { CorralError } from '../base/errors';

export function parseSignal(s: string | undefined): number {
  if (s === undefined || s === '') return constants.signals.SIGTERM;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > 0 && n <= 64) return n;
  } else {
    const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
    const n = (constants.signals as Record<string, number>)[name];
    if (n) return n;
    const rt = /^SIGRTMIN(\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(-(\d+))?$/.exec(name);
    const rtn = rt ? (name.startsWith('SIGRTMIN') ? 34 + Number(rt[2] ?? 0) : 64 - Number(rt[2] ?? 0)) : 0;
    if (rtn >= 34 && rtn <= 64) return rtn;
  }
  throw new CorralError(`unknown signal "${s}"`);
}
