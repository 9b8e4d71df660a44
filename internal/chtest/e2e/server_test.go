package e2e

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/chrow"
	"github.com/nfkit/nfkit/collector"
	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/benchpkt"
	"github.com/nfkit/nfkit/internal/chtest"
)

// The retention drops the old daily partitions on every shard of 18.16
// (no TTL there), and keeps the others.
func TestRetentionDropsPartitions(t *testing.T) {
	chtest.Skip(t, cluster)
	ch, err := collector.NewClickHouse(collector.ClickHouseConfig{URLs: strings.Split(both(), ","),
		Table: chrow.Table{Name: "aged", Cluster: chtest.ClusterName, Retention: 30 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if err := ch.Create(context.Background(), log); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	day := int64(24 * time.Hour)
	// 50 days of rows, one a day, on both shards.
	for i, s := range cluster.Shards {
		s.MustQuery(t, "INSERT INTO nfkit.aged_local (date, time_received_ns) SELECT toDate(intDiv(t, 1000000000)), t FROM (SELECT "+
			itoa(now.UnixNano())+" - toInt64(number) * "+itoa(day)+" - "+itoa(int64(i)*int64(time.Hour))+" AS t FROM numbers(50))")
	}
	n, err := ch.Retain(context.Background(), now, log)
	if err != nil {
		t.Fatal(err)
	}
	if n < 2*19 || n > 2*21 {
		t.Errorf("%d partitions dropped on two shards, want about 2×20", n)
	}
	for _, s := range cluster.Shards {
		got := strings.TrimSpace(s.MustQuery(t, "SELECT count(), min(date) FROM nfkit.aged_local"))
		if got != "31\t2026-11-02" {
			t.Errorf("left: %s, want 31 days from 2026-11-02", got)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// v5Rows returns the RowBinary rows of benchpkt's v5 packet.
func v5Rows(t *testing.T) ([]byte, int) {
	var d decode.Decoder
	var p decode.Packet
	if err := d.Decode(netip.MustParseAddr("192.0.2.1"), benchpkt.V5(), &p); err != nil {
		t.Fatal(err)
	}
	return chrow.AppendRecords(nil, p.Records, time.Now().UnixNano()), len(p.Records)
}

// A batch the server cannot parse is rejected: moved aside, counted, not
// retried; the good batches around it are stored.
func TestRejectedBatch(t *testing.T) {
	chtest.Skip(t, cluster)
	createTable(t, "rejects")
	ch, err := collector.NewClickHouse(collector.ClickHouseConfig{URLs: []string{chURL(0)},
		Table: chrow.Table{Name: "rejects", Cluster: chtest.ClusterName}, Compress: collector.Plain})
	if err != nil {
		t.Fatal(err)
	}
	err = ch.Deliver(context.Background(), []byte("not RowBinary rows"), 1)
	if !errors.Is(err, collector.ErrRejected) {
		t.Fatalf("garbage: %v, want ErrRejected", err)
	}
	// A batch cut anywhere in its last row: in a value (Cannot read all
	// data) or in an array's count (Attempt to read after eof).
	good, n := v5Rows(t)
	for cut := 1; cut <= 8; cut++ {
		if err := ch.Deliver(context.Background(), good[:len(good)-cut], n); !errors.Is(err, collector.ErrRejected) {
			t.Errorf("cut by %d bytes: %v, want ErrRejected", cut, err)
		}
	}
	dir := t.TempDir()
	sink, err := collector.NewClickHouseSink(ch, collector.DeliveryConfig{BatchRecords: 1, SpoolDir: dir, RetryMin: time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sink.Write(collector.Chunk{Data: good, Records: n})
	sink.Write(collector.Chunk{Data: good[:len(good)-3], Records: n}) // cut short
	sink.Write(collector.Chunk{Data: good, Records: n})
	waitFor(t, "the batches", 30*time.Second, func() bool { st := sink.Stats(); return int(st.Records+st.Rejected) == 3*n })
	sink.Close()
	if st := sink.Stats(); int(st.Records) != 2*n || int(st.Rejected) != n || st.Retries != 0 {
		t.Errorf("stats %+v", st)
	}
	aside, _ := filepath.Glob(filepath.Join(dir, "rejected", "*.reason"))
	if len(aside) != 1 {
		t.Fatalf("rejected/: %v", aside)
	}
	reason, _ := os.ReadFile(aside[0])
	t.Logf("reason: %s", reason)
	waitFor(t, "the rows", 30*time.Second, func() bool { return query(t, "SELECT count() FROM nfkit.rejects") == strconv.Itoa(2*n) })
}

// The user and password come from the URL or the password file.
func TestPasswordFile(t *testing.T) {
	chtest.Skip(t, cluster)
	createTable(t, "auth")
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(chtest.Password+"\n"), 0o600)
	u := cluster.Shards[0].URLWith("database", "nfkit", "user", chtest.User)
	out := filepath.Join(t.TempDir(), "f.json.gz")
	collect(t, "-o", out, "--clickhouse", u, "--clickhouse-password-file", pw, "--clickhouse-table", "auth",
		"-r", filepath.Join(filepath.Dir(captures(t)[0]), "softflowd-v5.pcap"))
	want := total(jsonSums(t, out))
	waitFor(t, "the rows", 30*time.Second, func() bool { return total(chSums(t, "auth")) == want })
	// A wrong password: the inserts are refused and retried, never lost
	// silently (the records stay in the spool for the next run).
	os.WriteFile(pw, []byte("wrong\n"), 0o600)
	spool := t.TempDir()
	log := collect(t, "-o", out, "--clickhouse", u, "--clickhouse-password-file", pw, "--clickhouse-table", "auth",
		"--spool", spool, "--shutdown-timeout", "2s", "-r", filepath.Join(filepath.Dir(captures(t)[0]), "softflowd-v5.pcap"))
	if !strings.Contains(log, "batches left for the next run") {
		t.Errorf("refused batches not spooled:\n%s", log)
	}
	if strings.Contains(log, "wrong\n") {
		t.Errorf("the password is in the log:\n%s", log)
	}
}

// The DDL without a database (the server's default) is valid on 18.16
// too, and the Distributed table finds the local ones.
func TestCreateDefaultDatabase(t *testing.T) {
	chtest.Skip(t, cluster)
	tb := chrow.Table{Name: "nodb", Cluster: chtest.ClusterName}
	for _, s := range cluster.Shards {
		for _, st := range tb.Create(chrow.Server{Major: 18, Minor: 16}) {
			s.MustQuery(t, st)
		}
	}
	rows, n := v5Rows(t)
	ch, err := collector.NewClickHouse(collector.ClickHouseConfig{URLs: []string{cluster.Shards[0].URL()}, Table: tb, Compress: collector.Plain})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Deliver(context.Background(), rows, n); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rows", 30*time.Second, func() bool { return query(t, "SELECT count() FROM nodb") == strconv.Itoa(n) })
}
