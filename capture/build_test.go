package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Test captures are built here: the IP and UDP headers by gopacket's
// serializers (an implementation independent of the reader), link-layer
// headers and file formats byte by byte after their specifications, so
// that every variant the reader accepts can be written, including damaged
// ones.

// rec is one packet record of a test capture.
type rec struct {
	ts   time.Time
	data []byte
	orig int // original length; 0 means len(data)
}

type byteOrderAppender interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func order(big bool) byteOrderAppender {
	if big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// pcapFile returns a pcap file of recs: byte order, nanosecond or
// microsecond timestamps, link type and snapshot length as given.
func pcapFile(big, nano bool, link uint32, snap uint32, recs ...rec) []byte {
	o := order(big)
	magic := uint32(pcapMagicMicro)
	if nano {
		magic = pcapMagicNano
	}
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, 2) // version 2.4
	b = o.AppendUint16(b, 4)
	b = o.AppendUint32(b, 0) // thiszone
	b = o.AppendUint32(b, 0) // sigfigs
	b = o.AppendUint32(b, snap)
	b = o.AppendUint32(b, link)
	for _, r := range recs {
		b = o.AppendUint32(b, uint32(r.ts.Unix()))
		if nano {
			b = o.AppendUint32(b, uint32(r.ts.Nanosecond()))
		} else {
			b = o.AppendUint32(b, uint32(r.ts.Nanosecond()/1000))
		}
		b = o.AppendUint32(b, uint32(len(r.data)))
		orig := r.orig
		if orig == 0 {
			orig = len(r.data)
		}
		b = o.AppendUint32(b, uint32(orig))
		b = append(b, r.data...)
	}
	return b
}

// ngFile builds a pcapng file block by block.
type ngFile struct {
	o byteOrderAppender
	b []byte
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// block appends a block of type typ with body.
func (n *ngFile) block(typ uint32, body []byte) *ngFile {
	body = pad4(body)
	l := uint32(12 + len(body))
	n.b = n.o.AppendUint32(n.b, typ)
	n.b = n.o.AppendUint32(n.b, l)
	n.b = append(n.b, body...)
	n.b = n.o.AppendUint32(n.b, l)
	return n
}

// section starts a section in byte order big (a new ngFile when n is nil).
func (n *ngFile) section(big bool) *ngFile {
	if n == nil {
		n = &ngFile{}
	}
	n.o = order(big)
	body := n.o.AppendUint32(nil, ngByteOrderMagic)
	body = n.o.AppendUint16(body, 1) // version 1.0
	body = n.o.AppendUint16(body, 0)
	body = n.o.AppendUint64(body, ^uint64(0))   // section length unknown
	body = n.opt(body, 4, []byte("nfkit test")) // shb_userappl
	body = n.o.AppendUint32(body, 0)            // opt_endofopt
	return n.block(ngSHB, body)
}

func (n *ngFile) opt(b []byte, code uint16, v []byte) []byte {
	b = n.o.AppendUint16(b, code)
	b = n.o.AppendUint16(b, uint16(len(v)))
	return pad4(append(b, v...))
}

// iface appends an interface description; tsresol < 0 leaves the option
// out, tsoffset 0 too.
func (n *ngFile) iface(link uint16, snap uint32, tsresol int, tsoffset int64) *ngFile {
	body := n.o.AppendUint16(nil, link)
	body = n.o.AppendUint16(body, 0)
	body = n.o.AppendUint32(body, snap)
	body = n.opt(body, 2, []byte("eth0")) // if_name
	if tsresol >= 0 {
		body = n.opt(body, ngOptTsResol, []byte{byte(tsresol)})
	}
	if tsoffset != 0 {
		body = n.opt(body, ngOptTsOffset, n.o.AppendUint64(nil, uint64(tsoffset)))
	}
	body = n.o.AppendUint32(body, 0)
	return n.block(ngIDB, body)
}

// epb appends an enhanced packet block; ts is in the interface's units.
func (n *ngFile) epb(ifid uint32, ts uint64, data []byte, orig int) *ngFile {
	if orig == 0 {
		orig = len(data)
	}
	body := n.o.AppendUint32(nil, ifid)
	body = n.o.AppendUint32(body, uint32(ts>>32))
	body = n.o.AppendUint32(body, uint32(ts))
	body = n.o.AppendUint32(body, uint32(len(data)))
	body = n.o.AppendUint32(body, uint32(orig))
	body = pad4(append(body, data...))
	body = n.opt(body, 1, []byte("a comment")) // opt_comment
	body = n.o.AppendUint32(body, 0)
	return n.block(ngEPB, body)
}

// pb appends an obsolete packet block.
func (n *ngFile) pb(ifid uint16, ts uint64, data []byte) *ngFile {
	body := n.o.AppendUint16(nil, ifid)
	body = n.o.AppendUint16(body, 0) // drops
	body = n.o.AppendUint32(body, uint32(ts>>32))
	body = n.o.AppendUint32(body, uint32(ts))
	body = n.o.AppendUint32(body, uint32(len(data)))
	body = n.o.AppendUint32(body, uint32(len(data)))
	return n.block(ngPB, append(body, data...))
}

// spb appends a simple packet block.
func (n *ngFile) spb(data []byte, orig int) *ngFile {
	if orig == 0 {
		orig = len(data)
	}
	return n.block(ngSPB, append(n.o.AppendUint32(nil, uint32(orig)), data...))
}

// Link-layer headers.

func etherFrame(et uint16, p []byte, tags ...uint16) []byte {
	b := []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1} // dst, src MAC
	for _, tpid := range tags {
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, 0x2064) // priority 1, VLAN 100
	}
	b = binary.BigEndian.AppendUint16(b, et)
	return append(b, p...)
}

func sllFrame(proto uint16, p []byte) []byte {
	b := []byte{0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0} // to us, ARPHRD_ETHER, 6-byte address
	b = binary.BigEndian.AppendUint16(b, proto)
	return append(b, p...)
}

func sll2Frame(proto uint16, p []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, proto)
	b = append(b, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0) // reserved, ifindex 3, ARPHRD_ETHER, to us, address
	return append(b, p...)
}

func loopFrame(af uint32, o binary.AppendByteOrder, p []byte) []byte {
	return append(o.AppendUint32(nil, af), p...)
}

// IP packets.

var serialize = gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}

func ipOf(a netip.Addr) net.IP { return net.IP(a.AsSlice()) }

// udpPacket returns an IPv4 or IPv6 packet (by the source address) of a
// UDP datagram, with IPv6 extension headers ext before UDP.
func udpPacket(tb testing.TB, src, dst netip.AddrPort, payload []byte, ext ...gopacket.SerializableLayer) []byte {
	tb.Helper()
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	var ls []gopacket.SerializableLayer
	if src.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Id: 1, Protocol: layers.IPProtocolUDP, SrcIP: ipOf(src.Addr()), DstIP: ipOf(dst.Addr())}
		udp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, ip)
	} else {
		next := layers.IPProtocolUDP
		if len(ext) > 0 {
			next = layers.IPProtocolIPv6HopByHop
			if _, ok := ext[0].(*layers.IPv6Destination); ok {
				next = layers.IPProtocolIPv6Destination
			}
		}
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: next, SrcIP: ipOf(src.Addr()), DstIP: ipOf(dst.Addr())}
		udp.SetNetworkLayerForChecksum(ip)
		ls = append(append(ls, ip), ext...)
	}
	ls = append(ls, udp, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serialize, ls...); err != nil {
		tb.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// udpDatagram returns the UDP header and payload alone.
func udpDatagram(tb testing.TB, src, dst netip.AddrPort, payload []byte) []byte {
	tb.Helper()
	p := udpPacket(tb, src, dst, payload)
	if src.Addr().Is4() {
		return p[ipv4MinLen:]
	}
	return p[ipv6Len:]
}

// fragments returns the IP fragments, of at most size payload bytes
// (a multiple of 8), of a UDP datagram, IPv4 or IPv6 by the source
// address, with fragment identification id.
func fragments(tb testing.TB, src, dst netip.AddrPort, payload []byte, size int, id uint32) [][]byte {
	tb.Helper()
	whole := udpDatagram(tb, src, dst, payload)
	var out [][]byte
	for off := 0; off < len(whole); off += size {
		end := min(off+size, len(whole))
		more := end < len(whole)
		if src.Addr().Is4() {
			ip := &layers.IPv4{Version: 4, TTL: 64, Id: uint16(id), Protocol: layers.IPProtocolUDP,
				SrcIP: ipOf(src.Addr()), DstIP: ipOf(dst.Addr()), FragOffset: uint16(off / 8)}
			if more {
				ip.Flags = layers.IPv4MoreFragments
			}
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, serialize, ip, gopacket.Payload(whole[off:end])); err != nil {
				tb.Fatal(err)
			}
			out = append(out, append([]byte(nil), buf.Bytes()...))
			continue
		}
		// IPv6 fragment header (RFC 8200 section 4.5), by hand:
		// gopacket does not serialize it.
		fh := []byte{byte(layers.IPProtocolUDP), 0}
		fo := uint16(off)
		if more {
			fo |= 1
		}
		fh = binary.BigEndian.AppendUint16(fh, fo)
		fh = binary.BigEndian.AppendUint32(fh, id)
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolIPv6Fragment,
			SrcIP: ipOf(src.Addr()), DstIP: ipOf(dst.Addr())}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, serialize, ip, gopacket.Payload(append(fh, whole[off:end]...))); err != nil {
			tb.Fatal(err)
		}
		out = append(out, append([]byte(nil), buf.Bytes()...))
	}
	return out
}

// testPayload returns n bytes that differ from those of other seeds.
func testPayload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) ^ seed
	}
	return b
}
