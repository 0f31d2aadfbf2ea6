// Which cgroup hierarchies this host has, read from /proc/self/mountinfo and
// /proc/self/cgroup: v1, v2 (unified) or hybrid (v1 controllers plus a cgroup2 mount).
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface Hierarchy {
  version: 1 | 2;
  /** Where it is mounted, e.g. /sys/fs/cgroup/memory. */
  mount: string;
  /** The cgroup path that mount's root stands for (not "/" inside a cgroup namespace). */
  root: string;
  /** v1: the mount's controllers (and name=...); v2: what cgroup.controllers lists. */
  controllers: string[];
  /** This process's own cgroup in the hierarchy. */
  own: string;
}

export interface Layout {
  mode: 'v1' | 'v2' | 'hybrid';
  hierarchies: Hierarchy[];
}

function unescape(s: string): string {
  return s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseLayout(mountinfo: string, selfCgroup: string, v2Controllers: (mount: string) => string[]): Layout {
  const own = new Map<string, string>();
  for (const line of selfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (m) own.set(m[1] === '0' && m[2] === '' ? '' : m[2], m[3]);
  }
  const hierarchies: Hierarchy[] = [];
  const seen = new Set<string>();
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!post) continue;
    const f = pre.split(' ');
    const [fstype, , superopts] = post.split(' ');
    const mount = unescape(f[4]);
    const root = unescape(f[3]);
    if (fstype === 'cgroup2') {
      if (seen.has('')) continue;
      seen.add('');
      hierarchies.push({ version: 2, mount, root, controllers: v2Controllers(mount), own: own.get('') ?? '/' });
    } else if (fstype === 'cgroup') {
      const controllers = superopts
        .split(',')
        .filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent') && o !== 'clone_children' && o !== 'noprefix' && o !== 'xattr' && o !== 'cpuset_v2_mode');
      const key = controllers.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      const ownPath = [...own.entries()].find(([k]) => k.split(',').sort().join(',') === [...controllers].sort().join(','))?.[1] ?? '/';
      hierarchies.push({ version: 1, mount, root, controllers, own: ownPath });
    }
  }
  const v1 = hierarchies.some((h) => h.version === 1);
  const v2 = hierarchies.some((h) => h.version === 2);
  return { mode: v1 && v2 ? 'hybrid' : v2 ? 'v2' : 'v1', hierarchies };
}

let cached: Layout | undefined;
export function hostLayout(): Layout {
  cached ??= parseLayout(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8'), (mount) => {
    try {
      return readFileSync(join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return [];
    }
  });
  return cached;
}

/** The directory of cgroup path cg (as in /proc/self/cgroup) in hierarchy h. */
export function dirOf(h: Hierarchy, cg: string): string {
  const rel = relative(h.root, cg);
  // A path outside what the mount shows (e.g. a host path seen from inside another
  // container's cgroup mount) is taken as relative to the mount, as runc does.
  if (rel.startsWith('..')) return join(h.mount, cg);
  return join(h.mount, rel || '.');
}
