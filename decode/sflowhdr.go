package decode

import (
	"encoding/binary"
	"net/netip"
)

// The fast path of the sampled header parser (pkthdr.go) for the raw
// packet header records of sFlow flow samples. Most sampled frames are
// Ethernet, untagged or with one 802.1Q tag, over IPv4 or IPv6 without
// extension headers, and the flow sample's other records (switch, router,
// gateway) fill none of the fields such a frame gives: the fields are then
// written without the per-field "already set?" tests of the general
// parser, and the FieldSet once; untagged IPv4 without options, the most
// common of all, is read through one array pointer. Any other frame, or a
// Flow that already has one of these fields, goes to parseEthernetHeader;
// both give the same Flow (TestParseFrameAgrees, FuzzParseFrame).

// frameFields are the fields parseFrame writes without testing; the VLAN
// is tested as in parseEthernetHeader (an extended switch record may have
// set it).
const frameFields = HasDstMAC | HasSrcMAC | HasEtherType | HasIPVersion | HasTOS | HasTTL |
	HasProto | HasSrcAddr | HasDstAddr | HasSrcPort | HasDstPort | HasTCPFlags | HasICMPType | HasICMPCode

// parseFrame fills f from an Ethernet frame as parseEthernetHeader does.
//
//nfkit:hot
func parseFrame(b []byte, f *Flow) {
	if f.Has&frameFields != 0 || len(b) < 14 {
		parseEthernetHeader(b, f)
		return
	}
	et := binary.BigEndian.Uint16(b[12:])
	if et == etherTypeIPv4 && len(b) >= 54 && b[14] == 0x45 {
		// The most common frame of all, untagged IPv4 without options,
		// read through one array pointer over the Ethernet and IPv4
		// headers and the 20 bytes after them (a TCP header without
		// options, or a UDP header).
		e := (*[54]byte)(b)
		proto := e[23]
		f.IPVersion = 4
		f.TOS = e[15]
		f.TTL = e[22]
		f.Proto = proto
		f.SrcAddr = netip.AddrFrom4([4]byte(e[26:30]))
		f.DstAddr = netip.AddrFrom4([4]byte(e[30:34]))
		has := HasDstMAC | HasSrcMAC | HasEtherType | HasIPVersion | HasTOS | HasTTL | HasProto | HasSrcAddr | HasDstAddr
		if binary.BigEndian.Uint16(e[20:])&0x1FFF == 0 { // a later fragment has no transport header
			switch proto {
			case protoTCP:
				f.TCPFlags = binary.BigEndian.Uint16(e[46:]) & 0x01FF
				has |= HasTCPFlags
				fallthrough
			case protoUDP, protoSCTP, protoUDPLite:
				f.SrcPort = binary.BigEndian.Uint16(e[34:])
				f.DstPort = binary.BigEndian.Uint16(e[36:])
				has |= HasSrcPort | HasDstPort
			case protoICMP, protoICMPv6:
				f.ICMPType = e[34]
				f.ICMPCode = e[35]
				has |= HasICMPType | HasICMPCode
			}
		}
		f.DstMAC = MAC(e[0:6])
		f.SrcMAC = MAC(e[6:12])
		f.EtherType = etherTypeIPv4
		f.Has |= has
		return
	}
	ip := b[14:]
	var tag uint16
	tagged := et == etherType8021Q
	if tagged {
		if len(ip) < 4 {
			parseEthernetHeader(b, f)
			return
		}
		tag = binary.BigEndian.Uint16(ip) & 0x0FFF
		et = binary.BigEndian.Uint16(ip[2:])
		ip = ip[4:]
	}
	var has FieldSet
	var tp []byte // the transport header
	var proto uint8
	switch {
	case et == etherTypeIPv4 && len(ip) >= 20 && ip[0]>>4 == 4 && ip[0]&0x0F >= 5:
		proto = ip[9]
		f.IPVersion = 4
		f.TOS = ip[1]
		f.TTL = ip[8]
		f.SrcAddr = netip.AddrFrom4([4]byte(ip[12:16]))
		f.DstAddr = netip.AddrFrom4([4]byte(ip[16:20]))
		// A later fragment has no transport header.
		if ihl := int(ip[0]&0x0F) * 4; binary.BigEndian.Uint16(ip[6:])&0x1FFF == 0 && len(ip) >= ihl {
			tp = ip[ihl:]
		}
	case et == etherTypeIPv6 && len(ip) >= ipv6HeaderLen && ip[0]>>4 == 6 && !ipv6Extension(ip[6]):
		proto = ip[6]
		f.IPVersion = 6
		f.TOS = uint8(binary.BigEndian.Uint16(ip) >> 4)
		f.TTL = ip[7]
		f.SrcAddr = netip.AddrFrom16([16]byte(ip[8:24]))
		f.DstAddr = netip.AddrFrom16([16]byte(ip[24:40]))
		tp = ip[ipv6HeaderLen:]
	default:
		parseEthernetHeader(b, f)
		return
	}
	f.Proto = proto
	has = HasDstMAC | HasSrcMAC | HasEtherType | HasIPVersion | HasTOS | HasTTL | HasProto | HasSrcAddr | HasDstAddr
	switch proto {
	case protoTCP:
		if len(tp) >= 14 {
			f.TCPFlags = binary.BigEndian.Uint16(tp[12:]) & 0x01FF
			has |= HasTCPFlags
		}
		fallthrough
	case protoUDP, protoSCTP, protoUDPLite:
		if len(tp) >= 4 {
			f.SrcPort = binary.BigEndian.Uint16(tp)
			f.DstPort = binary.BigEndian.Uint16(tp[2:])
			has |= HasSrcPort | HasDstPort
		}
	case protoICMP, protoICMPv6:
		if len(tp) >= 2 {
			f.ICMPType = tp[0]
			f.ICMPCode = tp[1]
			has |= HasICMPType | HasICMPCode
		}
	}
	if tagged && f.Has&HasSrcVLAN == 0 {
		f.SrcVLAN = tag
		has |= HasSrcVLAN
	}
	f.DstMAC = MAC(b[0:6])
	f.SrcMAC = MAC(b[6:12])
	f.EtherType = et
	f.Has |= has
}

// ipv6Extension reports whether next is an IPv6 extension header that
// parseIPv6 steps over.
//
//nfkit:hot
func ipv6Extension(next uint8) bool {
	switch next {
	case ipv6HopByHop, ipv6Routing, ipv6Fragment, ipv6DestOpts, ipv6Mobility, ipv6AuthHdr:
		return true
	}
	return false
}
