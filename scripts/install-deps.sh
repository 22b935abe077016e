#!/usr/bin/env bash
# Installs what ./scripts/test.sh needs beyond Go: nothing yet for core.
# Later modules add their packages here (chromium for browser tests).
set -euo pipefail
go version
# mock-desk: the agent console's browser test drives Debian's chromium.
if ! command -v chromium >/dev/null 2>&1; then
	apt-get update -qq >/dev/null && apt-get install -y -qq chromium >/dev/null
fi
# cmd/deskbridge: the @carbon/ai-chat browser test needs npm packages and a bundled page.
if ! command -v npm >/dev/null 2>&1; then
	apt-get update -qq >/dev/null && apt-get install -y -qq nodejs npm >/dev/null
fi
scripts/install-npm.sh
