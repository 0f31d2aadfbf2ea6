// Freezing and thawing a container's processes: the v1 freezer (freezer.state) or the
// v2 core freezer (cgroup.freeze, with cgroup.events telling when it took effect).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CorralError } from '../../base/errors';
import type { CgroupRecord } from './types';
import { whyFailed } from './write';
import { sleepSync } from '../../base/sleep';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const isV2 = (file: string) => file.endsWith('/cgroup.freeze');

/** frozen or thawed, or on the way (freezing, thawing); undefined without a freezer. */
export function freezerState(rec: CgroupRecord): 'frozen' | 'thawed' | 'freezing' | 'thawing' | undefined {
  const f = rec.freezer;
  if (!f) return undefined;
  if (isV2(f)) {
    const want = read(f)?.trim();
    if (want === undefined) return undefined;
    const events = read(join(dirname(f), 'cgroup.events')) ?? '';
    const frozen = /^frozen 1$/m.test(events);
    return want === '1' ? (frozen ? 'frozen' : 'freezing') : frozen ? 'thawing' : 'thawed';
  }
  const s = read(f)?.trim();
  return s === 'FROZEN' ? 'frozen' : s === 'FREEZING' ? 'freezing' : s === 'THAWED' ? 'thawed' : undefined;
}

function write(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch (e) {
    throw new CorralError(`cannot write ${value} to ${file}: ${whyFailed(file, e)}`);
  }
}

/**
 * Freezes every process of the container and returns once the kernel says they are
 * frozen. A v1 cgroup can stay FREEZING while a task sleeps uninterruptibly; the write
 * is repeated, and after timeoutMs the container is thawed again and this fails.
 */
export function freeze(rec: CgroupRecord, timeoutMs = 10_000): void {
  const f = rec.freezer;
  if (!f) throw new CorralError('cannot pause: the container has no freezer cgroup on this host');
  const deadline = Date.now() + timeoutMs;
  write(f, isV2(f) ? '1' : 'FROZEN');
  for (let i = 1; ; i++) {
    if (freezerState(rec) === 'frozen') return;
    if (Date.now() > deadline) {
      try {
        thaw(rec);
      } catch {
        // reported below
      }
      throw new CorralError(`unable to freeze the container (${f} did not reach the frozen state in ${timeoutMs / 1000}s)`);
    }
    if (!isV2(f) && i % 50 === 0) write(f, 'FROZEN');
    sleepSync(i < 20 ? 1 : 10);
  }
}

/** Thaws the container and waits until the kernel says so. */
export function thaw(rec: CgroupRecord, timeoutMs = 10_000): void {
  const f = rec.freezer;
  if (!f) return;
  const deadline = Date.now() + timeoutMs;
  write(f, isV2(f) ? '0' : 'THAWED');
  for (let i = 1; ; i++) {
    const s = freezerState(rec);
    if (s === 'thawed' || s === undefined) return;
    if (Date.now() > deadline) throw new CorralError(`unable to thaw the container (${f})`);
    sleepSync(i < 20 ? 1 : 10);
  }
}
