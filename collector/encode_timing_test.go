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

// encodePacket encodes a packet as the workers do.
func encodePacket(b []byte, p *decode.Packet) []byte {
	var prefix [256]byte
	pre := appendPrefix(prefix[:0], &p.Records[0], 1700000000123456789)
	for i := range p.Records {
		b = append(b, pre...)
		b = appendFlowBody(b, &p.Records[i])
	}
	return b
}

func TestAppendFlowJSONAllocs(t *testing.T) {
	p := benchPacket(t)
	buf := encodePacket(nil, p)
	if n := testing.AllocsPerRun(100, func() { buf = encodePacket(buf[:0], p) }); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}

// BenchmarkEncode measures the per-flow cost after decoding: JSON
// encoding, and encoding plus compressing a 1 MiB chunk.
func BenchmarkEncode(b *testing.B) {
	p := benchPacket(b)
	n := len(p.Records)
	b.Run("json", func(b *testing.B) {
		buf := encodePacket(nil, p)
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			buf = encodePacket(buf[:0], p)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/flow")
	})
	for _, c := range []struct {
		name  string
		codec codec
	}{{"json+gzip", codecGzip}, {"json+zstd", codecZstd}} {
		b.Run(c.name, func(b *testing.B) {
			z, err := newCompressor(c.codec)
			if err != nil {
				b.Fatal(err)
			}
			// One chunk is ~1 MiB of lines: compress when full.
			var buf []byte
			flows := 0
			b.ReportAllocs()
			for b.Loop() {
				buf = encodePacket(buf, p)
				flows += n
				if len(buf) >= 1<<20 {
					z.compress(buf)
					buf = buf[:0]
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(flows), "ns/flow")
		})
	}
}
