package decode

import (
	"strconv"
	"strings"
)

// VariableLength is the field length that marks an IPFIX variable-length
// field (RFC 7011 §7).
const VariableLength = 0xFFFF

// TemplateField is one field of a template. It is 24 bytes: a template
// holds one per field, and compiling a template allocates them.
type TemplateField struct {
	Element *Element
	PEN     uint32 // as sent (0 for IANA and v9)
	// Offset is the field's offset in a record, or -1 when a
	// variable-length field precedes it.
	Offset int32
	ID     uint16 // as sent, without the enterprise bit
	Length uint16 // wire length, or VariableLength
	op     opcode // the step that reads the field into Flow, or opNone
	Scope  bool   // an options template scope field
}

// Target returns the set of Flow fields the field feeds (0 when it feeds
// none). A record carries the value in Flow when Flow.Has&Target() != 0.
//
//nfkit:hot
func (f *TemplateField) Target() FieldSet { return opHas[f.op] }

// step is one compiled decode step of a template.
type step struct {
	off   uint16 // offset in a fixed-length record
	op    opcode
	field uint16 // index in Template.fields, for variable-length records
}

// Template is a compiled template: the field layout received from an
// exporter plus the steps that read its normalized fields. Templates are
// immutable once compiled (but for the Decoder's unexported bookkeeping);
// a redefinition compiles a new one, or takes the compiled parts of an
// identical definition it replaced before (templateCache): templates may
// share them, which is why Fields and OtherFields must not be modified.
type Template struct {
	ScopeFields int // number of scope fields (options templates), 0 otherwise
	Domain      uint32
	Version     uint16
	ID          uint16

	fields  []TemplateField
	steps   []step     // all normalized steps, or the rest of a class's
	classes []classUse // class readers, before the steps left
	def     []byte     // the definition as received, to detect identical re-sends
	// other are the fields whose value no keyed normalized field carries.
	other []int
	// repeats[i] is the next field of other with the same element as
	// field i (-1: none), and repeats[n+i] (n fields) the first such field
	// when i is not it (-1 otherwise); nil when no element repeats.
	repeats []int16
	// vars describe the variable-length fields of a varLen template, in
	// order; tail is the length of the fixed fields after the last one.
	// stepSeg[i] is the number of variable-length fields before step i's
	// field: when it is k > 0, steps[i].off is relative to the end of the
	// k-th variable-length field.
	vars    []varField
	stepSeg []uint8
	shape   func([]byte, *Flow)
	// shapeSet is shape over the records of a data set (decodeData).
	shapeSet func([]byte, []Record, *setEnv, int)
	// app links a template with applicationId or applicationName fields
	// to its exporter's application names (appname.go); nil otherwise.
	app *appLink
	// older and newer link the template into its exporter's list of
	// templates in order of use (see evict.go).
	older, newer *Template
	minLen       int // record length (fixed) or minimum record length (variable)
	// recip is ⌈2³²/minLen⌉: records divides by a multiplication (a
	// 64-bit division costs tens of cycles a data set).
	recip uint64
	has   FieldSet
	tail  int32
	// etherType is the EtherType every record of the template has when
	// the template fixes it (a 4- or 16-byte source address and no IP
	// version or EtherType field), or 0.
	etherType uint16
	// section is the field holding the first bytes of the sampled packet
	// (IPFIX dataLinkFrameSection or ipHeaderPacketSection, v9
	// layer2packetSectionData), -1 if none, and sectionIP says it starts at
	// the IP header; frameSize is the dataLinkFrameSize field, or -1.
	section, frameSize int16
	sectionIP          bool
	start              timeConv
	end                timeConv
	varLen             bool // some field is variable-length
	options            bool
	// deriveEther says that the readers derive each record's EtherType
	// from its IP version field (deriveFromVersion): the template has one,
	// no EtherType field and no sampled packet section.
	deriveEther bool
	// quiet says that finish has nothing to do for the records of the
	// template read by dataSet's short path: no time to convert, no
	// EtherType to derive, no sampling fields (the template's fixed
	// EtherType, a sampled packet section's headers and the rate the
	// exporter announced for the records' sampler, if any, are set as the
	// set is read).
	quiet bool
	// v9Uptime says that the records' start and end are NetFlow v9
	// sysUptime ms, which depend only on the packet header: the data set
	// readers convert them (convertV9Uptime), and start and end are
	// convNone for finish.
	v9Uptime bool
}

// sampled reports whether the template's records carry a sampled packet
// section or its frame size, whose headers fill what a record lacks
// (sectionHeaders).
//
//nfkit:hot
func (t *Template) sampled() bool { return t.section >= 0 || t.frameSize >= 0 }

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

// NextRepeat returns, for a field i of OtherFields, the next field of
// OtherFields with the same element (a template may carry an element
// several times: Juniper's CPID record, Cisco's repeated interface or
// label elements), or -1. FirstRepeat returns the first field of that
// group when i is a later one, or -1. Encoders write a repeated element
// once, its values together (flowjson: an array in template order).
//
//nfkit:hot
func (t *Template) NextRepeat(i int) int {
	if t.repeats == nil || i < 0 || i >= len(t.fields) {
		return -1
	}
	return int(t.repeats[i])
}

// FirstRepeat: see NextRepeat.
//
//nfkit:hot
func (t *Template) FirstRepeat(i int) int {
	if t.repeats == nil || i < 0 || i >= len(t.fields) {
		return -1
	}
	return int(t.repeats[len(t.fields)+i])
}

// sameElement reports whether two fields are the same element: the same
// table entry, or unknown ones of one synthesized name.
func sameElement(a, b *TemplateField) bool {
	return a.Element == b.Element || !a.Element.Known() && !b.Element.Known() && a.Element.Name == b.Element.Name
}

// linkRepeats fills repeats when an element repeats among
// the other fields. A small hash set of the elements' (PEN, ID, scope)
// finds the usual template, where none repeats, in one pass.
func (t *Template) linkRepeats() {
	if len(t.other) < 2 {
		return
	}
	var set [64]uint64 // keys + 1; 0 is empty
	clash := len(t.other) > len(set)/2
	for _, i := range t.other {
		if clash {
			break
		}
		f := &t.fields[i]
		key := (uint64(f.PEN)<<16|uint64(f.ID))<<1 + 1
		if f.Scope {
			key++
		}
		for h := (key * 0x9E3779B97F4A7C15) >> 58; ; h = (h + 1) % uint64(len(set)) {
			if set[h] == 0 {
				set[h] = key
				break
			}
			if set[h] == key {
				clash = true
				break
			}
		}
	}
	if !clash || len(t.fields) > 1<<15 {
		return
	}
	links := make([]int16, 2*len(t.fields))
	for i := range links {
		links[i] = -1
	}
	next, first := links[:len(t.fields)], links[len(t.fields):]
	repeats := false
	for k, i := range t.other {
		if first[i] >= 0 {
			continue // linked from an earlier field
		}
		last := i
		for _, j := range t.other[k+1:] {
			if first[j] < 0 && sameElement(&t.fields[i], &t.fields[j]) {
				next[last], first[j], last = int16(j), int16(i), j
				repeats = true
			}
		}
	}
	if repeats {
		t.repeats = links
	}
}

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
// the caller; compile copies what it keeps. The template and its slices
// come from one allocation (newTemplate); unknown elements take two more.
func compile(version uint16, domain uint32, id uint16, specs []fieldSpec, scope int, options bool, def []byte) (*Template, error) {
	t := newTemplate(len(specs), len(def))
	t.Version, t.Domain, t.ID, t.ScopeFields, t.options = version, domain, id, scope, options
	// best[tgt] is the field picked for target tgt: 1 + its index (0:
	// none), its op and its priority.
	type pick struct {
		field uint32
		op    opcode
		prio  uint8
	}
	var best [numTargets]pick
	// targets[i] is 1 + the target field i feeds, 0 for none.
	var tbuf [128]uint8
	targets := tbuf[:]
	if len(specs) > len(tbuf) {
		targets = make([]uint8, len(specs))
	}
	off, minLen, unknown := 0, 0, 0
	varLen := false
	// One pass over the fields notes what the later, rarer passes need:
	// a field findSection or linkApp looks for, and the layout's hash.
	// IANA and v9 ids below len(ianaByID) take the table fast path.
	var flags uint8
	h := layoutSeed
	tbl := ianaByID
	v9 := version != 10
	if v9 {
		tbl = v9ByID
	}
	fields := t.fields[:len(specs)]
	targets = targets[:len(specs)]
	slow := false
	for i := range specs {
		s := specs[i]
		h = (h ^ (uint64(s.pen)<<32 | uint64(s.id)<<16 | uint64(s.length))) * layoutPrime
		var (
			e         *Element
			op        opcode
			tgt, prio uint8
		)
		// The loop makes no call, so that its values stay in registers:
		// the fields the tables do not cover are done by compileSlow.
		if s.pen == 0 && int(s.id) < len(tbl) && !(v9 && s.scope) {
			fi := &fastInfo[s.id]
			e = tbl[s.id]
			if e == nil {
				unknown++
			}
			flags |= fi.flags
			if fi.src != 0 && int(s.length) < len(fastSrc{}.op) && !(v9 && fi.flags&fastV9Distinct != 0) {
				src := &fastSrcs[fi.src-1]
				op, tgt, prio = src.op[s.length], src.tgt, src.prio
			}
		} else {
			slow = true
		}
		// Field by field: a whole TemplateField would be copied with a
		// bulk write barrier while the GC runs. The block is zeroed.
		f := &fields[i]
		f.Element = e
		f.PEN, f.ID, f.Length, f.Scope = s.pen, s.id, s.length, s.scope
		f.Offset = -1
		if !varLen {
			f.Offset = int32(off)
		}
		if s.length == VariableLength {
			varLen = true
			minLen++
			continue
		}
		off += int(s.length)
		minLen += int(s.length)
		if op == opNone {
			continue
		}
		targets[i] = tgt + 1
		if b := &best[tgt]; b.field == 0 || prio < b.prio {
			*b = pick{uint32(i) + 1, op, prio}
		}
	}
	if slow {
		// The fields with an enterprise number, ids beyond the tables and
		// v9 scope fields. A pick is the field of lowest priority, the
		// first one among equals, as in the loop above.
		for i := range fields {
			f := &fields[i]
			if f.PEN == 0 && int(f.ID) < len(tbl) && !(v9 && f.Scope) {
				continue
			}
			if f.Element = knownElement(version, f.PEN, f.ID, f.Scope); f.Element == nil {
				unknown++
			}
			if f.Length == VariableLength || v9 && (f.Scope || v9Distinct(f.ID)) {
				continue
			}
			op, tgt, prio := opFor(f.PEN, f.ID, f.Length)
			if op == opNone {
				continue
			}
			targets[i] = tgt + 1
			if b := &best[tgt]; b.field == 0 || prio < b.prio || prio == b.prio && uint32(i)+1 < b.field {
				*b = pick{uint32(i) + 1, op, prio}
			}
		}
	}
	t.minLen, t.varLen = minLen, varLen
	sections, apps := flags&fastSection != 0, flags&fastApp != 0
	if t.minLen == 0 || t.minLen > maxRecordLen {
		return nil, ErrTemplate
	}
	t.recip = recipOf(minLen)
	if unknown != 0 {
		synthesize(version, fields)
	}
	t.def = append(t.def, def...)
	// One pass in field order: field i is a step when it is the pick of
	// its target, and one of the other fields when it feeds no keyed
	// normalized field and is not padding.
	for i, tg := range targets {
		f := &fields[i]
		if tg != 0 && best[tg-1].field == uint32(i)+1 {
			op := best[tg-1].op
			has := opHas[op]
			f.op = op
			t.steps = append(t.steps, step{off: uint16(max(f.Offset, 0)), op: op, field: uint16(i)})
			t.has |= has
			if has&HasStart != 0 {
				t.start = opConv[op]
			}
			if has&HasEnd != 0 {
				t.end = opConv[op]
			}
		}
		if opHas[f.op]&KeyedFields == 0 && !f.IsPadding() {
			t.other = append(t.other, i)
		}
	}
	if len(t.other) == 0 {
		t.other = nil
	}
	if t.has&(HasEtherType|HasIPVersion) == 0 && best[targetSrcAddr].field != 0 {
		switch opLen[best[targetSrcAddr].op] {
		case 4:
			t.etherType = etherTypeIPv4
		case 16:
			t.etherType = etherTypeIPv6
		}
		t.has |= HasEtherType
	}
	if t.varLen {
		t.layoutVars()
	} else {
		t.vars, t.stepSeg = nil, nil
	}
	t.linkRepeats()
	t.section, t.frameSize = -1, -1
	if sections {
		t.findSection()
	}
	t.deriveEther = t.has&(HasIPVersion|HasEtherType) == HasIPVersion && !t.sampled()
	if version == 9 && t.start == convUptime && t.end == convUptime && !options {
		t.v9Uptime, t.start, t.end = true, convNone, convNone
	}
	t.quiet = t.start == convNone && t.end == convNone &&
		(t.has&HasEtherType != 0 || t.deriveEther || t.sampled()) && t.has&samplingFields == 0
	if apps {
		t.app = linkApp(t)
	}
	if !t.varLen && !options && !noSpecialize {
		if e := shapeOf(specs, h); e != nil {
			t.shape, t.shapeSet = e.read, e.readSet
		}
	}
	if t.shape == nil && !noSpecialize {
		t.useClass()
	}
	if len(t.classes) == 0 {
		t.classes = nil
	}
	return t, nil
}

// varField is a variable-length field of a template: the length of the
// fixed fields between the end of the previous variable-length field (or
// the record's start) and its length prefix.
type varField struct {
	fixed int
}

// maxVarSegs bounds the variable-length fields whose record offsets
// readVar computes on the stack; templates with more (none seen) rebase
// their steps by walking every field.
const maxVarSegs = 16

// layoutVars fills vars, tail and stepSeg of a varLen template, and makes
// the offsets of steps after a variable-length field relative to its end.
func (t *Template) layoutVars() {
	if cap(t.stepSeg) >= len(t.steps) {
		t.stepSeg = t.stepSeg[:len(t.steps)]
	} else {
		t.stepSeg = make([]uint8, len(t.steps))
	}
	si, rel := 0, 0 // steps are in field order; rel: fixed bytes since the last variable-length field
	for i := range t.fields {
		for ; si < len(t.steps) && int(t.steps[si].field) == i; si++ {
			t.stepSeg[si] = uint8(min(len(t.vars), maxVarSegs))
			t.steps[si].off = uint16(rel)
		}
		if t.fields[i].Length == VariableLength {
			t.vars = append(t.vars, varField{fixed: rel})
			rel = 0
			continue
		}
		rel += int(t.fields[i].Length)
	}
	t.tail = int32(rel)
}

// Sampled packet sections (RFC 7133) and their v9 counterpart.
const (
	ieDataLinkFrameSize       = 312
	ieIPHeaderPacketSection   = 313
	ieDataLinkFrameSection    = 315
	v9Layer2PacketSectionData = 104
)

// findSection notes the field that carries a sampled packet's first bytes,
// whose headers fill the normalized fields the record does not carry
// itself (finishCtx.headers).
func (t *Template) findSection() {
	t.section, t.frameSize = -1, -1
	if len(t.fields) > 1<<15 {
		return
	}
	for i := range t.fields {
		f := &t.fields[i]
		if f.PEN != 0 || f.Scope {
			continue
		}
		switch {
		case t.Version == 10 && f.ID == ieDataLinkFrameSection, t.Version == 9 && f.ID == v9Layer2PacketSectionData:
			if t.section < 0 {
				t.section, t.sectionIP = int16(i), false
			}
		case t.Version == 10 && f.ID == ieIPHeaderPacketSection:
			if t.section < 0 {
				t.section, t.sectionIP = int16(i), true
			}
		case t.Version == 10 && f.ID == ieDataLinkFrameSize:
			if t.frameSize < 0 {
				t.frameSize = int16(i)
			}
		}
	}
}

// classDef is a generated class reader and the fields it reads.
type classDef struct {
	read   func([]byte, *classOffsets, *Flow)
	fields []fieldSpec
}

// classOffsets are a template's offsets of a class's fields.
type classOffsets [maxClassFields]uint16

// classUse is a class reader with a template's offsets of its fields.
type classUse struct {
	read func([]byte, *classOffsets, *Flow)
	offs classOffsets
	seg  uint8 // in a varLen template, the segment (stepSeg) of every field: offs are relative to its base
	kind uint8 // the index of the class in classes (readClasses)
}

// maxClassUses bounds the classes one template uses.
const maxClassUses = 4

// classHas are the normalized fields each class reads (a template that
// lacks one of them cannot use the class), and classKeys the target and
// specKey of each class field.
var classHas, classKeys = func() ([]FieldSet, [][]classKey) {
	has := make([]FieldSet, len(classes))
	keys := make([][]classKey, len(classes))
	for i, c := range classes {
		for _, f := range c.fields {
			op, tgt, _ := opFor(f.pen, f.id, f.length)
			has[i] |= opHas[op]
			keys[i] = append(keys[i], classKey{tgt, specKey(f.pen, f.id, f.length)})
		}
	}
	return has, keys
}()

// classKey is a class field: its target and its specKey.
type classKey struct {
	tgt uint8
	key uint64
}

// specKey is (pen, id, length) in one word.
func specKey(pen uint32, id, length uint16) uint64 {
	return uint64(pen)<<32 | uint64(id)<<16 | uint64(length)
}

// useClass picks classes, largest first, whose every field is among the
// template's normalized steps not taken by a class already; those steps
// become straight-line calls and the steps left run as before.
func (t *Template) useClass() {
	if t.varLen && len(t.vars) > maxVarSegs {
		return // readVar rebases every step by walking the fields
	}
	// Each target has at most one step: the class field of a target must
	// be that step's field. stepOf[tgt] is that step's index, keyOf[tgt]
	// its field's specKey (set only for the targets in t.has).
	var stepOf [numTargets]uint8
	var keyOf [numTargets]uint64
	for si, st := range t.steps {
		tgt := opTarget[st.op]
		stepOf[tgt] = uint8(si)
		f := &t.fields[st.field]
		keyOf[tgt] = specKey(f.PEN, f.ID, f.Length)
	}
	var used uint64 // steps taken by classes; len(t.steps) <= numTargets <= 64
	free := t.has   // normalized fields no class has taken
	left := len(t.steps)
	for ci := range classes {
		if classHas[ci]&^free != 0 || len(classKeys[ci]) > left {
			continue
		}
		keys := classKeys[ci]
		ok := true
		for _, k := range keys {
			if keyOf[k.tgt] != k.key {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		var offs classOffsets
		seg := -1
		var take uint64
		for i, k := range keys {
			si := stepOf[k.tgt]
			if used&(1<<si) != 0 {
				ok = false
				break
			}
			if t.varLen {
				// A class reads at offsets from one base: its fields must lie
				// between the same two variable-length fields.
				if seg < 0 {
					seg = int(t.stepSeg[si])
				} else if int(t.stepSeg[si]) != seg {
					ok = false
					break
				}
			}
			take |= 1 << si
			offs[i] = t.steps[si].off
		}
		if !ok {
			continue
		}
		used |= take
		free &^= classHas[ci]
		left -= len(keys)
		t.classes = append(t.classes, classUse{classes[ci].read, offs, uint8(max(seg, 0)), uint8(ci)})
		if len(t.classes) == maxClassUses || left == 0 {
			break
		}
	}
	if used == 0 {
		return
	}
	rest := t.steps[:0]
	var restSeg []uint8
	if t.varLen {
		restSeg = t.stepSeg[:0]
	}
	for si, st := range t.steps {
		if used&(1<<si) == 0 {
			if t.varLen {
				restSeg = append(restSeg, t.stepSeg[si])
			}
			rest = append(rest, st)
		}
	}
	t.steps = rest
	if t.varLen {
		t.stepSeg = restSeg
	}
}

// parseLayoutKey parses a key of shapeReaders ("pen.id.len," per field);
// ok is false for a malformed key.
func parseLayoutKey(key string) (specs []fieldSpec, ok bool) {
	for f := range strings.SplitSeq(strings.TrimSuffix(key, ","), ",") {
		parts := strings.Split(f, ".")
		if len(parts) != 3 {
			return nil, false
		}
		var v [3]uint64
		for i, p := range parts {
			n, err := strconv.ParseUint(p, 10, 32)
			if err != nil {
				return nil, false
			}
			v[i] = n
		}
		specs = append(specs, fieldSpec{pen: uint32(v[0]), id: uint16(v[1]), length: uint16(v[2])})
	}
	return specs, true
}

// shapeIndex is shapeReaders keyed by a hash of the layout, so that
// compiling a template looks its reader up without formatting a key.
var shapeIndex = indexShapes()

type shapeEntry struct {
	specs   []fieldSpec
	read    func([]byte, *Flow)
	readSet func([]byte, []Record, *setEnv, int)
}

func indexShapes() map[uint64][]shapeEntry {
	m := make(map[uint64][]shapeEntry, len(shapeReaders))
	for key, read := range shapeReaders {
		specs, ok := parseLayoutKey(key)
		if !ok {
			panic("decode: bad generated layout key " + key)
		}
		h := layoutHash(specs)
		m[h] = append(m[h], shapeEntry{specs, read, shapeSetReaders[key]})
	}
	return m
}

// layoutHash is an FNV-1a style hash of a layout, one word per field.
func layoutHash(specs []fieldSpec) uint64 {
	h := layoutSeed
	for _, s := range specs {
		h = layoutStep(h, s)
	}
	return h
}

// layoutSeed and layoutStep compute layoutHash a field at a time.
const layoutSeed = uint64(14695981039346656037)

func layoutStep(h uint64, s fieldSpec) uint64 {
	return (h ^ (uint64(s.pen)<<32 | uint64(s.id)<<16 | uint64(s.length))) * layoutPrime
}

const layoutPrime = 1099511628211

// shapeOf returns the generated readers of the exact layout specs, whose
// layoutHash is h, or nil.
func shapeOf(specs []fieldSpec, h uint64) *shapeEntry {
	es := shapeIndex[h]
	for i := range es {
		if e := &es[i]; len(e.specs) == len(specs) && sameLayout(e.specs, specs) {
			return e
		}
	}
	return nil
}

func sameLayout(a, b []fieldSpec) bool {
	for i := range a {
		if a[i].pen != b[i].pen || a[i].id != b[i].id || a[i].length != b[i].length {
			return false
		}
	}
	return true
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
	case t.varLen:
		t.readVar(b, f, scratch)
	case len(t.classes) != 0:
		readClasses(b, t.classes, f)
		if len(t.steps) != 0 {
			readSteps(b, t.steps, f)
		}
	default:
		readSteps(b, t.steps, f)
	}
	if t.deriveEther && t.shape == nil { // a shape reader derives it itself
		deriveFromVersion(f)
	}
}

// readVar reads a record with variable-length fields (already
// bounds-checked by recordLen): the steps' offsets are relative to the
// ends of this record's variable-length fields.
//
//nfkit:hot
func (t *Template) readVar(b []byte, f *Flow, scratch *[]step) {
	if len(t.vars) > maxVarSegs {
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
		return
	}
	var base [maxVarSegs + 1]int // base[k]: the end of the k-th variable-length field
	off := 0
	for k, v := range t.vars {
		off += v.fixed
		off += fieldLen(b, off, VariableLength)
		base[k+1] = off
	}
	for i := range t.classes {
		c := &t.classes[i]
		c.read(b[base[c.seg]:], &c.offs, f)
	}
	readStepsVar(b, t.steps, t.stepSeg, &base, f)
}

// records returns n / t.minLen for n < 2¹⁶ (any set body): with
// m = ⌈2³²/d⌉ = (2³²+e)/d, e < d, n·m/2³² = n/d + n·e/(d·2³²), and
// n·e < 2³² keeps the excess below 1/d, less than what separates n/d from
// the next integer (TestRecords checks every n and d).
//
//nfkit:hot
func (t *Template) records(n int) int {
	return int(uint64(n) * t.recip >> 32)
}

// recipOf is ⌈2³²/d⌉ (Template.recip).
func recipOf(d int) uint64 { return (1<<32 + uint64(d) - 1) / uint64(d) }

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
	for _, v := range t.vars {
		off += v.fixed
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
	off += int(t.tail)
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
