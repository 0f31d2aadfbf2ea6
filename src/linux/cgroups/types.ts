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
