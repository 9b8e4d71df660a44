package pynetflow

import "github.com/nfkit/nfkit/decode"

// The name tables of python-netflow (v9Name, v9IsIP, ipfixNames and
// v9Unknown) are generated into names_gen.go from its own tables, kept
// verbatim in fields/data (v9_field_types.tsv, ipfix_field_types.tsv; see
// fields/data/SOURCE.md). This file holds what they need and the names of
// the fixed v1/v5/v7 layouts, which python-netflow spells out in code.

// kind is how python-netflow turns an IPFIX field's bytes into a value,
// decided by the IANA data type of its table entry.
type kind uint8

const (
	// kindUnsigned: unsigned8..64, dateTimeSeconds, dateTimeMilliseconds,
	// boolean, the list types and the untyped entries: an unsigned integer
	// (struct B/H/I/Q by length).
	kindUnsigned     kind = iota
	kindSigned            // signed8..64: a signed integer (b/h/i/q)
	kindFloat             // float32/float64: f at 4 bytes, d at 8, unsigned otherwise
	kindBytesInt          // octetArray, macAddress, ipv4/ipv6Address: big-endian unsigned int
	kindString            // string: UTF-8 text, or the repr of the bytes
	kindTimeFraction      // dateTimeMicro/Nanoseconds: [seconds, fraction]
)

// ipfixEntry is one entry of python-netflow's IPFIX table.
type ipfixEntry struct {
	name string
	kind kind
	ok   bool // the id is in the table
}

// ipfixName returns python-netflow's name of IANA element id, and false
// when its table lacks the id.
func ipfixName(id uint16) (string, bool) {
	if int(id) < len(ipfixNames) && ipfixNames[id].ok {
		return ipfixNames[id].name, true
	}
	return "", false
}

// v9Key returns the key python-netflow writes for v9 field type id.
//
//nfkit:hot
func v9Key(id uint16) string {
	if n, ok := v9Name(id); ok {
		return n
	}
	return v9Unknown
}

// fixedName returns the python-netflow v1/v5 key of a field of the
// built-in v1/v5/v7 layouts (v9 type ids), "" for padding and for ids
// outside those layouts.
//
//nfkit:hot
func fixedName(pen uint32, id uint16) string {
	if pen == decode.PENV7 {
		switch id {
		case 1:
			return "FLAGS"
		case 2:
			return "ROUTER_SC"
		}
		return ""
	}
	if pen != 0 {
		return ""
	}
	switch id {
	case 8:
		return "IPV4_SRC_ADDR"
	case 12:
		return "IPV4_DST_ADDR"
	case 15:
		return "NEXT_HOP"
	case 10:
		return "INPUT"
	case 14:
		return "OUTPUT"
	case 2:
		return "IN_PACKETS"
	case 1:
		return "IN_OCTETS"
	case 22:
		return "FIRST_SWITCHED"
	case 21:
		return "LAST_SWITCHED"
	case 7:
		return "SRC_PORT"
	case 11:
		return "DST_PORT"
	case 4:
		return "PROTO"
	case 5:
		return "TOS"
	case 6:
		return "TCP_FLAGS"
	case 16:
		return "SRC_AS"
	case 17:
		return "DST_AS"
	case 9:
		return "SRC_MASK"
	case 13:
		return "DST_MASK"
	}
	return "" // 210 paddingOctets
}

// v9Dropped reports whether python-netflow drops a v9 field: an address
// type whose value ipaddress.ip_address rejects (only 1-, 2- and 4-byte
// integers and 16-byte strings are accepted).
//
//nfkit:hot
func v9Dropped(f *decode.TemplateField) bool {
	if !v9IsIP(f.ID) {
		return false
	}
	switch f.Length {
	case 1, 2, 4, 16:
		return false
	}
	return true
}

// ipfixKey returns the key and value rule of an IPFIX field: the
// python-netflow table entry for IANA elements it knows, else our table's
// name and data type.
//
//nfkit:hot
func ipfixKey(f *decode.TemplateField) (string, kind) {
	if f.PEN == 0 && int(f.ID) < len(ipfixNames) && ipfixNames[f.ID].ok {
		e := &ipfixNames[f.ID]
		return e.name, e.kind
	}
	switch f.Element.Type {
	case decode.Signed8, decode.Signed16, decode.Signed32, decode.Signed64:
		return f.Element.Name, kindSigned
	case decode.Float32, decode.Float64:
		return f.Element.Name, kindFloat
	case decode.OctetArray, decode.MACAddress, decode.IPv4Address, decode.IPv6Address:
		return f.Element.Name, kindBytesInt
	case decode.String:
		return f.Element.Name, kindString
	case decode.DateTimeMicroseconds, decode.DateTimeNanoseconds:
		return f.Element.Name, kindTimeFraction
	}
	return f.Element.Name, kindUnsigned
}

// fieldKey returns the base key of template field f ("" when python-netflow
// drops the field) and its value rule.
//
//nfkit:hot
func fieldKey(f *decode.TemplateField, ipfix bool) (string, kind) {
	if ipfix {
		return ipfixKey(f)
	}
	if v9Dropped(f) {
		return "", 0
	}
	return v9Key(f.ID), kindUnsigned
}
