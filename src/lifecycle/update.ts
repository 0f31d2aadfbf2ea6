// update: new resource limits for a live container, merged into what its state records.
import { driverFor } from '../linux/cgroups/drivers';
import type { Resources } from '../spec/types';
import { Store, statusOf } from '../state/store';
import { requireStatus } from './status-rules';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** base with what patch sets: objects merged key by key, lists and values replaced. */
function mergeResources<T>(base: T, patch: T): T {
  if (!isObject(base) || !isObject(patch)) return patch === undefined || patch === null ? base : patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || v === null) continue;
    out[k] = isObject(v) && isObject(out[k]) ? mergeResources(out[k], v) : v;
  }
  return out as T;
}

export function update(store: Store, id: string, patch: Resources): void {
  // As runc: device rules are not updated (containerd sends them with every update).
  delete patch.devices;
  store.withLock(id, (rec) => {
    requireStatus('update', statusOf(store, rec), id);
    const merged = mergeResources(rec.cgroups.resources ?? {}, patch);
    driverFor(rec.cgroups).update(rec.cgroups, patch, merged);
    rec.cgroups.resources = merged;
    store.write(rec);
  });
}
