#!/usr/bin/env bash
# The project's test command: formatting, vet, race tests over every module,
# and a standalone (GOWORK=off) build of each module.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"

step() { printf '\n== %s\n' "$*"; }

# A fresh machine has Go and nothing else: install what the tests need
# (chromium, redis-server, the @carbon/ai-chat bundle). Skipped with
# DESKBRIDGE_SKIP_INSTALL=1 when you know it is all there.
if [[ "${DESKBRIDGE_SKIP_INSTALL:-}" != 1 ]]; then
	step "scripts/install-deps.sh"
	scripts/install-deps.sh
fi

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
