package collector

import (
	"net/netip"
	"testing"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/benchpkt"
)

// benchPacket decodes the benchmark v9 packet (25 flows, 20 fields).
func benchPacket(tb testing.TB) *decode.Packet {
	var d decode.Decoder
	p := new(decode.Packet)
	tmpl, data := benchpkt.V9()
	exp := netip.MustParseAddr("192.0.2.1")
	if err := d.Decode(exp, tmpl, p); err != nil {
		tb.Fatal(err)
	}
	if err := d.Decode(exp, data, p); err != nil {
		tb.Fatal(err)
	}
	return p
}

// Encoding a packet for an output allocates nothing.
func TestEncodeAllocs(t *testing.T) {
	e := &Export{Packet: benchPacket(t), Received: 1700000000123456789}
	buf := JSONLines{}.AppendPacket(nil, e)
	if n := testing.AllocsPerRun(100, func() { buf = JSONLines{}.AppendPacket(buf[:0], e) }); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}

// BenchmarkEncode measures the per-flow cost of encoding plus compressing
// 1 MiB chunks, as the workers do (the JSON encoding alone is flowjson's
// BenchmarkEncode).
func BenchmarkEncode(b *testing.B) {
	e := &Export{Packet: benchPacket(b), Received: 1700000000123456789}
	n := len(e.Packet.Records)
	for _, c := range []struct {
		name  string
		codec Codec
	}{{"json+gzip", Gzip}, {"json+zstd", Zstd}} {
		b.Run(c.name, func(b *testing.B) {
			z, err := newFramer(c.codec)
			if err != nil {
				b.Fatal(err)
			}
			var buf []byte
			flows := 0
			b.ReportAllocs()
			for b.Loop() {
				buf = JSONLines{}.AppendPacket(buf, e)
				flows += n
				if len(buf) >= 1<<20 {
					z.Frame(buf)
					buf = buf[:0]
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(flows), "ns/flow")
		})
	}
}
