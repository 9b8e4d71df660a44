package fields

// FieldSpec is one (element, length) pair of a template.
type FieldSpec struct {
	PEN uint32
	ID  uint16
	Len uint16
}

// Shape is a template layout common enough that the generator emits a
// straight-line reader for it. A template received from the network whose
// fields match a shape exactly uses that reader; any other template uses the
// compiled step list. Both must produce the same record (a fuzz property).
type Shape struct {
	Name   string // Go identifier suffix, unique
	Source string // where the layout was seen
	Fields []FieldSpec
}

func spec(pairs ...uint16) []FieldSpec {
	f := make([]FieldSpec, len(pairs)/2)
	for i := range f {
		f[i] = FieldSpec{ID: pairs[2*i], Len: pairs[2*i+1]}
	}
	return f
}

// Padding is IANA paddingOctets (210), used for the pad bytes of the fixed
// v1/v5/v7 layouts.
const Padding = 210

// Shapes are the template layouts with generated straight-line readers.
// The fixed NetFlow v1, v5 and v7 record layouts are expressed as templates
// of v9 field types, so they share the machinery (and raw field access).
var Shapes = []Shape{
	{Name: "NetFlowV1", Source: "Cisco NetFlow v1 record (48 bytes)", Fields: spec(
		8, 4, 12, 4, 15, 4, 10, 2, 14, 2, 2, 4, 1, 4, 22, 4, 21, 4, 7, 2, 11, 2,
		Padding, 2, 4, 1, 5, 1, 6, 1, Padding, 3, Padding, 4)},
	{Name: "NetFlowV5", Source: "Cisco NetFlow v5 record (48 bytes)", Fields: spec(
		8, 4, 12, 4, 15, 4, 10, 2, 14, 2, 2, 4, 1, 4, 22, 4, 21, 4, 7, 2, 11, 2,
		Padding, 1, 6, 1, 4, 1, 5, 1, 16, 2, 17, 2, 9, 1, 13, 1, Padding, 2)},
	// v7's flags word and router shortcut have no v9 type; they are kept as
	// raw bytes under the v7 pseudo ids (see decode).
	{Name: "NetFlowV7", Source: "Cisco NetFlow v7 record (52 bytes)", Fields: append(spec(
		8, 4, 12, 4, 15, 4, 10, 2, 14, 2, 2, 4, 1, 4, 22, 4, 21, 4, 7, 2, 11, 2,
		Padding, 1, 6, 1, 4, 1, 5, 1, 16, 2, 17, 2, 9, 1, 13, 1),
		FieldSpec{PEN: PENV7, ID: 1, Len: 2}, FieldSpec{PEN: PENV7, ID: 2, Len: 4})},
	{Name: "SoftflowdV9IPv4", Source: "softflowd 0.9-1.1 NetFlow v9 template 1024", Fields: spec(
		8, 4, 12, 4, 21, 4, 22, 4, 1, 4, 2, 4, 10, 4, 14, 4, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1)},
	{Name: "SoftflowdV9IPv6", Source: "softflowd 0.9-1.1 NetFlow v9 template 2048", Fields: spec(
		27, 16, 28, 16, 21, 4, 22, 4, 1, 4, 2, 4, 10, 4, 14, 4, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1)},
	{Name: "SoftflowdIPFIXIPv4", Source: "softflowd IPFIX template 1024", Fields: spec(
		8, 4, 12, 4, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1)},
	{Name: "SoftflowdIPFIXIPv4ICMP", Source: "softflowd IPFIX template 1025", Fields: spec(
		8, 4, 12, 4, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 32, 2, 60, 1, 5, 1)},
	{Name: "SoftflowdIPFIXIPv6", Source: "softflowd IPFIX template 2048", Fields: spec(
		27, 16, 28, 16, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1)},
	{Name: "SoftflowdIPFIXIPv6ICMP", Source: "softflowd IPFIX template 2049", Fields: spec(
		27, 16, 28, 16, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 139, 2, 60, 1, 5, 1)},
	// softflowd 1.1.0 (Debian 12), default "-T full", NetFlow v9 and IPFIX
	// (testdata/softflowd-v9.pcap, softflowd-ipfix.pcap).
	{Name: "Softflowd11IPv4", Source: "softflowd 1.1 v9/IPFIX template 1024", Fields: spec(
		8, 4, 12, 4, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 61, 1, 136, 1, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1)},
	{Name: "Softflowd11IPv4ICMP", Source: "softflowd 1.1 v9/IPFIX template 1025", Fields: spec(
		8, 4, 12, 4, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 61, 1, 136, 1, 32, 2, 4, 1, 60, 1, 5, 1)},
	{Name: "Softflowd11IPv6", Source: "softflowd 1.1 v9/IPFIX template 2048", Fields: spec(
		27, 16, 28, 16, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 61, 1, 136, 1, 7, 2, 11, 2, 4, 1, 6, 1, 60, 1, 5, 1)},
	{Name: "Softflowd11IPv6ICMP", Source: "softflowd 1.1 v9/IPFIX template 2049", Fields: spec(
		27, 16, 28, 16, 22, 4, 21, 4, 1, 4, 2, 4, 10, 4, 14, 4, 61, 1, 136, 1, 139, 2, 4, 1, 60, 1, 5, 1)},
	// pmacct 1.7.7 nfprobe with src/dst host, ports, proto, tos, tcpflags,
	// MACs and VLAN aggregated (testdata/pmacct-v9.pcap, pmacct-ipfix.pcap).
	{Name: "PmacctIPv4", Source: "pmacct 1.7.7 nfprobe v9/IPFIX template 1024", Fields: spec(
		153, 8, 152, 8, 1, 8, 2, 8, 60, 1, 10, 4, 14, 4, 61, 1, 8, 4, 12, 4, 7, 2, 11, 2, 5, 1, 6, 1, 4, 1, 56, 6, 80, 6, 58, 2)},
	{Name: "PmacctIPv6", Source: "pmacct 1.7.7 nfprobe v9/IPFIX template 2048", Fields: spec(
		153, 8, 152, 8, 1, 8, 2, 8, 60, 1, 10, 4, 14, 4, 61, 1, 27, 16, 28, 16, 5, 1, 7, 2, 11, 2, 6, 1, 4, 1, 56, 6, 80, 6, 58, 2)},
}

// PENV7 is a pseudo enterprise number for the two NetFlow v7 record fields
// that have no v9 field type: 1 = flags (2 bytes), 2 = router shortcut
// address (4 bytes). It is never seen on the wire.
const PENV7 = 0xFFFF_FF07

// Class is a set of (element, length) pairs that many templates carry in
// some order, often among other fields. The generator emits a reader that
// reads the whole set straight-line from per-template offsets. A template
// uses up to four classes whose fields are all among its normalized
// fields, largest first and without sharing a field, and runs compiled
// steps only for the rest. Field order in a class does not matter.
//
// The small classes at the end are components that vendors' templates
// combine in every order and width (addresses, ports and protocol;
// counters and interfaces; the time pairs of each form), so that a
// template no generated shape or large class knows is still read mostly
// straight-line.
type Class struct {
	Name   string
	Source string
	Fields []FieldSpec
}

// Classes are the field sets with generated offset-driven readers.
var Classes = []Class{
	{Name: "V5Set", Source: "the NetFlow v5 record's fields in a v9/IPFIX template, 2-byte ifIndex and AS (Cisco IOS traditional NetFlow v9 export)", Fields: spec(
		8, 4, 12, 4, 15, 4, 10, 2, 14, 2, 2, 4, 1, 4, 22, 4, 21, 4, 7, 2, 11, 2, 6, 1, 4, 1, 5, 1, 16, 2, 17, 2, 9, 1, 13, 1)},
	{Name: "V5SetWide", Source: "the NetFlow v5 field set with 4-byte ifIndex and AS (IOS-XE, NX-OS, Junos and most v9 routers)", Fields: spec(
		8, 4, 12, 4, 15, 4, 10, 4, 14, 4, 2, 4, 1, 4, 22, 4, 21, 4, 7, 2, 11, 2, 6, 1, 4, 1, 5, 1, 16, 4, 17, 4, 9, 1, 13, 1)},
	{Name: "V5SetWideMs", Source: "the v5 field set with 4-byte ifIndex and AS and absolute ms times (IPFIX routers)", Fields: spec(
		8, 4, 12, 4, 15, 4, 10, 4, 14, 4, 2, 4, 1, 4, 152, 8, 153, 8, 7, 2, 11, 2, 6, 1, 4, 1, 5, 1, 16, 4, 17, 4, 9, 1, 13, 1)},
	{Name: "FiveTupleV4Uptime", Source: "IPv4 5-tuple, 4-byte counters, uptime times (softflowd, MikroTik, fprobe-style v9)", Fields: spec(
		8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 1, 4, 2, 4, 22, 4, 21, 4)},
	{Name: "FiveTupleV6Uptime", Source: "IPv6 5-tuple, 4-byte counters, uptime times", Fields: spec(
		27, 16, 28, 16, 7, 2, 11, 2, 4, 1, 1, 4, 2, 4, 22, 4, 21, 4)},
	{Name: "FiveTupleV4Ms", Source: "IPv4 5-tuple, 8-byte counters, absolute ms times (pmacct, nProbe, Junos IPFIX)", Fields: spec(
		8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 1, 8, 2, 8, 152, 8, 153, 8)},
	{Name: "FiveTupleV6Ms", Source: "IPv6 5-tuple, 8-byte counters, absolute ms times", Fields: spec(
		27, 16, 28, 16, 7, 2, 11, 2, 4, 1, 1, 8, 2, 8, 152, 8, 153, 8)},
	{Name: "FiveTupleV4Timeval", Source: "IPv4 5-tuple, 8-byte counters, flow start/end as struct timeval in flowStart/EndMicroseconds' 16 bytes (pmacct with timestamps_usecs)", Fields: spec(
		8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 1, 8, 2, 8, 154, 16, 155, 16)},
	{Name: "FiveTupleV6Timeval", Source: "IPv6 5-tuple, 8-byte counters, struct timeval times (pmacct with timestamps_usecs)", Fields: spec(
		27, 16, 28, 16, 7, 2, 11, 2, 4, 1, 1, 8, 2, 8, 154, 16, 155, 16)},

	// Components.
	{Name: "KeyV4", Source: "IPv4 addresses, ports, protocol (every IPv4 TCP/UDP flow template)", Fields: spec(
		8, 4, 12, 4, 7, 2, 11, 2, 4, 1)},
	{Name: "KeyV6", Source: "IPv6 addresses, ports, protocol", Fields: spec(
		27, 16, 28, 16, 7, 2, 11, 2, 4, 1)},
	{Name: "Counters32If32", Source: "4-byte octet and packet counters with 4-byte ifIndex (softflowd, IOS-XE, Junos)", Fields: spec(
		1, 4, 2, 4, 10, 4, 14, 4)},
	{Name: "Counters64If32", Source: "8-byte counters with 4-byte ifIndex (pmacct, nProbe, IOS-XR IPFIX)", Fields: spec(
		1, 8, 2, 8, 10, 4, 14, 4)},
	{Name: "AddrsProtoV4", Source: "IPv4 addresses and protocol (ICMP and other portless templates)", Fields: spec(
		8, 4, 12, 4, 4, 1)},
	{Name: "AddrsProtoV6", Source: "IPv6 addresses and protocol", Fields: spec(
		27, 16, 28, 16, 4, 1)},
	{Name: "IfsMetaEnd", Source: "interfaces, ToS, TCP flags, IP version, direction and end reason (softflowd IPFIX with 8-byte counters, nProbe)", Fields: spec(
		10, 4, 14, 4, 5, 1, 6, 1, 60, 1, 61, 1, 136, 1)},
	{Name: "IfsMeta", Source: "interfaces, ToS, TCP flags, IP version and direction beside a 5-tuple with 8-byte counters (pmacct, nProbe)", Fields: spec(
		10, 4, 14, 4, 5, 1, 6, 1, 60, 1, 61, 1)},
	{Name: "IfsFlagsDir", Source: "interfaces, ToS, TCP flags and direction without an IP version field (Cisco IOS v9, nfdump's nfreplay)", Fields: spec(
		10, 4, 14, 4, 5, 1, 6, 1, 61, 1)},
	{Name: "MetaEnd", Source: "ToS, TCP flags, IP version, direction and end reason (softflowd IPFIX, Junos)", Fields: spec(
		5, 1, 6, 1, 60, 1, 61, 1, 136, 1)},
	{Name: "MetaEndICMPv4", Source: "ToS, IP version, direction, end reason and ICMP type/code (softflowd's IPFIX ICMP templates 1025)", Fields: spec(
		5, 1, 60, 1, 61, 1, 136, 1, 32, 2)},
	{Name: "MetaEndICMPv6", Source: "ToS, IP version, direction, end reason and ICMPv6 type/code (softflowd's IPFIX ICMP templates 2049)", Fields: spec(
		5, 1, 60, 1, 61, 1, 136, 1, 139, 2)},
	{Name: "Meta", Source: "ToS, TCP flags, IP version and direction", Fields: spec(
		5, 1, 6, 1, 60, 1, 61, 1)},
	{Name: "MACsVLAN", Source: "source and destination MAC and VLAN (pmacct, Cisco L2 templates)", Fields: spec(
		56, 6, 80, 6, 58, 2)},
	{Name: "MACsVLANsPost", Source: "source and post-destination MAC, VLAN and post-VLAN (softflowd -T ether)", Fields: spec(
		56, 6, 57, 6, 58, 2, 59, 2)},
	{Name: "RouteV4", Source: "source/destination AS and IPv4 prefix lengths (routers' BGP-aware templates, pmacct with BGP)", Fields: spec(
		16, 4, 17, 4, 9, 1, 13, 1)},
	{Name: "RouteV6", Source: "source/destination AS and IPv6 prefix lengths", Fields: spec(
		16, 4, 17, 4, 29, 1, 30, 1)},
	{Name: "Counters32", Source: "4-byte octet and packet counters beside other classes that took the interfaces (softflowd -A, v9 routers)", Fields: spec(
		1, 4, 2, 4)},
	{Name: "RevCounters32", Source: "RFC 5103 reverse 4-byte octet and packet counters of a biflow (softflowd -b, YAF)", Fields: []FieldSpec{
		{PEN: PENReverse, ID: 1, Len: 4}, {PEN: PENReverse, ID: 2, Len: 4}}},
	{Name: "Counters64", Source: "8-byte octet and packet counters beside other classes (pmacct, IOS-XR, nProbe)", Fields: spec(
		1, 8, 2, 8)},
	{Name: "TimesTimeval", Source: "flow start/end as struct timeval in flowStart/EndMicroseconds' 16 bytes (pmacct with timestamps_usecs)", Fields: spec(
		154, 16, 155, 16)},
	{Name: "TimesUptime", Source: "flow start/end in sysUptime milliseconds (v9 and IPFIX 22/21, the most common time pair)", Fields: spec(
		22, 4, 21, 4)},
	{Name: "TimesMs", Source: "absolute flow start/end in milliseconds (IPFIX 152/153)", Fields: spec(
		152, 8, 153, 8)},
	{Name: "TimesMicros", Source: "absolute flow start/end in NTP microseconds (IPFIX 154/155)", Fields: spec(
		154, 8, 155, 8)},
	{Name: "TimesNanos", Source: "absolute flow start/end in NTP nanoseconds (IPFIX 156/157)", Fields: spec(
		156, 8, 157, 8)},
}
