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
import { logWarn } from '../base/log';
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
  const path = isAbsolute(p) ? resolve(p) : (() => {
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

export function create(g: Globals, a: CreateArgs): Created {
  const store = new Store(g.root);
  const bundle = resolve(a.bundle ?? '.');
  // Paths given on the command line are the caller's: resolve them before chdir.
  const pidFile = a.pidFile ? resolve(a.pidFile) : undefined;
  const consoleSocket = a.consoleSocket ? resolve(a.consoleSocket) : undefined;
  const pidfdSocket = a.pidfdSocket ? resolve(a.pidfdSocket) : undefined;
  const config = loadConfig(bundle);
  checkRootfs(config, bundle);
  const ownTerminal = !!config.process?.terminal && !consoleSocket && !!a.attachTerminal;
  if (config.process?.terminal && !consoleSocket && !ownTerminal)
    throw new CorralError(TTY_WITHOUT_SOCKET);
  if (config.process?.apparmorProfile) throw new CorralError('/process/apparmorProfile: AppArmor is not enabled on this host');
  if (config.process?.selinuxLabel || config.linux?.mountLabel)
    throw new CorralError(`${config.process?.selinuxLabel ? '/process/selinuxLabel' : '/linux/mountLabel'}: SELinux is not enabled on this host`);
  // Socket activation, as runc: $LISTEN_FDS fds (from 3 on) come first, then the
  // --preserve-fds ones, and the process is told about them.
  const listenFds = Number(process.env.LISTEN_FDS) > 0 ? Number(process.env.LISTEN_FDS) : 0;
  if (listenFds && config.process) {
    config.process.env = [...(config.process.env ?? []).filter((e) => !/^LISTEN_(FDS|PID)=/.test(e)), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'];
  }
  const passFds = listenFds + (a.preserveFds ?? 0);
  // As runc: relative paths in the config (mount options such as overlay's lowerdir,
  // hooks) are taken from the bundle directory.
  process.chdir(bundle);
  const undo = new Rollback();
  const dir = store.claim(a.id);
  undo.push('the state directory', () => store.remove(a.id));
  const fifo = join(dir, 'exec.fifo');
  const creating = join(dir, 'creating.json');
  let cgroups: CgroupRecord | undefined;
  let helper: Helper | undefined;
  let pid = 0;
  // For our own terminal the pty master comes back on this socket pair.
  const consolePair = ownTerminal ? addon().socketPair() : undefined;
  let hooksRan = false;
  const state = (status: OciState['status']): OciState => ({
    ociVersion: OCI_VERSION, id: a.id, status, pid, bundle,
    ...(config.annotations && Object.keys(config.annotations).length ? { annotations: config.annotations } : {}),
  });
  // Once the creation hooks ran, poststop runs however the create ends (after the init
  // and its cgroups are gone, before the state directory).
  undo.push('poststop hooks', () => hooksRan && runHooksWarn(config.hooks, 'poststop', state('stopped')));
  // corral-init is told to roll back what it was told of, and the init is killed and
  // reaped, before the cgroups it is in are removed: registered again once the init exists.
  let stopped = false;
  const stopHelper = () => {
    if (stopped || !helper) return;
    stopped = true;
    try {
      helper.say(MESSAGES.abort);
    } catch {
      // already gone
    }
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    helper.wait();
    helper.close();
  };
  try {
    const unlock = store.lock(a.id);
    try {
      addon().mkfifo(fifo, 0o622);
      chmodSync(fifo, 0o622); // not narrowed by our umask: the init may be any uid
    } catch (e) {
      throw corralErrorOf(e);
    }

    // The helper first: with --systemd-cgroup, systemd puts it in the container's scope.
    helper = Helper.start('create', passFds, consolePair ? [consolePair[1]] : []);
    undo.push('corral-init', stopHelper);
    if (consolePair) closeSync(consolePair[1]);
    const rootfs = rootfsOf(config, bundle);
    const hostMountNs = !(config.linux?.namespaces ?? []).some((n) => n.type === 'mount' && !n.path);
    const intent = (planned: CgroupRecord) => store.writeCreating(a.id, { rootfs, hostMountNs, cgroups: planned });
    // pids.limit 0 is a real limit (spec 1.3, runc >= 1.4), and no process could be
    // born into such a cgroup: it is written once the init is in it.
    const resources = config.linux?.resources;
    const pidsZero = resources?.pids?.limit === 0;
    const early = pidsZero ? { ...resources, pids: undefined } : resources;
    const driver = chooseDriver(g);
    cgroups = driver.create({ id: a.id, cgroupsPath: config.linux?.cgroupsPath, resources: early, annotations: config.annotations, pid: helper.pid, intent });
    const made = cgroups;
    undo.push('the cgroups', () => driver.remove(made));
    checkRealtimePolicy(cgroups, config.process?.scheduler?.policy);
    const plan = createPlan(config, {
      id: a.id,
      bundle,
      fifo,
      noPivot: !!a.noPivot,
      noNewKeyring: !!a.noNewKeyring,
      consoleSocket: consolePair ? Helper.extraFd(passFds, 0) : consoleSocket,
      preserveFds: passFds,
      cgroups,
      cgroupHome: homeProcsFiles(),
      cleanup: {
        // creating.json last: should corral-init die midway, delete still finds the rest.
        // Mounts made in the host's namespace are not corral-init's to undo: it leaves
        // creating.json (and so the directory) for `delete` to unmount them.
        files: [fifo, join(dir, 'state.json'), join(dir, 'lock'), ...(pidFile ? [pidFile] : []), ...(hostMountNs ? [] : [creating])],
        dir,
      },
    });
    helper.send(plan.encode());
    pid = Number(helper.expect(MESSAGES.pid));
    undo.push('the init', stopHelper);
    if (pidsZero) {
      // As an update: the device rules stay as written (rewriting them, deny-all first,
      // raced the init making its devices).
      applyResources(cgroups, { pids: { limit: 0 } }, { update: true });
      cgroups.resources = resources;
    }
    const nsTypes = (config.linux?.namespaces ?? []).map((n) => n.type);
    for (;;) {
      const line = helper.expect('');
      if (line === MESSAGES.ready) break;
      if (line !== MESSAGES.hooks) throw new CorralError(`helper: unexpected "${line}"`);
      hooksRan = true;
      // runtime-tools' hooks_stdin wants "created" for prestart (crun agrees); the
      // newer hooks get the spec's "creating".
      runHooks(config.hooks, 'prestart', state('created'));
      runHooks(config.hooks, 'createRuntime', state('creating'));
      runHooks(config.hooks, 'createContainer', state('creating'), pid, nsTypes);
      helper.say(MESSAGES.continue);
    }
    const record: ContainerRecord = {
      id: a.id,
      bundle,
      rootfs,
      pid,
      pidStartTime: readStat(pid)?.startTime ?? '',
      created: new Date().toISOString(),
      owner: userInfo().username,
      annotations: config.annotations,
      cgroups,
      hooks: config.hooks,
      namespaces: (config.linux?.namespaces ?? []).map((n) => ({ type: n.type, path: n.path })),
      hostMountNs,
      process: config.process,
      seccomp: config.linux?.seccomp,
    };
    store.write(record);
    if (pidFile) {
      writePidFile(pidFile, pid);
      undo.push('the pid file', () => rmSync(pidFile, { force: true }));
    }
    if (pidfdSocket) sendPidfd(pidfdSocket, pid);
    helper.say(MESSAGES.commit);
    const r = helper.wait();
    if (r.status !== 0) throw new CorralError(`container init did not start: helper exited with ${r.signal ? `signal ${r.signal}` : `status ${r.status}`}`);
    helper.close();
    undo.commit();
    rmSync(creating, { force: true }); // state.json says it all now
    unlock();
    let console: number | undefined;
    if (consolePair) {
      console = addon().recvFd(consolePair[0]).fd;
      closeSync(consolePair[0]);
    }
    return { record, config, console };
  } catch (e) {
    undo.run(logWarn);
    throw corralErrorOf(e);
  }
}
