package flowparquet

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/lz4"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

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

// testBlock is the rows of a block in the tests that encode many blocks:
// fewer than blockRows, to keep them quick.
const testBlock = 4096

// testMaxDict is the entries of an address dictionary in those tests:
// fewer than maxDict, so that a few blocks overflow it.
const testMaxDict = 1 << 14

// synthetic returns n records made from the captures' records, varied so
// that the encoder takes each of its paths: blocks of a column that are
// constant, then another constant, then vary (constant runs written out
// as PLAIN); address dictionaries that overflow (PLAIN pages after
// dictionary pages); IPv6 and IPv4 addresses; several versions; other
// fields present in some blocks only; integers and times at the ends of
// their ranges (unsigned and signed order of the statistics).
func synthetic(tb testing.TB, n int) []decode.Record {
	var base []decode.Record
	for _, name := range []string{"softflowd-v5.pcap", "softflowd-v9.pcap", "pmacct-ipfix-wide.pcap", "softflowd-ipfix-biflow.pcap"} {
		var d decode.Decoder
		var p decode.Packet
		for _, dg := range testvec.Capture(tb, name) {
			if err := d.Decode(dg.Src.Addr().Unmap(), dg.Payload, &p); err != nil && len(p.Records) == 0 {
				continue
			}
			base = append(base, p.Records...)
		}
	}
	if len(base) == 0 {
		tb.Fatal("no records in the captures")
	}
	out := make([]decode.Record, n)
	for i := range out {
		r := base[0] // one template (no other fields) for the first blocks
		if i >= 3*testBlock {
			r = base[i%len(base)]
		}
		switch {
		case i < testBlock: // bytes constant
			r.Bytes = 7
		case i < 2*testBlock: // another constant
			r.Bytes = 9
		default:
			r.Bytes = uint64(i) * 1000003
		}
		r.Has |= decode.HasBytes | decode.HasSrcAddr | decode.HasInIf
		// More distinct source addresses than a dictionary holds.
		r.SrcAddr = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if i%7 == 0 {
			r.SrcAddr = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)})
		}
		if i%1000 == 999 {
			r.Bytes = 1<<64 - 1 - uint64(i) // above the int64 range
			r.InIf = 0xffffff00             // above the int32 range
		}
		if i == 5*testBlock+3 {
			r.Has |= decode.HasStart
			r.Start = -1_000_000_000 // before 1970: a signed minimum
		}
		out[i] = r
	}
	return out
}

// jsonLines returns the records' JSON lines (flowjson), parsed.
func jsonLines(tb testing.TB, rs []decode.Record, received int64) []map[string]any {
	var out []map[string]any
	for i := range rs {
		line := bytes.TrimSpace(flowjson.AppendRecords(nil, rs[i:i+1], received))
		m := map[string]any{}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			tb.Fatalf("%v: %s", err, line)
		}
		out = append(out, m)
	}
	return out
}

// encodeFile encodes records as a collector worker does (RowGroupEncoder,
// row groups of about rowGroup rows, 25 records a packet) and writes the
// row groups as a file.
func encodeFile(tb testing.TB, rs []decode.Record, received int64, o Options) []byte {
	if o.blockRows == 0 {
		o.blockRows = testBlock
	}
	if o.maxDict == 0 {
		o.maxDict = testMaxDict
	}
	enc, err := NewRowGroupEncoder(o)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, o)
	if err != nil {
		tb.Fatal(err)
	}
	var groups []byte
	write := func() {
		if groups, err = enc.Finish(groups[:0]); err != nil {
			tb.Fatal(err)
		}
		if _, err := w.WriteRowGroups(groups); err != nil {
			tb.Fatal(err)
		}
	}
	for len(rs) > 0 {
		k := min(25, len(rs))
		enc.AppendRecords(rs[:k], received)
		rs = rs[k:]
		if enc.Full() {
			write()
		}
	}
	write()
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// The records a worker encodes read back, through parquet-go's generic
// reader, as their JSON lines: every column of every row, across blocks,
// row groups, constant and dictionary columns that fall back to PLAIN,
// with every codec.
func TestRowGroupEncoderRoundTrip(t *testing.T) {
	rs := synthetic(t, 6*testBlock+17)
	const received = 1700000000123456789
	want := jsonLines(t, rs, received)
	// Not lz4: parquet-go v0.32 reads LZ4 pages that compress less than
	// 3× into a buffer it then drops (compress/lz4 Decode reallocates,
	// Column.decompress keeps its own); TestLZ4Pages checks those files.
	for _, o := range []Options{{RowGroupRows: 10 * testBlock}, {Compression: "snappy", RowGroupRows: 3 * testBlock}, {Compression: "gzip", RowGroupRows: 1000}, {Compression: "none"}} {
		t.Run(string(o.Compression), func(t *testing.T) {
			file := encodeFile(t, rs, received, o)
			got := readLines(t, file)
			if len(got) != len(want) {
				t.Fatalf("%d rows, want %d", len(got), len(want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("row %d:\n got %v\nwant %v", i, got[i], want[i])
				}
			}
			f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
			if err != nil {
				t.Fatal(err)
			}
			groups := f.Metadata().RowGroups
			// A row group has RowGroupRows rows, or up to a packet more.
			if wantGroups := (len(rs) + o.RowGroupRows + 23) / max(o.RowGroupRows+24, 1); o.RowGroupRows > 0 && len(groups) < wantGroups {
				t.Errorf("%d row groups, want %d or more", len(groups), wantGroups)
			}
			// The address dictionary overflowed: PLAIN pages follow the
			// dictionary's.
			if o.RowGroupRows == 10*testBlock {
				md := groups[0].Columns[colSrcAddr].MetaData
				if !slices.Contains(md.Encoding, format.RLEDictionary) || md.DictionaryPageOffset == 0 {
					t.Errorf("src_addr encodings %v, want a dictionary", md.Encoding)
				}
				src := colPages(t, file, 0, colSrcAddr)
				if len(src) < 3 || src[0] != format.RLEDictionary || src[len(src)-1] != format.Plain {
					t.Errorf("src_addr data pages %v, want dictionary pages then PLAIN ones", src)
				}
			}
		})
	}
}

// The same records read with parquet-go's GenericReader into Row, the
// struct its schema is taken from, match the records field by field.
func TestGenericReaderRows(t *testing.T) {
	rs := synthetic(t, 4*testBlock+5)
	const received = 1700000000123456789
	file := encodeFile(t, rs, received, Options{RowGroupRows: 3 * testBlock})
	r := parquet.NewGenericReader[Row](bytes.NewReader(file), parquet.SchemaOf(Row{}))
	defer r.Close()
	got := make([]Row, len(rs)+1)
	n, err := r.Read(got)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	if n != len(rs) {
		t.Fatalf("%d rows, want %d", n, len(rs))
	}
	for i := range rs {
		rec, row := &rs[i], &got[i]
		want := Row{Type: versionName(rec.Version), TimeReceived: received, SequenceNum: rec.Sequence,
			ObservationDomainID: rec.Domain, TemplateID: rec.TemplateID, SamplingRate: rec.SamplingRate,
			OriginalSamplingRate: rec.OriginalSamplingRate}
		fam := func(a netip.Addr, ok bool) ([16]byte, uint8) {
			if !ok || !a.IsValid() {
				return [16]byte{}, 0
			}
			if a.Is4() {
				return a.As16(), 4
			}
			return a.As16(), 6
		}
		h := rec.Has
		want.SamplerAddress, want.SamplerAddressFamily = fam(rec.Exporter, true)
		want.SrcAddr, want.SrcAddrFamily = fam(rec.SrcAddr, h&decode.HasSrcAddr != 0)
		want.DstAddr, want.DstAddrFamily = fam(rec.DstAddr, h&decode.HasDstAddr != 0)
		want.NextHop, want.NextHopFamily = fam(rec.NextHop, h&decode.HasNextHop != 0)
		want.BGPNextHop, want.BGPNextHopFamily = fam(rec.BGPNextHop, h&decode.HasBGPNextHop != 0)
		pick := func(bit decode.FieldSet, v uint64) uint64 {
			if h&bit != 0 {
				return v
			}
			return 0
		}
		want.Start = int64(pick(decode.HasStart, uint64(rec.Start)))
		want.End = int64(pick(decode.HasEnd, uint64(rec.End)))
		want.Bytes = pick(decode.HasBytes, rec.Bytes)
		want.Packets = pick(decode.HasPackets, rec.Packets)
		want.OutBytes = pick(decode.HasOutBytes, rec.OutBytes)
		want.OutPackets = pick(decode.HasOutPackets, rec.OutPackets)
		want.RevBytes = pick(decode.HasRevBytes, rec.RevBytes)
		want.RevPackets = pick(decode.HasRevPackets, rec.RevPackets)
		want.Flows = pick(decode.HasFlows, rec.Flows)
		want.SrcPort = uint16(pick(decode.HasSrcPort, uint64(rec.SrcPort)))
		want.DstPort = uint16(pick(decode.HasDstPort, uint64(rec.DstPort)))
		want.Proto = uint8(pick(decode.HasProto, uint64(rec.Proto)))
		want.EtherType = uint16(pick(decode.HasEtherType, uint64(rec.EtherType)))
		want.TOS = uint8(pick(decode.HasTOS, uint64(rec.TOS)))
		want.TTL = uint8(pick(decode.HasTTL, uint64(rec.TTL)))
		want.TCPFlags = uint16(pick(decode.HasTCPFlags, uint64(rec.TCPFlags)))
		want.ICMPType = uint8(pick(decode.HasICMPType, uint64(rec.ICMPType)))
		want.ICMPCode = uint8(pick(decode.HasICMPCode, uint64(rec.ICMPCode)))
		want.InIf = uint32(pick(decode.HasInIf, uint64(rec.InIf)))
		want.OutIf = uint32(pick(decode.HasOutIf, uint64(rec.OutIf)))
		want.SrcAS = uint32(pick(decode.HasSrcAS, uint64(rec.SrcAS)))
		want.DstAS = uint32(pick(decode.HasDstAS, uint64(rec.DstAS)))
		want.SrcMask = uint8(pick(decode.HasSrcMask, uint64(rec.SrcMask)))
		want.DstMask = uint8(pick(decode.HasDstMask, uint64(rec.DstMask)))
		want.SrcVLAN = uint16(pick(decode.HasSrcVLAN, uint64(rec.SrcVLAN)))
		want.DstVLAN = uint16(pick(decode.HasDstVLAN, uint64(rec.DstVLAN)))
		if h&decode.HasSrcMAC != 0 {
			want.SrcMAC = rec.SrcMAC
		}
		if h&decode.HasDstMAC != 0 {
			want.DstMAC = rec.DstMAC
		}
		want.Direction = uint8(pick(decode.HasDirection, uint64(rec.Direction)))
		want.FlowEndReason = uint8(pick(decode.HasFlowEndReason, uint64(rec.FlowEndReason)))
		want.Other = []byte("{}")
		if o := flowjson.AppendOther(nil, rec); len(o) > 0 {
			o[0] = '{'
			want.Other = append(o, '}')
		}
		want.Present = row.Present // checked by TestRowGroupEncoderRoundTrip
		if !reflect.DeepEqual(*row, want) {
			t.Fatalf("row %d:\n got %+v\nwant %+v", i, *row, want)
		}
	}
}

// Every row group has min/max statistics on the time, address and
// integer columns, equal to the least and greatest values of its rows in
// the order of the column's logical type (unsigned integers and bytes,
// signed times), and the footer declares that order.
func TestRowGroupStatistics(t *testing.T) {
	rs := synthetic(t, 7*testBlock+11)
	file := encodeFile(t, rs, 1700000000123456789, Options{RowGroupRows: 2 * testBlock})
	f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata()
	if len(md.ColumnOrders) != numColumns {
		t.Errorf("%d column orders, want %d", len(md.ColumnOrders), numColumns)
	}
	if len(md.RowGroups) < 4 {
		t.Fatalf("%d row groups, want 4 or more", len(md.RowGroups))
	}
	for g, rg := range f.RowGroups() {
		for k, cc := range rg.ColumnChunks() {
			typ := columns[k].Type
			st := md.RowGroups[g].Columns[k].MetaData.Statistics
			if typ == typeVersion || typ == typeJSON || typ == typeMAC {
				continue
			}
			if len(st.MinValue) == 0 || len(st.MaxValue) == 0 {
				t.Errorf("row group %d column %s: no statistics", g, columns[k].Name)
				continue
			}
			var lo, hi []byte
			pages := cc.Pages()
			for {
				p, err := pages.ReadPage()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				vals := make([]parquet.Value, p.NumValues())
				n, _ := p.Values().ReadValues(vals)
				for _, v := range vals[:n] {
					b := order(typ, v)
					if lo == nil || bytes.Compare(b, lo) < 0 {
						lo = b
					}
					if hi == nil || bytes.Compare(b, hi) > 0 {
						hi = b
					}
				}
				parquet.Release(p)
			}
			pages.Close()
			if mn, mx := order(typ, statValue(typ, st.MinValue)), order(typ, statValue(typ, st.MaxValue)); !bytes.Equal(mn, lo) || !bytes.Equal(mx, hi) {
				t.Errorf("row group %d column %s: statistics [%x, %x], values [%x, %x]", g, columns[k].Name, mn, mx, lo, hi)
			}
		}
	}
}

// order returns v as bytes that sort as the column's logical type does.
func order(t columnType, v parquet.Value) []byte {
	switch t {
	case typeTime:
		return binary.BigEndian.AppendUint64(nil, uint64(v.Int64())^1<<63)
	case typeUint64:
		return binary.BigEndian.AppendUint64(nil, uint64(v.Int64()))
	case typeUint8, typeUint16, typeUint32:
		return binary.BigEndian.AppendUint32(nil, uint32(v.Int32()))
	}
	return append([]byte(nil), v.ByteArray()...)
}

// statValue returns a statistics value (PLAIN) as a Value of the column.
func statValue(t columnType, b []byte) parquet.Value {
	switch t {
	case typeTime, typeUint64:
		return parquet.Int64Value(int64(binary.LittleEndian.Uint64(b)))
	case typeUint8, typeUint16, typeUint32:
		return parquet.Int32Value(int32(binary.LittleEndian.Uint32(b)))
	}
	return parquet.FixedLenByteArrayValue(b)
}

// pageOf is a page of a file: its header and its bytes as stored.
type pageOf struct {
	h    format.PageHeader
	body []byte
}

// filePages returns the pages of every column chunk of a file, in order.
func filePages(tb testing.TB, file []byte) []pageOf {
	f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		tb.Fatal(err)
	}
	var out []pageOf
	for _, rg := range f.Metadata().RowGroups {
		for _, c := range rg.Columns {
			off := c.MetaData.DataPageOffset
			if c.MetaData.DictionaryPageOffset > 0 {
				off = c.MetaData.DictionaryPageOffset
			}
			for end := off + c.MetaData.TotalCompressedSize; off < end; {
				var p pageOf
				r := bytes.NewReader(file[off:end])
				if err := thrift.NewDecoder(new(thrift.CompactProtocol).NewReader(r)).Decode(&p.h); err != nil {
					tb.Fatal(err)
				}
				off = end - int64(r.Len())
				p.body = file[off : off+int64(p.h.CompressedPageSize)]
				off += int64(p.h.CompressedPageSize)
				out = append(out, p)
			}
		}
	}
	return out
}

// An LZ4 file holds, page by page, what the uncompressed file of the same
// records holds: the same headers, and bodies that decompress to the
// same bytes, incompressible ones (which the LZ4 compressor gives up on:
// they are stored as one run of literals) included.
func TestLZ4Pages(t *testing.T) {
	rs := synthetic(t, 4*testBlock+9)
	plain := filePages(t, encodeFile(t, rs, 1, Options{Compression: "none", RowGroupRows: 3 * testBlock}))
	lz := filePages(t, encodeFile(t, rs, 1, Options{Compression: "lz4", RowGroupRows: 3 * testBlock}))
	if len(lz) != len(plain) || len(plain) < numColumns {
		t.Fatalf("%d pages, %d uncompressed", len(lz), len(plain))
	}
	var codec lz4.Codec
	incompressible := 0
	for i := range lz {
		got, err := codec.Decode(nil, lz[i].body)
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		if !bytes.Equal(got, plain[i].body) || lz[i].h.UncompressedPageSize != plain[i].h.UncompressedPageSize || lz[i].h.Type != plain[i].h.Type {
			t.Fatalf("page %d differs", i)
		}
		if len(lz[i].body) > len(got) {
			incompressible++
		}
	}
	if incompressible == 0 {
		t.Error("no incompressible page: the literals path is not tested")
	}
}

// colPages returns the encodings of the data pages of column k in row
// group g.
func colPages(tb testing.TB, file []byte, g, k int) []format.Encoding {
	f, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		tb.Fatal(err)
	}
	md := f.Metadata().RowGroups[g].Columns[k].MetaData
	start := md.DataPageOffset
	if md.DictionaryPageOffset > 0 {
		start = md.DictionaryPageOffset
	}
	var out []format.Encoding
	for off, end := start, start+md.TotalCompressedSize; off < end; {
		var h format.PageHeader
		r := bytes.NewReader(file[off:end])
		if err := thrift.NewDecoder(new(thrift.CompactProtocol).NewReader(r)).Decode(&h); err != nil {
			tb.Fatal(err)
		}
		off = end - int64(r.Len()) + int64(h.CompressedPageSize)
		if dh, ok := h.DataPageHeader.Get(); ok && h.Type == format.DataPage {
			out = append(out, dh.Encoding)
		}
	}
	return out
}

// FuzzWriteRowGroups feeds WriteRowGroups arbitrary bytes: it refuses
// what is not whole encoded row groups (writing nothing), never panics,
// and a file of what it takes opens with that many rows.
func FuzzWriteRowGroups(f *testing.F) {
	rs := synthetic(f, 40)
	for _, o := range []Options{{RowGroupRows: 30}, {Compression: "none", RowGroupRows: 1000}} {
		enc, err := NewRowGroupEncoder(o)
		if err != nil {
			f.Fatal(err)
		}
		enc.AppendRecords(rs[:20], 1)
		g, err := enc.Finish(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(g)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Options{})
		if err != nil {
			t.Fatal(err)
		}
		n, err := w.WriteRowGroups(data)
		if err != nil {
			if buf.Len() != 0 || n != 0 || w.Rows() != 0 {
				t.Fatalf("refused (%v) but wrote %d bytes, %d rows", err, buf.Len(), n)
			}
			return
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if pf.NumRows() != int64(n) {
			t.Fatalf("%d rows in the file, %d taken", pf.NumRows(), n)
		}
	})
}

// Encoded row groups with bytes changed at random (a deterministic
// stand-in for FuzzWriteRowGroups, which this machine runs slowly) are
// refused whole, or taken into a file that opens with the rows taken.
func TestWriteRowGroupsMutated(t *testing.T) {
	rs := synthetic(t, 40)
	enc, err := NewRowGroupEncoder(Options{RowGroupRows: 30})
	if err != nil {
		t.Fatal(err)
	}
	enc.AppendRecords(rs[:20], 1)
	g, err := enc.Finish(nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	taken := 0
	for i := range 2000 {
		d := append([]byte(nil), g...)
		for range 1 + i%4 {
			d[rng.IntN(len(d))] = byte(rng.IntN(256))
		}
		if i%5 == 0 {
			d = d[:rng.IntN(len(d))]
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, Options{})
		if err != nil {
			t.Fatal(err)
		}
		n, err := w.WriteRowGroups(d)
		if err != nil {
			if !errors.Is(err, ErrRowGroup) || buf.Len() != 0 || n != 0 {
				t.Fatalf("mutation %d: refused (%v) after writing %d bytes", i, err, buf.Len())
			}
			continue
		}
		taken++
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("mutation %d taken, file unreadable: %v", i, err)
		}
		if pf.NumRows() != int64(n) || n != 20 {
			t.Fatalf("mutation %d: %d rows in the file, %d taken", i, pf.NumRows(), n)
		}
	}
	t.Logf("%d of 2000 mutated row groups taken (changes in page bytes, not in the metadata)", taken)
}
