#!/usr/bin/env bash
# The browser path end to end, as an operator runs it: `deskbridge serve
# --kit websocket`, `mock-desk -echo` and the load client (loadgen) as
# separate processes on loopback, beside a raw gorilla/websocket echo
# server (the baseline) in the same run. For each load, rounds alternate
# between the baseline and deskbridge; the table gives medians and ratios.
#
#   scripts/bench-e2e.sh [--quick] [--store memory|file] [--rounds N] [--hold N] [--hold-for D] [--profile DIR]
#
# Loads: --hold connected sessions without a chat (first, in the fresh
# process, for memory per session); 1 client closed loop; 50 clients
# closed loop; 1,000 clients at one message a second each; and --hold live
# chats (default 5,000) at one message a minute (for --hold-for, default
# 30 s), for memory per live chat and the CPU that holding them costs. Server CPU per round trip is deskbridge's own (from /proc), not
# mock-desk's or the client's. --quick (for CI): smaller and shorter, the
# same code paths. --profile DIR: deskbridge serves its profiles
# (--pprof-listen) and DIR gets a CPU profile of each deskbridge load of the
# last round, a heap profile with the sessions without a chat held, a heap
# and a CPU profile with the live chats held, beside the binary
# they belong to (go tool pprof DIR/deskbridge DIR/cpu-50-clients.pprof).
# Everything listens on 127.0.0.1 and stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 store=memory rounds=3 hold="" hold_for_arg="" profile=""
while [[ $# -gt 0 ]]; do
	case "$1" in
	--quick) quick=1 ;;
	--store) store="$2"; shift ;;
	--rounds) rounds="$2"; shift ;;
	--hold) hold="$2"; shift ;;
	--hold-for) hold_for_arg="$2"; shift ;;
	--profile) profile="$2"; shift ;;
	*) echo "bench-e2e: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
one_msgs=20000 many_msgs=40000 rate_clients=1000 rate_for=10s hold_n=5000 hold_for=30s
if [[ $quick == 1 ]]; then
	rounds=1 one_msgs=2000 many_msgs=4000 rate_clients=200 rate_for=3s hold_n=300 hold_for=3s
fi
hold=${hold:-$hold_n} hold_for=${hold_for_arg:-$hold_for}

work=$(mktemp -d)
# start runs in a command substitution (a subshell): each process it
# starts is remembered in $work/NAME.pid, not in a variable of this shell.
cleanup() {
	for f in "$work"/*.pid; do
		[[ -e $f ]] && kill "$(cat "$f")" 2>/dev/null || true
	done
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
	echo "$!" >"$work/$name.pid"
	for _ in $(seq 100); do
		if addr=$(grep -v pprof "$log" | grep -o -m1 -E '(http://|listening )127\.0\.0\.1:[0-9]+' | head -1 | grep -o -E '127\.0\.0\.1:[0-9]+'); then
			echo "$addr"
			return
		fi
		sleep 0.1
	done
	echo "bench-e2e: $name did not start:" >&2
	cat "$log" >&2
	exit 1
}

# Echo agents take 1,000 chats each; chats of earlier loads stay open
# until their sessions are swept, so there is room for all of them.
agents=$(((hold + rate_clients + 1000) / 1000 + 10))
desk=$(start mock-desk "$work/mock-desk" -port 0 -agents "$agents" -echo -log-level warn)
echo_addr=$(start echo "$work/loadgen" echo -listen 127.0.0.1:0)
serve_args=(serve --kit websocket --desk-url "http://$desk" --listen 127.0.0.1:0 --log-level info
	--rate 1000000 --burst 1000000 --max-conns-per-addr 1000000 --new-sessions-per-minute 100000000
	--start-chats-per-minute 100000000 --desk-ops-per-minute 100000000)
case "$store" in
memory) serve_args+=(--store memory) ;;
file) serve_args+=(--data-dir "$work/data") ;;
*) echo "bench-e2e: --store memory or file" >&2; exit 2 ;;
esac
if [[ -n $profile ]]; then
	mkdir -p "$profile"
	cp "$work/deskbridge" "$profile/deskbridge"
	serve_args+=(--pprof-listen 127.0.0.1:0)
fi
export DESKBRIDGE_TOKEN_SECRET=bench-e2e-secret-0123456789abcdef0123456789
gw=$(start deskbridge "$work/deskbridge" "${serve_args[@]}")
db_pid=$(cat "$work/deskbridge.pid")
pprof_url=""
if [[ -n $profile ]]; then
	pprof_url=$(grep -o -m1 -E 'http://127\.0\.0\.1:[0-9]+/debug/pprof/' "$work/deskbridge.log")
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "go: $(go version)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  store: $store  rounds: $rounds  quick: $quick"

results="$work/results.jsonl"
: >"$results"

# measure LABEL SIDE LOADGEN-ARGS...: one run, its JSON line into $results.
# With --profile, PROFILE_AS names the CPU profile taken of deskbridge
# meanwhile (the first seconds of the run).
measure() {
	local label=$1 side=$2 prof=""
	shift 2
	if [[ $side == raw ]]; then
		"$work/loadgen" "$@" -label "$label" -proto raw -url "ws://$echo_addr/" >>"$results"
	else
		if [[ -n $pprof_url && -n ${PROFILE_AS:-} ]]; then
			curl -s -o "$profile/cpu-$PROFILE_AS.pprof" "${pprof_url}profile?seconds=${profile_secs}" &
			prof=$!
		fi
		"$work/loadgen" "$@" -label "$label" -url "ws://$gw/ws" -server-pid "$db_pid" >>"$results"
		if [[ -n $prof ]]; then wait "$prof" || true; fi
	fi
}
profile_secs=5
if [[ $quick == 1 ]]; then profile_secs=1; fi

# once_held PATTERN CMD...: with --profile, runs CMD in the background a
# second after loadgen's line PATTERN ("held N", "held N sessions": all
# the run's chats or sessions are open) reaches $results.
once_held() {
	[[ -n $pprof_url ]] || return 0
	local pattern=$1
	shift
	(for _ in $(seq 1200); do
		if grep -q -E "$pattern" "$results"; then
			sleep 1
			"$@"
			break
		fi
		sleep 0.25
	done) &
}
# held_profiles: the heap, and what holding the chats costs: a CPU
# profile while they talk.
held_profiles() {
	curl -s -o "$profile/heap-held.pprof" "${pprof_url}heap?gc=1"
	curl -s -o "$profile/cpu-held.pprof" "${pprof_url}profile?seconds=$((profile_secs * 2))"
}

# Sessions without a chat first: the fresh process's memory grows by what
# they hold, not into what an earlier load left free.
echo "holding $hold connected sessions without a chat"
once_held '^held [0-9]+ sessions$' curl -s -o "$profile/heap-idle.pprof" "${pprof_url}heap?gc=1"
measure "$hold connected sessions without a chat" deskbridge idle -sessions "$hold" -for "$hold_for"

for round in $(seq "$rounds"); do
	echo "round $round of $rounds"
	last=""
	if [[ $round == "$rounds" ]]; then last=1; fi
	for side in raw deskbridge; do
		PROFILE_AS=${last:+1-client} measure "1 client, closed loop" "$side" closed -clients 1 -msgs "$one_msgs"
		PROFILE_AS=${last:+50-clients} measure "50 clients, closed loop" "$side" closed -clients 50 -msgs "$many_msgs"
		PROFILE_AS=${last:+rate} measure "$rate_clients clients × 1 msg/s" "$side" rate -clients "$rate_clients" -every 1s -for "$rate_for"
	done
done
echo "holding $hold live chats"
once_held '^held [0-9]+$' held_profiles
measure "$hold live chats held, 1 msg/min each" deskbridge hold -chats "$hold" -every 1m -for "$hold_for"
echo
"$work/loadgen" report "$results"
