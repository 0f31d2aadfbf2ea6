#!/bin/sh
# `make demo`: runs a real container in the busybox bundle. It prints its hostname,
# `id`, `ps` (PID 1 is its own process) and its network interfaces (only lo).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here/bundles/busybox"
id="demo-$$"
echo "+ corral run $id   (bundle: bundles/busybox)"
exec "$here/bin/corral" run "$id"
