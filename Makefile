# nfkit: zero-allocation NetFlow/IPFIX decoder, collector and analyzer.
GO       ?= go
FUZZTIME ?= 30s
COUNT    ?= 10

.PHONY: all build test vet guards fmt-check generate check-generated fuzz bench bench-e2e bench-clickhouse stress testdata clean duckdb

all: build

build:
	$(GO) build ./...

# The CI entry point: formatting, vet, generated code up to date, all tests,
# every benchmark for one iteration (so the harness cannot rot), and the
# goflow2 comparison module (with the Kafka tests that read nfcollect's
# messages with goflow2's own FlowMessage code).
# The ClickHouse tests run against two local clickhouse-server shards;
# scripts/install-clickhouse.sh installs Debian's package when missing (as
# root with apt-get), and once it is there the tests must not skip.
test: fmt-check vet check-generated guards duckdb
	./scripts/install-clickhouse.sh
	NFKIT_REQUIRE_CLICKHOUSE=$$(if command -v clickhouse-server >/dev/null || [ -x /usr/sbin/clickhouse-server ]; then echo 1; else echo 0; fi) \
		$(GO) test -count=1 ./...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./...
	cd bench/goflow2 && $(GO) vet ./... && $(GO) test -count=1 -run . -bench . -benchtime 1x ./...

vet:
	$(GO) vet ./...

# The static guards of internal/hotcheck (README, "Repository layout"): the
# allocation rules on //nfkit:hot functions, package layering, struct
# packing (one vet tool), then dead code (internal/cmd/deadcheck).
NFKITVET := $(CURDIR)/.bin/nfkitvet
guards:
	$(GO) build -o $(NFKITVET) ./internal/cmd/nfkitvet
	$(GO) vet -vettool=$(NFKITVET) ./...
	$(GO) run ./internal/cmd/deadcheck -cache $(CURDIR)/.bin/deadcheck.sum

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# DuckDB's Node package, for the tests that open nfcollect's Parquet files
# (scripts/duckdb/query.mjs); without npm those tests skip, loudly.
duckdb:
	@if [ ! -d scripts/duckdb/node_modules/@duckdb/node-api ]; then \
		if command -v npm >/dev/null 2>&1; then \
			(cd scripts/duckdb && npm install --no-audit --no-fund) || echo "!!! npm install failed: the DuckDB checks of the Parquet files will be SKIPPED"; \
		else echo "!!! npm not found: the DuckDB checks of the Parquet files will be SKIPPED"; fi; \
	fi

generate:
	$(GO) generate ./...

# Fails when a generated file is stale (go test ./gen runs the same check).
check-generated:
	$(GO) run ./gen -check

# Runs every fuzz target for FUZZTIME each.
fuzz:
	@for p in ./decode ./capture ./analyzer ./pynetflow ./flowjson ./flowpb ./flowparquet ./collector ./internal/spool; do \
		for t in $$($(GO) test $$p -list '^Fuzz' | grep ^Fuzz); do \
			echo "== $$p $$t"; $(GO) test $$p -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) || exit 1; \
		done; \
	done

# Decoder benchmarks side by side with goflow2 (-count $(COUNT)); writes
# bench/results/bench.txt and the README table bench/results/table.md.
# Then nfanalyze (Parquet, zstd JSON) beside nfdump (nfcapd LZ4) on the
# same flows: bench/results/nfdump.md (scripts/bench-nfdump.sh).
bench:
	COUNT=$(COUNT) ./scripts/bench.sh
	./scripts/bench-nfdump.sh

# End-to-end throughput: nfcollect beside nfcapd and goflow2 at increasing
# offered rates over loopback (nfreplay; bounded runs, installs nfdump,
# linux-perf and goflow2 when missing); writes bench/results/e2e.md and
# e2e.txt. RATES, DURATION, COLLECTORS, ATTEMPTS, PROFILE_RATE: see the script.
bench-e2e:
	./scripts/bench-e2e.sh

# nfcollect into a two-shard ClickHouse cluster (internal/chtest) at
# increasing offered rates over loopback: the share of the flows sent that
# reach the cluster, and the CPU time of nfcollect and of the servers;
# writes bench/results/clickhouse.md and clickhouse.txt. Needs
# clickhouse-server (scripts/install-clickhouse.sh). CH_FLAGS adds flags
# (e.g. -rates 1M -duration 10s -compress none -via distributed).
bench-clickhouse:
	./scripts/install-clickhouse.sh
	$(GO) run ./bench/clickhouse $(CH_FLAGS)

# Floods against nfcollect (bench/stress): peak RSS of the collector and
# the share of a legitimate exporter's flows written, for each scenario of
# the README's "Floods and memory"; writes bench/results/stress.md and
# stress.txt. NFCOLLECT=path measures that binary (default: ./cmd/nfcollect
# built now); STRESS_FLAGS adds flags (e.g. -run a,c -duration 5s).
stress:
	$(GO) run ./bench/stress $(if $(NFCOLLECT),-nfcollect $(NFCOLLECT)) $(STRESS_FLAGS)

# Regenerates the real-exporter captures and the tshark expectations
# (installs softflowd, pmacct, fprobe, tshark from Debian; needs root).
testdata:
	./scripts/make-testdata.sh

clean:
	rm -rf bench/results
