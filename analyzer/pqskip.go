package analyzer

import (
	"bytes"
	"net/netip"
)

// Row groups are skipped by their address statistics: the filter is
// evaluated over the ranges [min, max] of src_addr and dst_addr (16 bytes,
// IPv4 mapped, in byte order) with three values, never, maybe and always.
// A row group whose filter is never true holds no matching flow.

type truth uint8

const (
	never truth = iota
	maybe
	always
)

// addrRange is a column's bounds in a row group.
type addrRange struct {
	lo, hi [16]byte
	ok     bool
}

// v4Mapped is the range of IPv4-mapped addresses, ::ffff:0.0.0.0 to
// ::ffff:255.255.255.255.
var v4Lo, v4Hi = [16]byte{10: 0xff, 11: 0xff}, [16]byte{10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}

// mayMatchAddrs reports whether a flow of the file's current row group may
// pass the filter, by the address statistics.
func (fl *Filter) mayMatchAddrs(p *pqFile) bool {
	if fl.n == nil {
		return true
	}
	var src, dst addrRange
	src.lo, src.hi, src.ok = p.addrBounds(pcSrc)
	dst.lo, dst.hi, dst.ok = p.addrBounds(pcDst)
	if !src.ok && !dst.ok {
		return true
	}
	return nodeTruth(fl.n, &src, &dst) != never
}

func nodeTruth(n node, src, dst *addrRange) truth {
	switch n := n.(type) {
	case andNode:
		x := nodeTruth(n.a, src, dst)
		if x == never {
			return never
		}
		return min(x, nodeTruth(n.b, src, dst))
	case orNode:
		x := nodeTruth(n.a, src, dst)
		if x == always {
			return always
		}
		return max(x, nodeTruth(n.b, src, dst))
	case notNode:
		return always - nodeTruth(n.a, src, dst)
	case anyNode:
		return always
	case hostNode:
		if n.a.Zone() != "" {
			return maybe
		}
		k := n.a.As16()
		return n.d.truth(src.in(k, k, n.a.Is4()), dst.in(k, k, n.a.Is4()))
	case netNode:
		if !n.p.IsValid() || n.p.Addr().Zone() != "" {
			return maybe
		}
		lo, hi := prefixRange(n.p)
		return n.d.truth(src.in(lo, hi, n.p.Addr().Is4()), dst.in(lo, hi, n.p.Addr().Is4()))
	}
	return maybe
}

// truth combines the truths of the source and destination sides.
func (d dir) truth(s, t truth) truth {
	switch d {
	case dirSrc:
		return s
	case dirDst:
		return t
	case dirBoth:
		return min(s, t)
	}
	return max(s, t)
}

// in tells whether every, some or no address of r lies in [lo, hi]. An IPv6
// range does not match IPv4 flows (which are unmapped before filtering),
// so it is "always" only for a range outside the IPv4-mapped addresses.
func (r *addrRange) in(lo, hi [16]byte, v4 bool) truth {
	if !r.ok {
		return maybe
	}
	if bytes.Compare(r.hi[:], lo[:]) < 0 || bytes.Compare(r.lo[:], hi[:]) > 0 {
		return never
	}
	if bytes.Compare(r.lo[:], lo[:]) >= 0 && bytes.Compare(r.hi[:], hi[:]) <= 0 {
		if v4 || bytes.Compare(r.hi[:], v4Lo[:]) < 0 || bytes.Compare(r.lo[:], v4Hi[:]) > 0 {
			return always
		}
	}
	return maybe
}

// prefixRange returns the first and last address of p as 16 bytes, IPv4
// mapped.
func prefixRange(p netip.Prefix) (lo, hi [16]byte) {
	p = p.Masked()
	lo = p.Addr().As16()
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	hi = lo
	for i := bits; i < 128; i++ {
		hi[i/8] |= 0x80 >> (i % 8)
	}
	return lo, hi
}
