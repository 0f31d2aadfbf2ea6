// make bench: corral side by side with runc, in one run, on the busybox bundle.
// Prints mean ± sd (ms) per measure and ratios; no timing is asserted anywhere. The
// machine is shared and noisy: each round of a single command also times a bare
// `node -e 0` right before it, and "over floor" is the median of those differences.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
// Like a shim, we are the subreaper of the containers we start, and reap them.
const addon = require(join(here, 'dist/corral.node'));
addon.setSubreaper();

const N = Number(process.env.BENCH_N ?? 20);
const corralBin = join(here, 'bin/corral');
const runcBin = spawnSync('sh', ['-c', 'command -v runc']).stdout.toString().trim();
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // the floor is bare Node, as bin/corral runs it

const work = mkdtempSync(join(tmpdir(), 'corral-bench-'));
const bundle = join(work, 'bundle');
const config = JSON.parse(readFileSync(join(here, 'bundles/busybox/config.json'), 'utf8'));
config.root.path = join(here, 'bundles/busybox/rootfs');
config.process.args = ['/bin/true'];
spawnSync('mkdir', ['-p', bundle]);
writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));

// stderr goes to a file: a created container keeps it open, so a pipe would not end.
const errFile = join(work, 'stderr');
const run = (cmd, args) => {
  const fd = openSync(errFile, 'w');
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', fd] });
  closeSync(fd);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${readFileSync(errFile, 'utf8')}`);
};
const now = () => Number(process.hrtime.bigint()) / 1e6;
const stats = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1 || 1));
  return { m, sd };
};

const floorOnce = () => {
  const t0 = now();
  run(process.execPath, ['-e', '0']);
  return now() - t0;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function timeIt(fn, setup, teardown) {
  const xs = [];
  const over = [];
  for (let i = 0; i < N + 2; i++) {
    const ctx = setup?.(i);
    const f = floorOnce();
    const t0 = now();
    fn(ctx, i);
    const dt = now() - t0;
    teardown?.(ctx, i);
    if (i >= 2) {
      // after two warm-up rounds
      xs.push(dt);
      over.push(dt - f);
    }
  }
  return { ...stats(xs), over: median(over) };
}

function runtime(bin, name) {
  const root = join(work, `root-${name}`);
  const g = ['--root', root];
  const pidOf = (id) => Number(readFileSync(join(work, `${id}.pid`), 'utf8'));
  const create = (id) => run(bin, [...g, 'create', '--bundle', bundle, '--pid-file', join(work, `${id}.pid`), id]);
  const r = {};
  r.run = timeIt(
    (id) => run(bin, [...g, 'run', '--bundle', bundle, id]),
    (i) => `${name}-run-${i}`,
  );
  r.sequence = timeIt(
    (id) => {
      create(id);
      run(bin, [...g, 'start', id]);
      addon.wait(pidOf(id), false);
      run(bin, [...g, 'delete', id]);
    },
    (i) => `${name}-seq-${i}`,
  );
  // Single commands on a container in the state they need.
  r.create = timeIt(
    (id) => create(id),
    (i) => `${name}-c-${i}`,
    (id) => {
      run(bin, [...g, 'start', id]);
      addon.wait(pidOf(id), false);
      run(bin, [...g, 'delete', id]);
    },
  );
  r.start = timeIt(
    (id) => run(bin, [...g, 'start', id]),
    (i) => {
      const id = `${name}-s-${i}`;
      create(id);
      return id;
    },
    (id) => {
      addon.wait(pidOf(id), false);
      run(bin, [...g, 'delete', id]);
    },
  );
  r.state = timeIt(
    (id) => run(bin, [...g, 'state', id]),
    (i) => {
      const id = `${name}-st-${i}`;
      create(id);
      return id;
    },
    (id) => run(bin, [...g, 'delete', '--force', id]),
  );
  r.kill = timeIt(
    (id) => run(bin, [...g, 'kill', id, 'KILL']),
    (i) => {
      const id = `${name}-k-${i}`;
      create(id);
      return id;
    },
    (id) => {
      addon.wait(pidOf(id), false);
      run(bin, [...g, 'delete', id]);
    },
  );
  r.delete = timeIt(
    (id) => run(bin, [...g, 'delete', id]),
    (i) => {
      const id = `${name}-d-${i}`;
      create(id);
      run(bin, [...g, 'kill', id, 'KILL']);
      addon.wait(pidOf(id), false);
      return id;
    },
  );
  return r;
}

const floor = timeIt(() => run(process.execPath, ['-e', '0']));
const version = timeIt(() => run(corralBin, ['--version']));
const c = runtime(corralBin, 'corral');
const r = runcBin ? runtime(runcBin, 'runc') : undefined;
rmSync(work, { recursive: true, force: true });

const f = (s) => `${s.m.toFixed(1).padStart(6)} ± ${s.sd.toFixed(1).padStart(4)}`;
console.log(`corral bench: ${N} rounds each (mean ± sd, ms); runc: ${runcBin || 'not installed'}`);
console.log(`node -e 0 (floor)           ${f(floor)}`);
console.log(`corral --version            ${f(version)}   over floor ${version.over.toFixed(1)} ms`);
console.log(`${'measure'.padEnd(27)} ${'corral'.padStart(13)}  ${'runc'.padStart(13)}  corral/runc  corral over floor`);
for (const k of ['run', 'sequence', 'create', 'start', 'state', 'kill', 'delete']) {
  const rr = r?.[k];
  const label = k === 'run' ? 'run /bin/true' : k === 'sequence' ? 'create+start+wait+delete' : k;
  console.log(
    `${label.padEnd(27)} ${f(c[k])}  ${rr ? f(rr) : '-'.padStart(13)}  ${rr ? (c[k].m / rr.m).toFixed(2).padStart(11) : '-'.padStart(11)}  ${['start', 'state', 'kill', 'delete'].includes(k) ? `${c[k].over.toFixed(1).padStart(8)} ms` : ''}`,
  );
}
