// Package flowjson writes decoded NetFlow and IPFIX records as JSON lines:
// one object per record, in the output schema of nfcollect
// (docs/output-schema.md).
//
// A record is its envelope (export protocol, receive time, exporter,
// sequence number, domain, template), its normalized fields that are keys
// of the schema, the sampling rate, and then every other field of its
// template under the field's element name, typed by the element. Keys are
// present only when the exporter sent the field.
//
// The key writers are generated from the schema tables in package fields
// (flow_gen.go); this file adds the template's other fields. Nothing here
// allocates when the destination has room.
package flowjson

import (
	"encoding/hex"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/nfkit/nfkit/decode"
)

// AppendRecord appends r as one JSON object and a newline. received is the
// time the export packet arrived, Unix ns.
//
//nfkit:hot
func AppendRecord(b []byte, r *decode.Record, received int64) []byte {
	b = appendPacketKeys(b, r, received)
	return appendBody(b, r)
}

// AppendRecords appends the records rs of one export packet, one line each,
// as AppendRecord would, writing the keys they share once.
//
//nfkit:hot
func AppendRecords(b []byte, rs []decode.Record, received int64) []byte {
	if len(rs) == 0 {
		return b
	}
	start := len(b)
	b = appendPacketKeys(b, &rs[0], received)
	end := len(b)
	b = appendBody(b, &rs[0])
	for i := 1; i < len(rs); i++ {
		b = append(b, b[start:end]...)
		b = appendBody(b, &rs[i])
	}
	return b
}

// appendBody appends the record's keys after the per-packet ones.
//
//nfkit:hot
func appendBody(b []byte, r *decode.Record) []byte {
	b = appendRecordKeys(b, r)
	if name, ok := r.ApplicationName(); ok {
		b = append(b, `,"application_name":`...)
		b = appendString(b, name)
	}
	b = AppendOther(b, r)
	return append(b, '}', '\n')
}

// AppendOther appends `,"name":value` for every field of the record's
// template whose value is not in a key of the schema (a repeated element
// as one array), as a record's line has them after its keys. Records not
// from a template have none.
//
//nfkit:hot
func AppendOther(b []byte, r *decode.Record) []byte {
	t := r.Template()
	if t == nil {
		// Not from a template: the normalized fields are all there is.
		return b
	}
	if t.Has()&^r.Has == 0 {
		// The usual case: the fields to add are known per template.
		for _, i := range t.OtherFields() {
			if t.FirstRepeat(i) >= 0 {
				continue // written with the first of its element
			}
			if t.NextRepeat(i) >= 0 {
				b = appendRepeated(b, r, t, i)
				continue
			}
			if f, ok := r.FieldAt(i); ok {
				b = AppendField(b, f)
			}
		}
		return b
	}
	// Some normalized value was dropped (a time that could not be made
	// absolute): write every field whose value is not in a key.
	keyed := r.Has & decode.KeyedFields
	it := r.Iter()
	for it.Next() {
		f := it.Field()
		if f.Target()&keyed != 0 || f.IsPadding() || t.FirstRepeat(it.Index()) >= 0 {
			continue
		}
		if t.NextRepeat(it.Index()) >= 0 {
			b = appendRepeated(b, r, t, it.Index())
			continue
		}
		b = AppendField(b, f)
	}
	return b
}

// appendRepeated appends `,"name":[v1,v2,…]`: an element the template
// carries several times (field i and its NextRepeat chain), its values in
// template order, so that the object has no repeated key.
//
//nfkit:hot
func appendRepeated(b []byte, r *decode.Record, t *decode.Template, i int) []byte {
	first := true
	for j := i; j >= 0; j = t.NextRepeat(j) {
		f, ok := r.FieldAt(j)
		if !ok {
			continue
		}
		if first {
			b = append(b, ',', '"')
			b = append(b, f.Element.Name...)
			b = append(b, '"', ':', '[')
			first = false
		} else {
			b = append(b, ',')
		}
		b = AppendValue(b, f)
	}
	if !first {
		b = append(b, ']')
	}
	return b
}

// AppendField appends `,"name":value`: the field under its element name and
// its value as AppendValue writes it.
//
//nfkit:hot
func AppendField(b []byte, f decode.Field) []byte {
	b = append(b, ',', '"')
	b = append(b, f.Element.Name...)
	b = append(b, '"', ':')
	return AppendValue(b, f)
}

// AppendValue appends the field's value as a JSON value typed by its
// element: numbers for integers, floats, booleans and times
// (dateTimeSeconds as seconds, dateTimeMilliseconds as ms, the NTP forms as
// Unix ns), quoted strings for addresses, MACs and strings, applicationId
// (RFC 6759) as "engine:selector" (decode.ApplicationID), quoted lowercase
// hex for other octet arrays and anything whose length does not fit its
// type.
//
//nfkit:hot
func AppendValue(b []byte, f decode.Field) []byte {
	v := f.Value
	switch f.Element.Type {
	case decode.Unsigned8, decode.Unsigned16, decode.Unsigned32, decode.Unsigned64, decode.DateTimeSeconds, decode.DateTimeMilliseconds:
		if u, ok := f.Uint(); ok {
			return strconv.AppendUint(b, u, 10)
		}
	case decode.Signed8, decode.Signed16, decode.Signed32, decode.Signed64:
		if i, ok := f.Int(); ok {
			return strconv.AppendInt(b, i, 10)
		}
	case decode.Float32, decode.Float64:
		if x, ok := f.Float(); ok && !math.IsInf(x, 0) && !math.IsNaN(x) {
			return strconv.AppendFloat(b, x, 'g', -1, 64)
		}
	case decode.Boolean:
		if t, ok := f.Bool(); ok {
			return strconv.AppendBool(b, t)
		}
	case decode.DateTimeMicroseconds, decode.DateTimeNanoseconds:
		if ns, ok := f.Time(); ok {
			return strconv.AppendInt(b, ns, 10)
		}
	case decode.IPv4Address, decode.IPv6Address:
		if a, ok := f.Addr(); ok {
			b = append(b, '"')
			b = a.AppendTo(b)
			return append(b, '"')
		}
	case decode.MACAddress:
		if len(v) == 6 {
			b = append(b, '"')
			b, _ = decode.MAC(v).AppendText(b)
			return append(b, '"')
		}
	case decode.String:
		if utf8.Valid(v) {
			return appendString(b, trimNUL(v))
		}
	case decode.OctetArray:
		if f.IsApplicationID() {
			if id, ok := decode.ParseApplicationID(v); ok {
				b = append(b, '"')
				b, _ = id.AppendText(b)
				return append(b, '"')
			}
		}
	}
	b = append(b, '"')
	b = hex.AppendEncode(b, v)
	return append(b, '"')
}

// trimNUL drops the NUL padding exporters put after fixed-length strings.
//
//nfkit:hot
func trimNUL(v []byte) []byte {
	for len(v) > 0 && v[len(v)-1] == 0 {
		v = v[:len(v)-1]
	}
	return v
}

// appendString appends s as a JSON string literal.
//
//nfkit:hot
func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	const digits = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'u', '0', '0', digits[c>>4], digits[c&0xF])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
