// pause and resume: every process of the container frozen (v1 freezer, v2 cgroup.freeze
// or the systemd unit), returning once the kernel says so; and thawed.
import { controlFor } from '../linux/cgroups/drivers';
import { Store, statusOf } from '../state/store';
import { requireStatus } from './status-rules';

export function pause(store: Store, id: string): void {
  store.withLock(id, (rec) => {
    requireStatus('pause', statusOf(store, rec), id);
    controlFor(rec.cgroups).freeze(rec.cgroups);
  });
}

export function resume(store: Store, id: string): void {
  store.withLock(id, (rec) => {
    requireStatus('resume', statusOf(store, rec), id);
    controlFor(rec.cgroups).thaw(rec.cgroups);
  });
}
