package analyzer

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
	"github.com/nfkit/nfkit/flowparquet"
	"github.com/nfkit/nfkit/internal/testvec"
)

// bothFormats writes the records of the testdata captures as JSON lines
// and as one Parquet file, as nfcollect would (capture time as the receive
// time), and returns the two files.
func bothFormats(t testing.TB) (jsonFile, parquetFile string) {
	t.Helper()
	pcaps, _ := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "*.pcap"))
	var lines, rows []byte
	for _, pcap := range pcaps {
		var d decode.Decoder
		var p decode.Packet
		for _, dg := range testvec.Capture(t, filepath.Base(pcap)) {
			if err := d.Decode(dg.Src.Addr().Unmap(), dg.Payload, &p); err != nil && len(p.Records) == 0 {
				continue
			}
			ts := dg.Time.UnixNano()
			lines = flowjson.AppendRecords(lines, p.Records, ts)
			rows = flowparquet.AppendRecords(rows, p.Records, ts)
		}
	}
	if len(lines) == 0 {
		t.Fatal("no flows in the captures")
	}
	dir := t.TempDir()
	jsonFile, parquetFile = filepath.Join(dir, "flows.jsonl"), filepath.Join(dir, "flows.parquet")
	if err := os.WriteFile(jsonFile, lines, 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := flowparquet.NewWriter(&buf, flowparquet.Options{RowGroupRows: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(parquetFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return jsonFile, parquetFile
}

// Every view gives the same output from the Parquet file as from the JSON
// lines of the same flows: connections (table, CSV, JSON), each statistic,
// timelines, filters and a time range.
func TestParquetEqualsJSON(t *testing.T) {
	jsonFile, parquetFile := bothFormats(t)
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	views := []struct {
		name string
		cfg  Config
	}{
		{"connections", Config{}},
		{"connections_csv", Config{Output: "csv"}},
		{"connections_json", Config{Output: "json"}},
		{"connections_p10", Config{MinPackets: 10}},
		{"stats", Config{StatKeys: StatKeys, Top: 10}},
		{"stats_packets", Config{StatKeys: []string{"pair", "service"}, By: "packets", Output: "csv"}},
		{"stats_flows_json", Config{StatKeys: []string{"exporter", "as"}, By: "flows", Output: "json"}},
		{"timeline", Config{Timeline: 24 * time.Hour}},
		{"timeline_csv", Config{Timeline: 7 * 24 * time.Hour, Output: "csv", By: "packets"}},
		{"filter", Config{Filter: mustFilter(t, "proto tcp and not dst port 22")}},
		{"filter_stats", Config{Filter: mustFilter(t, "src net 192.0.2.0/24 or src net 2001:db8::/32"), StatKeys: []string{"src"}}},
		{"time_range", Config{Filter: TimeFilter(t0, t0+int64(24*time.Hour)), StatKeys: []string{"dst"}}},
	}
	for _, v := range views {
		t.Run(v.name, func(t *testing.T) {
			out := map[string]string{}
			var sums []Summary
			for _, in := range []string{jsonFile, parquetFile} {
				cfg := v.cfg
				cfg.Inputs = []string{in}
				cfg.Loc = time.UTC
				var stdout, stderr bytes.Buffer
				s, err := Run(cfg, &stdout, &stderr)
				if err != nil {
					t.Fatal(err)
				}
				out[filepath.Ext(in)] = stdout.String()
				sums = append(sums, s)
			}
			if out[".jsonl"] != out[".parquet"] {
				t.Errorf("JSON lines:\n%s\nParquet:\n%s", out[".jsonl"], out[".parquet"])
			}
			if len(out[".jsonl"]) < 100 {
				t.Errorf("output too short to compare: %q", out[".jsonl"])
			}
			if a, b := sums[0], sums[1]; a.Flows != b.Flows || a.Matched != b.Matched || a.Lines != b.Lines || a.SkippedLines != b.SkippedLines {
				t.Errorf("summaries differ:\nJSON    %+v\nParquet %+v", a, b)
			}
		})
	}
}

// Statistics and timelines over a time range skip the row groups whose
// time statistics lie outside it, and give what the JSON lines give.
func TestParquetSkipsRowGroups(t *testing.T) {
	jsonFile, parquetFile := bothFormats(t)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var total int64
	for _, cfg := range []Config{
		{StatKeys: []string{"src", "dst"}, Filter: TimeFilter(t0, t0+int64(24*time.Hour))},
		{Timeline: 24 * time.Hour, Filter: TimeFilter(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), 0)},
		{StatKeys: []string{"proto"}, Filter: TimeFilter(0, t0).And(mustFilter(t, "proto udp"))},
	} {
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
		if outs[0] != outs[1] {
			t.Errorf("JSON lines:\n%s\nParquet:\n%s", outs[0], outs[1])
		}
		if sums[0] != sums[1] {
			t.Errorf("summaries differ:\nJSON    %+v\nParquet %+v", sums[0], sums[1])
		}
		if skipped >= sums[1].Lines {
			t.Errorf("all %d rows skipped by the row groups' statistics", skipped)
		}
		total += skipped
		t.Logf("%d of %d rows skipped", skipped, sums[1].Lines)
	}
	if total == 0 {
		t.Error("no row group skipped by its statistics")
	}
}

// A Parquet file without its footer (nfcollect was still writing it) is
// reported and counted as failed, not read as text.
func TestParquetUnfinished(t *testing.T) {
	_, parquetFile := bothFormats(t)
	b, err := os.ReadFile(parquetFile)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.parquet")
	if err := os.WriteFile(cut, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	s, err := Run(Config{Inputs: []string{cut}, StatKeys: []string{"src"}}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if s.FilesFailed != 1 || s.Flows != 0 {
		t.Errorf("summary %+v, want one failed file", s)
	}
	if !strings.Contains(stderr.String(), "not a readable Parquet file") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

// FuzzParquet reads arbitrary bytes that start like a Parquet file: a
// message and a count, never a panic, a hang or a huge allocation. The
// seeds are small files of every layout (pqLayouts: the fast reader's
// encodings, codecs and page versions, and the general reader's); the
// view (column batches, rows with a filter, connections) depends on the
// input's length.
func FuzzParquet(f *testing.F) {
	_, parquetFile := bothFormats(f)
	f.Add([]byte("PAR1PAR1"))
	rows := pqRows(f, parquetFile)
	dir := f.TempDir()
	for _, l := range pqLayouts() {
		name := filepath.Join(dir, l.name+".parquet")
		writeLayout(f, name, rows[:40], l)
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	views := []Config{
		{StatKeys: []string{"src"}},
		{Timeline: time.Hour, Filter: TimeFilter(1, 0).And(PortFilter(53))},
		{},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		name := filepath.Join(dir, "f.parquet")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := views[len(data)%len(views)]
		cfg.Inputs = []string{name}
		var stdout, stderr bytes.Buffer
		s, err := Run(cfg, &stdout, &stderr)
		if err != nil && !(cfg.Timeline > 0 && strings.Contains(err.Error(), "buckets")) {
			// (Flows far apart in time make too many buckets: refused, as
			// for JSON lines.)
			t.Fatal(err)
		}
		if s.Flows > s.Lines {
			t.Fatalf("%d flows of %d rows", s.Flows, s.Lines)
		}
	})
}
