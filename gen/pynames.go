package main

import (
	"fmt"
	"strconv"
	"strings"

	. "github.com/dave/jennifer/jen"

	"github.com/nfkit/nfkit/fields"
)

// pyV9Row is one row of python-netflow's V9_FIELD_TYPES.
type pyV9Row struct {
	id   uint16
	name string
	ip   bool // written as an IP address string
}

// pyIPFIXRow is one row of python-netflow's iana_field_types.
type pyIPFIXRow struct {
	id       uint16
	name     string
	dataType string // IANA abstract data type name, may be empty
}

// pyKinds maps an IANA data type name of the IPFIX table to the value rule
// of package pynetflow that python-netflow applies to it
// (netflow/ipfix.py: struct formats for the numeric types, bytes for the
// rest, then the string, timestamp and integer conversions).
var pyKinds = map[string]string{
	"unsigned8": "kindUnsigned", "unsigned16": "kindUnsigned", "unsigned32": "kindUnsigned",
	"unsigned64": "kindUnsigned", "boolean": "kindUnsigned",
	"dateTimeSeconds": "kindUnsigned", "dateTimeMilliseconds": "kindUnsigned",
	"basicList": "kindUnsigned", "subTemplateList": "kindUnsigned", "subTemplateMultiList": "kindUnsigned",
	"":        "kindUnsigned",
	"signed8": "kindSigned", "signed16": "kindSigned", "signed32": "kindSigned", "signed64": "kindSigned",
	"float32": "kindFloat", "float64": "kindFloat",
	"octetArray": "kindBytesInt", "macAddress": "kindBytesInt",
	"ipv4Address": "kindBytesInt", "ipv6Address": "kindBytesInt",
	"string":               "kindString",
	"dateTimeMicroseconds": "kindTimeFraction", "dateTimeNanoseconds": "kindTimeFraction",
}

// parseTSV splits a python-netflow table into rows of len(header) columns,
// skipping '#' comments, after checking the header line. Errors name the
// table and line.
func parseTSV(name, text string, header ...string) ([][]string, error) {
	var rows [][]string
	seenHeader := false
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != len(header) {
			return nil, fmt.Errorf("%s:%d: %d columns, want %d", name, i+1, len(cols), len(header))
		}
		if !seenHeader {
			if strings.Join(cols, "\t") != strings.Join(header, "\t") {
				return nil, fmt.Errorf("%s:%d: header %q, want %q", name, i+1, cols, header)
			}
			seenHeader = true
			continue
		}
		rows = append(rows, cols)
	}
	if !seenHeader {
		return nil, fmt.Errorf("%s: no header line", name)
	}
	return rows, nil
}

// parseID reads the id column: ids strictly increase from row to row.
func parseID(name string, row int, s string, prev int) (uint16, error) {
	id, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("%s: row %d: bad id %q", name, row+1, s)
	}
	if int(id) <= prev {
		return 0, fmt.Errorf("%s: row %d: id %d after %d (ids must increase)", name, row+1, id, prev)
	}
	return uint16(id), nil
}

// parsePyV9 parses fields.PyNetflowV9; row 0 is the name of unknown types.
func parsePyV9(text string) ([]pyV9Row, error) {
	const name = "v9_field_types.tsv"
	rows, err := parseTSV(name, text, "id", "name", "ip_string")
	if err != nil {
		return nil, err
	}
	var out []pyV9Row
	prev := -1
	for i, cols := range rows {
		id, err := parseID(name, i, cols[0], prev)
		if err != nil {
			return nil, err
		}
		prev = int(id)
		if cols[1] == "" {
			return nil, fmt.Errorf("%s: id %d: empty name", name, id)
		}
		if cols[2] != "0" && cols[2] != "1" {
			return nil, fmt.Errorf("%s: id %d: ip_string %q, want 0 or 1", name, id, cols[2])
		}
		out = append(out, pyV9Row{id, cols[1], cols[2] == "1"})
	}
	if len(out) == 0 || out[0].id != 0 {
		return nil, fmt.Errorf("%s: no row 0 (the name of unknown types)", name)
	}
	return out, nil
}

// parsePyIPFIX parses fields.PyNetflowIPFIX. Names are kept as they are,
// empty ones included.
func parsePyIPFIX(text string) ([]pyIPFIXRow, error) {
	const name = "ipfix_field_types.tsv"
	rows, err := parseTSV(name, text, "id", "name", "data_type")
	if err != nil {
		return nil, err
	}
	var out []pyIPFIXRow
	prev := -1
	for i, cols := range rows {
		id, err := parseID(name, i, cols[0], prev)
		if err != nil {
			return nil, err
		}
		prev = int(id)
		if id > 0x7fff {
			return nil, fmt.Errorf("%s: id %d has the enterprise bit", name, id)
		}
		if _, ok := pyKinds[cols[2]]; !ok {
			return nil, fmt.Errorf("%s: id %d: unknown data type %q", name, id, cols[2])
		}
		out = append(out, pyIPFIXRow{id, cols[1], cols[2]})
	}
	return out, nil
}

// genPyNames emits package pynetflow's name tables: the v9 names and IP
// types and the IPFIX names with their value rules.
func genPyNames(f *File) error {
	v9, err := parsePyV9(fields.PyNetflowV9)
	if err != nil {
		return err
	}
	ipfix, err := parsePyIPFIX(fields.PyNetflowIPFIX)
	if err != nil {
		return err
	}
	f.Comment("v9Unknown is the key python-netflow writes for every v9 field type missing")
	f.Comment("from V9_FIELD_TYPES (it rewrites such types to 0).")
	f.Const().Id("v9Unknown").Op("=").Lit(v9[0].name)

	f.Comment("v9Name returns the V9_FIELD_TYPES name of v9 field type id, and false for")
	f.Comment("a type missing from the table.")
	hotDirective(f)
	f.Func().Id("v9Name").Params(Id("id").Uint16()).Params(String(), Bool()).Block(
		Switch(Id("id")).BlockFunc(func(g *Group) {
			for _, r := range v9[1:] {
				g.Case(Lit(int(r.id))).Block(Return(Lit(r.name), True()))
			}
		}),
		Return(Lit(""), False()),
	)

	var ips []Code
	for _, r := range v9 {
		if r.ip {
			ips = append(ips, Lit(int(r.id)))
		}
	}
	if len(ips) == 0 {
		return fmt.Errorf("v9_field_types.tsv: no IP address types")
	}
	f.Comment("v9IsIP reports whether python-netflow writes v9 field type id as an IP")
	f.Comment("address string (V9_FIELD_TYPES_CONTAINING_IP).")
	hotDirective(f)
	f.Func().Id("v9IsIP").Params(Id("id").Uint16()).Bool().Block(
		Switch(Id("id")).Block(Case(ips...).Block(Return(True()))),
		Return(False()),
	)

	f.Comment("ipfixNames is IPFIXFieldTypes.iana_field_types by element id: the name and")
	f.Comment("the value rule of the element's data type; ok is false for ids missing from")
	f.Comment("the table.")
	f.Var().Id("ipfixNames").Op("=").Index(Op("...")).Id("ipfixEntry").ValuesFunc(func(g *Group) {
		for _, r := range ipfix {
			g.Line().Lit(int(r.id)).Op(":").Values(Lit(r.name), Id(pyKinds[r.dataType]), True())
		}
		g.Line()
	})
	return nil
}
