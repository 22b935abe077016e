#!/usr/bin/env bash
# The browser path end to end, as an operator runs it: `deskbridge serve
# --kit websocket`, `mock-desk -echo` and the load client (loadgen) as
# separate processes on loopback, beside a raw gorilla/websocket echo
# server (the baseline) in the same run. For each load, rounds alternate
# between the baseline and deskbridge; the table gives medians and ratios.
#
#   scripts/bench-e2e.sh [--quick] [--store memory|file] [--rounds N] [--hold N]
#
# Loads: 1 client closed loop; 50 clients closed loop; 1,000 clients at one
# message a second each; and --hold live chats (default 5,000) at one
# message a minute, for memory per live chat and the CPU that holding them
# costs. Server CPU per round trip is deskbridge's own (from /proc), not
# mock-desk's or the client's. --quick (for CI): smaller and shorter, the
# same code paths. Everything listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 store=memory rounds=3 hold=5000
while [[ $# -gt 0 ]]; do
	case "$1" in
	--quick) quick=1 ;;
	--store) store="$2"; shift ;;
	--rounds) rounds="$2"; shift ;;
	--hold) hold="$2"; shift ;;
	*) echo "bench-e2e: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
one_msgs=20000 many_msgs=40000 rate_clients=1000 rate_for=10s hold_for=30s
if [[ $quick == 1 ]]; then
	rounds=1 one_msgs=2000 many_msgs=4000 rate_clients=200 rate_for=3s hold=300 hold_for=3s
fi

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "building into $work"
go build -o "$work/deskbridge" ./cmd/deskbridge
go build -o "$work/mock-desk" ./mock-desk/cmd/mock-desk
go build -o "$work/loadgen" ./mock-desk/cmd/loadgen

# start NAME LOGPATTERN CMD...: runs CMD in the background, waits for its
# log to show "http://127.0.0.1:PORT" (or "listening 127.0.0.1:PORT") and
# prints host:port.
start() {
	local name=$1 log="$work/$1.log"
	shift
	"$@" >"$log" 2>&1 &
	pids+=("$!")
	echo "$!" >"$work/$name.pid"
	for _ in $(seq 100); do
		if addr=$(grep -o -m1 -E '(http://|listening )127\.0\.0\.1:[0-9]+' "$log" | head -1 | grep -o -E '127\.0\.0\.1:[0-9]+'); then
			echo "$addr"
			return
		fi
		sleep 0.1
	done
	echo "bench-e2e: $name did not start:" >&2
	cat "$log" >&2
	exit 1
}

desk=$(start mock-desk "$work/mock-desk" -port 0 -agents 10 -echo -log-level warn)
echo_addr=$(start echo "$work/loadgen" echo -listen 127.0.0.1:0)
serve_args=(serve --kit websocket --desk-url "http://$desk" --listen 127.0.0.1:0 --log-level info
	--rate 1000000 --burst 1000000 --max-conns-per-addr 1000000 --new-sessions-per-minute 100000000
	--start-chats-per-minute 100000000 --desk-ops-per-minute 100000000)
case "$store" in
memory) serve_args+=(--store memory) ;;
file) serve_args+=(--data-dir "$work/data") ;;
*) echo "bench-e2e: --store memory or file" >&2; exit 2 ;;
esac
export DESKBRIDGE_TOKEN_SECRET=bench-e2e-secret-0123456789abcdef0123456789
gw=$(start deskbridge "$work/deskbridge" "${serve_args[@]}")
db_pid=$(cat "$work/deskbridge.pid")

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "go: $(go version)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  store: $store  rounds: $rounds  quick: $quick"

results="$work/results.jsonl"
: >"$results"

# measure LABEL SIDE LOADGEN-ARGS...: one run, its JSON line into $results.
measure() {
	local label=$1 side=$2
	shift 2
	if [[ $side == raw ]]; then
		"$work/loadgen" "$@" -label "$label" -proto raw -url "ws://$echo_addr/" >>"$results"
	else
		"$work/loadgen" "$@" -label "$label" -url "ws://$gw/ws" -server-pid "$db_pid" >>"$results"
	fi
}

for round in $(seq "$rounds"); do
	echo "round $round of $rounds"
	for side in raw deskbridge; do
		measure "1 client, closed loop" "$side" closed -clients 1 -msgs "$one_msgs"
		measure "50 clients, closed loop" "$side" closed -clients 50 -msgs "$many_msgs"
		measure "$rate_clients clients × 1 msg/s" "$side" rate -clients "$rate_clients" -every 1s -for "$rate_for"
	done
done
echo "holding $hold live chats"
measure "$hold live chats held, 1 msg/min each" deskbridge hold -chats "$hold" -every 1m -for "$hold_for"
echo
"$work/loadgen" report "$results"
