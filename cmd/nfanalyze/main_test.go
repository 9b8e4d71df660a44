package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	return runTTY(terminals{}, args...)
}

func runTTY(tty terminals, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb, tty)
	return code, out.String(), errb.String()
}

const flows = "../../analyzer/testdata/flows.jsonl"

// inputs writes damaged and odd inputs made from flows.jsonl: gzip and zstd
// files of one member (frame) per line, cut short or with one member
// damaged, a zstd file with every frame damaged, a directory holding only a
// state file, and an empty directory.
func inputs(t *testing.T) map[string]string {
	t.Helper()
	plain, err := os.ReadFile(flows)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var gz, zs, zsAllBad bytes.Buffer
	var gzOffs []int
	zw, _ := zstd.NewWriter(nil)
	for _, line := range bytes.SplitAfter(plain, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		gzOffs = append(gzOffs, gz.Len())
		z := gzip.NewWriter(&gz)
		z.Write(line)
		z.Close()
		frame := zw.EncodeAll(line, nil)
		zs.Write(frame)
		bad := bytes.Clone(frame)
		bad[len(bad)-1] ^= 0xff // the checksum
		zsAllBad.Write(bad)
	}
	zsDamaged := bytes.Clone(zs.Bytes())
	zsDamaged[len(zsDamaged)/2] ^= 0xff
	files := map[string][]byte{
		"truncated.gz":     gz.Bytes()[:gzOffs[len(gzOffs)-1]+20],
		"damaged.zst":      zsDamaged,
		"all-damaged.zst":  zsAllBad.Bytes(),
		"state/state.json": []byte(`{"nfkit_state":2}` + "\n"),
	}
	paths := map[string]string{"empty": filepath.Join(dir, "empty")}
	os.Mkdir(paths["empty"], 0o755)
	for name, b := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	paths["state"] = filepath.Dir(paths["state/state.json"])
	return paths
}

// TestExitStatus runs the command on one case of every row of the exit
// status table in analyzer/USAGE.md.
func TestExitStatus(t *testing.T) {
	in := inputs(t)
	cases := []struct {
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		// 0: everything was read.
		{[]string{"-n", "-p", "0", "--utc", flows}, exitOK, "2017-10-28 23:17.01 | SSH", ""},
		{[]string{flows, "-n", "--utc", "-p", "0"}, exitOK, "(one-way)", ""},              // flags after the file
		{[]string{"-n", flows, "--top", "2", "--", "-p"}, exitSkipped, "Top 2 src", "-p"}, // after --, a file named -p
		{[]string{"-n", "-f", flows, "--filter", "dst port 22", "-p", "0", "-o", "csv"}, exitOK, "ssh,TCP", ""},
		{[]string{"-n", "--top", "2", flows}, exitOK, "Top 2 src by bytes", ""},
		{[]string{"-n", "--stat", "service", "--by", "flows", "-o", "json", flows}, exitOK, `"stat":"service"`, ""},
		{[]string{"-n", "--timeline", "1h", "--utc", flows}, exitOK, "2017-10-28 23:00:00", ""},
		{[]string{"-n", "--since", "2017-10-28 23:20:00", "--until", "2017-10-28 23:23:00", "--utc", "-p", "0", flows}, exitOK, "TCP/31337", ""},
		{[]string{"-n", "--host", "203.0.113.5", "-p", "0", flows}, exitOK, "TELNET", ""},
		{[]string{"-n", "--net", "2001:db8::/32", "--proto", "icmp6", "-p", "0", flows}, exitOK, "ICMPV6", ""},
		{[]string{"-n", "--port", "smtp", "--exporter", "192.0.2.253", "-p", "0", flows}, exitOK, "SMTP", ""},
		{[]string{"-n", "--max-errors", "0", "--window", "1m", "--tolerance", "1ms", "--dns-workers", "1", flows}, exitOK, "SSH", ""},
		{[]string{"-h"}, exitOK, "Usage: nfanalyze", ""},
		{[]string{"--help"}, exitOK, "Exit status:", ""},
		{[]string{"--version"}, exitOK, "nfanalyze devel", ""},
		// 1: no input could be read, a single named file does not exist,
		// bad --output/--stat/--by, write error (TestWriteError).
		{[]string{"-n", "missing.jsonl"}, exitFatal, "", "file missing.jsonl does not exist!"},
		{[]string{"-n", "missing.jsonl", "missing2.jsonl"}, exitFatal, "", "missing2.jsonl"},
		{[]string{"-n", in["all-damaged.zst"]}, exitFatal, "", "(the end) skipped: a damaged zstd frame"},
		{[]string{"-n", in["state"]}, exitFatal, "", "no input files"},
		{[]string{"-n", "-v", in["state"]}, exitFatal, "", "state.json: an nfcollect state file"},
		{[]string{"-n", in["empty"]}, exitFatal, "", "no input files"},
		{[]string{"-n", "--output", "xml", flows}, exitFatal, "", "unknown output format"},
		{[]string{"-n", "--stat", "src,nonsense", flows}, exitFatal, "", "unknown statistic"},
		{[]string{"-n", "--top", "3", "--by", "octets", flows}, exitFatal, "", "unknown order"},
		{[]string{"-n", "--format", "xml", flows}, exitFatal, "", "unknown input format"},
		// 2: usage: unknown flag, bad flag value, bad filter expression.
		{[]string{"-n", "--bogus"}, exitUsage, "", "flag provided but not defined"},
		{[]string{"-n", "-p", "-1", flows}, exitUsage, "", "invalid value"},
		{[]string{"-n", "--top", "0", flows}, exitUsage, "", "--top must be at least 1"},
		{[]string{"-n", "--top", "-3", flows}, exitUsage, "", "--top must be at least 1"},
		{[]string{"-n", "--timeline", "0", flows}, exitUsage, "", "--timeline must be a positive interval"},
		{[]string{"-n", "--timeline", "-5m", flows}, exitUsage, "", "--timeline must be a positive interval"},
		{[]string{"-n", "--window", "-1s", flows}, exitUsage, "", "--window must be a positive duration"},
		{[]string{"-n", "--window", "0", flows}, exitUsage, "", "--window must be a positive duration"},
		{[]string{"-n", "--tolerance", "-1s", flows}, exitUsage, "", "--tolerance must be a positive duration"},
		{[]string{"-n", "--dns-workers", "0", flows}, exitUsage, "", "--dns-workers must be from 1"},
		{[]string{"-n", "--dns-workers", "1000000", flows}, exitUsage, "", "--dns-workers must be from 1"},
		{[]string{"-n", "--dns-timeout", "0s", flows}, exitUsage, "", "--dns-timeout must be a positive duration"},
		{[]string{"-n", "--max-errors", "-1", flows}, exitUsage, "", "--max-errors must be 0 or more"},
		{[]string{"-n", "--progress", "sometimes", flows}, exitUsage, "", "--progress must be auto, always or never"},
		{[]string{"-n", "--since", "2017-10-29", "--until", "2017-10-28", flows}, exitUsage, "", "is not before --until"},
		{[]string{"-n", "--since", "yesterday", flows}, exitUsage, "", "cannot read"},
		{[]string{"-n", "--match-host", "nonsense", flows}, exitUsage, "", "IP address 'nonsense' is neither IPv4 nor IPv6"},
		{[]string{"-n", "--host", "nonsense", flows}, exitUsage, "", "--host: \"nonsense\" is not an IP address"},
		{[]string{"-n", "--filter", "src port 443 dst port 80", flows}, exitUsage, "", "missing \"and\" or \"or\""},
		// 3: done, but something was skipped.
		{[]string{"-n", "../../analyzer/testdata/bad.jsonl"}, exitSkipped, "", "bad.jsonl:2:"},
		{[]string{"-n", flows, "missing.jsonl"}, exitSkipped, "SSH", "missing.jsonl"},
		{[]string{"-n", flows, "nothing-matches-*.jsonl"}, exitSkipped, "SSH", "no file matches"},
		{[]string{"-n", "-p", "0", in["truncated.gz"]}, exitSkipped, "SSH", "the file ends inside the gzip member"},
		{[]string{"-n", "-p", "0", in["damaged.zst"]}, exitSkipped, "SSH", "skipped: a damaged zstd frame"},
		{[]string{"-n", "-p", "0", in["state/state.json"]}, exitSkipped, "", "state.json:1: missing field"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(errs, c.stderr) {
			t.Errorf("nfanalyze %s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				strings.Join(c.args, " "), code, out, errs, c.code, c.stdout, c.stderr)
		}
		if c.code == exitOK && strings.HasPrefix(c.args[0], "-") && len(c.args) == 1 && errs != "" {
			t.Errorf("nfanalyze %s wrote %q on stderr, want it all on stdout", c.args[0], errs)
		}
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("no space left on device") }

// TestWriteError: a write error on the output exits 1 and says so.
func TestWriteError(t *testing.T) {
	var errb bytes.Buffer
	code := run([]string{"-n", "-p", "0", flows}, strings.NewReader(""), failWriter{}, &errb, terminals{})
	if code != exitFatal || !strings.Contains(errb.String(), "no space left on device") {
		t.Errorf("exit %d, stderr %q; want 1 and the error", code, errb.String())
	}
}

// TestStdinTerminal: with no file named and standard input a terminal,
// nfanalyze says that it reads flows from it, and how to end or get help.
func TestStdinTerminal(t *testing.T) {
	_, _, errs := runTTY(terminals{stdin: true}, "-n")
	if !strings.Contains(errs, "reading flows from standard input") || !strings.Contains(errs, "Ctrl-D") || !strings.Contains(errs, "--help") {
		t.Errorf("stderr %q; want a note on reading standard input", errs)
	}
	for _, tty := range []terminals{{}, {stdin: false, stdout: true, stderr: true}} {
		if _, _, errs := runTTY(tty, "-n"); strings.Contains(errs, "standard input") {
			t.Errorf("%+v: stderr %q; want no note when standard input is not a terminal", tty, errs)
		}
	}
	if _, _, errs := runTTY(terminals{stdin: true}, "-n", flows); strings.Contains(errs, "standard input") {
		t.Errorf("stderr %q; want no note when a file is named", errs)
	}
}

func TestFiltersNarrow(t *testing.T) {
	_, all, _ := runCLI("-n", "-p", "0", "-o", "csv", flows)
	_, some, _ := runCLI("-n", "-p", "0", "-o", "csv", "--host", "192.0.2.20", flows)
	if n, m := strings.Count(all, "\n"), strings.Count(some, "\n"); n != 17 || m != 3 {
		t.Errorf("got %d rows unfiltered and %d with --host, want 17 and 3 (with the header)", n, m)
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for s, want := range map[string]time.Time{
		"2017-10-28 23:17:01":  time.Date(2017, 10, 28, 23, 17, 1, 0, time.UTC),
		"2017-10-28":           time.Date(2017, 10, 28, 0, 0, 0, 0, time.UTC),
		"2017-10-28T23:17:01Z": time.Date(2017, 10, 28, 23, 17, 1, 0, time.UTC),
		"1509232621.5":         time.Unix(1509232621, 5e8),
		"-1h30m":               now.Add(-90 * time.Minute),
	} {
		got, err := parseTime(s, time.UTC, now)
		if err != nil || got != want.UnixNano() {
			t.Errorf("parseTime(%q) = %v, %v; want %v", s, time.Unix(0, got).UTC(), err, want)
		}
	}
}

// TestFlowViewFlags: --flows, --aggregate and their flags, and the usage
// errors that name the flag.
func TestFlowViewFlags(t *testing.T) {
	code, out, errs := runCLI("-n", "--utc", "--flows", "--columns", "start,src,dst,dport,bytes,bps", "--sort", "bytes", "-c", "2", flows)
	if code != exitOK || strings.Count(out, "\n") != 3 || !strings.HasPrefix(out, "Date first seen         Src IP Addr:Port") {
		t.Errorf("--flows: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI("-n", "--aggregate", "srcnet/24,dstport", "-o", "csv", flows)
	if code != exitOK || !strings.HasPrefix(out, "start,duration_ms,src_net,dst_port,flows,packets,bytes,bps,pps,bpp\n") {
		t.Errorf("--aggregate: exit %d\n%s%s", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--flows", "--columns", "start,nonsense"}, `--columns: unknown column "nonsense"`},
		{[]string{"--flows", "--sort", "size"}, `--sort: unknown order "size"`},
		{[]string{"--aggregate", "srcnet/33"}, "at most 32"},
		{[]string{"--aggregate", "color"}, `unknown aggregation key "color"`},
		{[]string{"--flows", "--limit", "0"}, "--limit must be at least 1"},
		{[]string{"--flows", "--stat", "src"}, "cannot be combined"},
		{[]string{"--sort", "bytes"}, "go with --flows or --aggregate"},
	} {
		code, _, errs := runCLI(append(c.args, flows)...)
		if code != exitUsage || !strings.Contains(errs, c.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, errs, exitUsage, c.msg)
		}
	}
}

// TestTerminalWidth: on a terminal the connection table fits its width,
// --wide gives the full table.
func TestTerminalWidth(t *testing.T) {
	_, out, _ := runTTY(terminals{stdout: true, width: 80}, "-n", "-p", "0", flows)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("a line of %d columns on an 80-column terminal: %s", n, l)
		}
	}
	_, wide, _ := runTTY(terminals{stdout: true, width: 80}, "-n", "-p", "0", "--wide", flows)
	if _, piped, _ := runCLI("-n", "-p", "0", flows); wide != piped || !strings.Contains(wide, "192.0.2.10:40001 to 198.51.100.9:31337") {
		t.Errorf("--wide on a terminal differs from the piped table:\n%s", wide)
	}
}

// TestExpireFlags: --expire removes old rotated files and lists them;
// --dry-run removes nothing; mistakes are usage errors.
func TestExpireFlags(t *testing.T) {
	dir := t.TempDir()
	old := []string{"nfcollect.202001010000.json.gz", "nfcollect.202001010100.json.gz"}
	for _, n := range append(old, "nfcollect.209901010000.json.gz", "keep.txt") {
		os.WriteFile(filepath.Join(dir, n), []byte("x\n"), 0o644)
	}
	// The second old file's successor began in 2099: its modification time
	// says when its last flows came.
	past := time.Date(2020, 1, 1, 2, 0, 0, 0, time.UTC)
	os.Chtimes(filepath.Join(dir, old[1]), past, past)
	code, out, errs := runCLI("--expire", dir, "--keep", "30d", "--dry-run")
	if code != exitOK || strings.Count(out, "\n") != 2 || !strings.Contains(errs, "would remove 2 rotated files") {
		t.Errorf("--dry-run: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, old[0])); err != nil {
		t.Errorf("--dry-run removed a file")
	}
	code, out, errs = runCLI("--expire", dir, "--keep", "30d")
	if code != exitOK || !strings.Contains(errs, "removed 2 rotated files") {
		t.Errorf("--expire: exit %d\n%s%s", code, out, errs)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 2 {
		t.Errorf("left %v, want the 2099 file and keep.txt", left)
	}
	for _, args := range [][]string{{"--expire", dir}, {"--keep", "30d"}, {"--expire", dir, "--keep", "soon"}, {"--expire", dir, "--keep", "1d", "x.gz"}} {
		if code, _, _ := runCLI(args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
	if code, _, _ := runCLI("--expire", filepath.Join(dir, "nope"), "--keep", "1d"); code != exitFatal {
		t.Errorf("--expire of a missing directory: exit %d, want %d", code, exitFatal)
	}
}

// TestHTMLFlag: --html writes the report to the file (and nothing to
// stdout); it does not go with the other views.
func TestHTMLFlag(t *testing.T) {
	file := filepath.Join(t.TempDir(), "report.html")
	code, out, errs := runCLI("-n", "--html", file, "--filter", "proto tcp", "--top", "3", flows)
	page, err := os.ReadFile(file)
	if code != exitOK || out != "" || err != nil || !strings.Contains(string(page), "<svg class=\"chart\"") ||
		!strings.Contains(string(page), `--filter &#34;proto tcp&#34;`) {
		t.Errorf("--html: exit %d, stdout %q, stderr %q, %v", code, out, errs, err)
	}
	if code, _, errs := runCLI("--html", file, "--flows", flows); code != exitUsage || !strings.Contains(errs, "--html cannot be combined") {
		t.Errorf("--html --flows: exit %d, %s", code, errs)
	}
	if code, _, _ := runCLI("-n", "--html", filepath.Join(t.TempDir(), "no", "such", "dir", "r.html"), flows); code != exitFatal {
		t.Errorf("--html into a missing directory: exit %d, want %d", code, exitFatal)
	}
}
