#!/usr/bin/env bash
# soak.sh [--quick] [--instances N] [driver flags…]: builds deskbridge and
# mock-desk, then runs the soak driver (mock-desk/cmd/soak): N deskbridge
# serve on one Redis behind a TCP load balancer, browser clients, faults,
# and a check that nothing was lost, duplicated or reordered. Exit status:
# 0 passed, 1 failed, 2 could not run. See docs/soak.md.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v redis-server >/dev/null || { echo "soak.sh: redis-server is missing: scripts/install-deps.sh installs it" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/deskbridge-soak-XXXXXX")
echo "soak.sh: building into $tmp"
go build -o "$tmp/deskbridge" ./cmd/deskbridge
go build -o "$tmp/mock-desk" ./mock-desk/cmd/mock-desk
go build -o "$tmp/soak" ./mock-desk/cmd/soak

# Go flags take one dash or two; pass everything on as given.
exec "$tmp/soak" -deskbridge "$tmp/deskbridge" -mock-desk "$tmp/mock-desk" -dir "$tmp/run" "$@"
