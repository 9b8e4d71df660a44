#!/usr/bin/env bash
# End-to-end collector benchmark (make bench-e2e): nfcollect side by side
# with nfcapd (Debian nfdump) and goflow2 v2.2.6 at increasing offered
# rates of 25-flow NetFlow v9 packets, sent over loopback by nfreplay.
# Every run is bounded in count and time and sends to 127.0.0.1 only.
#
#   scripts/bench-e2e.sh                                   # about 20 minutes on an idle 2-core machine
#   RATES=500k,1M DURATION=2s COLLECTORS=nfcollect-gz,nfcapd PROFILE_RATE=0 scripts/bench-e2e.sh
#
# Environment:
#   RATES         offered flows/s, comma-separated (default 100k,500k,1M,2M,4M)
#   DURATION      sending time per point (default 4s)
#   COLLECTORS    setups (default: nfcollect-gz,nfcollect-zst,nfcollect-gz-2core,
#                 nfcollect-zst-2core,nfcollect-parquet,nfcollect-parquet-2core,
#                 nfcapd,nfcapd-lz4,goflow2-json,goflow2-bin,goflow2-json-2core,
#                 goflow2-bin-2core,nfcollect-kafka,goflow2-kafka; also nfcollect-kafka-spool)
#   BURSTS        short bursts RATE:DURATION for nfcollect and nfcapd
#                 (default 4M:250ms,4M:500ms,4M:1s; empty: none)
#   SUSTAINED     longer runs RATE:DURATION for nfcollect and nfcapd
#                 (default 1M:20s,2M:20s; empty: none)
#   SOURCES       exporters, i.e. nfreplay --source-addrs (default 4)
#   ATTEMPTS      runs of a point at most when other work on the machine
#                 spoiled it (default 2)
#   PROFILE_RATE  offered rate of the perf profile of nfcollect (default 1M; 0: none)
#   RESULTS       output directory (default bench/results)
#   CLICKHOUSE    1 (default): then nfcollect into the two-shard ClickHouse cluster
#                 of internal/chtest at the same RATES, 2M at most (bench/clickhouse;
#                 installs clickhouse-server as root); appended to e2e.md; 0: skip
#
# Installs what is missing: nfdump (nfcapd), linux-perf (apt, as root) and
# goflow2 (go install into a temporary GOBIN). Writes $RESULTS/e2e.md
# (the README table, the profile note, the commands) and $RESULTS/e2e.txt
# (one JSON line per run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
results=${RESULTS:-$root/bench/results}
rates=${RATES:-100k,500k,1M,2M,4M}
duration=${DURATION:-4s}
sources=${SOURCES:-4}
attempts=${ATTEMPTS:-2}
profile=${PROFILE_RATE:-1M}
start=$(date +%s)

if [ "$(nproc)" -lt 2 ]; then
	echo "bench-e2e: needs 2 cores (the sender is pinned to core 1, the collector to core 0)" >&2
	exit 1
fi

missing=()
command -v nfcapd >/dev/null || missing+=(nfdump)
command -v taskset >/dev/null || missing+=(util-linux)
command -v ss >/dev/null || missing+=(iproute2)
if [ "$profile" != 0 ] && ! perf --version >/dev/null 2>&1; then missing+=(linux-perf); fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "== installing ${missing[*]}" >&2
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
echo "== building nfcollect, nfreplay; installing goflow2 v2.2.6 into $bin" >&2
go build -o "$bin/nfcollect" ./cmd/nfcollect
go build -o "$bin/nfreplay" ./cmd/nfreplay
go build -o "$bin/e2e" ./bench/e2e
GOBIN=$bin go install github.com/netsampler/goflow2/v2/cmd/goflow2@v2.2.6

args=(-nfcollect "$bin/nfcollect" -nfreplay "$bin/nfreplay" -goflow2 "$bin/goflow2"
	-nfcapd "$(command -v nfcapd)" -nfdump "$(command -v nfdump)"
	-rates "$rates" -duration "$duration" -sources "$sources" -attempts "$attempts"
	-profile-rate "$profile" -out "$results"
	-commands "RATES=$rates DURATION=$duration SOURCES=$sources make bench-e2e   # scripts/bench-e2e.sh, then per point:")
if [ -n "${BURSTS+set}" ]; then
	args+=(-bursts "$BURSTS")
fi
if [ -n "${SUSTAINED+set}" ]; then
	args+=(-sustained "$SUSTAINED")
fi
if [ -n "${COLLECTORS:-}" ]; then
	args+=(-collectors "$COLLECTORS")
fi
"$bin/e2e" "${args[@]}"
if [ "${CLICKHOUSE:-1}" != 0 ]; then
	./scripts/install-clickhouse.sh
	chrates=$(echo "$rates" | tr ',' '\n' | grep -vx '4M' | paste -sd, -)
	echo "== nfcollect into ClickHouse at $chrates" >&2
	go run ./bench/clickhouse -rates "$chrates" -duration "$duration" -sources "$sources" -out "$results"
	{
		echo
		echo "### Into a two-shard ClickHouse cluster (bench/clickhouse)"
		echo
		cat "$results/clickhouse.md"
	} >>"$results/e2e.md"
fi
echo "== bench-e2e done in $(($(date +%s) - start)) s: $results/e2e.md, $results/e2e.txt" >&2
