#!/bin/sh
# Shared by the examples' prepare.sh: a busybox rootfs in DIR/rootfs, once.
set -eu
[ -x "$1/rootfs/bin/busybox" ] || "$(dirname "$0")/../make-busybox.sh" "$1" --rootfs-only >/dev/null
