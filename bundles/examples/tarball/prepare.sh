#!/bin/sh
# A rootfs unpacked from a tarball, as `docker export` makes one (here: of a busybox
# rootfs built from Debian's busybox-static).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$here/rootfs" "$here/rootfs.tar"
[ "${1:-}" = clean ] && exit 0
tmp=$(mktemp -d)
"$here/../../make-busybox.sh" "$tmp" --rootfs-only >/dev/null
tar -C "$tmp/rootfs" -cf "$here/rootfs.tar" .
rm -rf "$tmp"
mkdir "$here/rootfs"
tar -C "$here/rootfs" -xf "$here/rootfs.tar"
