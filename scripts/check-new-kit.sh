#!/usr/bin/env bash
# Proves scripts/new-kit.sh: in a scratch copy of the repository, it creates
# a kit from each template, each copy passes its tests (the conformance
# suite included) and builds on its own, and deskbridge runs it (--kit NAME).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
git ls-files -z --cached --others --exclude-standard core mock-desk kits stores cmd/deskbridge scripts go.work | xargs -0 cp --parents -t "$tmp"
cd "$tmp"
names=()
for from in websocket rest polling vendor; do
	name="acme$from"
	tmpl=$from
	[[ $from == vendor ]] && tmpl=genesys
	scripts/new-kit.sh "$name" --from "$from" >/dev/null
	if grep -rn "kits/$tmpl\b\|^package $tmpl\b" "kits/$name" >/dev/null; then
		echo "check-new-kit: kits/$name still names the template:"; grep -rn "kits/$tmpl\b\|^package $tmpl\b" "kits/$name"; exit 1
	fi
	(cd "kits/$name" && go vet . && go test -race -count=1 -timeout 5m . && GOWORK=off go build ./...)
	echo "kits/$name (from $from): conformance passed"
	names+=("$name")
done
# The server knows the new kits: its help lists them, and the demo runs a
# chat through each (the bot escalates, a scripted agent answers).
(cd cmd/deskbridge && go vet . && GOWORK=off go build ./...)
# The help is read whole first: grep -q stopping at the first match would
# close the pipe on the rest of it (SIGPIPE, and pipefail fails the run).
help=$(go run ./cmd/deskbridge help serve)
for name in "${names[@]}"; do
	grep -q "^  $name\$" <<<"$help" || { echo "check-new-kit: deskbridge help serve does not list $name"; exit 1; }
done
(cd cmd/deskbridge && go test -count=1 -timeout 5m -run "TestDemoEachKit/($(IFS='|'; echo "${names[*]}"))\$" -v . | grep -E '^(=== RUN|--- |ok|FAIL)')
echo "deskbridge serve and demo --kit: ${names[*]} registered and running"
