#!/bin/sh
# Two directories for the overlay (lower and upper, upper wins) and its workdir.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$here/lower" "$here/upper" "$here/work"
[ "${1:-}" = clean ] && exit 0
"$here/../rootfs.sh" "$here"
mkdir -p "$here/lower" "$here/upper" "$here/work" "$here/rootfs/merged"
echo "from lower" > "$here/lower/lower-only"
echo "lower loses" > "$here/lower/both"
echo "upper wins" > "$here/upper/both"
