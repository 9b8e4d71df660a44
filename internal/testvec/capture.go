package testvec

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/nfkit/nfkit/capture"
)

// Datagram is a UDP datagram of a capture, its payload copied.
type Datagram = capture.Datagram

// Capture returns the UDP datagrams of testdata/name (pcap or pcapng), in
// order, read with package capture.
func Capture(tb testing.TB, name string) []Datagram {
	tb.Helper()
	f, err := capture.Open(filepath.Join(Root(), "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []Datagram
	for {
		d, err := f.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatal(err)
		}
		d.Payload = bytes.Clone(d.Payload)
		out = append(out, d)
	}
}

// Payloads returns the UDP payloads of testdata/name, in order.
func Payloads(tb testing.TB, name string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, d := range Capture(tb, name) {
		out = append(out, d.Payload)
	}
	return out
}
