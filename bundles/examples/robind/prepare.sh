#!/bin/sh
# The host directory bound read-only at /data.
set -eu
rm -rf /var/tmp/corral-ex-data
[ "${1:-}" = clean ] && exit 0
"$(dirname "$0")/../rootfs.sh" "$(cd "$(dirname "$0")" && pwd)"
mkdir -p /var/tmp/corral-ex-data
echo "host data" > /var/tmp/corral-ex-data/file
