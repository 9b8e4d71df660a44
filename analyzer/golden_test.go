package analyzer

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/nfkit/nfkit/decode"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// fakeResolver answers from a table; it never touches the network.
type fakeResolver map[string]string

func (r fakeResolver) LookupAddr(ctx context.Context, a netip.Addr) (string, error) {
	if n, ok := r[a.String()]; ok {
		return n, nil
	}
	return "", errors.New("no such host")
}

var testNames = fakeResolver{
	"192.0.2.10":      "host-a.example",
	"198.51.100.7":    "host-b.example",
	"2001:db8:1::443": "www.example",
	"192.0.2.53":      "ns.example",
}

// runGolden runs cfg and returns stdout followed by stderr under a marker.
func runGolden(t *testing.T, cfg Config) string {
	t.Helper()
	if cfg.Loc == nil {
		cfg.Loc = time.UTC
	}
	var out, errb bytes.Buffer
	sum, err := Run(cfg, &out, &errb)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	s := out.String()
	if errb.Len() > 0 {
		s += "--- stderr ---\n" + errb.String()
	}
	if sum.Skipped() {
		s += "--- skipped ---\n"
	}
	return s
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./analyzer -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./analyzer -run %s -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", path, t.Name(), got, want)
	}
}

func mustFilter(t *testing.T, expr string) Filter {
	t.Helper()
	f, err := ParseFilter(expr)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestGolden(t *testing.T) {
	flows := []string{"testdata/flows.jsonl"}
	py := []string{"testdata/python.jsonl"}
	cases := []struct {
		name string
		cfg  Config
	}{
		{"flows_table", Config{Inputs: flows}},
		{"flows_table_p10", Config{Inputs: flows, MinPackets: 10}},
		{"flows_csv", Config{Inputs: flows, Output: "csv"}},
		{"flows_json", Config{Inputs: flows, Output: "json"}},
		{"flows_names", Config{Inputs: flows, Resolver: testNames, DNSWorkers: 3, DNSTimeout: time.Second}},
		{"flows_filter", Config{Inputs: flows, Filter: mustFilter(t, "src net 192.0.2.0/24 and dst port 22")}},
		{"flows_verbose", Config{Inputs: flows, Verbose: true}},
		{"python_table", Config{Inputs: py}},
		{"python_json", Config{Inputs: py, Output: "json"}},
		{"both_formats", Config{Inputs: []string{"testdata/flows.jsonl", "testdata/python.jsonl"}, Output: "csv"}},
		{"bad_lines", Config{Inputs: []string{"testdata/bad.jsonl"}}},
		{"stats_table", Config{Inputs: flows, StatKeys: StatKeys, Top: 5}},
		{"stats_packets", Config{Inputs: append(flows, py...), StatKeys: []string{"service", "pair"}, Top: 3, By: "packets", Resolver: testNames}},
		{"stats_csv", Config{Inputs: flows, StatKeys: []string{"src", "service"}, Top: 3, Output: "csv", By: "flows"}},
		{"stats_json", Config{Inputs: flows, StatKeys: []string{"dst", "proto"}, Top: 3, Output: "json"}},
		{"timeline_table", Config{Inputs: flows, Timeline: 5 * time.Minute}},
		{"timeline_unicode", Config{Inputs: flows, Timeline: 10 * time.Minute, Unicode: true, By: "packets"}},
		{"timeline_csv", Config{Inputs: flows, Timeline: 30 * time.Minute, Output: "csv"}},
		{"flows_compact80", Config{Inputs: flows, Width: 80, Resolver: testNames}},
		{"stats_width80", Config{Inputs: flows, StatKeys: []string{"pair", "src"}, Top: 4, Width: 80, Resolver: testNames}},
		{"timeline_width80", Config{Inputs: flows, Timeline: 10 * time.Minute, Unicode: true, Width: 80}},
		{"flowview_table", Config{Inputs: flows, Flows: true}},
		{"flowview_sorted", Config{Inputs: flows, Flows: true, Sort: "bps", Limit: 5, Columns: "start,end,duration,proto,srcaddr,sport,dstaddr,dport,service,flows,packets,bytes,pps,exporter"}},
		{"aggregate_table", Config{Inputs: flows, Aggregate: []string{"srcnet/24", "srcnet6/32", "proto"}}},
		{"aggregate_json", Config{Inputs: flows, Aggregate: []string{"dstip", "dstport"}, Output: "json", Limit: 4}},
		{"timeline_json", Config{Inputs: py, Timeline: 24 * time.Hour, Output: "json", Filter: mustFilter(t, "not proto icmp")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runGolden(t, c.cfg)
			checkGolden(t, c.name, got)
			// Output is stable across runs.
			if again := runGolden(t, c.cfg); again != got {
				t.Errorf("second run differs:\n%s", again)
			}
		})
	}
}

// gzipMembers writes one gzip member per line, as python-netflow's collector does.
func gzipMembers(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		z := gzip.NewWriter(&b)
		z.Write(line)
		z.Close()
	}
	return b.Bytes()
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompressedAndSources checks that gzip, multi-member gzip, zstd, stdin,
// directories and globs give the same answer as the plain file.
func TestCompressedAndSources(t *testing.T) {
	plain, err := os.ReadFile("testdata/flows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	want := runGolden(t, Config{Inputs: []string{"testdata/flows.jsonl"}, Output: "csv"})
	dir := t.TempDir()

	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(plain)
	z.Close()
	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()

	half := bytes.Index(plain[len(plain)/2:], []byte("\n")) + len(plain)/2 + 1
	writeFile(t, dir, "split/a.jsonl", plain[:half])
	writeFile(t, dir, "split/b.jsonl.gz", gzipMembers(t, plain[half:]))
	writeFile(t, dir, "split/.hidden", []byte("garbage\n"))

	cases := map[string]Config{
		"gzip":         {Inputs: []string{writeFile(t, dir, "f.gz", gz.Bytes())}},
		"gzip members": {Inputs: []string{writeFile(t, dir, "m.gz", gzipMembers(t, plain))}},
		"zstd":         {Inputs: []string{writeFile(t, dir, "f.zst", zs.Bytes())}},
		"no suffix":    {Inputs: []string{writeFile(t, dir, "gzip-without-suffix", gz.Bytes())}},
		"stdin":        {Inputs: []string{"-"}, Stdin: bytes.NewReader(gzipMembers(t, plain))},
		"slow stdin":   {Inputs: []string{"-"}, Stdin: iotest.OneByteReader(bytes.NewReader(gzipMembers(t, plain)))},
	}
	files, _, errs := ExpandInputs([]string{filepath.Join(dir, "split")})
	if len(errs) != 0 || len(files) != 2 {
		t.Fatalf("ExpandInputs(dir) = %v, %v; want the two visible files", files, errs)
	}
	cases["directory"] = Config{Inputs: files}
	files, _, errs = ExpandInputs([]string{filepath.Join(dir, "split", "*")})
	if len(errs) != 0 || len(files) != 2 {
		t.Fatalf("ExpandInputs(glob) = %v, %v", files, errs)
	}
	cases["glob"] = Config{Inputs: files}
	if _, _, errs := ExpandInputs([]string{filepath.Join(dir, "nothing*")}); len(errs) != 1 {
		t.Errorf("a glob matching nothing gave %v, want one error", errs)
	}
	for name, cfg := range cases {
		cfg.Output = "csv"
		if got := runGolden(t, cfg); got != want {
			t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
		}
	}
}

// TestCorruptGzip: a damaged member is skipped and reading resumes at the next
// one; a truncated file keeps what was readable. Both are reported and counted.
func TestCorruptGzip(t *testing.T) {
	plain, err := os.ReadFile("testdata/flows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lines := bytes.SplitAfter(plain, []byte("\n"))
	var members [][]byte
	for _, l := range lines {
		if len(l) > 0 {
			members = append(members, gzipMembers(t, l))
		}
	}
	// Corrupt the deflate data of member 3 (line 4).
	var damaged []byte
	for i, m := range members {
		m = bytes.Clone(m)
		if i == 3 {
			for k := 12; k < len(m)-8; k++ {
				m[k] ^= 0x5a
			}
		}
		damaged = append(damaged, m...)
	}
	all := bytes.Join(members, nil)
	truncated := all[:len(all)-len(members[len(members)-1])/2]

	got := runGolden(t, Config{Inputs: []string{writeFile(t, dir, "damaged.gz", damaged)}, Output: "csv"})
	got = strings.ReplaceAll(got, dir+string(filepath.Separator), "")
	checkGolden(t, "gzip_damaged", got)

	got = runGolden(t, Config{Inputs: []string{writeFile(t, dir, "truncated.gz", truncated)}, Output: "csv"})
	got = strings.ReplaceAll(got, dir+string(filepath.Separator), "")
	checkGolden(t, "gzip_truncated", got)
}

func TestMissingFile(t *testing.T) {
	var out, errb bytes.Buffer
	sum, err := Run(Config{Inputs: []string{"testdata/does-not-exist.jsonl", "testdata/flows.jsonl"}, Output: "csv"}, &out, &errb)
	if err != nil {
		t.Fatal(err)
	}
	if sum.FilesFailed != 1 || !sum.Skipped() || sum.Flows != 25 {
		t.Errorf("got %+v, want one failed file and the other read", sum)
	}
	if !strings.Contains(errb.String(), "does-not-exist.jsonl") {
		t.Errorf("stderr %q does not name the missing file", errb.String())
	}
}

// TestStateFilesSkipped: nfcollect's state files (--templates) in a directory
// of rotated files are not read as flows, in the current format and in the
// legacy one; named by themselves they are read (and their lines are bad).
func TestStateFilesSkipped(t *testing.T) {
	plain, err := os.ReadFile("testdata/flows.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var d decode.Decoder
	legacy, err := d.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFile(t, dir, "flows/nfcollect.202401010000.json", plain)
	state := writeFile(t, dir, "flows/templates.json", []byte(`{"nfkit_state":2,"saved_ns":1}`+"\n"+`{"exporter":"192.0.2.1","version":10,"domain":0,"id":256,"def":"01000001"}`+"\n"))
	old := writeFile(t, dir, "flows/sub/templates-old.json", legacy)
	files, skipped, errs := ExpandInputs([]string{filepath.Join(dir, "flows")})
	if len(errs) != 0 || len(files) != 1 || !slices.Equal(skipped, []string{old, state}) && !slices.Equal(skipped, []string{state, old}) {
		t.Fatalf("ExpandInputs(dir) = %v, skipped %v, %v; want the flows only, both state files skipped", files, skipped, errs)
	}
	var out, errb bytes.Buffer
	sum, err := Run(Config{Inputs: files, Output: "csv"}, &out, &errb)
	if err != nil || sum.Skipped() || sum.Flows != 25 {
		t.Errorf("Run = %+v, %v\n%s", sum, err, errb.String())
	}
	// Named by itself, a state file is read.
	files, skipped, _ = ExpandInputs([]string{state})
	if len(files) != 1 || len(skipped) != 0 {
		t.Fatalf("ExpandInputs(%s) = %v, skipped %v", state, files, skipped)
	}
}

// syncBuffer is a terminal for tests: safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitingReader holds its data back until the progress bar is on the
// terminal.
type waitingReader struct {
	term *syncBuffer
	data io.Reader
}

func (r *waitingReader) Read(p []byte) (int, error) {
	for start := time.Now(); !strings.Contains(r.term.String(), " flows"); time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			return 0, errors.New("no progress bar drawn")
		}
	}
	return r.data.Read(p)
}

// TestProgressClearedForMessages: a bad-line message written while the
// progress bar is shown starts on a clean line (the bar is erased first, and
// drawn again after), and the bar is erased at the end.
func TestProgressClearedForMessages(t *testing.T) {
	var term syncBuffer
	in := &waitingReader{&term, strings.NewReader("not a flow\n" + `{"src_addr":"192.0.2.1","dst_addr":"192.0.2.2","bytes":1,"packets":1}` + "\n")}
	sum, err := Run(Config{Inputs: []string{"-"}, Stdin: in, Progress: &term, Output: "csv"}, io.Discard, &term)
	if err != nil || sum.SkippedLines != 1 || sum.Flows != 1 {
		t.Fatalf("Run = %+v, %v", sum, err)
	}
	out := term.String()
	i := strings.Index(out, "<stdin>:1:")
	if i < 0 || !strings.HasSuffix(out[:i], " flows\x1b[K\r\x1b[K") {
		t.Errorf("the message follows %q, want the progress bar and its erasure", out[:max(i, 0)])
	}
	if !strings.Contains(out, "line skipped\n\r") || strings.Count(out, "\n") != 2 {
		t.Errorf("the bar was not drawn again after the message, or a message shares a line with it: %q", out)
	}
}
