//go:build linux

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The collector's /metrics, its /proc status and the capture's payloads
// are bytes from outside this program: their parsers must not panic.

func FuzzParseMetrics(f *testing.F) {
	f.Add([]byte(sampleMetrics))
	f.Add([]byte(`x{a="\"} 1` + "\n" + `y{a="b",c} 2` + "\n{} 3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := parseMetrics(b)
		m.sum("nfcollect_packets_received_total", "exporter", "127.0.0.1")
		m.byLabel("nfcollect_decode_errors_total", "reason")
		parseGoMem(b)
	})
}

func FuzzParseStatus(f *testing.F) {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("VmHWM:\t   12345 kB\nVmRSS:\t    2048 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseStatus(b)
		if err == nil && (m.RSS < 0 || m.HWM < 0) {
			t.Errorf("got negative sizes %+v without an error", m)
		}
	})
}

func FuzzHasTemplateSet(f *testing.F) {
	pkts, err := readCapture(filepath.Join("..", "..", "testdata", "softflowd-ipfix.pcap"))
	if err != nil {
		f.Fatal(err)
	}
	more, err := readCapture(filepath.Join("..", "..", "testdata", "softflowd-v9.pcap"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range append(pkts, more...) {
		f.Add(p.data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		hasTemplateSet(b)
	})
}
