package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nfkit/nfkit/chrow"
	"github.com/nfkit/nfkit/collector"
)

// maxBatch bounds --clickhouse-batch below ClickHouse's default
// max_insert_block_size (1048576 rows), with room for the chunk that
// completes a batch: an insert of one block is stored whole or not at all.
const maxBatch = 1000000

// chOptions are the flags of the ClickHouse output.
type chOptions struct {
	url          string
	table        string
	cluster      string
	create       bool
	passwordFile string
	batch        int
	flush        time.Duration
	compress     string
	retention    string
	memoryMiB    int
	spool        string
	spoolMiB     int

	retain time.Duration
	ch     *collector.ClickHouse
	sink   *collector.ClickHouseSink
}

func (o *chOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.url, "clickhouse", "", "also insert every flow into ClickHouse over HTTP at `URL` (e.g. http://127.0.0.1:8123/?database=netflow; user and password in the URL or --clickhouse-password-file); a comma-separated list names every node of a cluster: inserts go to the first that answers, --clickhouse-create and the retention run on each")
	fs.StringVar(&o.table, "clickhouse-table", "flows", "ClickHouse `table` of flows (with --clickhouse-cluster: the Distributed table; the shards' tables are TABLE_local)")
	fs.StringVar(&o.cluster, "clickhouse-cluster", "", "ClickHouse cluster `name` (remote_servers): --clickhouse-create makes a MergeTree table on every node and a Distributed table over them")
	fs.BoolVar(&o.create, "clickhouse-create", false, "create the ClickHouse database and tables if missing (retried in the background while the server is down)")
	fs.StringVar(&o.passwordFile, "clickhouse-password-file", "", "read the ClickHouse password from `file` (first line)")
	fs.IntVar(&o.batch, "clickhouse-batch", 100000, "insert when a batch holds this many `rows` …")
	fs.DurationVar(&o.flush, "clickhouse-flush", time.Second, "… or is this old")
	fs.StringVar(&o.compress, "clickhouse-compress", "gzip", "compression of inserts on the wire: gzip or none")
	fs.StringVar(&o.retention, "clickhouse-retention", "", "keep this long in ClickHouse (e.g. 30d): a TTL on servers that have one, else old daily partitions are dropped hourly")
	fs.IntVar(&o.memoryMiB, "clickhouse-memory-mib", 256, "memory, in `MiB`, of the batches waiting for ClickHouse; past it they go to --spool, or are dropped (counted); 0 with --spool: every batch goes through the spool")
	fs.StringVar(&o.spool, "spool", "", "`directory` where batches wait on disk while ClickHouse is slow or down (replayed in order, kept across restarts)")
	fs.IntVar(&o.spoolMiB, "spool-max-mib", 10240, "bound, in `MiB`, of --spool; past it batches are dropped (counted)")
}

// parseRetention parses "30d", "12h" or a Go duration.
func parseRetention(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q: want a number of days (30d) or a duration", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q: want a number of days (30d) or a duration", s)
	}
	return d, nil
}

func (o *chOptions) check(set map[string]bool) error {
	if o.url == "" {
		for _, f := range []string{"clickhouse-table", "clickhouse-cluster", "clickhouse-create", "clickhouse-password-file", "clickhouse-batch",
			"clickhouse-flush", "clickhouse-compress", "clickhouse-retention", "clickhouse-memory-mib", "spool", "spool-max-mib"} {
			if set[f] {
				return usagef("--%s needs --clickhouse", f)
			}
		}
		return nil
	}
	switch {
	case o.table == "":
		return usagef("--clickhouse-table: empty")
	case o.batch < 1 || o.batch > maxBatch:
		return usagef("--clickhouse-batch %d: must be from 1 to %d (ClickHouse's max_insert_block_size: a larger insert that fails may be stored in part)", o.batch, maxBatch)
	case o.flush <= 0:
		return usagef("--clickhouse-flush %v: must be positive", o.flush)
	case o.compress != "gzip" && o.compress != "none":
		return usagef("--clickhouse-compress %q: want gzip or none", o.compress)
	case o.memoryMiB < 0 || o.memoryMiB == 0 && o.spool == "":
		return usagef("--clickhouse-memory-mib %d: must be at least 1 (0 with --spool)", o.memoryMiB)
	case o.spoolMiB < 1:
		return usagef("--spool-max-mib %d: must be at least 1", o.spoolMiB)
	}
	if o.retention != "" {
		d, err := parseRetention(o.retention)
		if err != nil {
			return usagef("--clickhouse-retention: %v", err)
		}
		o.retain = d
	}
	return nil
}

// output builds the ClickHouse output (nil without --clickhouse).
func (o *chOptions) output(shutdown time.Duration, log *slog.Logger) (*collector.Output, error) {
	if o.url == "" {
		return nil, nil
	}
	var urls []string
	for _, u := range strings.Split(o.url, ",") {
		if u = strings.TrimSpace(u); u != "" {
			urls = append(urls, u)
		}
	}
	cfg := collector.ClickHouseConfig{
		URLs:     urls,
		Table:    chrow.Table{Name: o.table, Cluster: o.cluster, Retention: o.retain},
		Compress: collector.Gzip,
	}
	if o.compress == "none" {
		cfg.Compress = collector.Plain
	}
	if o.passwordFile != "" {
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			return nil, fmt.Errorf("--clickhouse-password-file: %w", err)
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		cfg.Password = strings.TrimSuffix(pw, "\r")
		if cfg.Password == "" {
			return nil, fmt.Errorf("--clickhouse-password-file %s: empty", o.passwordFile)
		}
	}
	ch, err := collector.NewClickHouse(cfg)
	if err != nil {
		return nil, fmt.Errorf("--clickhouse: %w", err)
	}
	memory := int64(o.memoryMiB) << 20
	if memory == 0 {
		memory = 1 // no batch fits: all go through the spool
	}
	s, err := collector.NewClickHouseSink(ch, collector.DeliveryConfig{
		Name:         "clickhouse",
		BatchRecords: o.batch,
		BatchBytes:   64 << 20,
		Flush:        o.flush,
		MemoryBytes:  memory,
		SpoolDir:     o.spool,
		SpoolBytes:   int64(o.spoolMiB) << 20,
		CloseTimeout: shutdown / 2,
	}, log)
	if err != nil {
		return nil, fmt.Errorf("--spool: %w", err)
	}
	o.ch, o.sink = ch, s
	return &collector.Output{Name: "clickhouse", Encoder: collector.ClickHouseRows{}, Sink: s}, nil
}

// start creates the tables (at once, or retrying in the background while
// the server is down) and runs the retention, until ctx is done.
func (o *chOptions) start(ctx context.Context, log *slog.Logger) {
	if o.ch == nil {
		return
	}
	created := false
	if o.create {
		// Once now, so that a capture read in a moment finds the tables
		// on every node; in the background while that fails.
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := o.ch.Create(cctx, log)
		cancel()
		if err == nil {
			created = true
		} else {
			log.Error("clickhouse: creating the tables failed; retrying in the background (inserts wait meanwhile)", "err", err)
		}
	}
	go func() {
		if o.create && !created {
			backoff := time.Second
			for {
				err := o.ch.Create(ctx, log)
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return
				}
				log.Error("clickhouse: creating the tables failed; retrying (inserts wait meanwhile)", "err", err, "retry_in", backoff)
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(2*backoff, 10*time.Second)
			}
		}
		if o.retain > 0 {
			o.ch.RunRetention(ctx, time.Hour, log)
		}
	}()
}

// report logs what the ClickHouse output did, and returns an error when
// flows were lost (dropped or rejected).
func (o *chOptions) report(log *slog.Logger) error {
	if o.sink == nil {
		return nil
	}
	st := o.sink.Stats()
	log.Info("clickhouse", "flows_inserted", st.Records, "batches", st.Batches, "retries", st.Retries,
		"flows_rejected", st.Rejected, "flows_dropped", st.Dropped, "flows_spooled", st.Spool.Records)
	if st.Dropped+st.Rejected > 0 {
		return fmt.Errorf("clickhouse: %d flows dropped, %d rejected", st.Dropped, st.Rejected)
	}
	return nil
}
