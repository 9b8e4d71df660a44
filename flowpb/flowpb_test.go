package flowpb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/fields"
	"github.com/nfkit/nfkit/flowjson"
	"github.com/nfkit/nfkit/internal/benchpkt"
	"github.com/nfkit/nfkit/internal/testvec"
)

var exporter = netip.MustParseAddr("192.0.2.1")

// benchPacket decodes the benchmark v9 packet (25 flows, 20 fields).
func benchPacket(tb testing.TB) *decode.Packet {
	var d decode.Decoder
	p := new(decode.Packet)
	tmpl, data := benchpkt.V9()
	if err := d.Decode(exporter, tmpl, p); err != nil {
		tb.Fatal(err)
	}
	if err := d.Decode(exporter, data, p); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestAppendRecordsAllocs(t *testing.T) {
	p := benchPacket(t)
	for _, o := range []Options{0, Extensions} {
		buf := AppendRecords(nil, p.Records, 1700000000123456789, o)
		if n := testing.AllocsPerRun(100, func() { buf = AppendRecords(buf[:0], p.Records, 1700000000123456789, o) }); n != 0 {
			t.Errorf("options %d: %v allocations per packet, want 0", o, n)
		}
	}
}

// message is a parsed FlowMessage: field number → value (uint64 or
// []byte).
type message map[int]any

// parseDelimited parses a stream of length-delimited messages with the
// wire rules alone (no schema): varint and bytes fields, each at most once.
func parseDelimited(b []byte) ([]message, error) {
	var out []message
	for len(b) > 0 {
		size, n := uvarint(b)
		if n == 0 || uint64(len(b)-n) < size {
			return out, fmt.Errorf("message %d: bad length prefix", len(out))
		}
		if n > 1 && b[n-1] == 0 {
			return out, fmt.Errorf("message %d: length prefix not minimal", len(out))
		}
		body := b[n : n+int(size)]
		b = b[n+int(size):]
		m := message{}
		for len(body) > 0 {
			tag, n := uvarint(body)
			if n == 0 {
				return out, errors.New("bad tag")
			}
			body = body[n:]
			num := int(tag >> 3)
			if _, dup := m[num]; dup {
				return out, fmt.Errorf("field %d twice", num)
			}
			switch tag & 7 {
			case 0:
				v, n := uvarint(body)
				if n == 0 {
					return out, fmt.Errorf("field %d: bad varint", num)
				}
				m[num] = v
				body = body[n:]
			case 2:
				l, n := uvarint(body)
				if n == 0 || uint64(len(body)-n) < l {
					return out, fmt.Errorf("field %d: bad length", num)
				}
				m[num] = body[n : n+int(l)]
				body = body[n+int(l):]
			default:
				return out, fmt.Errorf("field %d: wire type %d", num, tag&7)
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// captureRecords decodes every capture in testdata and returns its
// records with their receive times, as nfcollect would see them (data
// before its template retried once the template is known).
func captureRecords(t *testing.T) (map[string][]decode.Record, map[string][]int64) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "*.pcap"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	recs := map[string][]decode.Record{}
	times := map[string][]int64{}
	for _, path := range names {
		name := filepath.Base(path)
		var d decode.Decoder
		var p decode.Packet
		for _, dg := range testvec.Capture(t, name) {
			err := d.Decode(dg.Src.Addr(), dg.Payload, &p)
			var missing *decode.MissingTemplateError
			if err != nil && !errors.As(err, &missing) {
				continue // counted by the collector; the valid part is in p
			}
			for _, r := range p.Records {
				recs[name] = append(recs[name], r)
				times[name] = append(times[name], dg.Time.UnixNano())
			}
		}
	}
	return recs, times
}

var flowTypes = map[string]uint64{"SFLOW_5": 1, "NETFLOW_V5": 2, "NETFLOW_V9": 3, "IPFIX": 4}
var versions = map[string]uint64{"NETFLOW_V1": 1, "NETFLOW_V5": 5, "NETFLOW_V7": 7, "NETFLOW_V9": 9, "IPFIX": 10, "SFLOW_5": fields.SFlowVersion}

// want returns the value the FlowMessage field f must have for the JSON
// record j (0 when absent): what a consumer of the protobuf must see to
// agree with the JSON output.
func want(t *testing.T, f Field, j map[string]any, sflow bool) any {
	key := f.Key
	switch {
	case f.SFlow && !sflow:
		key = "" // written only for sFlow samples
	case sflow && f.Name == "sampler_address":
		key = "agent_address" // goflow2's sFlow producer writes the agent's
	}
	v, ok := j[key]
	if !ok {
		switch f.Type {
		case "bytes":
			return []byte(nil)
		case "repeated uint32":
			return []uint64(nil)
		}
		return uint64(0)
	}
	switch {
	case f.Type == "repeated uint32" || f.Name == "next_hop_as":
		var l []uint64
		for _, x := range v.([]any) {
			u, err := strconv.ParseUint(string(x.(json.Number)), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", f.Key, err)
			}
			l = append(l, u)
		}
		if f.Name == "next_hop_as" {
			if len(l) == 0 {
				return uint64(0)
			}
			return l[0]
		}
		return l
	case f.Name == "type":
		return flowTypes[v.(string)]
	case f.Name == "export_version":
		return versions[v.(string)]
	case f.Type == "bytes":
		a, err := netip.ParseAddr(v.(string))
		if err != nil {
			t.Fatalf("%s: %v", f.Key, err)
		}
		return a.AsSlice()
	case strings.HasSuffix(f.Key, "_mac"):
		hw, err := net.ParseMAC(v.(string))
		if err != nil {
			t.Fatalf("%s: %v", f.Key, err)
		}
		var u uint64
		for _, c := range hw {
			u = u<<8 | uint64(c)
		}
		return u
	}
	if strings.HasPrefix(f.Key, "time_") && strings.HasPrefix(string(v.(json.Number)), "-") {
		return uint64(0) // before 1970: the uint64 fields cannot say it, and it is not written
	}
	u, err := strconv.ParseUint(string(v.(json.Number)), 10, 64)
	if err != nil {
		t.Fatalf("%s = %v: %v", f.Key, v, err)
	}
	return u
}

func equal(a, b any) bool {
	if x, ok := b.([]uint64); ok {
		y, _ := a.([]byte) // packed varints
		var l []uint64
		for len(y) > 0 {
			v, n := uvarint(y)
			if n == 0 {
				return false
			}
			l = append(l, v)
			y = y[n:]
		}
		return slices.Equal(l, x)
	}
	if x, ok := a.([]byte); ok {
		y, _ := b.([]byte)
		return bytes.Equal(x, y)
	}
	return a == b
}

// Every field of every record of every capture says what the JSON output
// says, with and without extensions, as decoded and renormalized (which
// sets original_sampling_rate); nothing else is written.
func TestCapturesAgreeWithJSON(t *testing.T) {
	recs, times := captureRecords(t)
	renormalized := 0
	var names []string
	for name := range recs {
		names = append(names, name)
	}
	for _, name := range names {
		rs := recs[name]
		rn := make([]decode.Record, len(rs))
		for i := range rs {
			rn[i] = rs[i]
			rn[i].Renormalize()
			if rn[i].OriginalSamplingRate > 1 {
				renormalized++
			}
		}
		recs[name+" renormalized"] = rn
		times[name+" renormalized"] = times[name]
	}
	if renormalized == 0 {
		t.Fatal("no capture has sampled records to renormalize")
	}
	total := 0
	for name, rs := range recs {
		for _, o := range []Options{0, Extensions} {
			var buf []byte
			for i := range rs {
				buf = AppendRecord(buf, &rs[i], times[name][i], o)
			}
			msgs, err := parseDelimited(buf)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(msgs) != len(rs) {
				t.Fatalf("%s: %d messages, want %d", name, len(msgs), len(rs))
			}
			for i, m := range msgs {
				agree(t, name+" record "+strconv.Itoa(i), flowjson.AppendRecord(nil, &rs[i], times[name][i]), false, o, m)
			}
			total += len(msgs)
		}
	}
	t.Logf("%d messages checked", total)
}

// agree checks that the parsed message m says what line, the JSON of its
// record, says, field by field, and has no other field. sflow says m was
// written by AppendPacket for an sFlow sample (line has its sFlow keys).
func agree(t *testing.T, what string, line []byte, sflow bool, o Options, m message) {
	t.Helper()
	byNum := map[int]Field{}
	for _, f := range Fields() {
		byNum[f.Number] = f
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var j map[string]any
	if err := dec.Decode(&j); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for num := range m {
		f, ok := byNum[num]
		if !ok || (f.Extension && o&Extensions == 0) || (f.SFlow && !sflow) {
			t.Errorf("%s: field %d written", what, num)
		}
	}
	for _, f := range Fields() {
		if f.Extension && o&Extensions == 0 {
			continue
		}
		got, ok := m[f.Number]
		if !ok {
			got = want(t, f, map[string]any{}, sflow)
			if f.Type == "repeated uint32" {
				got = []byte(nil)
			}
		}
		if w := want(t, f, j, sflow); !equal(got, w) {
			t.Errorf("%s: %s (%d) = %v, JSON says %v (%s)", what, f.Name, f.Number, got, w, line)
		}
	}
}

// Whatever decodes (hostile packets included) is written as messages that
// parse and agree with the JSON output.
func FuzzAppendRecords(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "python-netflow", "*.hex"))
	for _, n := range names {
		for _, p := range testvec.Python(f, filepath.Base(n)) {
			f.Add(p)
		}
	}
	for _, name := range []string{"softflowd-ipfix-ether.pcap", "pmacct-v9-sampling.pcap", "softflowd-ipfix-biflow.pcap", "fprobe-v7.pcap"} {
		pkts := testvec.Payloads(f, name)
		f.Add(bytes.Join(pkts[:min(2, len(pkts))], nil))
	}
	for _, name := range []string{"sfprobe-sflow.pcap", "sfprobe-sflow-sampling.pcap"} {
		for _, pkt := range testvec.Payloads(f, name)[:4] {
			f.Add(pkt)
		}
	}
	v9t, v9d := benchpkt.V9()
	f.Add(benchpkt.V5())
	f.Add(append(append([]byte(nil), v9t...), v9d[20:]...))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var d decode.Decoder
		var p decode.Packet
		for range 2 { // the second time with the templates of the first
			d.Decode(exporter, pkt, &p)
			for _, o := range []Options{0, Extensions} {
				b := AppendRecords(nil, p.Records, 1700000000123456789, o)
				msgs, err := parseDelimited(b)
				if err != nil || len(msgs) != len(p.Records) {
					t.Fatalf("%d records: %d messages, %v", len(p.Records), len(msgs), err)
				}
				for i := range msgs {
					agree(t, "record "+strconv.Itoa(i), flowjson.AppendRecord(nil, &p.Records[i], 1700000000123456789), false, o, msgs[i])
				}
				checkPacket(t, &p, 1700000000123456789, o)
			}
		}
	})
}

// Long messages take a two-byte length prefix.
func TestLongMessage(t *testing.T) {
	var r decode.Record
	r.Version = 10
	r.Exporter = netip.MustParseAddr("2001:db8::1")
	r.Has = decode.HasSrcAddr | decode.HasDstAddr | decode.HasNextHop | decode.HasBGPNextHop |
		decode.HasBytes | decode.HasPackets | decode.HasOutBytes | decode.HasOutPackets |
		decode.HasRevBytes | decode.HasRevPackets | decode.HasFlows | decode.HasStart | decode.HasEnd
	r.SrcAddr, r.DstAddr = netip.MustParseAddr("2001:db8::2"), netip.MustParseAddr("2001:db8::3")
	r.NextHop, r.BGPNextHop = netip.MustParseAddr("2001:db8::4"), netip.MustParseAddr("2001:db8::5")
	r.Bytes, r.Packets, r.OutBytes, r.OutPackets = 1<<63, 1<<62, 1<<61, 1<<60
	r.RevBytes, r.RevPackets, r.Flows = 1<<59, 1<<58, 1<<57
	r.Start, r.End = 1<<62, 1<<62+1
	b := AppendRecord([]byte{0xaa}, &r, 1<<62, Extensions)
	msgs, err := parseDelimited(b[1:])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("parse: %v, %d messages", err, len(msgs))
	}
	if b[1] < 0x80 {
		t.Errorf("length prefix %#x: want two bytes for a %d-byte message", b[1], len(b)-3)
	}
	if got := msgs[0][1002]; got != uint64(1<<61) {
		t.Errorf("out_bytes = %v, want %d", got, uint64(1<<61))
	}
	if got := netip.AddrFrom16([16]byte(msgs[0][100].([]byte))); got != r.BGPNextHop {
		t.Errorf("bgp_next_hop = %v, want %v", got, r.BGPNextHop)
	}
	if n := len(AppendRecord(nil, &r, 1<<62, Extensions)); n > MaxLen {
		t.Errorf("%d bytes, more than MaxLen %d", n, MaxLen)
	}
}

// The README's table of fields is Fields.
func TestREADMETable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(testvec.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Fields() {
		row := fmt.Sprintf("| %d | `%s` | %s |", f.Number, f.Name, f.Type)
		if !bytes.Contains(readme, []byte(row)) {
			t.Errorf("README.md has no row starting %q", row)
		}
	}
}

// BenchmarkEncode compares the JSON and protobuf encodings of the same
// records in the same run.
func BenchmarkEncode(b *testing.B) {
	p := benchPacket(b)
	n := len(p.Records)
	for _, c := range []struct {
		name string
		fn   func([]byte) []byte
	}{
		{"json", func(buf []byte) []byte { return flowjson.AppendRecords(buf, p.Records, 1700000000123456789) }},
		{"protobuf", func(buf []byte) []byte { return AppendRecords(buf, p.Records, 1700000000123456789, 0) }},
		{"protobuf+ext", func(buf []byte) []byte { return AppendRecords(buf, p.Records, 1700000000123456789, Extensions) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := c.fn(nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = c.fn(buf[:0])
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/flow")
		})
	}
}
