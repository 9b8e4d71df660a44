package decode

import (
	"sort"
	"strconv"
)

// VariableLength is the field length that marks an IPFIX variable-length
// field (RFC 7011 §7).
const VariableLength = 0xFFFF

// TemplateField is one field of a template.
type TemplateField struct {
	Element *Element
	PEN     uint32 // as sent (0 for IANA and v9)
	ID      uint16 // as sent, without the enterprise bit
	Length  uint16 // wire length, or VariableLength
	Scope   bool   // an options template scope field
	// Offset is the field's offset in a record, or -1 when a
	// variable-length field precedes it.
	Offset int
	// Target is the set of Flow fields this field feeds (0 when it feeds
	// none). A record carries the value in Flow when Flow.Has&Target != 0.
	Target FieldSet
}

// step is one compiled decode step of a template.
type step struct {
	off   uint16 // offset in a fixed-length record
	op    opcode
	field uint16 // index in Template.fields, for variable-length records
}

// Template is a compiled template: the field layout received from an
// exporter plus the steps that read its normalized fields. Templates are
// immutable once compiled (but for the Decoder's unexported bookkeeping);
// a redefinition compiles a new one.
type Template struct {
	Version     uint16
	Domain      uint32
	ID          uint16
	ScopeFields int // number of scope fields (options templates), 0 otherwise

	fields  []TemplateField
	minLen  int    // record length (fixed) or minimum record length (variable)
	varLen  bool   // some field is variable-length
	steps   []step // all normalized steps, or the rest of a class's
	shape   func([]byte, *Flow)
	class   func([]byte, *classOffsets, *Flow)
	offs    classOffsets
	has     FieldSet
	start   timeConv
	end     timeConv
	def     []byte // the definition as received, to detect identical re-sends
	options bool
	// other are the fields whose value no keyed normalized field carries.
	other []int
	// etherType is the EtherType every record of the template has when
	// the template fixes it (a 4- or 16-byte source address and no IP
	// version or EtherType field), or 0.
	etherType uint16
	// older and newer link the template into its exporter's list of
	// templates in order of use (see evict.go).
	older, newer *Template
}

// Fields returns the template's fields in wire order. The slice must not be
// modified.
//
//nfkit:hot
func (t *Template) Fields() []TemplateField { return t.fields }

// OtherFields returns the indices of the fields whose value is not carried
// by a normalized field of KeyedFields, padding excluded: what an encoder
// writes under the fields' own names besides the normalized keys, for a
// record that kept every bit of t.Has(). The slice must not be modified.
//
//nfkit:hot
func (t *Template) OtherFields() []int { return t.other }

// IsPadding reports whether the field is padding (IANA paddingOctets, not
// a scope field): bytes without a value.
//
//nfkit:hot
func (f *TemplateField) IsPadding() bool {
	return f.PEN == 0 && f.ID == paddingOctets && !f.Scope
}

// IsOptions reports whether t is an options template.
//
//nfkit:hot
func (t *Template) IsOptions() bool { return t.options }

// RecordLen returns the fixed record length, or the minimum length when the
// template has variable-length fields.
//
//nfkit:hot
func (t *Template) RecordLen() int { return t.minLen }

// Has returns the normalized fields a record of this template carries.
//
//nfkit:hot
func (t *Template) Has() FieldSet { return t.has }

// fieldSpec is a parsed template field before compilation.
type fieldSpec struct {
	pen    uint32
	id     uint16
	length uint16
	scope  bool
}

// noSpecialize turns off shape and class readers, so tests and benchmarks
// can compare them with the plain compiled steps.
var noSpecialize bool

// maxRecordLen bounds a fixed record: no record can be longer than the
// largest datagram minus the smallest headers.
const maxRecordLen = 65535 - 16 - 4

// compile builds a Template from parsed fields. specs is scratch owned by
// the caller; compile copies what it keeps.
func compile(version uint16, domain uint32, id uint16, specs []fieldSpec, scope int, options bool, def []byte) (*Template, error) {
	t := &Template{
		Version:     version,
		Domain:      domain,
		ID:          id,
		ScopeFields: scope,
		options:     options,
		fields:      make([]TemplateField, len(specs)),
		def:         append([]byte(nil), def...),
	}
	type pick struct {
		field int
		op    opcode
		prio  uint8
		ok    bool
	}
	var best [numTargets]pick
	off := 0
	for i, s := range specs {
		f := &t.fields[i]
		f.Element = element(version, s.pen, s.id, s.scope)
		f.PEN, f.ID, f.Length, f.Scope = s.pen, s.id, s.length, s.scope
		f.Offset = -1
		if !t.varLen {
			f.Offset = off
		}
		if s.length == VariableLength {
			t.varLen = true
			t.minLen++
			continue
		}
		off += int(s.length)
		t.minLen += int(s.length)
		if version != 10 && (s.scope || v9Distinct(s.id)) {
			continue
		}
		op, tgt, prio := opFor(s.pen, s.id, s.length)
		if op == opNone {
			continue
		}
		if b := &best[tgt]; !b.ok || prio < b.prio {
			*b = pick{i, op, prio, true}
		}
	}
	if t.minLen == 0 {
		return nil, ErrTemplate
	}
	if t.minLen > maxRecordLen {
		return nil, ErrTemplate
	}
	for _, b := range best {
		if !b.ok {
			continue
		}
		f := &t.fields[b.field]
		f.Target = opHas[b.op]
		t.steps = append(t.steps, step{off: uint16(max(f.Offset, 0)), op: b.op, field: uint16(b.field)})
		t.has |= opHas[b.op]
		if opHas[b.op]&HasStart != 0 {
			t.start = opConv[b.op]
		}
		if opHas[b.op]&HasEnd != 0 {
			t.end = opConv[b.op]
		}
	}
	sort.Slice(t.steps, func(i, j int) bool { return t.steps[i].field < t.steps[j].field })
	if t.has&(HasEtherType|HasIPVersion) == 0 && best[targetSrcAddr].ok {
		switch opLen[best[targetSrcAddr].op] {
		case 4:
			t.etherType = etherTypeIPv4
		case 16:
			t.etherType = etherTypeIPv6
		}
		t.has |= HasEtherType
	}
	for i := range t.fields {
		f := &t.fields[i]
		if f.Target&KeyedFields == 0 && !f.IsPadding() {
			t.other = append(t.other, i)
		}
	}
	if !t.varLen && !options && !noSpecialize {
		t.shape = shapeReaders[layoutKey(specs)]
	}
	if !t.varLen && t.shape == nil && !noSpecialize {
		t.useClass(specs)
	}
	return t, nil
}

// classDef is a generated class reader and the fields it reads.
type classDef struct {
	read   func([]byte, *classOffsets, *Flow)
	fields []fieldSpec
}

// classOffsets are a template's offsets of a class's fields.
type classOffsets [maxClassFields]uint16

// useClass picks the largest class whose every field is among the
// template's normalized steps; those steps become one straight-line call
// and the steps left run as before.
func (t *Template) useClass(specs []fieldSpec) {
	for ci := range classes {
		c := &classes[ci]
		if len(c.fields) > len(t.steps) {
			continue
		}
		var offs classOffsets
		used := make([]bool, len(t.steps))
		ok := true
		for i, cf := range c.fields {
			found := false
			for si, st := range t.steps {
				sp := specs[st.field]
				if !used[si] && sp.pen == cf.pen && sp.id == cf.id && sp.length == cf.length {
					used[si], found = true, true
					offs[i] = st.off
					break
				}
			}
			if !found {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		rest := make([]step, 0, len(t.steps)-len(c.fields))
		for si, st := range t.steps {
			if !used[si] {
				rest = append(rest, st)
			}
		}
		t.class, t.offs, t.steps = c.read, offs, rest
		return
	}
}

// layoutKey is the key of shapeReaders: "pen.id.len," per field.
func layoutKey(specs []fieldSpec) string {
	b := make([]byte, 0, len(specs)*10)
	for _, s := range specs {
		b = strconv.AppendUint(b, uint64(s.pen), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(s.id), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(s.length), 10)
		b = append(b, ',')
	}
	return string(b)
}

// readRecord decodes the normalized fields of one record b (exactly one
// record long) into f.
//
//nfkit:hot
func (t *Template) readRecord(b []byte, f *Flow, scratch *[]step) {
	f.Has = t.has
	switch {
	case t.shape != nil:
		t.shape(b, f)
	case t.class != nil:
		t.class(b, &t.offs, f)
		if len(t.steps) != 0 {
			readSteps(b, t.steps, f)
		}
	case !t.varLen:
		readSteps(b, t.steps, f)
	default:
		t.readVar(b, f, scratch)
	}
}

// readVar reads a record with variable-length fields: the steps are
// rebased on this record's field offsets.
//
//nfkit:hot
func (t *Template) readVar(b []byte, f *Flow, scratch *[]step) {
	s := (*scratch)[:0]
	fi, off := 0, 0
	for _, st := range t.steps {
		for ; fi < int(st.field); fi++ {
			off += fieldLen(b, off, t.fields[fi].Length)
		}
		st.off = uint16(off)
		s = append(s, st)
	}
	*scratch = s
	readSteps(b, s, f)
}

// recordLen returns the length of the record of t at the start of b, or -1
// if b is too short for it.
//
//nfkit:hot
func (t *Template) recordLen(b []byte) int {
	if !t.varLen {
		if len(b) < t.minLen {
			return -1
		}
		return t.minLen
	}
	off := 0
	for i := range t.fields {
		l := t.fields[i].Length
		if l != VariableLength {
			off += int(l)
			continue
		}
		if off >= len(b) {
			return -1
		}
		n := int(b[off])
		off++
		if n == 255 {
			if off+2 > len(b) {
				return -1
			}
			n = int(b[off])<<8 | int(b[off+1])
			off += 2
		}
		off += n
	}
	if off > len(b) {
		return -1
	}
	return off
}

// fieldLen returns the wire size (length prefix included) of a field of
// declared length l at b[off:] in a record already bounds-checked by
// recordLen.
//
//nfkit:hot
func fieldLen(b []byte, off int, l uint16) int {
	if l != VariableLength {
		return int(l)
	}
	if n := int(b[off]); n < 255 {
		return 1 + n
	}
	return 3 + (int(b[off+1])<<8 | int(b[off+2]))
}
