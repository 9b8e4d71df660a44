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
}

// Fields returns the fields AppendRecord writes, in the order it writes
// them: goflow2's by number, then the extensions by number.
func Fields() []Field { return slices.Clone(fieldTable) }

// MaxLen bounds the bytes AppendRecord appends for one record.
const MaxLen = messageMax + 2

// AppendRecord appends r as one length-delimited FlowMessage: the length of
// the message as a varint, then the message. received is the time the
// export packet arrived, Unix ns.
func AppendRecord(b []byte, r *decode.Record, received int64, o Options) []byte {
	b = slices.Grow(b, MaxLen)
	start := len(b)
	b = b[:cap(b)]
	n := appendMessage(b, start+1, r, received, o&Extensions != 0)
	size := n - start - 1
	if size < 0x80 {
		b[start] = byte(size)
		return b[:n]
	}
	// messageMax < 1<<14: two bytes of length at most.
	copy(b[start+2:n+1], b[start+1:n])
	b[start] = byte(size) | 0x80
	b[start+1] = byte(size >> 7)
	return b[:n+1]
}

// AppendRecords appends the records of one export packet, one
// length-delimited FlowMessage each.
func AppendRecords(b []byte, rs []decode.Record, received int64, o Options) []byte {
	for i := range rs {
		b = AppendRecord(b, &rs[i], received, o)
	}
	return b
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
