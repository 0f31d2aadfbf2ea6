// OOM notifications for `corral events`. v1: an eventfd registered for the memory
// cgroup's memory.oom_control in cgroup.event_control (the kernel's notification API;
// the eventfd comes from the addon, Node has none). The read blocks in a libuv pool
// thread, not in the event loop. The kernel also signals it when the cgroup is removed.
// v2: memory.events, watched with inotify, its "oom" counter compared on each change.
import { closeSync, existsSync, openSync, read, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { CgroupRecord } from './types';
import type { Layout } from './layout';
import { readKeyed, writeExisting } from './write';

export interface OomWatch {
  close(): void;
}

function watchV1(dir: string, onOom: () => void, onGone: () => void): OomWatch {
  const { addon } = require('../addon') as typeof import('../addon');
  const efd = addon().eventfd(0);
  const ofd = openSync(join(dir, 'memory.oom_control'), 'r');
  writeExisting(join(dir, 'cgroup.event_control'), `${efd} ${ofd}`);
  let closed = false;
  const buf = Buffer.alloc(8);
  const next = () =>
    read(efd, buf, 0, 8, null, (err) => {
      if (closed) return;
      if (err || !existsSync(dir)) return onGone();
      onOom();
      next();
    });
  next();
  return {
    close: () => {
      closed = true;
      closeSync(ofd);
    },
  };
}

export function watchV2(dir: string, onOom: () => void, onGone: () => void): OomWatch {
  const file = join(dir, 'memory.events');
  let seen = readKeyed(dir, 'memory.events')?.oom ?? 0;
  const w: FSWatcher = watch(file, () => {
    const ev = readKeyed(dir, 'memory.events');
    if (!ev) return onGone();
    if ((ev.oom ?? 0) > seen) {
      seen = ev.oom;
      onOom();
    }
  });
  w.on('error', () => onGone());
  return { close: () => w.close() };
}

/** Calls onOom at each OOM of the container's memory cgroup; undefined when the host has none. */
export function watchOom(layout: Layout, rec: CgroupRecord, onOom: () => void, onGone: () => void): OomWatch | undefined {
  const i1 = layout.hierarchies.findIndex((h) => h.version === 1 && h.controllers.includes('memory'));
  if (i1 >= 0 && rec.paths[i1]) return watchV1(rec.paths[i1], onOom, onGone);
  const i2 = layout.hierarchies.findIndex((h) => h.version === 2 && h.controllers.includes('memory'));
  if (i2 >= 0 && rec.paths[i2]) return watchV2(rec.paths[i2], onOom, onGone);
  return undefined;
}
