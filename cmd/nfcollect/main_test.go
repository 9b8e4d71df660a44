package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
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
		{"--rotate", "1m", "-o", "x.gz"},
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
