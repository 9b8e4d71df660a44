#!/usr/bin/env bash
# Runs the side-by-side comparison with goflow2 (bench/goflow2, a separate
# module) and nfkit's own decode benchmarks in one invocation, into one
# benchstat-ready file, then renders the README's table from it. The test
# binaries are built once and run as `go test -run '^$' -bench . -count N`
# would run them, in COUNT interleaved rounds by default.
#
#   scripts/bench.sh                      # -count 10 -benchtime 200ms, about 12 minutes on 2 cores
#   COUNT=3 BENCHTIME=200ms scripts/bench.sh
#
# Environment:
#   COUNT      runs of each benchmark (default 10; benchstat needs >= 6 for a confidence interval)
#   BENCHTIME  -benchtime per run (default 200ms; the runs of a benchmark are
#              spread over the whole run, so 10 of them add up to 2 s)
#   BENCH      -bench regexp (default .)
#   RESULTS    output directory (default bench/results)
#   CPU        -test.cpu list, e.g. 1 to run at GOMAXPROCS 1 so that goflow2's
#              garbage collection cannot use the second core (default: unset)
#   INTERLEAVE 1 (default): COUNT rounds of -count 1 over all benchmarks;
#              0: each package once with -count COUNT
#
# Writes $RESULTS/bench.txt (raw `go test -bench` output, with machine lines
# benchfmt reads as configuration), $RESULTS/table.md (Markdown tables) and
# $RESULTS/benchstat.txt (benchstat's view of the same file).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
count=${COUNT:-10}
benchtime=${BENCHTIME:-200ms}
bench=${BENCH:-.}
results=${RESULTS:-$root/bench/results}
mkdir -p "$results"
out=$results/bench.txt
start=$(date +%s)

# Machine lines first: key: value lines are file configuration for benchfmt
# and benchstat, and the table tool prints them.
{
	echo "nproc: $(nproc)"
	echo "go-version: $(go env GOVERSION)"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "benchtime: $benchtime"
	echo "loadavg: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
} >"$out"

status=0
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
echo "== building the test binaries: bench/goflow2 (nfkit vs goflow2) and ./decode" >&2
(cd "$root/bench/goflow2" && go test -c -o "$bin/compare.test" .)
(cd "$root" && go test -c -o "$bin/decode.test" ./decode)

# run DIR BINARY COUNT: one `go test -bench` pass of a package's benchmarks.
run() {
	(cd "$1" && "$2" -test.run '^$' -test.bench "$bench" -test.count "$3" \
		-test.benchtime "$benchtime" -test.timeout 60m ${CPU:+-test.cpu "$CPU"}) 2>&1 | tee -a "$out" || status=1
}

if [ "${INTERLEAVE:-1}" = 1 ]; then
	# COUNT rounds of one run of every benchmark, so that a burst of other
	# work on the machine spreads over all benchmarks instead of spoiling
	# every run of one of them.
	for i in $(seq "$count"); do
		echo "== round $i/$count: BenchmarkCompare, BenchmarkCaptures, BenchmarkTemplates, BenchmarkSFlow (bench/goflow2), then ./decode" >&2
		run "$root/bench/goflow2" "$bin/compare.test" 1
		run "$root/decode" "$bin/decode.test" 1
	done
else
	echo "== bench/goflow2 then ./decode, -count $count" >&2
	run "$root/bench/goflow2" "$bin/compare.test" "$count"
	run "$root/decode" "$bin/decode.test" "$count"
fi

elapsed=$(($(date +%s) - start))

cd "$root/bench/goflow2"
go run ./cmd/benchtable -o "$results/table.md" "$out" || status=1
echo "Wall time of the run (scripts/bench.sh, COUNT=$count, BENCHTIME=$benchtime): ${elapsed}s." >>"$results/table.md"
go tool benchstat "$out" >"$results/benchstat.txt" 2>&1 || status=1

echo "== $results/table.md (run took ${elapsed}s)" >&2
cat "$results/table.md"
if [ "$status" -ne 0 ]; then
	echo "bench.sh: some step failed; see $out" >&2
fi
exit "$status"
