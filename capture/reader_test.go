package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/ip4defrag"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// dg is a Datagram with its payload copied, comparable with ==.
type dg struct {
	Time      time.Time
	Src, Dst  netip.AddrPort
	Payload   string
	Truncated bool
	Packet    int
}

func (d dg) String() string {
	return fmt.Sprintf("packet %d %s %s→%s %d bytes %x truncated=%v", d.Packet, d.Time.UTC().Format(time.RFC3339Nano),
		d.Src, d.Dst, len(d.Payload), sha256.Sum256([]byte(d.Payload)), d.Truncated)
}

func copyDatagram(d Datagram) dg {
	return dg{Time: d.Time, Src: d.Src, Dst: d.Dst, Payload: string(d.Payload), Truncated: d.Truncated, Packet: d.Packet}
}

// readAll reads every datagram of a capture; err is what ended reading
// (io.EOF for a whole capture).
func readAll(tb testing.TB, src io.Reader) ([]dg, Stats, error) {
	tb.Helper()
	r, err := NewReader(src)
	if err != nil {
		return nil, Stats{}, err
	}
	var out []dg
	for {
		d, err := r.Next()
		if err != nil {
			return out, r.Stats(), err
		}
		out = append(out, copyDatagram(d))
	}
}

// mustReadAll reads a capture that must be whole.
func mustReadAll(tb testing.TB, b []byte) ([]dg, Stats) {
	tb.Helper()
	out, st, err := readAll(tb, bytes.NewReader(b))
	if err != io.EOF {
		tb.Fatalf("reading: %v", err)
	}
	return out, st
}

// referenceRead reads a capture with gopacket, as the collector and
// nfreplay did before this package: pcapgo's readers, gopacket's layers
// and ip4defrag.
func referenceRead(tb testing.TB, b []byte) []dg {
	tb.Helper()
	type source interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
		LinkType() layers.LinkType
	}
	var src source
	var err error
	if bytes.HasPrefix(b, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		src, err = pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions)
	} else {
		src, err = pcapgo.NewReader(bytes.NewReader(b))
	}
	if err != nil {
		tb.Fatal(err)
	}
	defrag := ip4defrag.NewIPv4Defragmenter()
	var out []dg
	// IPFIX over TCP: each direction's payloads in sequence order (the
	// reference takes only in-order segments), cut by the message length.
	type stream struct {
		next uint32
		data []byte
	}
	streams := map[[2]netip.AddrPort]*stream{}
	for n := 1; ; n++ {
		data, ci, err := src.ReadPacketData()
		if err != nil {
			return out
		}
		p := gopacket.NewPacket(data, src.LinkType(), gopacket.Default)
		var from, to netip.Addr
		var udp *layers.UDP
		switch ip := p.NetworkLayer().(type) {
		case *layers.IPv4:
			from, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			to, _ = netip.AddrFromSlice(ip.DstIP.To4())
			if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
				whole, err := defrag.DefragIPv4WithTimestamp(ip, ci.Timestamp)
				if err != nil || whole == nil || whole.Protocol != layers.IPProtocolUDP {
					continue
				}
				udp, _ = gopacket.NewPacket(whole.Payload, layers.LayerTypeUDP, gopacket.Default).Layer(layers.LayerTypeUDP).(*layers.UDP)
			}
		case *layers.IPv6:
			from, _ = netip.AddrFromSlice(ip.SrcIP)
			to, _ = netip.AddrFromSlice(ip.DstIP)
		default:
			continue
		}
		if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			k := [2]netip.AddrPort{netip.AddrPortFrom(from, uint16(tcp.SrcPort)), netip.AddrPortFrom(to, uint16(tcp.DstPort))}
			if tcp.SYN {
				streams[k] = &stream{next: tcp.Seq + 1}
				continue
			}
			s := streams[k]
			if s == nil || tcp.Seq != s.next {
				continue
			}
			s.next += uint32(len(tcp.Payload))
			s.data = append(s.data, tcp.Payload...)
			if len(s.data) >= 2 && binary.BigEndian.Uint16(s.data) != 10 {
				delete(streams, k) // not IPFIX
				continue
			}
			for len(s.data) >= 4 && int(binary.BigEndian.Uint16(s.data[2:])) <= len(s.data) {
				m := int(binary.BigEndian.Uint16(s.data[2:]))
				if m < 16 {
					delete(streams, k)
					break
				}
				out = append(out, dg{Time: ci.Timestamp, Src: k[0], Dst: k[1], Payload: string(s.data[:m]), Packet: n})
				s.data = s.data[m:]
			}
			continue
		}
		if udp == nil {
			udp, _ = p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		}
		if udp == nil {
			continue
		}
		out = append(out, dg{Time: ci.Timestamp, Src: netip.AddrPortFrom(from, uint16(udp.SrcPort)),
			Dst: netip.AddrPortFrom(to, uint16(udp.DstPort)), Payload: string(udp.Payload), Packet: n})
	}
}

// equalDatagrams reports the first difference between two lists.
func equalDatagrams(tb testing.TB, what string, got, want []dg) {
	tb.Helper()
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if !g.Time.Equal(w.Time) || g.Src != w.Src || g.Dst != w.Dst || g.Payload != w.Payload || g.Truncated != w.Truncated || g.Packet != w.Packet {
			tb.Fatalf("%s: datagram %d:\n got %v\nwant %v", what, i, g, w)
		}
	}
	if len(got) != len(want) {
		tb.Fatalf("%s: got %d datagrams, want %d", what, len(got), len(want))
	}
}

func testdataCaptures(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("..", "testdata", "*.pcap"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no captures in ../testdata: %v", err)
	}
	return names
}

// Every capture in testdata gives the datagrams gopacket finds, with the
// frame numbers and sources tshark shows.
func TestTestdataAgainstGopacketAndTshark(t *testing.T) {
	for _, path := range testdataCaptures(t) {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".pcap"), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, st := mustReadAll(t, b)
			want := referenceRead(t, b)
			if len(want) == 0 {
				t.Fatal("the reference found no datagrams")
			}
			equalDatagrams(t, name, got, want)
			if st.Datagrams != len(got) || st.Malformed != 0 || st.Fragments != 0 ||
				st.Packets != st.Datagrams-st.TCPMessages+st.NotUDP+st.TCPSegments || st.TCPGaps != 0 {
				t.Errorf("stats %+v", st)
			}
			raw, err := os.ReadFile(strings.TrimSuffix(path, ".pcap") + ".tshark.json")
			if errors.Is(err, os.ErrNotExist) {
				return // synthetic-traffic.pcap: traffic, not exports
			}
			if err != nil {
				t.Fatal(err)
			}
			var ts struct {
				Packets []struct {
					Frame int    `json:"frame"`
					Src   string `json:"src"`
				} `json:"packets"`
			}
			if err := json.Unmarshal(raw, &ts); err != nil {
				t.Fatal(err)
			}
			if len(ts.Packets) != len(got) {
				t.Fatalf("%d datagrams, tshark shows %d export packets", len(got), len(ts.Packets))
			}
			for i, p := range ts.Packets {
				if got[i].Packet != p.Frame || got[i].Src.Addr().String() != p.Src {
					t.Errorf("datagram %d: packet %d from %s, tshark: frame %d from %s", i, got[i].Packet, got[i].Src.Addr(), p.Frame, p.Src)
				}
			}
		})
	}
}

// The synthetic traffic has VLAN-tagged and IPv6 UDP (DNS, NTP, syslog)
// among TCP and ICMP: check the counts the testdata README gives.
func TestSyntheticTraffic(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "synthetic-traffic.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	got, st := mustReadAll(t, b)
	if st.Packets != 309 {
		t.Errorf("%d packets, the README says 309", st.Packets)
	}
	var v6, vlan, dns int
	for _, d := range got {
		if d.Src.Addr().Is6() {
			v6++
		}
		if d.Src.Addr() == netip.MustParseAddr("192.0.2.30") || d.Dst.Addr() == netip.MustParseAddr("192.0.2.30") ||
			d.Src.Addr() == netip.MustParseAddr("2001:db8:1::30") || d.Dst.Addr() == netip.MustParseAddr("2001:db8:1::30") {
			vlan++
		}
		if d.Dst.Port() == 53 {
			dns++
		}
	}
	if dns != 19 || v6 == 0 || vlan == 0 {
		t.Errorf("%d DNS queries (README: 19), %d IPv6 datagrams, %d to or from the VLAN host", dns, v6, vlan)
	}
}

// byteSwapPcap rewrites a little-endian microsecond pcap in big-endian
// byte order, optionally with nanosecond timestamps.
func byteSwapPcap(tb testing.TB, b []byte, nano bool) []byte {
	tb.Helper()
	le := order(false)
	if le.Uint32(b) != pcapMagicMicro {
		tb.Fatal("not a little-endian microsecond pcap")
	}
	var recs []rec
	for p := pcapHeaderLen; p < len(b); {
		n := int(le.Uint32(b[p+8:]))
		ts := time.Unix(int64(le.Uint32(b[p:])), int64(le.Uint32(b[p+4:]))*1000)
		recs = append(recs, rec{ts: ts, data: b[p+16 : p+16+n], orig: int(le.Uint32(b[p+12:]))})
		p += 16 + n
	}
	return pcapFile(true, nano, le.Uint32(b[20:]), le.Uint32(b[16:]), recs...)
}

// The same capture as pcap in both byte orders, with nanosecond
// timestamps, as pcapng written by editcap (capture/testdata), by
// gopacket's NgWriter and by hand in big-endian with nanosecond
// resolution: identical datagrams.
func TestFormatsGiveIdenticalDatagrams(t *testing.T) {
	const name = "softflowd-ipfix-ether.pcap"
	orig, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := mustReadAll(t, orig)
	linkOf := order(false).Uint32(orig[20:])

	var recs []rec
	for p := pcapHeaderLen; p < len(orig); {
		le := order(false)
		n := int(le.Uint32(orig[p+8:]))
		recs = append(recs, rec{ts: time.Unix(int64(le.Uint32(orig[p:])), int64(le.Uint32(orig[p+4:]))*1000), data: orig[p+16 : p+16+n]})
		p += 16 + n
	}

	var ngw bytes.Buffer
	w, err := pcapgo.NewNgWriter(&ngw, layers.LinkType(linkOf))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: r.ts, CaptureLength: len(r.data), Length: len(r.data)}, r.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}

	// Big-endian, nanosecond units, with an unknown block and a
	// name-resolution block between the packets.
	hand := (*ngFile)(nil).section(true).iface(uint16(linkOf), 262144, 9, 0)
	for i, r := range recs {
		hand.epb(0, uint64(r.ts.UnixNano()), r.data, 0)
		if i == 0 {
			hand.block(0x0bad, []byte("custom block")).block(4, []byte{0, 0, 0, 0})
		}
	}

	editcap, err := os.ReadFile(filepath.Join("testdata", "softflowd-ipfix-ether.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"pcap big-endian", byteSwapPcap(t, orig, false)},
		{"pcap nanoseconds big-endian", byteSwapPcap(t, orig, true)},
		{"pcap nanoseconds little-endian", pcapFile(false, true, linkOf, 65535, recs...)},
		{"pcapng by editcap", editcap},
		{"pcapng by gopacket", ngw.Bytes()},
		{"pcapng big-endian by hand", hand.b},
	} {
		got, st := mustReadAll(t, c.b)
		equalDatagrams(t, c.name, got, want)
		if st.Packets != len(recs) {
			t.Errorf("%s: %d packets, want %d", c.name, st.Packets, len(recs))
		}
	}
}

var (
	exp4 = netip.MustParseAddrPort("192.0.2.1:40000")
	col4 = netip.MustParseAddrPort("198.51.100.2:2055")
	exp6 = netip.MustParseAddrPort("[2001:db8::1]:40001")
	col6 = netip.MustParseAddrPort("[2001:db8::fe]:4739")
	t0   = time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC)
)

// Every link type and encapsulation the reader supports, in pcap and in
// pcapng.
func TestEncapsulations(t *testing.T) {
	p4 := testPayload(300, 1)
	p6 := testPayload(500, 2)
	ip4 := udpPacket(t, exp4, col4, p4)
	ip6 := udpPacket(t, exp6, col6, p6)
	hbh := &layers.IPv6HopByHop{}
	hbh.NextHeader = layers.IPProtocolIPv6Destination
	hbh.Options = []*layers.IPv6HopByHopOption{{OptionType: 1, OptionData: []byte{0, 0, 0, 0}}} // PadN
	dst := &layers.IPv6Destination{}
	dst.NextHeader = layers.IPProtocolUDP
	dst.Options = []*layers.IPv6DestinationOption{{OptionType: 1, OptionData: []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}}
	ip6ext := udpPacket(t, exp6, col6, p6, hbh, dst)
	mpls := func(p []byte, labels int) []byte {
		var b []byte
		for i := range labels {
			e := uint32(16+i)<<12 | 64 // label, TTL 64
			if i == labels-1 {
				e |= 1 << 8 // bottom of stack
			}
			b = order(true).AppendUint32(b, e)
		}
		return append(b, p...)
	}
	want4 := dg{Src: exp4, Dst: col4, Payload: string(p4)}
	want6 := dg{Src: exp6, Dst: col6, Payload: string(p6)}
	cases := []struct {
		name  string
		link  LinkType
		frame []byte
		want  dg
	}{
		{"ethernet ipv4", LinkTypeEthernet, etherFrame(etherIPv4, ip4), want4},
		{"ethernet ipv6", LinkTypeEthernet, etherFrame(etherIPv6, ip6), want6},
		{"802.1Q", LinkTypeEthernet, etherFrame(etherIPv4, ip4, etherVLAN), want4},
		{"802.1ad QinQ", LinkTypeEthernet, etherFrame(etherIPv6, ip6, etherQinQ, etherVLAN), want6},
		{"old QinQ 0x9100", LinkTypeEthernet, etherFrame(etherIPv4, ip4, etherQinQOld, etherVLAN), want4},
		{"MPLS", LinkTypeEthernet, etherFrame(etherMPLS, mpls(ip4, 1)), want4},
		{"VLAN and MPLS stack", LinkTypeEthernet, etherFrame(etherMPLS, mpls(ip6, 3), etherVLAN), want6},
		{"ethernet padding", LinkTypeEthernet, append(etherFrame(etherIPv4, ip4), make([]byte, 12)...), want4},
		{"ipv6 extension headers", LinkTypeEthernet, etherFrame(etherIPv6, ip6ext), want6},
		{"linux SLL ipv4", LinkTypeLinuxSLL, sllFrame(etherIPv4, ip4), want4},
		{"linux SLL ipv6", LinkTypeLinuxSLL, sllFrame(etherIPv6, ip6), want6},
		{"linux SLL2 ipv4", LinkTypeLinuxSLL2, sll2Frame(etherIPv4, ip4), want4},
		{"linux SLL2 VLAN ipv6", LinkTypeLinuxSLL2, sll2Frame(etherVLAN, append([]byte{0, 100, 0x86, 0xdd}, ip6...)), want6},
		{"raw ipv4", LinkTypeRaw, ip4, want4},
		{"raw ipv6", LinkTypeRaw, ip6, want6},
		{"DLT_RAW 12", 12, ip6, want6},
		{"DLT_RAW 14 (OpenBSD)", 14, ip4, want4},
		{"LINKTYPE_IPV4", LinkTypeIPv4, ip4, want4},
		{"LINKTYPE_IPV6", LinkTypeIPv6, ip6, want6},
		{"null little-endian ipv4", LinkTypeNull, loopFrame(afInet, order(false), ip4), want4},
		{"null big-endian ipv6 (FreeBSD)", LinkTypeNull, loopFrame(afInet6FreeBSD, order(true), ip6), want6},
		{"null little-endian ipv6 (Darwin)", LinkTypeNull, loopFrame(afInet6Darwin, order(false), ip6), want6},
		{"null ipv6 (NetBSD)", LinkTypeNull, loopFrame(afInet6BSD, order(false), ip6), want6},
		{"loop ipv4", LinkTypeLoop, loopFrame(afInet, order(true), ip4), want4},
		{"loop ipv6", LinkTypeLoop, loopFrame(afInet6BSD, order(true), ip6), want6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			want.Time, want.Packet = t0, 2
			// An ARP packet first, to be skipped, where the link has one.
			other := rec{ts: t0, data: c.frame[:len(c.frame)-len(c.want.Payload)-udpLen]}
			other.data = append([]byte(nil), other.data...)
			for i := len(other.data) - 1; i >= 0; i-- {
				if other.data[i] == 17 { // make the protocol field, searched from the end, not UDP
					other.data[i] = 6
					break
				}
			}
			pc := pcapFile(false, false, uint32(c.link), 65535, other, rec{ts: t0, data: c.frame})
			ng := (*ngFile)(nil).section(false).iface(uint16(c.link), 0, -1, 0).
				epb(0, uint64(t0.UnixMicro()), other.data, 0).epb(0, uint64(t0.UnixMicro()), c.frame, 0)
			for _, b := range [][]byte{pc, ng.b} {
				got, st := mustReadAll(t, b)
				equalDatagrams(t, c.name, got, []dg{want})
				if st.Packets != 2 || st.Datagrams != 1 || st.NotUDP+st.Malformed+st.TCPSegments != 1 {
					t.Errorf("stats %+v", st)
				}
			}
		})
	}
}

// pcapng: several sections in both byte orders, interfaces of different
// link types and timestamp resolutions, obsolete and simple packet
// blocks, interfaces of link types the reader does not know.
func TestPcapngSectionsAndInterfaces(t *testing.T) {
	p := func(i int) []byte { return testPayload(100+i, byte(i)) }
	ip4 := func(i int) []byte { return udpPacket(t, exp4, col4, p(i)) }
	ip6 := func(i int) []byte { return udpPacket(t, exp6, col6, p(i)) }
	const offset = 1_000_000_000 // if_tsoffset, seconds
	ng := (*ngFile)(nil).section(false).
		iface(uint16(LinkTypeEthernet), 0, -1, 0).       // 0: µs
		iface(uint16(LinkTypeRaw), 0, 9, 0).             // 1: ns
		iface(uint16(LinkTypeLinuxSLL2), 0, 0x80|20, 0). // 2: 2^-20 s
		iface(127, 0, -1, 0).                            // 3: 802.11 radiotap
		iface(uint16(LinkTypeIPv4), 0, 0, offset).       // 4: seconds, offset
		epb(0, uint64(t0.UnixMicro()), etherFrame(etherIPv4, ip4(0)), 0).
		epb(1, uint64(t0.UnixNano()), ip6(1), 0).
		epb(2, uint64(t0.Unix())<<20|1<<19, sll2Frame(etherIPv4, ip4(2)), 0). // half a second
		epb(3, 0, []byte{0, 0, 8, 0, 0, 0, 0, 0}, 0).
		epb(4, 5, ip4(4), 0).
		pb(0, uint64(t0.UnixMicro()), etherFrame(etherIPv6, ip6(5))).
		epb(9, 0, ip4(6), 0). // no such interface
		section(true).        // interfaces start again, big-endian
		iface(uint16(LinkTypeRaw), 0, 3, 0).
		spb(ip4(7), 0).
		epb(0, uint64(t0.UnixMilli()), ip6(8), 0)
	got, st := mustReadAll(t, ng.b)
	sec := time.Unix(t0.Unix(), 0)
	want := []dg{
		{Time: t0, Src: exp4, Dst: col4, Payload: string(p(0)), Packet: 1},
		{Time: t0, Src: exp6, Dst: col6, Payload: string(p(1)), Packet: 2},
		{Time: sec.Add(time.Second / 2), Src: exp4, Dst: col4, Payload: string(p(2)), Packet: 3},
		{Time: time.Unix(offset+5, 0), Src: exp4, Dst: col4, Payload: string(p(4)), Packet: 5},
		{Time: t0, Src: exp6, Dst: col6, Payload: string(p(5)), Packet: 6},
		{Time: time.Time{}, Src: exp4, Dst: col4, Payload: string(p(7)), Packet: 8},
		{Time: t0.Truncate(time.Millisecond), Src: exp6, Dst: col6, Payload: string(p(8)), Packet: 9},
	}
	equalDatagrams(t, "pcapng", got, want)
	if st.Packets != 9 || st.UnsupportedLink != 1 || st.Malformed != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestTimestampResolutions(t *testing.T) {
	for _, c := range []struct {
		resol byte
		ts    uint64
		want  time.Time
	}{
		{6, 1_700_000_000_123_456, time.Unix(1_700_000_000, 123_456_000)},
		{9, 1_700_000_000_123_456_789, time.Unix(1_700_000_000, 123_456_789)},
		{0, 1_700_000_000, time.Unix(1_700_000_000, 0)},
		{12, 17_000_000_001_234_567_890, time.Unix(17_000_000, 1_234_567)}, // picoseconds: up to 2^64 of them
		{19, 1<<64 - 1, time.Unix(1, 844_674_407)},
		{0x80, 5, time.Unix(5, 0)},
		{0x80 | 10, 3<<10 | 512, time.Unix(3, 500_000_000)},
		{0x80 | 32, 7<<32 | 1<<30, time.Unix(7, 250_000_000)},
		{0x80 | 63, 1 << 62, time.Unix(0, 500_000_000)},
		{0x80 | 64, 1 << 63, time.Unix(0, 500_000_000)},
		{0x80 | 127, 1 << 63, time.Unix(0, 0)},
	} {
		f := iface{exp: c.resol & 0x7f, pow2: c.resol&0x80 != 0}
		if !f.pow2 {
			f.div = pow10[f.exp]
		}
		if got := f.time(c.ts); !got.Equal(c.want) {
			t.Errorf("time(%d) at if_tsresol %#x = %v, want %v", c.ts, c.resol, got, c.want)
		}
	}
	// Through a file: an unusable resolution is an error naming it.
	ng := (*ngFile)(nil).section(false).iface(1, 0, 25, 0)
	if _, _, err := readAll(t, bytes.NewReader(ng.b)); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "10^-25") {
		t.Errorf("resolution 10^-25: %v", err)
	}
}

// IPv4 and IPv6 fragments, in order, reversed and interleaved, are
// reassembled.
func TestFragments(t *testing.T) {
	big4 := testPayload(4000, 3)
	big6 := testPayload(3000, 4)
	f4 := fragments(t, exp4, col4, big4, 1480, 7)
	f6 := fragments(t, exp6, col6, big6, 1232, 7) // the same id: another key
	other := fragments(t, netip.MustParseAddrPort("192.0.2.9:1"), col4, testPayload(2000, 5), 512, 7)
	if len(f4) != 3 || len(f6) != 3 || len(other) != 4 {
		t.Fatalf("%d, %d, %d fragments", len(f4), len(f6), len(other))
	}
	var recs []rec
	add := func(frames ...[]byte) {
		for _, f := range frames {
			recs = append(recs, rec{ts: t0.Add(time.Duration(len(recs)) * time.Millisecond), data: etherFrame(uint16(map[bool]int{true: etherIPv4, false: etherIPv6}[f[0]>>4 == 4]), f)})
		}
	}
	add(f4...)                                     // 1-3 in order
	add(f6[2], f6[1], f6[0])                       // 4-6 reversed
	add(other[0], f4[0], other[2], f4[2], f4[1])   // 7-11 interleaved with a repeat of f4
	add(other[1], other[3], other[3])              // 12-14, with a duplicate after completion
	add(udpPacket(t, exp4, col4, []byte("small"))) // 15
	got, st := mustReadAll(t, pcapFile(false, false, 1, 65535, recs...))
	at := func(n int) time.Time { return t0.Add(time.Duration(n-1) * time.Millisecond) }
	want := []dg{
		{Time: at(3), Src: exp4, Dst: col4, Payload: string(big4), Packet: 3},
		{Time: at(6), Src: exp6, Dst: col6, Payload: string(big6), Packet: 6},
		{Time: at(11), Src: exp4, Dst: col4, Payload: string(big4), Packet: 11},
		{Time: at(13), Src: netip.MustParseAddrPort("192.0.2.9:1"), Dst: col4, Payload: string(testPayload(2000, 5)), Packet: 13},
		{Time: at(15), Src: exp4, Dst: col4, Payload: "small", Packet: 15},
	}
	equalDatagrams(t, "fragments", got, want)
	// The last fragment, seen again after its datagram is complete,
	// starts a datagram that never completes.
	if st.Fragments != 14 || st.Reassembled != 4 || st.FragmentsDropped != 1 || st.Datagrams != 5 {
		t.Errorf("stats %+v", st)
	}
}

// Fragments that cannot make a datagram are dropped and counted, and
// never make one.
func TestFragmentsBad(t *testing.T) {
	payload := testPayload(3000, 6)
	f := fragments(t, exp4, col4, payload, 1024, 9)
	overlap := append([]byte(nil), f[1]...)
	// Move the second fragment back 8 bytes so it overlaps the first.
	fo := be.Uint16(overlap[6:])
	be.PutUint16(overlap[6:], fo-1)
	overlap[10], overlap[11] = 0, 0
	odd := append([]byte(nil), f[0][:len(f[0])-3]...) // not a multiple of 8, more fragments set
	be.PutUint16(odd[2:], uint16(len(odd)))
	odd[10], odd[11] = 0, 0
	shortLast := append([]byte(nil), f[2][:len(f[2])-8]...)
	be.PutUint16(shortLast[2:], uint16(len(shortLast)))
	shortLast[10], shortLast[11] = 0, 0
	pastEnd := append([]byte(nil), f[1]...)
	be.PutUint16(pastEnd[6:], be.Uint16(pastEnd[6:])+512)
	pastEnd[10], pastEnd[11] = 0, 0
	for _, c := range []struct {
		name    string
		frames  [][]byte
		dropped int
	}{
		{"missing middle", [][]byte{f[0], f[2]}, 2},
		{"two ends", [][]byte{f[0], f[2], shortLast, f[1]}, 4},
		{"past the end", [][]byte{f[2], f[0], pastEnd, f[1]}, 4},
		{"overlap", [][]byte{f[0], overlap, f[1], f[2]}, 4},
		{"odd size", [][]byte{odd, f[1], f[2]}, 3},
	} {
		var recs []rec
		for _, fr := range c.frames {
			recs = append(recs, rec{ts: t0, data: fr})
		}
		got, st := mustReadAll(t, pcapFile(false, false, uint32(LinkTypeRaw), 65535, recs...))
		if len(got) != 0 || st.FragmentsDropped != c.dropped || st.Fragments != len(c.frames) {
			t.Errorf("%s: %d datagrams, stats %+v; want none and %d dropped", c.name, len(got), st, c.dropped)
		}
	}
	// A fragment repeated before its datagram completes is ignored.
	var recs []rec
	for _, fr := range [][]byte{f[0], f[0], f[2], f[1], f[2]} {
		recs = append(recs, rec{ts: t0, data: fr})
	}
	got, st := mustReadAll(t, pcapFile(false, false, uint32(LinkTypeRaw), 65535, recs...))
	if len(got) != 1 || got[0].Payload != string(payload) || st.FragmentsDropped != 2 {
		t.Errorf("repeated fragments: %d datagrams, stats %+v", len(got), st)
	}
}

// Reassembly memory is bounded: many datagrams that never complete are
// dropped oldest first, by count and by age, and those that complete in
// time still do.
func TestFragmentsBounded(t *testing.T) {
	payload := testPayload(2000, 8)
	var recs []rec
	n := 3 * MaxFragmented
	for i := range n {
		f := fragments(t, exp4, col4, payload, 1024, uint32(i))
		recs = append(recs, rec{ts: t0, data: f[0]}) // never completed
	}
	good := fragments(t, exp4, col4, payload, 1024, 1<<15)
	recs = append(recs, rec{ts: t0, data: good[0]}, rec{ts: t0, data: good[1]})
	late := fragments(t, exp4, col4, payload, 1024, 1<<15+1)
	recs = append(recs, rec{ts: t0, data: late[0]}, rec{ts: t0.Add(FragmentTimeout + time.Second), data: late[1]})
	r, err := NewReader(bytes.NewReader(pcapFile(false, false, uint32(LinkTypeRaw), 65535, recs...)))
	if err != nil {
		t.Fatal(err)
	}
	var got []dg
	maxHeld := 0
	for {
		d, err := r.Next()
		maxHeld = max(maxHeld, len(r.defrag.m))
		if r.defrag.bytes > MaxFragmentedBytes || len(r.defrag.order) != len(r.defrag.m) {
			t.Fatalf("%d bytes in reassembly, %d datagrams in order, %d in the map", r.defrag.bytes, len(r.defrag.order), len(r.defrag.m))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, copyDatagram(d))
	}
	st := r.Stats()
	if len(got) != 1 || got[0].Payload != string(payload) || maxHeld > MaxFragmented {
		t.Errorf("%d datagrams, at most %d in reassembly", len(got), maxHeld)
	}
	// Dropped: every incomplete one (n), the late datagram's two.
	if st.FragmentsDropped != n+2 || st.Reassembled != 1 || len(r.defrag.m) != 0 {
		t.Errorf("stats %+v, %d left in reassembly", st, len(r.defrag.m))
	}
}

// A capture cut at any byte gives the datagrams of every complete record
// before the cut, then io.EOF at a record boundary or ErrTruncated naming
// the record cut and its offset.
func TestTruncated(t *testing.T) {
	for _, name := range []string{"fprobe-v5.pcap", "softflowd-ipfix.pcap"} {
		orig, err := os.ReadFile(filepath.Join("..", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		ng := (*ngFile)(nil).section(false)
		shbEnd := len(ng.b)
		ng.iface(1, 0, -1, 0)
		for p := pcapHeaderLen; p < len(orig); {
			n := int(order(false).Uint32(orig[p+8:]))
			ng.epb(0, uint64(t0.UnixMicro()), orig[p+16:p+16+n], 0)
			p += 16 + n
		}
		for _, b := range [][]byte{orig, ng.b} {
			all, _ := mustReadAll(t, b)
			// Record boundaries: where each datagram's record ends.
			r, _ := NewReader(bytes.NewReader(b))
			ends := []int64{r.Offset()} // after the file header, or the section header and interface

			for {
				if _, err := r.Next(); err != nil {
					break
				}
				ends = append(ends, r.Offset())
			}
			if len(ends) != len(all)+1 || ends[len(ends)-1] != int64(len(b)) {
				t.Fatalf("%s: %d record ends for %d datagrams, last %d of %d", name, len(ends), len(all), ends[len(ends)-1], len(b))
			}
			for cut := 0; cut < len(b); cut++ {
				got, _, err := readAll(t, bytes.NewReader(b[:cut]))
				if cut < int(ends[0]) {
					// The file header or first section is cut.
					if b[0] == 0x0a && cut == shbEnd && err == io.EOF {
						continue // a pcapng section without interfaces
					}
					if cut < 4 && !errors.Is(err, ErrFormat) || cut >= 4 && !errors.Is(err, ErrTruncated) {
						t.Fatalf("%s cut at %d: %v", name, cut, err)
					}
					continue
				}
				complete := 0
				for complete+1 < len(ends) && ends[complete+1] <= int64(cut) {
					complete++
				}
				equalDatagrams(t, fmt.Sprintf("%s cut at %d", name, cut), got, all[:complete])
				if int64(cut) == ends[complete] {
					if err != io.EOF {
						t.Fatalf("%s cut at record boundary %d: %v", name, cut, err)
					}
					continue
				}
				packet := complete + 1
				if b[0] == 0x0a && int64(cut)-ends[complete] < 4 {
					packet = 0 // the block type is cut: it may not be a packet
				}
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, ErrTruncated) || e.Packet != packet || e.Offset != ends[complete] {
					t.Fatalf("%s cut at %d: %v; want ErrTruncated at packet %d offset %d", name, cut, err, packet, ends[complete])
				}
				want := fmt.Sprintf("packet %d at offset %d: capture truncated", packet, ends[complete])
				if packet == 0 {
					want = fmt.Sprintf("offset %d: capture truncated", ends[complete])
				}
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("%s cut at %d: %q does not say %q", name, cut, err, want)
				}
			}
		}
	}
}

// Errors of Open name the file; progress is the offset of the file size.
func TestOpen(t *testing.T) {
	path := filepath.Join("..", "testdata", "softflowd-v9.pcap")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := os.Stat(path)
	if f.Size() != fi.Size() || f.Offset() != pcapHeaderLen || f.LinkType() != LinkTypeEthernet {
		t.Errorf("size %d offset %d link %v", f.Size(), f.Offset(), f.LinkType())
	}
	ng, err := Open(filepath.Join("testdata", "softflowd-ipfix-ether.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	if ng.LinkType() != LinkTypeEthernet {
		t.Errorf("pcapng link type %v", ng.LinkType())
	}
	ng.Close()
	n := 0
	for {
		if _, err := f.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if f.Offset() != f.Size() || n == 0 {
		t.Errorf("offset %d at the end of %d bytes, %d datagrams", f.Offset(), f.Size(), n)
	}

	dir := t.TempDir()
	raw, _ := os.ReadFile(path)
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, raw[:len(raw)-5], 0o644)
	c, err := Open(cut)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for err == nil {
		_, err = c.Next()
	}
	if !errors.Is(err, ErrTruncated) || !strings.HasPrefix(err.Error(), cut+": packet ") {
		t.Errorf("cut capture: %v", err)
	}
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("this is not a capture file"), 0o644)
	if _, err := Open(bad); !errors.Is(err, ErrFormat) || !strings.HasPrefix(err.Error(), bad+": ") {
		t.Errorf("not a capture: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing.pcap")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// Input that is not a capture, or a capture damaged beyond its last
// record, is an error that says so.
func TestBadFiles(t *testing.T) {
	ip := udpPacket(t, exp4, col4, []byte("x"))
	good := pcapFile(false, false, 1, 65535, rec{ts: t0, data: etherFrame(etherIPv4, ip)})
	hugeRecord := append([]byte(nil), good...)
	order(false).PutUint32(hugeRecord[pcapHeaderLen+8:], 1<<30)
	v3 := append([]byte(nil), good...)
	order(false).PutUint16(v3[4:], 3)
	ngBadLen := (*ngFile)(nil).section(false).iface(1, 0, -1, 0).epb(0, 0, ip, 0)
	order(false).PutUint32(ngBadLen.b[len(ngBadLen.b)-4:], 8) // trailing length
	ngOdd := (*ngFile)(nil).section(false).iface(1, 0, -1, 0)
	ngOdd.b = order(false).AppendUint32(ngOdd.b, ngEPB)
	ngOdd.b = order(false).AppendUint32(ngOdd.b, 33) // not a multiple of 4
	ngBOM := (*ngFile)(nil).section(false)
	copy(ngBOM.b[8:], "XXXX")
	for _, c := range []struct {
		name string
		b    []byte
		want error
		says string
	}{
		{"empty", nil, ErrFormat, "0 bytes"},
		{"text", []byte("hello, world\n"), ErrFormat, "not a pcap or pcapng file"},
		{"gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, ErrUnsupported, "gzip"},
		{"modified pcap", order(false).AppendUint32(nil, pcapMagicModified), ErrUnsupported, "modified"},
		{"pcap version 3", v3, ErrUnsupported, "pcap version 3"},
		{"radiotap", pcapFile(false, false, 127, 65535), ErrUnsupported, "link type LINKTYPE_127"},
		{"reserved link bits", pcapFile(false, false, 1|1<<20, 65535), ErrUnsupported, "link type"},
		{"huge record", hugeRecord, ErrFormat, "packet 1 at offset 24: malformed capture: captured length 1073741824"},
		{"pcapng byte-order magic", ngBOM.b, ErrFormat, "byte-order magic"},
		{"pcapng trailing length", ngBadLen.b, ErrFormat, "trailing length 8"},
		{"pcapng block length", ngOdd.b, ErrFormat, "length 33"},
		{"pcapng version 2", func() []byte {
			n := (*ngFile)(nil).section(true)
			order(true).PutUint16(n.b[12:], 2)
			return n.b
		}(), ErrUnsupported, "pcapng version 2.0"},
	} {
		got, _, err := readAll(t, bytes.NewReader(c.b))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) || len(got) != 0 {
			t.Errorf("%s: %d datagrams, %v; want %v saying %q", c.name, len(got), err, c.want, c.says)
		}
	}
	// A read error of the underlying reader is returned as is, wrapped.
	_, _, err := readAll(t, iotest.TimeoutReader(iotest.OneByteReader(bytes.NewReader(good))))
	if !errors.Is(err, iotest.ErrTimeout) {
		t.Errorf("read error: %v", err)
	}
	// A reader that never returns anything does not hang.
	if _, err := NewReader(zeroReader{}); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("reader without progress: %v", err)
	}
}

type zeroReader struct{}

// stutterReader returns nothing and no error every other call, as
// io.Reader allows.
type stutterReader struct {
	r io.Reader
	n int
}

func (s *stutterReader) Read(p []byte) (int, error) {
	if s.n++; s.n%2 == 0 {
		return 0, nil
	}
	return s.r.Read(p)
}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

// Packets that are not UDP, or whose headers are damaged, are skipped and
// counted; the datagrams around them are read.
func TestMalformedPackets(t *testing.T) {
	ip4 := udpPacket(t, exp4, col4, testPayload(64, 9))
	ip6 := udpPacket(t, exp6, col6, testPayload(64, 10))
	mod := func(b []byte, f func(b []byte)) []byte {
		b = append([]byte(nil), b...)
		f(b)
		return b
	}
	bad := [][]byte{
		etherFrame(etherIPv4, ip4)[:10],                                 // short Ethernet header
		etherFrame(etherIPv4, ip4[:19]),                                 // short IPv4 header
		etherFrame(etherIPv4, mod(ip4, func(b []byte) { b[0] = 0x44 })), // IHL 4
		etherFrame(etherIPv4, mod(ip4, func(b []byte) { b[0] = 0x4f })), // IHL past the packet's length
		etherFrame(etherIPv4, mod(ip4, func(b []byte) { b[0] = 0x55 })), // version 5
		etherFrame(etherIPv4, mod(ip4, func(b []byte) { b[3] = 10 })),   // total length below the header
		etherFrame(etherIPv4, mod(ip4, func(b []byte) { b[25] = 200 })), // UDP length past the IP length
		etherFrame(etherIPv4, mod(ip4, func(b []byte) { b[25] = 4 })),   // UDP length below 8
		etherFrame(etherIPv4, mod(ip4, func(b []byte) { b[25] = 0 })),   // UDP length 0 in IPv4
		etherFrame(etherIPv4, ip4[:24]),                                 // IPv4 total length past the capture, UDP header cut
		etherFrame(etherIPv6, ip6[:39]),                                 // short IPv6 header
		etherFrame(etherIPv6, mod(ip6, func(b []byte) { b[0] = 0x40 })), // version 4 in IPv6
		etherFrame(etherIPv6, mod(ip6, func(b []byte) { b[6] = 0 })),    // hop-by-hop header that is not there
		etherFrame(etherVLAN, []byte{0, 1}),                             // cut VLAN tag
		etherFrame(etherMPLS, []byte{0, 0, 0, 64}),                      // MPLS stack without bottom
		etherFrame(etherIPv4, nil, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN, etherVLAN), // 9 tags
	}
	notUDP := [][]byte{
		etherFrame(0x0806, make([]byte, 28)),                           // ARP
		etherFrame(etherIPv4, mod(ip4, func(b []byte) { b[9] = 6 })),   // TCP
		etherFrame(etherIPv6, mod(ip6, func(b []byte) { b[6] = 58 })),  // ICMPv6
		etherFrame(etherMPLS, append([]byte{0, 1, 1, 64}, 0, 0, 0, 0)), // MPLS pseudowire
	}
	recs := []rec{{ts: t0, data: etherFrame(etherIPv4, ip4)}}
	for _, b := range append(bad, notUDP...) {
		recs = append(recs, rec{ts: t0, data: b})
	}
	recs = append(recs, rec{ts: t0, data: etherFrame(etherIPv6, ip6)})
	got, st := mustReadAll(t, pcapFile(false, false, 1, 65535, recs...))
	if len(got) != 2 || got[0].Src != exp4 || got[1].Src != exp6 {
		t.Errorf("datagrams %v", got)
	}
	if st.Malformed != len(bad) || st.NotUDP+st.TCPSegments != len(notUDP) || st.TCPSegments != 1 || st.Packets != len(recs) {
		t.Errorf("stats %+v; want %d malformed, %d not UDP", st, len(bad), len(notUDP))
	}
	// One at a time, to name the one that is not counted as it should.
	for i, b := range bad {
		_, st := mustReadAll(t, pcapFile(false, false, 1, 65535, rec{ts: t0, data: b}))
		if st.Malformed != 1 {
			t.Errorf("bad packet %d: stats %+v", i, st)
		}
	}
}

// A datagram longer than the snapshot length is returned with the bytes
// captured and Truncated set.
func TestSnapLength(t *testing.T) {
	payload := testPayload(1000, 11)
	for _, ends := range [][2]netip.AddrPort{{exp4, col4}, {exp6, col6}} {
		src := ends[0]
		frame := etherFrame(map[bool]uint16{true: etherIPv4, false: etherIPv6}[src.Addr().Is4()], udpPacket(t, src, ends[1], payload))
		pc := pcapFile(false, false, 1, 200, rec{ts: t0, data: frame[:200], orig: len(frame)})
		got, st := mustReadAll(t, pc)
		hdr := ethernetLen + udpLen + map[bool]int{true: ipv4MinLen, false: ipv6Len}[src.Addr().Is4()]
		if len(got) != 1 || !got[0].Truncated || got[0].Payload != string(payload[:200-hdr]) || st.Truncated != 1 {
			t.Errorf("%v: %v, stats %+v", src, got, st)
		}
	}
}

// Reading allocates nothing per packet.
func TestReaderAllocs(t *testing.T) {
	ip := udpPacket(t, exp4, col4, testPayload(1200, 12))
	recs := make([]rec, 3000)
	for i := range recs {
		recs[i] = rec{ts: t0, data: etherFrame(etherIPv4, ip, etherVLAN)}
	}
	for _, b := range [][]byte{
		pcapFile(false, false, 1, 65535, recs...),
		func() []byte {
			ng := (*ngFile)(nil).section(false).iface(1, 0, -1, 0)
			for _, r := range recs {
				ng.epb(0, 0, r.data, 0)
			}
			return ng.b
		}(),
	} {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if a := testing.AllocsPerRun(1000, func() {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%v allocations per datagram", a)
		}
	}
}

// The Reader keeps its own copy of what it read: changing the caller's
// bytes afterwards changes no datagram.
func TestInputNotRetained(t *testing.T) {
	recs := []rec{
		{ts: t0, data: etherFrame(etherIPv4, udpPacket(t, exp4, col4, []byte("first")))},
		{ts: t0, data: etherFrame(etherIPv4, udpPacket(t, exp4, col4, []byte("second")))},
	}
	src := pcapFile(false, false, 1, 65535, recs...)
	r, err := NewReader(bytes.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := r.Next()
	if string(d.Payload) != "first" {
		t.Fatalf("payload %q", d.Payload)
	}
	src[len(src)-1] = 'X' // the input is not retained: the Reader copied it
	d, _ = r.Next()
	if string(d.Payload) != "second" {
		t.Fatalf("payload %q, want the bytes read, not the caller's buffer", d.Payload)
	}
}

func TestLinkTypeString(t *testing.T) {
	for l, want := range map[LinkType]string{LinkTypeEthernet: "ETHERNET", LinkTypeLinuxSLL2: "LINUX_SLL2", 12: "RAW", 127: "LINKTYPE_127"} {
		if got := l.String(); got != want {
			t.Errorf("LinkType(%d).String() = %s, want %s", l, got, want)
		}
	}
}

// Readers that return a byte, or half the buffer, at a time, or the end
// with the last data, give the same datagrams.
func TestReadSizes(t *testing.T) {
	for _, path := range testdataCaptures(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := mustReadAll(t, b)
		for name, r := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(bytes.NewReader(b)),
			"half":     iotest.HalfReader(bytes.NewReader(b)),
			"data+EOF": iotest.DataErrReader(bytes.NewReader(b)),
			"stutter":  &stutterReader{r: iotest.OneByteReader(bytes.NewReader(b))},
		} {
			got, _, err := readAll(t, r)
			if err != io.EOF {
				t.Fatalf("%s, %s reads: %v", path, name, err)
			}
			equalDatagrams(t, path+", "+name+" reads", got, want)
		}
	}
}

// pcapng blocks of any length are skipped without being held in memory;
// a packet block over MaxRecordLen is counted as malformed.
func TestLargeBlocks(t *testing.T) {
	ip := udpPacket(t, exp4, col4, []byte("after"))
	ng := (*ngFile)(nil).section(false).iface(uint16(LinkTypeRaw), 0, -1, 0).
		block(0x40000bad, make([]byte, 3*MaxRecordLen)).
		epb(0, 0, make([]byte, MaxRecordLen), 0).
		epb(0, 0, ip, 0)
	r, err := NewReader(bytes.NewReader(ng.b))
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Next()
	if err != nil || string(d.Payload) != "after" || d.Packet != 2 {
		t.Fatalf("%v, %v", d, err)
	}
	if st := r.Stats(); st.Malformed != 1 || st.Packets != 2 || cap(r.buf) > 2*MaxRecordLen {
		t.Errorf("stats %+v, buffer %d bytes", st, cap(r.buf))
	}
	if r.LinkType() != LinkTypeRaw {
		t.Errorf("link type %v", r.LinkType())
	}
	// Cut inside the large block: truncated.
	_, _, err = readAll(t, bytes.NewReader(ng.b[:2*MaxRecordLen]))
	if !errors.Is(err, ErrTruncated) {
		t.Errorf("cut in a large block: %v", err)
	}
	// An interface description that large is damage.
	big := (*ngFile)(nil).section(false).block(ngIDB, make([]byte, MaxRecordLen))
	if _, _, err := readAll(t, bytes.NewReader(big.b)); !errors.Is(err, ErrFormat) {
		t.Errorf("huge interface block: %v", err)
	}
}

// IP corner cases: a TSO capture's zero IPv4 length, IPv6 jumbo and
// atomic fragments, fragments of other protocols and fragments cut by the
// snapshot length, IPv6 fragments with a destination options header
// inside the reassembled part.
func TestIPCornerCases(t *testing.T) {
	payload := testPayload(200, 13)
	ip4 := udpPacket(t, exp4, col4, payload)
	tso := append([]byte(nil), ip4...)
	tso[2], tso[3] = 0, 0
	ip6 := udpPacket(t, exp6, col6, payload)
	jumbo := append([]byte(nil), ip6...)
	jumbo[4], jumbo[5] = 0, 0       // IPv6 payload length 0
	jumbo[40+4], jumbo[40+5] = 0, 0 // UDP length 0
	atomic := append(append(append([]byte(nil), ip6[:40]...), 17, 0, 0, 0, 0, 0, 0, 1), ip6[40:]...)
	atomic[6] = ipv6Fragment
	be.PutUint16(atomic[4:], uint16(len(atomic)-40))

	// IPv6 fragments of destination options + UDP.
	dopt := []byte{17, 0, 1, 4, 0, 0, 0, 0} // next UDP, 8 bytes, PadN
	whole := append(dopt, udpDatagram(t, exp6, col6, payload)...)
	var f6 [][]byte
	for off := 0; off < len(whole); off += 112 {
		end := min(off+112, len(whole))
		fo := uint16(off)
		if end < len(whole) {
			fo |= 1
		}
		h := append([]byte(nil), ip6[:40]...)
		h[6] = ipv6Fragment
		fh := []byte{ipv6DestOpts, 0}
		fh = be.AppendUint16(fh, fo)
		fh = be.AppendUint32(fh, 99)
		p := append(append(h, fh...), whole[off:end]...)
		be.PutUint16(p[4:], uint16(len(p)-40))
		f6 = append(f6, p)
	}
	tcpFrag := append([]byte(nil), fragments(t, exp4, col4, payload, 64, 5)[0]...)
	tcpFrag[9] = 6
	tcp6Frag := append([]byte(nil), f6[0]...)
	tcp6Frag[40] = 6

	recs := []rec{{ts: t0, data: tso}, {ts: t0, data: jumbo}, {ts: t0, data: atomic}}
	for _, f := range f6 {
		recs = append(recs, rec{ts: t0, data: f})
	}
	recs = append(recs, rec{ts: t0, data: tcpFrag}, rec{ts: t0, data: tcp6Frag})
	snapped := fragments(t, exp4, col4, payload, 64, 6)[0]
	recs = append(recs, rec{ts: t0, data: snapped[:40], orig: len(snapped)})
	got, st := mustReadAll(t, pcapFile(false, false, uint32(LinkTypeRaw), 65535, recs...))
	want := []dg{
		{Time: t0, Src: exp4, Dst: col4, Payload: string(payload), Packet: 1},
		{Time: t0, Src: exp6, Dst: col6, Payload: string(payload), Packet: 2},
		{Time: t0, Src: exp6, Dst: col6, Payload: string(payload), Packet: 3},
		{Time: t0, Src: exp6, Dst: col6, Payload: string(payload), Packet: 3 + len(f6)},
	}
	equalDatagrams(t, "corner cases", got, want)
	if st.NotUDP != 2 || st.Fragments != len(f6)+1 || st.FragmentsDropped != 1 || st.Reassembled != 1 {
		t.Errorf("stats %+v", st)
	}
}
