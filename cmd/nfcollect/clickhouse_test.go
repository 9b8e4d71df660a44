package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestClickHouseBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--spool", "/tmp/x", "-o", "-"}, "--spool needs --clickhouse"},
		{[]string{"--clickhouse-create", "-o", "-"}, "needs --clickhouse"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-retention", "thirty"}, "--clickhouse-retention"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-retention", "-3d"}, "--clickhouse-retention"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-batch", "0"}, "--clickhouse-batch"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-batch", "2000000"}, "max_insert_block_size"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-compress", "lz4"}, "--clickhouse-compress"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-memory-mib", "0"}, "0 with --spool"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-flush", "0s"}, "--clickhouse-flush"},
	} {
		stdout, stderr := tempFile(t), tempFile(t)
		if code := run(c.args, stdout, stderr); code != 2 || !strings.Contains(readAll(t, stderr), c.msg) {
			t.Errorf("%v: exit %d, %q, want 2 and %q", c.args, code, readAll(t, stderr), c.msg)
		}
	}
}

// A URL or password file that cannot be used stops nfcollect at start
// (exit 1), naming the problem but not the password.
func TestClickHouseBadSetup(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--clickhouse", "ftp://u:hunter2@h/"}, "want http://"},
		{[]string{"--clickhouse", "http://h/", "--clickhouse-password-file", filepath.Join(t.TempDir(), "none")}, "--clickhouse-password-file"},
		{[]string{"--clickhouse", "http://h/?database=a,http://g/?database=b"}, "different databases"},
	} {
		stdout, stderr := tempFile(t), tempFile(t)
		code := run(append(c.args, "-r", "../../testdata/softflowd-v5.pcap"), stdout, stderr)
		if msg := readAll(t, stderr); code != 1 || !strings.Contains(msg, c.msg) || strings.Contains(msg, "hunter2") {
			t.Errorf("%v: exit %d, %q, want 1 and %q", c.args, code, msg, c.msg)
		}
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "1d": 24 * time.Hour, "36h": 36 * time.Hour} {
		if got, err := parseRetention(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "0d", "-1h", "1y"} {
		if _, err := parseRetention(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

// Reading a capture while ClickHouse cannot be reached and without a
// spool: the flows are dropped at exit, counted, and the exit status says
// so.
func TestClickHouseLostIsAnError(t *testing.T) {
	stdout, stderr := tempFile(t), tempFile(t)
	before, _ := filepath.Glob("*.gz")
	code := run([]string{"--clickhouse", "http://127.0.0.1:1/", "--shutdown-timeout", "1s", "-r", "../../testdata/softflowd-v5.pcap"}, stdout, stderr)
	if msg := readAll(t, stderr); code != 1 || !strings.Contains(msg, "flows dropped") {
		t.Errorf("exit %d: %s", code, msg)
	}
	// --clickhouse alone writes no default <unix-time>.gz file.
	if after, _ := filepath.Glob("*.gz"); len(after) != len(before) {
		t.Errorf("files made: %v", after)
	}
}
