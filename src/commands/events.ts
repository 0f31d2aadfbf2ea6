// events: the container's stats in runc's JSON, once (--stats) or every --interval,
// and an {"type":"oom"} line at each OOM of its memory cgroup. It ends when the
// container's cgroups are gone (deleted), as runc's.
import type { CommandMain } from './table';
import { CorralError } from '../base/errors';
import { out } from '../base/log';
import { events } from '../lifecycle/events';
import { Store } from '../state/store';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5s", "100ms", "1m30s", "0") in milliseconds. */
function parseDuration(s: string): number {
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]];
    at = re.lastIndex;
  }
  if (!s || at !== s.length) throw new CorralError(`invalid value ${JSON.stringify(s)} for flag -interval: parse error`);
  return total;
}

export const main: CommandMain<'events'> = async (g, o, [id]) => {
  const interval = parseDuration(String(o.interval ?? '5s'));
  if (interval <= 0) throw new CorralError('duration interval must be greater than 0');
  await events(new Store(g.root), id, { intervalMs: interval, once: !!o.stats }, out);
  return 0;
};
