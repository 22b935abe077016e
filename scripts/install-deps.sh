#!/usr/bin/env bash
# Installs what ./scripts/test.sh needs beyond Go: Debian's chromium for the
# browser tests, and npm packages for the @carbon/ai-chat page.
set -euo pipefail
go version
# apt-get needs root: CI containers run as root, hosted runners have sudo.
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
# mock-desk: the agent console's browser test drives Debian's chromium.
if ! command -v chromium >/dev/null 2>&1; then
	as_root apt-get update -qq >/dev/null && as_root apt-get install -y -qq chromium >/dev/null
fi
# cmd/deskbridge: the @carbon/ai-chat browser test needs npm packages and a bundled page.
if ! command -v npm >/dev/null 2>&1; then
	as_root apt-get update -qq >/dev/null && as_root apt-get install -y -qq nodejs npm >/dev/null
fi
scripts/install-npm.sh
