#!/bin/sh
# Installs what a fresh Debian 12 machine lacks to build and test corral.
# Idempotent: apt runs only when a package is missing.
set -eu
# runc only as a control in tests and bench; podman/conmon and containerd are the real
# callers the integration tests drive; systemd and dbus-daemon are booted in a test's own
# namespaces for the systemd cgroup driver (this host's PID 1 is not systemd); qemu boots
# Debian's kernel with only cgroup v2 for the v2 tests (test/lib/vm.sh); strace shows how
# the init is cloned; clang-format checks addon/'s layout (make lint).
pkgs="build-essential cmake pkg-config busybox-static libseccomp-dev golang-github-opencontainers-specs-dev
iproute2 file python3 runc podman conmon catatonit netavark iptables containerd systemd dbus-daemon qemu-system-x86 strace
clang-format"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: apt-get install$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
