// linux.seccomp to plan records; the helper builds the BPF with libseccomp
// (addon/init/seccomp.cc). Every name is checked here, so errors name the field.
//
// SCMP_ACT_NOTIFY: the helper connects to listenerPath at create (or exec) time,
// loads the filter with a listener just before execve, and sends the listener fd
// with the container process state (config-linux.md "The Container Process State")
// over that connection. The state is built here; the helper only fills in the pid.
import { CorralError } from '../base/errors';
import type { Seccomp } from '../spec/types';
import { OCI_VERSION } from '../base/version';
import { u64, type Plan } from './plan-records';

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
];
export const SECCOMP_OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
/**
 * The flags corral passes to seccomp(2). WAIT_KILLABLE_RECV (kernel 5.19) only
 * changes how a listener waits, so it applies when a rule notifies; the helper
 * drops it otherwise, since the kernel refuses it without a listener.
 */
export const SECCOMP_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};
/** Every architecture runtime-spec 1.3 names (libseccomp 2.6's list). */
export const SPEC_SECCOMP_ARCHS = [
  'SCMP_ARCH_X86',
  'SCMP_ARCH_X86_64',
  'SCMP_ARCH_X32',
  'SCMP_ARCH_ARM',
  'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64',
  'SCMP_ARCH_M68K',
  'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64',
  'SCMP_ARCH_MIPS64N32',
  'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC',
  'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE',
  'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X',
  'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64',
  'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_SH',
  'SCMP_ARCH_SHEB',
];
/**
 * The ones the helper's libseccomp (Debian 12: 2.5.4, linked statically) resolves;
 * LoongArch, m68k and SuperH came with 2.6. test/integration/seccomp.test.ts loads
 * a filter for each, and checks that the others are refused.
 */
const NOT_IN_LIBSECCOMP = ['SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB'];
export const SECCOMP_ARCHS = SPEC_SECCOMP_ARCHS.filter((a) => !NOT_IN_LIBSECCOMP.includes(a));

const EPERM = 1;
const WITH_ERRNO = ['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE'];
/**
 * The helper hands the listener fd to the agent with sendmsg(2), after the filter is
 * loaded: a notified sendmsg would wait for an agent that has no fd yet.
 */
const HANDOVER_SYSCALLS = ['sendmsg'];

interface Arg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

/** Who the agent is told about: the container, and for exec its init's pid. */
export interface ListenerContext {
  id: string;
  bundle: string;
  annotations?: Record<string, string>;
  /** The container's init pid, for a process exec'd into a running container. */
  initPid?: number;
}

/** The pid the helper fills in: JSON.stringify never writes a raw \x01 itself. */
const PID = '\x01';

/**
 * The container process state for the agent, with \x01 for the pid of the process
 * that loads the filter. For create that process is the init, and the container has
 * been created but not yet run its program: "created". For exec it is "running".
 */
function listenerState(s: Seccomp, ctx: ListenerContext): string {
  const mark = '@@corral-pid@@';
  const state = {
    ociVersion: OCI_VERSION,
    id: ctx.id,
    status: ctx.initPid === undefined ? 'created' : 'running',
    pid: ctx.initPid ?? mark,
    bundle: ctx.bundle,
    ...(ctx.annotations && Object.keys(ctx.annotations).length ? { annotations: ctx.annotations } : {}),
  };
  const doc = {
    ociVersion: OCI_VERSION,
    fds: ['seccompFd'],
    pid: mark,
    ...(s.listenerMetadata !== undefined ? { metadata: s.listenerMetadata } : {}),
    state,
  };
  return JSON.stringify(doc).split(JSON.stringify(mark)).join(PID);
}

export function addSeccomp(plan: Plan, s: Seccomp, field = '/linux/seccomp', listener?: ListenerContext): void {
  const action = (a: string, where: string) => {
    if (!SECCOMP_ACTIONS.includes(a)) throw new CorralError(`${where}: unknown seccomp action "${a}"`);
    return a;
  };
  // The spec: an errno for an action that takes none is an error.
  const errnoFor = (act: string, errno: number | undefined, where: string) => {
    if (errno !== undefined && !WITH_ERRNO.includes(act)) throw new CorralError(`${where}: ${act} takes no errno (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE do)`);
    return errno ?? EPERM;
  };
  const def = action(s.defaultAction, `${field}/defaultAction`);
  if (def === 'SCMP_ACT_NOTIFY')
    throw new CorralError(`${field}/defaultAction: SCMP_ACT_NOTIFY cannot be the default action: the runtime's own hand-over of the listener would wait on it`);
  if (s.listenerMetadata !== undefined && s.listenerPath === undefined) throw new CorralError(`${field}/listenerMetadata: must not be set without listenerPath`);
  plan.add('seccomp', def, errnoFor(def, s.defaultErrnoRet, `${field}/defaultErrnoRet`));
  (s.architectures ?? []).forEach((a, i) => {
    if (!SPEC_SECCOMP_ARCHS.includes(a)) throw new CorralError(`${field}/architectures/${i}: unknown architecture "${a}"`);
    if (!SECCOMP_ARCHS.includes(a)) throw new CorralError(`${field}/architectures/${i}: architecture "${a}" is not supported by this build's libseccomp`);
    plan.add('seccomp-arch', a.slice('SCMP_ARCH_'.length).toLowerCase());
  });
  let flags = 0;
  (s.flags ?? []).forEach((f, i) => {
    if (!(f in SECCOMP_FLAGS)) throw new CorralError(`${field}/flags/${i}: unknown or unsupported seccomp flag "${f}"`);
    flags |= SECCOMP_FLAGS[f];
  });
  if (flags) plan.add('seccomp-flags', flags);
  let notify = false;
  (s.syscalls ?? []).forEach((sc, i) => {
    const where = `${field}/syscalls/${i}`;
    const act = action(sc.action, `${where}/action`);
    const errno = errnoFor(act, sc.errnoRet, `${where}/errnoRet`);
    if (act === 'SCMP_ACT_NOTIFY') {
      notify = true;
      const bad = sc.names.find((n) => HANDOVER_SYSCALLS.includes(n));
      if (bad) throw new CorralError(`${where}: SCMP_ACT_NOTIFY cannot be used for ${bad}: corral hands the listener to the agent with it`);
    }
    const args = ((sc.args ?? []) as Arg[])
      .map((a, j) => {
        if (!SECCOMP_OPERATORS.includes(a.op)) throw new CorralError(`${where}/args/${j}/op: unknown operator "${a.op}"`);
        if (a.index > 5) throw new CorralError(`${where}/args/${j}/index: syscalls have 6 arguments (got ${a.index})`);
        return `${a.index}:${u64(a.value)}:${u64(a.valueTwo ?? 0)}:${a.op}`;
      })
      .join(';');
    for (const name of sc.names) plan.add('seccomp-rule', act, errno, name, args);
  });
  // As the spec says, listenerPath is ignored when nothing notifies.
  if (!notify) return;
  if (!s.listenerPath) throw new CorralError(`${field}/listenerPath: SCMP_ACT_NOTIFY needs the path of the seccomp agent's socket`);
  if (!listener) throw new CorralError(`${field}: SCMP_ACT_NOTIFY is not supported here`);
  plan.add('seccomp-listener', s.listenerPath, listenerState(s, listener));
}
