package decode

import (
	"sort"
	"strconv"
	"sync/atomic"
)

// Element describes a field type: an IPFIX information element, a NetFlow
// v9 field type or a vendor element.
type Element struct {
	PEN       uint32 // private enterprise number; 0 for IANA and v9 types
	ID        uint16 // element id without the enterprise bit
	Name      string // IANA name for IPFIX, v9 name (IN_BYTES …) for v9
	Type      DataType
	Semantics Semantics
	Units     string
}

// Known reports whether the element is in the field tables. Unknown
// elements are decoded as octet arrays under a synthesized name.
func (e *Element) Known() bool { return e.Semantics != semanticsUnknown }

// semanticsUnknown marks synthesized elements.
const semanticsUnknown Semantics = 255

// LookupIPFIX returns the IPFIX element (pen, id), or nil if the tables
// do not know it. pen 0 is IANA; 29305 the RFC 5103 reverse elements.
func LookupIPFIX(pen uint32, id uint16) *Element {
	if pen == 0 && int(id) < len(ianaByID) {
		return ianaByID[id]
	}
	i := sort.Search(len(ipfixElements), func(i int) bool {
		e := &ipfixElements[i]
		return e.PEN > pen || e.PEN == pen && e.ID >= id
	})
	if i < len(ipfixElements) && ipfixElements[i].PEN == pen && ipfixElements[i].ID == id {
		return &ipfixElements[i]
	}
	return nil
}

// LookupV9 returns the NetFlow v9 field type id, or nil if unknown. Types
// without a v9 name share the IANA element of the same id.
func LookupV9(id uint16) *Element {
	if int(id) < len(v9ByID) {
		return v9ByID[id]
	}
	return lookupV9(id)
}

func lookupV9(id uint16) *Element {
	if e := searchV9(id); e != nil {
		return e
	}
	if id < 0x8000 {
		return LookupIPFIX(0, id)
	}
	return nil
}

// searchV9 returns the v9 type id of the v9 table, or nil.
func searchV9(id uint16) *Element {
	i := sort.Search(len(v9Elements), func(i int) bool { return v9Elements[i].ID >= id })
	if i < len(v9Elements) && v9Elements[i].ID == id {
		return &v9Elements[i]
	}
	return nil
}

// ianaByID and v9ByID index the IANA elements and the v9 types by id up
// to the largest IANA id, so that compiling a template does not search.
var ianaByID, v9ByID = indexElements()

func indexElements() (iana, v9 []*Element) {
	n := 0
	for i := range ipfixElements {
		if e := &ipfixElements[i]; e.PEN == 0 {
			n = max(n, int(e.ID)+1)
		}
	}
	iana = make([]*Element, n)
	for i := range ipfixElements {
		if e := &ipfixElements[i]; e.PEN == 0 {
			iana[e.ID] = e
		}
	}
	v9 = make([]*Element, n)
	for id := range v9 {
		if v9[id] = searchV9(uint16(id)); v9[id] == nil {
			v9[id] = iana[id]
		}
	}
	return iana, v9
}

// v9 options scope field types (RFC 3954 §6.1). They live in their own
// number space: scope 1 is not IN_BYTES.
var v9Scopes = [...]Element{
	{ID: 1, Name: "scopeSystem", Type: OctetArray},
	{ID: 2, Name: "scopeInterface", Type: Unsigned32},
	{ID: 3, Name: "scopeLineCard", Type: Unsigned32},
	{ID: 4, Name: "scopeCache", Type: OctetArray},
	{ID: 5, Name: "scopeTemplate", Type: Unsigned16},
}

// v7 record fields without a v9 type (pseudo PEN, never on the wire).
var v7Elements = [...]Element{
	{PEN: PENV7, ID: 1, Name: "v7Flags", Type: Unsigned16, Semantics: SemanticsFlags},
	{PEN: PENV7, ID: 2, Name: "v7RouterShortcut", Type: IPv4Address},
}

// knownElement returns the table entry of a template field, or nil when
// the tables do not know it. IANA and v9 ids up to the largest IANA id
// take one array index.
func knownElement(version uint16, pen uint32, id uint16, scope bool) *Element {
	if pen == 0 && !(scope && version == 9) {
		tbl := ianaByID
		if version != 10 {
			tbl = v9ByID
		}
		if int(id) < len(tbl) {
			return tbl[id]
		}
	}
	switch {
	case pen == PENV7 && id >= 1 && int(id) <= len(v7Elements):
		return &v7Elements[id-1]
	case version == 9 && scope:
		if id >= 1 && int(id) <= len(v9Scopes) {
			return &v9Scopes[id-1]
		}
		return nil
	case version != 10:
		return LookupV9(id)
	default:
		return LookupIPFIX(pen, id)
	}
}

// synthesize gives the unknown fields of fs (nil Element: knownElement
// found no table entry) elements of their own, so that nothing is dropped
// and nothing collides, decoded as octet
// arrays under a synthesized name: "scope<id>" for v9 scope fields,
// "pen<pen>_<id>" for enterprise fields, "field_<id>" otherwise.
//
// The elements are shared by every Decoder through synthTable: the same
// unknown ids come back with every exporter of a kind and every
// redefinition (pmacct's and other vendors' enterprise elements), and an
// Element does not change once made.
func synthesize(version uint16, fs []TemplateField) {
	for i := range fs {
		f := &fs[i]
		if f.Element != nil {
			continue
		}
		scope := version == 9 && f.Scope
		slot := synthSlot(scope, f.PEN, f.ID)
		if e := slot.Load(); e != nil && e.scope == scope && e.PEN == f.PEN && e.ID == f.ID {
			f.Element = &e.Element
			continue
		}
		var buf [32]byte
		name := buf[:0]
		switch {
		case scope:
			name = append(name, "scope"...)
		case f.PEN != 0:
			name = append(name, "pen"...)
			name = strconv.AppendUint(name, uint64(f.PEN), 10)
			name = append(name, '_')
		default:
			name = append(name, "field_"...)
		}
		name = strconv.AppendUint(name, uint64(f.ID), 10)
		e := &synthEntry{scope: scope, Element: Element{PEN: f.PEN, ID: f.ID, Name: string(name), Type: OctetArray, Semantics: semanticsUnknown}}
		slot.Store(e)
		f.Element = &e.Element
	}
}

// synthTable holds synthesized elements (synthesize), direct-mapped by
// (scope, enterprise number, id) and bounded: a flood of distinct unknown
// ids only replaces entries (each holds nothing but its own element), and
// an element replaced is made again when it comes back.
var synthTable [1 << synthBits]atomic.Pointer[synthEntry]

const synthBits = 12

// A synthEntry is a synthesized element and whether it is a v9 scope field
// (its name is then "scope<id>"; v9 fields have no enterprise number).
type synthEntry struct {
	scope bool
	Element
}

// synthSlot is the entry of synthTable for an unknown element.
func synthSlot(scope bool, pen uint32, id uint16) *atomic.Pointer[synthEntry] {
	k := uint64(pen)<<17 | uint64(id)<<1
	if scope {
		k |= 1
	}
	return &synthTable[(k*0x9E3779B97F4A7C15)>>(64-synthBits)]
}

// fastEntry is what compile needs to know about an IANA or v9 id below
// len(ianaByID) (without enterprise number), found by one index: the
// normalized field it feeds (src: 1 + index in fastSrcs, 0 for none) and
// the rarer passes it calls for.
type fastEntry struct {
	src   uint16
	flags uint8
}

// fastEntry flags.
const (
	fastSection    = 1 << iota // a sampled packet section or frame size (findSection)
	fastApp                    // applicationId or applicationName (linkApp)
	fastV9Distinct             // a v9 id whose meaning differs from the IPFIX id (no step in v9)
)

// fastSrc is an element that feeds a normalized field: its target and
// priority there, and its step by wire length (opNone for lengths it
// cannot have; no step reads more than 16 bytes).
type fastSrc struct {
	op        [17]opcode
	tgt, prio uint8
}

// fastInfo and fastSrcs index opFor by id for the ids of ianaByID. They are
// derived from opFor itself, so they agree with it (TestFastInfo).
var fastInfo, fastSrcs = indexFast()

func indexFast() ([]fastEntry, []fastSrc) {
	info := make([]fastEntry, len(ianaByID))
	var srcs []fastSrc
	for id := range info {
		e := &info[id]
		switch id {
		case ieDataLinkFrameSection, ieIPHeaderPacketSection, ieDataLinkFrameSize, v9Layer2PacketSectionData:
			e.flags |= fastSection
		case ieApplicationID, ieApplicationName:
			e.flags |= fastApp
		}
		if v9Distinct(uint16(id)) {
			e.flags |= fastV9Distinct
		}
		var src fastSrc
		found := false
		for l := 1; l < len(src.op); l++ {
			op, tgt, prio := opFor(0, uint16(id), uint16(l))
			if op != opNone {
				src.op[l], src.tgt, src.prio, found = op, tgt, prio, true
			}
		}
		if found {
			srcs = append(srcs, src)
			e.src = uint16(len(srcs))
		}
	}
	return info, srcs
}
