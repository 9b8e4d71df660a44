package main

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestKafkaFlagValidation(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--kafka-topic", "x"}, "--kafka-topic needs --kafka"},
		{[]string{"--kafka", "localhost"}, "want comma-separated host:port"},
		{[]string{"--kafka", "h:1", "--kafka-format", "avro"}, "want protobuf or json"},
		{[]string{"--kafka", "h:1", "--kafka-format", "json", "--kafka-extensions=false"}, "--kafka-extensions applies to --kafka-format protobuf"},
		{[]string{"--kafka", "h:1", "--kafka-acks", "2"}, "want all, leader or none"},
		{[]string{"--kafka", "h:1", "--kafka-compression", "brotli"}, "want one of zstd, lz4, snappy, gzip, none"},
		{[]string{"--kafka", "h:1", "--kafka-sasl", "plain"}, "needs --kafka-user and --kafka-password-file"},
		{[]string{"--kafka", "h:1", "--kafka-sasl", "gssapi", "--kafka-user", "u", "--kafka-password-file", "f"}, "want plain, scram-sha-256 or scram-sha-512"},
		{[]string{"--kafka", "h:1", "--kafka-tls-cert", "c.pem"}, "go together"},
		{[]string{"--kafka", "h:1", "--kafka-create-topic", "-1"}, "--kafka-create-topic -1"},
		{[]string{"--kafka", "h:1", "--kafka-linger", "0s"}, "--kafka-linger 0s"},
		{[]string{"--kafka", "h:1", "--kafka-timeout", "500ms"}, "must be at least 1s"},
		{[]string{"--kafka", "h:1", "--kafka-spool-mib", "0"}, "--kafka-spool-mib 0"},
	} {
		stdout, stderr := tempFile(t), tempFile(t)
		if code := run(c.args, stdout, stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", c.args, code)
		}
		if msg := readAll(t, stderr); !strings.Contains(msg, c.want) {
			t.Errorf("%v: %q, want %q", c.args, msg, c.want)
		}
	}
	// Files named by flags are read at start; a missing one stops nfcollect.
	stdout, stderr := tempFile(t), tempFile(t)
	code := run([]string{"-r", "../../testdata/softflowd-v5.pcap", "--kafka", "127.0.0.1:1", "--kafka-sasl", "plain",
		"--kafka-user", "u", "--kafka-password-file", filepath.Join(t.TempDir(), "missing")}, stdout, stderr)
	if msg := readAll(t, stderr); code != 1 || !strings.Contains(msg, "--kafka-password-file") {
		t.Errorf("missing password file: exit %d, %q", code, msg)
	}
}

// jsonLines returns nfcollect's JSON output of a capture.
func jsonLines(t *testing.T, capture string) []string {
	t.Helper()
	stdout, stderr := tempFile(t), tempFile(t)
	if code := run([]string{"-r", capture, "-o", "-", "--stats-interval", "-1s"}, stdout, stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, readAll(t, stderr))
	}
	return strings.Split(strings.TrimSuffix(readAll(t, stdout), "\n"), "\n")
}

// consume reads want records of topic from the start (or until 30 s pass).
func consume(t *testing.T, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for deadline := time.Now().Add(30 * time.Second); len(out) < want && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { out = append(out, r) })
	cancel()
	return out
}

// nfcollect cannot reach Kafka: the flows wait in the spool, and the next
// run, with the broker up, delivers them first, then its own.
func TestKafkaSpoolAcrossRestart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there during the first run
	addr := "127.0.0.1:" + strconv.Itoa(port)
	spool := filepath.Join(t.TempDir(), "spool")
	first, second := "../../testdata/softflowd-v9.pcap", "../../testdata/softflowd-ipfix.pcap"
	args := func(capture string) []string {
		return []string{"-r", capture, "--kafka", addr, "--kafka-topic", "flows", "--kafka-format", "json",
			"--kafka-spool", spool, "--kafka-timeout", "1s", "--kafka-linger", "100ms",
			"--shutdown-timeout", "1s", "--stats-interval", "-1s"}
	}
	stdout, stderr := tempFile(t), tempFile(t)
	if code := run(args(first), stdout, stderr); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, readAll(t, stderr))
	}
	segs, _ := filepath.Glob(filepath.Join(spool, "*.seg"))
	if len(segs) == 0 {
		t.Fatalf("first run left nothing in the spool: %s", readAll(t, stderr))
	}
	if log := readAll(t, stderr); !strings.Contains(log, "batches left for the next run") {
		t.Errorf("first run does not say it left batches in the spool:\n%s", log)
	}

	c, err := kfake.NewCluster(kfake.Ports(port), kfake.SeedTopics(2, "flows"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	stdout, stderr = tempFile(t), tempFile(t)
	if code := run(args(second), stdout, stderr); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, readAll(t, stderr))
	}
	want := append(jsonLines(t, first), jsonLines(t, second)...)
	got := consume(t, addr, "flows", len(want))
	if len(got) != len(want) {
		t.Fatalf("%d records in the topic, want %d\n%s", len(got), len(want), readAll(t, stderr))
	}
	for i, r := range got {
		if string(r.Value) != want[i] {
			t.Fatalf("record %d:\n%s\nwant\n%s", i, r.Value, want[i])
		}
	}
	if rest, _ := filepath.Glob(filepath.Join(spool, "*.seg")); len(rest) > 0 {
		t.Errorf("spool still holds %v", rest)
	}
}
