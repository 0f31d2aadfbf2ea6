// What the commands that run often (state, kill, delete) need of a container's cgroups:
// its pids and the removal of its directories. Kept apart from the drivers so that those
// commands load none of them.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { CorralError, errnoCode } from '../../base/errors';
import type { CgroupRecord } from './types';
import { sleepSync } from '../../base/sleep';

export function procsFiles(rec: CgroupRecord): string[] {
  return rec.paths.map((p) => join(p, 'cgroup.procs'));
}

/** Sub-cgroups of dir (the container may make its own), deepest first. */
function subCgroups(dir: string): string[] {
  const out: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const sub = join(dir, e.name);
    out.push(...subCgroups(sub), sub);
  }
  return out;
}

function readPids(dir: string): number[] {
  return fs.readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}

/**
 * Every pid in the container's cgroup and the sub-cgroups it made. Its processes are
 * in all hierarchies alike (they join all at birth), so one that can be read is enough.
 */
export function cgroupPids(rec: CgroupRecord): number[] {
  for (const p of rec.paths) {
    let pids: number[];
    try {
      pids = readPids(p);
    } catch {
      continue; // hierarchy gone: try the next
    }
    for (const sub of subCgroups(p)) {
      try {
        pids.push(...readPids(sub));
      } catch {
        // removed meanwhile
      }
    }
    return pids;
  }
  return [];
}

/** Whether any of the container's cgroup directories is still there. */
export function cgroupExists(rec: CgroupRecord): boolean {
  return rec.paths.some((p) => fs.existsSync(p));
}

/**
 * Removes what corral made, deepest first; shared parents that are busy stay. The
 * container's own directories stay busy while its dead init is a zombie not yet
 * reaped by its parent (the host's init, or a shim): wait for that, then fail.
 */
export function removeCgroups(rec: CgroupRecord, waitMs = 10_000): void {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const busy: string[] = [];
    // Sub-cgroups the container made go first; then what corral made, deepest first.
    const subs = rec.paths.filter((p) => rec.created.includes(p)).flatMap(subCgroups);
    for (const dir of [...subs, ...rec.created]) {
      try {
        fs.rmdirSync(dir);
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'ENOENT') continue;
        if (code === 'EBUSY' && !rec.paths.includes(dir) && !subs.includes(dir)) continue; // another container's parent too
        busy.push(`${dir}: ${(e as Error).message}`);
      }
    }
    if (!busy.length) return;
    if (Date.now() > deadline) throw new CorralError(`cgroup: cannot remove ${busy.join(', ')} (a process of the container is still there or not yet reaped)`);
    sleepSync(10);
  }
}
