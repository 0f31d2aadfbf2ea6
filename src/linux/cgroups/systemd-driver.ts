// The systemd driver (--systemd-cgroup): systemd makes the container's scope unit, with
// the process it is given in it, in the hierarchies it manages; corral makes the same
// path in the others (v1 freezer, cpuset, hugetlb...) and writes every field, as the
// cgroupfs driver does. Everything but making, updating and removing the scope is the
// cgroupfs driver's. The D-Bus side is loaded only when it is needed (./systemd-load.ts).
import { logWarn } from '../../base/log';
import { cgroupfsControl, cgroupfsDriver } from './cgroupfs';
import type { CgroupControl, CgroupDriver } from './driver';
import { hostLayout } from './layout';
import { applyResources, checkHost, populate } from './manager';
import { removeCgroups } from './record';
import type { SystemdClient } from './systemd-client';
import { loadSystemd } from './systemd-load';
import type { CgroupRecord } from './types';

/**
 * connect: how systemd is reached (a test's double); without it, over D-Bus. The unit
 * stopped before the directories go: systemd kills what is left in it and removes its own.
 */
export function systemdControl(connect?: () => SystemdClient): CgroupControl {
  return {
    ...cgroupfsControl,
    name: 'systemd',
    remove(rec) {
      if (rec.systemd) loadSystemd().stopScope(rec.systemd, connect);
      removeCgroups(rec);
    },
  };
}

export function systemdDriver(connect?: () => SystemdClient): CgroupDriver {
  return {
    ...systemdControl(connect),
    stats: cgroupfsDriver().stats,
    create({ id, cgroupsPath, resources, annotations, pid, intent, layout = hostLayout() }) {
      const sd = loadSystemd();
      const name = sd.systemdUnitName(cgroupsPath, id);
      checkHost(layout, resources ?? {}); // before systemd makes anything
      intent?.({ driver: 'systemd', paths: [], created: [], systemd: name.unit });
      const started = sd.startScope(id, name, pid, resources ?? {}, layout.mode === 'v2', annotations, connect);
      const rec: CgroupRecord = { driver: 'systemd', paths: [], created: [], systemd: started.unit };
      try {
        populate(rec, id, started.cgroup, resources, layout, intent);
      } catch (e) {
        try {
          sd.stopScope(started.unit, connect);
        } catch (s) {
          logWarn((s as Error).message);
        }
        removeCgroups(rec, 0);
        throw e;
      }
      return rec;
    },
    /** The unit's properties first (with all of `merged`), then the files. */
    update(rec, patch, merged) {
      if (rec.systemd) loadSystemd().updateScope(rec.systemd, merged, hostLayout().mode === 'v2', connect);
      applyResources(rec, patch, { update: true });
    },
  };
}
