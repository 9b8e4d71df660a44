package chrow

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/decode"
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

// rowReader reads RowBinary by the column types of Columns, as
// ClickHouse would; every value is returned as text.
type rowReader struct {
	b   []byte
	err error
}

func (r *rowReader) take(n int) []byte {
	if r.err != nil || n > len(r.b) || n < 0 {
		if r.err == nil {
			r.err = errors.New("row cut short")
		}
		return make([]byte, max(n, 0))
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *rowReader) uvarint() int {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *rowReader) strs() []string {
	n := r.uvarint()
	if n > len(r.b) {
		r.err = errors.New("array longer than the row")
		return nil
	}
	var out []string
	for range n {
		out = append(out, string(r.take(r.uvarint())))
	}
	return out
}

// value reads one value of type typ; zero reports a zero value.
func (r *rowReader) value(typ string) (text string, zero bool) {
	switch {
	case typ == "Date":
		v := binary.LittleEndian.Uint16(r.take(2))
		return strconv.Itoa(int(v)), v == 0
	case strings.HasPrefix(typ, "Enum8("):
		c := r.take(1)[0]
		if c == 0 {
			return "UNKNOWN", true
		}
		return flowjson.VersionName(uint16(c)), false
	case typ == "Int64":
		v := int64(binary.LittleEndian.Uint64(r.take(8)))
		return strconv.FormatInt(v, 10), v == 0
	case strings.HasPrefix(typ, "UInt"):
		bits, _ := strconv.Atoi(typ[4:])
		b := r.take(bits / 8)
		var v uint64
		for i := len(b) - 1; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return strconv.FormatUint(v, 10), v == 0
	case typ == "FixedString(16)":
		a := netip.AddrFrom16([16]byte(r.take(16)))
		return a.Unmap().String(), a.IsUnspecified() && !a.Is4In6()
	case typ == "Array(UInt32)":
		n := r.uvarint()
		if n > len(r.b)/4 {
			r.err = errors.New("array longer than the row")
			return "", true
		}
		var parts []string
		for range n {
			parts = append(parts, strconv.FormatUint(uint64(binary.LittleEndian.Uint32(r.take(4))), 10))
		}
		return "[" + strings.Join(parts, ",") + "]", n == 0
	}
	r.err = fmt.Errorf("type %s unknown to the test", typ)
	return "", true
}

// readRow reads one row into column name → text, the other fields
// included under their names, and the zero columns apart.
func readRow(r *rowReader) (vals map[string]string, zero map[string]bool, names, values []string) {
	vals, zero = map[string]string{}, map[string]bool{}
	for _, c := range append(fixedColumns[:], sflowColumns[:]...) {
		v, z := r.value(c.Type)
		vals[c.Name] = v
		zero[c.Name] = z
	}
	names, values = r.strs(), r.strs()
	return vals, zero, names, values
}

// jsonText is a JSON value as the row writes it.
func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case []any:
		var parts []string
		for _, x := range v {
			parts = append(parts, jsonText(x))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprint(v)
}

// checkSame compares the rows of records with their JSON lines.
func checkSame(t *testing.T, rs []decode.Record, received int64) int {
	t.Helper()
	if len(rs) == 0 {
		if b := AppendRecords(nil, rs, received); len(b) != 0 {
			t.Fatalf("%d bytes for no records", len(b))
		}
		return 0
	}
	rows := AppendRecords(nil, rs, received)
	lines := strings.Split(strings.TrimSuffix(string(flowjson.AppendRecords(nil, rs, received)), "\n"), "\n")
	return compareRows(t, rs, rows, lines, received)
}

// checkPacket compares the rows of AppendPacket with the JSON lines of
// the packet's records (for sFlow, AppendSFlow's lines of its flow
// samples).
func checkPacket(t *testing.T, p *decode.Packet, received int64) int {
	t.Helper()
	if p.Version != decode.VersionSFlow5 {
		return checkSame(t, p.Records, received)
	}
	rows := AppendPacket(nil, p, received)
	lines := strings.Split(string(flowjson.AppendSFlow(nil, p, received)), "\n")[:len(p.Records)]
	if len(lines) == 0 {
		if len(rows) != 0 {
			t.Fatalf("%d bytes for no records", len(rows))
		}
		return 0
	}
	return compareRows(t, p.Records, rows, lines, received)
}

func compareRows(t *testing.T, rs []decode.Record, rows []byte, lines []string, received int64) int {
	t.Helper()
	rd := &rowReader{b: rows}
	macCols := map[string]bool{}
	for _, c := range fixedColumns {
		if c.Type == "UInt64" && strings.HasSuffix(c.Name, "_mac") {
			macCols[c.Name] = true
		}
	}
	for i, line := range lines {
		vals, zero, names, values := readRow(rd)
		if rd.err != nil {
			t.Fatalf("row %d: %v (%d rows bytes, %d left, %d records, template %v)\n%s", i, rd.err, len(rows), len(rd.b), len(rs), rs[0].Template() != nil, line)
		}
		if len(names) != len(values) {
			t.Fatalf("row %d: %d names, %d values", i, len(names), len(values))
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			t.Fatal(err)
		}
		if want := strconv.FormatInt(received/86400e9, 10); vals["date"] != want {
			t.Errorf("row %d: date %s, want %s", i, vals["date"], want)
		}
		other := map[string]string{}
		for j, n := range names {
			other[n] = values[j]
		}
		for k, v := range obj {
			want := jsonText(v)
			got, ok := vals[k]
			if !ok {
				got, ok = other[k]
			}
			if macCols[k] {
				m, _ := strconv.ParseUint(got, 10, 64)
				got = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", byte(m>>40), byte(m>>32), byte(m>>24), byte(m>>16), byte(m>>8), byte(m))
			}
			if !ok || got != want {
				t.Errorf("row %d: %s = %q (present %v), JSON has %q\n%s", i, k, got, ok, want, line)
			}
		}
		present, _ := strconv.ParseUint(vals["present"], 10, 64)
		for k, bit := range presentBits {
			if _, inJSON := obj[k]; (present&uint64(bit) != 0) != inJSON {
				t.Errorf("row %d: present says %s is %v, JSON %v", i, k, present&uint64(bit) != 0, inJSON)
			}
		}
		if want := strconv.Itoa(rs[i].Offset); vals["record_offset"] != want {
			t.Errorf("row %d: record_offset %s, want %s", i, vals["record_offset"], want)
		}
		for k := range vals {
			if _, ok := obj[k]; !ok && k != "date" && k != "record_offset" && k != "present" && !zero[k] {
				t.Errorf("row %d: column %s = %s, absent from JSON", i, k, vals[k])
			}
		}
		if len(obj) != len(names)+countPresent(obj, vals) {
			t.Errorf("row %d: %d JSON keys, %d columns + %d other fields", i, len(obj), countPresent(obj, vals), len(names))
		}
	}
	if len(rd.b) != 0 {
		t.Fatalf("%d bytes after the last row", len(rd.b))
	}
	return len(lines)
}

func countPresent(obj map[string]any, vals map[string]string) int {
	n := 0
	for k := range obj {
		if _, ok := vals[k]; ok {
			n++
		}
	}
	return n
}

// Every record of every capture: the row holds what the JSON line holds.
func TestRowsMatchJSON(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "*.pcap"))
	if len(names) == 0 {
		t.Fatal("no captures")
	}
	total := 0
	for _, name := range names {
		var d decode.Decoder
		var p decode.Packet
		n := 0
		for _, dg := range testvec.Capture(t, filepath.Base(name)) {
			if err := d.Decode(dg.Src.Addr(), dg.Payload, &p); err != nil {
				continue
			}
			n += checkPacket(t, &p, dg.Time.UnixNano())
		}
		if n == 0 && !strings.Contains(name, "synthetic") {
			t.Errorf("%s: no records", name)
		}
		total += n
	}
	t.Logf("%d records compared", total)
	checkSame(t, benchPacket(t).Records, 1700000000123456789)
}

// Values of 128 bytes and more take a longer length prefix.
func TestLongValue(t *testing.T) {
	for _, n := range []int{0, 1, 63, 64, 127, 128, 200, 20000} {
		f := decode.Field{TemplateField: &decode.TemplateField{Element: &decode.Element{Name: "x", Type: decode.OctetArray}}, Value: make([]byte, n)}
		for i := range f.Value {
			f.Value[i] = byte(i)
		}
		b := appendValue([]byte("pre"), f)
		r := &rowReader{b: b[3:]}
		got := string(r.take(r.uvarint()))
		if r.err != nil || got != strings.Trim(string(flowjson.AppendValue(nil, f)), `"`) || len(r.b) != 0 {
			t.Errorf("%d bytes: %v, %d left", n, r.err, len(r.b))
		}
	}
}

func TestAppendRecordsAllocs(t *testing.T) {
	p := benchPacket(t)
	buf := AppendRecords(nil, p.Records, 1700000000123456789)
	if n := testing.AllocsPerRun(100, func() { buf = AppendRecords(buf[:0], p.Records, 1700000000123456789) }); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}

// BenchmarkEncode compares the RowBinary rows with the JSON lines of the
// same records.
func BenchmarkEncode(b *testing.B) {
	p := benchPacket(b)
	n := len(p.Records)
	for _, enc := range []struct {
		name string
		fn   func([]byte, []decode.Record, int64) []byte
	}{{"json", flowjson.AppendRecords}, {"rowbinary", AppendRecords}} {
		b.Run(enc.name, func(b *testing.B) {
			buf := enc.fn(nil, p.Records, 1700000000123456789)
			b.ReportAllocs()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				buf = enc.fn(buf[:0], p.Records, 1700000000123456789)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/flow")
		})
	}
}

// putAddr writes what As16 returns, whichever way it reads the address.
func TestPutAddr(t *testing.T) {
	if !addrLayoutOK {
		t.Log("netip.Addr layout not as expected: putAddr uses As16")
	}
	for _, s := range []string{"", "0.0.0.0", "192.0.2.1", "255.255.255.255", "::", "::1", "::ffff:1.2.3.4", "2001:db8::1", "fe80::1%eth0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"} {
		var a netip.Addr
		if s != "" {
			a = netip.MustParseAddr(s)
		}
		var got [16]byte
		putAddr(&got, a)
		if got != a.As16() {
			t.Errorf("%s: % x, want % x", s, got, a.As16())
		}
	}
}

func TestPatchCount(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 300, 1 << 20} {
		b := append([]byte("ab"), 0)
		b = append(b, "tail"...)
		b = patchCount(b, 2, n)
		v, k := binary.Uvarint(b[2:])
		if int(v) != n || string(b[:2]) != "ab" || string(b[2+k:]) != "tail" {
			t.Errorf("%d: % x", n, b)
		}
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
	buf := AppendPacket(nil, &p, 1)
	if n := testing.AllocsPerRun(100, func() { buf = AppendPacket(buf[:0], &p, 1) }); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}
