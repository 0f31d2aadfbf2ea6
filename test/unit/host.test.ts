// The probes of test/lib/host.ts on fake trees: both answers of each, whatever this host has.
import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Layout } from '../../src/linux/cgroups/layout';
import { blkioWeightFile, blockDevice, hasSwap, hierarchyOf, hugePageSizes, kernelAtLeast, lsmEnabled, pageBytes, requires } from '../lib/host';

const tree = (files: Record<string, string>, dirs: string[] = []) => {
  const root = mkdtempSync(join(tmpdir(), 'corral-host-'));
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), text);
  }
  return root;
};

t.test('huge page sizes, smallest first, as cgroup files name them', async (t) => {
  t.same(hugePageSizes(tree({}, ['hugepages-1048576kB', 'hugepages-2048kB'])), ['2MB', '1GB'], 'a host with 1GB pages');
  t.same(hugePageSizes(tree({}, ['hugepages-2048kB'])), ['2MB'], 'a host with 2MB pages only');
  t.same(hugePageSizes(tree({}, ['hugepages-64kB', 'hugepages-32768kB'])), ['64KB', '32MB'], 'arm64 sizes');
  t.same(hugePageSizes('/nonexistent'), [], 'no hugetlbfs');
  t.equal(pageBytes('2MB'), 2097152);
  t.equal(pageBytes('1GB'), 1073741824);
  t.equal(pageBytes('64KB'), 65536);
});

t.test('the blkio weight file: CFQ, BFQ or none', async (t) => {
  t.equal(
    blkioWeightFile((f) => f === 'blkio.weight'),
    'blkio.weight',
  );
  t.equal(
    blkioWeightFile((f) => f === 'blkio.bfq.weight'),
    'blkio.bfq.weight',
  );
  t.equal(
    blkioWeightFile(() => false),
    undefined,
    'neither (no BFQ on the disks, no CFQ since 5.0)',
  );
});

t.test('swap, block devices, LSMs', async (t) => {
  const header = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';
  t.equal(hasSwap(tree({ swaps: header }) + '/swaps'), false);
  t.equal(hasSwap(tree({ swaps: `${header}/swapfile file 1048572 0 -2\n` }) + '/swaps'), true);
  t.equal(blockDevice(tree({ 'loop0/dev': '7:0\n', 'vda/dev': '254:0\n' })), '254:0', 'a disk before a loop device');
  t.equal(blockDevice(tree({ 'loop0/dev': '7:0\n' })), '7:0', 'a loop device when there is nothing else');
  t.equal(blockDevice(tree({})), undefined);
  t.equal(lsmEnabled('apparmor', tree({ 'module/apparmor/parameters/enabled': 'Y\n' })), true);
  t.equal(lsmEnabled('apparmor', tree({ 'module/apparmor/parameters/enabled': 'N\n' })), false, 'built in but disabled');
  t.equal(lsmEnabled('selinux', tree({ 'fs/selinux/enforce': '0' })), true);
  t.equal(lsmEnabled('selinux', tree({})), false);
});

t.test('where a controller lives: its own v1 hierarchy first, else the unified side', async (t) => {
  const h = (version: 1 | 2, mount: string, controllers: string[]) => ({ version, mount, root: '/', controllers, own: '/' });
  const hybrid: Layout = { mode: 'hybrid', hierarchies: [h(1, '/cg/memory', ['memory']), h(2, '/cg/unified', ['hugetlb'])] };
  t.equal(hierarchyOf('hugetlb', hybrid)?.mount, '/cg/unified', 'this host: hugetlb on the unified side');
  t.equal(hierarchyOf('memory', hybrid)?.mount, '/cg/memory');
  t.equal(hierarchyOf('rdma', hybrid), undefined);
  const systemdHybrid: Layout = { mode: 'hybrid', hierarchies: [h(2, '/cg/unified', []), h(1, '/cg/hugetlb', ['hugetlb'])] };
  t.equal(hierarchyOf('hugetlb', systemdHybrid)?.version, 1, "systemd's hybrid: hugetlb on v1");
});

t.test('kernel versions', async (t) => {
  t.equal(kernelAtLeast('5.19', '6.18.44-fc-v1272'), true);
  t.equal(kernelAtLeast('5.19', '6.1.0-57-amd64'), true);
  t.equal(kernelAtLeast('5.19', '5.19.0'), true);
  t.equal(kernelAtLeast('5.19', '5.15.0-91-generic'), false);
  t.equal(kernelAtLeast('6.1', '5.19.0'), false);
});

t.test('requires: the first missing fact as the reason to skip', async (t) => {
  t.equal(requires([true, 'a'], [true, 'b']), false);
  t.equal(requires([true, 'a'], [false, 'b'], [false, 'c']), 'this host lacks b');
});
