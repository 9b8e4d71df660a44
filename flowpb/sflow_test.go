package flowpb

import (
	"bytes"
	"net/netip"
	"strconv"
	"testing"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
	"github.com/nfkit/nfkit/internal/testvec"
)

// checkPacket writes p with AppendPacket and checks every message against
// the JSON line of its record (for sFlow, AppendSFlow's line with the
// sample's keys).
func checkPacket(t *testing.T, p *decode.Packet, received int64, o Options) int {
	t.Helper()
	b := AppendPacket(nil, p, received, o)
	msgs, err := parseDelimited(b)
	if err != nil || len(msgs) != len(p.Records) {
		t.Fatalf("%d records: %d messages, %v", len(p.Records), len(msgs), err)
	}
	sflow := p.Version == decode.VersionSFlow5
	var lines [][]byte
	if sflow {
		lines = bytes.Split(flowjson.AppendSFlow(nil, p, received), []byte("\n"))
	}
	for i := range msgs {
		line := flowjson.AppendRecord(nil, &p.Records[i], received)
		if sflow {
			line = lines[i]
		}
		agree(t, "record "+strconv.Itoa(i), line, sflow, o, msgs[i])
	}
	return len(msgs)
}

// Every flow sample of the sFlow captures is written with its sFlow keys:
// every field says what the JSON line says (sampler_address the agent's).
func TestSFlowAgreesWithJSON(t *testing.T) {
	total, gateway := 0, 0
	for _, name := range []string{"sfprobe-sflow.pcap", "sfprobe-sflow-sampling.pcap"} {
		var d decode.Decoder
		var p decode.Packet
		for _, dg := range testvec.Capture(t, name) {
			if err := d.Decode(dg.Src.Addr(), dg.Payload, &p); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, o := range []Options{0, Extensions} {
				total += checkPacket(t, &p, dg.Time.UnixNano(), o)
			}
			for i := range p.SFlow {
				if len(p.SFlow[i].ASPath) > 0 {
					gateway++
				}
			}
		}
	}
	if total == 0 || gateway == 0 {
		t.Fatalf("%d messages, %d with an AS path", total, gateway)
	}
}

// A sample whose AS path and communities make the message longer than
// messageMax gets a 3-byte length prefix and every element.
func TestSFlowLongLists(t *testing.T) {
	p := decode.Packet{Version: decode.VersionSFlow5, Agent: netip.MustParseAddr("192.0.2.9")}
	p.Records = []decode.Record{{Version: decode.VersionSFlow5, Exporter: exporter}}
	path := make([]uint32, 5000)
	for i := range path {
		path[i] = uint32(4200000000 + i)
	}
	p.SFlow = []decode.SFlowSample{{Has: decode.SFlowHasGateway, ASPath: path, Communities: path[:100]}}
	b := AppendPacket([]byte{0xaa}, &p, 1, Extensions)
	msgs, err := parseDelimited(b[1:])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("parse: %v, %d messages", err, len(msgs))
	}
	if _, n := uvarint(b[1:]); n != 3 {
		t.Errorf("length prefix of %d bytes, want 3", n)
	}
	want := make([]uint64, len(path))
	for i, v := range path {
		want[i] = uint64(v)
	}
	if !equal(msgs[0][102], want) {
		t.Errorf("as_path differs")
	}
	if !equal(msgs[0][101], want[:100]) {
		t.Errorf("bgp_communities differ")
	}
	if got := msgs[0][13]; got != uint64(path[0]) {
		t.Errorf("next_hop_as = %v, want %d", got, path[0])
	}
	if got := netip.AddrFrom4([4]byte(msgs[0][11].([]byte))); got != p.Agent {
		t.Errorf("sampler_address = %v, want the agent %v", got, p.Agent)
	}
}

func TestAppendPacketSFlowAllocs(t *testing.T) {
	var d decode.Decoder
	var p decode.Packet
	dg := testvec.Capture(t, "sfprobe-sflow.pcap")[0]
	if err := d.Decode(dg.Src.Addr(), dg.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Records) == 0 {
		t.Fatal("no flow samples")
	}
	for _, o := range []Options{0, Extensions} {
		buf := AppendPacket(nil, &p, 1, o)
		if n := testing.AllocsPerRun(100, func() { buf = AppendPacket(buf[:0], &p, 1, o) }); n != 0 {
			t.Errorf("options %d: %v allocations per packet, want 0", o, n)
		}
	}
}
