package flowjson

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/fields"
	"github.com/nfkit/nfkit/internal/testvec"
)

// sflowPackets decodes every datagram of the sFlow captures.
func sflowPackets(tb testing.TB) []*decode.Packet {
	var d decode.Decoder
	var out []*decode.Packet
	for _, name := range []string{"sfprobe-sflow.pcap", "sfprobe-sflow-sampling.pcap"} {
		for _, dg := range testvec.Capture(tb, name) {
			p := new(decode.Packet)
			if err := d.Decode(dg.Src.Addr(), dg.Payload, p); err != nil {
				tb.Fatal(err)
			}
			out = append(out, p)
		}
	}
	return out
}

// TestAppendSFlow: one JSON object per flow and counter sample, its keys
// those of the schema in its order: the envelope, normalized and trailer
// keys, then the sFlow keys of fields/sflow.go.
func TestAppendSFlow(t *testing.T) {
	order := schemaOrder(t)
	flowOrder, counterOrder := map[string]int{}, map[string]int{}
	for i, k := range fields.SFlowFlowKeys {
		flowOrder[k.JSON] = len(order) + i
	}
	for _, k := range []string{"type", "time_received_ns", "sampler_address", "sequence_num", "observation_domain_id"} {
		counterOrder[k] = order[k]
	}
	for i, k := range fields.SFlowCounterKeys {
		counterOrder[k.JSON] = len(order) + i
	}
	seen := map[string]bool{}
	flows, counters := 0, 0
	for _, p := range sflowPackets(t) {
		b := AppendSFlow(nil, p, 1700000000123456789)
		lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
		if len(lines) != len(p.Records)+len(p.Counters) {
			t.Fatalf("%d lines for %d flow and %d counter samples", len(lines), len(p.Records), len(p.Counters))
		}
		for i, line := range lines {
			want := order
			for k, v := range flowOrder {
				want[k] = v
			}
			if i >= len(p.Records) {
				want = counterOrder
			}
			dec := json.NewDecoder(bytes.NewReader(line))
			if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
				t.Fatalf("line %s: not an object", line)
			}
			last := -1
			keys := map[string]bool{}
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					t.Fatalf("line %s: %v", line, err)
				}
				k := tok.(string)
				pos, ok := want[k]
				if !ok || pos <= last || keys[k] {
					t.Fatalf("line %s: key %q out of the schema or its order", line, k)
				}
				last, keys[k], seen[k] = pos, true, true
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Fatalf("line %s: %v", line, err)
				}
			}
			if i < len(p.Records) {
				flows++
			} else {
				counters++
			}
		}
	}
	for _, k := range []string{"agent_address", "sample_pool", "frame_length", "as_path", "bgp_communities", "src_as", "dst_as", "src_mac", "if_in_octets", "if_speed"} {
		if !seen[k] {
			t.Errorf("no line has %s", k)
		}
	}
	if flows == 0 || counters == 0 {
		t.Errorf("%d flow and %d counter lines", flows, counters)
	}
}

func TestAppendSFlowAllocs(t *testing.T) {
	pkts := sflowPackets(t)
	var buf []byte
	for _, p := range pkts {
		buf = AppendSFlow(buf, p, 1)
	}
	if n := testing.AllocsPerRun(20, func() {
		buf = buf[:0]
		for _, p := range pkts {
			buf = AppendSFlow(buf, p, 1)
		}
	}); n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}
