// A create killed with SIGKILL at any point of its run, or one that meets a full state
// filesystem, leaves nothing that `delete --force` cannot remove, and says what was full.
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cgroupPathFor } from '../../src/linux/cgroups/manager';
import { dirOf, hostLayout } from '../../src/linux/cgroups/layout';
import { BUSYBOX_ROOTFS, CORRAL, baseConfig, bundle, corral, leftovers, messages, mountsWith, processesWith, sleep, testFile } from '../lib/corral';

const mounted: string[] = [];
const f = testFile(t, () => {
  for (const m of mounted.reverse()) spawnSync('umount', ['-l', m]);
});

if (process.getuid?.() !== 0) {
  t.comment('skip: needs root (cgroups, tmpfs mounts)');
  t.end();
} else {
  run();
}

/** Processes started for the container with this tag in their environment (corral, corral-init, the init). */
function tagged(tag: string): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(`KILLTEST=${tag}`)) pids.push(Number(p));
    } catch {
      // gone, or a kernel thread
    }
  }
  return pids;
}

function until(cond: () => boolean, ms: number): boolean {
  for (const end = Date.now() + ms; Date.now() < end; sleep(20)) if (cond()) return true;
  return cond();
}

/** What is left of container id: state dir, cgroups, processes, and mounts under `under`. */
function left(id: string, under: string): string[] {
  const l = leftovers(f.root, id);
  for (const p of [...tagged(id), ...processesWith(join(f.root, id))]) l.push(`process ${p}`);
  for (const m of mountsWith(under)) l.push(`mount ${m}`);
  return l;
}

/** ms from spawn to exit of a create, the median of three (deleted again). */
function createLength(b: string): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const id = f.id(`measure${i}`);
    const t0 = Date.now();
    const r = corral(f.root, ['create', '--bundle', b, id]);
    times.push(Date.now() - t0);
    if (r.status !== 0) throw new Error(`create for the measure failed: ${r.stderr}`);
    corral(f.root, ['delete', '--force', id]);
  }
  return times.sort((a, b) => a - b)[1];
}

async function killAt(ms: number, b: string, id: string): Promise<void> {
  const child = spawn(CORRAL, ['--root', f.root, 'create', '--bundle', b, id], { stdio: 'ignore', env: { ...process.env, KILLTEST: id } });
  const exited = new Promise((r) => child.on('exit', r));
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Kills create at `points` times from 0 to a bit past its full length, `reps` times each;
 * right after each kill, `delete --force` must exit 0 and leave nothing.
 */
async function sweep(t: Test, b: string, name: string, points: number, reps: number, mounts: string): Promise<void> {
  const length = createLength(b);
  let before = 0;
  let after = 0;
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < points; i++) {
      const ms = Math.round((length * 1.25 * i) / (points - 1));
      const id = f.id(`${name}${i}-${rep}`);
      await killAt(ms, b, id);
      if (left(id, mounts).length) before++;
      const d = corral(f.root, ['delete', '--force', id]);
      if (d.status !== 0) t.fail(`delete --force after a kill at ${ms} ms: exit ${d.status}: ${d.stderr}`);
      // corral-init may still be on its way out.
      until(() => !left(id, mounts).length, 3000);
      const l = left(id, mounts);
      if (l.length) {
        after++;
        t.fail(`killed at ${ms} ms: left after delete --force`, { found: l });
      }
    }
  }
  t.comment(
    `${name}: create takes ~${length} ms; killed at ${points} points from 0 to ${Math.round(length * 1.25)} ms, ${reps} times each: ` +
      `${points * reps} runs, ${before} left something before delete --force, ${after} after`,
  );
  t.equal(after, 0, 'nothing left after delete --force, at any point');
}

function run(): void {
  t.test('create killed at any point: delete --force removes all of it', async (t) => {
    await sweep(t, bundle(baseConfig(['sleep', '100'])), 'k', 16, 3, f.root);
  });

  t.test('in the host mount namespace: its mounts too', async (t) => {
    // The container's mounts land on the host, under its own copy of the rootfs.
    const rootfs = join(f.tempDir('rootfs'), 'rootfs');
    spawnSync('cp', ['-a', BUSYBOX_ROOTFS, rootfs]);
    const b = bundle(baseConfig(['sleep', '100']), (c) => {
      (c.root as { path: string }).path = rootfs;
      c.linux.namespaces = (c.linux.namespaces as { type: string }[]).filter((n) => n.type !== 'mount');
      delete c.linux.maskedPaths;
      delete c.linux.readonlyPaths;
    });
    await sweep(t, b, 'h', 10, 2, rootfs);
  });

  t.test('delete without --force: a killed create is removed, a running one does not exist yet', async (t) => {
    // A creating.json and a lock whose holder is dead: what a killed create leaves.
    const id = f.id('remnant');
    const dir = join(f.root, id);
    const h = hostLayout().hierarchies[0];
    const cg = dirOf(h, cgroupPathFor(h, undefined, id));
    const created = [cg, dirname(cg)].filter((d) => !existsSync(d));
    mkdirSync(dir, { recursive: true });
    mkdirSync(cg, { recursive: true });
    writeFileSync(join(dir, 'creating.json'), JSON.stringify({ rootfs: '/nonexistent', hostMountNs: false, cgroups: { paths: [cg], created } }));
    symlinkSync('999999999 1', join(dir, 'lock'));
    const r = corral(f.root, ['delete', id]);
    t.equal(r.status, 0, messages(r.stderr));
    t.same(leftovers(f.root, id), [], 'its directory and cgroup are gone');
    // A create still running (held up in a hook): the container does not exist yet.
    const marker = join(f.tempDir('hook'), 'in-hook');
    const slow = bundle(baseConfig(['sleep', '100']), (c) => {
      (c as Record<string, unknown>).hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `touch ${marker}; sleep 3`] }] };
    });
    const id2 = f.id('running');
    const child = spawn(CORRAL, ['--root', f.root, 'create', '--bundle', slow, id2], { stdio: 'ignore' });
    const exited = new Promise((res) => child.on('exit', res));
    t.ok(
      until(() => existsSync(marker), 10_000),
      'the create is in its hook',
    );
    const d = corral(f.root, ['delete', id2]);
    t.equal(d.status, 1);
    t.equal(messages(d.stderr), 'container does not exist');
    t.ok(existsSync(join(f.root, id2)), 'the running create was left alone');
    await exited;
    t.equal(corral(f.root, ['delete', '--force', id2]).status, 0);
    t.same(leftovers(f.root, id2), []);
    const none = corral(f.root, ['delete', 'no-such-container']);
    t.equal(none.status, 1);
    t.equal(messages(none.stderr), 'container does not exist', 'as runc');
  });

  t.test('a full state filesystem', async (t) => {
    const b = bundle(baseConfig(['sleep', '100']));
    for (const [kind, opts, unit] of [
      ['no space', 'size=64k', 4096],
      ['no inodes', 'nr_inodes=24', 0],
    ] as const) {
      t.test(kind, async (t) => {
        const root = f.tempDir('full');
        if (spawnSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', root]).status !== 0) {
          t.comment(`skip: cannot mount a tmpfs (${opts}) on this host`);
          return;
        }
        mounted.push(root);
        const other = `other-${process.pid}`;
        const made = corral(root, ['create', '--bundle', b, other]);
        t.equal(made.status, 0, `a container made before the filesystem is full: ${made.stderr}`);
        const stateBefore = readFileSync(join(root, other, 'state.json'), 'utf8');
        // Fill it: files of one page (or empty ones, for inodes) until ENOSPC.
        const fill: string[] = [];
        for (let i = 0; ; i++) {
          const p = join(root, `fill${i}`);
          try {
            writeFileSync(p, Buffer.alloc(unit));
          } catch {
            rmSync(p, { force: true });
            break;
          }
          fill.push(p);
        }
        // Then with 0 to 5 pages (or inodes) freed: each create either works or fails
        // with what was full; either way nothing is left of it.
        let failed = 0;
        for (let free = 0; free <= 5; free++) {
          if (free) unlinkSync(fill.pop()!);
          const id = `x${free}-${process.pid}`;
          const r = corral(root, ['create', '--bundle', b, id]);
          const msg = messages(r.stderr);
          if (r.status === 0) {
            t.equal(corral(root, ['delete', '--force', id]).status, 0, `${free} freed: created, and deleted`);
            continue;
          }
          failed++;
          t.equal(r.status, 1, `${free} freed: exit 1`);
          t.match(msg, new RegExp(`^[a-z]+ ${root}/\\S+: no space left on device$`), `${free} freed: one line naming what was full: ${msg}`);
          t.notMatch(r.stderr, /internal error|\n\s+at /, 'no stack');
          t.notOk(existsSync(join(root, id)), 'no state dir');
          t.same(leftovers(root, id), []);
        }
        t.ok(failed > 0, `${failed} of 6 creates failed for want of room`);
        t.equal(readFileSync(join(root, other, 'state.json'), 'utf8'), stateBefore, "the other container's state is untouched");
        const s = corral(root, ['state', other]);
        t.equal(s.status, 0, 'state works');
        t.equal(JSON.parse(s.stdout).status, 'created');
        if (!unit) {
          // Not one inode left: delete cannot take the lock, and says so; then it can.
          for (let i = 0; ; i++)
            try {
              writeFileSync(join(root, `again${i}`), '');
            } catch {
              break;
            }
          const d = corral(root, ['delete', '--force', other]);
          t.equal(d.status, 1);
          t.match(messages(d.stderr), new RegExp(`^lock ${root}/${other}/lock: no space left on device$`));
          unlinkSync(join(root, 'again0'));
        }
        const d = corral(root, ['delete', '--force', other]);
        t.equal(d.status, 0, `delete works${unit ? ' on the full filesystem' : ''}: ${d.stderr}`);
        t.same(leftovers(root, other), []);
        spawnSync('umount', ['-l', root]);
        mounted.splice(mounted.indexOf(root), 1);
      });
    }
  });
}
