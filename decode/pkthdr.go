package decode

import (
	"encoding/binary"
	"net/netip"
)

// A bounded, allocation-free parser of sampled packet headers: the first
// bytes of a frame as sFlow's raw packet header record (and IPFIX's
// dataLinkFrameSection / ipHeaderPacketSection) carry them. It fills the
// normalized fields of a Flow from Ethernet, 802.1Q / 802.1ad tags, IEEE
// 802.11 data frames with LLC/SNAP, MPLS label stacks, IPv4, IPv6 (with its
// extension headers), TCP, UDP, ICMP and ICMPv6 headers. A header cut short (sampled headers usually are) or
// malformed yields the fields read before the cut; nothing is an error.
// Fields the Flow already has are not overwritten, so that a record's
// direct fields win over the header's.
//
// The walk is bounded: at most maxVLANTags tags, maxMPLSLabels labels and
// maxIPv6ExtHeaders extension headers are skipped, each step moving
// forward in the slice.

// EtherType values the parser knows.
const (
	etherType8021Q  = 0x8100
	etherType8021AD = 0x88A8
	etherTypeQinQ   = 0x9100 // pre-standard 802.1ad
	etherTypeMPLS   = 0x8847
	etherTypeMPLSMc = 0x8848

	maxVLANTags       = 4
	maxMPLSLabels     = 16
	maxIPv6ExtHeaders = 8
)

// parseEthernetHeader fills f from an Ethernet II frame starting at b[0]
// (destination MAC first, no preamble).
//
//nfkit:hot
func parseEthernetHeader(b []byte, f *Flow) {
	if len(b) < 14 {
		return
	}
	if f.Has&HasDstMAC == 0 {
		f.DstMAC = MAC(b[0:6])
		f.Has |= HasDstMAC
	}
	if f.Has&HasSrcMAC == 0 {
		f.SrcMAC = MAC(b[6:12])
		f.Has |= HasSrcMAC
	}
	et := binary.BigEndian.Uint16(b[12:])
	off := 14
	for tags := 0; tags < maxVLANTags && (et == etherType8021Q || et == etherType8021AD || et == etherTypeQinQ); tags++ {
		if len(b) < off+4 {
			return
		}
		if tags == 0 && f.Has&HasSrcVLAN == 0 {
			// The outermost tag (the service VLAN of a QinQ frame).
			f.SrcVLAN = binary.BigEndian.Uint16(b[off:]) & 0x0FFF
			f.Has |= HasSrcVLAN
		}
		et = binary.BigEndian.Uint16(b[off+2:])
		off += 4
	}
	if et < 0x0600 {
		return // an 802.3 length (LLC frame), not an EtherType
	}
	if f.Has&HasEtherType == 0 {
		f.EtherType = et
		f.Has |= HasEtherType
	}
	switch et {
	case etherTypeIPv4, etherTypeIPv6:
		parseIPHeader(b[off:], f)
	case etherTypeMPLS, etherTypeMPLSMc:
		parseMPLS(b[off:], f)
	}
}

// parse80211Header fills f from an IEEE 802.11 MAC frame starting at its
// frame control field: the source and destination MACs by the frame's
// To DS / From DS bits, and, for a data frame with an LLC/SNAP header, the
// EtherType and the packet under it.
//
//nfkit:hot
func parse80211Header(b []byte, f *Flow) {
	if len(b) < 24 {
		return
	}
	fc0, fc1 := b[0], b[1]
	if fc0&0x0C != 0x08 || fc0&0x03 != 0 {
		return // not a data frame (or not protocol version 0)
	}
	off := 24
	var da, sa []byte
	switch fc1 & 0x03 { // To DS, From DS
	case 0:
		da, sa = b[4:10], b[10:16]
	case 1: // to the AP
		da, sa = b[16:22], b[10:16]
	case 2: // from the AP
		da, sa = b[4:10], b[16:22]
	case 3: // between APs: address 4
		if len(b) < 30 {
			return
		}
		da, sa = b[16:22], b[24:30]
		off = 30
	}
	if f.Has&HasDstMAC == 0 {
		f.DstMAC = MAC(da)
		f.Has |= HasDstMAC
	}
	if f.Has&HasSrcMAC == 0 {
		f.SrcMAC = MAC(sa)
		f.Has |= HasSrcMAC
	}
	if fc0&0x80 != 0 { // QoS data: QoS control, then HT control when Order is set
		off += 2
		if fc1&0x80 != 0 {
			off += 4
		}
	}
	if fc0&0x40 != 0 || fc1&0x40 != 0 {
		return // no data, or encrypted (Protected Frame)
	}
	if len(b) < off+8 || b[off] != 0xAA || b[off+1] != 0xAA || b[off+2] != 0x03 {
		return // not LLC/SNAP
	}
	et := binary.BigEndian.Uint16(b[off+6:])
	if f.Has&HasEtherType == 0 {
		f.EtherType = et
		f.Has |= HasEtherType
	}
	switch et {
	case etherTypeIPv4, etherTypeIPv6:
		parseIPHeader(b[off+8:], f)
	case etherTypeMPLS, etherTypeMPLSMc:
		parseMPLS(b[off+8:], f)
	}
}

// parseMPLS skips an MPLS label stack and parses the IP packet under it
// (its version taken from the first nibble, as routers do).
//
//nfkit:hot
func parseMPLS(b []byte, f *Flow) {
	off := 0
	for n := 0; n < maxMPLSLabels; n++ {
		if len(b) < off+4 {
			return
		}
		bottom := b[off+2]&1 != 0
		off += 4
		if bottom {
			parseIPHeader(b[off:], f)
			return
		}
	}
}

// parseIPHeader fills f from an IPv4 or IPv6 packet starting at b[0] (the
// version is its first nibble) and the transport header after it.
//
//nfkit:hot
func parseIPHeader(b []byte, f *Flow) {
	if len(b) < 1 {
		return
	}
	switch b[0] >> 4 {
	case 4:
		parseIPv4(b, f)
	case 6:
		parseIPv6(b, f)
	}
}

//nfkit:hot
func parseIPv4(b []byte, f *Flow) {
	if len(b) < 20 {
		return
	}
	ihl := int(b[0]&0x0F) * 4
	if ihl < 20 {
		return
	}
	if f.Has&HasIPVersion == 0 {
		f.IPVersion = 4
		f.Has |= HasIPVersion
	}
	if f.Has&HasEtherType == 0 {
		f.EtherType = etherTypeIPv4
		f.Has |= HasEtherType
	}
	if f.Has&HasTOS == 0 {
		f.TOS = b[1]
		f.Has |= HasTOS
	}
	if f.Has&HasTTL == 0 {
		f.TTL = b[8]
		f.Has |= HasTTL
	}
	proto := b[9]
	if f.Has&HasProto == 0 {
		f.Proto = proto
		f.Has |= HasProto
	}
	if f.Has&HasSrcAddr == 0 {
		f.SrcAddr = netip.AddrFrom4([4]byte(b[12:16]))
		f.Has |= HasSrcAddr
	}
	if f.Has&HasDstAddr == 0 {
		f.DstAddr = netip.AddrFrom4([4]byte(b[16:20]))
		f.Has |= HasDstAddr
	}
	if binary.BigEndian.Uint16(b[6:])&0x1FFF != 0 || len(b) < ihl {
		return // a later fragment has no transport header
	}
	parseTransport(b[ihl:], proto, f)
}

// IPv6 extension headers (RFC 8200 §4) that the parser steps over.
const (
	ipv6HopByHop  = 0
	ipv6Routing   = 43
	ipv6Fragment  = 44
	ipv6DestOpts  = 60
	ipv6Mobility  = 135
	ipv6AuthHdr   = 51
	protoICMP     = 1
	protoTCP      = 6
	protoUDP      = 17
	protoICMPv6   = 58
	protoSCTP     = 132
	protoUDPLite  = 136
	ipv6HeaderLen = 40
)

//nfkit:hot
func parseIPv6(b []byte, f *Flow) {
	if len(b) < ipv6HeaderLen {
		return
	}
	if f.Has&HasIPVersion == 0 {
		f.IPVersion = 6
		f.Has |= HasIPVersion
	}
	if f.Has&HasEtherType == 0 {
		f.EtherType = etherTypeIPv6
		f.Has |= HasEtherType
	}
	if f.Has&HasTOS == 0 {
		f.TOS = uint8(binary.BigEndian.Uint16(b) >> 4) // traffic class
		f.Has |= HasTOS
	}
	if f.Has&HasTTL == 0 {
		f.TTL = b[7] // hop limit
		f.Has |= HasTTL
	}
	if f.Has&HasSrcAddr == 0 {
		f.SrcAddr = netip.AddrFrom16([16]byte(b[8:24]))
		f.Has |= HasSrcAddr
	}
	if f.Has&HasDstAddr == 0 {
		f.DstAddr = netip.AddrFrom16([16]byte(b[24:40]))
		f.Has |= HasDstAddr
	}
	next := b[6]
	off := ipv6HeaderLen
	for n := 0; n < maxIPv6ExtHeaders; n++ {
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts, ipv6Mobility:
			if len(b) < off+8 {
				return
			}
			next = b[off]
			off += 8 + int(b[off+1])*8
			continue
		case ipv6AuthHdr:
			if len(b) < off+8 {
				return
			}
			next = b[off]
			off += 8 + (int(b[off+1])-1)*4 // RFC 4302: length in 4-byte units, minus 2
			continue
		case ipv6Fragment:
			if len(b) < off+8 {
				return
			}
			next = b[off]
			fragOff := binary.BigEndian.Uint16(b[off+2:]) >> 3
			off += 8
			if fragOff != 0 {
				if f.Has&HasProto == 0 {
					f.Proto = next
					f.Has |= HasProto
				}
				return // a later fragment has no transport header
			}
			continue
		}
		break
	}
	if f.Has&HasProto == 0 {
		f.Proto = next
		f.Has |= HasProto
	}
	if off > len(b) {
		return
	}
	parseTransport(b[off:], next, f)
}

// parseTransport fills ports, TCP flags or ICMP type and code.
//
//nfkit:hot
func parseTransport(b []byte, proto uint8, f *Flow) {
	switch proto {
	case protoTCP, protoUDP, protoSCTP, protoUDPLite:
		if len(b) < 4 {
			return
		}
		if f.Has&HasSrcPort == 0 {
			f.SrcPort = binary.BigEndian.Uint16(b)
			f.Has |= HasSrcPort
		}
		if f.Has&HasDstPort == 0 {
			f.DstPort = binary.BigEndian.Uint16(b[2:])
			f.Has |= HasDstPort
		}
		if proto == protoTCP && len(b) >= 14 && f.Has&HasTCPFlags == 0 {
			f.TCPFlags = binary.BigEndian.Uint16(b[12:]) & 0x01FF
			f.Has |= HasTCPFlags
		}
	case protoICMP, protoICMPv6:
		if len(b) < 2 {
			return
		}
		if f.Has&HasICMPType == 0 {
			f.ICMPType = b[0]
			f.Has |= HasICMPType
		}
		if f.Has&HasICMPCode == 0 {
			f.ICMPCode = b[1]
			f.Has |= HasICMPCode
		}
	}
}
