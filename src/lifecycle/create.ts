// create: validate, claim the id, make cgroups, hand the plan to corral-init, run the
// creation hooks when it asks, and record the container once its init waits for start.
// Any failure, or the death of this process, leaves nothing behind: corral-init undoes
// what it was told of when this process dies, and what it may not have been told of
// yet (cgroups made before the plan is sent) is in creating.json, for `delete`.
import { chmodSync, closeSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve, basename } from 'node:path';
import { userInfo } from 'node:os';
import { CorralError, corralErrorOf, fsError } from '../base/errors';
import type { Globals } from '../base/globals';
import { addon } from '../linux/addon';
import { chooseDriver } from '../linux/cgroups/drivers';
import { applyResources, checkRealtimePolicy, homeProcsFiles } from '../linux/cgroups/manager';
import { Helper } from '../linux/helper';
import { runHooks, runHooksWarn } from '../linux/hooks';
import { logWarn, phase } from '../base/log';
import { createPlan, rootfsOf } from '../linux/plan';
import { MESSAGES } from '../linux/plan-records';
import { Rollback } from '../base/rollback';
import { readStat } from '../linux/procfs';
import { OCI_VERSION } from '../base/version';
import { Store, type ContainerRecord } from '../state/store';
import type { CgroupRecord } from '../linux/cgroups/types';
import type { Config, OciState } from '../spec/types';
import { loadConfig } from './config';
import { TTY_WITHOUT_SOCKET } from '../base/messages';

export interface CreateArgs {
  id: string;
  bundle?: string;
  pidFile?: string;
  consoleSocket?: string;
  /** runc >= 1.2: a unix socket that gets a pidfd of the init. */
  pidfdSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** run without --detach: a terminal without --console-socket is ours (see Created.console). */
  attachTerminal?: boolean;
}

export function writePidFile(path: string, pid: number): void {
  const abs = resolve(path);
  const tmp = join(dirname(abs), `.${basename(abs)}.${process.pid}`);
  try {
    writeFileSync(tmp, String(pid));
    renameSync(tmp, abs);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fsError(`write ${abs}`, e);
  }
}

/**
 * As runc: the rootfs must be its own real path, not reached through a symlink
 * (a relative one is taken from the bundle's real directory, so a bundle given
 * through a symlink is fine). A rootfs that does not exist is left to the plan.
 */
function checkRootfs(config: Config, bundle: string): void {
  const p = config.root?.path ?? 'rootfs';
  const path = isAbsolute(p)
    ? resolve(p)
    : (() => {
        try {
          return join(realpathSync(bundle), p);
        } catch {
          return undefined;
        }
      })();
  if (!path) return;
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return;
  }
  if (real !== path) throw new CorralError(`/root/path: invalid rootfs ${path}: it goes through a symlink (to ${real}); give the real path, as runc requires`);
}

/** --pidfd-socket: a pidfd of the init, as runc sends it (the data is "pidfd"). */
function sendPidfd(path: string, pid: number): void {
  let sock: number;
  try {
    sock = addon().connectUnix(path, 5000);
  } catch (e) {
    throw CorralError.wrap('--pidfd-socket', e);
  }
  try {
    addon().sendPidfd(sock, pid, 'pidfd');
  } catch (e) {
    throw CorralError.wrap(`--pidfd-socket ${path}`, e);
  } finally {
    closeSync(sock);
  }
}

export interface Created {
  record: ContainerRecord;
  config: Config;
  /** The pty master, when the terminal is ours to attach to (attachTerminal). */
  console?: number;
}

/** What create works with, from the checked config to the container's init. */
interface Creation {
  a: CreateArgs;
  store: Store;
  bundle: string;
  config: Config;
  // Paths given on the command line are the caller's: resolved before chdir.
  pidFile?: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  /** $LISTEN_FDS + --preserve-fds: the fds from 3 on the init gets. */
  passFds: number;
  /** For our own terminal (run without --console-socket) the pty master comes back on this pair. */
  consolePair?: [number, number];
  undo: Rollback;
  dir: string;
  fifo: string;
  creating: string;
  rootfs: string;
  hostMountNs: boolean;
  helper?: Helper;
  pid: number;
  cgroups?: CgroupRecord;
  hooksRan: boolean;
}

/** The config, checked for what this host and these flags can do. */
function prepare(g: Globals, a: CreateArgs): Omit<Creation, 'dir' | 'fifo' | 'creating' | 'undo' | 'consolePair'> & { ownTerminal: boolean } {
  const bundle = resolve(a.bundle ?? '.');
  const consoleSocket = a.consoleSocket ? resolve(a.consoleSocket) : undefined;
  const config = loadConfig(bundle);
  checkRootfs(config, bundle);
  const ownTerminal = !!config.process?.terminal && !consoleSocket && !!a.attachTerminal;
  if (config.process?.terminal && !consoleSocket && !ownTerminal) throw new CorralError(TTY_WITHOUT_SOCKET);
  if (config.process?.apparmorProfile) throw new CorralError('/process/apparmorProfile: AppArmor is not enabled on this host');
  if (config.process?.selinuxLabel || config.linux?.mountLabel)
    throw new CorralError(`${config.process?.selinuxLabel ? '/process/selinuxLabel' : '/linux/mountLabel'}: SELinux is not enabled on this host`);
  // Socket activation, as runc: $LISTEN_FDS fds (from 3 on) come first, then the
  // --preserve-fds ones, and the process is told about them.
  const listenFds = Number(process.env.LISTEN_FDS) > 0 ? Number(process.env.LISTEN_FDS) : 0;
  if (listenFds && config.process) {
    config.process.env = [...(config.process.env ?? []).filter((e) => !/^LISTEN_(FDS|PID)=/.test(e)), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'];
  }
  return {
    a,
    store: new Store(g.root),
    bundle,
    config,
    pidFile: a.pidFile ? resolve(a.pidFile) : undefined,
    consoleSocket,
    pidfdSocket: a.pidfdSocket ? resolve(a.pidfdSocket) : undefined,
    passFds: listenFds + (a.preserveFds ?? 0),
    rootfs: rootfsOf(config, bundle),
    hostMountNs: !(config.linux?.namespaces ?? []).some((n) => n.type === 'mount' && !n.path),
    pid: 0,
    hooksRan: false,
    ownTerminal,
  };
}

function ociStateOf(c: Creation, status: OciState['status']): OciState {
  const annotations = c.config.annotations;
  return {
    ociVersion: OCI_VERSION,
    id: c.a.id,
    status,
    pid: c.pid,
    bundle: c.bundle,
    ...(annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
}

/**
 * corral-init is told to roll back what it was told of, and the init is killed and
 * reaped, before the cgroups it is in are removed: registered once the helper runs,
 * and again once the init exists (it runs once).
 */
function stopperOf(c: Creation): () => void {
  let stopped = false;
  return () => {
    const helper = c.helper;
    if (stopped || !helper) return;
    stopped = true;
    try {
      helper.say(MESSAGES.abort);
    } catch {
      // already gone
    }
    if (c.pid) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    helper.wait();
    helper.close();
  };
}

/** The exec fifo the init waits on for `start`. */
function makeFifo(c: Creation): void {
  try {
    addon().mkfifo(c.fifo, 0o622);
    chmodSync(c.fifo, 0o622); // not narrowed by our umask: the init may be any uid
  } catch (e) {
    throw corralErrorOf(e);
  }
}

/** The cgroups, by the driver chosen for this container (recorded in its state). */
function makeCgroups(g: Globals, c: Creation, pidsZero: boolean): CgroupRecord {
  const intent = (planned: CgroupRecord) => c.store.writeCreating(c.a.id, { rootfs: c.rootfs, hostMountNs: c.hostMountNs, cgroups: planned });
  const resources = c.config.linux?.resources;
  const early = pidsZero ? { ...resources, pids: undefined } : resources;
  const driver = chooseDriver(g);
  const made = driver.create({ id: c.a.id, cgroupsPath: c.config.linux?.cgroupsPath, resources: early, annotations: c.config.annotations, pid: c.helper!.pid, intent });
  c.undo.push('the cgroups', () => driver.remove(made));
  checkRealtimePolicy(made, c.config.process?.scheduler?.policy);
  return made;
}

/** The plan, sent: corral-init clones the init and tells its pid. */
function sendPlan(c: Creation, cgroups: CgroupRecord): number {
  const plan = createPlan(c.config, {
    id: c.a.id,
    bundle: c.bundle,
    fifo: c.fifo,
    noPivot: !!c.a.noPivot,
    noNewKeyring: !!c.a.noNewKeyring,
    consoleSocket: c.consolePair ? Helper.extraFd(c.passFds, 0) : c.consoleSocket,
    preserveFds: c.passFds,
    cgroups,
    cgroupHome: homeProcsFiles(),
    cleanup: {
      // creating.json last: should corral-init die midway, delete still finds the rest.
      // Mounts made in the host's namespace are not corral-init's to undo: it leaves
      // creating.json (and so the directory) for `delete` to unmount them.
      files: [c.fifo, join(c.dir, 'state.json'), join(c.dir, 'lock'), ...(c.pidFile ? [c.pidFile] : []), ...(c.hostMountNs ? [] : [c.creating])],
      dir: c.dir,
    },
  });
  c.helper!.send(plan.encode());
  return Number(c.helper!.expect(MESSAGES.pid));
}

/** The init sets up its root; when the config has creation hooks it stops for them. */
function awaitReady(c: Creation): void {
  const nsTypes = (c.config.linux?.namespaces ?? []).map((n) => n.type);
  for (;;) {
    const line = c.helper!.expect('');
    if (line === MESSAGES.ready) return;
    if (line !== MESSAGES.hooks) throw new CorralError(`helper: unexpected "${line}"`);
    c.hooksRan = true;
    // runtime-tools' hooks_stdin wants "created" for prestart (crun agrees); the
    // newer hooks get the spec's "creating".
    runHooks(c.config.hooks, 'prestart', ociStateOf(c, 'created'));
    runHooks(c.config.hooks, 'createRuntime', ociStateOf(c, 'creating'));
    runHooks(c.config.hooks, 'createContainer', ociStateOf(c, 'creating'), c.pid, nsTypes);
    c.helper!.say(MESSAGES.continue);
  }
}

/** state.json, the pid file and pidfd, then corral-init is told to commit. */
function record(c: Creation, cgroups: CgroupRecord): ContainerRecord {
  const { a, config, pid } = c;
  const rec: ContainerRecord = {
    id: a.id,
    bundle: c.bundle,
    rootfs: c.rootfs,
    pid,
    pidStartTime: readStat(pid)?.startTime ?? '',
    created: new Date().toISOString(),
    owner: userInfo().username,
    annotations: config.annotations,
    cgroups,
    hooks: config.hooks,
    namespaces: (config.linux?.namespaces ?? []).map((n) => ({ type: n.type, path: n.path })),
    hostMountNs: c.hostMountNs,
    process: config.process,
    seccomp: config.linux?.seccomp,
  };
  c.store.write(rec);
  if (c.pidFile) {
    const pidFile = c.pidFile;
    writePidFile(pidFile, pid);
    c.undo.push('the pid file', () => rmSync(pidFile, { force: true }));
  }
  if (c.pidfdSocket) sendPidfd(c.pidfdSocket, pid);
  c.helper!.say(MESSAGES.commit);
  const r = c.helper!.wait();
  if (r.status !== 0) throw new CorralError(`container init did not start: helper exited with ${r.signal ? `signal ${r.signal}` : `status ${r.status}`}`);
  c.helper!.close();
  return rec;
}

export function create(g: Globals, a: CreateArgs): Created {
  const trace = <T>(name: string, fn: () => T) => phase('create', name, fn);
  const { ownTerminal, ...p } = trace('validate', () => prepare(g, a));
  // As runc: relative paths in the config (mount options such as overlay's lowerdir,
  // hooks) are taken from the bundle directory.
  process.chdir(p.bundle);
  const undo = new Rollback();
  const dir = p.store.claim(a.id);
  undo.push('the state directory', () => p.store.remove(a.id));
  const c: Creation = { ...p, undo, dir, fifo: join(dir, 'exec.fifo'), creating: join(dir, 'creating.json'), consolePair: ownTerminal ? addon().socketPair() : undefined };
  // Once the creation hooks ran, poststop runs however the create ends (after the init
  // and its cgroups are gone, before the state directory).
  undo.push('poststop hooks', () => c.hooksRan && runHooksWarn(c.config.hooks, 'poststop', ociStateOf(c, 'stopped')));
  const stopHelper = stopperOf(c);
  try {
    const unlock = p.store.lock(a.id);
    makeFifo(c);
    // The helper first: with --systemd-cgroup, systemd puts it in the container's scope.
    c.helper = trace('helper start', () => Helper.start('create', c.passFds, c.consolePair ? [c.consolePair[1]] : []));
    undo.push('corral-init', stopHelper);
    if (c.consolePair) closeSync(c.consolePair[1]);
    // pids.limit 0 is a real limit (spec 1.3, runc >= 1.4), and no process could be
    // born into such a cgroup: it is written once the init is in it.
    const resources = c.config.linux?.resources;
    const pidsZero = resources?.pids?.limit === 0;
    const cgroups = trace('cgroups', () => makeCgroups(g, c, pidsZero));
    c.cgroups = cgroups;
    c.pid = trace('plan and clone', () => sendPlan(c, cgroups));
    undo.push('the init', stopHelper);
    if (pidsZero) {
      // As an update: the device rules stay as written (rewriting them, deny-all first,
      // raced the init making its devices).
      applyResources(cgroups, { pids: { limit: 0 } }, { update: true });
      cgroups.resources = resources;
    }
    trace('mounts and creation hooks', () => awaitReady(c));
    const rec = trace('record and commit', () => record(c, cgroups));
    undo.commit();
    rmSync(c.creating, { force: true }); // state.json says it all now
    unlock();
    let console: number | undefined;
    if (c.consolePair) {
      console = addon().recvFd(c.consolePair[0]).fd;
      closeSync(c.consolePair[0]);
    }
    return { record: rec, config: c.config, console };
  } catch (e) {
    undo.run(logWarn);
    throw corralErrorOf(e);
  }
}
