package flowparquet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

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

// exported is a record as the JSON lines and the Parquet rows both give it.
type exported struct {
	lines []map[string]any // flowjson's lines, parsed
	rows  []byte           // AppendRecords' rows
}

// captureRecords decodes testdata captures and encodes their records both
// ways, with the capture time as the receive time.
func captureRecords(tb testing.TB, names ...string) exported {
	var e exported
	for _, name := range names {
		var d decode.Decoder
		var p decode.Packet
		for _, dg := range testvec.Capture(tb, name) {
			src := dg.Src.Addr()
			if err := d.Decode(src.Unmap(), dg.Payload, &p); err != nil && len(p.Records) == 0 {
				continue
			}
			ts := dg.Time.UnixNano()
			e.rows = AppendRecords(e.rows, p.Records, ts)
			for _, line := range bytes.Split(bytes.TrimSpace(flowjson.AppendRecords(nil, p.Records, ts)), []byte("\n")) {
				if len(line) == 0 {
					continue
				}
				m := map[string]any{}
				dec := json.NewDecoder(bytes.NewReader(line))
				dec.UseNumber()
				if err := dec.Decode(&m); err != nil {
					tb.Fatalf("%s: %v: %s", name, err, line)
				}
				e.lines = append(e.lines, m)
			}
		}
	}
	return e
}

var captures = []string{
	"softflowd-v5.pcap", "fprobe-v1.pcap", "fprobe-v7.pcap", "softflowd-v9.pcap", "pmacct-v9-wide.pcap",
	"pmacct-ipfix-wide.pcap", "pmacct-ipfix-pen.pcap", "softflowd-ipfix-mpls.pcap", "softflowd-ipfix-biflow.pcap",
	"softflowd-ipfix-ether.pcap", "pmacct-ipfix-sampling.pcap", "softflowd-ipfix-abstime-nano.pcap",
}

// writeFile writes rows as a file, in chunks of chunk bytes or fewer
// (whole rows).
func writeFile(tb testing.TB, rows []byte, o Options, chunk int) []byte {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, o)
	if err != nil {
		tb.Fatal(err)
	}
	for len(rows) > 0 {
		n := 0
		for n < len(rows) && n < chunk {
			n += rowFixed + int(uint32(rows[n+8])|uint32(rows[n+9])<<8|uint32(rows[n+10])<<16|uint32(rows[n+11])<<24)
		}
		if _, err := w.Write(rows[:n]); err != nil {
			tb.Fatal(err)
		}
		rows = rows[n:]
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// readLines reads a file back and turns each row into the object of a
// JSON line: addresses and MACs as text, the other fields merged in.
func readLines(tb testing.TB, file []byte) []map[string]any {
	f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		tb.Fatal(err)
	}
	s := f.Schema()
	names := make([]string, len(s.Fields()))
	for i, fl := range s.Fields() {
		names[i] = fl.Name()
	}
	r := parquet.NewReader(f)
	defer r.Close()
	var out []map[string]any
	rows := make([]parquet.Row, 64)
	for {
		n, err := r.ReadRows(rows)
		for _, row := range rows[:n] {
			m := map[string]any{}
			vals := map[string]parquet.Value{}
			for _, v := range row {
				vals[names[v.Column()]] = v
			}
			present := uint64(vals["present"].Int64())
			for k, name := range names {
				v := vals[name]
				if v.IsNull() {
					tb.Fatalf("column %s: null", name)
				}
				if name == "present" || strings.HasSuffix(name, "_family") {
					continue
				}
				if name != "other_fields" && present&(1<<k) == 0 {
					if !isZero(v) {
						tb.Fatalf("column %s: absent but %v", name, v)
					}
					continue
				}
				switch {
				case name == "type":
					m[name] = string(v.ByteArray())
				case name == "other_fields":
					dec := json.NewDecoder(bytes.NewReader(v.ByteArray()))
					dec.UseNumber()
					var o map[string]any
					if err := dec.Decode(&o); err != nil {
						tb.Fatalf("other_fields %s: %v", v.ByteArray(), err)
					}
					for k, x := range o {
						m[k] = x
					}
				case v.Kind() == parquet.FixedLenByteArray && len(v.ByteArray()) == 16:
					a := netip.AddrFrom16([16]byte(v.ByteArray()))
					fam := vals[name+"_family"]
					if present&(1<<(k+1)) == 0 {
						tb.Fatalf("%s without its family", name)
					}
					if fam.Int32() == 4 {
						if !a.Is4In6() {
							tb.Fatalf("%s: family 4 but %v", name, a)
						}
						a = a.Unmap()
					}
					m[name] = a.String()
				case v.Kind() == parquet.FixedLenByteArray:
					b := v.ByteArray()
					m[name] = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
				case v.Kind() == parquet.Int32:
					m[name] = json.Number(fmt.Sprint(uint32(v.Int32())))
				case v.Kind() == parquet.Int64 && strings.HasSuffix(name, "_ns"):
					m[name] = json.Number(fmt.Sprint(v.Int64()))
				case v.Kind() == parquet.Int64:
					m[name] = json.Number(fmt.Sprint(uint64(v.Int64())))
				default:
					tb.Fatalf("column %s: unexpected kind %v", name, v.Kind())
				}
			}
			out = append(out, m)
		}
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// Every record of the captures reads back from the file as its JSON line:
// the typed columns and the other fields together carry all of it.
func TestRoundTripCaptures(t *testing.T) {
	e := captureRecords(t, captures...)
	if len(e.lines) < 100 {
		t.Fatalf("only %d records in the captures", len(e.lines))
	}
	for _, o := range []Options{{}, {Compression: "lz4", RowGroupRows: 50}, {Compression: "snappy", RowGroupRows: 1000}} {
		t.Run(string(o.Compression), func(t *testing.T) {
			got := readLines(t, writeFile(t, e.rows, o, 3000))
			if len(got) != len(e.lines) {
				t.Fatalf("%d rows, want %d", len(got), len(e.lines))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], e.lines[i]) {
					t.Fatalf("row %d:\n got %v\nwant %v", i, got[i], e.lines[i])
				}
			}
		})
	}
}

// The columns are in the order of the table, with min/max statistics on
// the time and address columns of every row group.
func TestSchemaAndStatistics(t *testing.T) {
	e := captureRecords(t, "softflowd-v9.pcap")
	file := writeFile(t, e.rows, Options{RowGroupRows: 10}, 1<<20)
	f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	for i, fl := range f.Schema().Fields() {
		if fl.Name() != columns[i].Name {
			t.Fatalf("column %d is %s, want %s", i, fl.Name(), columns[i].Name)
		}
	}
	md := f.Metadata()
	if len(md.RowGroups) < 2 {
		t.Fatalf("%d row groups, want several", len(md.RowGroups))
	}
	for _, rg := range md.RowGroups {
		for _, k := range []int{colTimeReceived, colStart, colEnd, colSrcAddr, colDstAddr} {
			st := rg.Columns[k].MetaData.Statistics
			if len(st.MinValue) == 0 || len(st.MaxValue) == 0 {
				t.Errorf("column %s: no min/max statistics", columns[k].Name)
			}
		}
	}
}

// Bytes that are not whole rows are refused before anything is written.
func TestWriteCorrupt(t *testing.T) {
	p := benchPacket(t)
	rows := AppendRecords(nil, p.Records, 1)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), rows...)
	bad[8] = 0xff // the first row's other-fields length points past the end
	for _, data := range [][]byte{rows[:len(rows)-1], rows[:rowFixed-1], bad} {
		if n, err := w.Write(data); !errors.Is(err, ErrCorrupt) || n != 0 {
			t.Errorf("Write(%d bytes) = %d, %v; want 0, ErrCorrupt", len(data), n, err)
		}
	}
	if w.Rows() != 0 {
		t.Errorf("%d rows written", w.Rows())
	}
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, buf.Bytes()); len(got) != len(p.Records) {
		t.Errorf("%d rows, want %d", len(got), len(p.Records))
	}
}

func TestAppendRecordsAllocs(t *testing.T) {
	p := benchPacket(t)
	buf := AppendRecords(nil, p.Records, 1700000000123456789)
	if n := testing.AllocsPerRun(100, func() { buf = AppendRecords(buf[:0], p.Records, 1700000000123456789) }); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}

// Writing rows allocates nothing per row once the writer's buffers have
// grown: what allocates is per page (a few per 1000 rows of 48 columns)
// and per row group. One allocation per row would be 1000.
func TestWriteAllocs(t *testing.T) {
	p := benchPacket(t)
	var rows []byte
	for range 40 { // 1000 rows
		rows = AppendRecords(rows, p.Records, 1700000000123456789)
	}
	w, err := NewWriter(io.Discard, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
	}
	n := testing.AllocsPerRun(200, func() {
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
	})
	if perRow := n / 1000; perRow > 0.02 {
		t.Errorf("%v allocations per 1000 rows, want (almost) none", n)
	}
	t.Logf("%v allocations per 1000 rows", n)
}

// BenchmarkEncode measures the per-flow cost of each half of the Parquet
// encoding (rows in the workers, columns in the sink) beside the JSON
// encoding of the same records.
func BenchmarkEncode(b *testing.B) {
	p := benchPacket(b)
	n := len(p.Records)
	b.Run("json", func(b *testing.B) {
		buf := flowjson.AppendRecords(nil, p.Records, 1700000000123456789)
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			buf = flowjson.AppendRecords(buf[:0], p.Records, 1700000000123456789)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/flow")
	})
	b.Run("parquet-rows", func(b *testing.B) {
		buf := AppendRecords(nil, p.Records, 1700000000123456789)
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			buf = AppendRecords(buf[:0], p.Records, 1700000000123456789)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/flow")
	})
	for _, c := range []Compression{"zstd", "lz4", "snappy"} {
		b.Run("parquet-columns-"+string(c), func(b *testing.B) {
			var rows []byte
			for range 40 {
				rows = AppendRecords(rows, p.Records, 1700000000123456789)
			}
			w, err := NewWriter(io.Discard, Options{Compression: c})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(rows)))
			for b.Loop() {
				if _, err := w.Write(rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(40*n), "ns/flow")
		})
	}
}

func isZero(v parquet.Value) bool {
	switch v.Kind() {
	case parquet.Int32:
		return v.Int32() == 0
	case parquet.Int64:
		return v.Int64() == 0
	}
	for _, b := range v.ByteArray() {
		if b != 0 {
			return false
		}
	}
	return true
}

// FuzzWrite feeds Write arbitrary bytes: it refuses what is not whole rows
// (writing nothing), and what it takes reads back as that many rows.
func FuzzWrite(f *testing.F) {
	for _, name := range []string{"softflowd-ipfix-mpls.pcap", "softflowd-v5.pcap", "pmacct-ipfix-pen.pcap"} {
		rows := captureRecords(f, name).rows
		// A few whole rows: small inputs keep the fuzzer fast.
		n := 0
		for range 3 {
			if n < len(rows) {
				n += rowFixed + int(uint32(rows[n+8])|uint32(rows[n+9])<<8|uint32(rows[n+10])<<16|uint32(rows[n+11])<<24)
			}
		}
		f.Add(rows[:n])
	}
	f.Add(AppendRecords(nil, benchPacket(f).Records[:2], 7))
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Options{RowGroupRows: 2, Compression: "none"})
		if err != nil {
			t.Fatal(err)
		}
		want, cerr := Check(data)
		n, err := w.Write(data)
		if cerr != nil {
			if !errors.Is(err, ErrCorrupt) || n != 0 {
				t.Fatalf("Write = %d, %v; Check said %v", n, err, cerr)
			}
			return
		}
		if err != nil || n != want {
			t.Fatalf("Write = %d, %v; want %d rows", n, err, want)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if pf.NumRows() != int64(n) {
			t.Fatalf("%d rows read, %d written", pf.NumRows(), n)
		}
	})
}

// BenchmarkEncodeRowGroups measures the per-flow cost of the whole Parquet
// encoding as a collector's worker runs it: each packet's records put in
// the column blocks, the blocks compressed as they fill, the row group
// completed every 1 Mi rows.
func BenchmarkEncodeRowGroups(b *testing.B) {
	p := benchPacket(b)
	n := len(p.Records)
	for _, c := range []Compression{"zstd", "lz4", "snappy", "none"} {
		b.Run(string(c), func(b *testing.B) {
			enc, err := NewRowGroupEncoder(Options{Compression: c})
			if err != nil {
				b.Fatal(err)
			}
			var out []byte
			flows := 0
			b.ReportAllocs()
			for b.Loop() {
				enc.AppendRecords(p.Records, 1700000000123456789)
				flows += n
				if enc.Full() {
					if out, err = enc.Finish(out[:0]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(flows), "ns/flow")
		})
	}
}
