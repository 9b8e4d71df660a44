package flowjson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/decode"
	tv "github.com/nfkit/nfkit/internal/testvec"
)

// penSpec is an IPFIX enterprise field specifier.
func penSpec(pen uint32, id, length uint16) []byte {
	return tv.Cat(tv.U16(id|0x8000), tv.U16(length), tv.U32(pen))
}

func ieSpec(id, length uint16) []byte { return tv.Cat(tv.U16(id), tv.U16(length)) }

// decodeLines decodes the packets in order with one Decoder and returns
// the JSON objects of the data records of the last one.
func decodeLines(t *testing.T, pkts ...[]byte) []map[string]any {
	t.Helper()
	var d decode.Decoder
	var p decode.Packet
	for _, pkt := range pkts {
		if err := d.Decode(exporter, pkt, &p); err != nil {
			t.Fatalf("Decode: %v", err)
		}
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(string(AppendRecords(nil, p.Records, 1)), "\n"), "\n") {
		checkNoRepeatedKeys(t, line)
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// checkNoRepeatedKeys fails when a top-level key of the object appears
// twice.
func checkNoRepeatedKeys(t *testing.T, line string) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		k := tok.(string)
		if seen[k] {
			t.Errorf("key %q twice in %s", k, line)
		}
		seen[k] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
	}
}

func checkKeys(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %#v (present %v), want %#v", k, g, ok, w)
		}
	}
}

// TestVendorElements: Juniper (PEN 2636) and ntop nProbe (PEN 35632)
// elements come out under their table names with typed values, in IPFIX
// and (nProbe) NetFlow v9; elements the tables do not know keep their
// pen<PEN>_<id> and field_<id> names.
func TestVendorElements(t *testing.T) {
	tmpl := tv.IPFIX(1, 0, tv.Set(2, tv.U16(400), tv.U16(11),
		ieSpec(8, 4),
		penSpec(2636, 137, 4), penSpec(2636, 137, 2),
		penSpec(2636, 155, 2), penSpec(2636, 502, 4),
		penSpec(35632, 118, 2), penSpec(35632, 119, 0xffff),
		penSpec(35632, 123, 4), penSpec(35632, 471, 4),
		penSpec(2636, 9999, 2), penSpec(35632, 8000, 1)))
	data := tv.IPFIX(2, 0, tv.Set(400,
		[]byte{192, 0, 2, 1},
		[]byte{0x04, 0, 0, 0}, []byte{0x08, 0xc3},
		tv.U16(200), []byte{192, 0, 2, 7},
		tv.U16(7), []byte{4, 'H', 'T', 'T', 'P'},
		tv.U32(12), []byte{198, 51, 100, 1},
		[]byte{0xab, 0xcd}, []byte{5}))
	got := decodeLines(t, tmpl, data)
	checkKeys(t, got[0], map[string]any{
		"commonPropertiesId":   []any{"04000000", "08c3"},
		"httpResponseCode":     200.0,
		"gatewayIPv4Address":   "192.0.2.7",
		"L7_PROTO":             7.0,
		"L7_PROTO_NAME":        "HTTP",
		"CLIENT_NW_LATENCY_MS": 12.0,
		"NPROBE_IPV4_ADDRESS":  "198.51.100.1",
		"pen2636_9999":         "abcd",
		"pen35632_8000":        "05",
	})

	// nProbe's NetFlow v9 types are 57472 + its element ids.
	v9 := tv.V9(1, 0,
		tv.Set(0, tv.U16(300), tv.U16(5), ieSpec(8, 4), ieSpec(57590, 2), ieSpec(57591, 8), ieSpec(57597, 4), ieSpec(60000, 1)),
		tv.Set(300, []byte{192, 0, 2, 1}, tv.U16(5), []byte("DNS\x00\x00\x00\x00\x00"), tv.U32(3), []byte{9}))
	got = decodeLines(t, v9)
	checkKeys(t, got[0], map[string]any{
		"L7_PROTO":        5.0,
		"L7_PROTO_NAME":   "DNS",
		"APPL_LATENCY_MS": 3.0,
		"field_60000":     "09",
	})
}

// TestApplicationIDAndName: applicationId is written as engine:selector
// (hex when it has no such form), and a flow whose applicationId was named
// in options data gets application_name after sampling_rate.
func TestApplicationIDAndName(t *testing.T) {
	opts := tv.IPFIX(1, 0,
		tv.Set(3, tv.U16(500), tv.U16(2), tv.U16(1), ieSpec(95, 0xffff), ieSpec(96, 0xffff)),
		tv.Set(2, tv.U16(501), tv.U16(3), ieSpec(8, 4), ieSpec(95, 0xffff), ieSpec(34, 4)),
		tv.Set(500, []byte{4, 13, 0, 1, 0xc5}, []byte{6, 's', 's', 'h', '"', '\\', 0}))
	data := tv.IPFIX(2, 0, tv.Set(501,
		[]byte{192, 0, 2, 1}, []byte{4, 13, 0, 1, 0xc5}, tv.U32(100),
		[]byte{192, 0, 2, 2}, []byte{7, 20, 0, 0, 0, 9, 0x30, 0x39}, tv.U32(100),
		[]byte{192, 0, 2, 3}, []byte{1, 13}, tv.U32(100)))
	got := decodeLines(t, opts, data)
	checkKeys(t, got[0], map[string]any{"applicationId": "13:453", "application_name": "ssh\"\\"})
	checkKeys(t, got[1], map[string]any{"applicationId": "20:9:12345"})
	checkKeys(t, got[2], map[string]any{"applicationId": "0d"})
	for i := 1; i < 3; i++ {
		if name, ok := got[i]["application_name"]; ok {
			t.Errorf("flow %d has application_name %v without an announced name", i, name)
		}
	}

	// The key comes after sampling_rate and before the other fields, and
	// writing it allocates nothing.
	var d decode.Decoder
	var p decode.Packet
	for _, pkt := range [][]byte{opts, data} {
		if err := d.Decode(exporter, pkt, &p); err != nil {
			t.Fatal(err)
		}
	}
	line := string(AppendRecord(nil, &p.Records[0], 1))
	if i, j := strings.Index(line, `"sampling_rate"`), strings.Index(line, `"application_name"`); i < 0 || j < i || j > strings.Index(line, `"applicationId"`) {
		t.Errorf("application_name out of place: %s", line)
	}
	buf := AppendRecords(nil, p.Records, 1)
	if n := testing.AllocsPerRun(100, func() { buf = AppendRecords(buf[:0], p.Records, 1) }); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}

// vendorSeed is a fuzz seed with vendor elements, an applicationId and an
// application name announced in options data, in one IPFIX message.
func vendorSeed() []byte {
	return tv.IPFIX(1, 0,
		tv.Set(3, tv.U16(500), tv.U16(2), tv.U16(1), ieSpec(95, 0xffff), ieSpec(96, 0xffff)),
		tv.Set(2, tv.U16(501), tv.U16(4), ieSpec(8, 4), ieSpec(95, 4), penSpec(2636, 137, 2), penSpec(35632, 119, 0xffff)),
		tv.Set(500, []byte{4, 13, 0, 1, 0xc5}, []byte{3, 's', 's', 'h'}),
		tv.Set(501, []byte{192, 0, 2, 1}, []byte{13, 0, 1, 0xc5}, []byte{0x04, 0x01}, []byte{3, 'D', 'N', 'S'}))
}
