import type { CommandMain } from './table';
import { CorralError } from '../base/errors';
import { out } from '../base/log';
import { Store, ociState, statusOf } from '../state/store';

export const main: CommandMain<'list'> = (g, o) => {
  const store = new Store(g.root);
  const rows = store.list().flatMap((id) => {
    try {
      const rec = store.read(id);
      const status = statusOf(store, rec);
      return [{ ...ociState(rec, status), rootfs: rec.rootfs, created: rec.created, owner: rec.owner }];
    } catch {
      return [];
    }
  });
  if (o.quiet) {
    out(rows.map((r) => r.id + '\n').join(''));
    return 0;
  }
  if (o.format === 'json') {
    out(JSON.stringify(rows) + '\n');
    return 0;
  }
  if (o.format !== 'table') throw new CorralError(`invalid format option: ${String(o.format)} (one of: table, json)`);
  const table = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows.map((r) => [r.id, String(r.pid), r.status, r.bundle, r.created, r.owner])];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)) + 4);
  out(table.map((row) => row.map((c, i) => (i < row.length - 1 ? c.padEnd(widths[i]) : c)).join('') + '\n').join(''));
  return 0;
};
