#!/usr/bin/env bash
# The project's test command: installs what is missing (chromium,
# redis-server, podman, npm and the @carbon/ai-chat bundle), then gofmt, go
# vet, race tests over every module, the new-kit and soak checks, and a
# standalone (GOWORK=off) build of each module. It ends with the list of
# browser tests that ran, failed or were skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

step() { printf '\n== %s\n' "$*"; }

# A fresh machine has Go and nothing else: install what the tests need
# (chromium, redis-server, the @carbon/ai-chat bundle). Skipped with
# DESKBRIDGE_SKIP_INSTALL=1 when you know it is all there.
if [[ "${DESKBRIDGE_SKIP_INSTALL:-}" != 1 ]]; then
	step "scripts/install-deps.sh: what the tests need besides Go"
	setup_log=$(mktemp)
	if ! scripts/install-deps.sh 2>&1 | tee "$setup_log"; then
		echo "test.sh: setting up failed: $(tail -n 1 "$setup_log")"
		exit 1
	fi
	rm -f "$setup_log"
fi

# The tests that need chromium, podman or the npm bundle note here whether they ran; the
# summary at the end says which passed, failed or were skipped, and why.
export DESKBRIDGE_BROWSER_REPORT
DESKBRIDGE_BROWSER_REPORT=$(mktemp)
browser_summary() {
	local rc=$?
	if [[ -s "$DESKBRIDGE_BROWSER_REPORT" ]]; then
		printf '\n== tests that need chromium, podman or the npm bundle: %s\n' "$(cut -d' ' -f1 "$DESKBRIDGE_BROWSER_REPORT" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')"
		sort -k2 "$DESKBRIDGE_BROWSER_REPORT" | sed 's/^/  /'
	fi
	rm -f "$DESKBRIDGE_BROWSER_REPORT"
	exit $rc
}
trap browser_summary EXIT

step "go.work is current"
scripts/gen-work.sh --check

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [[ -n "$unformatted" ]]; then
	echo "gofmt needed:"; echo "$unformatted"; exit 1
fi

step "go vet work"
go vet work

step "go test -race work"
go test -race -count=1 -timeout 15m work

step "scripts/new-kit.sh makes kits that pass the conformance suite"
scripts/check-new-kit.sh

step "scripts/soak.sh --quick --instances 3: three instances on Redis behind a load balancer, with faults"
scripts/soak.sh --quick --instances 3

step "GOWORK=off go build ./... per module"
for mod in $(go list -m -f '{{.Dir}}'); do
	( cd "$mod" && GOWORK=off go build ./... ) || { echo "standalone build failed in $mod"; exit 1; }
done
echo
echo "all checks passed"
