// The cgroup drivers by name. The driver is chosen once, at create (chooseDriver), and
// recorded in the container's CgroupRecord; every later command asks the record
// (driverFor, controlFor). A new driver is one file that exports its CgroupControl and
// its CgroupDriver (./driver.ts), a line in each table, and its case in chooseDriver.
//
// Two tables, because of the bundles: state, kill, delete and start are in the main
// bundle, which every command loads, and need only the control half. That table refers
// to nothing that makes cgroups, so esbuild leaves manager.ts, v1.ts, v2.ts... out of it.
import { CorralError } from '../../base/errors';
import { cgroupfsControl, cgroupfsDriver } from './cgroupfs';
import type { CgroupControl, CgroupDriver } from './driver';
import { systemdControl, systemdDriver } from './systemd-driver';
import type { CgroupRecord, DriverName } from './types';

const CONTROLS: Record<DriverName, () => CgroupControl> = {
  cgroupfs: () => cgroupfsControl,
  systemd: () => systemdControl(),
};

const DRIVERS: Record<DriverName, () => CgroupDriver> = {
  cgroupfs: () => cgroupfsDriver(),
  systemd: () => systemdDriver(),
};

/** The driver that made rec: state written before drivers were recorded has only the systemd unit. */
export function driverName(rec: CgroupRecord): DriverName {
  return rec.driver ?? (rec.systemd ? 'systemd' : 'cgroupfs');
}

function pick<T>(table: Record<DriverName, () => T>, name: string): T {
  if (!Object.hasOwn(table, name)) throw new CorralError(`cgroup driver "${name}" of this container is not one this corral knows`);
  return table[name as DriverName]();
}

/** What a command that does not make or change the cgroups does with them. */
export function controlFor(rec: CgroupRecord): CgroupControl {
  return pick(CONTROLS, driverName(rec));
}

/** The driver that made rec, for the commands that change its cgroups (update). */
export function driverFor(rec: CgroupRecord): CgroupDriver {
  return pick(DRIVERS, driverName(rec));
}

/** The driver for a new container: the one chosen on the command line. */
export function chooseDriver(o: { systemdCgroup?: boolean }): CgroupDriver {
  return pick(DRIVERS, o.systemdCgroup ? 'systemd' : 'cgroupfs');
}
