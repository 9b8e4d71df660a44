// Package kafkach tests the whole pipeline exporter packets → nfcollect →
// Kafka (franz-go's in-process kfake cluster) → ClickHouse's Kafka engine
// → MergeTree, on the ClickHouse test servers of internal/chtest.
package kafkach

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/nfkit/nfkit/internal/chtest"
	"github.com/nfkit/nfkit/internal/testvec"
)

var (
	cluster *chtest.Cluster
	bin     string // the nfcollect binary
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nfkit-kafkach-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		if chtest.Binary() != "" || chtest.Required() {
			bin = filepath.Join(dir, "nfcollect")
			out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin,
				filepath.Join(testvec.Root(), "cmd", "nfcollect")).CombinedOutput()
			if err != nil {
				fmt.Fprintf(os.Stderr, "building nfcollect: %v\n%s", err, out)
				return 1
			}
		}
		return chtest.Main(m, &cluster)
	}()
	os.Exit(code)
}

// The JSON keys the ClickHouse table keeps; every other key of a message
// is skipped (input_format_skip_unknown_fields in the server's default
// profile, which the Kafka engine uses).
const columns = `type String, time_received_ns UInt64, sampler_address String, sequence_num UInt32,
	time_flow_start_ns UInt64, time_flow_end_ns UInt64, bytes UInt64, packets UInt64,
	src_addr String, dst_addr String, src_port UInt16, dst_port UInt16, proto UInt8`

// configureKafka adds to a shard's configuration (config.d, next to its
// config.xml) input_format_skip_unknown_fields in the default profile (the
// Kafka engine parses with the server's settings, and the messages carry
// every field of their templates) and librdkafka's auto.offset.reset =
// smallest (a new consumer group reads the topic from its start, not
// from the messages produced after it joined), and restarts it.
func configureKafka(t *testing.T, s *chtest.Server) {
	t.Helper()
	dir := filepath.Join(s.Dir, "config.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const xml = `<?xml version="1.0"?>
<yandex>
  <profiles><default><input_format_skip_unknown_fields>1</input_format_skip_unknown_fields></default></profiles>
  <kafka><auto_offset_reset>smallest</auto_offset_reset></kafka>
</yandex>
`
	if err := os.WriteFile(filepath.Join(dir, "kafka.xml"), []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(60 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(s.MustQuery(t, "SELECT value FROM system.settings WHERE name = 'input_format_skip_unknown_fields'")); got != "1" {
		t.Fatalf("input_format_skip_unknown_fields = %q after the restart, want 1", got)
	}
}

// totals are what the table must hold.
type totals struct {
	Flows, Bytes, Packets uint64
	Exporters             int
}

func (t totals) String() string {
	return fmt.Sprintf("%d flows, %d bytes, %d packets, %d exporters", t.Flows, t.Bytes, t.Packets, t.Exporters)
}

// TestKafkaToClickHouse: every capture in testdata read by nfcollect and
// published to Kafka as JSON; ClickHouse's Kafka engine consumes the topic
// into a MergeTree table through a materialized view, and the table holds
// the flows, bytes and packets of nfcollect's JSON output.
func TestKafkaToClickHouse(t *testing.T) {
	chtest.Skip(t, cluster)
	s := cluster.Shards[0]
	configureKafka(t, s)

	kc, err := kfake.NewCluster(kfake.ListenFn(func(network, _ string) (net.Listener, error) {
		return net.Listen("tcp", "127.0.0.1:0")
	}), kfake.SeedTopics(2, "flows"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	broker := kc.ListenAddrs()[0]

	captures, _ := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "*.pcap"))
	if len(captures) == 0 {
		t.Fatal("no captures")
	}
	// What nfcollect's JSON output says.
	out, err := exec.Command(bin, append([]string{"-o", "-", "--stats-interval", "-1s"}, captures...)...).Output()
	if err != nil {
		t.Fatalf("nfcollect -o -: %v", err)
	}
	var want totals
	exporters := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r struct {
			Bytes, Packets uint64
			Sampler        string `json:"sampler_address"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		want.Flows++
		want.Bytes += r.Bytes
		want.Packets += r.Packets
		exporters[r.Sampler] = true
	}
	want.Exporters = len(exporters)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The flows go to Kafka first; ClickHouse's consumer group, created
	// afterwards, reads the topic from its start.
	// The default compression (lz4): what ClickHouse 18.16's librdkafka reads.
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kafka", broker, "--kafka-topic", "flows", "--kafka-format", "json",
		"--stats-interval", "-1s"}, captures...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nfcollect --kafka: %v\n%s", err, out)
	}

	for _, q := range []string{
		"DROP DATABASE IF EXISTS kafka_e2e",
		"CREATE DATABASE kafka_e2e",
		"CREATE TABLE kafka_e2e.queue (" + columns + ") ENGINE = Kafka SETTINGS kafka_broker_list = '" + broker +
			"', kafka_topic_list = 'flows', kafka_group_name = 'clickhouse', kafka_format = 'JSONEachRow'",
		"CREATE TABLE kafka_e2e.flows (" + columns + ") ENGINE = MergeTree ORDER BY (sampler_address, time_received_ns)",
		"CREATE MATERIALIZED VIEW kafka_e2e.consumer TO kafka_e2e.flows AS SELECT * FROM kafka_e2e.queue",
	} {
		s.MustQuery(t, q)
	}
	defer s.Query("DROP DATABASE IF EXISTS kafka_e2e")
	defer s.Query("DROP TABLE IF EXISTS kafka_e2e.consumer") // stops consuming first

	var got totals
	start := time.Now()
	for deadline := start.Add(2 * time.Minute); ; {
		row := strings.Fields(s.MustQuery(t, "SELECT count(), sum(bytes), sum(packets), uniqExact(sampler_address) FROM kafka_e2e.flows"))
		if len(row) != 4 {
			t.Fatalf("unexpected answer %q", row)
		}
		got.Flows, _ = strconv.ParseUint(row[0], 10, 64)
		got.Bytes, _ = strconv.ParseUint(row[1], 10, 64)
		got.Packets, _ = strconv.ParseUint(row[2], 10, 64)
		got.Exporters, _ = strconv.Atoi(row[3])
		if got.Flows >= want.Flows || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Anything more (duplicates) would arrive within a moment.
	time.Sleep(2 * time.Second)
	if n := strings.TrimSpace(s.MustQuery(t, "SELECT count() FROM kafka_e2e.flows")); n != strconv.FormatUint(want.Flows, 10) {
		t.Errorf("count() = %s after waiting, want %d", n, want.Flows)
	}
	if got != want {
		t.Fatalf("ClickHouse holds %v; nfcollect's JSON output has %v", got, want)
	}
	t.Logf("ClickHouse consumed %v from Kafka in %v", got, time.Since(start).Round(100*time.Millisecond))
}
