// The v1 → v2 value conversions every runtime applies the same way, so that one config
// means the same on both hosts.
import { CorralError } from '../../base/errors';

/**
 * cpu.shares [2, 262144] → cpu.weight [1, 10000], linearly: the two ends map to the two
 * ends (the conversion of runc, crun and the kubelet's KEP-2254; 1024 → 39).
 */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight [10, 1000] → io.weight [1, 10000], linearly (no bfq on the host). */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * v1's memory+swap limit → v2's memory.swap.max (swap alone). -1 is unlimited on both
 * sides; `limit` is the memory limit the swap goes with (-1 or undefined: none).
 */
export function swapToV2(swap: number, limit: number | undefined, field: string): number | 'max' {
  if (swap === -1) return 'max';
  if (limit === undefined || limit === -1) throw new CorralError(`${field}: a swap limit (memory+swap) needs a memory limit on cgroup v2 (memory.swap.max is swap alone)`);
  if (swap < limit) throw new CorralError(`${field}: memory+swap limit ${swap} is below the memory limit ${limit}`);
  return swap - limit;
}

/** "0-2,5" → [0, 1, 2, 5]. */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',').filter(Boolean)) {
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

/** Huge page sizes as the cgroup files name them ("2MB", "1GB") from /sys/kernel/mm/hugepages names. */
export function hugePageSizeName(kB: number): string {
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let n = kB;
  let i = 0;
  while (n >= 1024 && n % 1024 === 0 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n}${units[i]}`;
}
