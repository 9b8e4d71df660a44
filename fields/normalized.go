package fields

// Kind says how a normalized field is stored in decode.Flow and read from
// the wire.
type Kind uint8

const (
	// KindUint is an unsigned integer of Bits bits. Shorter wire encodings
	// (RFC 7011 §6.2 reduced-size encoding) are widened; longer ones are not
	// normalized (the raw field stays available).
	KindUint Kind = iota
	// KindAddr is a netip.Addr read from a 4-byte (IPv4) or 16-byte (IPv6)
	// field.
	KindAddr
	// KindMAC is a [6]byte read from a 6-byte field.
	KindMAC
	// KindTime is a flow start or end time; the source's Form says how the
	// wire value relates to absolute time. decode.Flow stores Unix
	// nanoseconds once the record is finished.
	KindTime
	// KindICMP is an ICMP type and code packed as type<<8|code in 2 bytes
	// (icmpTypeCodeIPv4/IPv6); it sets ICMPType and ICMPCode.
	KindICMP
)

// TimeForm is the wire form of a flow time source.
type TimeForm uint8

// The time forms. All convert to absolute Unix time in decode.
const (
	NotTime        TimeForm = iota
	SysUptimeMs             // ms since the exporter booted (v5/v9 FIRST_SWITCHED, IPFIX 21/22)
	Seconds                 // dateTimeSeconds (IPFIX 150/151)
	Milliseconds            // dateTimeMilliseconds (152/153)
	Microseconds            // dateTimeMicroseconds, NTP format (154/155); 16 bytes: struct timeval (pmacct)
	Nanoseconds             // dateTimeNanoseconds, NTP format (156/157)
	DeltaMicros             // µs before the export time (158/159)
	DurationMs              // flowDurationMilliseconds (161): end = start + value
	DurationMicros          // flowDurationMicroseconds (162): end = start + value
)

// Source is one element that can feed a normalized field.
type Source struct {
	PEN  uint32
	ID   uint16
	Form TimeForm // for KindTime sources
}

// Normalized is one field of decode.Flow and the elements that feed it.
// When a template carries several sources of the same field, the first in
// From wins and the others stay available as raw fields: one never
// overwrites another.
type Normalized struct {
	Name string // Go field name in decode.Flow
	JSON string // output key; "" when the field is internal (not written as a normalized key)
	Kind Kind
	Bits int // for KindUint: 8, 16, 32 or 64
	Doc  string
	From []Source
}

func iana(ids ...uint16) []Source {
	s := make([]Source, len(ids))
	for i, id := range ids {
		s[i] = Source{ID: id}
	}
	return s
}

// Flow is the table of normalized record fields, in decode.Flow order.
// Ids are IANA ids, which NetFlow v9 shares for these types (RFC 3954 §8).
var Flow = []Normalized{
	{Name: "Start", JSON: "time_flow_start_ns", Kind: KindTime, Doc: "flow start, Unix ns", From: []Source{
		{ID: 152, Form: Milliseconds}, {ID: 150, Form: Seconds}, {ID: 154, Form: Microseconds},
		{ID: 156, Form: Nanoseconds}, {ID: 158, Form: DeltaMicros}, {ID: 22, Form: SysUptimeMs},
	}},
	{Name: "End", JSON: "time_flow_end_ns", Kind: KindTime, Doc: "flow end, Unix ns", From: []Source{
		{ID: 153, Form: Milliseconds}, {ID: 151, Form: Seconds}, {ID: 155, Form: Microseconds},
		{ID: 157, Form: Nanoseconds}, {ID: 159, Form: DeltaMicros}, {ID: 21, Form: SysUptimeMs},
		{ID: 161, Form: DurationMs}, {ID: 162, Form: DurationMicros},
	}},
	{Name: "Bytes", JSON: "bytes", Kind: KindUint, Bits: 64, Doc: "in-direction (or only) octets", From: iana(1, 85, 231)},
	{Name: "Packets", JSON: "packets", Kind: KindUint, Bits: 64, Doc: "in-direction (or only) packets", From: iana(2, 86, 298)},
	{Name: "OutBytes", JSON: "out_bytes", Kind: KindUint, Bits: 64, Doc: "out-direction octets (v9 OUT_BYTES, IPFIX postOctetDeltaCount)", From: iana(23, 171)},
	{Name: "OutPackets", JSON: "out_packets", Kind: KindUint, Bits: 64, Doc: "out-direction packets", From: iana(24, 172)},
	{Name: "RevBytes", JSON: "rev_bytes", Kind: KindUint, Bits: 64, Doc: "RFC 5103 reverse octets of a biflow", From: []Source{
		{PEN: PENReverse, ID: 1}, {PEN: PENReverse, ID: 85}, {ID: 232}}},
	{Name: "RevPackets", JSON: "rev_packets", Kind: KindUint, Bits: 64, Doc: "RFC 5103 reverse packets of a biflow", From: []Source{
		{PEN: PENReverse, ID: 2}, {PEN: PENReverse, ID: 86}, {ID: 299}}},
	{Name: "Flows", JSON: "flows", Kind: KindUint, Bits: 64, Doc: "aggregated flow count", From: iana(3)},
	{Name: "SrcAddr", JSON: "src_addr", Kind: KindAddr, Doc: "source address", From: iana(8, 27)},
	{Name: "DstAddr", JSON: "dst_addr", Kind: KindAddr, Doc: "destination address", From: iana(12, 28)},
	{Name: "NextHop", JSON: "next_hop", Kind: KindAddr, Doc: "IP next hop", From: iana(15, 62)},
	{Name: "BGPNextHop", JSON: "bgp_next_hop", Kind: KindAddr, Doc: "BGP next hop", From: iana(18, 63)},
	{Name: "SrcPort", JSON: "src_port", Kind: KindUint, Bits: 16, Doc: "source transport port", From: iana(7)},
	{Name: "DstPort", JSON: "dst_port", Kind: KindUint, Bits: 16, Doc: "destination transport port", From: iana(11)},
	{Name: "Proto", JSON: "proto", Kind: KindUint, Bits: 8, Doc: "IP protocol", From: iana(4)},
	{Name: "IPVersion", JSON: "", Kind: KindUint, Bits: 8, Doc: "IP version (4 or 6)", From: iana(60)},
	{Name: "EtherType", JSON: "etype", Kind: KindUint, Bits: 16, Doc: "Ethernet type; derived from IPVersion or the address family when not sent", From: iana(256)},
	{Name: "TOS", JSON: "ip_tos", Kind: KindUint, Bits: 8, Doc: "IP type of service", From: iana(5)},
	{Name: "TTL", JSON: "ip_ttl", Kind: KindUint, Bits: 8, Doc: "IP TTL", From: iana(192, 52)},
	{Name: "TCPFlags", JSON: "tcp_flags", Kind: KindUint, Bits: 16, Doc: "union of TCP flags", From: iana(6)},
	{Name: "ICMPTypeCode", JSON: "", Kind: KindICMP, Doc: "ICMP type<<8|code", From: iana(32, 139)},
	{Name: "ICMPType", JSON: "icmp_type", Kind: KindUint, Bits: 8, Doc: "ICMP type", From: iana(176, 178)},
	{Name: "ICMPCode", JSON: "icmp_code", Kind: KindUint, Bits: 8, Doc: "ICMP code", From: iana(177, 179)},
	{Name: "InIf", JSON: "in_if", Kind: KindUint, Bits: 32, Doc: "input interface (SNMP ifIndex)", From: iana(10)},
	{Name: "OutIf", JSON: "out_if", Kind: KindUint, Bits: 32, Doc: "output interface (SNMP ifIndex)", From: iana(14)},
	{Name: "SrcAS", JSON: "src_as", Kind: KindUint, Bits: 32, Doc: "source BGP AS", From: iana(16)},
	{Name: "DstAS", JSON: "dst_as", Kind: KindUint, Bits: 32, Doc: "destination BGP AS", From: iana(17)},
	{Name: "SrcMask", JSON: "src_net", Kind: KindUint, Bits: 8, Doc: "source prefix length", From: iana(9, 29)},
	{Name: "DstMask", JSON: "dst_net", Kind: KindUint, Bits: 8, Doc: "destination prefix length", From: iana(13, 30)},
	{Name: "SrcVLAN", JSON: "src_vlan", Kind: KindUint, Bits: 16, Doc: "source (ingress) VLAN", From: iana(58, 243)},
	{Name: "DstVLAN", JSON: "dst_vlan", Kind: KindUint, Bits: 16, Doc: "destination (egress) VLAN", From: iana(59, 254)},
	{Name: "SrcMAC", JSON: "src_mac", Kind: KindMAC, Doc: "source MAC", From: iana(56, 81)},
	{Name: "DstMAC", JSON: "dst_mac", Kind: KindMAC, Doc: "destination MAC", From: iana(80, 57)},
	{Name: "Direction", JSON: "direction", Kind: KindUint, Bits: 8, Doc: "flow direction: 0 ingress, 1 egress", From: iana(61)},
	{Name: "FlowEndReason", JSON: "flow_end_reason", Kind: KindUint, Bits: 8, Doc: "flow end reason", From: iana(136)},
	{Name: "SamplerID", JSON: "", Kind: KindUint, Bits: 64, Doc: "sampler / selector id (v9 FLOW_SAMPLER_ID, IPFIX selectorId)", From: iana(48, 302)},
	{Name: "SamplingInterval", JSON: "", Kind: KindUint, Bits: 64, Doc: "1-in-N sampling interval (samplingInterval 34, v9 FLOW_SAMPLER_RANDOM_INTERVAL 50)", From: iana(34, 50)},
	{Name: "SamplingPacketInterval", JSON: "", Kind: KindUint, Bits: 64, Doc: "samplingPacketInterval (305): packets selected in a row", From: iana(305)},
	{Name: "SamplingSpace", JSON: "", Kind: KindUint, Bits: 64, Doc: "samplingPacketSpace (306): packets skipped between selections", From: iana(306)},
	{Name: "SamplingSize", JSON: "", Kind: KindUint, Bits: 64, Doc: "samplingSize (309)", From: iana(309)},
	{Name: "SamplingPopulation", JSON: "", Kind: KindUint, Bits: 64, Doc: "samplingPopulation (310)", From: iana(310)},
	{Name: "SamplingAlgorithm", JSON: "", Kind: KindUint, Bits: 16, Doc: "sampling algorithm / mode (35, v9 49, IPFIX 304)", From: iana(35, 49, 304)},
	{Name: "SystemInitMs", JSON: "", Kind: KindUint, Bits: 64, Doc: "systemInitTimeMilliseconds (160): Unix ms at which sysUptime was 0", From: iana(160)},
}
