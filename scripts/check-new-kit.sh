#!/usr/bin/env bash
# Proves scripts/new-kit.sh: in a scratch copy of the repository, it creates
# a kit from each template, and each copy passes its tests (the conformance
# suite included) and builds on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git ls-files -z --cached --others --exclude-standard core mock-desk kits/websocket kits/rest kits/polling scripts go.work | xargs -0 cp --parents -t "$tmp"
cd "$tmp"
for from in websocket rest polling; do
	name="acme$from"
	scripts/new-kit.sh "$name" --from "$from" >/dev/null
	if grep -rn "kits/$from\b\|^package $from\b" "kits/$name" >/dev/null; then
		echo "check-new-kit: kits/$name still names the template:"; grep -rn "kits/$from\b\|^package $from\b" "kits/$name"; exit 1
	fi
	(cd "kits/$name" && go vet . && go test -race -count=1 -timeout 5m . && GOWORK=off go build ./...)
	echo "kits/$name (from $from): conformance passed"
done
