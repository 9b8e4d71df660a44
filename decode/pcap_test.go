package decode

import (
	"io"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/nfkit/nfkit/capture"
)

// payload is one export packet taken from a capture.
type payload struct {
	src  netip.Addr
	data []byte
}

// readCapture returns the UDP payloads of a testdata capture, in order.
func readCapture(tb testing.TB, name string) []payload {
	tb.Helper()
	f, err := capture.Open(filepath.Join("..", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []payload
	for {
		d, err := f.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, payload{src: d.Src.Addr(), data: append([]byte(nil), d.Payload...)})
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
