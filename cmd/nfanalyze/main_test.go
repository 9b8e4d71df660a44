package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb, false, false)
	return code, out.String(), errb.String()
}

const flows = "../../analyzer/testdata/flows.jsonl"

func TestExitStatus(t *testing.T) {
	cases := []struct {
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{[]string{"-n", "-p", "0", "--utc", flows}, exitOK, "2017-10-28 23:17.01 | SSH", ""},
		{[]string{flows, "-n", "--utc", "-p", "0"}, exitOK, "(one-way)", ""}, // flags after the file
		{[]string{"-n", "-f", flows, "--filter", "dst port 22", "-p", "0", "-o", "csv"}, exitOK, "ssh,TCP", ""},
		{[]string{"-n", "../../analyzer/testdata/bad.jsonl"}, exitSkipped, "", "bad.jsonl:2:"},
		{[]string{"-n", "missing.jsonl"}, exitFatal, "", "file missing.jsonl does not exist!"},
		{[]string{"-n", flows, "missing.jsonl"}, exitSkipped, "SSH", "missing.jsonl"},
		{[]string{"-n", "--match-host", "nonsense", flows}, exitUsage, "", "IP address 'nonsense' is neither IPv4 nor IPv6"},
		{[]string{"-n", "--filter", "src port 443 dst port 80", flows}, exitUsage, "", "missing \"and\" or \"or\""},
		{[]string{"-n", "--output", "xml", flows}, exitFatal, "", "unknown output format"},
		{[]string{"-n", "--stat", "src,nonsense", flows}, exitFatal, "", "unknown statistic"},
		{[]string{"-n", "--bogus"}, exitUsage, "", "flag provided but not defined"},
		{[]string{"-n", "--top", "2", flows}, exitOK, "Top 2 src by bytes", ""},
		{[]string{"-n", "--stat", "service", "--by", "flows", "-o", "json", flows}, exitOK, `"stat":"service"`, ""},
		{[]string{"-n", "--timeline", "1h", "--utc", flows}, exitOK, "2017-10-28 23:00:00", ""},
		{[]string{"-n", "--since", "2017-10-28 23:20:00", "--until", "2017-10-28 23:23:00", "--utc", "-p", "0", flows}, exitOK, "TCP/31337", ""},
		{[]string{"-n", "--since", "yesterday", flows}, exitUsage, "", "cannot read"},
		{[]string{"-n", "--host", "203.0.113.5", "-p", "0", flows}, exitOK, "TELNET", ""},
		{[]string{"-n", "--net", "2001:db8::/32", "--proto", "icmp6", "-p", "0", flows}, exitOK, "ICMPV6", ""},
		{[]string{"-n", "--port", "smtp", "--exporter", "192.0.2.253", "-p", "0", flows}, exitOK, "SMTP", ""},
		{[]string{"-h"}, exitOK, "", "Usage: nfanalyze"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(out, c.stdout) || !strings.Contains(errs, c.stderr) {
			t.Errorf("nfanalyze %s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				strings.Join(c.args, " "), code, out, errs, c.code, c.stdout, c.stderr)
		}
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
