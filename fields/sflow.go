package fields

// The keys of sFlow v5 records in the output (docs/output-schema.md, "sFlow
// v5"), after the envelope, normalized and trailer keys of a flow sample,
// and the keys of a counter sample's record. gen writes from these tables
// the writers in flowjson/sflow_gen.go and the schema document's section.

// SFlowKey is one output key of an sFlow record.
type SFlowKey struct {
	JSON string
	// Field is the field of decode.SFlowSample (flow keys) or
	// decode.SFlowCounters (counter keys) that holds the value, a path
	// like "Generic.InOctets"; "Packet." + a field of decode.Packet for
	// the datagram's.
	Field string
	Kind  ValueKind // ValueUint or ValueAddr; ValueList for ASN lists
	// When says when the key is written: "" always, "nonzero" when the
	// value is not 0, "nonzero:F" when field F is not 0, "has:B" when the
	// sample carries the part B (a decode.SFlowHas constant).
	When string
	Doc  string
}

// ValueList is a list of unsigned integers (a JSON array of numbers).
const ValueList ValueKind = 100

// SFlowVersion and SFlowCountersVersion are the Versions of sFlow records.
const (
	SFlowVersion         = 105
	SFlowCountersVersion = 106
)

// sflowHeaderKeys begin both kinds of sFlow record.
var sflowHeaderKeys = []SFlowKey{
	{"agent_address", "Packet.Agent", ValueAddr, "", "the sFlow agent address of the datagram header (sampler_address is the address the datagram came from)"},
	{"agent_uptime_ms", "Packet.SysUptime", ValueUint, "", "the agent's uptime when it sent the datagram, ms"},
	{"sample_sequence_num", "SampleSeq", ValueUint, "", "the sample's sequence number, per agent, sub-agent and source"},
	{"source_id_type", "SourceIDType", ValueUint, "", "the data source's type: 0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry"},
	{"source_id_index", "SourceIndex", ValueUint, "", "the data source's index (an ifIndex for type 0)"},
}

// SFlowFlowKeys are the keys of a flow sample (type SFLOW_5) after its
// normalized keys.
var SFlowFlowKeys = append(append([]SFlowKey{}, sflowHeaderKeys...), []SFlowKey{
	{"sample_pool", "SamplePool", ValueUint, "", "packets that could have been sampled (seen by the data source)"},
	{"drops", "Drops", ValueUint, "", "packets the agent dropped for lack of resources"},
	{"in_if_format", "InFormat", ValueUint, "nonzero", "the input interface's format when not 0 (an ifIndex, then in_if): 1 the packet was discarded, 2 several interfaces"},
	{"in_if_value", "InValue", ValueUint, "nonzero:InFormat", "with in_if_format: the input's value"},
	{"out_if_format", "OutFormat", ValueUint, "nonzero", "the output interface's format when not 0 (an ifIndex, then out_if): 1 discarded (out_if_value is the reason: 0–255 an ICMP unreachable code, 256 unknown, 257 TTL exceeded, 258 ACL, …), 2 sent to several interfaces (out_if_value is their number, 0 unknown)"},
	{"out_if_value", "OutValue", ValueUint, "nonzero:OutFormat", "with out_if_format: the discard reason or the number of output interfaces"},
	{"header_protocol", "HeaderProtocol", ValueUint, "has:SFlowHasHeader", "raw packet header record: the header's protocol (1 Ethernet, 11 IPv4, 12 IPv6, …); its fields fill the normalized keys"},
	{"frame_length", "FrameLength", ValueUint, "has:SFlowHasHeader", "raw packet header record: the sampled frame's length (bytes is this length; × sampling_rate after --renormalize)"},
	{"stripped", "Stripped", ValueUint, "has:SFlowHasHeader", "raw packet header record: bytes removed from the end of the frame (its FCS) before it was sampled"},
	{"src_priority", "SrcPriority", ValueUint, "has:SFlowHasSwitch", "extended switch record: 802.1p priority in"},
	{"dst_priority", "DstPriority", ValueUint, "has:SFlowHasSwitch", "extended switch record: 802.1p priority out"},
	{"router_as", "RouterAS", ValueUint, "has:SFlowHasGateway", "extended gateway record: the router's own AS (dst_as when as_path is empty)"},
	{"src_peer_as", "SrcPeerAS", ValueUint, "has:SFlowHasGateway", "extended gateway record: the AS of the source's peer"},
	{"as_path", "ASPath", ValueList, "has:SFlowHasGateway", "extended gateway record: the AS path to the destination, every segment's ASes in order (dst_as is the last)"},
	{"bgp_communities", "Communities", ValueList, "has:SFlowHasGateway", "extended gateway record: the route's BGP communities"},
	{"local_pref", "LocalPref", ValueUint, "has:SFlowHasGateway", "extended gateway record: the route's local preference"},
	{"unknown_records", "Unknown", ValueUint, "nonzero", "flow records of formats not decoded (other enterprises', newer formats)"},
}...)

// SFlowCounterKeys are the keys of a counter sample (type
// SFLOW_5_COUNTERS) after the per-packet envelope keys.
var SFlowCounterKeys = append(append([]SFlowKey{}, sflowHeaderKeys...), []SFlowKey{
	{"if_index", "Generic.Index", ValueUint, "has:SFlowHasGenericIf", "generic interface counters (IF-MIB): ifIndex"},
	{"if_type", "Generic.Type", ValueUint, "has:SFlowHasGenericIf", "ifType (6 Ethernet)"},
	{"if_speed", "Generic.Speed", ValueUint, "has:SFlowHasGenericIf", "ifSpeed, bits/s"},
	{"if_direction", "Generic.Direction", ValueUint, "has:SFlowHasGenericIf", "0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out"},
	{"if_status", "Generic.Status", ValueUint, "has:SFlowHasGenericIf", "bit 0 ifAdminStatus up, bit 1 ifOperStatus up"},
	{"if_in_octets", "Generic.InOctets", ValueUint, "has:SFlowHasGenericIf", "ifHCInOctets"},
	{"if_in_ucast_pkts", "Generic.InUcastPkts", ValueUint, "has:SFlowHasGenericIf", "ifInUcastPkts"},
	{"if_in_multicast_pkts", "Generic.InMulticastPkts", ValueUint, "has:SFlowHasGenericIf", "ifInMulticastPkts"},
	{"if_in_broadcast_pkts", "Generic.InBroadcastPkts", ValueUint, "has:SFlowHasGenericIf", "ifInBroadcastPkts"},
	{"if_in_discards", "Generic.InDiscards", ValueUint, "has:SFlowHasGenericIf", "ifInDiscards"},
	{"if_in_errors", "Generic.InErrors", ValueUint, "has:SFlowHasGenericIf", "ifInErrors"},
	{"if_in_unknown_protos", "Generic.InUnknownProtos", ValueUint, "has:SFlowHasGenericIf", "ifInUnknownProtos"},
	{"if_out_octets", "Generic.OutOctets", ValueUint, "has:SFlowHasGenericIf", "ifHCOutOctets"},
	{"if_out_ucast_pkts", "Generic.OutUcastPkts", ValueUint, "has:SFlowHasGenericIf", "ifOutUcastPkts"},
	{"if_out_multicast_pkts", "Generic.OutMulticastPkts", ValueUint, "has:SFlowHasGenericIf", "ifOutMulticastPkts"},
	{"if_out_broadcast_pkts", "Generic.OutBroadcastPkts", ValueUint, "has:SFlowHasGenericIf", "ifOutBroadcastPkts"},
	{"if_out_discards", "Generic.OutDiscards", ValueUint, "has:SFlowHasGenericIf", "ifOutDiscards"},
	{"if_out_errors", "Generic.OutErrors", ValueUint, "has:SFlowHasGenericIf", "ifOutErrors"},
	{"if_promiscuous_mode", "Generic.PromiscuousMode", ValueUint, "has:SFlowHasGenericIf", "ifPromiscuousMode: 1 true, 2 false"},
	{"dot3_alignment_errors", "Ethernet.AlignmentErrors", ValueUint, "has:SFlowHasEthernetCounters", "Ethernet interface counters (EtherLike-MIB): dot3StatsAlignmentErrors"},
	{"dot3_fcs_errors", "Ethernet.FCSErrors", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsFCSErrors"},
	{"dot3_single_collision_frames", "Ethernet.SingleCollisionFrames", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsSingleCollisionFrames"},
	{"dot3_multiple_collision_frames", "Ethernet.MultipleCollisionFrames", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsMultipleCollisionFrames"},
	{"dot3_sqe_test_errors", "Ethernet.SQETestErrors", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsSQETestErrors"},
	{"dot3_deferred_transmissions", "Ethernet.DeferredTransmissions", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsDeferredTransmissions"},
	{"dot3_late_collisions", "Ethernet.LateCollisions", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsLateCollisions"},
	{"dot3_excessive_collisions", "Ethernet.ExcessiveCollisions", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsExcessiveCollisions"},
	{"dot3_internal_mac_transmit_errors", "Ethernet.InternalMacTransmitErrors", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsInternalMacTransmitErrors"},
	{"dot3_carrier_sense_errors", "Ethernet.CarrierSenseErrors", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsCarrierSenseErrors"},
	{"dot3_frame_too_longs", "Ethernet.FrameTooLongs", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsFrameTooLongs"},
	{"dot3_internal_mac_receive_errors", "Ethernet.InternalMacReceiveErrors", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsInternalMacReceiveErrors"},
	{"dot3_symbol_errors", "Ethernet.SymbolErrors", ValueUint, "has:SFlowHasEthernetCounters", "dot3StatsSymbolErrors"},
	{"unknown_records", "Unknown", ValueUint, "nonzero", "counter records of formats not decoded (other enterprises', newer formats)"},
}...)
