package decode

import (
	"sort"
	"strconv"
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

// element resolves a template field to its table entry, synthesizing one
// for unknown fields so that nothing is dropped and nothing collides.
func element(version uint16, pen uint32, id uint16, scope bool) *Element {
	var e *Element
	switch {
	case pen == PENV7 && id >= 1 && int(id) <= len(v7Elements):
		e = &v7Elements[id-1]
	case version == 9 && scope:
		if id >= 1 && int(id) <= len(v9Scopes) {
			e = &v9Scopes[id-1]
		} else {
			return &Element{ID: id, Name: "scope" + strconv.Itoa(int(id)), Type: OctetArray, Semantics: semanticsUnknown}
		}
	case version != 10:
		e = LookupV9(id)
	default:
		e = LookupIPFIX(pen, id)
	}
	if e != nil {
		return e
	}
	name := "field_" + strconv.Itoa(int(id))
	if pen != 0 {
		name = "pen" + strconv.FormatUint(uint64(pen), 10) + "_" + strconv.Itoa(int(id))
	}
	return &Element{PEN: pen, ID: id, Name: name, Type: OctetArray, Semantics: semanticsUnknown}
}
