#!/usr/bin/env bash
# Installs what ./scripts/test.sh needs beyond Go: nothing yet for core.
# Later modules add their packages here (chromium for browser tests).
set -euo pipefail
go version
