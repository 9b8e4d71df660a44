package fields

import (
	_ "embed" // vendor element tables are data files
	"errors"
	"strconv"
	"strings"
)

// A VendorFile is an element table kept as a tab-separated data file in
// fields/data: '#' comment lines, the header line
// "id\tname\ttype\tsemantics\tunits", then one row per element, sorted by
// id. type and semantics are the IANA registry names (DataTypeNames,
// SemanticsNames; an empty semantics is "default"); units may be empty.
// Where each file's rows come from is in fields/data/SOURCE.md.
type VendorFile struct {
	Path string // from the module root
	PEN  uint32
	Text string
	// V9Base, when not 0, is the NetFlow v9 field type of element 0 of the
	// table: the vendor sends element id as v9 type V9Base+id (nProbe).
	V9Base uint16
}

//go:embed data/juniper.tsv
var juniperTSV string

//go:embed data/ntop.tsv
var ntopTSV string

// NtopV9Base is the NetFlow v9 field type nProbe adds to its element ids
// (nProbe >= 5.5.6): v9 type 57590 is L7_PROTO, element 35632/118.
const NtopV9Base = 57472

// VendorFiles are the element tables kept as data files.
var VendorFiles = []VendorFile{
	{Path: "fields/data/juniper.tsv", PEN: PENJuniper, Text: juniperTSV},
	{Path: "fields/data/ntop.tsv", PEN: PENNtop, Text: ntopTSV, V9Base: NtopV9Base},
}

// vendorHeader is the header line of a vendor file.
const vendorHeader = "id\tname\ttype\tsemantics\tunits"

// ParseElements parses a vendor file into its rows. Errors name the file
// and line: a missing or wrong header, a wrong number of columns, an id
// outside 1-32767 or not above the previous one, an empty or repeated
// name, an unknown type or semantics.
func ParseElements(f VendorFile) ([]Element, error) {
	var rows []Element
	header := false
	names := map[string]bool{}
	prev := 0
	bad := func(line int, msg string) error {
		return errors.New(f.Path + ":" + strconv.Itoa(line) + ": " + msg)
	}
	for i, line := range strings.Split(strings.TrimSuffix(f.Text, "\n"), "\n") {
		n := i + 1
		if strings.HasPrefix(line, "#") {
			continue
		}
		if !header {
			if line != vendorHeader {
				return nil, bad(n, "header "+strconv.Quote(line)+", want "+strconv.Quote(vendorHeader))
			}
			header = true
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 5 {
			return nil, bad(n, strconv.Itoa(len(cols))+" columns, want 5")
		}
		id, err := strconv.ParseUint(cols[0], 10, 16)
		if err != nil || id == 0 || id > 0x7fff {
			return nil, bad(n, "id "+strconv.Quote(cols[0])+" is not in 1-32767")
		}
		if int(id) <= prev {
			return nil, bad(n, "id "+cols[0]+" does not follow "+strconv.Itoa(prev))
		}
		prev = int(id)
		name := cols[1]
		if name == "" || strings.TrimSpace(name) != name {
			return nil, bad(n, "bad name "+strconv.Quote(name))
		}
		if names[name] {
			return nil, bad(n, "name "+name+" twice")
		}
		names[name] = true
		e := Element{PEN: f.PEN, ID: uint16(id), Name: name, Units: cols[4]}
		t, ok := lookupName(DataTypeNames[:], cols[2])
		if !ok {
			return nil, bad(n, "unknown data type "+strconv.Quote(cols[2]))
		}
		e.Type = DataType(t)
		sem := cols[3]
		if sem == "" {
			sem = SemanticsNames[Default]
		}
		s, ok := lookupName(SemanticsNames[:], sem)
		if !ok {
			return nil, bad(n, "unknown semantics "+strconv.Quote(cols[3]))
		}
		e.Semantics = Semantics(s)
		if f.V9Base != 0 && int(f.V9Base)+int(id) > 0xffff {
			return nil, bad(n, "id "+cols[0]+" has no v9 type above "+strconv.Itoa(int(f.V9Base)))
		}
		rows = append(rows, e)
	}
	if !header {
		return nil, errors.New(f.Path + ": no header line")
	}
	return rows, nil
}

func lookupName(names []string, s string) (int, bool) {
	for i, n := range names {
		if n == s {
			return i, true
		}
	}
	return 0, false
}
