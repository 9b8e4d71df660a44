package decode

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// The sampled-header parser against gopacket's layers, an independent
// decoder: every frame of the synthetic traffic, whole and cut to the
// sizes agents sample, and hand-made frames with QinQ, MPLS, IPv6
// extension headers and fragments.

// gopacketFlow returns the Flow gopacket's layers give for frame: the
// fields of every layer it decoded, outermost first.
func gopacketFlow(frame []byte) Flow {
	var f Flow
	pk := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	ipDone := false
	for _, l := range pk.Layers() {
		switch l := l.(type) {
		case *layers.Ethernet:
			if f.Has&HasDstMAC == 0 {
				f.DstMAC, f.SrcMAC = MAC(l.DstMAC), MAC(l.SrcMAC)
				f.Has |= HasDstMAC | HasSrcMAC
				if l.EthernetType != layers.EthernetTypeDot1Q && l.EthernetType != layers.EthernetTypeQinQ && l.Length == 0 {
					f.EtherType = uint16(l.EthernetType)
					f.Has |= HasEtherType
				}
			}
		case *layers.Dot1Q:
			if f.Has&HasSrcVLAN == 0 {
				f.SrcVLAN = l.VLANIdentifier
				f.Has |= HasSrcVLAN
			}
			if l.Type != layers.EthernetTypeDot1Q && l.Type != layers.EthernetTypeQinQ && f.Has&HasEtherType == 0 {
				f.EtherType = uint16(l.Type)
				f.Has |= HasEtherType
			}
		case *layers.IPv4:
			if ipDone {
				continue
			}
			ipDone = true
			f.IPVersion, f.TOS, f.TTL, f.Proto = 4, l.TOS, l.TTL, uint8(l.Protocol)
			f.SrcAddr, _ = netip.AddrFromSlice(l.SrcIP.To4())
			f.DstAddr, _ = netip.AddrFromSlice(l.DstIP.To4())
			f.Has |= HasIPVersion | HasTOS | HasTTL | HasProto | HasSrcAddr | HasDstAddr
		case *layers.IPv6:
			if ipDone {
				continue
			}
			ipDone = true
			f.IPVersion, f.TOS, f.TTL, f.Proto = 6, l.TrafficClass, l.HopLimit, uint8(l.NextHeader)
			f.SrcAddr, _ = netip.AddrFromSlice(l.SrcIP)
			f.DstAddr, _ = netip.AddrFromSlice(l.DstIP)
			f.Has |= HasIPVersion | HasTOS | HasTTL | HasProto | HasSrcAddr | HasDstAddr
		case *layers.IPv6HopByHop:
			f.Proto = uint8(l.NextHeader)
		case *layers.IPv6Destination:
			f.Proto = uint8(l.NextHeader)
		case *layers.IPv6Fragment:
			f.Proto = uint8(l.NextHeader)
		case *layers.TCP:
			if f.Has&HasSrcPort != 0 {
				continue
			}
			f.SrcPort, f.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
			var fl uint16
			for i, b := range []bool{l.FIN, l.SYN, l.RST, l.PSH, l.ACK, l.URG, l.ECE, l.CWR, l.NS} {
				if b {
					fl |= 1 << i
				}
			}
			f.TCPFlags = fl
			f.Has |= HasSrcPort | HasDstPort | HasTCPFlags
		case *layers.UDP:
			if f.Has&HasSrcPort != 0 {
				continue
			}
			f.SrcPort, f.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
			f.Has |= HasSrcPort | HasDstPort
		case *layers.ICMPv4:
			if f.Has&HasICMPType != 0 {
				continue
			}
			f.ICMPType, f.ICMPCode = l.TypeCode.Type(), l.TypeCode.Code()
			f.Has |= HasICMPType | HasICMPCode
		case *layers.ICMPv6:
			if f.Has&HasICMPType != 0 {
				continue
			}
			f.ICMPType, f.ICMPCode = l.TypeCode.Type(), l.TypeCode.Code()
			f.Has |= HasICMPType | HasICMPCode
		}
	}
	if f.Has&HasIPVersion != 0 && f.Has&HasEtherType == 0 {
		f.EtherType = map[uint8]uint16{4: 0x0800, 6: 0x86DD}[f.IPVersion]
		f.Has |= HasEtherType
	}
	return f
}

func synthFrames(tb testing.TB) [][]byte {
	tb.Helper()
	fh, err := os.Open(filepath.Join("..", "testdata", "synthetic-traffic.pcap"))
	if err != nil {
		tb.Fatal(err)
	}
	defer fh.Close()
	r, err := pcapgo.NewReader(fh)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for {
		data, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		out = append(out, data)
	}
	if len(out) < 300 {
		tb.Fatalf("synthetic-traffic.pcap: %d frames", len(out))
	}
	return out
}

func TestParseHeaderAgainstGopacket(t *testing.T) {
	frames := synthFrames(t)
	frames = append(frames, handFrames(t)...)
	n := 0
	for i, fr := range frames {
		for _, cut := range []int{len(fr), 128, 96} {
			if cut > len(fr) {
				continue
			}
			b := fr[:cut]
			want := gopacketFlow(b)
			if cut < len(fr) {
				// gopacket drops a layer it cannot decode whole; compare
				// only frames it decoded to the end.
				pk := gopacket.NewPacket(b, layers.LayerTypeEthernet, gopacket.Default)
				if pk.ErrorLayer() != nil {
					continue
				}
			}
			var got Flow
			parseEthernetHeader(b, &got)
			if got != want {
				t.Errorf("frame %d cut to %d: parseEthernetHeader =\n%+v\ngopacket:\n%+v", i, cut, got, want)
			}
			n++
		}
	}
	if n < 300 {
		t.Fatalf("compared %d frames", n)
	}
}

// handFrames builds frames the synthetic traffic lacks.
func handFrames(tb testing.TB) [][]byte {
	mac1, mac2 := net.HardwareAddr{2, 0, 0x5e, 0, 0, 1}, net.HardwareAddr{2, 0, 0x5e, 0, 0, 2}
	v4a, v4b := net.IP{192, 0, 2, 1}, net.IP{198, 51, 100, 2}
	v6a, v6b := net.ParseIP("2001:db8::1"), net.ParseIP("2001:db8::2")
	ser := func(ls ...gopacket.SerializableLayer) []byte {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, ls...); err != nil {
			tb.Fatal(err)
		}
		return append([]byte(nil), buf.Bytes()...)
	}
	tcp := &layers.TCP{SrcPort: 40000, DstPort: 443, SYN: true, ACK: true, NS: true, Window: 1000}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 53}
	payload := gopacket.Payload([]byte("hello"))
	ip4 := func(p layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, IHL: 5, TTL: 61, TOS: 0x28, Protocol: p, SrcIP: v4a, DstIP: v4b}
	}
	ip6 := func(p layers.IPProtocol) *layers.IPv6 {
		return &layers.IPv6{Version: 6, TrafficClass: 0xb8, HopLimit: 7, NextHeader: p, SrcIP: v6a, DstIP: v6b}
	}
	var out [][]byte
	// QinQ: service tag 200, customer tag 30.
	out = append(out, ser(
		&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeQinQ},
		&layers.Dot1Q{VLANIdentifier: 200, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 30, Priority: 5, Type: layers.EthernetTypeIPv4},
		ip4(layers.IPProtocolTCP), tcp, payload))
	// IPv4 with options (IHL 6), UDP.
	o := ip4(layers.IPProtocolUDP)
	o.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
	out = append(out, ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv4}, o, udp, payload))
	// A later IPv4 fragment: no transport header.
	fr := ip4(layers.IPProtocolUDP)
	fr.FragOffset = 100
	out = append(out, ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv4}, fr, payload))
	// ICMP echo and an ICMPv6 unreachable.
	out = append(out, ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv4},
		ip4(layers.IPProtocolICMPv4), &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0), Id: 1, Seq: 2}, payload))
	icmp6 := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(1, 4)}
	i6 := ip6(layers.IPProtocolICMPv6)
	_ = icmp6.SetNetworkLayerForChecksum(i6)
	out = append(out, ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv6}, i6, icmp6, payload))
	// IPv6 with a hop-by-hop options header, then UDP.
	hbh := &layers.IPv6HopByHop{}
	hbh.NextHeader = layers.IPProtocolUDP
	hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionLength: 4, OptionData: []byte{0, 0, 0, 0}}}
	out = append(out, ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv6},
		ip6(layers.IPProtocolIPv6HopByHop), hbh, udp, payload))
	// A later IPv6 fragment. (gopacket does not decode the transport
	// header of a first fragment: it is not compared.)
	out = append(out, ser(&layers.Ethernet{SrcMAC: mac1, DstMAC: mac2, EthernetType: layers.EthernetTypeIPv6},
		ip6(layers.IPProtocolIPv6Fragment), gopacket.Payload([]byte{6, 0, 0, 10 << 3, 0, 0, 0, 9, 'x', 'y'})))
	return out
}

// TestParseHeaderMPLS: gopacket guesses the payload of an MPLS stack only
// when told to; the expectation is written out.
func TestParseHeaderMPLS(t *testing.T) {
	frame := []byte{
		2, 0, 0x5e, 0, 0, 2, 2, 0, 0x5e, 0, 0, 1, 0x88, 0x47, // Ethernet, MPLS unicast
		0x00, 0x01, 0x00, 0x40, // label 16, TTL 64
		0x00, 0x01, 0x11, 0x40, // label 17, bottom of stack
		0x45, 0x10, 0, 40, 0, 0, 0, 0, 63, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2, // IPv4 UDP
		0x13, 0x88, 0x00, 0x35, 0, 20, 0, 0, // UDP 5000 → 53
	}
	var got Flow
	parseEthernetHeader(frame, &got)
	want := Flow{
		Has:    HasDstMAC | HasSrcMAC | HasEtherType | HasIPVersion | HasTOS | HasTTL | HasProto | HasSrcAddr | HasDstAddr | HasSrcPort | HasDstPort,
		DstMAC: MAC{2, 0, 0x5e, 0, 0, 2}, SrcMAC: MAC{2, 0, 0x5e, 0, 0, 1}, EtherType: 0x8847,
		IPVersion: 4, TOS: 0x10, TTL: 63, Proto: 17,
		SrcAddr: netip.MustParseAddr("192.0.2.1"), DstAddr: netip.MustParseAddr("198.51.100.2"),
		SrcPort: 5000, DstPort: 53,
	}
	if got != want {
		t.Errorf("got parseEthernetHeader = %+v, want %+v", got, want)
	}
}

// TestParseHeaderBounded: every prefix of every test frame parses without
// a panic, and a field is only ever set from bytes inside the prefix: a
// prefix's fields are those of the whole frame or absent.
func TestParseHeaderBounded(t *testing.T) {
	frames := append(synthFrames(t)[:40], handFrames(t)...)
	for i, fr := range frames {
		var whole Flow
		parseEthernetHeader(fr, &whole)
		for n := 0; n <= len(fr); n++ {
			var f Flow
			parseEthernetHeader(fr[:n], &f)
			if f.Has&^whole.Has != 0 {
				t.Fatalf("frame %d cut to %d: fields %b beyond the whole frame's", i, n, f.Has&^whole.Has)
			}
			g := whole
			g.clear(whole.Has &^ f.Has)
			g.Has = f.Has
			if f != g {
				t.Fatalf("frame %d cut to %d: got %+v, want the whole frame's %+v", i, n, f, g)
			}
		}
	}
}

func TestParseHeaderAllocs(t *testing.T) {
	frames := synthFrames(t)
	var f Flow
	if n := testing.AllocsPerRun(20, func() {
		for _, fr := range frames {
			f = Flow{}
			parseEthernetHeader(fr, &f)
		}
	}); n != 0 {
		t.Errorf("parseEthernetHeader: %v allocations per run, want 0", n)
	}
}

// FuzzParseHeader: any bytes parse without a panic, and every prefix of
// them gives the whole input's fields or none: the parser reads nothing
// past the end and nothing it has not checked.
func FuzzParseHeader(f *testing.F) {
	for _, fr := range synthFrames(f)[:60] {
		f.Add(fr)
	}
	for _, fr := range handFrames(f) {
		f.Add(fr)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var whole Flow
		parseEthernetHeader(b, &whole)
		for _, n := range []int{len(b) / 2, len(b) - 1, 14, 18, 34, 54} {
			if n < 0 || n > len(b) {
				continue
			}
			var p Flow
			parseEthernetHeader(b[:n], &p)
			g := whole
			g.clear(whole.Has &^ p.Has)
			g.Has = p.Has
			if p.Has&^whole.Has != 0 || p != g {
				t.Fatalf("prefix %d: %+v, whole: %+v", n, p, whole)
			}
		}
	})
}
