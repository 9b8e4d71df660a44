package decode

import (
	"fmt"
	"net/netip"
	"reflect"
	"testing"
)

// sflowShapes are sFlow datagrams whose flow samples fill different
// fields: the captures' (Ethernet headers, switch, router and gateway
// records), an 802.1Q-tagged frame, 802.11, MPLS and bare IPv4 headers,
// sampled IPv6 and IPv4 records without a header, and a sample without
// records.
func sflowShapes(t *testing.T) [][]byte {
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
