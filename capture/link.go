package capture

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
)

var be = binary.BigEndian

// Header sizes and protocol numbers.
const (
	ethernetLen = 14
	sllLen      = 16
	sll2Len     = 20
	loopLen     = 4
	ipv4MinLen  = 20
	ipv6Len     = 40
	udpLen      = 8
	fragHdrLen  = 8

	etherIPv4      = 0x0800
	etherIPv6      = 0x86dd
	etherVLAN      = 0x8100 // 802.1Q
	etherQinQ      = 0x88a8 // 802.1ad
	etherQinQOld   = 0x9100 // pre-standard QinQ
	etherMPLS      = 0x8847
	etherMPLSMulti = 0x8848
	maxTags        = 8  // VLAN tags before the IP header
	maxLabels      = 16 // MPLS labels

	protoUDP       = 17
	ipv6HopByHop   = 0
	ipv6Routing    = 43
	ipv6Fragment   = 44
	ipv6AH         = 51
	ipv6DestOpts   = 60
	maxIPv6Headers = 8 // extension headers before UDP

	// BSD address families of the NULL and LOOP link types.
	afInet         = 2
	afInet6BSD     = 24 // NetBSD, OpenBSD, BSD/OS
	afInet6FreeBSD = 28
	afInet6Darwin  = 30
)

// malformed counts a packet skipped for an invalid header (a fragment's
// datagram when frags > 0) and returns false.
func (r *Reader) malformed(frags int) bool {
	if frags > 0 {
		r.stats.FragmentsDropped += frags
	} else {
		r.stats.Malformed++
	}
	return false
}

// notUDP counts a packet skipped for not being UDP and returns false.
func (r *Reader) notUDP(frags int) bool {
	if frags > 0 {
		r.stats.FragmentsDropped += frags
	} else {
		r.stats.NotUDP++
	}
	return false
}

// parseLink finds the UDP datagram in a packet of link type link. It
// fills d and returns true, or counts why there is none and returns
// false.
func (r *Reader) parseLink(link LinkType, b []byte, d *Datagram) bool {
	switch link {
	case LinkTypeEthernet:
		if len(b) < ethernetLen {
			return r.malformed(0)
		}
		return r.parseEther(be.Uint16(b[12:]), b[ethernetLen:], d)
	case LinkTypeLinuxSLL:
		if len(b) < sllLen {
			return r.malformed(0)
		}
		return r.parseEther(be.Uint16(b[14:]), b[sllLen:], d)
	case LinkTypeLinuxSLL2:
		if len(b) < sll2Len {
			return r.malformed(0)
		}
		return r.parseEther(be.Uint16(b), b[sll2Len:], d)
	case LinkTypeRaw, 12, 14:
		return r.parseIP(b, d)
	case LinkTypeIPv4:
		return r.parseIPv4(b, d)
	case LinkTypeIPv6:
		return r.parseIPv6(b, d)
	case LinkTypeNull, LinkTypeLoop:
		if len(b) < loopLen {
			return r.malformed(0)
		}
		af := be.Uint32(b)
		if link == LinkTypeNull && af > 0xffff {
			// The capturing host's byte order, which need not be the
			// file's: an address family is small either way.
			af = bits.ReverseBytes32(af)
		}
		switch af {
		case afInet:
			return r.parseIPv4(b[loopLen:], d)
		case afInet6BSD, afInet6FreeBSD, afInet6Darwin:
			return r.parseIPv6(b[loopLen:], d)
		}
		return r.notUDP(0)
	}
	return r.notUDP(0)
}

// parseEther reads past VLAN tags and MPLS labels to the IP header; et is
// the EtherType of b.
func (r *Reader) parseEther(et uint16, b []byte, d *Datagram) bool {
	for range maxTags + 1 {
		switch et {
		case etherIPv4:
			return r.parseIPv4(b, d)
		case etherIPv6:
			return r.parseIPv6(b, d)
		case etherVLAN, etherQinQ, etherQinQOld:
			if len(b) < 4 {
				return r.malformed(0)
			}
			et, b = be.Uint16(b[2:]), b[4:]
		case etherMPLS, etherMPLSMulti:
			for range maxLabels {
				if len(b) < 4 {
					return r.malformed(0)
				}
				bottom := b[2]&1 != 0
				b = b[4:]
				if bottom {
					if len(b) == 0 || (b[0]>>4 != 4 && b[0]>>4 != 6) {
						return r.notUDP(0) // a pseudowire, not IP
					}
					return r.parseIP(b, d)
				}
			}
			return r.malformed(0)
		default:
			return r.notUDP(0)
		}
	}
	return r.malformed(0)
}

// parseIP reads an IPv4 or IPv6 packet, by its version.
func (r *Reader) parseIP(b []byte, d *Datagram) bool {
	if len(b) == 0 {
		return r.malformed(0)
	}
	switch b[0] >> 4 {
	case 4:
		return r.parseIPv4(b, d)
	case 6:
		return r.parseIPv6(b, d)
	}
	return r.malformed(0)
}

// parseIPv4 reads an IPv4 packet (RFC 791).
func (r *Reader) parseIPv4(b []byte, d *Datagram) bool {
	if len(b) < ipv4MinLen || b[0]>>4 != 4 {
		return r.malformed(0)
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(be.Uint16(b[2:]))
	if total == 0 {
		// Captured on a host that offloads segmentation: the length is
		// filled in by the hardware.
		total = len(b)
	}
	if ihl < ipv4MinLen || total < ihl || ihl > len(b) {
		return r.malformed(0)
	}
	src, dst := netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	payload := b[ihl:min(total, len(b))]
	if b[9] == protoTCP && be.Uint16(b[6:])&0x3fff == 0 {
		return r.parseTCP(src, dst, payload, total-ihl-len(payload), d)
	}
	if b[9] != protoUDP {
		return r.notUDP(0)
	}
	if ff := be.Uint16(b[6:]); ff&0x3fff != 0 { // more fragments, or an offset
		r.stats.Fragments++
		if total > len(b) {
			r.stats.FragmentsDropped++ // cut by the snapshot length
			return false
		}
		k := fragKey{src: src, dst: dst, id: uint32(be.Uint16(b[4:])), proto: protoUDP}
		whole, frags := r.defrag.add(k, int(ff&0x1fff)*8, ff&0x2000 != 0, payload, d.Time, &r.stats)
		if frags == 0 {
			return false
		}
		return r.parseUDP(src, dst, whole, len(whole), false, frags, d)
	}
	return r.parseUDP(src, dst, payload, total-ihl, false, 0, d)
}

// parseIPv6 reads an IPv6 packet (RFC 8200) and its extension headers.
func (r *Reader) parseIPv6(b []byte, d *Datagram) bool {
	if len(b) < ipv6Len || b[0]>>4 != 6 {
		return r.malformed(0)
	}
	plen := int(be.Uint16(b[4:]))
	if plen == 0 {
		// A jumbogram (RFC 2675), or a capture of a host that offloads
		// segmentation: the packet is what was captured.
		plen = len(b) - ipv6Len
	}
	nh := b[6]
	src, dst := netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
	snapped := ipv6Len+plen > len(b)
	p := b[ipv6Len:min(ipv6Len+plen, len(b))]
	declared := plen // the length of p had nothing been cut
	frags := 0       // fragments p was reassembled from
	for range maxIPv6Headers {
		switch nh {
		case protoUDP:
			return r.parseUDP(src, dst, p, declared, true, frags, d)
		case protoTCP:
			if frags > 0 {
				return r.notUDP(frags) // TCP is not reassembled from IP fragments
			}
			return r.parseTCP(src, dst, p, max(declared-len(p), 0), d)
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts, ipv6AH:
			if len(p) < 2 {
				return r.malformed(frags)
			}
			n := (int(p[1]) + 1) * 8
			if nh == ipv6AH {
				n = (int(p[1]) + 2) * 4
			}
			if n > len(p) {
				return r.malformed(frags)
			}
			nh, p, declared = p[0], p[n:], declared-n
		case ipv6Fragment:
			if len(p) < fragHdrLen || frags > 0 {
				return r.malformed(frags)
			}
			next, fo, id := p[0], be.Uint16(p[2:]), be.Uint32(p[4:])
			p, declared = p[fragHdrLen:], declared-fragHdrLen
			if fo&0xfff9 == 0 {
				nh = next // an atomic fragment (RFC 6946): the whole datagram
				continue
			}
			switch next {
			case protoUDP, ipv6HopByHop, ipv6Routing, ipv6DestOpts, ipv6AH:
			default:
				return r.notUDP(0)
			}
			r.stats.Fragments++
			if snapped {
				r.stats.FragmentsDropped++
				return false
			}
			k := fragKey{src: src, dst: dst, id: id, proto: next, v6: true}
			whole, n := r.defrag.add(k, int(fo&^7), fo&1 != 0, p, d.Time, &r.stats)
			if n == 0 {
				return false
			}
			nh, p, declared, frags = next, whole, len(whole), n
		default:
			return r.notUDP(frags)
		}
	}
	return r.malformed(frags)
}

// parseUDP reads a UDP header (RFC 768) and fills d. b is the IP payload
// as captured; declared is its length according to the IP header.
func (r *Reader) parseUDP(src, dst netip.Addr, b []byte, declared int, v6 bool, frags int, d *Datagram) bool {
	if len(b) < udpLen {
		return r.malformed(frags)
	}
	n := int(be.Uint16(b[4:]))
	if n == 0 && v6 {
		n = declared // a jumbogram (RFC 2675)
	}
	if n < udpLen || n > declared {
		// What a host's stack would drop as well.
		return r.malformed(frags)
	}
	d.Src = netip.AddrPortFrom(src, be.Uint16(b))
	d.Dst = netip.AddrPortFrom(dst, be.Uint16(b[2:]))
	d.Payload = b[udpLen:min(n, len(b))]
	d.Truncated = n > len(b)
	if frags > 0 {
		r.stats.Reassembled++
	}
	return true
}
