// The parts of linux.resources the spec types leave loose, and what the drivers share.
import type { Resources } from '../../spec/types';

export interface WeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface BlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: WeightDevice[];
  throttleReadBpsDevice?: ThrottleDevice[];
  throttleWriteBpsDevice?: ThrottleDevice[];
  throttleReadIOPSDevice?: ThrottleDevice[];
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

export const THROTTLES = [
  ['throttleReadBpsDevice', 'read_bps_device', 'rbps'],
  ['throttleWriteBpsDevice', 'write_bps_device', 'wbps'],
  ['throttleReadIOPSDevice', 'read_iops_device', 'riops'],
  ['throttleWriteIOPSDevice', 'write_iops_device', 'wiops'],
] as const;

export function blockIO(r: Resources): BlockIO | undefined {
  return (r.blockIO ?? undefined) as BlockIO | undefined;
}

/** The JSON pointer of linux.resources, as errors name fields. */
export const R = '/linux/resources';

export interface ApplyOptions {
  /** An update of a live container (`corral update`), not its creation. */
  update?: boolean;
  /** Where a value the kernel accepts but ignores is reported. */
  warn?: (msg: string) => void;
}

/** A value the spec types as a number, where runc's 0 means "not set". */
export function isSet(v: number | null | undefined): v is number {
  return v !== undefined && v !== null && v !== 0;
}

export function defined<T>(v: T | null | undefined): v is T {
  return v !== undefined && v !== null;
}

/** The cgroup drivers (./driver.ts): cgroupfs, or systemd (--systemd-cgroup). */
export type DriverName = 'cgroupfs' | 'systemd';

/** Where a container's cgroups are, as its state records them. */
export interface CgroupRecord {
  /** The driver that made them, and so does everything else with them (not in older state: see driverName). */
  driver?: DriverName;
  /** Every cgroup directory the container's processes were put in. */
  paths: string[];
  /** Directories corral made, deepest first: removed on delete. */
  created: string[];
  /** v1: <freezer dir>/freezer.state; v2 (no v1 freezer): <unified dir>/cgroup.freeze. */
  freezer?: string;
  /** The container's directory in the unified (cgroup2) hierarchy, if the host has one. */
  unified?: string;
  /** --systemd-cgroup: the transient scope unit systemd made for the container. */
  systemd?: string;
  /** linux.resources as applied at create and changed by `update` since. */
  resources?: Resources;
}
