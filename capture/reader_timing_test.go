package capture

import (
	"bytes"
	"io"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// benchCapture is a capture of 1000 export-sized datagrams over Ethernet
// with a VLAN tag, as pcap or pcapng.
func benchCapture(tb testing.TB, ng bool) []byte {
	tb.Helper()
	ip := udpPacket(tb, exp4, col4, testPayload(1400, 14))
	frame := etherFrame(etherIPv4, ip, etherVLAN)
	if ng {
		n := (*ngFile)(nil).section(false).iface(uint16(LinkTypeEthernet), 0, -1, 0)
		for range 1000 {
			n.epb(0, uint64(t0.UnixMicro()), frame, 0)
		}
		return n.b
	}
	recs := make([]rec, 1000)
	for i := range recs {
		recs[i] = rec{ts: t0, data: frame}
	}
	return pcapFile(false, false, uint32(LinkTypeEthernet), 65535, recs...)
}

var sinkBytes int

// BenchmarkReader reads a 1000-datagram capture per op; the gopacket
// baseline is how the collector and nfreplay read captures before this
// package (pcapgo, then gopacket.NewPacket with lazy decoding).
func BenchmarkReader(b *testing.B) {
	for _, format := range []string{"pcap", "pcapng"} {
		data := benchCapture(b, format == "pcapng")
		b.Run("format="+format+"/impl=capture", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				for {
					d, err := r.Next()
					if err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
					sinkBytes += len(d.Payload)
				}
			}
		})
		b.Run("format="+format+"/impl=gopacket", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var src interface {
					ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
					LinkType() layers.LinkType
				}
				var err error
				if format == "pcapng" {
					src, err = pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
				} else {
					src, err = pcapgo.NewReader(bytes.NewReader(data))
				}
				if err != nil {
					b.Fatal(err)
				}
				for {
					pkt, _, err := src.ReadPacketData()
					if err != nil {
						break
					}
					p := gopacket.NewPacket(pkt, src.LinkType(), gopacket.DecodeOptions{NoCopy: true, Lazy: true})
					if _, ok := p.NetworkLayer().(*layers.IPv4); !ok {
						b.Fatal("not IPv4")
					}
					if u, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
						sinkBytes += len(u.Payload)
					}
				}
			}
		})
	}
}
