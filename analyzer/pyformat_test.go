package analyzer

import (
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/testvec"
	"github.com/nfkit/nfkit/pynetflow"
)

// pythonLines writes what `nfcollect -r capture --format python-netflow`
// writes: one python-netflow line per export packet, received at the
// capture time from the packet's source.
func pythonLines(t *testing.T, capture string) string {
	t.Helper()
	var d decode.Decoder
	var p decode.Packet
	var out []byte
	for _, dg := range testvec.Capture(t, capture+".pcap") {
		src := netip.AddrPortFrom(dg.Src.Addr().Unmap(), dg.Src.Port())
		if err := d.Decode(src.Addr(), dg.Payload, &p); err != nil {
			t.Fatalf("%s: %v", capture, err)
		}
		out = pynetflow.AppendPacket(out, dg.Time, src, &p)
	}
	return string(out)
}

// The python-netflow lines of a capture give nfanalyze the connections
// that the JSON lines of the same capture give (testdata/collected):
// addresses, ports, counters, both directions of biflows, times. v9 types
// python-netflow has no name for are written as UNKNOWN_FIELD_TYPE and
// cannot be read back, which changes the v9 captures whose end times
// (pmacct: flowEndMilliseconds) or ICMPv6 types (softflowd) use such types.
func TestPythonFormatAgrees(t *testing.T) {
	for _, name := range []string{"softflowd-v1", "softflowd-v5", "fprobe-v7", "softflowd-ipfix",
		"softflowd-ipfix-biflow", "pmacct-ipfix-usec", "pmacct-ipfix-sampling"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name+".jsonl")
			if err := os.WriteFile(path, []byte(pythonLines(t, name)), 0o644); err != nil {
				t.Fatal(err)
			}
			got := runGolden(t, Config{Inputs: []string{path}, Verbose: true, Loc: time.UTC})
			want, err := os.ReadFile(filepath.Join("testdata", "collected", name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			// The line counts differ: one line per packet, not per flow.
			lines := regexp.MustCompile(`, \d+ lines,`)
			got = lines.ReplaceAllString(got, ", N lines,")
			if w := lines.ReplaceAllString(string(want), ", N lines,"); got != w {
				t.Errorf("python-netflow lines of %s:\n%s\nJSON lines:\n%s", name, got, want)
			}
		})
	}
}
