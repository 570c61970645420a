#!/bin/bash
# One-shot: prepare (packages, kernel, initramfs) and capture into test/fixtures/qemu-6.1.
# Extra arguments go to run.mjs (e.g. --out /tmp/x --steps 0,1,2 --settle 3).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$HERE/prepare.sh"
exec node "$HERE/run.mjs" "$@"
