package decode

import (
	"encoding/binary"
	"iter"
	"math"
	"net/netip"
)

// MAC is an IEEE 802 MAC-48 address.
type MAC [6]byte

// AppendText appends m as aa:bb:cc:dd:ee:ff.
//
//nfkit:hot
func (m MAC) AppendText(b []byte) ([]byte, error) {
	const digits = "0123456789abcdef"
	for i, c := range m {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, digits[c>>4], digits[c&0xF])
	}
	return b, nil
}

func (m MAC) String() string {
	b, _ := m.AppendText(make([]byte, 0, 17))
	return string(b)
}

// Record is one decoded data record (a flow) or options record.
//
// The normalized fields are in the embedded Flow; every field the template
// carries, normalized or not, is available through Fields and Field. The raw
// bytes alias the packet passed to Decode and are valid only until the
// caller reuses that buffer.
type Record struct {
	Flow
	// SamplingRate is the 1-in-N packet sampling rate that applies to the
	// flow (v5 header, options data or the record itself), 0 if unknown.
	SamplingRate uint64
	Version      uint16
	TemplateID   uint16 // 0 for v1/v5/v7
	Exporter     netip.Addr
	Sequence     uint32 // the export header's sequence number
	Domain       uint32 // source ID / observation domain (v5/v7: engine type<<8|id)
	// Offset is the record's byte offset in the packet; records of a
	// packet (data and options) are in packet order by Offset.
	Offset int
	// OriginalSamplingRate is set by Renormalize: the rate the counters
	// were multiplied by (SamplingRate is then 1). 0 otherwise.
	OriginalSamplingRate uint64

	tmpl *Template
	raw  []byte
}

// Template returns the template the record was decoded with, or nil for
// a record that does not come from a template.
//
//nfkit:hot
func (r *Record) Template() *Template { return r.tmpl }

// Renormalize multiplies the record's counters (bytes and packets of every
// direction, flows) by its sampling rate, so that they estimate the
// traffic before sampling, and records that it did: SamplingRate becomes 1
// and OriginalSamplingRate the rate applied. Records without a rate above
// 1, or already renormalized, are left alone.
//
//nfkit:hot
func (r *Record) Renormalize() {
	n := r.SamplingRate
	if n <= 1 || r.OriginalSamplingRate != 0 {
		return
	}
	r.Bytes *= n
	r.Packets *= n
	r.OutBytes *= n
	r.OutPackets *= n
	r.RevBytes *= n
	r.RevPackets *= n
	r.SamplingRate, r.OriginalSamplingRate = 1, n
}

// Raw returns the record's bytes as received. They alias the packet.
//
//nfkit:hot
func (r *Record) Raw() []byte { return r.raw }

// Field is one field of a record: its table entry and its raw value.
type Field struct {
	*TemplateField
	// Value is the field's bytes, without the variable-length prefix. It
	// aliases the packet.
	Value []byte
}

// Fields iterates over every field of the record in template order.
func (r *Record) Fields() iter.Seq[Field] {
	return func(yield func(Field) bool) {
		it := r.Iter()
		for it.Next() {
			if !yield(it.Field()) {
				return
			}
		}
	}
}

// FieldAt returns field i of the record (in template order). It is O(1)
// for templates without variable-length fields.
//
//nfkit:hot
func (r *Record) FieldAt(i int) (Field, bool) {
	if r.tmpl == nil || i < 0 || i >= len(r.tmpl.fields) {
		return Field{}, false
	}
	tf := &r.tmpl.fields[i]
	if tf.Offset >= 0 && tf.Length != VariableLength {
		end := int(tf.Offset) + int(tf.Length)
		if end > len(r.raw) {
			return Field{}, false
		}
		return Field{TemplateField: tf, Value: r.raw[tf.Offset:end:end]}, true
	}
	it := r.Iter()
	for it.Next() {
		if it.i == i {
			return it.Field(), true
		}
	}
	return Field{}, false
}

// Iter returns an allocation-free iterator over the record's fields.
//
//nfkit:hot
func (r *Record) Iter() FieldIter { return FieldIter{r: r, i: -1} }

// Lookup returns the field (pen, id) of the record, if present. v9 options
// scope fields have their own number space and are not found by Lookup.
//
//nfkit:hot
func (r *Record) Lookup(pen uint32, id uint16) (Field, bool) {
	it := r.Iter()
	for it.Next() {
		if f := it.Field(); f.PEN == pen && f.ID == id && (!f.Scope || r.Version == 10) {
			return f, true
		}
	}
	return Field{}, false
}

// FieldIter walks a record's fields:
//
//	it := r.Iter()
//	for it.Next() {
//		f := it.Field()
//	}
type FieldIter struct {
	r   *Record
	i   int
	off int
	f   Field
}

// Next advances to the next field and reports whether there is one.
//
//nfkit:hot
func (it *FieldIter) Next() bool {
	if it.r == nil || it.r.tmpl == nil {
		return false
	}
	if it.i >= 0 {
		it.off += len(it.f.Value)
	}
	it.i++
	fs := it.r.tmpl.fields
	if it.i >= len(fs) {
		return false
	}
	tf := &fs[it.i]
	b := it.r.raw
	n := int(tf.Length)
	if tf.Length == VariableLength {
		if it.off >= len(b) {
			return false
		}
		n = int(b[it.off])
		it.off++
		if n == 255 {
			if it.off+2 > len(b) {
				return false
			}
			n = int(binary.BigEndian.Uint16(b[it.off:]))
			it.off += 2
		}
	}
	if it.off+n > len(b) {
		return false
	}
	it.f = Field{TemplateField: tf, Value: b[it.off : it.off+n : it.off+n]}
	return true
}

// Field returns the current field.
//
//nfkit:hot
func (it *FieldIter) Field() Field { return it.f }

// Index returns the current field's index in the template.
//
//nfkit:hot
func (it *FieldIter) Index() int { return it.i }

// Uint returns the value of an unsigned (or reduced-size) integer field of
// up to 8 bytes.
//
//nfkit:hot
func (f Field) Uint() (uint64, bool) {
	if len(f.Value) == 0 || len(f.Value) > 8 {
		return 0, false
	}
	return beUint(f.Value), true
}

// Int returns the value of a signed integer field of up to 8 bytes,
// sign-extended from its wire length.
//
//nfkit:hot
func (f Field) Int() (int64, bool) {
	n := len(f.Value)
	if n == 0 || n > 8 {
		return 0, false
	}
	v := beUint(f.Value)
	shift := 64 - 8*uint(n)
	return int64(v<<shift) >> shift, true
}

// Float returns the value of a float32 or float64 field.
//
//nfkit:hot
func (f Field) Float() (float64, bool) {
	switch len(f.Value) {
	case 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(f.Value))), true
	case 8:
		return math.Float64frombits(binary.BigEndian.Uint64(f.Value)), true
	}
	return 0, false
}

// Addr returns the value of a 4- or 16-byte address field.
//
//nfkit:hot
func (f Field) Addr() (netip.Addr, bool) {
	switch len(f.Value) {
	case 4:
		return netip.AddrFrom4([4]byte(f.Value)), true
	case 16:
		return netip.AddrFrom16([16]byte(f.Value)), true
	}
	return netip.Addr{}, false
}

// beUint reads a big-endian unsigned integer of 0 to 8 bytes.
//
//nfkit:hot
func beUint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// Bool returns the value of a boolean field (RFC 7011 §6.1.5: 1 is true,
// 2 is false).
//
//nfkit:hot
func (f Field) Bool() (bool, bool) {
	if len(f.Value) == 1 && (f.Value[0] == 1 || f.Value[0] == 2) {
		return f.Value[0] == 1, true
	}
	return false, false
}

// Time returns the value of a dateTimeSeconds, dateTimeMilliseconds,
// dateTimeMicroseconds or dateTimeNanoseconds field as Unix ns (the last
// two in the NTP format of RFC 7011 §6.1.9).
//
//nfkit:hot
func (f Field) Time() (int64, bool) {
	switch f.Element.Type {
	case DateTimeSeconds, DateTimeMilliseconds:
		u, ok := f.Uint()
		if !ok || u > math.MaxInt64/1_000_000_000 {
			return 0, false
		}
		if f.Element.Type == DateTimeSeconds {
			return int64(u) * 1e9, true
		}
		return int64(u) * 1e6, true
	case DateTimeMicroseconds, DateTimeNanoseconds:
		if len(f.Value) == 8 {
			return ntpToUnixNano(binary.BigEndian.Uint64(f.Value)), true
		}
	}
	return 0, false
}

// ntpToUnixNano converts a 64-bit NTP timestamp (RFC 5905: seconds since
// 1900 and a binary fraction) to Unix nanoseconds.
//
//nfkit:hot
func ntpToUnixNano(v uint64) int64 {
	const ntpEpochOffset = 2208988800 // seconds from 1900 to 1970
	sec := int64(v>>32) - ntpEpochOffset
	frac := (v & 0xFFFFFFFF) * 1e9 >> 32
	return sec*1e9 + int64(frac)
}
