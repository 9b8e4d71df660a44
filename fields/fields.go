// Package fields is the declarative table of NetFlow v9 and IPFIX field
// types that the generator in gen/ turns into the decoders in decode/.
//
// It holds data only: rows of [Element] (the IANA IPFIX information
// elements, the NetFlow v9 field types, vendor elements) and rows of
// [Normalized] (which elements feed which field of decode.Record). Adding a
// field means adding a row here and running `go generate ./...`.
//
// Sources of the rows are noted beside each table. The XML files they were
// imported from are kept in fields/data with their provenance.
package fields

// DataType is an abstract data type of RFC 7011 §6.1 / RFC 7012 §3.1.
type DataType uint8

// The abstract data types, in the order of the IANA "IPFIX Information
// Element Data Types" registry.
const (
	OctetArray DataType = iota
	Unsigned8
	Unsigned16
	Unsigned32
	Unsigned64
	Signed8
	Signed16
	Signed32
	Signed64
	Float32
	Float64
	Boolean
	MACAddress
	String
	DateTimeSeconds
	DateTimeMilliseconds
	DateTimeMicroseconds
	DateTimeNanoseconds
	IPv4Address
	IPv6Address
	BasicList
	SubTemplateList
	SubTemplateMultiList
	Unsigned256 // RFC 9740
)

// DataTypeNames are the registry names of the data types, indexed by DataType.
var DataTypeNames = [...]string{
	OctetArray:           "octetArray",
	Unsigned8:            "unsigned8",
	Unsigned16:           "unsigned16",
	Unsigned32:           "unsigned32",
	Unsigned64:           "unsigned64",
	Signed8:              "signed8",
	Signed16:             "signed16",
	Signed32:             "signed32",
	Signed64:             "signed64",
	Float32:              "float32",
	Float64:              "float64",
	Boolean:              "boolean",
	MACAddress:           "macAddress",
	String:               "string",
	DateTimeSeconds:      "dateTimeSeconds",
	DateTimeMilliseconds: "dateTimeMilliseconds",
	DateTimeMicroseconds: "dateTimeMicroseconds",
	DateTimeNanoseconds:  "dateTimeNanoseconds",
	IPv4Address:          "ipv4Address",
	IPv6Address:          "ipv6Address",
	BasicList:            "basicList",
	SubTemplateList:      "subTemplateList",
	SubTemplateMultiList: "subTemplateMultiList",
	Unsigned256:          "unsigned256",
}

// Semantics is an IPFIX data type semantics (RFC 7012 §3.2).
type Semantics uint8

// The data type semantics.
const (
	Default Semantics = iota
	Quantity
	TotalCounter
	DeltaCounter
	Identifier
	Flags
	List
	SNMPCounter
	SNMPGauge
)

// SemanticsNames are the registry names, indexed by Semantics.
var SemanticsNames = [...]string{
	Default:      "default",
	Quantity:     "quantity",
	TotalCounter: "totalCounter",
	DeltaCounter: "deltaCounter",
	Identifier:   "identifier",
	Flags:        "flags",
	List:         "list",
	SNMPCounter:  "snmpCounter",
	SNMPGauge:    "snmpGauge",
}

// Private enterprise numbers used by the tables.
const (
	PENIANA      = 0     // IANA registry (no enterprise bit)
	PENCisco     = 9     // ciscoSystems
	PENJuniper   = 2636  // Juniper Networks
	PENNetScaler = 5951  // Citrix NetScaler
	PENVMware    = 6876  // VMware
	PENReverse   = 29305 // RFC 5103 reverse information elements
	PENNtop      = 35632 // ntop (nProbe)
)

// Element is one row of a field-type table.
type Element struct {
	PEN       uint32 // private enterprise number; 0 for IANA and NetFlow v9
	ID        uint16 // element id, without the enterprise bit
	Name      string // registry name (camelCase for IPFIX)
	Type      DataType
	Semantics Semantics
	Units     string // "" when the registry gives none
}

// V9Name gives the NetFlow v9 name of a v9 field type (RFC 3954 §8 and
// Cisco's NetFlow v9 documentation). The element's data type comes from the
// IPFIX row with the same id unless Element is set.
type V9Name struct {
	ID   uint16
	Name string
	// Element, when non-nil, describes a v9 type whose id means something
	// else in IPFIX (or is not in IANA's registry at all), so the v9 type
	// does not share the IPFIX row with the same id.
	Element *Element
}
