// mount(8)-style options to mount(2) flags, propagation and filesystem data.
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  SYNCHRONOUS: 0x10,
  REMOUNT: 0x20,
  MANDLOCK: 0x40,
  DIRSYNC: 0x80,
  NOSYMFOLLOW: 0x100,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  UNBINDABLE: 0x20000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  I_VERSION: 0x800000,
  STRICTATIME: 0x1000000,
  LAZYTIME: 0x2000000,
} as const;

// mount_setattr(2)'s MOUNT_ATTR_*: what the recursive options set down a whole tree.
const ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME: 0x70, RELATIME: 0, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 } as const;

// option -> [flags to clear, flags to set]
const FLAGS: Record<string, [number, number]> = {
  async: [MS.SYNCHRONOUS, 0],
  atime: [MS.NOATIME, 0],
  bind: [0, MS.BIND],
  defaults: [0, 0],
  dev: [MS.NODEV, 0],
  diratime: [MS.NODIRATIME, 0],
  dirsync: [0, MS.DIRSYNC],
  exec: [MS.NOEXEC, 0],
  mand: [0, MS.MANDLOCK],
  noatime: [0, MS.NOATIME],
  nodev: [0, MS.NODEV],
  nodiratime: [0, MS.NODIRATIME],
  noexec: [0, MS.NOEXEC],
  nomand: [MS.MANDLOCK, 0],
  norelatime: [MS.RELATIME, 0],
  nostrictatime: [MS.STRICTATIME, 0],
  nosuid: [0, MS.NOSUID],
  nosymfollow: [0, MS.NOSYMFOLLOW],
  rbind: [0, MS.BIND | MS.REC],
  relatime: [0, MS.RELATIME],
  remount: [0, MS.REMOUNT],
  ro: [0, MS.RDONLY],
  rw: [MS.RDONLY, 0],
  silent: [0, MS.SILENT],
  loud: [MS.SILENT, 0],
  strictatime: [0, MS.STRICTATIME],
  suid: [MS.NOSUID, 0],
  sync: [0, MS.SYNCHRONOUS],
  lazytime: [0, MS.LAZYTIME],
  nolazytime: [MS.LAZYTIME, 0],
  iversion: [0, MS.I_VERSION],
  noiversion: [MS.I_VERSION, 0],
};

// Recursive options (runc >= 1.2, crun): option -> [attributes to clear, to set], applied
// with mount_setattr(AT_RECURSIVE) once the mount is made. The atime modes are one field
// (ATIME) of which setting one clears the others.
const RECURSIVE: Record<string, [number, number]> = {
  rro: [0, ATTR.RDONLY],
  rrw: [ATTR.RDONLY, 0],
  rnosuid: [0, ATTR.NOSUID],
  rsuid: [ATTR.NOSUID, 0],
  rnodev: [0, ATTR.NODEV],
  rdev: [ATTR.NODEV, 0],
  rnoexec: [0, ATTR.NOEXEC],
  rexec: [ATTR.NOEXEC, 0],
  rnodiratime: [0, ATTR.NODIRATIME],
  rdiratime: [ATTR.NODIRATIME, 0],
  rrelatime: [ATTR.ATIME, ATTR.RELATIME],
  rnorelatime: [ATTR.ATIME, ATTR.RELATIME],
  rnoatime: [ATTR.ATIME, ATTR.NOATIME],
  ratime: [ATTR.ATIME, ATTR.RELATIME],
  rstrictatime: [ATTR.ATIME, ATTR.STRICTATIME],
  rnostrictatime: [ATTR.ATIME, ATTR.RELATIME],
  rnosymfollow: [0, ATTR.NOSYMFOLLOW],
  rsymfollow: [ATTR.NOSYMFOLLOW, 0],
};

export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

// Options corral recognises but cannot honour: an error, never silently dropped.
const UNSUPPORTED = new Set(['idmap', 'ridmap']);

export interface ParsedOptions {
  flags: number;
  propagation: number;
  data: string[];
  bind: boolean;
  /** tmpcopyup (runc's extension for tmpfs): the tmpfs starts with what it covers. */
  copyup: boolean;
  /** MOUNT_ATTR_* to set and clear down the tree (the recursive options). */
  attrSet: number;
  attrClear: number;
}

export function parseMountOptions(options: string[], field: string): ParsedOptions {
  let flags = 0;
  let propagation = 0;
  const data: string[] = [];
  let copyup = false;
  let attrSet = 0;
  let attrClear = 0;
  options.forEach((opt, i) => {
    const f = FLAGS[opt];
    const r = RECURSIVE[opt];
    if (r) {
      attrClear = (attrClear & ~r[1]) | r[0];
      attrSet = (attrSet & ~r[0]) | r[1];
    } else if (opt === 'tmpcopyup') {
      copyup = true;
    } else if (f) {
      flags = (flags & ~f[0]) | f[1];
    } else if (opt in PROPAGATION) {
      propagation = PROPAGATION[opt];
    } else if (UNSUPPORTED.has(opt)) {
      throw new Error(`${field}/${i}: mount option "${opt}" is not supported by corral`);
    } else {
      data.push(opt);
    }
  });
  return { flags, propagation, data, bind: (flags & MS.BIND) !== 0, copyup, attrSet, attrClear };
}
