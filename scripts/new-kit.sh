#!/usr/bin/env bash
# Creates kits/NAME from a template kit, with the names changed, and adds it
# to go.work. The copy passes the conformance suite unchanged; adapt its
# transport to your desk from there (docs/writing-a-kit.md).
#
#   scripts/new-kit.sh NAME [--from websocket|rest|polling]   (default: websocket)
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/new-kit.sh NAME [--from websocket|rest|polling]" >&2; exit 2; }
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
case "$from" in websocket | rest | polling) ;; *) echo "new-kit: --from must be websocket, rest or polling" >&2; exit 2 ;; esac
src="kits/$from"
dst="kits/$name"
if [[ -e "$dst" ]]; then
	echo "new-kit: $dst exists" >&2
	exit 1
fi

mkdir -p "$dst"
# The kit's own files; benchmarks stay with the template.
for f in "$src"/*; do
	case "$(basename "$f")" in bench_test.go | go.sum) continue ;; esac
	cp "$f" "$dst/"
done
# Rename: the package, its module path, its desk name and its error
# prefixes. Imports of other packages named like the template (gorilla's
# websocket) keep their paths: only "kits/$from" and whole identifiers move.
for f in "$dst"/*; do
	sed -E -i \
		-e "s#kits/$from\b#kits/$name#g" \
		-e "s#^package ${from}_test\$#package ${name}_test#" \
		-e "s#^package ${from}\$#package ${name}#" \
		-e "s#^// Package ${from} #// Package ${name} #" \
		-e "s#\b${from}\.(New|Config|Kit|Name|EventIDHeader)\b#${name}.\1#g" \
		-e "s#\"${from}: #\"${name}: #g" \
		-e "s#deskbridge-${from}#deskbridge-${name}#g" \
		"$f"
done
scripts/gen-work.sh
(cd "$dst" && go mod tidy >/dev/null)
echo "created $dst from $src; next: (cd $dst && go test -race .), then docs/writing-a-kit.md"
