package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/nfkit/nfkit/flowparquet"
	"github.com/nfkit/nfkit/internal/testvec"
)

// captureSummary is what the tests compare between the JSON lines and the
// Parquet file of the same capture.
type captureSummary struct {
	Rows       int64
	Bytes      string // sums, as decimal text (they may pass 2^64)
	Packets    string
	Ports      string // sum of src_port + dst_port
	OtherKeys  int64  // keys of the records beyond the schema's columns
	SrcAddrs   int64  // distinct source addresses
	MaxSrcAddr string // the largest source address (IPv4-mapped bytes), as text
	MinStartUs string // the earliest flow start, Unix µs
	Types      string // the distinct "type" values, sorted, comma-separated
}

// jsonSummary summarizes a file of JSON lines.
func jsonSummary(t *testing.T, path string) captureSummary {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	columns := map[string]bool{}
	for _, c := range flowparquet.Columns() {
		columns[c.Name] = true
	}
	var s captureSummary
	bytesSum, pktSum, portSum := new(big.Int), new(big.Int), new(big.Int)
	srcs := map[netip.Addr]bool{}
	var maxSrc netip.Addr
	minStart := int64(-1)
	types := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if string(m["type"]) == `"SFLOW_5_COUNTERS"` {
			continue // counter samples are not flows: Parquet files hold flows
		}
		s.Rows++
		num := func(k string) *big.Int {
			v, ok := new(big.Int).SetString(string(m[k]), 10)
			if !ok {
				return new(big.Int)
			}
			return v
		}
		bytesSum.Add(bytesSum, num("bytes"))
		pktSum.Add(pktSum, num("packets"))
		portSum.Add(portSum, num("src_port"))
		portSum.Add(portSum, num("dst_port"))
		for k := range m {
			if !columns[k] {
				s.OtherKeys++
			}
		}
		if raw, ok := m["src_addr"]; ok {
			var txt string
			json.Unmarshal(raw, &txt)
			a := netip.MustParseAddr(txt)
			a16 := netip.AddrFrom16(a.As16())
			srcs[a16] = true
			if !maxSrc.IsValid() || a16.Compare(maxSrc) > 0 {
				maxSrc = a16
			}
		}
		if raw, ok := m["time_flow_start_ns"]; ok {
			ns, _ := strconv.ParseInt(string(raw), 10, 64)
			if us := floorDiv(ns, 1000); minStart < 0 || us < minStart {
				minStart = us
			}
		}
		var typ string
		json.Unmarshal(m["type"], &typ)
		types[typ] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	s.Bytes, s.Packets, s.Ports = bytesSum.String(), pktSum.String(), portSum.String()
	s.SrcAddrs = int64(len(srcs))
	if maxSrc.IsValid() {
		s.MaxSrcAddr = maxSrc.String()
	}
	if minStart >= 0 {
		s.MinStartUs = strconv.FormatInt(minStart, 10)
	}
	var ts []string
	for k := range types {
		ts = append(ts, k)
	}
	slices.Sort(ts)
	s.Types = strings.Join(ts, ",")
	return s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// presentBit returns the bit of a column in the "present" column.
func presentBit(t *testing.T, name string) int {
	for i, c := range flowparquet.Columns() {
		if c.Name == name {
			return i
		}
	}
	t.Fatalf("no column %s", name)
	return 0
}

// duckdbReady returns the node binary and the query script, or skips the
// test loudly when DuckDB's Node package is not installed.
func duckdbReady(t *testing.T) (node, script string) {
	t.Helper()
	dir := filepath.Join(testvec.Root(), "scripts", "duckdb")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api"))
	}
	if err != nil {
		msg := "DUCKDB CHECKS SKIPPED: the Parquet files are NOT opened with DuckDB (" + err.Error() +
			"); run `npm install` in scripts/duckdb (make duckdb does)"
		fmt.Fprintln(os.Stderr, "!!!", msg)
		t.Skip(msg)
	}
	return node, filepath.Join(dir, "query.mjs")
}

// duckdb runs one query and returns its rows.
func duckdb(t *testing.T, node, script, sql string) []map[string]any {
	t.Helper()
	cmd := exec.Command(node, script, sql)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v: %s\n%s", err, stderr.String(), sql)
	}
	var rows []map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("duckdb output %q: %v", out, err)
	}
	return rows
}

// convertCaptures runs every capture of testdata through nfcollect twice,
// as JSON lines and as Parquet, and returns the pairs of files.
func convertCaptures(t *testing.T) (names []string, jsonFiles, parquetFiles map[string]string) {
	t.Helper()
	pcaps, _ := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "*.pcap"))
	if len(pcaps) < 20 {
		t.Fatalf("only %d captures in testdata", len(pcaps))
	}
	dir := t.TempDir()
	jsonFiles, parquetFiles = map[string]string{}, map[string]string{}
	for _, pcap := range pcaps {
		name := strings.TrimSuffix(filepath.Base(pcap), ".pcap")
		jf, pf := filepath.Join(dir, name+".json"), filepath.Join(dir, name+".parquet")
		for _, args := range [][]string{
			{"-r", pcap, "-o", jf, "--stats-interval", "-1s"},
			{"-r", pcap, "-o", pf, "--stats-interval", "-1s"},
		} {
			stdout, stderr := tempFile(t), tempFile(t)
			if code := run(args, stdout, stderr); code != 0 {
				t.Fatalf("nfcollect %v: exit %d\n%s", args, code, readAll(t, stderr))
			}
		}
		names = append(names, name)
		jsonFiles[name], parquetFiles[name] = jf, pf
	}
	return names, jsonFiles, parquetFiles
}

// Every capture of testdata written as Parquet by `nfcollect -r … -o
// X.parquet` opens in DuckDB with the counts, sums, addresses, times and
// other fields of the JSON lines of the same capture.
func TestParquetCapturesDuckDB(t *testing.T) {
	node, script := duckdbReady(t)
	names, jsonFiles, parquetFiles := convertCaptures(t)
	var files []string
	for _, n := range names {
		if _, err := os.Stat(parquetFiles[n]); err == nil { // no flows, no file
			files = append(files, "'"+parquetFiles[n]+"'")
		}
	}
	startBit := presentBit(t, "time_flow_start_ns")
	sql := `SELECT filename,
		count(*) AS "Rows",
		sum(bytes)::VARCHAR AS "Bytes",
		sum(packets)::VARCHAR AS "Packets",
		(sum(src_port) + sum(dst_port))::VARCHAR AS "Ports",
		coalesce(sum(len(json_keys(other_fields))), 0) AS "OtherKeys",
		count(DISTINCT src_addr) FILTER (WHERE src_addr_family != 0) AS "SrcAddrs",
		coalesce(hex(max(src_addr) FILTER (WHERE src_addr_family != 0)), '') AS "MaxSrcAddr",
		coalesce(epoch_us(min(time_flow_start_ns) FILTER (WHERE present & ` + fmt.Sprint(uint64(1)<<startBit) + ` != 0))::VARCHAR, '') AS "MinStartUs",
		array_to_string(list_sort(list(DISTINCT type)), ',') AS "Types"
		FROM read_parquet([` + strings.Join(files, ",") + `], filename = true)
		GROUP BY filename`
	got := map[string]captureSummary{}
	for _, row := range duckdb(t, node, script, sql) {
		var s captureSummary
		str := func(k string) string { return fmt.Sprint(row[k]) }
		n := func(k string) int64 { v, _ := strconv.ParseInt(str(k), 10, 64); return v }
		s.Rows, s.Bytes, s.Packets, s.Ports = n("Rows"), str("Bytes"), str("Packets"), str("Ports")
		s.OtherKeys, s.SrcAddrs, s.MinStartUs, s.Types = n("OtherKeys"), n("SrcAddrs"), str("MinStartUs"), str("Types")
		if h := str("MaxSrcAddr"); h != "" {
			b, err := hex.DecodeString(h)
			if err != nil || len(b) != 16 {
				t.Fatalf("max(src_addr) %q", h)
			}
			s.MaxSrcAddr = netip.AddrFrom16([16]byte(b)).String()
		}
		got[str("filename")] = s
	}
	checked := 0
	for _, name := range names {
		want := jsonSummary(t, jsonFiles[name])
		if want.Rows == 0 {
			// No flows: nothing is written, as with JSON lines.
			if _, err := os.Stat(parquetFiles[name]); err == nil {
				t.Errorf("%s: a Parquet file without flows", name)
			}
			continue
		}
		g, ok := got[parquetFiles[name]]
		if !ok {
			t.Errorf("%s: DuckDB read no rows", name)
			continue
		}
		if g != want {
			t.Errorf("%s:\nparquet %+v\njson    %+v", name, g, want)
		}
		checked++
	}
	t.Logf("%d captures compared, DuckDB against JSON lines", checked)
	readmeQuery(t, node, script, filepath.Dir(parquetFiles[names[0]]), names, jsonFiles)
}

// readmeQuery runs the README's DuckDB query over the files of dir and
// checks its top sources against the JSON lines.
func readmeQuery(t *testing.T, node, script, dir string, names []string, jsonFiles map[string]string) {
	readme, err := os.ReadFile(filepath.Join(testvec.Root(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "Querying with DuckDB")
	if ok {
		_, rest, ok = strings.Cut(rest, "```sql\n")
	}
	sql, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no DuckDB query in the README")
	}
	sql = strings.ReplaceAll(sql, "/var/lib/nfcollect/nfcollect.*.parquet", filepath.Join(dir, "*.parquet"))
	sql = strings.ReplaceAll(sql, "2026-12-02 07:00:00+00", "1970-01-01 00:00:00+00")
	bySrc := map[netip.Addr]*big.Int{}
	for _, name := range names {
		f, err := os.Open(jsonFiles[name])
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			var m struct {
				Src   string          `json:"src_addr"`
				Bytes json.RawMessage `json:"bytes"`
			}
			json.Unmarshal(sc.Bytes(), &m)
			a, err := netip.ParseAddr(m.Src)
			if err != nil {
				continue // no source address: not a row of the query's addresses
			}
			v, _ := new(big.Int).SetString(string(m.Bytes), 10)
			if v == nil {
				v = new(big.Int)
			}
			if bySrc[a] == nil {
				bySrc[a] = new(big.Int)
			}
			bySrc[a].Add(bySrc[a], v)
		}
		f.Close()
	}
	rows := duckdb(t, node, script, sql)
	if len(rows) != 10 {
		t.Fatalf("README query: %d rows, want 10", len(rows))
	}
	for _, r := range rows {
		a, err := netip.ParseAddr(fmt.Sprint(r["src"]))
		if err != nil {
			t.Errorf("README query: src %v: %v", r["src"], err)
			continue
		}
		if want := bySrc[a]; want == nil || want.String() != fmt.Sprint(r["bytes"]) {
			t.Errorf("README query: %v has %v bytes, the JSON lines %v", a, r["bytes"], want)
		}
	}
}

// Without DuckDB too: the Parquet file of every capture holds as many rows
// as the JSON lines, and its footer has min/max statistics on the time and
// address columns of every row group.
func TestParquetCapturesRows(t *testing.T) {
	names, jsonFiles, parquetFiles := convertCaptures(t)
	for _, name := range names {
		want := jsonSummary(t, jsonFiles[name])
		if want.Rows == 0 {
			continue
		}
		f, err := os.Open(parquetFiles[name])
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		pf, err := parquet.OpenFile(f, fi.Size())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if pf.NumRows() != want.Rows {
			t.Errorf("%s: %d rows, want %d", name, pf.NumRows(), want.Rows)
		}
		for _, rg := range pf.Metadata().RowGroups {
			for _, c := range rg.Columns {
				p := strings.Join(c.MetaData.PathInSchema, ".")
				if p != "time_received_ns" && p != "src_addr" && p != "dst_addr" && p != "time_flow_start_ns" {
					continue
				}
				if st := c.MetaData.Statistics; len(st.MinValue) == 0 || len(st.MaxValue) == 0 {
					t.Errorf("%s: column %s has no min/max statistics", name, p)
				}
			}
		}
		f.Close()
	}
}

// The Parquet flags: what makes no sense is a usage error naming the flag.
func TestParquetFlagValidation(t *testing.T) {
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--format", "parquet", "-o", "-"}, "-o"},
		{[]string{"--format", "parquet", "--row-group", "0"}, "row-group"},
		{[]string{"--row-group", "1000", "-o", "x.gz"}, "row-group"},
		{[]string{"--format", "parquet", "--compress", "brotli"}, "compress"},
		{[]string{"-o", "x.parquet", "--compress", "xz"}, "compress"},
		{[]string{"--format", "csv"}, "format"},
		{[]string{"--format", "json", "-o", "x.parquet"}, "format"},
	} {
		stdout, stderr := tempFile(t), tempFile(t)
		if code := run(c.args, stdout, stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", c.args, code, readAll(t, stderr))
		}
		if !strings.Contains(readAll(t, stderr), c.flag) {
			t.Errorf("%v: message does not name %s: %s", c.args, c.flag, readAll(t, stderr))
		}
	}
	// The shapes that are accepted, and what they mean.
	for _, c := range []struct {
		args           []string
		format, output string
		rotate         time.Duration
		compress       string
	}{
		{[]string{"-o", "flows.parquet"}, "parquet", "flows.parquet", 0, "zstd"},
		{[]string{"--format", "parquet"}, "parquet", "", time.Minute, "zstd"},
		{[]string{"--format", "parquet", "--rotate", "5m", "--compress", "lz4"}, "parquet", "", 5 * time.Minute, "lz4"},
		{[]string{"-o", "flows.parquet", "--compress", "snappy"}, "parquet", "flows.parquet", 0, "snappy"},
		{[]string{"-o", "flows.gz"}, "json", "flows.gz", 0, "gz"},
	} {
		o, err := parse(c.args, os.Stdout)
		if err != nil {
			t.Errorf("%v: %v", c.args, err)
			continue
		}
		if o.format != c.format || o.output != c.output || o.rotate != c.rotate || o.compress != c.compress {
			t.Errorf("%v: format %q output %q rotate %v compress %q", c.args, o.format, o.output, o.rotate, o.compress)
		}
	}
}

// Live Parquet collection: rotated files appear complete at SIGTERM; a
// SIGKILL leaves the file being written unfinished (unreadable: no
// footer), and the next start reports it and keeps it.
func TestParquetLiveAndKill(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cmd, stderr := startChild(t, "-p", port, "--host", "127.0.0.1", "--format", "parquet", "--dir", dir, "--stats-interval", "-1s")
	send(t, port, vector(t, "v9_template_2templates_8flows.hex")...)
	send(t, port, vector(t, "v9_data_only_3pkts_12flows_each.hex")...)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "nfcollect.*.parquet"))
	var rows int64
	for _, name := range files {
		f, _ := os.Open(name)
		fi, _ := f.Stat()
		pf, err := parquet.OpenFile(f, fi.Size())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		rows += pf.NumRows()
		f.Close()
	}
	if rows != 44 {
		t.Errorf("%d rows in %v, want 44", rows, files)
	}

	cmd, _ = startChild(t, "-p", port, "--host", "127.0.0.1", "--format", "parquet", "--rotate", "1h", "--dir", dir, "--stats-interval", "-1s")
	send(t, port, vector(t, "v9_template_2templates_8flows.hex")...)
	time.Sleep(1500 * time.Millisecond) // flushed to the sink (every second)
	cmd.Process.Kill()
	cmd.Wait()
	left, _ := filepath.Glob(filepath.Join(dir, ".nfcollect.*.parquet.*.incomplete"))
	if len(left) != 1 {
		t.Fatalf("unfinished files after SIGKILL: %v", left)
	}
	cmd, stderr = startChild(t, "-p", freePort(t), "--host", "127.0.0.1", "--format", "parquet", "--dir", dir, "--stats-interval", "-1s")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "unfinished") || !strings.Contains(stderr.String(), left[0]) {
		t.Errorf("the unfinished file is not reported:\n%s", stderr)
	}
	if _, err := os.Stat(left[0]); err != nil {
		t.Errorf("the unfinished file is gone: %v", err)
	}
}
