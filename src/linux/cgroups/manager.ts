// Creating, joining and removing a container's cgroups on every hierarchy of the host.
import * as fs from 'node:fs';
import { join, isAbsolute, dirname } from 'node:path';
import { CorralError } from '../../cli/errors';
import type { CgroupRecord } from '../../state/store';
import type { Resources } from '../../spec/types';
import { dirOf, hostLayout, type Hierarchy } from './layout';
import { applyV1 } from './v1';
import { applyV2 } from './v2';

/** The cgroup path of a container: absolute as given, relative under our own cgroup. */
export function cgroupPathFor(h: Hierarchy, cgroupsPath: string | undefined, id: string): string {
  const p = cgroupsPath || `/corral/${id}`;
  return isAbsolute(p) ? p : join(h.own, p);
}

function mkdirTracked(dir: string, created: string[], onNew: (d: string) => void): void {
  if (fs.existsSync(dir)) return;
  mkdirTracked(dirname(dir), created, onNew);
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new CorralError(`cgroup: mkdir ${dir}: ${(e as Error).message}`);
  }
  created.unshift(dir);
  onNew(dir);
}

// A new cpuset cgroup starts with no cpus and no mems: no process could join it.
function inheritCpuset(dir: string): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    const file = join(dir, f);
    if (fs.existsSync(file) && fs.readFileSync(file, 'utf8').trim() === '')
      fs.writeFileSync(file, fs.readFileSync(join(dirname(dir), f), 'utf8').trim());
  }
}

/** Makes the container's cgroups and writes its resources; undoes everything on failure. */
export function createCgroups(id: string, cgroupsPath: string | undefined, resources: Resources | undefined): CgroupRecord {
  const rec: CgroupRecord = { paths: [], created: [] };
  try {
    for (const h of hostLayout().hierarchies) {
      const dir = dirOf(h, cgroupPathFor(h, cgroupsPath, id));
      const cpuset = h.version === 1 && h.controllers.includes('cpuset');
      mkdirTracked(dir, rec.created, cpuset ? inheritCpuset : () => {});
      rec.paths.push(dir);
      if (h.version === 1 && h.controllers.includes('freezer')) rec.freezer = join(dir, 'freezer.state');
    }
    rec.created.sort((a, b) => b.length - a.length);
    if (resources) applyResources(rec, resources);
  } catch (e) {
    removeCgroups(rec, 0);
    throw e;
  }
  return rec;
}

export function applyResources(rec: CgroupRecord, r: Resources): void {
  const layout = hostLayout();
  layout.hierarchies.forEach((h, i) => {
    const dir = rec.paths[i];
    if (!dir) return;
    if (h.version === 1) applyV1(dir, h.controllers, r);
    else applyV2(dir, h.controllers, r, layout.mode === 'hybrid');
  });
}

/** cgroup.procs of this process's own cgroups, for the helper to return to. */
export function homeProcsFiles(): string[] {
  return hostLayout().hierarchies.map((h) => join(dirOf(h, h.own), 'cgroup.procs'));
}

export function procsFiles(rec: CgroupRecord): string[] {
  return rec.paths.map((p) => join(p, 'cgroup.procs'));
}

/**
 * Every pid in the container's cgroup. Its processes are in all hierarchies alike
 * (they join all at birth), so one that can be read is enough.
 */
export function cgroupPids(rec: CgroupRecord): number[] {
  for (const p of procsFiles(rec)) {
    try {
      return fs.readFileSync(p, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      // hierarchy gone: try the next
    }
  }
  return [];
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
    for (const dir of rec.created) {
      try {
        fs.rmdirSync(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        if (code === 'EBUSY' && !rec.paths.includes(dir)) continue; // another container's parent too
        busy.push(`${dir}: ${(e as Error).message}`);
      }
    }
    if (!busy.length) return;
    if (Date.now() > deadline) throw new CorralError(`cgroup: cannot remove ${busy.join(', ')} (a process of the container is still there or not yet reaped)`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}
