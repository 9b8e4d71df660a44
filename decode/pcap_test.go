package decode

import (
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/testvec"
)

// payload is one export packet taken from a capture.
type payload struct {
	src  netip.Addr
	data []byte
}

// readCapture returns the UDP payloads of a testdata capture, in order.
func readCapture(tb testing.TB, name string) []payload {
	tb.Helper()
	var out []payload
	for _, d := range testvec.Capture(tb, name) {
		out = append(out, payload{src: d.Src.Addr(), data: d.Payload})
	}
	if len(out) == 0 {
		tb.Fatalf("%s: no UDP payloads", name)
	}
	return out
}

// captures lists the real-exporter NetFlow and IPFIX captures in
// testdata (sflowCaptures the sFlow ones).
func captures(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("..", "testdata", "*.tshark.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, n := range names {
		b := filepath.Base(n)
		if strings.HasPrefix(b, "sfprobe-") {
			continue // sFlow: sflow_test.go
		}
		out = append(out, b[:len(b)-len(".tshark.json")]+".pcap")
	}
	return out
}

// TestReusedPacketMatchesFresh decodes every capture, one after another,
// into one reused Packet and, with a second Decoder fed the same packets,
// into a new Packet each time: every record must be the same. Slots are
// reused across templates, versions and exporters' shapes, and only the
// fields the old record had and the new one does not set are cleared, so
// a stale field would show here.
func TestReusedPacketMatchesFresh(t *testing.T) {
	var reusedDec, freshDec Decoder
	var reused Packet
	for _, name := range captures(t) {
		for i, pk := range readCapture(t, name) {
			err1 := reusedDec.Decode(pk.src, pk.data, &reused)
			var fresh Packet
			err2 := freshDec.Decode(pk.src, pk.data, &fresh)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%s packet %d: errors %v and %v", name, i, err1, err2)
			}
			for _, pair := range [][2][]Record{{reused.Records, fresh.Records}, {reused.Options, fresh.Options}} {
				a, b := pair[0], pair[1]
				if len(a) != len(b) {
					t.Fatalf("%s packet %d: %d and %d records", name, i, len(a), len(b))
				}
				for j := range a {
					if a[j].Flow != b[j].Flow || a[j].SamplingRate != b[j].SamplingRate || a[j].Offset != b[j].Offset {
						t.Fatalf("%s packet %d record %d: reused slot\n%+v\nfresh\n%+v", name, i, j, a[j].Flow, b[j].Flow)
					}
				}
			}
		}
	}
}
