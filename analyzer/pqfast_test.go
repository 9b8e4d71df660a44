package analyzer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/lz4"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/delta"

	"github.com/nfkit/nfkit/flowparquet"
	"github.com/nfkit/nfkit/internal/testvec"
)

// pqViews are the views every Parquet layout must answer as the JSON lines
// do: connections, statistics (the column-batch path and the row path),
// timelines, filters on every kind of field, flow listings with the
// optional columns, aggregation and time ranges.
func pqViews(t *testing.T) []struct {
	name string
	cfg  Config
} {
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	return []struct {
		name string
		cfg  Config
	}{
		{"connections", Config{}},
		{"connections_json", Config{Output: "json"}},
		{"top_src", Config{StatKeys: []string{"src"}, Top: 10}},
		{"top_src_dst_packets", Config{StatKeys: []string{"src", "dst"}, By: "packets", Output: "csv"}},
		{"stats_all", Config{StatKeys: StatKeys, Top: 10}},
		{"top_ports_proto", Config{StatKeys: []string{"srcport", "dstport", "port", "proto"}, Output: "csv"}},
		{"ports_filter_timeline", Config{StatKeys: []string{"port", "dst"}, Filter: mustFilter(t, "proto udp or proto icmp or dst net 192.0.2.0/24"), Timeline: time.Hour}},
		{"ports_filter_rows", Config{StatKeys: []string{"srcport", "proto", "dstport"}, Filter: mustFilter(t, "tos > 0 or flags S or proto icmp")}},
		{"timeline", Config{Timeline: 24 * time.Hour}},
		{"timeline_top_src", Config{Timeline: time.Hour, StatKeys: []string{"src"}, Output: "csv"}},
		{"filter_timeline", Config{Filter: mustFilter(t, "dst port 443 or proto udp"), Timeline: 24 * time.Hour}},
		{"filter_top_src", Config{Filter: mustFilter(t, "not src net 192.0.2.0/24"), StatKeys: []string{"src"}, Output: "csv"}},
		{"filter_columns_top", Config{Filter: mustFilter(t, "(src port in [53 123] or dst port 443 or proto icmp or dst port 2048) and not router ip 127.0.0.9"), StatKeys: []string{"src", "dst"}}},
		{"filter_columns_timeline", Config{Filter: mustFilter(t, "(src as 64497 or dst as 64501 or ip in [192.0.2.10 2001:db8::/48] or inet6) and not proto udp").And(TimeFilter(1, t0+int64(365*24*time.Hour))), Timeline: time.Hour}},
		{"filter_optional", Config{Filter: mustFilter(t, "tos > 0 or in if 3 or flags S or src vlan 1 or src mask 24 or flowdir egress"), StatKeys: []string{"dst"}}},
		{"filter_mac", Config{Filter: mustFilter(t, "not mac 00:00:00:00:00:00"), StatKeys: []string{"srcas"}}},
		{"flows_columns", Config{Flows: true, Output: "csv", Columns: "start,end,srcaddr,dstaddr,srcport,dstport,proto,flows,packets,bytes,flags,tos,exporter,in,out,srcas,dstas,srcvlan,dstvlan,srcmac,dstmac,srcmask,dstmask,dir"}},
		{"aggregate", Config{Aggregate: []string{"srcip", "inif", "tos"}, Output: "csv"}},
		{"time_range", Config{Filter: TimeFilter(t0, t0+int64(24*time.Hour)), StatKeys: []string{"src"}, Timeline: time.Hour}},
	}
}

// runBoth runs cfg over the JSON lines and a Parquet file of the same
// flows and fails on any difference of output or counts.
func runBoth(t *testing.T, cfg Config, jsonFile, parquetFile string) {
	t.Helper()
	var outs, errs [2]string
	var sums [2]Summary
	for i, in := range []string{jsonFile, parquetFile} {
		c := cfg
		c.Inputs, c.Loc = []string{in}, time.UTC
		var stdout, stderr bytes.Buffer
		s, err := Run(c, &stdout, &stderr)
		if err != nil {
			t.Fatal(err)
		}
		outs[i], errs[i], sums[i] = stdout.String(), stderr.String(), s
	}
	if outs[0] != outs[1] {
		t.Errorf("JSON lines:\n%s\nParquet:\n%s", outs[0], outs[1])
	}
	if len(outs[0]) < 100 {
		t.Errorf("output too short to compare: %q", outs[0])
	}
	if sums[0] != sums[1] {
		t.Errorf("summaries differ:\nJSON    %+v\nParquet %+v\n%s", sums[0], sums[1], errs[1])
	}
	// The same messages, rows for lines (and the general reader named).
	e0 := strings.ReplaceAll(errs[0], jsonFile, "FILE")
	e1 := strings.ReplaceAll(strings.ReplaceAll(errs[1], parquetFile, "FILE"), "row skipped", "line skipped")
	if i := strings.Index(e1, "FILE: read by the general Parquet reader"); i >= 0 {
		e1 = e1[:i] + e1[i+strings.IndexByte(e1[i:], '\n')+1:]
	}
	if e0 != e1 {
		t.Errorf("messages differ:\nJSON:\n%s\nParquet:\n%s", e0, e1)
	}
}

// pqRows reads back the rows of an nfcollect Parquet file.
func pqRows(t testing.TB, name string) []flowparquet.Row {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	rows, err := parquet.Read[flowparquet.Row](f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// pqLayout is a way of writing the same rows.
type pqLayout struct {
	name    string
	opts    []parquet.WriterOption
	general bool // read by the general reader
	nulls   bool // has null values (an error)
}

func pqLayouts() []pqLayout {
	codecs := []struct {
		name  string
		codec compress.Codec
	}{{"none", &uncompressed.Codec{}}, {"snappy", &snappy.Codec{}}, {"gzip", &gzip.Codec{}}, {"zstd", &zstd.Codec{}}, {"lz4raw", &lz4.Codec{}}}
	var ls []pqLayout
	for _, c := range codecs {
		for _, v := range []int{1, 2} {
			ls = append(ls, pqLayout{name: c.name + "_v" + string(rune('0'+v)), opts: []parquet.WriterOption{parquet.Compression(c.codec), parquet.DataPageVersion(v)}})
		}
	}
	// Every column dictionary-encoded (both dictionary encodings), and
	// dictionaries that overflow into PLAIN pages within a chunk.
	ls = append(ls,
		pqLayout{name: "rle_dictionary_v1", opts: []parquet.WriterOption{parquet.DefaultEncoding(&parquet.RLEDictionary), parquet.DataPageVersion(1)}},
		pqLayout{name: "rle_dictionary_v2_snappy", opts: []parquet.WriterOption{parquet.DefaultEncoding(&parquet.RLEDictionary), parquet.DataPageVersion(2), parquet.Compression(&snappy.Codec{})}},
		pqLayout{name: "plain_dictionary", opts: []parquet.WriterOption{parquet.DefaultEncoding(&parquet.PlainDictionary)}},
		pqLayout{name: "dictionary_overflow", opts: []parquet.WriterOption{parquet.DefaultEncoding(&parquet.RLEDictionary), parquet.DictionaryMaxBytes(64), parquet.PageBufferSize(512)}},
		pqLayout{name: "small_pages", opts: []parquet.WriterOption{parquet.PageBufferSize(256), parquet.Compression(&zstd.Codec{})}},
		pqLayout{name: "no_statistics", opts: []parquet.WriterOption{parquet.SkipPageBounds("src_addr"), parquet.SkipPageBounds("bytes"), parquet.DataPageStatistics(false)}},
		// DELTA_BINARY_PACKED (DuckDB's times in Parquet v2).
		pqLayout{name: "delta", opts: []parquet.WriterOption{parquet.DefaultEncodingFor(parquet.Int64, &parquet.DeltaBinaryPacked), parquet.DefaultEncodingFor(parquet.Int32, &parquet.DeltaBinaryPacked)}},
		pqLayout{name: "delta_v2_small_pages", opts: []parquet.WriterOption{parquet.DefaultEncodingFor(parquet.Int64, &parquet.DeltaBinaryPacked),
			parquet.DefaultEncodingFor(parquet.Int32, &parquet.DeltaBinaryPacked), parquet.DataPageVersion(2), parquet.PageBufferSize(700)}},
		// Other writers' encodings go to the general reader.
		pqLayout{name: "byte_stream_split", opts: []parquet.WriterOption{parquet.DefaultEncodingFor(parquet.Int64, &parquet.ByteStreamSplit)}, general: true},
		// A column the analyzer does not read (other_fields) in another encoding.
		pqLayout{name: "delta_length_byte_array", opts: []parquet.WriterOption{parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.DeltaLengthByteArray)}},
	)
	// OPTIONAL columns without nulls, as DuckDB and Spark write them
	// (parquet-go writes the zero value of an optional field as null: these
	// columns have none).
	var optional []parquet.WriterOption
	for _, f := range reflect.VisibleFields(reflect.TypeFor[flowparquet.Row]()) {
		tag := f.Tag.Get("parquet")
		switch name, _, _ := strings.Cut(tag, ","); name {
		case "type", "time_received_ns", "sampler_address", "src_addr", "dst_addr", "present":
			optional = append(optional, parquet.StructTag(reflect.StructTag(`parquet:"`+tag+`,optional"`), f.Name))
		}
	}
	ls = append(ls, pqLayout{name: "optional_nulls", opts: append([]parquet.WriterOption{
		parquet.StructTag(`parquet:"bytes,optional"`, "Bytes")}, optional...), nulls: true})
	for _, v := range []int{1, 2} {
		ls = append(ls, pqLayout{name: "optional_v" + string(rune('0'+v)), opts: append([]parquet.WriterOption{parquet.DataPageVersion(v)}, optional...)})
	}
	return ls
}

// writeLayout writes rows as one Parquet file of the layout, in row groups
// of 300 rows.
func writeLayout(t testing.TB, name string, rows []flowparquet.Row, l pqLayout) {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[flowparquet.Row](&buf, append([]parquet.WriterOption{parquet.MaxRowsPerRowGroup(300)}, l.opts...)...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Files of every encoding, codec and page version nfcollect's writer may
// use, and OPTIONAL columns, are read by the fast reader and give what the
// JSON lines give in every view; other writers' encodings go to the
// general reader and give the same.
func TestParquetLayouts(t *testing.T) {
	jsonFile, parquetFile := bothFormats(t)
	rows := pqRows(t, parquetFile)
	dir := t.TempDir()
	for _, l := range pqLayouts() {
		t.Run(l.name, func(t *testing.T) {
			name := filepath.Join(dir, l.name+".parquet")
			writeLayout(t, name, rows, l)
			var p pqFile
			var use [pcN]bool
			for c := range pcN {
				use[c] = true
			}
			f, err := os.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, _ := f.Stat()
			err = pqOpen(&p, f, st.Size(), &use)
			var gen *errPqGeneral
			switch {
			case l.general && !errors.As(err, &gen):
				t.Fatalf("fast reader took the file: %v", err)
			case !l.general && err != nil:
				t.Fatalf("fast reader refused the file: %v", err)
			}
			if l.nulls {
				var stdout, stderr bytes.Buffer
				s, err := Run(Config{Inputs: []string{name}, StatKeys: []string{"src"}}, &stdout, &stderr)
				if err != nil {
					t.Fatal(err)
				}
				if s.FilesPartial+s.FilesFailed != 1 || !strings.Contains(stderr.String(), "column bytes: ") || !strings.Contains(stderr.String(), "null values") {
					t.Errorf("%+v\n%s", s, stderr.String())
				}
				return
			}
			for _, v := range pqViews(t) {
				t.Run(v.name, func(t *testing.T) { runBoth(t, v.cfg, jsonFile, name) })
			}
		})
	}
}

// The views of pqViews on nfcollect's own files (its writer's defaults).
func TestParquetViews(t *testing.T) {
	jsonFile, parquetFile := bothFormats(t)
	for _, v := range pqViews(t) {
		t.Run(v.name, func(t *testing.T) { runBoth(t, v.cfg, jsonFile, parquetFile) })
	}
}

// Row groups whose address statistics lie outside a filter's addresses
// are skipped (and counted as read), with the results of the JSON lines.
func TestParquetSkipsByAddress(t *testing.T) {
	jsonFile, parquetFile := bothFormats(t)
	var total int64
	for _, expr := range []string{"src net 192.0.2.0/24", "dst host 2001:db8::1 or src net 203.0.113.0/24", "not src net 0.0.0.0/0", "src net 10.0.0.0/8 and proto tcp"} {
		for _, cfg := range []Config{{StatKeys: []string{"src"}}, {Timeline: time.Hour}, {StatKeys: []string{"proto", "dst"}}} {
			cfg.Filter = mustFilter(t, expr)
			var outs [2]string
			var sums [2]Summary
			var skipped int64
			for i, in := range []string{jsonFile, parquetFile} {
				cfg.Inputs, cfg.Loc = []string{in}, time.UTC
				var stdout, stderr bytes.Buffer
				a := &run{cfg: cfg, stderr: &stderr}
				s, err := a.run(&stdout)
				if err != nil {
					t.Fatal(err)
				}
				outs[i], sums[i] = stdout.String(), s
				if i == 1 {
					skipped = a.parquetSkipped
				}
			}
			if outs[0] != outs[1] || sums[0] != sums[1] {
				t.Errorf("%s: JSON lines:\n%s\n%+v\nParquet:\n%s\n%+v", expr, outs[0], sums[0], outs[1], sums[1])
			}
			total += skipped
			t.Logf("%s: %d of %d rows skipped", expr, skipped, sums[1].Lines)
		}
	}
	if total == 0 {
		t.Error("no row group skipped by its address statistics")
	}
}

func TestPrefixRange(t *testing.T) {
	for _, c := range []struct{ p, lo, hi string }{
		{"192.0.2.0/24", "::ffff:192.0.2.0", "::ffff:192.0.2.255"},
		{"0.0.0.0/0", "::ffff:0.0.0.0", "::ffff:255.255.255.255"},
		{"2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"},
		{"10.1.2.3/32", "::ffff:10.1.2.3", "::ffff:10.1.2.3"},
	} {
		lo, hi := prefixRange(mustPrefix(t, c.p))
		if want := mustAddr16(t, c.lo); lo != want {
			t.Errorf("%s: lo %x, want %x", c.p, lo, want)
		}
		if want := mustAddr16(t, c.hi); hi != want {
			t.Errorf("%s: hi %x, want %x", c.p, hi, want)
		}
	}
}

// A filter over IPv6 prefixes is never "always" true for a row group of
// IPv4 flows (stored IPv4-mapped), so that "not" of it skips nothing.
func TestAddrTruthFamilies(t *testing.T) {
	v4 := addrRange{lo: mustAddr16(t, "::ffff:10.0.0.1"), hi: mustAddr16(t, "::ffff:10.0.0.9"), ok: true}
	for _, c := range []struct {
		expr string
		want truth
	}{
		{"src net ::/0", maybe},
		{"not src net ::/0", maybe},
		{"src net 10.0.0.0/8", always},
		{"not src net 10.0.0.0/8", never},
		{"src net 10.0.0.5/32", maybe},
		{"src host 10.0.0.10", never},
		{"src net 2001:db8::/32", never},
		{"dst net 10.0.0.0/8", maybe},
		{"src net 10.0.0.0/8 and dst net 10.0.0.0/8", maybe},
		{"src net 11.0.0.0/8 and dst net 10.0.0.0/8", never},
		{"src net 11.0.0.0/8 or proto tcp", maybe},
	} {
		fl := mustFilter(t, c.expr)
		var none addrRange
		if got := nodeTruth(fl.n, &v4, &none); got != c.want {
			t.Errorf("%s: %d, want %d", c.expr, got, c.want)
		}
	}
}

// pqDamage are ways of damaging a file: each must give a message naming
// the problem and never a panic.
func pqDamage(b []byte) map[string][]byte {
	out := map[string][]byte{}
	flen := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
	footer := len(b) - 8 - flen
	mod := func(name string, f func(c []byte)) {
		c := bytes.Clone(b)
		f(c)
		out[name] = c
	}
	mod("footer_length_huge", func(c []byte) { binary.LittleEndian.PutUint32(c[len(c)-8:], 1<<31) })
	mod("footer_length_short", func(c []byte) { binary.LittleEndian.PutUint32(c[len(c)-8:], uint32(flen/2)) })
	mod("footer_garbage", func(c []byte) {
		for i := footer; i < len(c)-8; i += 7 {
			c[i] ^= 0x5a
		}
	})
	mod("footer_list_count", func(c []byte) {
		// The schema's list header: a count far beyond the footer.
		for i := footer; i < len(c)-8; i++ {
			if c[i] == 0x19 && c[i+1]&0x0f == tcStruct {
				c[i+1] = 0xfc
				c[i+2], c[i+3], c[i+4], c[i+5] = 0xff, 0xff, 0xff, 0x07
				return
			}
		}
	})
	mod("pages_zeroed", func(c []byte) { clear(c[4:footer]) })
	mod("pages_scrambled", func(c []byte) {
		for i := 4; i < footer; i += 13 {
			c[i] ^= 0xa5
		}
	})
	out["cut_in_pages"] = append(bytes.Clone(b[:footer/2]), b[footer:]...)
	return out
}

// Damaged files of every layout are reported with a message, never a
// panic, a hang or a huge allocation; what was read before the damage
// counts.
func TestParquetDamaged(t *testing.T) {
	_, parquetFile := bothFormats(t)
	rows := pqRows(t, parquetFile)
	dir := t.TempDir()
	for _, l := range pqLayouts() {
		name := filepath.Join(dir, l.name+".parquet")
		writeLayout(t, name, rows, l)
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for dname, d := range pqDamage(b) {
			bad := filepath.Join(dir, "bad.parquet")
			if err := os.WriteFile(bad, d, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, cfg := range []Config{{StatKeys: []string{"src"}}, {Timeline: time.Hour}, {}} {
				cfg.Inputs = []string{bad}
				var stdout, stderr bytes.Buffer
				s, err := Run(cfg, &stdout, &stderr)
				if err != nil {
					t.Fatal(err)
				}
				if !s.Skipped() && !strings.Contains(dname, "scrambled") {
					t.Errorf("%s %s: nothing reported: %+v", l.name, dname, s)
				}
				if s.Skipped() && !strings.Contains(stderr.String(), "bad.parquet") {
					t.Errorf("%s %s: message without the file name: %s", l.name, dname, stderr.String())
				}
			}
		}
	}
}

// Reading a row group's batches allocates nothing once the buffers have
// grown: decompression, decoding and counting by column batches.
func TestParquetReadAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	_, parquetFile := bothFormats(t)
	dict := filepath.Join(t.TempDir(), "dict.parquet")
	writeLayout(t, dict, pqRows(t, parquetFile), layoutNamed(t, "rle_dictionary_v1"))
	for _, name := range []string{parquetFile, dict} {
		testReadAllocs(t, name)
	}
}

func testReadAllocs(t *testing.T, name string) {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	for _, cfg := range []Config{{StatKeys: []string{"src", "dst"}}, {Timeline: time.Hour}, {StatKeys: []string{"port", "proto"}}} {
		a := &run{cfg: cfg, stderr: &bytes.Buffer{}}
		if err := a.cfg.check(); err != nil {
			t.Fatal(err)
		}
		for _, k := range cfg.StatKeys {
			a.stats = append(a.stats, newStatTable(k))
		}
		if cfg.Timeline > 0 {
			a.timeline = newTimeline(cfg.Timeline)
		}
		use := [pcN]bool{pcPresent: true, pcBytes: true, pcPackets: true, pcOutBytes: true, pcOutPackets: true, pcRevBytes: true,
			pcRevPackets: true, pcFlows: true, pcSrc: true, pcDst: true, pcStart: true, pcEnd: true, pcReceived: true,
			pcSrcPort: true, pcDstPort: true, pcICMPType: true, pcICMPCode: true, pcProto: true}
		p := &pqFile{}
		if err := pqOpen(p, f, st.Size(), &use); err != nil {
			t.Fatal(err)
		}
		p.lazy[pcEnd], p.lazy[pcReceived] = cfg.Timeline > 0, cfg.Timeline > 0
		ag := a.pqAgg()
		for _, c := range ag.keyCol {
			if c >= 0 {
				p.keyed[c] = true
			}
		}
		in := &inputState{a: a, name: "x", lr: &lineReader{}}
		readAll := func() {
			for g := range p.meta.groups {
				if err := p.beginGroup(g); err != nil {
					t.Fatal(err)
				}
				ag.foldAll(p)
				for left := p.group.numRows; left > 0; {
					n, err := p.read(int(min(left, pqBatch)))
					if err != nil {
						t.Fatal(err)
					}
					if err := ag.batch(a, in, p, n); err != nil {
						t.Fatal(err)
					}
					left -= int64(n)
				}
			}
		}
		readAll()
		if n := testing.AllocsPerRun(5, readAll); n != 0 {
			t.Errorf("%s %+v: %.1f allocations per reading of the file", filepath.Base(name), cfg, n)
		}
		p.dec.close()
	}
}

func mustPrefix(t testing.TB, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustAddr16(t testing.TB, s string) [16]byte {
	t.Helper()
	return netip.MustParseAddr(s).As16()
}

// Rows without a source or destination address are bad lines with the
// same messages and counts as the JSON lines without them, in every view
// (the column batches count the others).
func TestParquetRowsWithoutAddresses(t *testing.T) {
	jsonFile, parquetFile := bothFormats(t)
	rows := pqRows(t, parquetFile)
	lines, err := os.ReadFile(jsonFile)
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for i, line := range bytes.SplitAfter(lines, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		key := ""
		switch i % 7 {
		case 3:
			key, rows[i].Present = "src_addr", rows[i].Present&^flowparquet.HasSrcAddr
			rows[i].SrcAddr, rows[i].SrcAddrFamily = [16]byte{}, 0
		case 5:
			key, rows[i].Present = "dst_addr", rows[i].Present&^flowparquet.HasDstAddr
			rows[i].DstAddr, rows[i].DstAddrFamily = [16]byte{}, 0
		}
		if key != "" {
			j := bytes.Index(line, []byte(`"`+key+`":"`))
			k := bytes.IndexByte(line[j+len(key)+4:], '"')
			line = append(bytes.Clone(line[:j]), line[j+len(key)+4+k+2:]...)
		}
		out = append(out, line...)
	}
	dir := t.TempDir()
	jsonFile, parquetFile = filepath.Join(dir, "flows.jsonl"), filepath.Join(dir, "flows.parquet")
	if err := os.WriteFile(jsonFile, out, 0o644); err != nil {
		t.Fatal(err)
	}
	views := pqViews(t)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	views = append(views, []struct {
		name string
		cfg  Config
	}{
		{"skip_by_time", Config{StatKeys: []string{"src", "dst"}, Filter: TimeFilter(t0, t0+int64(24*time.Hour))}},
		{"skip_by_time_proto", Config{StatKeys: []string{"proto"}, Filter: TimeFilter(0, t0).And(mustFilter(t, "proto udp"))}},
		{"skip_by_address", Config{StatKeys: []string{"src"}, Filter: mustFilter(t, "not src net 0.0.0.0/0")}},
	}...)
	for _, l := range []pqLayout{{name: "default"}, layoutNamed(t, "byte_stream_split")} {
		writeLayout(t, parquetFile, rows, l)
		for _, v := range views {
			t.Run(l.name+"/"+v.name, func(t *testing.T) {
				v.cfg.Verbose = true
				runBoth(t, v.cfg, jsonFile, parquetFile)
			})
		}
	}
}

// A mapped Parquet file that shrinks while it is read (a fault in the
// mapping) is reported as such, not a crash; the same file read with
// ReadAt reads the same flows.
func TestParquetMappedShrinks(t *testing.T) {
	jsonFile, parquetFile := bothFormats(t)
	b, err := os.ReadFile(parquetFile)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "shrinks.parquet")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stderr bytes.Buffer
	a := &run{cfg: Config{StatKeys: []string{"src"}}, stderr: &stderr}
	if err := a.cfg.check(); err != nil {
		t.Fatal(err)
	}
	a.stats = []*statTable{newStatTable("src")}
	p := &pqFile{}
	use := [pcN]bool{pcPresent: true, pcType: true, pcBytes: true, pcPackets: true, pcOutBytes: true, pcOutPackets: true,
		pcRevBytes: true, pcRevPackets: true, pcFlows: true, pcSrc: true}
	if err := pqOpen(p, f, int64(len(b)), &use); err != nil {
		t.Fatal(err)
	}
	p.mem = mapFile(f, int64(len(b)))
	if p.mem == nil {
		t.Skip("no mapping on this system")
	}
	defer unmapFile(p.mem)
	if err := os.Truncate(name, 4096); err != nil {
		t.Fatal(err)
	}
	in := &inputState{a: a, name: name, lr: &lineReader{}}
	if err := a.pqGroups(in, p, a.pqAgg()); !errors.Is(err, errShrank) {
		t.Errorf("got %v, want %v", err, errShrank)
	}
	// The whole file, mapped and unchanged: as the JSON lines.
	runBoth(t, Config{StatKeys: []string{"src"}}, jsonFile, parquetFile)
}

func layoutNamed(t testing.TB, name string) pqLayout {
	for _, l := range pqLayouts() {
		if l.name == name {
			return l
		}
	}
	t.Fatalf("no layout %s", name)
	return pqLayout{}
}

// DuckDB's copies of an nfcollect file (COPY … TO … (FORMAT parquet): its
// own encodings, DELTA_BINARY_PACKED times in Parquet v2, OPTIONAL columns,
// addresses as BLOBs, times in microseconds) are read as the JSON lines
// are. DuckDB's
// microsecond times drop the nanoseconds, so the views compared here do not
// depend on them below a second (the connection view pairs flows by their
// times to the nanosecond).
func TestParquetDuckDB(t *testing.T) {
	dir := filepath.Join(testvec.Root(), "scripts", "duckdb")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api"))
	}
	if err != nil {
		msg := "DUCKDB CHECKS SKIPPED: DuckDB's Parquet files are NOT read (" + err.Error() + "); run `npm install` in scripts/duckdb (make duckdb does)"
		fmt.Fprintln(os.Stderr, "!!!", msg)
		t.Skip(msg)
	}
	jsonFile, parquetFile := bothFormats(t)
	tmp := t.TempDir()
	for _, opts := range []string{"", "COMPRESSION zstd", "COMPRESSION uncompressed, ROW_GROUP_SIZE 500", "PARQUET_VERSION v2", "COMPRESSION lz4"} {
		name := filepath.Join(tmp, "duck.parquet")
		sql := fmt.Sprintf("COPY (SELECT * FROM '%s') TO '%s' (FORMAT parquet", parquetFile, name)
		if opts != "" {
			sql += ", " + opts
		}
		cmd := exec.Command(node, filepath.Join(dir, "query.mjs"), sql+")")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", sql, err, out)
		}
		for _, cfg := range []Config{{StatKeys: []string{"src", "dst", "proto"}}, {Timeline: time.Hour, Filter: mustFilter(t, "proto tcp")},
			{Flows: true, Output: "csv", Columns: "srcaddr,dstaddr,srcport,dstport,proto,packets,bytes,tos,srcmac"}} {
			var outs [2]string
			var sums [2]Summary
			var stderr bytes.Buffer
			for i, in := range []string{jsonFile, name} {
				c := cfg
				c.Inputs, c.Loc = []string{in}, time.UTC
				var stdout bytes.Buffer
				stderr.Reset()
				s, err := Run(c, &stdout, &stderr)
				if err != nil {
					t.Fatal(err)
				}
				outs[i], sums[i] = stdout.String(), s
			}
			switch {
			case sums[1].Skipped():
				t.Errorf("%s: refused: %s", opts, strings.TrimSpace(stderr.String()))
			case outs[0] != outs[1] || sums[0] != sums[1]:
				t.Errorf("%s %+v: JSON lines:\n%s\nDuckDB's Parquet:\n%s", opts, cfg, outs[0], outs[1])
			}
		}
	}
}

// DELTA_BINARY_PACKED pages decode to what parquet-go encoded: random,
// extreme (wrapping) and constant sequences of both widths, of lengths
// around the block and miniblock sizes; cut pages give an error or the
// same values.
func TestDecodeDelta(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var buf []uint64
	for _, n := range []int{1, 2, 31, 32, 33, 127, 128, 129, 1000, 4097} {
		for kind := range 4 {
			v := make([]int64, n)
			for i := range v {
				switch kind {
				case 0:
					v[i] = r.Int64N(1 << 40)
				case 1:
					v[i] = []int64{math.MinInt64, math.MaxInt64, 0, -1}[r.IntN(4)]
				case 2:
					v[i] = 42
				case 3:
					v[i] = int64(int32(r.Uint32()))
				}
			}
			var enc delta.BinaryPackedEncoding
			b64, err := enc.EncodeInt64(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			var out []byte
			if out, buf, err = decodeDelta(b64, n, 8, buf); err != nil {
				t.Fatalf("n %d kind %d: %v", n, kind, err)
			}
			for i := range v {
				if got := int64(binary.LittleEndian.Uint64(out[8*i:])); got != v[i] {
					t.Fatalf("n %d kind %d: value %d is %d, want %d", n, kind, i, got, v[i])
				}
			}
			v32 := make([]int32, n)
			for i := range v {
				v32[i] = int32(v[i])
			}
			b32, err := enc.EncodeInt32(nil, v32)
			if err != nil {
				t.Fatal(err)
			}
			if out, buf, err = decodeDelta(b32, n, 4, buf); err != nil {
				t.Fatalf("int32 n %d kind %d: %v", n, kind, err)
			}
			for i := range v32 {
				if got := int32(binary.LittleEndian.Uint32(out[4*i:])); got != v32[i] {
					t.Fatalf("int32 n %d kind %d: value %d is %d, want %d", n, kind, i, got, v32[i])
				}
			}
			// Cut short: an error, or the same values (the padding after
			// the last value is not needed), never others.
			for cut := 1; cut < len(b64); cut += 1 + len(b64)/7 {
				out, _, err := decodeDelta(b64[:cut], n, 8, nil)
				if err != nil {
					continue
				}
				for i := range v {
					if got := int64(binary.LittleEndian.Uint64(out[8*i:])); got != v[i] {
						t.Fatalf("n %d kind %d: cut to %d of %d bytes, value %d is %d, want %d", n, kind, cut, len(b64), i, got, v[i])
					}
				}
			}
		}
	}
	if _, _, err := decodeDelta([]byte{0x80, 0x01, 0x04, 0xff, 0xff, 0xff, 0xff, 0x0f, 0}, 1<<30, 8, nil); err == nil {
		t.Error("a page of 2^30 values decoded")
	}
}
