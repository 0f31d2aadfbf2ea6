// The state directory: <root>/<id>/state.json (written atomically), exec.fifo while the
// container waits for `start`, a lock serialising commands on one container, and
// creating.json while a create runs. Every failure to write names the path.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { CorralError, errnoCode, fsError } from '../base/errors';
import { OCI_VERSION } from '../base/version';
import type { CgroupRecord } from '../linux/cgroups/types';
import { isSameProcess, readStat } from '../linux/procfs';
import type { Hooks, OciState, Process, Seccomp } from '../spec/types';
import { NOT_EXIST, idExists } from '../base/messages';
import { sleepSync } from '../base/sleep';

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

/**
 * What a create has made, or is about to make, before the container is recorded in
 * state.json: written before the first cgroup is made, so that `delete` finds all of
 * it when the create was killed.
 */
export interface CreatingRecord {
  rootfs: string;
  hostMountNs: boolean;
  cgroups: CgroupRecord;
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
    const dir = this.dir(id);
    try {
      fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw fsError(`mkdir ${this.root}`, e);
    }
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') throw new CorralError(idExists(id));
      throw fsError(`mkdir ${dir}`, e);
    }
    return dir;
  }

  exists(id: string): boolean {
    return fs.existsSync(join(this.dir(id), 'state.json'));
  }

  read(id: string): ContainerRecord {
    const rec = this.readJson<ContainerRecord>(id, 'state.json');
    if (!rec) throw new CorralError(NOT_EXIST);
    return rec;
  }

  write(rec: ContainerRecord): void {
    this.writeJson(rec.id, 'state.json', rec);
  }

  readCreating(id: string): CreatingRecord | undefined {
    return this.readJson<CreatingRecord>(id, 'creating.json');
  }

  writeCreating(id: string, rec: CreatingRecord): void {
    this.writeJson(id, 'creating.json', rec);
  }

  private readJson<T>(id: string, name: string): T | undefined {
    const path = join(this.dir(id), name);
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw fsError(`read ${path}`, e);
    }
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw CorralError.wrap(`read ${path}`, e);
    }
  }

  /** Written whole or not at all: a temporary file renamed over the old one. */
  private writeJson(id: string, name: string, value: unknown): void {
    const path = join(this.dir(id), name);
    const tmp = join(this.dir(id), `.${name}.${process.pid}`);
    try {
      fs.writeFileSync(tmp, JSON.stringify(value));
      fs.renameSync(tmp, path);
    } catch (e) {
      try {
        fs.unlinkSync(tmp);
      } catch {
        // never made
      }
      throw fsError(`write ${path}`, e);
    }
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  list(): string[] {
    try {
      return fs
        .readdirSync(this.root)
        .filter((n) => ID_RE.test(n) && this.exists(n))
        .sort();
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
   * process that is gone is taken over; a live holder is waited for, up to waitMs.
   * The lock is a symlink to "pid starttime": made whole in one step, and with no
   * data block (tmpfs, ext4), so it can be taken on a full filesystem.
   */
  lock(id: string, waitMs = 30_000): () => void {
    const path = join(this.dir(id), 'lock');
    const me = `${process.pid} ${readStat(process.pid)?.startTime ?? ''}`;
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        fs.symlinkSync(me, path);
        return () => fs.rmSync(path, { force: true });
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'ENOENT') throw new CorralError(NOT_EXIST);
        if (code !== 'EEXIST') throw fsError(`lock ${path}`, e);
      }
      let holder: string;
      try {
        holder = fs.readlinkSync(path);
      } catch {
        continue; // released meanwhile
      }
      const [pid, start] = holder.split(' ');
      if (!isSameProcess(Number(pid), start)) {
        fs.rmSync(path, { force: true });
        continue;
      }
      if (Date.now() >= deadline) throw new CorralError(`container ${id} is locked by process ${pid}`);
      sleepSync(10);
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
