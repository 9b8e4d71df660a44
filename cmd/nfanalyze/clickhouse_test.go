package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClickHouseFlags(t *testing.T) {
	code, _, stderr := runCLI("--clickhouse", "http://127.0.0.1:1/", flows)
	if code != exitUsage || !strings.Contains(stderr, "reads no files") {
		t.Errorf("files with --clickhouse: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI("--clickhouse-table", "x", flows)
	if code != exitUsage || !strings.Contains(stderr, "need --clickhouse") {
		t.Errorf("--clickhouse-table alone: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI("--clickhouse", "ftp://x/")
	if code != exitFatal || !strings.Contains(stderr, "want http://") {
		t.Errorf("bad URL: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI("--clickhouse", "http://127.0.0.1:1/", "--clickhouse-password-file", filepath.Join(t.TempDir(), "missing"))
	if code != exitFatal || !strings.Contains(stderr, "password-file") {
		t.Errorf("missing password file: exit %d, %q", code, stderr)
	}
}

// A server that cannot be reached is an error naming it, without the
// password.
func TestClickHouseUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("hunter2\n"), 0o600)
	for _, args := range [][]string{{"--stat", "src"}, {"--timeline", "1m"}, {}} {
		code, _, stderr := runCLI(append(args, "--clickhouse", "http://bob:pass@"+addr+"/?database=nf", "--clickhouse-password-file", pw)...)
		if code != exitFatal || !strings.Contains(stderr, addr) || strings.Contains(stderr, "hunter2") || strings.Contains(stderr, "pass@") {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
}
