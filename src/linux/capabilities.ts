// Capability names (capabilities(7)) to bit numbers, and the five sets as bit masks.
import { readFileSync } from 'node:fs';
import type { Capabilities } from '../spec/types';

export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

const CAP_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;

let lastCap: number | undefined;
/** The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap). */
export function kernelLastCap(): number {
  if (lastCap === undefined) {
    try {
      lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    } catch {
      lastCap = CAPABILITIES.length - 1;
    }
  }
  return lastCap;
}

/**
 * The five sets as decimal bit masks. Unknown names are an error naming the field;
 * capabilities newer than the running kernel are left out, as runc does.
 */
export function capabilityMasks(caps: Capabilities, field = '/process/capabilities'): string[] {
  const last = kernelLastCap();
  return CAP_SETS.map((set) => {
    let mask = 0n;
    (caps[set] ?? []).forEach((name, i) => {
      const bit = CAPABILITIES.indexOf(name);
      if (bit < 0) throw new Error(`${field}/${set}/${i}: unknown capability "${name}"`);
      if (bit <= last) mask |= 1n << BigInt(bit);
    });
    return mask.toString();
  });
}
