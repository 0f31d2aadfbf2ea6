// Device access rules: the config's, then the ones every container gets (as runc).
import type { DeviceRule } from '../../spec/types';

export const DEFAULT_RULES: DeviceRule[] = [
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // urandom
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' }, // pts
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // tun
];

/** "c 1:3 rwm" as devices.allow/devices.deny take it. */
export function ruleText(r: DeviceRule): string {
  const t = r.type ?? 'a';
  if (t === 'a') return 'a';
  const num = (n: number | null | undefined) => (n === undefined || n === null || n < 0 ? '*' : String(n));
  return `${t} ${num(r.major)}:${num(r.minor)} ${r.access || 'rwm'}`;
}

export function effectiveRules(config: DeviceRule[] | undefined): DeviceRule[] {
  return [...(config ?? []), ...DEFAULT_RULES];
}
