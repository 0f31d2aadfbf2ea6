// Namespace types of the spec, their clone(2) flags and their /proc/<pid>/ns names.
export const NAMESPACES: Record<string, { flag: number; proc: string }> = {
  mount: { flag: 0x00020000, proc: 'mnt' },
  cgroup: { flag: 0x02000000, proc: 'cgroup' },
  uts: { flag: 0x04000000, proc: 'uts' },
  ipc: { flag: 0x08000000, proc: 'ipc' },
  user: { flag: 0x10000000, proc: 'user' },
  pid: { flag: 0x20000000, proc: 'pid' },
  network: { flag: 0x40000000, proc: 'net' },
  time: { flag: 0x00000080, proc: 'time' },
};

export const CLONE_NEWNS = NAMESPACES.mount.flag;
export const CLONE_NEWUSER = NAMESPACES.user.flag;
