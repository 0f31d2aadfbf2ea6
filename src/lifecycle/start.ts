// start: let a created container's init go on to exec the user process.
import { closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import { CorralError, errnoCode } from '../base/errors';
import { logWarn, phase } from '../base/log';
import { runHooks } from '../linux/hooks';
import { isSameProcess } from '../linux/procfs';
import { Store, ociState, statusOf, type ContainerRecord } from '../state/store';
import { requireStatus } from './status-rules';
import { sleepSync } from '../base/sleep';

/**
 * The exec fifo handshake. Opening for reading without blocking lets the init's
 * blocked open for writing complete; it then writes one byte and goes on to exec.
 * Reads see EAGAIN (no byte yet) or EOF (the init has not opened yet): wait for the
 * byte as long as the init lives, so a dead init can never hang start.
 */
function releaseInit(fifo: string, rec: ContainerRecord): void {
  const fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const b = Buffer.alloc(1);
    for (let i = 0; ; i++) {
      let n = 0;
      try {
        n = readSync(fd, b, 0, 1, null);
      } catch (e) {
        if (errnoCode(e) !== 'EAGAIN') throw e;
      }
      if (n === 1) return;
      if (!isSameProcess(rec.pid, rec.pidStartTime)) {
        // It may have written, exec'd and exited since our last read.
        try {
          if (readSync(fd, b, 0, 1, null) === 1) return;
        } catch {
          // nothing there
        }
        throw new CorralError('container init exited before start');
      }
      if (i > 50) sleepSync(1);
    }
  } finally {
    closeSync(fd);
  }
}

export function start(store: Store, id: string): ContainerRecord {
  const rec = store.withLock(id, (rec) => {
    const status = statusOf(store, rec);
    requireStatus('start', status, id);
    // The spec wants start to fail when config.json had no process; runtime-tools'
    // `start` program expects it to succeed and the container to stop. We do the
    // latter, as the required conformance program checks, and say so.
    if (!rec.process) logWarn('config.json has no "process": nothing to run, the container stops');
    phase('start', 'startContainer hooks', () =>
      stopOnFailure(rec, () =>
        runHooks(
          rec.hooks,
          'startContainer',
          ociState(rec, 'created'),
          rec.pid,
          rec.namespaces.map((n) => n.type),
        ),
      ),
    );
    phase('start', 'release the init', () => releaseInit(store.fifo(id), rec));
    unlinkSync(store.fifo(id));
    return rec;
  });
  phase('start', 'poststart hooks', () => stopOnFailure(rec, () => runHooks(rec.hooks, 'poststart', ociState(rec, 'running'))));
  return rec;
}

/**
 * The spec (runtime.md, lifecycle 7 and 9): a failing startContainer or poststart
 * hook is an error and stops the container, as runc ≥ 1.2 does; `delete` (or run)
 * then destroys it. start returns once the init is gone, so the state says stopped.
 */
function stopOnFailure(rec: ContainerRecord, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    try {
      process.kill(rec.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    for (let i = 0; i < 2000 && isSameProcess(rec.pid, rec.pidStartTime); i++) sleepSync(1);
    throw e;
  }
}
