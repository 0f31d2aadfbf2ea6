// linux.seccomp to plan records; the helper builds the BPF with libseccomp
// (addon/init/seccomp.cc). Every name is checked here, so errors name the field.
import { CorralError } from '../cli/errors';
import type { Seccomp } from '../spec/types';
import { u64, type Plan } from './plan';

export const SECCOMP_ACTIONS = ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE', 'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG'];
export const SECCOMP_OPERATORS = ['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE',
  'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'];
export const SECCOMP_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};
export const SECCOMP_ARCHS = ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB'];

const EPERM = 1;

interface Arg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export function addSeccomp(plan: Plan, s: Seccomp, field = '/linux/seccomp'): void {
  const action = (a: string, where: string) => {
    if (a === 'SCMP_ACT_NOTIFY') throw new CorralError(`${where}: SCMP_ACT_NOTIFY is not supported by corral yet`);
    if (!SECCOMP_ACTIONS.includes(a)) throw new CorralError(`${where}: unknown seccomp action "${a}"`);
    return a;
  };
  if (s.listenerPath) throw new CorralError(`${field}/listenerPath: seccomp notify listeners are not supported by corral yet`);
  plan.add('seccomp', action(s.defaultAction, `${field}/defaultAction`), s.defaultErrnoRet ?? EPERM);
  (s.architectures ?? []).forEach((a, i) => {
    if (!SECCOMP_ARCHS.includes(a)) throw new CorralError(`${field}/architectures/${i}: unknown architecture "${a}"`);
    plan.add('seccomp-arch', a.slice('SCMP_ARCH_'.length).toLowerCase());
  });
  let flags = 0;
  (s.flags ?? []).forEach((f, i) => {
    if (!(f in SECCOMP_FLAGS)) throw new CorralError(`${field}/flags/${i}: unknown or unsupported seccomp flag "${f}"`);
    flags |= SECCOMP_FLAGS[f];
  });
  if (flags) plan.add('seccomp-flags', flags);
  (s.syscalls ?? []).forEach((sc, i) => {
    const where = `${field}/syscalls/${i}`;
    const act = action(sc.action, `${where}/action`);
    const args = ((sc.args ?? []) as Arg[]).map((a, j) => {
      if (!SECCOMP_OPERATORS.includes(a.op)) throw new CorralError(`${where}/args/${j}/op: unknown operator "${a.op}"`);
      if (a.index > 5) throw new CorralError(`${where}/args/${j}/index: syscalls have 6 arguments (got ${a.index})`);
      return `${a.index}:${u64(a.value)}:${u64(a.valueTwo ?? 0)}:${a.op}`;
    }).join(';');
    for (const name of sc.names) plan.add('seccomp-rule', act, sc.errnoRet ?? EPERM, name, args);
  });
}
