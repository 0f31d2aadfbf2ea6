// start: let a created container's init go on to exec the user process.
import { open, readSync, closeSync, unlinkSync } from 'node:fs';
import { CorralError } from '../cli/errors';
import { runHooks, runHooksWarn } from '../linux/hooks';
import { logWarn } from '../cli/log';
import { isSameProcess } from '../linux/procfs';
import { Store, ociState, statusOf, type ContainerRecord } from '../state/store';

const NOT_STARTABLE: Record<string, string> = {
  stopped: 'cannot start a container that has stopped',
  running: 'cannot start an already running container',
  paused: 'cannot start a paused container',
};

/** Opens the exec fifo, which blocks until the init opens it too; fails if the init dies first. */
function openFifo(path: string, rec: ContainerRecord, done: (fd: number) => void, fail: (e: Error) => void): void {
  let settled = false;
  const timer = setInterval(() => {
    if (!settled && !isSameProcess(rec.pid, rec.pidStartTime)) {
      settled = true;
      clearInterval(timer);
      fail(new CorralError('container init exited before start'));
    }
  }, 20);
  open(path, 'r', (err, fd) => {
    if (settled) return;
    settled = true;
    clearInterval(timer);
    if (err) fail(err);
    else done(fd);
  });
}

export function start(store: Store, id: string): Promise<ContainerRecord> {
  const rec = store.read(id);
  const unlock = store.lock(id);
  const status = statusOf(store, rec);
  if (status !== 'created') {
    unlock();
    throw new CorralError(NOT_STARTABLE[status] ?? `cannot start a container in state ${status}`);
  }
  // The spec wants start to fail when config.json had no process; runtime-tools'
  // `start` program expects it to succeed and the container to stop. We do the
  // latter, as the required conformance program checks, and say so.
  if (!rec.process) logWarn('config.json has no "process": nothing to run, the container stops');
  try {
    runHooks(rec.hooks, 'startContainer', ociState(rec, 'created'), rec.pid, rec.namespaces.filter((n) => !n.path).map((n) => n.type));
  } catch (e) {
    unlock();
    throw e;
  }
  return new Promise((resolve, reject) => {
    openFifo(store.fifo(id), rec, (fd) => {
      try {
        const b = Buffer.alloc(1);
        const n = readSync(fd, b, 0, 1, null);
        closeSync(fd);
        unlinkSync(store.fifo(id));
        unlock();
        if (n !== 1) throw new CorralError('container init exited before start');
        runHooksWarn(rec.hooks, 'poststart', ociState(rec, 'running'));
        resolve(rec);
      } catch (e) {
        reject(e);
      }
    }, (e) => {
      unlock();
      reject(e);
    });
  });
}
