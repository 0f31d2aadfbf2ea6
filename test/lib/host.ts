// What this host has, probed before a test depends on it (as runc's integration tests
// do with `requires`). A test either checks what the host supports or skips with the
// reason these return. Every probe reads its tree from a parameter (defaulting to the
// real one), so test/unit/host.test.ts can point it at a fake tree; test/README.md
// lists which facts the suite depends on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { hugePageSizeName } from '../../src/linux/cgroups/convert';
import { hostLayout, type Hierarchy, type Layout } from '../../src/linux/cgroups/layout';

const readOr = (path: string, or = '') => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return or;
  }
};

/** The hierarchy that carries controller: a v1 one of its own, else the unified one if it offers it. */
export function hierarchyOf(controller: string, layout: Layout = hostLayout()): Hierarchy | undefined {
  return (
    layout.hierarchies.find((h) => h.version === 1 && h.controllers.includes(controller)) ?? layout.hierarchies.find((h) => h.version === 2 && h.controllers.includes(controller))
  );
}

const fileCache = new Map<string, boolean>();
/**
 * Whether a (non-root) cgroup of controller has file: a scratch child made in the
 * controller's hierarchy shows it (many files, e.g. blkio.bfq.weight or pids.max, are
 * not on the root). On the unified side the child has what the root's subtree_control
 * enables, so ask there only for what is enabled (corral enables what it writes).
 */
export function cgroupFile(controller: string, file: string, layout: Layout = hostLayout()): boolean {
  const h = hierarchyOf(controller, layout);
  if (!h) return false;
  const key = `${h.mount}/${file}`;
  if (!fileCache.has(key)) {
    const dir = join(h.mount, `corral-probe-${process.pid}-${fileCache.size}`);
    try {
      mkdirSync(dir);
      fileCache.set(key, existsSync(join(dir, file)));
    } catch {
      fileCache.set(key, existsSync(join(h.mount, file))); // cannot make a child: the root has to do
    } finally {
      try {
        rmdirSync(dir);
      } catch {
        // not made
      }
    }
  }
  return fileCache.get(key)!;
}

/** The huge page sizes of this host, smallest first, named as cgroup files name them ("2MB", "1GB"). */
export function hugePageSizes(sysfs = '/sys/kernel/mm/hugepages'): string[] {
  let entries: string[];
  try {
    entries = readdirSync(sysfs);
  } catch {
    return []; // no hugetlbfs in this kernel
  }
  return entries
    .map((e) => /^hugepages-(\d+)kB$/.exec(e))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b)
    .map(hugePageSizeName);
}

/** The bytes of a huge page size name ("2MB" → 2097152). */
export function pageBytes(size: string): number {
  return parseInt(size, 10) * 1024 ** ('KMGTP'.indexOf(size[size.length - 2]) + 1);
}

/** The file blockIO.weight lands in on cgroup v1: blkio.weight (CFQ, before 5.0), blkio.bfq.weight (BFQ), or none. */
export function blkioWeightFile(has: (file: string) => boolean = (f) => cgroupFile('blkio', f)): string | undefined {
  return ['blkio.weight', 'blkio.bfq.weight'].find(has);
}

/** Whether any swap is on (/proc/swaps lists more than its header). */
export function hasSwap(procSwaps = '/proc/swaps'): boolean {
  return readOr(procSwaps).split('\n').length > 1;
}

/** A block device of this host as "major:minor" (for the throttle files; a loop device only if there is no other), or undefined. */
export function blockDevice(sysBlock = '/sys/block'): string | undefined {
  let names: string[];
  try {
    names = readdirSync(sysBlock).sort((a, b) => Number(a.startsWith('loop')) - Number(b.startsWith('loop')) || a.localeCompare(b));
  } catch {
    return undefined;
  }
  for (const d of names) {
    const dev = readOr(join(sysBlock, d, 'dev'));
    if (dev) return dev;
  }
  return undefined;
}

/** Whether an LSM is enabled (its label would then be applied, not refused). */
export function lsmEnabled(lsm: 'apparmor' | 'selinux', sys = '/sys'): boolean {
  if (lsm === 'apparmor') return readOr(join(sys, 'module/apparmor/parameters/enabled')) === 'Y';
  return existsSync(join(sys, 'fs/selinux/enforce'));
}

/** Whether the running kernel is at least version ("5.19"), for features no file shows. */
export function kernelAtLeast(version: string, running = release()): boolean {
  const [a, b] = [version, running].map((v) => v.split(/[.-]/).slice(0, 2).map(Number));
  return a[0] !== b[0] ? b[0] > a[0] : b[1] >= a[1];
}

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Whether `ip link add X type kind` works (a kernel module may be missing), tried in a throw-away network namespace. */
export function canAddLink(kind: string): boolean {
  return spawnSync('unshare', ['--net', 'ip', 'link', 'add', 'probe0', 'type', kind], { stdio: 'ignore' }).status === 0;
}

/** The reason to skip when a required fact is missing: the first one that is, or false (tap's `skip` option). */
export function requires(...facts: [boolean, string][]): string | false {
  const missing = facts.find(([ok]) => !ok);
  return missing ? `this host lacks ${missing[1]}` : false;
}
