#!/bin/sh
set -eu
[ "${1:-}" = clean ] && exit 0
"$(dirname "$0")/../rootfs.sh" "$(cd "$(dirname "$0")" && pwd)"
