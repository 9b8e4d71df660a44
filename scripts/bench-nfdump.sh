#!/usr/bin/env bash
# bench-nfdump.sh: nfanalyze beside nfdump on the same flows, one core each.
# nfreplay sends the same NetFlow v9 packets (the built-in 25-flow packet,
# FLOWS flows in all) over loopback to nfcapd (LZ4 files, -y), to nfcollect
# writing Parquet and to nfcollect writing zstd JSON lines; then, pinned to
# one CPU (taskset) and timed (best of RUNS):
#
#   nfdump -r NFCAPD_FILE -s srcip/bytes -n 10
#   nfanalyze --top 10 --stat src flows.parquet      (GOMAXPROCS=1)
#   nfanalyze --top 10 --stat src flows.zst          (GOMAXPROCS=1)
#
# Each tool's rate is the flows it read (its own count) per CPU second (user
# + system). Writes $RESULTS/nfdump.md. Needs nfdump (Debian package
# nfdump: installed when missing, as root) and Go.
#
#   FLOWS=5000000 RATE=500k RUNS=3 scripts/bench-nfdump.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
flows=${FLOWS:-5000000}
rate=${RATE:-500k}
runs=${RUNS:-3}
port=${PORT:-39996}
results=${RESULTS:-$root/bench/results}
mkdir -p "$results"

if ! command -v nfcapd >/dev/null || ! command -v nfdump >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		apt-get install -y nfdump >/dev/null
	else
		echo "$0: nfcapd/nfdump not found (apt-get install nfdump)" >&2
		exit 1
	fi
fi

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "== building nfcollect, nfanalyze, nfreplay" >&2
for c in nfcollect nfanalyze nfreplay; do go build -o "$tmp/$c" "./cmd/$c"; done

# waitfor LOG TEXT: until TEXT shows in LOG (at most 10 s).
waitfor() {
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "$0: no \"$2\" in $1:" >&2
	cat "$1" >&2
	exit 1
}

# replay: FLOWS flows to the port, at RATE; templates are extra packets.
replay() {
	"$tmp/nfreplay" -t "127.0.0.1:$port" --rate "$rate" --count $((flows / 25 + flows / 25000 + 1)) >"$tmp/replay.log" 2>&1
	sleep 1
}

echo "== $flows flows at $rate flows/s to nfcapd -y (LZ4)" >&2
mkdir -p "$tmp/nfcapd"
nfcapd -b 127.0.0.1 -p "$port" -w "$tmp/nfcapd" -t 3600 -y -B 33554432 >"$tmp/nfcapd.log" 2>&1 &
pid=$!
waitfor "$tmp/nfcapd.log" Startup
sleep 0.2
replay
kill -TERM "$pid"
wait "$pid" || true
pid=
nffile=$(ls "$tmp"/nfcapd/nfcapd.2* | head -n 1)

for out in flows.parquet flows.zst; do
	echo "== the same packets to nfcollect -o $out" >&2
	"$tmp/nfcollect" --host 127.0.0.1 -p "$port" -o "$tmp/$out" --metrics "127.0.0.1:$((port + 1))" >"$tmp/nfcollect.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		curl -fs "http://127.0.0.1:$((port + 1))/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	replay
	kill -INT "$pid"
	wait "$pid" || true
	pid=
done

# best CMD...: the run of RUNS with the least CPU time; prints "user sys
# wall" (bash's time: getrusage, to the millisecond).
TIMEFORMAT='%3U %3S %3R'
best() {
	local b="" t
	for _ in $(seq "$runs"); do
		{ time taskset -c 0 "$@" >"$tmp/out" 2>"$tmp/err.tool"; } 2>"$tmp/time"
		t=$(tail -n 1 "$tmp/time")
		if [ -z "$b" ] || awk -v a="$t" -v b="$b" 'BEGIN { split(a, x); split(b, y); exit !(x[1] + x[2] < y[1] + y[2]) }'; then
			b=$t
		fi
	done
	echo "$b"
}

nfd=$(best nfdump -r "$nffile" -s srcip/bytes -n 10)
nfd_flows=$(sed -n 's/^Summary: total flows: \([0-9]*\),.*/\1/p' "$tmp/out")
export GOMAXPROCS=1
pq=$(best "$tmp/nfanalyze" -v --top 10 --stat src "$tmp/flows.parquet")
pq_flows=$(sed -n 's/^read .* lines, \([0-9]*\) flows.*/\1/p' "$tmp/err.tool")
zs=$(best "$tmp/nfanalyze" -v --top 10 --stat src "$tmp/flows.zst")
zs_flows=$(sed -n 's/^read .* lines, \([0-9]*\) flows.*/\1/p' "$tmp/err.tool")

row() { # name input flows "user sys wall" file
	local size
	size=$(stat -c %s "$5")
	awk -v n="$1" -v i="$2" -v f="$3" -v t="$4" -v s="$size" 'BEGIN {
		split(t, x); cpu = x[1] + x[2]
		printf "| %s | %s | %d | %.1f | %.3f | %.3f | %.1fM |\n", n, i, f, s / f, cpu, x[3], (cpu > 0 ? f / cpu / 1e6 : 0)
	}'
}
{
	echo "nfanalyze beside nfdump on the same $flows flows (nfreplay's 25-flow v9 packet at $rate flows/s to each collector),"
	echo "pinned to one CPU, best of $runs runs; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)."
	echo
	echo "| command | input | flows read | bytes/flow | CPU s | wall s | flows per CPU-s |"
	echo "|---|---|---|---|---|---|---|"
	row "nfdump -r FILE -s srcip/bytes -n 10" "nfcapd, LZ4 (-y)" "$nfd_flows" "$nfd" "$nffile"
	row "nfanalyze --top 10 --stat src FILE" "Parquet, zstd" "$pq_flows" "$pq" "$tmp/flows.parquet"
	row "nfanalyze --top 10 --stat src FILE" "JSON lines, zstd" "$zs_flows" "$zs" "$tmp/flows.zst"
} >"$results/nfdump.md"
cat "$results/nfdump.md"
