// Package chrow writes decoded NetFlow and IPFIX records as ClickHouse
// rows in the RowBinary format, and holds the table's columns and DDL.
//
// A row is the day (the partition key), the envelope of nfcollect's
// output schema (docs/output-schema.md), the normalized fields that are
// keys of the schema, the sampling rates, and then every other field of
// the record's template as two parallel arrays of strings: the element
// names and the values, written as the JSON output writes them but
// unquoted (numbers in decimal, addresses, MACs, strings, hex). Nothing
// the exporter sent is dropped. Addresses are FixedString(16): IPv6, or
// IPv4-mapped IPv6 (::ffff:a.b.c.d), as Akvorado stores them; MACs are
// UInt64 (MACNumToString); times are Int64 Unix ns. Absent fields are 0.
//
// The fixed-width columns are written by generated code (row_gen.go, from
// the schema tables of package fields) with constant-offset stores; nothing
// here allocates when the destination has room.
package chrow

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
)

// Column is one column of the table.
type Column struct {
	Name string
	Type string // ClickHouse type
	Doc  string
}

// otherColumns hold the template's fields that are not in a column of
// their own.
var otherColumns = [...]Column{
	{Name: "other_names", Type: "Array(String)", Doc: "the element names of the template's other fields"},
	{Name: "other_values", Type: "Array(String)", Doc: "their values, as the JSON output writes them, unquoted"},
}

// Columns returns the table's columns, in row order.
func Columns() []Column {
	cols := append([]Column(nil), fixedColumns[:]...)
	cols = append(cols, sflowColumns[:]...)
	return append(cols, otherColumns[:]...)
}

// AppendPacket appends the rows of the records of a decoded export packet,
// as AppendRecords; the rows of an sFlow v5 datagram's flow samples
// (p.Version decode.VersionSFlow5) also have the sample's sFlow columns
// (the other records have 0 and empty lists there). Counter samples have
// no row.
func AppendPacket(b []byte, p *decode.Packet, received int64) []byte {
	if p.Version != decode.VersionSFlow5 {
		return AppendRecords(b, p.Records, received)
	}
	for i := range p.Records {
		r := &p.Records[i]
		var s *decode.SFlowSample
		if i < len(p.SFlow) {
			s = &p.SFlow[i]
		}
		b = appendFixed(b, r, received)
		b = appendSFlow(b, p, s)
		b = appendOther(b, r)
	}
	return b
}

// appendUint32s appends v as an Array(UInt32).
func appendUint32s(b []byte, v []uint32) []byte {
	b = appendUvarint(b, uint64(len(v)))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	return b
}

// AppendRecords appends the rows of the records of one export packet.
// received is the time the packet arrived, Unix ns.
func AppendRecords(b []byte, rs []decode.Record, received int64) []byte {
	// Records of one template have the same other fields: their names are
	// written once and copied for the next records.
	var tmpl *decode.Template
	var ns, ne int
	for i := range rs {
		r := &rs[i]
		if t := r.Template(); t != nil && t == tmpl && t.Has()&^r.Has == 0 {
			b = appendFixed(b, r, received)
			b = appendSFlow(b, nil, nil)
			b = append(b, b[ns:ne]...)
			b = appendValues(b, r, t.OtherFields())
			continue
		}
		b = appendFixed(b, r, received)
		b = appendSFlow(b, nil, nil)
		tmpl, ns, ne = nil, 0, 0
		start := len(b)
		b = appendOther(b, r)
		if t := r.Template(); t != nil && t.Has()&^r.Has == 0 {
			tmpl, ns, ne = t, start, start+namesLen(b[start:])
		}
	}
	return b
}

// namesLen returns the length of the names array at the start of b.
func namesLen(b []byte) int {
	n, k := uvarint(b)
	off := k
	for range n {
		l, k := uvarint(b[off:])
		off += k + int(l)
	}
	return off
}

// uvarint reads a varint this package wrote (so well formed).
func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i, c := range b {
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return v, i + 1
		}
	}
	return v, len(b)
}

// AppendRow appends r's row.
func AppendRow(b []byte, r *decode.Record, received int64) []byte {
	return appendOther(appendSFlow(appendFixed(b, r, received), nil, nil), r)
}

// appendValues appends the values array of the usual case.
func appendValues(b []byte, r *decode.Record, other []int) []byte {
	at := len(b)
	b = append(b, 0)
	n := 0
	for _, i := range other {
		if f, ok := r.FieldAt(i); ok {
			b = appendValue(b, f)
			n++
		}
	}
	return patchCount(b, at, n)
}

// appendOther appends the names and values arrays of r's other fields.
func appendOther(b []byte, r *decode.Record) []byte {
	t := r.Template()
	if t == nil {
		return append(b, 0, 0) // two empty arrays
	}
	if t.Has()&^r.Has == 0 {
		// The usual case: the other fields are known per template. The
		// names go first, behind a count patched once known.
		other := t.OtherFields()
		at := len(b)
		b = append(b, 0)
		n := 0
		for _, i := range other {
			if f, ok := r.FieldAt(i); ok {
				b = appendString(b, f.Element.Name)
				n++
			}
		}
		b = patchCount(b, at, n)
		return appendValues(b, r, other)
	}
	// Some normalized value was dropped (a time that could not be made
	// absolute): every field whose value is not in a column.
	keyed := r.Has & decode.KeyedFields
	skip := func(f decode.Field) bool { return f.Target()&keyed != 0 || f.IsPadding() }
	n := 0
	for it := r.Iter(); it.Next(); {
		if !skip(it.Field()) {
			n++
		}
	}
	b = appendUvarint(b, uint64(n))
	for it := r.Iter(); it.Next(); {
		if f := it.Field(); !skip(f) {
			b = appendString(b, f.Element.Name)
		}
	}
	b = appendUvarint(b, uint64(n))
	for it := r.Iter(); it.Next(); {
		if f := it.Field(); !skip(f) {
			b = appendValue(b, f)
		}
	}
	return b
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// patchCount stores n as the varint at b[at], where one byte was reserved,
// moving what follows when n needs more.
func patchCount(b []byte, at, n int) []byte {
	if n < 0x80 {
		b[at] = byte(n)
		return b
	}
	var pre [binaryMaxVarint]byte
	p := appendUvarint(pre[:0], uint64(n))
	end := len(b)
	b = append(b, p[1:]...)
	copy(b[at+len(p):], b[at+1:end])
	copy(b[at:], p)
	return b
}

func appendString(b []byte, s string) []byte {
	b = appendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue appends a field's value as a RowBinary String: the text
// flowjson.AppendValue writes, unquoted; a valid UTF-8 string as it is
// (its NUL padding trimmed).
func appendValue(b []byte, f decode.Field) []byte {
	if f.Element.Type == decode.String && utf8.Valid(f.Value) {
		v := f.Value
		for len(v) > 0 && v[len(v)-1] == 0 {
			v = v[:len(v)-1]
		}
		b = appendUvarint(b, uint64(len(v)))
		return append(b, v...)
	}
	// The text's length comes first: reserve one byte (values shorter
	// than 128 bytes, nearly all), move the text for longer ones.
	at := len(b)
	b = append(b, 0)
	b = flowjson.AppendValue(b, f)
	text := b[at+1:]
	if len(text) >= 2 && text[0] == '"' {
		// Addresses, MACs, hex: quoted without escapes.
		copy(text, text[1:len(text)-1])
		b = b[:len(b)-2]
		text = b[at+1:]
	}
	return patchCount(b, at, len(text))
}

const binaryMaxVarint = 10

// PresentBit returns the mask of a normalized column in the present
// column (false for other columns): a row holds the column's value when
// present&mask != 0, else the exporter did not send it (and it is 0).
func PresentBit(column string) (uint64, bool) {
	b, ok := presentBits[column]
	return uint64(b), ok
}

// MACNum returns a MAC address as MACNumToString reads it.
func MACNum(m decode.MAC) uint64 { return macNum(m) }

func macNum(m decode.MAC) uint64 {
	return uint64(binary.BigEndian.Uint32(m[:4]))<<16 | uint64(binary.BigEndian.Uint16(m[4:]))
}
