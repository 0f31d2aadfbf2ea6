// events: the container's stats in runc's JSON, once (--stats) or every --interval,
// and an {"type":"oom"} line at each OOM of its memory cgroup. It ends when the
// container's cgroups are gone (deleted), as runc's.
import type { CommandMain } from './table';
import { CorralError } from '../base/errors';
import { logError, out } from '../base/log';
import { hostLayout } from '../linux/cgroups/layout';
import { watchOom } from '../linux/cgroups/oom';
import { cgroupExists } from '../linux/cgroups/record';
import { toJson } from '../linux/cgroups/stats';
import { driverFor } from '../linux/cgroups/drivers';
import { Store, statusOf } from '../state/store';
import { requireStatus } from '../lifecycle/status-rules';

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("5s", "100ms", "1m30s", "0") in milliseconds. */
export function parseDuration(s: string): number {
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

export const main: CommandMain<'events'> = (g, o, [id]) => {
  const interval = parseDuration(String(o.interval ?? '5s'));
  if (interval <= 0) throw new CorralError('duration interval must be greater than 0');
  const store = new Store(g.root);
  const rec = store.read(id);
  requireStatus('events', statusOf(store, rec), id);
  const layout = hostLayout();
  const cgroups = driverFor(rec.cgroups);
  const stats = () => toJson({ type: 'stats', id, data: cgroups.stats(rec.cgroups) }) + '\n';
  if (o.stats) {
    out(stats());
    return 0;
  }
  return new Promise<number>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      oom?.close();
      resolve(0);
    };
    const oom = watchOom(layout, rec.cgroups, () => out(JSON.stringify({ type: 'oom', id }) + '\n'), finish);
    const timer = setInterval(() => {
      if (!cgroupExists(rec.cgroups)) return finish();
      try {
        out(stats());
      } catch (e) {
        logError((e as Error).message);
      }
    }, Math.max(1, Math.round(interval)));
  });
};
