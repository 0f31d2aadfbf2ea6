// Resource control on a pure cgroup v2 host with systemd as PID 1. This machine is
// hybrid, so on it this file boots a VM (test/lib/vm.sh: Debian's kernel with only
// cgroup2, systemd, this host's / read-only and the repository shared) and runs itself
// in there; inside, the cases below run against the real v2 files: the cgroupfs driver,
// the v1 → v2 conversions, OOM from memory.events, the pids limit, cgroup.freeze,
// cgroup.kill, the eBPF device program as the only device control, clone3 into the
// cgroup, update, delete, and the systemd driver's v2 properties.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, baseConfig, bundle, corral, eventsOf, leftovers, messages, sleep, state, testFile } from '../lib/corral';
import { hostLayout } from '../../src/linux/cgroups/layout';

const read = (path: string) => readFileSync(path, 'utf8').trim();

if (hostLayout().mode !== 'v2') {
  t.test('in a VM with only cgroup v2 and systemd as PID 1', async (t) => {
    const r = spawnSync(
      join(ROOT, 'test/lib/vm.sh'),
      ['run', `node_modules/.bin/tap --disable-coverage --allow-empty-coverage -R tap --timeout=1800 ${join('test/integration', __filename.split('/').pop()!)}`],
      { encoding: 'utf8', timeout: 3_600_000, maxBuffer: 64 << 20 },
    );
    t.equal(r.status, 0, `the cases pass in the VM${r.status ? `:\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-3000)}` : ''}`);
    const counts = /^# \{ total: (\d+), pass: (\d+) \}$/m.exec(r.stdout);
    t.ok(counts && counts[1] === counts[2] && Number(counts[1]) > 80, `every assertion in the VM passed: ${counts?.[0] ?? 'no summary'}`);
    t.notMatch(r.stdout, /^\s*not ok /m, 'none failed');
  });
} else {
  v2Cases();
}

function v2Cases(): void {
  const { root, id } = testFile(t);
  const CG = '/sys/fs/cgroup';
  const base = `/corral-v2-${process.pid}`;
  const cg = (path: string, file: string) => read(join(CG, path, file));
  const until = (cond: () => boolean, what: string, ms = 60_000) => {
    for (let waited = 0; !cond(); waited += 50) {
      if (waited > ms) throw new Error(`gave up waiting for ${what}`);
      sleep(50);
    }
  };
  const stopped = (c: string) => state(root, c).status === 'stopped';
  t.teardown(() => spawnSync('rmdir', [join(CG, base)]));

  t.test('the host is what this file is for', async (t) => {
    t.equal(hostLayout().hierarchies.length, 1, 'one hierarchy: cgroup2');
    t.match(read(join(CG, 'cgroup.controllers')), /cpuset cpu io memory hugetlb pids/);
    t.equal(read('/proc/1/comm'), 'systemd');
  });

  t.test('every field in its v2 file, with the conversions; the init is born there', async (t) => {
    const c = id('vals');
    const path = `${base}/vals`;
    const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
      cfg.linux.cgroupsPath = path;
      cfg.linux.resources = {
        memory: { limit: 52428800, reservation: 40960000, swap: 62914560 },
        cpu: { shares: 1024, quota: 50000, period: 100000, burst: 10000, cpus: '0', mems: '0', idle: 0 },
        pids: { limit: 77 },
        blockIO: { weight: 300 },
        hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
        unified: { 'memory.high': '45056000' },
      };
    });
    const r = corral(root, ['create', '--bundle', b, c]);
    t.equal(r.status, 0, messages(r.stderr));
    t.equal(cg(path, 'memory.max'), '52428800');
    t.equal(cg(path, 'memory.low'), '40960000', 'reservation → memory.low (page-aligned values: the kernel rounds down)');
    t.equal(cg(path, 'memory.swap.max'), '10485760', 'memory+swap 60 MiB with 50 MiB of memory → 10 MiB of swap');
    t.equal(cg(path, 'cpu.weight'), '39', 'shares 1024 → weight 39');
    t.equal(cg(path, 'cpu.max'), '50000 100000');
    t.equal(cg(path, 'cpu.max.burst'), '10000');
    t.equal(cg(path, 'cpu.idle'), '0');
    t.equal(cg(path, 'cpuset.cpus'), '0');
    t.equal(cg(path, 'pids.max'), '77');
    t.match(cg(path, 'io.weight'), /^default 2930$/m, 'blkio weight 300 → io.weight 2930');
    t.equal(cg(path, 'hugetlb.2MB.max'), '4194304');
    t.equal(cg(path, 'memory.high'), '45056000', 'a unified key');
    const pid = state(root, c).pid as number;
    t.equal(read(`/proc/${pid}/cgroup`), `0::${path}`, 'the init is in it (cloned into it)');
    t.match(cg(base, 'cgroup.subtree_control'), /cpu.*memory.*pids/, 'controllers enabled down to it');
    t.equal(corral(root, ['delete', '--force', c]).status, 0);
    t.same(leftovers(root, c), []);
    t.notOk(existsSync(join(CG, path)), 'its cgroup is gone');
  });

  t.test('what only v1 has is refused, naming the field and the file, and leaves nothing', async (t) => {
    const c = id('v1only');
    for (const [resources, msg] of [
      [{ memory: { swappiness: 10 } }, '/linux/resources/memory/swappiness: not supported on cgroup v2 (there is no memory.swappiness there)'],
      [{ memory: { disableOOMKiller: true } }, '/linux/resources/memory/disableOOMKiller: not supported on cgroup v2 (there is no memory.oom_control there)'],
      [{ cpu: { realtimeRuntime: 1000 } }, '/linux/resources/cpu/realtimeRuntime: not supported on cgroup v2 (there is no cpu.rt_runtime_us there)'],
      [{ blockIO: { leafWeight: 300 } }, '/linux/resources/blockIO/leafWeight: not supported on cgroup v2 (there is no blkio.leaf_weight there)'],
      [{ network: { classID: 1 } }, '/linux/resources/network/classID: the net_cls cgroup controller is not available on this host (the unified hierarchy does not offer it)'],
      [{ unified: { 'nosuch.file': '1' } }, '/linux/resources/unified/nosuch.file: the nosuch controller is not available in the unified hierarchy of this host'],
    ] as const) {
      const r = corral(root, [
        'create',
        '--bundle',
        bundle(baseConfig(), (cfg) => {
          cfg.linux.cgroupsPath = `${base}/v1only`;
          cfg.linux.resources = resources;
        }),
        c,
      ]);
      t.equal(r.status, 1);
      t.match(messages(r.stderr), msg);
      t.same(leftovers(root, c), []);
      t.notOk(existsSync(join(CG, base, 'v1only')));
    }
  });

  t.test('over its memory.max a process is OOM-killed; events reports it from memory.events', async (t) => {
    const c = id('oom');
    const path = `${base}/oom`;
    const b = bundle(baseConfig(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']), (cfg) => {
      cfg.linux.cgroupsPath = path;
      cfg.linux.resources = { memory: { limit: 16777216, swap: 16777216 } };
    });
    t.equal(corral(root, ['create', '--bundle', b, c]).status, 0);
    const { lines, exited } = eventsOf(root, c, '200ms');
    until(() => lines().some((e) => e.type === 'stats'), 'the first stats line');
    t.has(lines()[0].data, { memory: { usage: { limit: 16777216 } }, pids: { current: 1 } }, 'stats from the v2 files');
    t.equal(corral(root, ['start', c]).status, 0);
    until(() => stopped(c), 'the container to stop');
    t.match(cg(path, 'memory.events'), /^oom_kill [1-9]/m, 'the kernel OOM-killed it');
    until(() => lines().some((e) => e.type === 'oom'), 'the oom event');
    t.equal(corral(root, ['delete', c]).status, 0);
    t.equal(await exited, 0, 'events ends with the container');
    t.same(leftovers(root, c), []);
  });

  t.test('pids.max stops a fork loop; cgroup.freeze pauses; cgroup.kill kills all; update', async (t) => {
    const c = id('life');
    const path = `${base}/life`;
    const script = 'sh -c "while :; do sleep 1000 & done"; echo done > /tmp/done; exec sleep 1000';
    const b = bundle(baseConfig(['sh', '-c', script]), (cfg) => {
      cfg.linux.cgroupsPath = path;
      cfg.linux.resources = { pids: { limit: 8 }, memory: { limit: 104857600 } };
    });
    t.equal(corral(root, ['run', '-d', '--bundle', b, c]).status, 0);
    const pid = state(root, c).pid as number;
    until(() => existsSync(`/proc/${pid}/root/tmp/done`), 'the loop to end');
    t.equal(cg(path, 'pids.current'), '7', 'the init and six sleeps: the seventh fork was refused');
    t.match(cg(path, 'pids.events'), /^max [1-9]/m);
    t.equal(corral(root, ['pause', c]).status, 0);
    t.match(cg(path, 'cgroup.events'), /^frozen 1$/m, 'frozen');
    t.equal(state(root, c).status, 'paused');
    t.equal(corral(root, ['resume', c]).status, 0);
    t.match(cg(path, 'cgroup.events'), /^frozen 0$/m);
    const u = corral(root, ['update', '--memory', '209715200', '--pids-limit', '20', '--cpu-share', '512', c]);
    t.equal(u.status, 0, messages(u.stderr));
    t.equal(cg(path, 'memory.max'), '209715200');
    t.equal(cg(path, 'pids.max'), '20');
    t.equal(cg(path, 'cpu.weight'), '20', 'shares 512 → weight 20');
    const ps = corral(root, ['ps', '--format', 'json', c]);
    t.equal((JSON.parse(ps.stdout) as number[]).length, 7, 'ps lists every process of the cgroup');
    t.equal(corral(root, ['kill', '--all', c, 'KILL']).status, 0);
    until(() => cg(path, 'cgroup.procs') === '', 'every process to die');
    t.equal(corral(root, ['delete', c]).status, 0);
    t.same(leftovers(root, c), []);
  });

  t.test('device rules: the eBPF program is the only control', async (t) => {
    const c = id('dev');
    // In /dev: /tmp is nodev, where no device opens at all.
    const script = 'mknod /dev/mem1 c 1 1 && mknod /dev/nul1 c 1 3 && echo x > /dev/nul1 && echo null-ok; head -c1 /dev/mem1 >/dev/null 2>/tmp/err || cat /tmp/err';
    const b = bundle(baseConfig(['sh', '-c', script]), (cfg) => {
      const caps = cfg.process.capabilities as Record<string, string[]>;
      for (const k of Object.keys(caps)) caps[k].push('CAP_MKNOD');
      cfg.linux.cgroupsPath = `${base}/dev`;
    });
    const r = corral(root, ['run', '--bundle', b, c]);
    t.match(r.stdout, /null-ok/, 'a default rule lets /dev/null be used');
    t.match(r.stdout, /Operation not permitted/, 'c 1:1 is denied by the program');
    t.same(leftovers(root, c), []);
  });

  t.test("a cgroup mount is the container's own cgroup2", async (t) => {
    const c = id('mnt');
    const b = bundle(baseConfig(['sh', '-c', 'grep cgroup /proc/self/mountinfo; cat /proc/self/cgroup; cat /sys/fs/cgroup/pids.max']), (cfg) => {
      cfg.linux.cgroupsPath = `${base}/mnt`;
      cfg.linux.resources = { pids: { limit: 33 } };
      (cfg.linux.namespaces as object[]).push({ type: 'cgroup' });
      (cfg.mounts as object[]).push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
    });
    const r = corral(root, ['run', '--bundle', b, c]);
    t.equal(r.status, 0, messages(r.stderr));
    t.match(r.stdout, / \/sys\/fs\/cgroup ro,.* - cgroup2 /, 'cgroup2, read-only');
    t.match(r.stdout, /^0::\/$/m, "rooted at the container's cgroup");
    t.match(r.stdout, /^33$/m, 'its own limits');
  });

  t.test('--systemd-cgroup on v2: the unified properties, update, delete', async (t) => {
    const c = id('sd');
    const unit = `corral-test-${c}.scope`;
    const show = (props: string) => {
      const out: Record<string, string> = {};
      for (const l of spawnSync('systemctl', ['show', unit, '-p', props], { encoding: 'utf8' }).stdout.trim().split('\n'))
        out[l.slice(0, l.indexOf('='))] = l.slice(l.indexOf('=') + 1);
      return out;
    };
    const b = bundle(baseConfig(['sleep', '1000']), (cfg) => {
      cfg.linux.cgroupsPath = `system.slice:corral-test:${c}`;
      cfg.linux.resources = { memory: { limit: 104857600, reservation: 52428800 }, cpu: { shares: 1024, quota: 50000, cpus: '0' }, pids: { limit: 40 } };
    });
    const r = corral(root, ['--systemd-cgroup', 'create', '--bundle', b, c]);
    t.equal(r.status, 0, messages(r.stderr));
    t.match(show('ActiveState,ControlGroup,MemoryMax,MemoryLow,CPUWeight,CPUQuotaPerSecUSec,TasksMax,AllowedCPUs,Delegate'), {
      ActiveState: 'active',
      ControlGroup: `/system.slice/${unit}`,
      MemoryMax: '104857600',
      MemoryLow: '52428800',
      CPUWeight: '39',
      CPUQuotaPerSecUSec: '500ms',
      TasksMax: '40',
      AllowedCPUs: '0',
      Delegate: 'yes',
    });
    const dir = join(CG, 'system.slice', unit);
    t.equal(read(join(dir, 'memory.max')), '104857600');
    t.equal(read(join(dir, 'cpu.weight')), '39');
    t.equal(read(`/proc/${state(root, c).pid}/cgroup`), `0::/system.slice/${unit}`);
    t.equal(spawnSync('systemctl', ['daemon-reload']).status, 0);
    t.equal(read(join(dir, 'memory.max')), '104857600', 'systemd realizing the unit again keeps the limit');
    t.equal(corral(root, ['update', '--memory', '209715200', c]).status, 0);
    t.equal(show('MemoryMax').MemoryMax, '209715200');
    t.equal(read(join(dir, 'memory.max')), '209715200');
    t.equal(corral(root, ['delete', '--force', c]).status, 0);
    t.equal(show('LoadState').LoadState, 'not-found');
    t.notOk(existsSync(dir));
    t.same(leftovers(root, c), []);
  });
}
