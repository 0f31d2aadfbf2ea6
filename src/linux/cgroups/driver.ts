// What a cgroup driver does (cgroupfs.ts, systemd-driver.ts). Which one a container
// has is chosen once, at create, and recorded in its CgroupRecord (see drivers.ts).
import type { Resources } from '../../spec/types';
import type { Layout } from './layout';
import type { Intent } from './manager';
import type { Also } from './signal';
import type { CgroupRecord, DriverName } from './types';

export type { Also } from './signal';

export type FreezerState = 'frozen' | 'thawed' | 'freezing' | 'thawing';

/**
 * What is done with a container's cgroups once they exist: all that the commands of the
 * main bundle (state, kill, delete, start) need, kept apart from the rest (CgroupDriver)
 * so that this bundle does not carry the code that makes them.
 */
export interface CgroupControl {
  readonly name: DriverName;
  /** Removes the cgroups (the processes in them are gone: see killAll). */
  remove(rec: CgroupRecord): void;
  /** Freezes every process and returns once they are frozen; thawed again if they are not within timeoutMs. */
  freeze(rec: CgroupRecord, timeoutMs?: number): void;
  /** Thaws every process and waits until they are. */
  thaw(rec: CgroupRecord): void;
  /** Where the freezer is; undefined without one. */
  state(rec: CgroupRecord): FreezerState | undefined;
  /** Every pid in the cgroups, with those of the sub-cgroups the container made. */
  pids(rec: CgroupRecord): number[];
  /** Signals every process (kill --all), and those also() names. */
  signalAll(rec: CgroupRecord, signal: number, also: Also): void;
  /** SIGKILLs every process, and those also() names, and waits until they are gone; false if they are not. */
  killAll(rec: CgroupRecord, also: Also): boolean;
}

export interface CreateRequest {
  id: string;
  cgroupsPath?: string;
  resources?: Resources;
  annotations?: Record<string, string>;
  /** A process already running, put in the cgroups first (systemd makes the scope with it in). */
  pid: number;
  /** Told what is about to be made before it is (creating.json, for a create that is killed). */
  intent?: Intent;
  /** The host's hierarchies (a test's fake ones). */
  layout?: Layout;
}

/** A cgroup driver: it makes the cgroups and changes their resources, and controls them after. */
export interface CgroupDriver extends CgroupControl {
  /** Makes the container's cgroups and writes its resources; undoes all it did on failure. */
  create(req: CreateRequest): CgroupRecord;
  /** `corral update`: patch is what the command gives, merged the resources they make with the record's. */
  update(rec: CgroupRecord, patch: Resources, merged: Resources): void;
  /** Resource usage in runc's `events --stats` form (here, not in CgroupControl: stats.ts is big). */
  stats(rec: CgroupRecord): Record<string, unknown>;
}
