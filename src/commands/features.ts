// features: what this build of corral really supports (runtime-spec features.md).
import type { CommandMain } from './table';
import { out } from '../base/log';
import { addon } from '../linux/addon';
import { CAPABILITIES, kernelLastCap } from '../linux/capabilities';
import { PROPAGATION } from '../linux/mounts';
import { NAMESPACES } from '../linux/namespaces';
import { MPOL_FLAGS, MPOL_MODES } from '../linux/plan';
import { SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_FLAGS, SECCOMP_OPERATORS } from '../linux/seccomp';

const MOUNT_OPTIONS = [
  'async',
  'atime',
  'bind',
  'defaults',
  'dev',
  'diratime',
  'dirsync',
  'exec',
  'lazytime',
  'loud',
  'mand',
  'noatime',
  'nodev',
  'nodiratime',
  'noexec',
  'nolazytime',
  'nomand',
  'norelatime',
  'nostrictatime',
  'nosuid',
  'nosymfollow',
  'rbind',
  'relatime',
  'remount',
  'ro',
  'rw',
  'silent',
  'strictatime',
  'suid',
  'sync',
  'tmpcopyup',
  ...Object.keys(PROPAGATION),
];

declare const VERSION: string;

export const main: CommandMain<'features'> = () => {
  const features = {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: MOUNT_OPTIONS.sort(),
    linux: {
      namespaces: Object.keys(NAMESPACES),
      capabilities: CAPABILITIES.slice(0, kernelLastCap() + 1),
      // Both drivers are built in (hybrid hosts use both); rdma.max is written on either.
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: SECCOMP_ACTIONS,
        operators: SECCOMP_OPERATORS,
        archs: SECCOMP_ARCHS,
        knownFlags: Object.keys(SECCOMP_FLAGS),
        supportedFlags: Object.keys(SECCOMP_FLAGS),
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
      memoryPolicy: { modes: Object.keys(MPOL_MODES), flags: Object.keys(MPOL_FLAGS) },
    },
    // What runc reports as org.opencontainers.runc.*, under corral's own names.
    annotations: {
      'org.opencontainers.runtime-spec.features': 'corral',
      'io.github.seccomp.libseccomp.version': addon().seccompVersion(),
      'corral.version': VERSION,
      'corral.checkpoint.enabled': 'false',
    },
    // Annotations that change what corral does (features.md): with --systemd-cgroup,
    // org.systemd.property.* become properties of the container's unit.
    potentiallyUnsafeConfigAnnotations: ['org.systemd.property.'],
  };
  out(JSON.stringify(features, null, '    ') + '\n');
  return 0;
};
