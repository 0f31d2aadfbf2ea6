// exec: run another process in a container — corral-init joins its namespaces and
// cgroups (setns into user and mount namespaces needs a single-threaded process),
// forks into its pid namespace, applies the process's identity, caps and seccomp,
// and execs. Without --detach we wait and exit with the process's status.
import { closeSync, existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CorralError } from '../base/errors';
import type { Globals } from '../base/globals';
import { addon } from '../linux/addon';
import { hostLayout } from '../linux/cgroups/layout';
import { Helper } from '../linux/helper';
import { NAMESPACES } from '../linux/namespaces';
import { Plan, addProcess, addTerminal } from '../linux/plan';
import { MESSAGES } from '../linux/plan-records';
import { addSeccomp } from '../linux/seccomp';
import { parseJson, readRegularFile } from '../spec/json';
import { configProblems } from '../spec/validate';
import type { Process } from '../spec/types';
import { Store, statusOf, type ContainerRecord } from '../state/store';
import { requireStatus } from './status-rules';
import { writePidFile } from './create';
import { waitForExit } from './wait';
import { TTY_WITHOUT_SOCKET } from '../base/messages';
import { logWarn, phase } from '../base/log';
import { Rollback } from '../base/rollback';

export interface ExecArgs {
  id: string;
  command: string[];
  processFile?: string;
  tty?: boolean;
  consoleSocket?: string;
  detach?: boolean;
  pidFile?: string;
  cwd?: string;
  env?: string[];
  user?: string;
  additionalGids?: number[];
  caps?: string[];
  noNewPrivs?: boolean;
  apparmor?: string;
  processLabel?: string;
  preserveFds?: number;
  ignorePaused?: boolean;
  /** runc's --cgroup: "sub" (every hierarchy) or "ctrl[,ctrl]:sub", an existing sub-cgroup. */
  cgroups?: string[];
}

function loadProcessFile(path: string): Process {
  const doc = parseJson(readRegularFile(path), path);
  // The process schema lives inside the config schema: check it there.
  const problems = configProblems({ ociVersion: '1.3.0', process: doc });
  if (problems.length) throw new CorralError(problems.map((p) => `${path}: ${p.replace(/^\/process/, '')}`).join('\n'));
  return doc as Process;
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const env = [...base];
  for (const e of extra) {
    const key = e.split('=')[0];
    const i = env.findIndex((x) => x.split('=')[0] === key);
    if (i >= 0) env[i] = e;
    else env.push(e);
  }
  return env;
}

/** The process to run: --process FILE, or the container's process with the flags applied. */
function processFor(base: Process | undefined, a: ExecArgs): Process {
  if (a.processFile) return loadProcessFile(a.processFile);
  if (!a.command.length) throw new CorralError('exec: no command given (use --process or add the command after the id)');
  const p: Process = structuredClone(base ?? { cwd: '/', user: { uid: 0, gid: 0 } });
  p.args = a.command;
  p.terminal = !!a.tty;
  if (a.cwd) p.cwd = a.cwd;
  p.env = mergeEnv(p.env ?? [], a.env ?? []);
  if (a.user) {
    const m = /^(\d+)(?::(\d+))?$/.exec(a.user);
    if (!m) throw new CorralError(`--user: "${a.user}" is not uid[:gid] (numbers only)`);
    p.user = { ...p.user, uid: Number(m[1]), gid: m[2] !== undefined ? Number(m[2]) : (p.user?.gid ?? 0) };
  }
  if (a.additionalGids?.length) p.user = { ...p.user, additionalGids: a.additionalGids };
  if (a.caps?.length) {
    const c = (p.capabilities ??= {});
    for (const set of ['bounding', 'effective', 'permitted', 'ambient', 'inheritable'] as const) c[set] = [...new Set([...(c[set] ?? []), ...a.caps])];
  }
  if (a.noNewPrivs) p.noNewPrivileges = true;
  if (a.apparmor) p.apparmorProfile = a.apparmor;
  if (a.processLabel) p.selinuxLabel = a.processLabel;
  return p;
}

/** cgroup.procs files to join: the container's, or the sub-cgroups --cgroup names. */
function execCgroups(paths: string[], specs: string[]): string[] {
  const chosen = [...paths];
  for (const spec of specs) {
    const colon = spec.indexOf(':');
    const controllers = colon >= 0 ? spec.slice(0, colon).split(',') : undefined;
    const sub = colon >= 0 ? spec.slice(colon + 1) : spec;
    if (!sub || isAbsolute(sub) || sub.split('/').includes('..')) throw new CorralError(`--cgroup ${spec}: the sub-cgroup must be a relative path inside the container's cgroup`);
    let matched = false;
    const hierarchies = hostLayout().hierarchies; // in the order of the record's paths
    paths.forEach((p, i) => {
      const has = hierarchies[i]?.controllers ?? [];
      if (controllers && !controllers.some((c) => has.includes(c) || has.includes(`name=${c}`))) return;
      const dir = join(p, sub);
      if (!existsSync(dir)) throw new CorralError(`--cgroup ${spec}: ${dir}: no such cgroup`);
      chosen[i] = dir;
      matched = true;
    });
    if (!matched) throw new CorralError(`--cgroup ${spec}: no hierarchy of the container has controller ${controllers?.join(',')}`);
  }
  return chosen.map((p) => join(p, 'cgroup.procs'));
}

/** The namespaces to enter: the container's, less those we already share. */
function namespacePaths(pid: number, types: string[]): [number, string][] {
  const out: [number, string][] = [];
  for (const t of types) {
    const ns = NAMESPACES[t];
    const path = `/proc/${pid}/ns/${ns.proc}`;
    const theirs = statSync(path);
    const ours = statSync(`/proc/self/ns/${ns.proc}`);
    if (theirs.ino !== ours.ino || theirs.dev !== ours.dev) out.push([ns.flag, path]);
  }
  return out;
}

/** The process exec runs, with the container's record, once the status allows it. */
function prepare(g: Globals, a: ExecArgs): { rec: ContainerRecord; proc: Process; passFds: number } {
  const store = new Store(g.root);
  const rec = store.read(a.id);
  requireStatus(a.ignorePaused ? 'exec --ignore-paused' : 'exec', statusOf(store, rec), a.id);
  const proc = processFor(rec.process, a);
  if (proc.apparmorProfile) throw new CorralError('exec: apparmorProfile: AppArmor is not enabled on this host');
  if (proc.selinuxLabel) throw new CorralError('exec: selinuxLabel: SELinux is not enabled on this host');
  // As runc: a terminal without --console-socket is ours when we stay.
  if (proc.terminal && !a.consoleSocket && a.detach) throw new CorralError(TTY_WITHOUT_SOCKET);
  const listenFds = Number(process.env.LISTEN_FDS) > 0 ? Number(process.env.LISTEN_FDS) : 0;
  if (listenFds) proc.env = mergeEnv(proc.env ?? [], [`LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1']);
  return { rec, proc, passFds: listenFds + (a.preserveFds ?? 0) };
}

/** What corral-init is told: the namespaces and cgroups to join, then the process. */
function execPlan(rec: ContainerRecord, proc: Process, a: ExecArgs, passFds: number, consoleFd: number | undefined): Plan {
  const plan = new Plan().add('mode', 'exec');
  const types = rec.namespaces.map((n) => n.type);
  for (const [flag, path] of namespacePaths(rec.pid, types)) plan.add('setns', flag, path);
  for (const f of execCgroups(rec.cgroups.paths, a.cgroups ?? [])) plan.add('cgroup', f);
  if (passFds) plan.add('preservefds', passFds);
  if (rec.seccomp) addSeccomp(plan, rec.seccomp, '/linux/seccomp', { id: rec.id, bundle: rec.bundle, annotations: rec.annotations, initPid: rec.pid });
  if (proc.oomScoreAdj !== undefined) plan.add('oomscore', proc.oomScoreAdj);
  addProcess(plan, proc);
  if (proc.terminal) addTerminal(plan, proc, consoleFd ?? resolve(a.consoleSocket!));
  return plan;
}

interface Started {
  pid: number;
  /** The pty's master, when the terminal is ours (no --console-socket). */
  master?: number;
}

/**
 * corral-init runs the process and exits once it is started; without --detach the
 * process is handed to us (we are its subreaper) to wait for. Undo: kill it.
 */
function startProcess(rec: ContainerRecord, proc: Process, a: ExecArgs, passFds: number, undo: Rollback): Started {
  // The pty master comes back on a socket pair and we copy it to our stdio.
  const consolePair = proc.terminal && !a.consoleSocket ? addon().socketPair() : undefined;
  let plan: Plan;
  try {
    plan = execPlan(rec, proc, a, passFds, consolePair ? Helper.extraFd(passFds, 0) : undefined);
  } catch (e) {
    if (consolePair) consolePair.forEach((fd) => closeSync(fd));
    throw e;
  }
  if (!a.detach) addon().setSubreaper();
  const helper = Helper.start('exec', passFds, consolePair ? [consolePair[1]] : []);
  if (consolePair) closeSync(consolePair[1]);
  try {
    helper.send(plan.encode());
    const pid = Number(helper.expect(MESSAGES.pid));
    if (!(pid > 0)) throw new CorralError(`exec: corral-init sent no pid (${JSON.stringify(pid)})`);
    undo.push(`the exec'd process ${pid}`, () => {
      process.kill(pid, 'SIGKILL');
      if (!a.detach) addon().wait(pid, false);
    });
    helper.expect(MESSAGES.ready);
    if (!consolePair) return { pid };
    const master = addon().recvFd(consolePair[0]).fd;
    undo.push('the console', () => closeSync(master));
    return { pid, master };
  } finally {
    helper.wait();
    helper.close();
    if (consolePair) closeSync(consolePair[0]);
  }
}

export async function exec(g: Globals, a: ExecArgs): Promise<number> {
  const { rec, proc, passFds } = phase('exec', 'validate', () => prepare(g, a));
  const undo = new Rollback();
  let started: Started;
  try {
    started = phase('exec', 'join and start the process', () => startProcess(rec, proc, a, passFds, undo));
    if (a.pidFile) writePidFile(a.pidFile, started.pid);
    undo.commit();
  } catch (e) {
    undo.run(logWarn);
    throw e;
  }
  if (a.detach) return 0;
  return waitForExit(started.pid, started.master);
}
