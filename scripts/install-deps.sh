#!/usr/bin/env bash
# Installs what ./scripts/test.sh needs beyond Go: Debian's chromium for the
# browser tests, redis-server for the Redis store's tests (they start their
# own on a free loopback port), and npm packages for the @carbon/ai-chat page.
# It installs only what is missing, and says what it installs.
set -euo pipefail
go version
# apt-get needs root: CI containers run as root, hosted runners have sudo.
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
updated=
apt_install() {
	echo "install-deps: installing Debian packages: $*"
	if [[ -z $updated ]]; then
		as_root apt-get update -qq >/dev/null
		updated=1
	fi
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
missing=()
# mock-desk and cmd/deskbridge: the browser tests drive Debian's chromium.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# stores/redis and the server's restart tests: a real redis-server.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# cmd/deskbridge: the @carbon/ai-chat browser test needs npm packages and a bundled page.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if ((${#missing[@]})); then
	apt_install "${missing[@]}"
fi
scripts/install-npm.sh
