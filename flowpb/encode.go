// Package flowpb writes decoded NetFlow and IPFIX records as goflow2's
// FlowMessage protobuf (pb/flow.proto of github.com/netsampler/goflow2/v2,
// v2.2.6): the same field numbers and wire types, each message prefixed by
// its length as a varint, as goflow2 writes them to Kafka (protodelim), so
// that goflow2's consumers read them unchanged.
//
// The mapping from the output schema (docs/output-schema.md) is a table in
// gen/flowpb.go; the writer generated from it (flow_gen.go) is straight-line
// code without reflection, and nothing here allocates when the destination
// has room. [Fields] lists the fields written.
//
// Values: addresses are 4 bytes (IPv4) or 16 (IPv6), the exporter's
// IPv4-mapped IPv6 form unmapped as goflow2 does; MACs are the 48-bit
// number (goflow2's uint64 src_mac); times are Unix ns (goflow2's fields
// are unsigned: a time before 1970, which only a broken or hostile
// exporter sends, is not written). A field is written
// only when the record carries it and its value is not zero (proto3's
// default). goflow2 has no value of FlowType for NetFlow v1 and v7: their
// type is FLOWUNKNOWN (0).
//
// Fields goflow2's FlowMessage has no slot for are extension fields,
// written only with [Extensions]: flow_direction (42, the number goflow2's
// own example mapping gives it) and, from 1000 up, export_version,
// template_id, out_bytes, out_packets, rev_bytes, rev_packets, flows,
// flow_end_reason and original_sampling_rate. Protobuf decoders skip
// fields they do not know, so goflow2 consumers read messages with
// extensions unchanged. The template's other fields (the JSON output's
// keys named by element) are not written.
//
// sFlow v5 flow samples (AppendPacket) get the fields goflow2's sFlow
// producer writes: sampler_address is the agent address, next_hop_as the
// AS path's first AS, as_path and bgp_communities packed; the sample's
// other keys are extensions from 1009 (exporter_address, the datagram's
// source, then the keys of fields.SFlowFlowKeys). Counter samples have no
// FlowMessage.
package flowpb

import (
	"net/netip"
	"slices"

	"github.com/nfkit/nfkit/decode"
)

// Options select what AppendRecord writes.
type Options uint8

const (
	// Extensions writes nfkit's extension fields (42 and from 1000).
	Extensions Options = 1 << iota
)

// Field describes one FlowMessage field AppendRecord writes.
type Field struct {
	Number    int
	Name      string // field name in the .proto
	Type      string // .proto type: uint32, uint64, bytes or FlowType (the enum)
	Key       string // the output schema key whose value it carries
	Extension bool   // not in goflow2's FlowMessage: written with Extensions
	SFlow     bool   // written only for sFlow flow samples (AppendPacket); Key may then be an sFlow key
}

// Fields returns the fields AppendRecord writes, in the order it writes
// them: goflow2's by number, then the extensions by number.
func Fields() []Field { return slices.Clone(fieldTable) }

// MaxLen bounds the bytes AppendRecord appends for one record (an sFlow
// sample's AS path and communities take up to 5 bytes each beyond it).
const MaxLen = messageMax + 3

// AppendRecord appends r as one length-delimited FlowMessage: the length of
// the message as a varint, then the message. received is the time the
// export packet arrived, Unix ns. The keys of an sFlow sample that are not
// in its Record are written by AppendPacket.
func AppendRecord(b []byte, r *decode.Record, received int64, o Options) []byte {
	return appendRecord(b, r, received, o, nil, nil)
}

// AppendRecords appends the records of one export packet, one
// length-delimited FlowMessage each.
func AppendRecords(b []byte, rs []decode.Record, received int64, o Options) []byte {
	for i := range rs {
		b = AppendRecord(b, &rs[i], received, o)
	}
	return b
}

// AppendPacket appends the records of a decoded export packet, one
// length-delimited FlowMessage each, as AppendRecords; for an sFlow v5
// datagram (p.Version decode.VersionSFlow5) each flow sample's message
// also has what goflow2's sFlow producer writes (sampler_address is the
// agent address, next_hop_as, as_path, bgp_communities) and, with
// Extensions, the sample's other keys (fields 1009 and up). Counter
// samples have no FlowMessage and are not written.
func AppendPacket(b []byte, p *decode.Packet, received int64, o Options) []byte {
	if p.Version != decode.VersionSFlow5 {
		return AppendRecords(b, p.Records, received, o)
	}
	for i := range p.Records {
		var s *decode.SFlowSample
		if i < len(p.SFlow) {
			s = &p.SFlow[i]
		}
		b = appendRecord(b, &p.Records[i], received, o, p, s)
	}
	return b
}

func appendRecord(b []byte, r *decode.Record, received int64, o Options, p *decode.Packet, s *decode.SFlowSample) []byte {
	need := MaxLen + sizeHint(s)
	b = slices.Grow(b, need)
	// The body goes 1 byte in, behind room for its length, and moves on
	// when the length takes more (a body of 128 bytes or more).
	start := len(b)
	b = b[:cap(b)]
	n := appendMessage(b, start+1, r, received, o&Extensions != 0, p, s)
	size := n - start - 1
	if size < 0x80 {
		b[start] = byte(size)
		return b[:n]
	}
	var pre [3]byte
	k := putVarint(pre[:], 0, uint64(size))
	copy(b[start+k:], b[start+1:n])
	copy(b[start:], pre[:k])
	return b[:start+k+size]
}

// sizeHint returns the bytes the packed lists of s may take beyond
// messageMax.
func sizeHint(s *decode.SFlowSample) int {
	if s == nil {
		return 0
	}
	// next_hop_as repeats an element of as_path.
	return 5 * (len(s.ASPath) + len(s.Communities))
}

// samplerAddress returns the address written as sampler_address: the
// exporter's, or for an sFlow sample the agent address of the datagram
// header, as goflow2's sFlow producer writes it.
func samplerAddress(r *decode.Record, p *decode.Packet, s *decode.SFlowSample) netip.Addr {
	if s != nil && p.Agent.IsValid() {
		return p.Agent
	}
	return r.Exporter
}

// putPacked writes v as a packed repeated uint32: the byte length, then
// the varints.
func putPacked(b []byte, n int, v []uint32) int {
	size := 0
	for _, x := range v {
		size += varintLen(uint64(x))
	}
	n = putVarint(b, n, uint64(size))
	for _, x := range v {
		n = putVarint(b, n, uint64(x))
	}
	return n
}

func varintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// putVarint writes v as a protobuf varint at b[n:] and returns the new end.
func putVarint(b []byte, n int, v uint64) int {
	for v >= 0x80 {
		b[n] = byte(v) | 0x80
		v >>= 7
		n++
	}
	b[n] = byte(v)
	return n + 1
}

// putAddr writes a as a bytes value: its length, then 4 or 16 bytes.
func putAddr(b []byte, n int, a netip.Addr) int {
	if a.Is4() {
		q := a.As4()
		b[n] = 4
		copy(b[n+1:n+5], q[:])
		return n + 5
	}
	q := a.As16()
	b[n] = 16
	copy(b[n+1:n+17], q[:])
	return n + 17
}

// macUint returns m as the 48-bit big-endian number goflow2 stores.
func macUint(m decode.MAC) uint64 {
	return uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
}
