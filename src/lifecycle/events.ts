// events: the container's stats in runc's JSON, once or every interval, and an
// {"type":"oom"} line at each OOM of its memory cgroup. It ends when the container's
// cgroups are gone (deleted), as runc's.
import { logError } from '../base/log';
import { driverFor } from '../linux/cgroups/drivers';
import { hostLayout } from '../linux/cgroups/layout';
import { watchOom } from '../linux/cgroups/oom';
import { cgroupExists } from '../linux/cgroups/record';
import { toJson } from '../linux/cgroups/stats';
import { Store, statusOf } from '../state/store';
import { requireStatus } from './status-rules';

/** Each event as a line to emit; resolves once the container is gone (or at once with once). */
export function events(store: Store, id: string, o: { intervalMs: number; once: boolean }, emit: (line: string) => void): Promise<void> {
  const rec = store.read(id);
  requireStatus('events', statusOf(store, rec), id);
  const layout = hostLayout();
  const cgroups = driverFor(rec.cgroups);
  const stats = () => toJson({ type: 'stats', id, data: cgroups.stats(rec.cgroups) }) + '\n';
  if (o.once) {
    emit(stats());
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      oom?.close();
      resolve();
    };
    const oom = watchOom(layout, rec.cgroups, () => emit(JSON.stringify({ type: 'oom', id }) + '\n'), finish);
    const timer = setInterval(
      () => {
        if (!cgroupExists(rec.cgroups)) return finish();
        try {
          emit(stats());
        } catch (e) {
          logError((e as Error).message);
        }
      },
      Math.max(1, Math.round(o.intervalMs)),
    );
  });
}
