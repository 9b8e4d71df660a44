package decode

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// payload is one export packet taken from a capture.
type payload struct {
	src  netip.Addr
	data []byte
}

// readCapture returns the UDP payloads of a testdata pcap, in order.
func readCapture(tb testing.TB, name string) []payload {
	tb.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	var out []payload
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		udp, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if udp == nil {
			continue
		}
		var src netip.Addr
		switch ip := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
		}
		out = append(out, payload{src: src, data: append([]byte(nil), udp.Payload...)})
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
