// The plan's records, defined once, and the Plan that writes them: Node writes them
// (Plan.add, typed from this table) and corral-init reads them (scripts/gen-plan-header.mjs
// turns this table into build/gen/plan_records.h, the enum and field counts
// addon/init/plan.cc parses with).
//
// Wire format (little-endian), after a "<body length>\n" line:
//   record := u16 tag (index in RECORDS) · u16 field count · field*
//   field  := u32 byte length · the bytes · NUL
// A field's length, not its content, says where it ends, so no value can end a field
// early or be read as a further record; corral-init also refuses a NUL inside a field.
// Numbers are decimal text.

export const RECORDS = {
  mode: ['mode'], // create | exec
  cloneflags: ['flags'], // CLONE_NEW* to create
  setns: ['type', 'path'], // a namespace to enter by path
  uidmap: ['lines'],
  gidmap: ['lines'],
  timens: ['offsets'], // "clock secs nanosecs\n"...
  cgroup: ['procsFile'], // a cgroup.procs file to join
  cgroup2: ['dir'], // the cgroup2 directory among them, to clone into
  'cgroup-home': ['procsFile'], // ours, to return to after the clone
  'cleanup-cgroup': ['dir'], // removed should Node vanish before committing
  'cleanup-file': ['path'],
  'cleanup-dir': ['path'],
  oomscore: ['value'],
  hostname: ['name'],
  domainname: ['name'],
  rootfs: ['path'],
  rootprop: ['flags'], // propagation of "/" after pivot_root
  readonlyroot: ['on'],
  nopivot: ['on'],
  hooks: ['on'], // stop for the creation hooks
  nnp: ['on'],
  mount: ['source', 'destination', 'type', 'flags', 'data', 'propagation', 'kind', 'copyup', 'attrSet', 'attrClear'],
  device: ['path', 'type', 'major', 'minor', 'mode', 'uid', 'gid', 'how'], // how: mknod | bind
  symlink: ['target', 'link'],
  masked: ['path'],
  readonly: ['path'],
  sysctl: ['key', 'value'],
  rlimit: ['resource', 'soft', 'hard'],
  user: ['uid', 'gid', 'umask'],
  gid: ['gid'],
  caps: ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'],
  cwd: ['path'],
  arg: ['arg'],
  env: ['entry'],
  fifo: ['path'],
  preservefds: ['count'],
  seccomp: ['defaultAction', 'defaultErrno'],
  'seccomp-arch': ['arch'],
  'seccomp-flags': ['flags'],
  'seccomp-rule': ['action', 'errnoRet', 'syscall', 'args'],
  'seccomp-listener': ['path', 'state'],
  terminal: ['on'],
  'console-path': ['path'],
  'console-fd': ['fd'],
  'console-size': ['rows', 'cols'],
  keyring: ['name'],
  personality: ['domain'],
  ioprio: ['value'],
  mempolicy: ['mode', 'flags', 'nodes'], // set_mempolicy(2); nodes as a list ("0-3,5")
  sched: ['policy', 'nice', 'priority', 'flags', 'runtime', 'deadline', 'period'],
} as const;

/**
 * The conversation over the sockets, in text lines, once the plan is sent. create:
 *
 *   Node (lifecycle/create.ts)   corral-init (main.cc)            the init (container.cc)
 *   plan ───────────────────────▶ parse, join cgroups, clone ─────▶ (born)
 *                                 write its id maps ─── go ───────▶ namespaces, mounts, devices
 *   ◀──────────────── pid N ─────
 *                                 ◀───────────────────── hooks ──── (with creation hooks)
 *   ◀──────────────── hooks ─────
 *   run the hooks ─── continue ──▶ ───────────────────── continue ─▶ pivot_root, process set-up
 *                                 ◀───────────────────── ready ────
 *   ◀──────────────── ready ─────
 *   write the state ─ commit ────▶ ───────────────────── commit ───▶ waits on the exec fifo
 *
 * exec: pid N, then ready (or an error) once the process has exec'd. Either corral-init
 * or the init may instead say "error <message>", and Node says "abort" (or vanishes) to
 * have corral-init roll back what it was told of.
 */
export const MESSAGES = {
  go: 'go',
  pid: 'pid',
  hooks: 'hooks',
  continue: 'continue',
  ready: 'ready',
  commit: 'commit',
  abort: 'abort',
  error: 'error',
} as const;

export type RecordTag = keyof typeof RECORDS;
/** The fields of a record, one string or number per name in the table. */
export type RecordFields<T extends RecordTag> = Fields<(typeof RECORDS)[T]>;
type Fields<R extends readonly string[]> = { -readonly [K in keyof R]: string | number };
const RECORD_TAGS = Object.keys(RECORDS) as RecordTag[];

const TAG_INDEX = new Map(RECORD_TAGS.map((t, i) => [t, i]));

/** A plan being written: records in order, encoded as the wire format above. */
export class Plan {
  readonly records: [RecordTag, ...string[]][] = [];

  add<T extends RecordTag>(tag: T, ...fields: RecordFields<T>): this {
    this.records.push([tag, ...(fields as (string | number)[]).map(String)]);
    return this;
  }

  has(tag: RecordTag): boolean {
    return this.records.some((r) => r[0] === tag);
  }

  /** "<length>\n", then each record: u16 tag, u16 field count, fields as u32 length + bytes + NUL. */
  encode(): Buffer {
    const parts: Buffer[] = [];
    for (const [tag, ...fields] of this.records) {
      const head = Buffer.alloc(4);
      head.writeUInt16LE(TAG_INDEX.get(tag)!, 0);
      head.writeUInt16LE(RECORDS[tag].length, 2);
      parts.push(head);
      for (const f of fields) {
        const bytes = Buffer.from(f);
        const len = Buffer.alloc(4);
        len.writeUInt32LE(bytes.length, 0);
        parts.push(len, bytes, NUL);
      }
    }
    const body = Buffer.concat(parts);
    return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
  }
}
const NUL = Buffer.alloc(1);

const U64_MAX = (1n << 64n) - 1n;
/**
 * A JSON number as an exact u64 in decimal. Go writes "unlimited" as 2^64-1, which
 * JSON.parse rounds up to 2^64: clamp rather than wrap to 0.
 */
export function u64(v: number): string {
  const b = BigInt(Math.trunc(v));
  return (b > U64_MAX ? U64_MAX : b < 0n ? 0n : b).toString();
}
