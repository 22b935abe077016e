#!/usr/bin/env bash
# Runs the project's benchmarks several times and prints medians with
# benchstat. Usage: scripts/bench.sh [count]   (default count 6)
# Each module's benchmark set is listed below as "dir|regexp|benchtime".
# Results for docs/benchmarks.md: copy the benchstat tables and the header
# this script prints (machine, Go version, command).
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-6}"
out="${BENCH_OUT:-$(mktemp -d)}"
benchstat="$(go env GOPATH)/bin/benchstat"
if [[ ! -x "$benchstat" ]]; then
	go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
fi

targets=(
	"core/flow|OneSession|200000x"
	"core/flow|TenThousandSessions|200000x"
	"core/flow|IdleSessionMemory|1x"
)
if [[ -f scripts/bench.targets ]]; then
	while IFS= read -r line; do [[ -n "$line" && "$line" != \#* ]] && targets+=("$line"); done < scripts/bench.targets
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "go: $(go version)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
for t in "${targets[@]}"; do
	IFS='|' read -r dir re bt <<<"$t"
	file="$out/$(echo "$dir-$re" | tr '/' '_').txt"
	echo
	echo "== (cd $dir && go test -run '^\$' -bench '$re' -benchtime=$bt -count=$count .)"
	(cd "$dir" && go test -run '^$' -bench "$re" -benchtime="$bt" -count="$count" .) >"$file"
	"$benchstat" "$file"
done
echo
echo "raw results in $out"
