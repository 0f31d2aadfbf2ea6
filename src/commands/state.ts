import type { CommandMain } from './table';
import { out } from '../base/log';
import { Store, ociState, statusOf } from '../state/store';

export const main: CommandMain<'state'> = (g, _o, [id]) => {
  const store = new Store(g.root);
  const rec = store.read(id);
  const status = statusOf(store, rec);
  // runc's fields besides the spec's: containerd and podman read rootfs, created and owner.
  const s = { ...ociState(rec, status), rootfs: rec.rootfs, created: rec.created, owner: rec.owner };
  out(JSON.stringify(s, null, '  ') + '\n');
  return 0;
};
