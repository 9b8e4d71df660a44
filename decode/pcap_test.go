package decode

import (
	"net/netip"
	"path/filepath"
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

// captures lists the real-exporter captures in testdata.
func captures(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("..", "testdata", "*.tshark.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, n := range names {
		b := filepath.Base(n)
		out = append(out, b[:len(b)-len(".tshark.json")]+".pcap")
	}
	return out
}
