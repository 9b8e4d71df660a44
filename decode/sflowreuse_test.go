package decode

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// sflowShapes are sFlow datagrams whose flow samples fill different
// fields: the captures' (Ethernet headers, switch, router and gateway
// records), an 802.1Q-tagged frame, 802.11, MPLS and bare IPv4 headers,
// sampled IPv6 and IPv4 records without a header, and a sample without
// records.
func sflowShapes(t testing.TB) [][]byte {
	t.Helper()
	out := sflowPayloads(t)
	frames := handFrames(t)
	ipUDP := []byte{
		0x45, 0x00, 0, 33, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2,
		0x13, 0x88, 0x00, 0x35, 0, 13, 0, 0, 'x',
	}
	header := func(proto uint32, h []byte) []byte {
		b := sfw(nil, proto, uint32(len(h)+4), 4, uint32(len(h)))
		b = append(b, h...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return sfTagged(1, b)
	}
	tagged := append(append(append([]byte{}, frames[1][:12]...), 0x81, 0x00, 0x00, 0x2a), frames[1][12:]...)
	ipv6 := sfTagged(4, append(append(sfw(nil, 1500, 17), netip.MustParseAddr("2001:db8::1").AsSlice()...),
		append(netip.MustParseAddr("2001:db8::2").AsSlice(), sfw(nil, 5000, 53, 0, 0xb8)...)...))
	ipv4 := sfTagged(3, sfw(nil, 100, 6, 0xC0000201, 0xC6336402, 80, 443, 0x12, 0x28))
	out = append(out,
		sfDatagram(1, sfFlow(1, 64, 1, 2, sfTagged(1001, sfw(nil, 0, 0, 30, 0)), sfHeader(1518, tagged)),
			sfFlow(2, 1, 3, 1<<30|5, header(13, append([]byte{0x00, 0x01, 0x01, 0x40}, ipUDP...)))),
		sfDatagram(2, sfFlow(1, 1, 1, 1, ipv6, sfTagged(1002, sfw(nil, 2, 0x20010db8, 0, 0, 1, 48, 64))),
			sfFlow(2, 1, 1, 1), sfFlow(3, 1, 1, 1, ipv4)),
		sfDatagram(3, sfFlow(1, 8, 9, 9, sfHeader(128, frames[4]), // ICMPv6
			sfGateway(64500, 64496, 64497, [][]uint32{{64510, 64511}}, []uint32{1, 2}, 100))),
	)
	for _, fr := range frames {
		out = append(out, sfDatagram(4, sfFlow(1, 2, 3, 4, sfHeader(uint32(len(fr)), fr))))
	}
	return out
}

// TestSFlowSlotReuse: a flow sample decoded into a Packet whose record
// slots held other samples, or NetFlow and IPFIX records, gives the same
// records as into a new Packet (the slot is cleared of the fields the old
// record had and the sample has not).
func TestSFlowSlotReuse(t *testing.T) {
	shapes := sflowShapes(t)
	var before [][]byte
	before = append(before, shapes...)
	for _, c := range []string{"fprobe-v5.pcap", "softflowd-ipfix.pcap", "pmacct-v9.pcap", "softflowd-ipfix-biflow.pcap"} {
		for _, p := range readCapture(t, c) {
			before = append(before, p.data)
		}
	}
	compared := 0
	for i, x := range shapes {
		var want Packet
		errWant := DecodeSFlow(loopback, x, &want)
		for j, y := range before {
			var d Decoder
			var got Packet
			_ = d.Decode(loopback, y, &got) // fills the slots; templates for the IPFIX and v9 data
			errGot := d.Decode(loopback, x, &got)
			at := fmt.Sprintf("datagram %d after %d", i, j)
			if fmt.Sprint(errGot) != fmt.Sprint(errWant) {
				t.Fatalf("%s: error %v, in a new Packet %v", at, errGot, errWant)
			}
			if len(got.Records) != len(want.Records) {
				t.Fatalf("%s: %d records, in a new Packet %d", at, len(got.Records), len(want.Records))
			}
			for k := range want.Records {
				if !reflect.DeepEqual(got.Records[k], want.Records[k]) {
					t.Fatalf("%s record %d:\n got %+v\nwant %+v", at, k, got.Records[k].Flow, want.Records[k].Flow)
				}
				if !reflect.DeepEqual(got.SFlow[k], want.SFlow[k]) {
					t.Fatalf("%s sample %d:\n got %+v\nwant %+v", at, k, got.SFlow[k], want.SFlow[k])
				}
				compared++
			}
		}
	}
	if compared < 10000 {
		t.Fatalf("compared %d records", compared)
	}
}

// TestSFlowRecordOrder: a flow sample's records give the fields and the
// error of their order, whichever loop reads them (the header and the
// gateway record of the usual records are decoded after the others): the
// first of two headers or sampled records gives the packet's fields, the
// last of two gateway records its ASes, a switch VLAN wins over the
// frame's tag either side of it, and the first malformed record is the
// error unless a framing problem ends the sample.
func TestSFlowRecordOrder(t *testing.T) {
	frames := handFrames(t)
	v4, v6 := frames[1], frames[4] // IPv4 UDP; IPv6 ICMPv6
	tagged := append(append(append([]byte{}, v4[:12]...), 0x81, 0x00, 0x00, 0x2a), v4[12:]...)
	sampled4 := sfTagged(3, sfw(nil, 100, 6, 0xC0000201, 0xC6336402, 80, 443, 0x12, 0x28)) // 192.0.2.1 → 198.51.100.2 TCP
	gw := func(router uint32) []byte { return sfGateway(router, 64496, 1, [][]uint32{{router + 1}}, nil, 0) }
	badGW := sfTagged(1003, sfw(nil, 1, 0, 1, 2, 3, 1, 2, 0x40000000, 5))                   // AS path past the end
	badSwitch := sfTagged(1001, sfw(nil, 1))                                                // shorter than 16 bytes
	cut := func(rec []byte) []byte { b := append([]byte{}, rec...); b[7] += 100; return b } // record length past the sample
	src := func(p *Packet) string { return p.Records[0].SrcAddr.String() }
	cases := []struct {
		name    string
		records [][]byte
		want    string // the record's source address, VLAN and destination AS
		err     string
	}{
		{"header then sampled IPv4", [][]byte{sfHeader(64, v6), sampled4}, "2001:db8::1 0 0", ""},
		{"sampled IPv4 then header", [][]byte{sampled4, sfHeader(64, v6)}, "192.0.2.1 0 0", ""},
		{"two headers", [][]byte{sfHeader(64, v4), sfHeader(64, v6)}, "192.0.2.1 0 0", ""},
		{"two gateways", [][]byte{gw(100), sfHeader(64, v4), gw(200)}, "192.0.2.1 0 201", ""},
		{"switch after tagged frame", [][]byte{sfHeader(64, tagged), sfTagged(1001, sfw(nil, 7, 0, 8, 0))}, "192.0.2.1 7 0", ""},
		{"switch before tagged frame", [][]byte{sfTagged(1001, sfw(nil, 7, 0, 8, 0)), sfHeader(64, tagged)}, "192.0.2.1 7 0", ""},
		{"switch VLAN 0 and tagged frame", [][]byte{sfTagged(1001, sfw(nil, 0, 0, 8, 0)), sfHeader(64, tagged)}, "192.0.2.1 42 0", ""},
		{"bad gateway, then bad switch", [][]byte{sfHeader(64, v4), badGW, badSwitch}, "192.0.2.1 0 0", "AS path past the end"},
		{"bad switch, then bad gateway", [][]byte{badSwitch, sfHeader(64, v4), badGW}, "192.0.2.1 0 0", "extended switch record shorter"},
		{"bad gateway, then cut record", [][]byte{badGW, sfHeader(64, v4), cut(gw(100))}, "192.0.2.1 0 0", "flow record length past"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			err := DecodeSFlow(loopback, sfDatagram(1, sfFlow(1, 1, 1, 2, c.records...)), &p)
			if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want %q", err, c.err)
			}
			r := &p.Records[0]
			check(t, "fields", fmt.Sprint(src(&p), " ", r.SrcVLAN, " ", r.DstAS), c.want)
		})
	}
}

// TestSFlowGatewayShapes: extended gateway records of the usual shape (an
// IPv4 next hop, one AS path segment, no communities), read in place, and
// of the others, give the same fields; cut records are errors either way.
func TestSFlowGatewayShapes(t *testing.T) {
	v6 := func(rec []byte) []byte { // the same record with the IPv6 next hop 2001:db8::1
		body := append(sfw(nil, 2, 0x20010db8, 0, 0, 1), rec[8+8:]...)
		return sfTagged(1003, body)
	}
	trim := func(rec []byte, n int) []byte { // the record n bytes shorter, its length too
		b := append([]byte{}, rec[:len(rec)-n]...)
		binary.BigEndian.PutUint32(b[4:], uint32(len(b)-8))
		return b
	}
	pad := func(rec []byte) []byte { // the record with 4 bytes more at its end
		b := append(append([]byte{}, rec...), 0, 0, 0, 0)
		binary.BigEndian.PutUint32(b[4:], uint32(len(b)-8))
		return b
	}
	cases := []struct {
		name string
		rec  []byte
		want string // AS path, communities, destination AS, local pref
		err  string
	}{
		{"one segment", sfGateway(64500, 1, 2, [][]uint32{{64510, 64511}}, nil, 7), "64510,64511  64511 7", ""},
		{"empty segment", sfGateway(64500, 1, 2, [][]uint32{{}}, nil, 7), "  64500 7", ""},
		{"no segment", sfGateway(64500, 1, 2, nil, nil, 7), "  64500 7", ""},
		{"two segments", sfGateway(64500, 1, 2, [][]uint32{{64510}, {64511}}, nil, 7), "64510,64511  64511 7", ""},
		{"communities", sfGateway(64500, 1, 2, [][]uint32{{64510}}, []uint32{9, 10}, 7), "64510 9,10 64510 7", ""},
		{"IPv6 next hop", v6(sfGateway(64500, 1, 2, [][]uint32{{64510}}, nil, 7)), "64510  64510 7", ""},
		{"trailing bytes", pad(sfGateway(64500, 1, 2, [][]uint32{{64510}}, nil, 7)), "64510  64510 7", ""},
		{"no local pref", trim(sfGateway(64500, 1, 2, [][]uint32{{64510}}, nil, 7), 4), "", "communities past the end"},
		{"cut AS path", trim(sfGateway(64500, 1, 2, [][]uint32{{64510, 64511}}, nil, 7), 12), "", "AS path past the end"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p Packet
			err := DecodeSFlow(loopback, sfDatagram(1, sfFlow(1, 1, 1, 2, c.rec)), &p)
			if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want %q", err, c.err)
			}
			r, s := &p.Records[0], &p.SFlow[0]
			if c.err != "" {
				check(t, "no gateway", s.Has&SFlowHasGateway, SFlowHas(0))
				return
			}
			check(t, "gateway", fmt.Sprint(joinU32(s.ASPath), " ", joinU32(s.Communities), " ", r.DstAS, " ", s.LocalPref), c.want)
			check(t, "source AS, peer, router", [3]uint32{r.SrcAS, s.SrcPeerAS, s.RouterAS}, [3]uint32{1, 2, 64500})
			check(t, "has", r.Has&(HasBGPNextHop|HasSrcAS|HasDstAS), HasBGPNextHop|HasSrcAS|HasDstAS)
		})
	}
}
