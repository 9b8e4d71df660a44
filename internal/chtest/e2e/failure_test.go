package e2e

import (
	"path/filepath"

	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/benchpkt"
	"github.com/nfkit/nfkit/internal/chtest"
)

// checkV5 checks that table holds every flow of packets first…first+n-1
// of sendV5, and returns the number of rows beyond them (duplicates).
func checkV5(t *testing.T, table string, first, n int) int {
	t.Helper()
	want := n * benchpkt.V5Records
	waitFor(t, "every row", 90*time.Second, func() bool {
		out, err := cluster.Shards[0].Query("SELECT countIf(c >= " + strconv.Itoa(benchpkt.V5Records) + ") FROM (SELECT sequence_num, count() AS c FROM nfkit." + table + " GROUP BY sequence_num)")
		got, _ := strconv.Atoi(strings.TrimSpace(out))
		return err == nil && got == n
	})
	got := query(t, "SELECT count(), uniqExact(sequence_num), min(sequence_num), max(sequence_num) FROM nfkit."+table)
	f := strings.Split(got, "\t")
	if exp := []string{strconv.Itoa(n), strconv.Itoa(first), strconv.Itoa(first + n - 1)}; strings.Join(f[1:], " ") != strings.Join(exp, " ") {
		t.Fatalf("count, packets, first, last = %s, want packets, first, last %v", got, exp)
	}
	rows, _ := strconv.Atoi(f[0])
	return rows - want
}

// createTable makes table on both shards, as --clickhouse-create does.
func createTable(t *testing.T, table string) {
	t.Helper()
	if err := cluster.CreateFlows("nfkit", table); err != nil {
		t.Fatal(err)
	}
}

// The node that takes the inserts is killed in the middle of a stream and
// restarted: nfcollect keeps receiving, spools, and every flow arrives,
// once.
func TestShardKilledMidStream(t *testing.T) {
	chtest.Skip(t, cluster)
	createTable(t, "killed")
	spool := t.TempDir()
	d := start(t, "-o", filepath.Join(t.TempDir(), "f.json.gz"), "--clickhouse", chURL(0), "--clickhouse-cluster", chtest.ClusterName,
		"--clickhouse-table", "killed", "--clickhouse-flush", "100ms", "--clickhouse-batch", "3000", "--clickhouse-memory-mib", "0", "--spool", spool)
	sendV5(t, d.port, 1, 500)
	waitFor(t, "the first rows", 30*time.Second, func() bool { v, _ := d.metric("nfcollect_delivery_flows_total"); return v > 0 })
	cluster.Shards[0].Kill()
	sendV5(t, d.port, 501, 1000)
	waitFor(t, "retries", 30*time.Second, func() bool { v, _ := d.metric("nfcollect_delivery_retries_total"); return v >= 2 })
	waitFor(t, "the spool", 30*time.Second, func() bool { v, _ := d.metric("nfcollect_delivery_spool_bytes"); return v > 0 })
	if err := cluster.Shards[0].Start(); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Shards[0].Wait(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	sendV5(t, d.port, 1501, 500)
	// A batch in flight when the node died may have been stored: it is
	// sent again (at least once), and the Distributed table's own
	// forwarding to the other shard is at least once too. Nothing is
	// lost; the duplicates are bounded by the batches in flight.
	if dup := checkV5(t, "killed", 1, 2000); dup > 2*3000 {
		t.Errorf("%d duplicate rows, more than two batches", dup)
	} else {
		t.Logf("%d duplicate rows after the kill", dup)
	}
	waitFor(t, "the spool to drain", 30*time.Second, func() bool { v, _ := d.metric("nfcollect_delivery_spool_bytes"); return v == 0 })
	if v, _ := d.metric("nfcollect_delivery_dropped_flows_total"); v != 0 {
		t.Errorf("%v flows dropped", v)
	}
	d.stop(t)
}

// ClickHouse is down when nfcollect starts: it starts, spools, creates
// the tables once the servers are back, and catches up.
func TestDownAtStartup(t *testing.T) {
	chtest.Skip(t, cluster)
	for _, s := range cluster.Shards {
		s.Kill()
	}
	restarted := false
	restart := func() {
		if restarted {
			return
		}
		restarted = true
		for _, s := range cluster.Shards {
			if err := s.Start(); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range cluster.Shards {
			if err := s.Wait(60 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer restart()
	d := start(t, "-o", filepath.Join(t.TempDir(), "f.json.gz"), "--clickhouse", both(), "--clickhouse-cluster", chtest.ClusterName,
		"--clickhouse-create", "--clickhouse-table", "down", "--clickhouse-flush", "100ms", "--clickhouse-memory-mib", "0", "--spool", t.TempDir())
	sendV5(t, d.port, 1, 300)
	waitFor(t, "the spool", 30*time.Second, func() bool { v, _ := d.metric("nfcollect_delivery_spool_bytes"); return v > 0 })
	restart()
	if dup := checkV5(t, "down", 1, 300); dup != 0 {
		t.Errorf("%d duplicate rows", dup)
	}
	d.stop(t)
}

// nfcollect stops while ClickHouse is down: the batches stay in the
// spool; the next run delivers them first.
func TestRestartWithSpool(t *testing.T) {
	chtest.Skip(t, cluster)
	createTable(t, "restart")
	spool := t.TempDir()
	args := []string{"--clickhouse", chURL(0), "--clickhouse-cluster", chtest.ClusterName, "--clickhouse-table", "restart",
		"--clickhouse-flush", "100ms", "--spool", spool, "--shutdown-timeout", "2s"}
	cluster.Shards[0].Kill()
	d := start(t, args...)
	sendV5(t, d.port, 1, 400)
	waitFor(t, "the flows", 30*time.Second, func() bool {
		v, _ := d.metric("nfcollect_flows_decoded_total")
		return v == float64(400*benchpkt.V5Records)
	})
	log := d.stop(t)
	if !strings.Contains(log, "batches left for the next run") {
		t.Fatalf("nothing spooled at exit:\n%s", log)
	}
	if err := cluster.Shards[0].Start(); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Shards[0].Wait(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	d = start(t, args...)
	sendV5(t, d.port, 401, 100)
	if dup := checkV5(t, "restart", 1, 500); dup != 0 {
		t.Errorf("%d duplicate rows", dup)
	}
	d.stop(t)
}
