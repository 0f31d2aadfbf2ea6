// The state directory: <root>/<id>/state.json (written atomically), exec.fifo while the
// container waits for `start`, and a lock file serialising commands on one container.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { CorralError } from '../cli/errors';
import { isSameProcess, readStat } from '../linux/procfs';
import type { Hooks, OciState, Process, Resources, Seccomp } from '../spec/types';

export const OCI_VERSION = '1.3.0';

export interface CgroupRecord {
  /** Every cgroup directory the container's processes were put in. */
  paths: string[];
  /** Directories corral made, deepest first: removed on delete. */
  created: string[];
  /** v1: <freezer dir>/freezer.state; v2 (no v1 freezer): <unified dir>/cgroup.freeze. */
  freezer?: string;
  /** The container's directory in the unified (cgroup2) hierarchy, if the host has one. */
  unified?: string;
  /** --systemd-cgroup: the transient scope unit systemd made for the container. */
  systemd?: string;
  /** linux.resources as applied at create and changed by `update` since. */
  resources?: Resources;
}

export interface ContainerRecord {
  id: string;
  bundle: string;
  rootfs: string;
  pid: number;
  pidStartTime: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  cgroups: CgroupRecord;
  hooks?: Hooks;
  /** Namespace types the container made or joined, with the path to enter each. */
  namespaces: { type: string; path?: string }[];
  /** The container shares a mount namespace with the host: its mounts must be undone on delete. */
  hostMountNs: boolean;
  /** The process spec from config.json, for exec defaults. */
  process?: Process;
  /** The container's seccomp profile: exec'd processes get it too. */
  seccomp?: Seccomp;
}

const ID_RE = /^[\w+\-.]+$/;

export function validateId(id: string | undefined): string {
  if (!id) throw new CorralError('container id cannot be empty');
  if (!ID_RE.test(id) || id === '.' || id === '..') throw new CorralError(`invalid container id format: ${id}`);
  return id;
}

export class Store {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, validateId(id));
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Makes the container's directory; fails when the id is taken. */
  claim(id: string): string {
    // Private, as runc's: other users must not reach the exec fifo or the state.
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new CorralError(`container with id exists: ${id}`);
      throw e;
    }
    return dir;
  }

  exists(id: string): boolean {
    return fs.existsSync(join(this.dir(id), 'state.json'));
  }

  read(id: string): ContainerRecord {
    let text: string;
    try {
      text = fs.readFileSync(join(this.dir(id), 'state.json'), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CorralError('container does not exist');
      throw e;
    }
    return JSON.parse(text) as ContainerRecord;
  }

  write(rec: ContainerRecord): void {
    const dir = this.dir(rec.id);
    const tmp = join(dir, `.state.json.${process.pid}`);
    fs.writeFileSync(tmp, JSON.stringify(rec));
    fs.renameSync(tmp, join(dir, 'state.json'));
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  list(): string[] {
    try {
      return fs.readdirSync(this.root).filter((n) => ID_RE.test(n) && this.exists(n)).sort();
    } catch {
      return [];
    }
  }

  /** Runs fn on the container's record, read and used with the container's lock held. */
  withLock<T>(id: string, fn: (rec: ContainerRecord) => T): T {
    const unlock = this.lock(id);
    try {
      return fn(this.read(id));
    } finally {
      unlock();
    }
  }

  /**
   * Takes the container's lock for the rest of this command. A lock left by a
   * process that is gone is taken over; a live holder is waited for.
   */
  lock(id: string): () => void {
    const path = join(this.dir(id), 'lock');
    const me = `${process.pid} ${readStat(process.pid)?.startTime ?? ''}`;
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        fs.writeFileSync(path, me, { flag: 'wx' });
        return () => fs.rmSync(path, { force: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new CorralError('container does not exist');
        if (code !== 'EEXIST') throw e;
      }
      let holder = '';
      try {
        holder = fs.readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      const [pid, start] = holder.split(' ');
      // An empty lock is one whose writer died between creating and writing it.
      const empty = !holder && Date.now() - (fs.statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 1000;
      if (empty || (holder && !isSameProcess(Number(pid), start))) {
        fs.rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new CorralError(`container ${id} is locked by process ${pid}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}

export type Status = OciState['status'];

export function statusOf(store: Store, rec: ContainerRecord): Status {
  if (!isSameProcess(rec.pid, rec.pidStartTime)) return 'stopped';
  // Paused before created, as runc: a created container can be paused too.
  if (rec.cgroups.freezer) {
    try {
      const f = fs.readFileSync(rec.cgroups.freezer, 'utf8').trim();
      if (f === 'FROZEN' || f === '1') return 'paused';
    } catch {
      // no freezer state: not paused
    }
  }
  if (fs.existsSync(store.fifo(rec.id))) return 'created';
  return 'running';
}

export function ociState(rec: ContainerRecord, status: Status): OciState {
  const s: OciState = {
    ociVersion: OCI_VERSION,
    id: rec.id,
    status,
    pid: status === 'stopped' ? 0 : rec.pid,
    bundle: rec.bundle,
  };
  if (rec.annotations && Object.keys(rec.annotations).length) s.annotations = rec.annotations;
  return s;
}
