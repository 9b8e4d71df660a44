package analyzer

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// scanBoth scans line with the scanner under test and with the reference
// (scanRef, the scanner without the key memo and fast path) and reports any
// difference in the flow or the error.
func scanBoth(t *testing.T, s, ref *lineScanner, line []byte) {
	t.Helper()
	var got, want Flow
	gerr := s.scan(line, &got)
	werr := ref.scanRef(line, &want)
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("line %q:\nscan error %v\nref  error %v", line, gerr, werr)
	}
	if gerr == nil && got != want {
		t.Fatalf("line %q:\nscan %+v\nref  %+v", line, got, want)
	}
}

// inputLines returns the lines of every JSON-lines input in testdata: the
// collected captures of real exporters and the hand-written inputs.
func inputLines(t testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "collected", "*.jsonl"))
	more, _ := filepath.Glob(filepath.Join("testdata", "*.jsonl"))
	var lines [][]byte
	for _, name := range append(files, more...) {
		if strings.Contains(name, "python") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, bytes.Split(b, []byte("\n"))...)
	}
	if len(lines) < 500 {
		t.Fatalf("only %d input lines", len(lines))
	}
	return lines
}

// TestScanAgreesWithReference reads every input line, in file order and then
// shuffled among templates, with one scanner (so the memo learns and relearns)
// and compares with the reference.
func TestScanAgreesWithReference(t *testing.T) {
	lines := inputLines(t)
	lines = append(lines, variedLines(500)...)
	var s, ref lineScanner
	for _, l := range lines {
		scanBoth(t, &s, &ref, l)
	}
	// Interleaved: lines of different templates and exporters one after another.
	for i := range lines {
		j := (i * 7919) % len(lines)
		scanBoth(t, &s, &ref, lines[j])
	}
	// Each line cut short, and with bytes changed, after the memo learned it.
	for _, l := range lines[:200] {
		for cut := 0; cut < len(l); cut += 7 {
			scanBoth(t, &s, &ref, l[:cut])
			m := bytes.Clone(l)
			m[cut] ^= 0x21
			scanBoth(t, &s, &ref, m)
		}
	}
	if len(s.memo) == 0 || len(s.memo) > memoKeys {
		t.Errorf("memo holds %d keys", len(s.memo))
	}
}

// FuzzScanAgrees: for any lines, the scanner (after the memo learned the lines
// before) and the reference agree on the flow and on the error.
func FuzzScanAgrees(f *testing.F) {
	f.Add(string(benchLine) + "\n" + string(benchLine))
	for _, l := range variedLines(8) {
		f.Add(string(benchLine) + "\n" + string(l))
	}
	f.Add(`{"src_addr":"1.2.3.4","dst_addr":"::1","bytes":1,"out_bytes":2,"packets":0,"out_packets":3}` + "\n" +
		`{"out_packets":3,"packets":0,"src_addr":"1.2.3.4","dst_addr":"::1","icmp_type":3,"icmp_code":1,"proto":1}`)
	f.Add(`{"src_addr":"1.2.3.4","dst_addr":"1.2.3.5","time_flow_start_ns":12345678901234567890}` + "\n" +
		`{"src_addr":"1.2.3.4","dst_addr":"1.2.3.5","time_flow_start_ns":1234567890123456789,"x":"a\"b"}`)
	f.Add(`{"src_addr":"1.2.3.4","dst_addr":"1.2.3.5","dst_port":65535,"proto":255,"src_as":4294967295}` + "\n" +
		`{"src_addr":"1.2.3.4","dst_addr":"1.2.3.5","dst_port":65558,"proto":6.0,"src_as":4294967296}`)
	f.Fuzz(func(t *testing.T, in string) {
		var s, ref lineScanner
		for _, l := range strings.Split(in, "\n") {
			// A line with spare capacity, as lines in an input buffer have.
			buf := make([]byte, len(l), len(l)+40)
			copy(buf, l)
			for i := len(l); i < cap(buf); i++ {
				buf[:cap(buf)][i] = "0123456789\"}:,"[i%14]
			}
			scanBoth(t, &s, &ref, buf)
		}
	})
}

// TestScanFastTakes: lines as nfcollect writes them, with numbers of every
// length from 1 to 19 digits and IPv4 and IPv6 addresses, are read by the fast
// path once the memo knows their keys (else every such line would take the
// general way, unseen but slower), and read as the reference reads them.
func TestScanFastTakes(t *testing.T) {
	var s, ref lineScanner
	scanBoth(t, &s, &ref, benchLine)
	check := func(line []byte) {
		t.Helper()
		scanBoth(t, &s, &ref, line)
		var f Flow
		var v scanVals
		if end, ok := s.scanFast(line, &f, &v); !ok || end != len(line) {
			t.Errorf("the fast path did not take %s", line)
		}
	}
	for digits := 1; digits <= 19; digits++ {
		n := strings.Repeat("7", digits)
		check(bytes.Replace(bytes.Replace(benchLine, []byte(`"bytes":123456`), []byte(`"bytes":`+n), 1),
			[]byte(`"sequence_num":123456`), []byte(`"sequence_num":`+n), 1))
	}
	check(bytes.Replace(benchLine, []byte(`"198.51.100.77"`), []byte(`"2001:db8::77"`), 1))
	check(bytes.Replace(benchLine, []byte(`"bytes":123456`), []byte(`"bytes":0`), 1))
}

// TestDigitRun compares digitRun with a byte loop: every byte value at every
// position after a run of digits, and random words.
func TestDigitRun(t *testing.T) {
	want := func(x uint64) int {
		for i := 0; i < 8; i++ {
			if c := byte(x >> (8 * i)); c < '0' || c > '9' {
				return i
			}
		}
		return 8
	}
	check := func(x uint64) {
		if got, w := digitRun(x), want(x); got != w {
			t.Fatalf("digitRun(%#016x) = %d, want %d", x, got, w)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for range 64 {
				x := r.Uint64()
				for i := 0; i < pos; i++ { // digits before pos
					x = x&^(0xff<<(8*i)) | uint64('0'+r.IntN(10))<<(8*i)
				}
				check(x&^(0xff<<(8*pos)) | uint64(c)<<(8*pos))
			}
		}
	}
	for range 1 << 20 {
		check(r.Uint64())
	}
}

// TestScanEscapes: a string escape is accepted exactly when encoding/json
// accepts it, in values and keys, by a fresh scanner (the general path) and by
// one whose memo knows the line's keys (the fast path); both agree with the
// reference.
func TestScanEscapes(t *testing.T) {
	for _, esc := range []string{`\q`, `\u12`, `\u12g4`, `\`, `a\x`, `\'`, `\U0041`, `\0`,
		`\"`, `\\`, `\/`, `\b\f\n\r\t`, `\u00e9`, `\uD83D\uDE00`, `x\\\"y`} {
		valid := json.Valid([]byte(`"` + esc + `"`))
		for _, line := range []string{
			`{"src_addr":"192.0.2.1","dst_addr":"192.0.2.2","bytes":1,"x":"` + esc + `"}`,
			`{"src_addr":"192.0.2.1","dst_addr":"192.0.2.2","bytes":1,"` + esc + `":1}`,
		} {
			var fresh, trained, ref lineScanner
			var f Flow
			trained.scan([]byte(strings.Replace(line, esc, "plain", 1)), &f)
			for _, s := range []*lineScanner{&fresh, &trained} {
				buf := make([]byte, len(line), len(line)+64)
				copy(buf, line)
				err := s.scan(buf, &f)
				if (err == nil) != valid {
					t.Errorf("scan(%s) = %v; encoding/json says valid=%v", line, err, valid)
				}
				scanBoth(t, s, &ref, buf)
			}
		}
	}
}

// TestScanRange: every number the analyzer reads must fit its field; a value
// out of range, negative or fractional makes a bad line that names the key
// and the value, in the fast path (a scanner that knows the keys) and the
// general one alike, never a wrapped value.
func TestScanRange(t *testing.T) {
	const maxU64 = "18446744073709551615"
	cases := []struct {
		key, val string
		want     uint64 // when err is ""
		err      string
	}{
		{"dst_port", "65535", 65535, ""},
		{"dst_port", "65558", 0, `"dst_port": 65558 is out of range (0 to 65535)`},
		{"src_port", "70000", 0, `"src_port": 70000 is out of range (0 to 65535)`},
		{"src_port", "12345678901", 0, `"src_port": 12345678901 is out of range`},
		{"proto", "255", 255, ""},
		{"proto", "262", 0, `"proto": 262 is out of range (0 to 255)`},
		{"proto", "6.9", 0, `"proto": 6.9 is not a whole number`},
		{"proto", "6.0", 6, ""},
		{"proto", "0.6e1", 6, ""},
		{"proto", "-6", 0, `"proto": -6 is negative`},
		{"icmp_type", "256", 0, `"icmp_type": 256 is out of range (0 to 255)`},
		{"icmp_code", "1000", 0, `"icmp_code": 1000 is out of range (0 to 255)`},
		{"src_as", "4294967295", 4294967295, ""},
		{"src_as", "4294967296", 0, `"src_as": 4294967296 is out of range (0 to 4294967295)`},
		{"dst_as", "99999999999", 0, `"dst_as": 99999999999 is out of range`},
		{"time_flow_start_ns", "9223372036854775807", 9223372036854775807, ""},
		{"time_flow_start_ns", "9223372036854775808", 0, `"time_flow_start_ns": 9223372036854775808 is out of range (0 to 9223372036854775807)`},
		{"time_flow_end_ns", "9999999999999999999", 0, `"time_flow_end_ns": 9999999999999999999 is out of range`},
		{"time_received_ns", "1e19", 0, `"time_received_ns": 1e19 is out of range`},
		{"bytes", maxU64, 18446744073709551615, ""},
		{"bytes", "18446744073709551616", 0, `"bytes": 18446744073709551616 is out of range (0 to 18446744073709551615)`},
		{"bytes", "99999999999999999999999", 0, `"bytes": 99999999999999999999999 is out of range`},
		{"bytes", "1.5e3", 1500, ""},
		{"bytes", "1e19", 1e19, ""},
		{"bytes", "2e19", 0, `"bytes": 2e19 is out of range`},
		{"bytes", "1e400", 0, `"bytes": 1e400 is out of range`},
		{"bytes", "1e-400", 0, `"bytes": 1e-400 is not a whole number`},
		{"bytes", "0e99999", 0, ""},
		{"bytes", "-0", 0, `"bytes": -0 is negative`},
		{"packets", "1.25", 0, `"packets": 1.25 is not a whole number`},
		{"rev_bytes", "18446744073709551615.0", 18446744073709551615, ""},
		{"rev_bytes", "18446744073709551615.5", 0, "not a whole number"},
		{"flows", "1" + strings.Repeat("0", 40), 0, `"flows": 1000000000000000000000000000000000000... is out of range`},
	}
	get := map[string]func(f *Flow) uint64{
		"dst_port": func(f *Flow) uint64 { return uint64(f.DstPort) }, "src_port": func(f *Flow) uint64 { return uint64(f.SrcPort) },
		"proto": func(f *Flow) uint64 { return uint64(f.Proto) }, "src_as": func(f *Flow) uint64 { return uint64(f.SrcAS) },
		"dst_as": func(f *Flow) uint64 { return uint64(f.DstAS) }, "time_flow_start_ns": func(f *Flow) uint64 { return uint64(f.Start) },
		"bytes": func(f *Flow) uint64 { return f.Bytes }, "rev_bytes": func(f *Flow) uint64 { return f.RevBytes },
		"icmp_type": func(f *Flow) uint64 { return uint64(f.DstPort >> 8) },
	}
	for _, c := range cases {
		line := `{"src_addr":"192.0.2.1","dst_addr":"192.0.2.2","proto":1,"` + c.key + `":` + c.val + `,"x":1}`
		if c.key == "proto" {
			line = strings.Replace(line, `"proto":1,`, "", 1)
		}
		var fresh, trained, ref lineScanner
		var f Flow
		trained.scan([]byte(strings.Replace(line, c.val, "1", 1)), &f)
		for _, s := range []*lineScanner{&fresh, &trained} {
			buf := make([]byte, len(line), len(line)+64)
			copy(buf, line)
			err := s.scan(buf, &f)
			switch {
			case c.err == "" && err != nil:
				t.Errorf("scan(%s) = %v, want %s %s read", line, err, c.key, c.val)
			case c.err == "" && get[c.key] != nil && get[c.key](&f) != c.want:
				t.Errorf("scan(%s) read %s as %d, want %d", line, c.key, get[c.key](&f), c.want)
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Errorf("scan(%s) = %v, want an error containing %s", line, err, c.err)
			}
			scanBoth(t, s, &ref, buf)
		}
	}
}
