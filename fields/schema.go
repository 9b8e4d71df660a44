package fields

// The output record schema: the keys of the records nfcollect writes
// (docs/output-schema.md). A record is the envelope keys, then the
// normalized fields that have an output key (Flow rows with JSON set, in
// table order), then the trailer keys, then every other field of the
// template under its element name. gen writes from these tables the
// encoders, the analyzer's key table and docs/output-schema.md.

// ValueKind is how a schema value is typed in the output.
type ValueKind uint8

const (
	// ValueUint is an unsigned integer (a JSON number).
	ValueUint ValueKind = iota
	// ValueInt is a signed integer (a JSON number).
	ValueInt
	// ValueAddr is an IPv4 or IPv6 address (a JSON string).
	ValueAddr
	// ValueMAC is a MAC-48 address, aa:bb:cc:dd:ee:ff (a JSON string).
	ValueMAC
	// ValueVersion is the export protocol, one of Versions' names (a JSON
	// string).
	ValueVersion
)

// Key is one key of the output record that is not a normalized flow field.
type Key struct {
	Name string // Go identifier
	JSON string // output key
	Kind ValueKind
	Bits int // for ValueUint and ValueInt: 8, 16, 32 or 64
	// Field is the decode.Record field that holds the value, or
	// "Received" for the receive time the encoder is given.
	Field string
	// Packet marks a value that is the same for every record of an export
	// packet (encoders may write it once per packet).
	Packet bool
	// Always marks a key every record has; the others are written only
	// when their value is not zero.
	Always bool
	Doc    string
}

// Envelope are the keys that start every record, in output order.
var Envelope = []Key{
	{Name: "Type", JSON: "type", Kind: ValueVersion, Field: "Version", Packet: true, Always: true,
		Doc: "the export protocol and version (see the version names)"},
	{Name: "TimeReceived", JSON: "time_received_ns", Kind: ValueInt, Bits: 64, Field: "Received", Packet: true, Always: true,
		Doc: "when the collector received the export packet (the capture time when read from a capture), Unix ns"},
	{Name: "SamplerAddress", JSON: "sampler_address", Kind: ValueAddr, Field: "Exporter", Packet: true, Always: true,
		Doc: "the exporter's IP address (`192.0.2.1`, `2001:db8::1`)"},
	{Name: "SequenceNum", JSON: "sequence_num", Kind: ValueUint, Bits: 32, Field: "Sequence", Packet: true, Always: true,
		Doc: "the export header's sequence number"},
	{Name: "ObservationDomainID", JSON: "observation_domain_id", Kind: ValueUint, Bits: 32, Field: "Domain", Packet: true, Always: true,
		Doc: "NetFlow v9 source ID or IPFIX observation domain (v5/v7: engine type<<8 | engine id)"},
	{Name: "TemplateID", JSON: "template_id", Kind: ValueUint, Bits: 16, Field: "TemplateID", Always: true,
		Doc: "the v9 or IPFIX template of the record (0 for the fixed v1/v5/v7 layouts)"},
}

// Trailer are the keys written after the normalized fields, in output
// order, when their value is not zero.
var Trailer = []Key{
	{Name: "SamplingRate", JSON: "sampling_rate", Kind: ValueUint, Bits: 64, Field: "SamplingRate",
		Doc: "the 1-in-N packet sampling rate that applies to the flow: from the v5 header, from options data (v9 34/35, 48–50; IPFIX 34/35, 302–306, 309/310) per exporter, domain and sampler, or from the record itself; 1 after --renormalize"},
	{Name: "OriginalSamplingRate", JSON: "original_sampling_rate", Kind: ValueUint, Bits: 64, Field: "OriginalSamplingRate",
		Doc: "with --renormalize: the sampling rate the counters were multiplied by (the record's sampling_rate is then 1, so that nothing downstream multiplies again)"},
}

// Version is one export protocol version as the record's "type" names it.
type Version struct {
	Number uint16 // version field of the export header
	Name   string // "type" value
	Doc    string
}

// Versions are the values of the "type" key.
var Versions = []Version{
	{1, "NETFLOW_V1", "Cisco NetFlow v1"},
	{5, "NETFLOW_V5", "Cisco NetFlow v5"},
	{7, "NETFLOW_V7", "Cisco NetFlow v7 (Catalyst)"},
	{9, "NETFLOW_V9", "NetFlow v9 (RFC 3954)"},
	{10, "IPFIX", "IPFIX (RFC 7011)"},
	{SFlowVersion, "SFLOW_5", "sFlow v5: one record per flow sample (see [sFlow v5](#sflow-v5))"},
	{SFlowCountersVersion, "SFLOW_5_COUNTERS", "sFlow v5 counter sample: a record type of its own (see [sFlow v5](#sflow-v5))"},
}
