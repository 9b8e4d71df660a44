package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"testing"
)

// frameStarts are Flows as a flow sample's other records leave them
// before its raw packet header: empty, with the VLAN of an extended switch
// record, with router and gateway fields, and with one of the fields a
// frame gives (which sends parseFrame to the general parser).
func frameStarts() []Flow {
	routed := Flow{Has: HasPackets | HasInIf | HasOutIf | HasNextHop | HasSrcMask | HasDstMask | HasBGPNextHop | HasSrcAS | HasDstAS | HasBytes,
		Packets: 1, InIf: 3, OutIf: 4, NextHop: netip.MustParseAddr("192.0.2.254"), SrcMask: 24, DstMask: 25,
		BGPNextHop: netip.MustParseAddr("2001:db8::fe"), SrcAS: 64496, DstAS: 64497, Bytes: 1500}
	vlan := routed
	vlan.SrcVLAN, vlan.Has = 10, vlan.Has|HasSrcVLAN
	sampled := routed
	sampled.SrcAddr, sampled.Proto, sampled.Has = netip.MustParseAddr("203.0.113.9"), 50, sampled.Has|HasSrcAddr|HasProto
	mac := Flow{DstMAC: MAC{2, 0, 0, 0, 0, 9}, Has: HasDstMAC}
	return []Flow{{}, routed, vlan, sampled, mac}
}

// checkFrame parses b with parseFrame and parseEthernetHeader from every
// start and fails on any difference.
func checkFrame(t *testing.T, at string, b []byte) {
	t.Helper()
	for i, start := range frameStarts() {
		fast, slow := start, start
		parseFrame(b, &fast)
		parseEthernetHeader(b, &slow)
		if fast != slow {
			t.Fatalf("%s, start %d:\nparseFrame          %+v\nparseEthernetHeader %+v", at, i, fast, slow)
		}
	}
}

// TestParseFrameAgrees: parseFrame gives what parseEthernetHeader gives,
// on the synthetic traffic and the hand-built frames, whole and cut at
// every length up to 80 bytes, with and without one 802.1Q tag, and on the
// sFlow captures' sampled headers.
func TestParseFrameAgrees(t *testing.T) {
	frames := append(synthFrames(t), handFrames(t)...)
	n := len(frames)
	for _, fr := range frames[:n] {
		if len(fr) < 14 {
			continue
		}
		tagged := append(append(append([]byte{}, fr[:12]...), 0x81, 0x00, 0x20, 0x07), fr[12:]...)
		frames = append(frames, tagged)
	}
	for _, h := range sflowHeaders(t) {
		frames = append(frames, h)
	}
	compared := 0
	for i, fr := range frames {
		for cut := range min(len(fr), 80) + 1 {
			checkFrame(t, "frame "+strconv.Itoa(i)+" cut "+strconv.Itoa(cut), fr[:cut])
			compared++
		}
		checkFrame(t, "frame "+strconv.Itoa(i), fr)
	}
	if compared < 10000 {
		t.Fatalf("compared %d frames", compared)
	}
}

// sflowHeaders returns the Ethernet headers of the sFlow captures' raw
// packet header records.
func sflowHeaders(tb testing.TB) [][]byte {
	var out [][]byte
	var p Packet
	for _, pkt := range sflowPayloads(tb) {
		if err := DecodeSFlow(loopback, pkt, &p); err != nil {
			tb.Fatal(err)
		}
		for _, r := range p.Records {
			b := pkt[r.Offset+8:] // the sample's body
			// Walk the records to the raw header (the captures' samples are compact).
			n := int(binary.BigEndian.Uint32(b[28:]))
			b = b[32:]
			for range n {
				f, l := binary.BigEndian.Uint32(b), int(binary.BigEndian.Uint32(b[4:]))
				if f == sflowRawHeader && binary.BigEndian.Uint32(b[8:]) == sflowHeaderProtoEthernet {
					out = append(out, b[8+16:8+16+int(binary.BigEndian.Uint32(b[8+12:]))])
				}
				b = b[8+l:]
			}
		}
	}
	if len(out) == 0 {
		tb.Fatal("no Ethernet headers in the sFlow captures")
	}
	return out
}

// FuzzParseFrame: on any bytes, parseFrame and parseEthernetHeader give
// the same Flow from every start.
func FuzzParseFrame(f *testing.F) {
	for _, fr := range synthFrames(f)[:60] {
		f.Add(fr)
	}
	for _, fr := range handFrames(f) {
		f.Add(fr)
	}
	for _, h := range sflowHeaders(f)[:20] {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFrame(t, "input", b)
	})
}
