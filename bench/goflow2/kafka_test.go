package goflow2bench

// nfcollect → Kafka (franz-go's in-process kfake cluster) → a consumer
// that decodes the protobuf messages with goflow2's generated FlowMessage.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flowmessage "github.com/netsampler/goflow2/v2/pb"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protodelim"

	"github.com/nfkit/nfkit/flowpb"
)

// buildNfcollect builds cmd/nfcollect of the main module.
func buildNfcollect(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs(filepath.Join(t.TempDir(), "nfcollect"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/nfcollect")
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building nfcollect: %v\n%s", err, out)
	}
	return bin
}

// runNfcollect runs nfcollect and returns its standard output.
func runNfcollect(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--stats-interval", "-1s", "--log-format", "json")...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("nfcollect %v: %v\n%s", args, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// consumeTopic reads want records of a topic from the start (at most 30 s)
// and returns them by exporter (the record key) in partition order,
// failing if one exporter's records are on two partitions.
func consumeTopic(t *testing.T, brokers []string, topic string, want int) map[string][][]byte {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	out := map[string][][]byte{}
	part := map[string]int32{}
	n := 0
	add := func(r *kgo.Record) {
		a, ok := netip.AddrFromSlice(r.Key)
		if !ok {
			t.Fatalf("%s: key %x is not an address", topic, r.Key)
		}
		k := a.String()
		if p, seen := part[k]; seen && p != r.Partition {
			t.Fatalf("%s: exporter %s on partitions %d and %d", topic, k, p, r.Partition)
		}
		part[k] = r.Partition
		out[k] = append(out[k], r.Value)
		n++
	}
	for deadline := time.Now().Add(30 * time.Second); n < want && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cl.PollFetches(ctx).EachRecord(add)
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	cl.PollFetches(ctx).EachRecord(add)
	cancel()
	if n != want {
		t.Fatalf("%s: %d records, want %d", topic, n, want)
	}
	return out
}

// TestNfcollectKafka runs every capture in testdata through
// `nfcollect -r … --kafka …` in both formats and reads the topics back:
// the JSON messages are nfcollect's JSON lines, and the protobuf messages,
// decoded by goflow2's FlowMessage, carry every value the JSON lines say,
// each exporter's flows in order on one partition.
func TestNfcollectKafka(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nfcollect")
	}
	c, err := kfake.NewCluster(kfake.ListenFn(func(network, _ string) (net.Listener, error) {
		return net.Listen("tcp", "127.0.0.1:0")
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	bin := buildNfcollect(t)
	paths, _ := filepath.Glob("../../testdata/*.pcap")
	total := 0
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".pcap")
		if name == "synthetic-traffic" {
			continue // the traffic the exporters saw, not exports
		}
		// The JSON output, by exporter.
		lines := map[string][]string{}
		n := 0
		for _, l := range strings.Split(strings.TrimSpace(string(runNfcollect(t, bin, "-r", path, "-o", "-"))), "\n") {
			dec := json.NewDecoder(strings.NewReader(l))
			dec.UseNumber()
			var j map[string]any
			if err := dec.Decode(&j); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			k := j["sampler_address"].(string)
			lines[k] = append(lines[k], l)
			n++
		}

		runNfcollect(t, bin, "-r", path, "--kafka", strings.Join(brokers, ","), "--kafka-topic", "json-"+name,
			"--kafka-format", "json", "--kafka-create-topic", "3")
		got := consumeTopic(t, brokers, "json-"+name, n)
		for k, want := range lines {
			if len(got[k]) != len(want) {
				t.Fatalf("%s json: exporter %s: %d records, want %d", name, k, len(got[k]), len(want))
			}
			for i := range want {
				if string(got[k][i]) != want[i] {
					t.Fatalf("%s json: exporter %s record %d:\n%s\nwant\n%s", name, k, i, got[k][i], want[i])
				}
			}
		}

		// FlowMessage has no counters: sFlow counter samples are not
		// published in protobuf.
		flows, nflows := map[string][]string{}, 0
		for k, ls := range lines {
			for _, l := range ls {
				if !strings.Contains(l, `"type":"SFLOW_5_COUNTERS"`) {
					flows[k] = append(flows[k], l)
					nflows++
				}
			}
		}
		runNfcollect(t, bin, "-r", path, "--kafka", strings.Join(brokers, ","), "--kafka-topic", "pb-"+name,
			"--kafka-create-topic", "3")
		got = consumeTopic(t, brokers, "pb-"+name, nflows)
		for k, want := range flows {
			if len(got[k]) != len(want) {
				t.Fatalf("%s protobuf: exporter %s: %d records, want %d", name, k, len(got[k]), len(want))
			}
			for i, line := range want {
				rd := bufio.NewReader(bytes.NewReader(got[k][i]))
				var m flowmessage.FlowMessage
				if err := protodelim.UnmarshalFrom(rd, &m); err != nil {
					t.Fatalf("%s protobuf: exporter %s record %d: %v", name, k, i, err)
				}
				if _, err := rd.ReadByte(); err != io.EOF {
					t.Fatalf("%s protobuf: exporter %s record %d: bytes after the message", name, k, i)
				}
				dec := json.NewDecoder(strings.NewReader(line))
				dec.UseNumber()
				var j map[string]any
				if err := dec.Decode(&j); err != nil {
					t.Fatal(err)
				}
				for _, f := range flowpb.Fields() {
					g, err := goflow2Value(f, &m)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					w, err := jsonValue(f, j, j["type"] == "SFLOW_5")
					if err != nil {
						t.Fatalf("%s: %s: %v", name, f.Key, err)
					}
					if !sameValue(g, w) {
						t.Errorf("%s: exporter %s record %d: %s = %v, JSON says %v", name, k, i, f.Name, g, w)
					}
				}
			}
		}
		total += n
	}
	t.Logf("%d flows of %d captures through nfcollect → Kafka → goflow2's FlowMessage", total, len(paths)-1)
}
