// ps: the container's processes. json: the pids of its cgroup; table: the host's
// `ps` output (ps -ef, or the arguments given) cut to the lines of those pids, as runc.
import type { CommandMain } from './table';
import { CorralError } from '../base/errors';
import { out } from '../base/log';
import { controlFor } from '../linux/cgroups/drivers';
import { Store } from '../state/store';

export const main: CommandMain<'ps'> = (g, o, [id, ...rest]) => {
  // `ps ID -- -o pid,comm`: the separator is ours, not ps's.
  const psArgs = rest[0] === '--' ? rest.slice(1) : rest;
  const rec = new Store(g.root).read(id);
  const pids = controlFor(rec.cgroups).pids(rec.cgroups);
  if (o.format === 'json') {
    out(JSON.stringify(pids) + '\n');
    return 0;
  }
  if (o.format !== 'table') throw new CorralError('invalid format option');
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  if (r.error) throw new CorralError(`ps: ${r.error.message}`);
  if (r.status !== 0) throw new CorralError(`ps: exit status ${r.status}: ${(r.stdout + r.stderr).trim()}`);
  const lines = r.stdout.split('\n');
  const pidIndex = lines[0].trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new CorralError("couldn't find PID field in ps output");
  const mine = new Set(pids);
  let text = lines[0] + '\n';
  for (const line of lines.slice(1)) {
    if (!line) continue;
    const field = line.trim().split(/\s+/)[pidIndex];
    const pid = Number(field);
    if (!Number.isInteger(pid)) throw new CorralError(`unable to parse pid: ${JSON.stringify(field)}`);
    if (mine.has(pid)) text += line + '\n';
  }
  out(text);
  return 0;
};
