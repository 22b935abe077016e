#!/usr/bin/env bash
# Installs what ./scripts/test.sh needs beyond Go: Debian's chromium for the
# browser tests, redis-server for the Redis store's tests (they start their
# own on a free loopback port), podman for the container image test, and npm
# packages for the @carbon/ai-chat page.
# It installs only what is missing, and says what it installs. When it
# cannot, its last line says why.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "install-deps: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || fail "Go is not installed: install Go 1.25 or newer from https://go.dev/dl/"
echo "install-deps: $(go version)"
missing=()
# mock-desk and cmd/deskbridge: the browser tests drive Debian's chromium.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# stores/redis and the server's restart tests: a real redis-server.
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# cmd/deskbridge: the @carbon/ai-chat page needs npm packages, bundled.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
# cmd/deskbridge: the container image test builds deploy/Containerfile and
# runs it (runc: for machines whose cgroups crun refuses).
command -v podman >/dev/null 2>&1 || missing+=(podman runc)
if ((${#missing[@]})); then
	echo "install-deps: installing Debian packages: ${missing[*]}"
	command -v apt-get >/dev/null 2>&1 || fail "no apt-get on this machine: install ${missing[*]} yourself (chromium must be on PATH as 'chromium'), then run scripts/test.sh again"
	# apt-get needs root: CI containers run as root, hosted runners have sudo.
	as_root=()
	if [[ $(id -u) -ne 0 ]]; then
		sudo -n true 2>/dev/null || fail "installing ${missing[*]} needs root: run 'sudo scripts/install-deps.sh' once, or install them yourself"
		as_root=(sudo -n)
	fi
	log=$(mktemp)
	if ! "${as_root[@]}" apt-get update -qq >"$log" 2>&1 ||
		! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$log" 2>&1; then
		tail -n 5 "$log" >&2
		fail "apt-get could not install ${missing[*]} (its last lines are above)"
	fi
	rm -f "$log"
fi
echo "install-deps: chromium, redis-server, npm and podman are installed"
scripts/install-npm.sh || fail "the @carbon/ai-chat bundle could not be built (scripts/install-npm.sh, above)"
