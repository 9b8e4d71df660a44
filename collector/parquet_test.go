package collector

import (
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowparquet"
)

// parquetRows returns a row group of the benchmark packet's 25 flows, as a
// worker's Batcher encodes it.
func parquetRows(t testing.TB) []byte {
	s := &ParquetSink{log: slog.New(slog.DiscardHandler)}
	b, err := s.NewBatcher()
	if err != nil {
		t.Fatal(err)
	}
	if !b.Append(&Export{Packet: benchPacket(t), Received: 1700000000123456789}) {
		t.Fatal("no records appended")
	}
	out := b.Flush()
	if out == nil {
		t.Fatal("no row group")
	}
	return append([]byte(nil), out...)
}

// parquetCount opens a complete file and returns its number of rows.
func parquetCount(t *testing.T, name string) int64 {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return pf.NumRows()
}

// dirNames returns the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

// Rotated files are written under a hidden temporary name and appear under
// the name of their interval only once complete (readable).
func TestParquetSinkRotates(t *testing.T) {
	dir := t.TempDir()
	s, err := NewParquetSink(ParquetConfig{Dir: dir, Interval: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := parquetRows(t)
	t0 := time.Date(2026, 12, 2, 7, 0, 10, 0, time.UTC)
	for _, at := range []time.Duration{0, 30 * time.Second} {
		if err := s.Write(Chunk{Data: rows, Records: 25, Time: t0.Add(at)}); err != nil {
			t.Fatal(err)
		}
	}
	names := dirNames(t, dir)
	if len(names) != 1 || !strings.HasPrefix(names[0], ".nfcollect.202612020700.parquet.") || !strings.HasSuffix(names[0], ".incomplete") {
		t.Fatalf("while writing: %v, want one hidden .incomplete file", names)
	}
	if err := s.Write(Chunk{Data: rows, Records: 25, Time: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if got := parquetCount(t, filepath.Join(dir, "nfcollect.202612020700.parquet")); got != 50 {
		t.Errorf("first file: %d rows, want 50", got)
	}
	if err := s.Tick(t0.Add(90 * time.Second)); err != nil { // 07:01:40: the second interval goes on
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nfcollect.202612020701.parquet")); err == nil {
		t.Fatal("second file completed before its interval ended")
	}
	if err := s.Tick(t0.Add(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := parquetCount(t, filepath.Join(dir, "nfcollect.202612020701.parquet")); got != 25 {
		t.Errorf("second file: %d rows, want 25", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := dirNames(t, dir); !slices.Equal(got, []string{"nfcollect.202612020700.parquet", "nfcollect.202612020701.parquet"}) {
		t.Errorf("files %v", got)
	}
	for name, want := range map[string]float64{"nfcollect_parquet_files_total": 2, "nfcollect_parquet_row_groups_total": 3,
		"nfcollect_parquet_unfinished_files": 0, "nfcollect_parquet_abandoned_files_total": 0} {
		if got := sinkMetric(s, name); got != want {
			t.Errorf("%s %v, want %v", name, got, want)
		}
	}
}

// sinkMetric returns the value of a sink's metric, or -1.
func sinkMetric(s MetricsSink, name string) float64 {
	for _, m := range s.SinkMetrics() {
		if m.Name == name {
			return m.Value
		}
	}
	return -1
}

// One file (-o) is complete at Close; a second run, or a rotation, never
// replaces a complete file but writes beside it.
func TestParquetSinkSingleFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.parquet")
	rows := parquetRows(t)
	for run := range 2 {
		s, err := NewParquetSink(ParquetConfig{Path: path, Compression: "lz4"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range run + 1 {
			if err := s.Write(Chunk{Data: rows, Records: 25, Time: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		if run == 1 {
			if err := s.Rotate(time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(Chunk{Data: rows, Records: 25, Time: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]int64{"flows.parquet": 25, "flows.1.parquet": 50, "flows.2.parquet": 25}
	if got := dirNames(t, dir); len(got) != len(want) {
		t.Fatalf("files %v", got)
	}
	for name, n := range want {
		if got := parquetCount(t, filepath.Join(dir, name)); got != n {
			t.Errorf("%s: %d rows, want %d", name, got, n)
		}
	}
}

// Files a crash left unfinished are counted and reported at start and
// kept; a JSON RotateSink in the same directory leaves them alone too.
func TestParquetSinkUnfinished(t *testing.T) {
	dir := t.TempDir()
	left := filepath.Join(dir, ".nfcollect.202612020700.parquet.0123456789abcdef.incomplete")
	content := []byte("PAR1 row groups without a footer")
	if err := os.WriteFile(left, content, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	s, err := NewParquetSink(ParquetConfig{Dir: dir, Interval: time.Minute}, newTestLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Unfinished(); !slices.Equal(got, []string{left}) {
		t.Errorf("Unfinished() = %v", got)
	}
	if !strings.Contains(logs.String(), "unfinished") || !strings.Contains(logs.String(), left) {
		t.Errorf("not reported: %s", logs.String())
	}
	if got := sinkMetric(s, "nfcollect_parquet_unfinished_files"); got != 1 {
		t.Errorf("nfcollect_parquet_unfinished_files %v, want 1", got)
	}
	if got := sinkMetric(s, "nfcollect_parquet_unfinished_bytes"); got != float64(len(content)) {
		t.Errorf("nfcollect_parquet_unfinished_bytes %v, want %d", got, len(content))
	}
	if _, err := NewRotateSink(RotateConfig{Dir: dir, Interval: time.Minute, Codec: Gzip}, nil); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(left); err != nil || string(b) != string(content) {
		t.Errorf("unfinished file changed: %q, %v", b, err)
	}
	s.Close()
}

// A chunk that is not whole row groups is refused; the file stays whole and
// keeps the other chunks.
func TestParquetSinkRefusesCorrupt(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.parquet")
	s, err := NewParquetSink(ParquetConfig{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := parquetRows(t)
	if err := s.Write(Chunk{Data: rows, Records: 25}); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(Chunk{Data: rows[:len(rows)-3], Records: 25}); !errors.Is(err, flowparquet.ErrRowGroup) {
		t.Errorf("truncated chunk: %v, want ErrRowGroup", err)
	}
	if err := s.Write(Chunk{Records: 25}); err == nil {
		t.Error("a chunk of records without data was taken")
	}
	if err := s.Write(Chunk{Data: rows, Records: 25}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := parquetCount(t, path); got != 50 {
		t.Errorf("%d rows, want 50", got)
	}
}

// A file that cannot be completed (its descriptor failing) is reported,
// left under its temporary name, and the next run counts it.
func TestParquetSinkFailedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.parquet")
	s, err := NewParquetSink(ParquetConfig{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(Chunk{Data: parquetRows(t), Records: 25}); err != nil {
		t.Fatal(err)
	}
	s.f.Close() // the disk goes away
	if err := s.Close(); err == nil {
		t.Fatal("Close succeeded on a failed file")
	}
	if got := sinkMetric(s, "nfcollect_parquet_abandoned_files_total"); got != 1 {
		t.Errorf("nfcollect_parquet_abandoned_files_total %v, want 1", got)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("an unreadable file was put in place")
	}
	s2, err := NewParquetSink(ParquetConfig{Path: path}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s2.Unfinished()); n != 1 {
		t.Errorf("%d unfinished files, want 1", n)
	}
	s2.Close()
}

func TestParquetSinkConfig(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []ParquetConfig{
		{},
		{Path: filepath.Join(dir, "a.parquet"), Dir: dir, Interval: time.Minute},
		{Path: filepath.Join(dir, "a.parquet"), Compression: "brotli"},
	} {
		if _, err := NewParquetSink(c, nil); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
}

// Encoding a packet's rows allocates nothing.
func TestParquetEncodeAllocs(t *testing.T) {
	e := &Export{Packet: benchPacket(t), Received: 1700000000123456789}
	buf := ParquetRows{}.AppendPacket(nil, e)
	if n := testing.AllocsPerRun(100, func() { buf = ParquetRows{}.AppendPacket(buf[:0], e) }); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}

// A worker's Batcher allocates nothing per packet within a block of rows,
// and (almost) nothing per row over many blocks and row groups, once its
// buffers have grown: what allocates is per page (a few per 8192 rows of
// a column) and per row group.
func TestParquetBatcherAllocs(t *testing.T) {
	s := &ParquetSink{cfg: ParquetConfig{RowGroupRows: 100000}, log: slog.New(slog.DiscardHandler)}
	b, err := s.NewBatcher()
	if err != nil {
		t.Fatal(err)
	}
	e := &Export{Packet: benchPacket(t), Received: 1700000000123456789}
	for range 2 { // grow every buffer: two row groups
		for !b.Full() {
			b.Append(e)
		}
		b.Flush()
	}
	if n := testing.AllocsPerRun(100, func() { b.Append(e) }); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
	b.Flush()
	const packets = 8000 // 200000 rows: 2 row groups
	n := testing.AllocsPerRun(1, func() {
		for range packets {
			b.Append(e)
			if b.Full() {
				b.Flush()
			}
		}
	})
	if perRow := n / (packets * 25); perRow > 0.01 {
		t.Errorf("%v allocations for %d rows, want (almost) none per row", n, packets*25)
	}
	t.Logf("%v allocations per %d rows", n, packets*25)
}

// BenchmarkEncodeFormats measures the per-flow cost of each output format
// on the same records, as the workers and the output make them: JSON
// lines in 1 MiB chunks compressed by a worker's framer; Parquet row
// groups encoded by a worker's Batcher (in parallel across workers), then
// appended to a file by the output's goroutine (serial, included here). Besides ns/flow it reports cpu-ns/flow, the
// process's CPU time (getrusage) per flow, which a machine busy with other
// work inflates less than the elapsed time.
func BenchmarkEncodeFormats(b *testing.B) {
	encodeFormats(b, []*Export{{Packet: benchPacket(b), Received: 1700000000123456789}})
}

// BenchmarkEncodeFormatsVaried is BenchmarkEncodeFormats on records that
// do not repeat: 4096 packets of the benchmark packet's 25 flows, each
// flow with its own addresses (from 65536 sources, 16384 destinations,
// 256 next hops), ports, counters, times and interfaces, encoded in turn
// (102400 distinct records, the row groups' dictionaries filling up).
func BenchmarkEncodeFormatsVaried(b *testing.B) {
	base := benchPacket(b)
	rng := rand.New(rand.NewPCG(15, 5))
	exports := make([]*Export, 4096)
	t0 := int64(1700000000123456789)
	for i := range exports {
		p := &decode.Packet{Version: base.Version, Records: slices.Clone(base.Records)}
		for j := range p.Records {
			r := &p.Records[j]
			r.SrcAddr = netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			r.DstAddr = netip.AddrFrom4([4]byte{172, 16, byte(rng.IntN(64)), byte(rng.IntN(256))})
			r.NextHop = netip.AddrFrom4([4]byte{192, 0, 2, byte(rng.IntN(256))})
			r.SrcPort, r.DstPort = uint16(rng.IntN(65536)), uint16(rng.IntN(1024))
			r.Packets = uint64(1 + rng.ExpFloat64()*20)
			r.Bytes = r.Packets * uint64(40+rng.IntN(1460))
			r.End = t0 + int64(i)*1e6 - rng.Int64N(1e9)
			r.Start = r.End - rng.Int64N(60e9)
			r.InIf, r.OutIf = uint32(rng.IntN(64)), uint32(rng.IntN(64))
			r.SrcAS, r.DstAS = uint32(64496+rng.IntN(1024)), uint32(64496+rng.IntN(1024))
			r.TCPFlags = uint16(rng.IntN(64))
		}
		exports[i] = &Export{Packet: p, Received: t0 + int64(i)*1e6}
	}
	encodeFormats(b, exports)
}

// encodeFormats runs a sub-benchmark per output format, each encoding the
// exports in turn.
func encodeFormats(b *testing.B, exports []*Export) {
	n := len(exports[0].Packet.Records)
	type format struct {
		name  string
		enc   Encoder
		write func([]byte) error
	}
	var formats []format
	for _, c := range []Codec{Gzip, Zstd} {
		z, err := newFramer(c)
		if err != nil {
			b.Fatal(err)
		}
		formats = append(formats, format{"json+" + strings.TrimPrefix(c.Ext(), "."), JSONLines{}, func(buf []byte) error { z.Frame(buf); return nil }})
	}
	type batchFormat struct {
		name string
		b    Batcher
		w    *flowparquet.Writer
	}
	var batchers []batchFormat
	for _, c := range []flowparquet.Compression{"zstd", "lz4", "snappy"} {
		s := &ParquetSink{cfg: ParquetConfig{Compression: c}, log: slog.New(slog.DiscardHandler)}
		bt, err := s.NewBatcher()
		if err != nil {
			b.Fatal(err)
		}
		w, err := flowparquet.NewWriter(io.Discard, flowparquet.Options{Compression: c})
		if err != nil {
			b.Fatal(err)
		}
		batchers = append(batchers, batchFormat{"parquet+" + string(c), bt, w})
	}
	for _, f := range formats {
		b.Run(f.name, func(b *testing.B) {
			var buf []byte
			flows, k := 0, 0
			cpu0 := cpuTime()
			b.ReportAllocs()
			for b.Loop() {
				buf = f.enc.AppendPacket(buf, exports[k])
				k = (k + 1) % len(exports)
				flows += n
				if len(buf) >= 1<<20 {
					if err := f.write(buf); err != nil {
						b.Fatal(err)
					}
					buf = buf[:0]
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(flows), "ns/flow")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(flows), "cpu-ns/flow")
		})
	}
	for _, f := range batchers {
		b.Run(f.name, func(b *testing.B) {
			flows, k := 0, 0
			cpu0 := cpuTime()
			b.ReportAllocs()
			for b.Loop() {
				f.b.Append(exports[k])
				k = (k + 1) % len(exports)
				flows += n
				if f.b.Full() {
					if _, err := f.w.WriteRowGroups(f.b.Flush()); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(flows), "ns/flow")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(flows), "cpu-ns/flow")
		})
	}
}

// cpuTime returns the process's user and system CPU time, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// newTestLogger logs as text to w.
func newTestLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// A file whose directory is removed while it is written is put back,
// complete, when it is completed: no rows are lost.
func TestParquetSinkDirRemoved(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "flows")
	s, err := NewParquetSink(ParquetConfig{Dir: dir, Interval: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 2, 7, 0, 0, 0, time.UTC)
	if err := s.Write(Chunk{Data: parquetRows(t), Records: 25, Time: t0}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(Chunk{Data: parquetRows(t), Records: 25, Time: t0.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := parquetCount(t, filepath.Join(dir, "nfcollect.202612020700.parquet")); got != 50 {
		t.Errorf("%d rows, want 50", got)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Errorf("files %v, want the one file", names)
	}
}
