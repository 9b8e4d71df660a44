package decode

import (
	"errors"
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
func gopacketFlow(frame []byte) Flow { return gopacketFlowOf(frame, layers.LayerTypeEthernet) }

func gopacketFlowOf(frame []byte, first gopacket.LayerType) Flow {
	var f Flow
	pk := gopacket.NewPacket(frame, first, gopacket.DecodeOptions{NoCopy: true})
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
		case *layers.Dot11:
			// Destination and source by the To DS / From DS bits (IEEE
			// 802.11-2020 Table 9-26).
			da, sa := l.Address1, l.Address2
			switch {
			case l.Flags.ToDS() && l.Flags.FromDS():
				da, sa = l.Address3, l.Address4
			case l.Flags.ToDS():
				da = l.Address3
			case l.Flags.FromDS():
				sa = l.Address3
			}
			f.DstMAC, f.SrcMAC = MAC(da), MAC(sa)
			f.Has |= HasDstMAC | HasSrcMAC
		case *layers.SNAP:
			f.EtherType = uint16(l.Type)
			f.Has |= HasEtherType
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

// TestParse80211AgainstGopacket: 802.11 data frames of each To DS / From
// DS combination, plain and QoS, with LLC/SNAP and IPv4 or IPv6 under it;
// management and protected frames give nothing past the MACs.
func TestParse80211AgainstGopacket(t *testing.T) {
	a1, a2, a3, a4 := net.HardwareAddr{2, 0, 0, 0, 0, 1}, net.HardwareAddr{2, 0, 0, 0, 0, 2}, net.HardwareAddr{2, 0, 0, 0, 0, 3}, net.HardwareAddr{2, 0, 0, 0, 0, 4}
	ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 9, TOS: 0x20, Protocol: layers.IPProtocolUDP, SrcIP: net.IP{192, 0, 2, 7}, DstIP: net.IP{198, 51, 100, 8}}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 3, NextHeader: layers.IPProtocolTCP, SrcIP: net.ParseIP("2001:db8::7"), DstIP: net.ParseIP("2001:db8::8")}
	udp := &layers.UDP{SrcPort: 4000, DstPort: 53}
	tcp := &layers.TCP{SrcPort: 4001, DstPort: 443, PSH: true, ACK: true}
	n := 0
	for _, ds := range []layers.Dot11Flags{0, layers.Dot11FlagsToDS, layers.Dot11FlagsFromDS, layers.Dot11FlagsToDS | layers.Dot11FlagsFromDS} {
		for _, typ := range []layers.Dot11Type{layers.Dot11TypeData, layers.Dot11TypeDataQOSData} {
			for v, l3 := range []gopacket.SerializableLayer{ip4, ip6} {
				l4 := gopacket.SerializableLayer(udp)
				et := layers.EthernetTypeIPv4
				if v == 1 {
					l4, et = tcp, layers.EthernetTypeIPv6
				}
				if t4, ok := l4.(*layers.TCP); ok {
					_ = t4.SetNetworkLayerForChecksum(ip6)
				}
				d := &layers.Dot11{Type: typ, Flags: ds, Address1: a1, Address2: a2, Address3: a3, Address4: a4}
				wds := ds == layers.Dot11FlagsToDS|layers.Dot11FlagsFromDS
				if wds {
					d.Flags = layers.Dot11FlagsToDS // gopacket writes a 4-address header over the LLC: add address 4 below
				}
				buf := gopacket.NewSerializeBuffer()
				if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, d,
					&layers.LLC{DSAP: 0xAA, SSAP: 0xAA, Control: 3}, &layers.SNAP{OrganizationalCode: []byte{0, 0, 0}, Type: et}, l3, l4, gopacket.Payload("x")); err != nil {
					t.Fatal(err)
				}
				frame := buf.Bytes()
				if wds {
					frame = append(append(append([]byte{}, frame[:24]...), a4...), frame[24:]...)
					frame[1] |= byte(layers.Dot11FlagsFromDS)
				}
				if typ == layers.Dot11TypeDataQOSData {
					// gopacket writes no QoS control field: insert one.
					hl := 24
					if wds {
						hl = 30
					}
					frame = append(append(append([]byte{}, frame[:hl]...), 5, 0), frame[hl:]...)
				}
				// gopacket's Dot11 takes the last 4 bytes for the FCS.
				want := gopacketFlowOf(append(frame[:len(frame):len(frame)], 0, 0, 0, 0), layers.LayerTypeDot11)
				var got Flow
				parse80211Header(frame, &got)
				if got != want || got.Has&HasSrcPort == 0 {
					t.Errorf("802.11 DS %v type %v IPv%d: got\n%+v\ngopacket\n%+v", ds, typ, 4+2*v, got, want)
				}
				n++
				// Protected: the MACs only.
				frame[1] |= 0x40
				got = Flow{}
				parse80211Header(frame, &got)
				if got.Has != HasSrcMAC|HasDstMAC {
					t.Errorf("protected frame: fields %b, want the MACs only", got.Has)
				}
			}
		}
	}
	// A management frame (a beacon) gives nothing.
	var f Flow
	parse80211Header(append([]byte{0x80, 0}, make([]byte, 40)...), &f)
	if f.Has != 0 || n != 16 {
		t.Errorf("beacon: fields %b; %d frames compared", f.Has, n)
	}
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

// FuzzParseHeader: any bytes parse without a panic, as Ethernet or 802.11,
// and every prefix of them gives the whole input's fields or none: the parser reads nothing
// past the end and nothing it has not checked.
func FuzzParseHeader(f *testing.F) {
	for _, fr := range synthFrames(f)[:60] {
		f.Add(fr)
	}
	for _, fr := range handFrames(f) {
		f.Add(fr)
	}
	f.Add(append([]byte{0x88, 0x01}, make([]byte, 60)...)) // an 802.11 QoS data frame to the AP
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte, *Flow){parseEthernetHeader, parse80211Header} {
			var whole Flow
			parse(b, &whole)
			for _, n := range []int{len(b) / 2, len(b) - 1, 14, 18, 24, 34, 54} {
				if n < 0 || n > len(b) {
					continue
				}
				var p Flow
				parse(b[:n], &p)
				g := whole
				g.clear(whole.Has &^ p.Has)
				g.Has = p.Has
				if p.Has&^whole.Has != 0 || p != g {
					t.Fatalf("prefix %d: %+v, whole: %+v", n, p, whole)
				}
			}
		}
	})
}

// IPFIX records with a dataLinkFrameSection (softflowd's PSAMP export: one
// sampled frame per record, no other flow fields) get their addresses,
// ports, protocol and the rest from the frame's headers, as gopacket reads
// them, and their bytes from dataLinkFrameSize when they carry no counter.
func TestSectionHeaders(t *testing.T) {
	var d Decoder
	var p Packet
	n := 0
	for _, pk := range readCapture(t, "softflowd-psamp.pcap") {
		if err := d.Decode(pk.src, pk.data, &p); err != nil {
			t.Fatal(err)
		}
		for i := range p.Records {
			r := &p.Records[i]
			tm := r.Template()
			if tm.section < 0 {
				t.Fatalf("record %d: template %d has no section field", i, tm.ID)
			}
			sec, ok := r.FieldAt(int(tm.section))
			if !ok {
				t.Fatal("no section value")
			}
			want := gopacketFlow(sec.Value)
			if want.Has&HasSrcAddr == 0 {
				continue
			}
			for _, c := range []struct {
				bit       FieldSet
				got, want any
			}{
				{HasSrcAddr, r.SrcAddr, want.SrcAddr}, {HasDstAddr, r.DstAddr, want.DstAddr},
				{HasProto, r.Proto, want.Proto}, {HasSrcPort, r.SrcPort, want.SrcPort},
				{HasDstPort, r.DstPort, want.DstPort}, {HasSrcMAC, r.SrcMAC, want.SrcMAC},
				{HasTTL, r.TTL, want.TTL}, {HasEtherType, r.EtherType, want.EtherType},
			} {
				if want.Has&c.bit != 0 && (r.Has&c.bit == 0 || c.got != c.want) {
					t.Errorf("record %d: field %#x: %v (has %v), gopacket %v", n, uint64(c.bit), c.got, r.Has&c.bit != 0, c.want)
				}
			}
			if tm.frameSize >= 0 && (r.Has&HasBytes == 0 || r.Bytes == 0 || r.Packets != 1) {
				t.Errorf("record %d: bytes %d packets %d from dataLinkFrameSize", n, r.Bytes, r.Packets)
			}
			n++
		}
	}
	if n < 20 {
		t.Fatalf("%d records checked", n)
	}
}

// ipv4PortsFrame returns the first 64 bytes of the first IPv4 frame with
// ports (TCP or UDP) of the synthetic traffic.
func ipv4PortsFrame(t *testing.T) []byte {
	for _, f := range synthFrames(t) {
		if w := gopacketFlow(f); w.Has&HasSrcPort != 0 && w.SrcAddr.Is4() && len(f) >= 64 {
			return f[:64]
		}
	}
	t.Fatal("no IPv4 TCP/UDP frame in the synthetic traffic")
	return nil
}

// NetFlow v9 layer2packetSectionData (104; Cisco's and Juniper's datalink
// export) and IPFIX ipHeaderPacketSection (313, from the IP header on) with
// dataLinkFrameSize (312): the headers fill what the record lacks, and a
// field the record carries itself wins.
func TestSectionHeadersV9AndIP(t *testing.T) {
	frame := ipv4PortsFrame(t)
	want := gopacketFlow(frame)
	// v9: the 64-byte section and the protocol field, which must win.
	v9 := v9Packet(1000, 1600000000, 1, 0, 2,
		set(0, v9Template(300, fs{id: 104, length: 64}, fs{id: 4, length: 1})),
		set(300, frame, u8(99)))
	// IPFIX: the section from the IP header on, and the frame's size.
	ip := frame[14:]
	ipfix := ipfixPacket(1600000000, 1, 0,
		set(2, ipfixTemplate(301, 0, fs{id: 313, length: uint16(len(ip))}, fs{id: 312, length: 2})),
		set(301, ip, u16(1514)))
	for _, c := range []struct {
		name  string
		pkt   []byte
		proto uint8
		bytes uint64
	}{{"v9", v9, 99, 0}, {"ipfix", ipfix, want.Proto, 1514}} {
		var d Decoder
		var p Packet
		if err := d.Decode(loopback, c.pkt, &p); err != nil || len(p.Records) != 1 {
			t.Fatalf("%s: %d records: %v", c.name, len(p.Records), err)
		}
		r := &p.Records[0]
		if r.SrcAddr != want.SrcAddr || r.DstAddr != want.DstAddr || r.SrcPort != want.SrcPort || r.DstPort != want.DstPort {
			t.Errorf("%s: %v:%d → %v:%d, want %v:%d → %v:%d", c.name, r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort,
				want.SrcAddr, want.SrcPort, want.DstAddr, want.DstPort)
		}
		if r.Proto != c.proto {
			t.Errorf("%s: proto %d, want %d (the record's own field wins)", c.name, r.Proto, c.proto)
		}
		if r.Bytes != c.bytes || (c.bytes != 0) != (r.Has&HasBytes != 0) {
			t.Errorf("%s: bytes %d (has %v), want %d", c.name, r.Bytes, r.Has&HasBytes != 0, c.bytes)
		}
	}
}

// A sampled packet section is parsed as its record is read, by every
// reader of a data set: the set loop (and quiet packets skip finish), the
// record-by-record loop of a set the record limit cuts, and the loop of a
// template with variable-length fields. A record slot that held a frame
// with IP headers keeps none of their fields for a frame without, and
// options data in the packet (finish then runs) change nothing but the
// sampling rate.
func TestSectionHeadersEveryPath(t *testing.T) {
	ipFrame := ipv4PortsFrame(t)
	want := gopacketFlow(ipFrame)
	arp := make([]byte, 64)
	copy(arp, ipFrame[:12])
	arp[12], arp[13] = 0x08, 0x06
	opts := set(3, ipfixTemplate(302, 1, fs{id: 149, length: 4}, fs{id: 34, length: 4}))
	for _, c := range []struct {
		name  string
		field fs
		limit int
		rec   func([]byte) []byte
	}{
		{"fixed", fs{id: 315, length: 64}, 0, func(f []byte) []byte { return f }},
		{"fixed, cut by the record limit", fs{id: 315, length: 64}, 2, func(f []byte) []byte { return f }},
		{"variable-length", fs{id: 315, length: VariableLength}, 0, func(f []byte) []byte { return cat(u8(uint8(len(f))), f) }},
	} {
		d := Decoder{Limits: Limits{MaxRecords: c.limit}}
		decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, set(2, ipfixTemplate(400, 0, c.field))))
		tm := d.Template(loopback, 0, 400)
		if tm == nil || tm.section != 0 || !tm.quiet {
			t.Fatalf("%s: template %+v", c.name, tm)
		}
		var p Packet // one for all, so that record slots are reused
		for _, s := range []struct {
			frame []byte
			sets  [][]byte
			rate  uint64
		}{
			{ipFrame, nil, 0},
			{arp, nil, 0},
			{ipFrame, [][]byte{opts, set(302, u32(0), u32(100))}, 100},
			{arp, nil, 100},
		} {
			data := set(400, c.rec(s.frame), c.rec(s.frame), c.rec(s.frame))
			err := d.Decode(loopback, ipfixPacket(exportSecs, 0, 0, append(s.sets, data)...), &p)
			if n := len(p.Records); err != nil && !(c.limit != 0 && errors.Is(err, ErrLimit)) || n == 0 {
				t.Fatalf("%s: %d records: %v", c.name, n, err)
			}
			for i := range p.Records {
				r := &p.Records[i]
				if r.SamplingRate != s.rate {
					t.Errorf("%s: rate %d, want %d", c.name, r.SamplingRate, s.rate)
				}
				if s.frame[13] == 0x06 {
					if r.Has&(HasSrcAddr|HasDstAddr|HasSrcPort|HasProto|HasIPVersion) != 0 || r.SrcAddr.IsValid() || r.SrcPort != 0 || r.Proto != 0 || r.EtherType != 0x0806 {
						t.Errorf("%s: ARP frame: has %#x, EtherType %#x", c.name, uint64(r.Has), r.EtherType)
					}
					continue
				}
				if r.SrcAddr != want.SrcAddr || r.DstAddr != want.DstAddr || r.SrcPort != want.SrcPort ||
					r.Proto != want.Proto || r.EtherType != 0x0800 || r.Has&(HasSrcAddr|HasEtherType) != HasSrcAddr|HasEtherType {
					t.Errorf("%s: %v:%d → %v:%d proto %d EtherType %#x, want %v:%d → %v:%d proto %d 0x800", c.name,
						r.SrcAddr, r.SrcPort, r.DstAddr, r.DstPort, r.Proto, r.EtherType,
						want.SrcAddr, want.SrcPort, want.DstAddr, want.DstPort, want.Proto)
				}
			}
		}
	}
}
