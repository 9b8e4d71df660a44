package analyzer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestFileStamp(t *testing.T) {
	for _, c := range []struct {
		name string
		want string // RFC 3339, "" for none
	}{
		{"nfcollect.202610281700.json.gz", "2026-10-28T17:00:00Z"},
		{"/var/lib/flows/nfcollect.20261028170005.json.zst", "2026-10-28T17:00:05Z"},
		{"nfcollect.202610281700.1.json.gz", "2026-10-28T17:00:00Z"},
		{"1700000000.gz", "2023-11-14T22:13:20Z"},
		{"flows.gz", ""},
		{"202610281700", ""}, // a stamp needs a prefix
		{"nfcollect.2026102817.json", ""},
		{"x.1700000000.gz", ""},
	} {
		s, ok := fileStamp(c.name)
		got := ""
		if ok {
			got = time.Unix(0, s).UTC().Format(time.RFC3339)
		}
		if got != c.want {
			t.Errorf("fileStamp(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

// hourlyFiles writes n hourly files as nfcollect --rotate 1h names them,
// each with the flows received in its hour: flows start up to 20 minutes
// before they are received (a few up to 14 minutes beyond the hour before).
func hourlyFiles(t *testing.T, dir string, n, perFile int) (first time.Time) {
	r := rand.New(rand.NewPCG(7, 7))
	first = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for h := range n {
		slot := first.Add(time.Duration(h) * time.Hour)
		var b bytes.Buffer
		for i := range perFile {
			recv := slot.Add(time.Duration(i) * time.Hour / time.Duration(perFile))
			start := recv.Add(-time.Duration(r.IntN(20*60)) * time.Second)
			fmt.Fprintf(&b, `{"time_received_ns":%d,"time_flow_start_ns":%d,"time_flow_end_ns":%d,"bytes":100,"packets":1,"src_addr":"10.0.0.%d","dst_addr":"192.0.2.1","src_port":%d,"dst_port":443,"proto":6}`+"\n",
				recv.UnixNano(), start.UnixNano(), recv.UnixNano(), i%250, 1024+i)
		}
		name := filepath.Join(dir, "nfcollect."+slot.Format("200601021504")+".json")
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return first
}

// TestTimeSlice: with --since/--until, files outside the range are not
// opened, and the flows selected are those of a run that opens them all.
func TestTimeSlice(t *testing.T) {
	dir := t.TempDir()
	first := hourlyFiles(t, dir, 48, 200)
	files, _, _ := ExpandInputs([]string{dir})
	for _, c := range []struct {
		since, until time.Duration // from the first file; -1: open
		maxOpened    int
	}{
		// The hour, the next (flows received up to --window late; read up to
		// two windows after --until), the one before (--tolerance of exporter clocks).
		{10 * time.Hour, 11 * time.Hour, 3},
		{10*time.Hour + 30*time.Minute, 10*time.Hour + 40*time.Minute, 1},
		{-1, 2 * time.Hour, 3},
		{46 * time.Hour, -1, 3},
		{-1, -1, 48},
		{60 * time.Hour, -1, 1}, // after the last: its file's end is not known
	} {
		var since, until int64
		if c.since >= 0 {
			since = first.Add(c.since).UnixNano()
		}
		if c.until >= 0 {
			until = first.Add(c.until).UnixNano()
		}
		cfg := Config{Inputs: files, Filter: TimeFilter(since, until), Flows: true, Output: "csv", Columns: "start,src,bytes"}
		var all, errb bytes.Buffer
		sumAll, err := Run(cfg, &all, &errb)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Since, cfg.Until = since, until
		var sliced bytes.Buffer
		sum, err := Run(cfg, &sliced, &errb)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Files > c.maxOpened || sum.Files+sum.FilesPruned != 48 || sumAll.Files != 48 {
			t.Errorf("since %v until %v: opened %d files (pruned %d), want at most %d", c.since, c.until, sum.Files, sum.FilesPruned, c.maxOpened)
		}
		if c.since == 10*time.Hour && c.until == 11*time.Hour && sum.Lines >= 3*200 {
			t.Errorf("since %v until %v: read %d lines: the next hour's file should be read only up to two windows after --until", c.since, c.until, sum.Lines)
		}
		if sum.Matched != sumAll.Matched || !bytes.Equal(sliced.Bytes(), all.Bytes()) || errb.Len() > 0 {
			t.Errorf("since %v until %v: %d flows selected from the files opened, %d from all (%s)", c.since, c.until, sum.Matched, sumAll.Matched, errb.String())
		}
	}
	// A file without a time in its name is always read.
	other := filepath.Join(dir, "extra.jsonl")
	os.WriteFile(other, []byte(`{"src_addr":"10.0.0.1","dst_addr":"10.0.0.2"}`+"\n"), 0o644)
	kept, _ := pruneByTime(append(slices.Clone(files), other), first.Add(5*time.Hour).UnixNano(), first.Add(6*time.Hour).UnixNano(), 15*time.Minute, 2*time.Second)
	if !slices.Contains(kept, other) {
		t.Errorf("a file without a time in its name was left out")
	}
}
