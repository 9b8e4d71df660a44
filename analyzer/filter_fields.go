package analyzer

import (
	"math/bits"
	"net/netip"
	"slices"
)

// The filter primitives beyond addresses, ports and protocols: counters and
// the values computed from them (bps, pps, bpp, duration), and the optional
// fields of a record (TOS, TCP flags, VLANs, interfaces, MACs, prefix
// lengths, direction), which the scanner reads only when a filter uses them.

// field is a number a filter can compare.
type field uint8

const (
	fieldBytes      field = iota // in bytes: the flow's bytes
	fieldPackets                 // in packets
	fieldOutBytes                // out bytes: a biflow's reverse bytes
	fieldOutPackets              // out packets
	fieldFlows                   // the aggregated flow count
	fieldDuration                // end - start, ms
	fieldBPS                     // 8000*bytes/duration ms (0 when the duration is 0), as nfdump computes it
	fieldPPS                     // 1000*packets/duration ms
	fieldBPP                     // bytes/packets (0 without packets)
	fieldTOS
	fieldSrcVLAN
	fieldDstVLAN
	fieldInIf
	fieldOutIf
	fieldSrcMask
	fieldDstMask
	fieldDirection
	fieldICMPType // of ICMP and ICMPv6 flows
	fieldICMPCode
)

// value returns the field of f.
func (fd field) value(f *Flow) uint64 {
	switch fd {
	case fieldBytes:
		return f.Bytes
	case fieldPackets:
		return f.Packets
	case fieldOutBytes:
		return f.RevBytes
	case fieldOutPackets:
		return f.RevPackets
	case fieldFlows:
		return f.Flows
	case fieldDuration:
		return uint64(f.End-f.Start) / 1e6
	case fieldBPS:
		return rate(f.Bytes, 8000, f)
	case fieldPPS:
		return rate(f.Packets, 1000, f)
	case fieldBPP:
		if f.Packets == 0 {
			return 0
		}
		return f.Bytes / f.Packets
	case fieldTOS:
		return uint64(f.TOS)
	case fieldSrcVLAN:
		return uint64(f.SrcVLAN)
	case fieldDstVLAN:
		return uint64(f.DstVLAN)
	case fieldInIf:
		return uint64(f.InIf)
	case fieldOutIf:
		return uint64(f.OutIf)
	case fieldSrcMask:
		return uint64(f.SrcMask)
	case fieldDstMask:
		return uint64(f.DstMask)
	case fieldDirection:
		return uint64(f.Direction)
	case fieldICMPType:
		return uint64(f.DstPort >> 8)
	case fieldICMPCode:
		return uint64(f.DstPort & 0xff)
	}
	return 0
}

// rate returns mult*n per millisecond of the flow's duration (whole
// milliseconds, rounded down as nfdump does), 0 for a flow shorter than 1 ms.
func rate(n, mult uint64, f *Flow) uint64 {
	ms := uint64(f.End-f.Start) / 1e6
	if ms == 0 {
		return 0
	}
	hi, lo := bits.Mul64(n, mult)
	if hi >= ms {
		return ^uint64(0)
	}
	q, _ := bits.Div64(hi, lo, ms)
	return q
}

// acts returns the optional scanner actions the field needs.
func (fd field) acts() uint64 {
	switch fd {
	case fieldTOS:
		return 1 << actTOS
	case fieldSrcVLAN:
		return 1 << actSrcVLAN
	case fieldDstVLAN:
		return 1 << actDstVLAN
	case fieldInIf:
		return 1 << actInIf
	case fieldOutIf:
		return 1 << actOutIf
	case fieldSrcMask:
		return 1 << actSrcMask
	case fieldDstMask:
		return 1 << actDstMask
	case fieldDirection:
		return 1 << actDirection
	}
	return 0
}

// fieldNode compares a field, or a pair of fields under a direction (src
// vlan, dst vlan, vlan), with a number.
type fieldNode struct {
	d        dir
	src, dst field
	op       cmpOp
	v        uint64
}

func (n fieldNode) match(f *Flow) bool {
	switch n.d {
	case dirSrc:
		return n.op.test(n.src.value(f), n.v)
	case dirDst:
		return n.op.test(n.dst.value(f), n.v)
	}
	return n.d.test(n.op.test(n.src.value(f), n.v), n.op.test(n.dst.value(f), n.v))
}

func (n fieldNode) acts() uint64 { return n.src.acts() | n.dst.acts() }

// one returns a fieldNode of a single field.
func one(fd field, op cmpOp, v uint64) fieldNode {
	return fieldNode{d: dirSrc, src: fd, dst: fd, op: op, v: v}
}

// TCP flags as nfdump names them.
const (
	tcpFIN = 1 << iota
	tcpSYN
	tcpRST
	tcpPSH
	tcpACK
	tcpURG
)

// flagsNode matches TCP flows by their flags: all of mask set (flags S, flags
// AS), or, with cmp, the flags as a number compared. Negated (none), it
// matches flows that are not TCP or have none of mask set: nfdump 1.7.1
// reads "not flags AFRPU" so (its manual's way to select flows with only
// SYN: "flags S and not flags AFRPU"), not as "not all of AFRPU".
type flagsNode struct {
	mask  uint16
	cmp   bool
	none  bool
	op    cmpOp
	value uint64
}

func (n flagsNode) match(f *Flow) bool {
	if f.Proto != 6 {
		return n.none
	}
	switch {
	case n.cmp:
		return n.op.test(uint64(f.TCPFlags), n.value)
	case n.none:
		return f.TCPFlags&n.mask == 0
	}
	return f.TCPFlags&n.mask == n.mask
}

// icmpNode matches ICMP and ICMPv6 flows by type or code (nfdump 1.7.1's
// icmp-type and icmp-code take both protocols).
type icmpNode struct{ fieldNode }

func (n icmpNode) match(f *Flow) bool {
	return (f.Proto == 1 || f.Proto == 58) && n.fieldNode.match(f)
}

// macNode matches a MAC address on either side, or one side.
type macNode struct {
	d dir // dirSrc, dirDst or dirEither
	m uint64
}

func (n macNode) match(f *Flow) bool { return n.d.test(f.SrcMAC == n.m, f.DstMAC == n.m) }

// portListNode matches ports in a set (port in [80 443]).
type portListNode struct {
	d     dir
	ports []uint16 // sorted
}

func (n portListNode) match(f *Flow) bool {
	if !hasPorts(f.Proto) {
		return false
	}
	_, s := slices.BinarySearch(n.ports, f.SrcPort)
	_, d := slices.BinarySearch(n.ports, f.DstPort)
	return n.d.test(s, d)
}

// asListNode matches AS numbers in a set.
type asListNode struct {
	d    dir
	ases []uint32 // sorted
}

func (n asListNode) match(f *Flow) bool {
	_, s := slices.BinarySearch(n.ases, f.SrcAS)
	_, d := slices.BinarySearch(n.ases, f.DstAS)
	return n.d.test(s, d)
}

// ipListNode matches addresses in a list of hosts and networks.
type ipListNode struct {
	d   dir
	pfx []netip.Prefix
}

func (n ipListNode) match(f *Flow) bool { return n.d.test(n.contains(f.Src), n.contains(f.Dst)) }

func (n ipListNode) contains(a netip.Addr) bool {
	for _, p := range n.pfx {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
