#!/usr/bin/env bash
# Creates kits/NAME from a template kit, with the names changed, and adds it
# to go.work. The copy passes the conformance suite unchanged; adapt its
# transport to your desk from there (docs/writing-a-kit.md). The generic
# templates speak the deskbridge desk protocol; "vendor" is a desk with a
# protocol of its own, built on core/vendorkit (a copy of the Genesys kit,
# tested against mock-desk's Genesys face, to rewrite for your vendor).
#
#   scripts/new-kit.sh NAME [--from websocket|rest|polling|vendor]   (default: websocket)
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/new-kit.sh NAME [--from websocket|rest|polling|vendor]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
name="$1"; shift
from=websocket
while [[ $# -gt 0 ]]; do
	case "$1" in
	--from) [[ $# -ge 2 ]] || usage; from="$2"; shift 2 ;;
	*) usage ;;
	esac
done
if [[ ! "$name" =~ ^[a-z][a-z0-9]{1,30}$ ]]; then
	echo "new-kit: NAME must be a Go package name: a lowercase letter, then 1-30 lowercase letters or digits" >&2
	exit 2
fi
case "$from" in websocket | rest | polling) ;; vendor) from=genesys ;; *) echo "new-kit: --from must be websocket, rest, polling or vendor" >&2; exit 2 ;; esac
src="kits/$from"
dst="kits/$name"
if [[ -e "$dst" ]]; then
	echo "new-kit: $dst exists" >&2
	exit 1
fi

mkdir -p "$dst"
# The kit's own files (its internal packages too); benchmarks stay with the
# template.
for f in "$src"/*; do
	case "$(basename "$f")" in bench_test.go | go.sum) continue ;; esac
	cp -r "$f" "$dst/"
done
# Rename: the package, its module path, its desk name and its error
# prefixes. Imports of other packages named like the template (gorilla's
# websocket) keep their paths: only "kits/$from" and whole identifiers move.
find "$dst" -type f | while read -r f; do
	sed -E -i \
		-e "s#kits/$from\b#kits/$name#g" \
		-e "s#^package ${from}_test\$#package ${name}_test#" \
		-e "s#^package ${from}\$#package ${name}#" \
		-e "s#^// Package ${from} #// Package ${name} #" \
		-e "s#\b${from}\.(New|Config|Kit|Name|EventIDHeader|Regions|Error|Guest|Delivery|AuthCode|PageAuthCode|PageAuth[A-Za-z]*Key)\b#${name}.\1#g" \
		-e "s#\"${from}: #\"${name}: #g" \
		-e "s#\"${from}\"#\"${name}\"#g" \
		-e "s#deskbridge-${from}#deskbridge-${name}#g" \
		"$f"
done
# Register the kit with the server (deskbridge serve and demo --kit NAME):
# cmd/deskbridge/kit_NAME.go, a copy of the template's registration, and the
# module in cmd/deskbridge's go.mod.
reg="cmd/deskbridge/kit_$name.go"
sed -E \
	-e "s#kits/$from\"#kits/$name\"#" \
	-e "s#\b${from}\.(New|Config|Regions|Delivery|PageAuthCode)\b#${name}.\1#g" \
	-e "s#DESKBRIDGE_${from^^}_#DESKBRIDGE_${name^^}_#g" \
	-e "s#^// The ${from} kit#// The ${name} kit (made by scripts/new-kit.sh from the ${from} kit)#" \
	-e "s#Name: +\"${from}\",#Name: \"${name}\",#" \
	-e "s#About: +\"(.*)\",#About: \"a copy of the ${from} kit: \1\",#" \
	-e "/^\s*(Aliases|order):/d" \
	"cmd/deskbridge/kit_$from.go" >"$reg"
gofmt -w "$reg"
(cd cmd/deskbridge && go mod edit \
	-require="github.com/deskbridge/deskbridge/kits/$name@v0.0.0-00010101000000-000000000000" \
	-replace="github.com/deskbridge/deskbridge/kits/$name=../../kits/$name")
scripts/gen-work.sh
(cd "$dst" && go mod tidy >/dev/null)
echo "created $dst from $src, registered as deskbridge serve --kit $name ($reg)"
echo "next: (cd $dst && go test -race .), then docs/writing-a-kit.md"
