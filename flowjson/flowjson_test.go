package flowjson

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/decode"
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
	buf := AppendRecords(nil, p.Records, 1700000000123456789)
	if n := testing.AllocsPerRun(100, func() { buf = AppendRecords(buf[:0], p.Records, 1700000000123456789) }); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}

// AppendRecords writes what AppendRecord writes record by record.
func TestAppendRecordsSame(t *testing.T) {
	p := benchPacket(t)
	var want []byte
	for i := range p.Records {
		want = AppendRecord(want, &p.Records[i], 42)
	}
	if got := AppendRecords(nil, p.Records, 42); !bytes.Equal(got, want) {
		t.Errorf("AppendRecords differs from AppendRecord:\n%s\n%s", got, want)
	}
}

// BenchmarkEncode measures the per-flow cost of the JSON encoding.
func BenchmarkEncode(b *testing.B) {
	p := benchPacket(b)
	n := len(p.Records)
	b.Run("json", func(b *testing.B) {
		buf := AppendRecords(nil, p.Records, 1700000000123456789)
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			buf = AppendRecords(buf[:0], p.Records, 1700000000123456789)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/flow")
	})
}

func TestPutNumbers(t *testing.T) {
	b := make([]byte, 64)
	for _, v := range []uint64{0, 1, 9, 10, 99, 100, 101, 999, 1000, 65535, 1<<32 - 1, 1e18 - 1, 1e18, 1e19 - 1, 1e19, 1<<64 - 1} {
		n := putUint(b, 3, v)
		if got, want := string(b[3:n]), strconv.FormatUint(v, 10); got != want {
			t.Errorf("putUint = %s, want %s", got, want)
		}
	}
	for _, v := range []int64{0, -1, 1700000000123456789, -1700000000123456789, -1 << 63} {
		n := putInt(b, 0, v)
		if got, want := string(b[:n]), strconv.FormatInt(v, 10); got != want {
			t.Errorf("putInt = %s, want %s", got, want)
		}
	}
	for _, a := range []string{"0.0.0.0", "192.0.2.1", "255.255.255.255", "2001:db8::1", "::ffff:192.0.2.1", "fe80::1:2:3:4"} {
		n := putAddr(b, 0, netip.MustParseAddr(a))
		if got := string(b[:n]); got != `"`+a+`"` {
			t.Errorf("putAddr = %s, want %q", got, a)
		}
	}
	n := putMAC(b, 0, decode.MAC{0, 0x1b, 0xff, 0x10, 0xab, 0xc})
	if got := string(b[:n]); got != `"00:1b:ff:10:ab:0c"` {
		t.Errorf("putMAC = %s", got)
	}
}

// A record that does not come from a template (sFlow samples, records
// built by hand) is written with its normalized fields alone.
func TestRecordWithoutTemplate(t *testing.T) {
	r := decode.Record{Version: 10, Exporter: exporter, Sequence: 7, Domain: 3}
	r.Has = decode.HasSrcAddr | decode.HasDstPort | decode.HasBytes
	r.SrcAddr = netip.MustParseAddr("2001:db8::1")
	r.DstPort = 443
	r.Bytes = 1500
	r.SamplingRate = 100
	r.Renormalize()
	got := string(AppendRecord(nil, &r, 5))
	want := `{"type":"IPFIX","time_received_ns":5,"sampler_address":"192.0.2.1","sequence_num":7,"observation_domain_id":3,"template_id":0,"bytes":150000,"src_addr":"2001:db8::1","dst_port":443,"sampling_rate":1,"original_sampling_rate":100}` + "\n"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// The example in docs/output-schema.md is well-formed, uses only schema
// keys and has them in schema order.
func TestSchemaDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testvec.Root(), "docs", "output-schema.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)\n```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("no JSON example in docs/output-schema.md")
	}
	order := schemaOrder(t)
	last := -1
	dec := json.NewDecoder(bytes.NewReader(m[1]))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("example is not an object: %v", err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		key := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		i, ok := order[key]
		if !ok {
			t.Errorf("example key %q is not in the schema", key)
			continue
		}
		if i < last {
			t.Errorf("example key %q out of schema order", key)
		}
		last = i
	}
}

// schemaOrder returns the position of every key the encoder can write
// (learned by writing a record with every normalized field present).
func schemaOrder(t *testing.T) map[string]int {
	var r decode.Record
	r.Has = decode.KeyedFields
	r.SamplingRate, r.OriginalSamplingRate = 1, 2
	line := AppendRecord(nil, &r, 1)
	order := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.Token()
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		order[tok.(string)] = len(order)
		var v any
		dec.Decode(&v)
	}
	return order
}

// Every line written for any decodable input is one valid JSON object.
func FuzzAppendRecords(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "python-netflow", "*.hex"))
	for _, n := range names {
		pkts := testvec.Python(f, filepath.Base(n))
		for _, p := range pkts {
			f.Add(p)
		}
		if len(pkts) > 1 {
			f.Add(bytes.Join(pkts[:2], nil))
		}
	}
	v9t, v9d := benchpkt.V9()
	ipt, ipd := benchpkt.IPFIX()
	f.Add(benchpkt.V5())
	f.Add(append(append([]byte(nil), v9t...), v9d[20:]...))
	f.Add(append(append([]byte(nil), ipt...), ipd[16:]...))
	f.Add(vendorSeed())
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var d decode.Decoder
		var p decode.Packet
		for range 2 { // the second time with the templates of the first
			d.Decode(exporter, pkt, &p)
			out := AppendRecords(nil, p.Records, 1)
			out = AppendRecords(out, p.Options, 1)
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(nil, 1<<24)
			lines := 0
			for sc.Scan() {
				lines++
				if !json.Valid(sc.Bytes()) || !strings.HasPrefix(sc.Text(), `{"type":`) {
					t.Fatalf("invalid line: %s", sc.Bytes())
				}
			}
			if lines != len(p.Records)+len(p.Options) {
				t.Fatalf("%d lines for %d records", lines, len(p.Records)+len(p.Options))
			}
		}
	})
}

// A template that carries elements several times (as Juniper's CPID record
// carries commonPropertiesId, 2636/137, six times, and Cisco templates
// repeat interface or label elements): the normalized key takes the first occurrence, and each
// repeated element is one key whose value is an array in template order.
func TestRepeatedElements(t *testing.T) {
	u := testvec.U16
	tmpl := testvec.IPFIX(1, 7, testvec.Set(2,
		u(300), u(9),
		u(8), u(4), // sourceIPv4Address
		u(1), u(8), // octetDeltaCount: bytes
		u(1), u(8), // octetDeltaCount again
		u(0x8000|137), u(2), testvec.U32(2636), // Juniper commonPropertiesId ×3
		u(10), u(4), // ingressInterface: in_if
		u(0x8000|137), u(2), testvec.U32(2636),
		u(0x8000|137), u(4), testvec.U32(2636),
		u(10), u(4), // ingressInterface again
		u(10), u(4), // and again
	))
	data := testvec.IPFIX(2, 7, testvec.Set(300,
		[]byte{192, 0, 2, 9},
		[]byte{0, 0, 0, 0, 0, 0, 0, 100},
		[]byte{0, 0, 0, 0, 0, 0, 0, 200},
		[]byte{0x04, 0x00},
		[]byte{0, 0, 0, 5},
		[]byte{0x08, 0xc3},
		[]byte{1, 2, 3, 4},
		[]byte{0, 0, 0, 6},
		[]byte{0, 0, 0, 7},
	))
	var d decode.Decoder
	var p decode.Packet
	if err := d.Decode(exporter, tmpl, &p); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(exporter, data, &p); err != nil || len(p.Records) != 1 {
		t.Fatalf("%d records: %v", len(p.Records), err)
	}
	line := AppendRecord(nil, &p.Records[0], 1)
	for _, key := range []string{`"commonPropertiesId"`, `"octetDeltaCount"`, `"ingressInterface"`, `"bytes"`, `"in_if"`} {
		if n := bytes.Count(line, []byte(key+":")); n != 1 {
			t.Errorf("key %s %d times in %s", key, n, line)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"bytes":              float64(100),
		"octetDeltaCount":    float64(200),
		"in_if":              float64(5),
		"ingressInterface":   []any{float64(6), float64(7)},
		"commonPropertiesId": []any{"0400", "08c3", "01020304"},
	}
	for k, v := range want {
		if g, _ := json.Marshal(got[k]); string(g) != mustJSON(v) {
			t.Errorf("%s: %s, want %s", k, g, mustJSON(v))
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
