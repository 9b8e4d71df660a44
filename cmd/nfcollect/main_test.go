package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/nfkit/nfkit/internal/testvec"
)

// The test binary doubles as nfcollect, so the signal tests run the real
// main in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("NFCOLLECT_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func tempFile(t *testing.T) *os.File {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readAll(t *testing.T, f *os.File) string {
	f.Seek(0, io.SeekStart)
	b, _ := io.ReadAll(f)
	return string(b)
}

func countLines(t *testing.T, s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad JSON line %q: %v", l, err)
		}
		n++
	}
	return n
}

func TestReadToStdout(t *testing.T) {
	stdout, stderr := tempFile(t), tempFile(t)
	code := run([]string{"-r", "../../testdata/softflowd-v9.pcap", "-o", "-", "--stats-interval", "-1s"}, stdout, stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, readAll(t, stderr))
	}
	if n := countLines(t, readAll(t, stdout)); n != 71 {
		t.Errorf("%d flows on stdout, want 71", n)
	}
	if strings.Contains(readAll(t, stderr), "\r") {
		t.Error("progress bar written although stderr is not a terminal")
	}
}

func TestReadPythonFormat(t *testing.T) {
	stdout, stderr := tempFile(t), tempFile(t)
	code := run([]string{"-r", "../../testdata/softflowd-v5.pcap", "-o", "-", "--format", "python-netflow"}, stdout, stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, readAll(t, stderr))
	}
	lines := strings.Split(strings.TrimSpace(readAll(t, stdout)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per export packet (2)", len(lines))
	}
	var m map[string]struct {
		Client []any            `json:"client"`
		Header map[string]any   `json:"header"`
		Flows  []map[string]any `json:"flows"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	for _, v := range m {
		if v.Header["version"] != 5.0 || len(v.Flows) != 30 {
			t.Errorf("header %v, %d flows", v.Header, len(v.Flows))
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--format", "xml", "-o", "-"},
		{"--allow", "not-a-cidr", "-o", "-"},
		{"--log-format", "yaml"},
		{"--rotate", "1m", "--compress", "lzma"},
		{"--no-such-flag"},
	} {
		stdout, stderr := tempFile(t), tempFile(t)
		if code := run(args, stdout, stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, readAll(t, stderr))
		}
		if readAll(t, stderr) == "" {
			t.Errorf("%v: no message", args)
		}
	}
}

func freePort(t *testing.T) string {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return strings.TrimPrefix(c.LocalAddr().String(), "127.0.0.1:")
}

func vector(t *testing.T, name string) [][]byte { return testvec.Python(t, name) }

// startChild runs nfcollect in a child process and waits until it listens.
func startChild(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "NFCOLLECT_TEST_MAIN=1")
	var stderr bytes.Buffer
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(&stderr, pw)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				close(ready)
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatalf("nfcollect did not start: %s", stderr.String())
	}
	return cmd, &stderr
}

func send(t *testing.T, port string, pkts ...[]byte) {
	c, err := net.Dial("udp4", "127.0.0.1:"+port)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range pkts {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
}

// SIGTERM: stop receiving, decode everything read, complete the file,
// exit 0. SIGHUP rotates.
func TestSignals(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	metricsLn, _ := net.Listen("tcp", "127.0.0.1:0")
	metricsAddr := metricsLn.Addr().String()
	metricsLn.Close()
	cmd, stderr := startChild(t, "-p", port, "--host", "127.0.0.1", "--rotate", "1h", "--dir", dir,
		"--metrics", metricsAddr, "--templates", filepath.Join(dir, "templates.json"), "--stats-interval", "-1s")
	send(t, port, vector(t, "v9_template_2templates_8flows.hex")...)
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(200 * time.Millisecond)
	send(t, port, vector(t, "v9_data_only_3pkts_12flows_each.hex")...)
	time.Sleep(200 * time.Millisecond)

	resp, err := (&net.Dialer{}).Dial("tcp", metricsAddr)
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	resp.Write([]byte("GET /metrics HTTP/1.0\r\n\r\n"))
	body, _ := io.ReadAll(resp)
	resp.Close()
	if !regexp.MustCompile(`nfcollect_flows_decoded_total\{type="NETFLOW_V9"\} 44`).Match(body) {
		t.Errorf("metrics lack 44 v9 flows:\n%s", body)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "nfcollect.*.json.gz"))
	if len(files) != 2 {
		t.Fatalf("files %v, want 2 (SIGHUP rotated once)", files)
	}
	total := 0
	for _, f := range files {
		fh, _ := os.Open(f)
		zr, err := gzip.NewReader(fh)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		fh.Close()
		total += countLines(t, string(b))
	}
	if total != 44 {
		t.Errorf("%d flows in the rotated files, want 44", total)
	}
	if _, err := os.Stat(filepath.Join(dir, "templates.json")); err != nil {
		t.Errorf("templates not saved: %v", err)
	}
}

// Values that make no sense are usage errors (exit 2), not silently
// accepted.
func TestFlagValidation(t *testing.T) {
	for _, args := range [][]string{
		{"--workers", "-1"},
		{"--queue", "0"},
		{"--queue-mib", "0"},
		{"--rcvbuf", "-5"},
		{"--rotate", "-1m"},
		{"--rotate", "0"},
		{"--pending-age", "0"},
		{"--shutdown-timeout", "-1s"},
		{"--port", "70000"},
		{"--compress", "zst", "-o", "x.gz"},
		{"--dir", "/tmp"},
		{"--pprof"},
		{"--allow", "::ffff:10.0.0.0/8"},
		{"--tcp-port", "70000"},
		{"--tcp-port", "4739", "-r", "x.pcap"},
		{"--tcp-max-conns", "0"},
		{"--tcp-idle", "0s"},
	} {
		stdout, stderr := tempFile(t), tempFile(t)
		if code := run(args, stdout, stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, readAll(t, stderr))
		}
		if !strings.Contains(readAll(t, stderr), strings.TrimLeft(args[0], "-")) {
			t.Errorf("%v: message does not name the flag: %s", args, readAll(t, stderr))
		}
	}
}

// --version and --help print on standard output and exit 0.
func TestVersionAndHelp(t *testing.T) {
	for _, arg := range []string{"--version", "--help", "-h"} {
		stdout, stderr := tempFile(t), tempFile(t)
		if code := run([]string{arg}, stdout, stderr); code != 0 {
			t.Errorf("%s: exit %d", arg, code)
		}
		if out := readAll(t, stdout); !strings.Contains(out, "nfcollect") {
			t.Errorf("%s: stdout %q", arg, out)
		}
		if e := readAll(t, stderr); e != "" {
			t.Errorf("%s: stderr %q", arg, e)
		}
	}
}

// Flags may follow the capture file names, as with nfanalyze.
func TestFlagsAfterFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.json")
	stdout, stderr := tempFile(t), tempFile(t)
	if code := run([]string{"../../testdata/softflowd-v9.pcap", "-o", out, "--stats-interval", "-1s"}, stdout, stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, readAll(t, stderr))
	}
	b, _ := os.ReadFile(out)
	if n := countLines(t, string(b)); n != 71 {
		t.Errorf("%d flows, want 71", n)
	}
}

// An IPv4-mapped --allow entry means the IPv4 address.
func TestAllowMapped(t *testing.T) {
	for in, want := range map[string]string{
		"::ffff:127.0.0.1":      "127.0.0.1/32",
		"::ffff:192.0.2.0/120":  "192.0.2.0/24",
		"192.0.2.7":             "192.0.2.7/32",
		"2001:db8::/32":         "2001:db8::/32",
		"2001:db8::1/32":        "2001:db8::/32",
		"::ffff:127.0.0.1/128":  "127.0.0.1/32",
		"::ffff:10.1.2.3/104":   "10.0.0.0/8",
		"::ffff:0.0.0.0/96":     "0.0.0.0/0",
		"198.51.100.0/24":       "198.51.100.0/24",
		"  ::ffff:127.0.0.2   ": "",
	} {
		p, err := parseAllow(strings.TrimSpace(in))
		if want == "" {
			want = "127.0.0.2/32"
		}
		if err != nil || p.String() != want {
			t.Errorf("parseAllow(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
}

// An output that cannot be created stops nfcollect at start with a message
// naming it (as nfcapd checks -w).
func TestOutputUncreatable(t *testing.T) {
	stdout, stderr := tempFile(t), tempFile(t)
	start := time.Now()
	code := run([]string{"-p", freePort(t), "--host", "127.0.0.1", "-o", "/nonexistent/x.gz"}, stdout, stderr)
	if code != 1 || !strings.Contains(readAll(t, stderr), "/nonexistent/x.gz") {
		t.Errorf("exit %d, stderr %q; want 1 naming the file", code, readAll(t, stderr))
	}
	if time.Since(start) > 5*time.Second {
		t.Error("took too long: it should not start listening")
	}
}

// -r with --rotate names the files by the capture's time.
func TestReplayRotateCaptureTime(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr := tempFile(t), tempFile(t)
	if code := run([]string{"-r", "../../testdata/softflowd-v9.pcap", "--rotate", "1h", "--dir", dir, "--stats-interval", "-1s"}, stdout, stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, readAll(t, stderr))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "nfcollect.*.json.gz"))
	if len(files) == 0 {
		t.Fatal("no file")
	}
	now := time.Now().UTC().Format("2006010215")
	for _, f := range files {
		if strings.Contains(filepath.Base(f), now) {
			t.Errorf("%s is named by the wall clock, not the capture's time", f)
		}
	}
}

// getURL fetches a URL of the metrics server.
func getURL(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func freeTCP(t *testing.T) string {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	return ln.Addr().String()
}

// /debug/pprof/ is served only with --pprof; the metrics have the
// runtime's and the build's series, and the startup line the real worker
// count.
func TestMetricsServer(t *testing.T) {
	for _, pprof := range []bool{false, true} {
		addr := freeTCP(t)
		args := []string{"-p", freePort(t), "--host", "127.0.0.1", "-o", filepath.Join(t.TempDir(), "x.gz"), "--metrics", addr}
		if pprof {
			args = append(args, "--pprof")
		}
		cmd, stderr := startChild(t, args...)
		code, _ := getURL(t, "http://"+addr+"/debug/pprof/")
		if want := map[bool]int{false: 404, true: 200}[pprof]; code != want {
			t.Errorf("--pprof %v: /debug/pprof/ answered %d, want %d", pprof, code, want)
		}
		_, m := getURL(t, "http://"+addr+"/metrics")
		for _, want := range []string{"nfcollect_build_info{", "go_goroutines ", "process_resident_memory_bytes ", "nfcollect_kernel_receive_drops_total ", "nfcollect_packets_received_total "} {
			if !strings.Contains(m, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if regexp.MustCompile(`workers=0\b`).MatchString(stderr.String()) || !regexp.MustCompile(`listening .*workers=[1-9]`).MatchString(stderr.String()) {
			t.Errorf("startup line: %s", stderr)
		}
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}
}

// SIGHUP without --rotate reopens -o, so that logrotate's rename and
// signal works: what came before is in the renamed file, what came after
// in a new file under the name.
func TestSighupReopens(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "flows.json")
	port := freePort(t)
	cmd, stderr := startChild(t, "-p", port, "--host", "127.0.0.1", "-o", out, "--stats-interval", "-1s")
	send(t, port, vector(t, "v9_template_2templates_8flows.hex")...)
	time.Sleep(1500 * time.Millisecond) // flushed (1 s)
	os.Rename(out, out+".1")
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	send(t, port, vector(t, "v9_data_only_3pkts_12flows_each.hex")...)
	time.Sleep(300 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr)
	}
	a, _ := os.ReadFile(out + ".1")
	b, _ := os.ReadFile(out)
	if na, nb := countLines(t, string(a)), countLines(t, string(b)); na != 8 || nb != 36 {
		t.Errorf("renamed file %d flows, new file %d; want 8 and 36", na, nb)
	}
}

// --user drops root after binding and opening the outputs.
func TestUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("no user nobody")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	port := freePort(t)
	cmd, stderr := startChild(t, "-p", port, "--host", "127.0.0.1", "-o", filepath.Join(dir, "x.gz"), "--user", "nobody")
	time.Sleep(100 * time.Millisecond)
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	u, _ := user.Lookup("nobody")
	if !regexp.MustCompile(`(?m)^Uid:\s+` + u.Uid + `\s+` + u.Uid).Match(status) {
		t.Errorf("child does not run as nobody:\n%s\n%s", status, stderr)
	}
	send(t, port, vector(t, "v5_icmp_ping_multicast_3flows.hex")...)
	time.Sleep(100 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr)
	}
}

// SIGKILL in --rotate mode leaves the current file under its temporary
// name; the next start completes it, and every flow written before the
// kill is readable.
func TestKillLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	cmd, _ := startChild(t, "-p", port, "--host", "127.0.0.1", "--rotate", "1h", "--dir", dir, "--stats-interval", "-1s")
	send(t, port, vector(t, "v9_template_2templates_8flows.hex")...)
	send(t, port, vector(t, "v9_data_only_3pkts_12flows_each.hex")...)
	time.Sleep(1500 * time.Millisecond) // flushed (every second)
	cmd.Process.Kill()
	cmd.Wait()
	tmp, _ := filepath.Glob(filepath.Join(dir, ".nfcollect.*.tmp"))
	if len(tmp) != 1 {
		t.Fatalf("temporary files after SIGKILL: %v", tmp)
	}
	cmd, stderr := startChild(t, "-p", freePort(t), "--host", "127.0.0.1", "--rotate", "1h", "--dir", dir, "--stats-interval", "-1s")
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "completed a file left unfinished by a previous run") {
		t.Errorf("the recovery is not logged:\n%s", stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	left, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(files) != 1 || len(left) != 0 {
		t.Fatalf("files %v, hidden %v; want the one recovered file", files, left)
	}
	fh, _ := os.Open(files[0])
	defer fh.Close()
	zr, err := gzip.NewReader(fh)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if n := countLines(t, string(b)); n != 44 {
		t.Errorf("%d flows in the recovered file, want 44", n)
	}
}
