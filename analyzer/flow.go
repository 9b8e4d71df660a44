package analyzer

import (
	"net/netip"
)

// Flow is one flow record as the analyzer sees it, whatever the input format and
// NetFlow/IPFIX version it came from. Times are Unix nanoseconds.
type Flow struct {
	Start, End int64 // flow start/end; End >= Start
	Received   int64 // when the collector received the export packet (0: unknown)

	Bytes, Packets       uint64 // counters of the Src -> Dst direction
	RevBytes, RevPackets uint64 // RFC 5103 / ASA reverse counters of a biflow (Dst -> Src)
	Flows                uint64 // aggregated flow count (1 unless the exporter aggregated)

	Src, Dst netip.Addr
	Exporter netip.Addr

	SrcAS, DstAS     uint32
	SrcPort, DstPort uint16 // for ICMP without ports: DstPort = type<<8 | code
	Proto            uint8
	Version          uint8 // 1, 5, 7, 9 or 10 (IPFIX); 0 when unknown
	Flags            uint8 // flowHas* bits

	// Read only when a run uses them (a filter, a column, an aggregation
	// key); 0 when absent or not read.
	TOS              uint8  // ip_tos
	TCPFlags         uint16 // tcp_flags: the union of the flow's TCP flags (FIN 1, SYN 2, RST 4, PSH 8, ACK 16, URG 32)
	SrcVLAN, DstVLAN uint16 // src_vlan, dst_vlan
	InIf, OutIf      uint32 // in_if, out_if: SNMP interface indexes
	SrcMAC, DstMAC   uint64 // src_mac, dst_mac: 48-bit MAC addresses
	SrcMask, DstMask uint8  // src_net, dst_net: the routing prefix lengths
	Direction        uint8  // direction: 0 ingress, 1 egress
}

const (
	flowHasStart uint8 = 1 << iota // the exporter sent a start time (else Start is a fallback)
	flowHasEnd
	flowBiflow  // RevBytes/RevPackets were sent
	flowMatched // passed the filter
)

// Duration returns End-Start in nanoseconds.
func (f *Flow) Duration() int64 { return f.End - f.Start }

// fixTimes fills missing times from whatever is known so that Start <= End holds.
func (f *Flow) fixTimes() {
	switch {
	case f.Flags&flowHasStart == 0 && f.Flags&flowHasEnd != 0:
		f.Start = f.End
	case f.Flags&flowHasStart == 0:
		f.Start = f.Received
		f.End = f.Received
	case f.Flags&flowHasEnd == 0:
		f.End = f.Start
	}
	if f.End < f.Start {
		f.End = f.Start
	}
	if f.Flows == 0 {
		f.Flows = 1
	}
}

// Conn is a connection: one flow, or the two directions of a connection merged.
// A is the direction shown first (client to server where the analyzer can tell);
// B holds the counters of the reverse direction's flow, absent (HasB false) for
// a one-way flow.
type Conn struct {
	Start, End int64
	A          Flow
	B          Reverse
	HasB       bool
}

// Reverse is what a connection keeps of its reverse direction's flow: the
// rest (addresses, ports, times) follows from A and the connection.
type Reverse struct {
	Bytes, Packets uint64
	Flags          uint8
}

// reverseOf returns the part of f that a connection keeps as its reverse direction.
func reverseOf(f *Flow) Reverse { return Reverse{Bytes: f.Bytes, Packets: f.Packets, Flags: f.Flags} }

// OneWay reports whether no reverse flow was found.
func (c *Conn) OneWay() bool { return !c.HasB && c.A.Flags&flowBiflow == 0 }

// Bytes returns the bytes of both directions.
func (c *Conn) Bytes() uint64 {
	if c.HasB {
		return c.A.Bytes + c.B.Bytes
	}
	return c.A.Bytes + c.A.RevBytes
}

// Packets returns the packets of both directions.
func (c *Conn) Packets() uint64 {
	if c.HasB {
		return c.A.Packets + c.B.Packets
	}
	return c.A.Packets + c.A.RevPackets
}

// ReverseBytes returns the bytes of the B -> A direction.
func (c *Conn) ReverseBytes() uint64 {
	if c.HasB {
		return c.B.Bytes
	}
	return c.A.RevBytes
}

// ReversePackets returns the packets of the B -> A direction.
func (c *Conn) ReversePackets() uint64 {
	if c.HasB {
		return c.B.Packets
	}
	return c.A.RevPackets
}
