package fields

import (
	"strings"
	"testing"
)

// TestVendorFiles parses every vendor data file and checks its rows like
// the Go tables' (TestElementTables), and a few rows against their sources.
func TestVendorFiles(t *testing.T) {
	all := map[uint32][]Element{}
	for _, f := range VendorFiles {
		rows, err := ParseElements(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			t.Errorf("%s: no rows", f.Path)
		}
		for _, e := range rows {
			checkElement(t, f.Path, e)
			if e.PEN != f.PEN {
				t.Errorf("%s: %s: PEN %d, want %d", f.Path, e.Name, e.PEN, f.PEN)
			}
		}
		all[f.PEN] = rows
	}
	want := []Element{
		{PEN: PENJuniper, ID: 137, Name: "commonPropertiesId", Type: OctetArray, Semantics: Identifier},
		{PEN: PENJuniper, ID: 155, Name: "httpResponseCode", Type: Unsigned16, Semantics: Identifier},
		{PEN: PENJuniper, ID: 502, Name: "gatewayIPv4Address", Type: IPv4Address, Semantics: Identifier},
		{PEN: PENNtop, ID: 118, Name: "L7_PROTO", Type: Unsigned16},
		{PEN: PENNtop, ID: 119, Name: "L7_PROTO_NAME", Type: String},
		{PEN: PENNtop, ID: 123, Name: "CLIENT_NW_LATENCY_MS", Type: Unsigned32, Units: "milliseconds"},
		{PEN: PENNtop, ID: 124, Name: "SERVER_NW_LATENCY_MS", Type: Unsigned32, Units: "milliseconds"},
		{PEN: PENNtop, ID: 125, Name: "APPL_LATENCY_MS", Type: Unsigned32, Units: "milliseconds"},
		{PEN: PENNtop, ID: 427, Name: "APPLICATION_NAME", Type: String},
		{PEN: PENNtop, ID: 471, Name: "NPROBE_IPV4_ADDRESS", Type: IPv4Address},
	}
	for _, w := range want {
		got, ok := find(all[w.PEN], w.ID)
		if !ok || got != w {
			t.Errorf("row %d/%d = %+v, want %+v", w.PEN, w.ID, got, w)
		}
	}
}

// TestParseElementsErrors: a broken vendor file is refused with its path,
// line and problem.
func TestParseElementsErrors(t *testing.T) {
	const hdr = "# comment\nid\tname\ttype\tsemantics\tunits\n"
	for _, tc := range []struct{ text, want string }{
		{"1\tx\tstring\t\t\n", "x.tsv:1: header"},
		{"# only a comment\n", "x.tsv: no header line"},
		{hdr + "1\tx\tstring\t\n", "x.tsv:3: 4 columns, want 5"},
		{hdr + "0\tx\tstring\t\t\n", "x.tsv:3: id \"0\" is not in 1-32767"},
		{hdr + "40000\tx\tstring\t\t\n", "x.tsv:3: id \"40000\" is not in 1-32767"},
		{hdr + "2\tx\tstring\t\t\n1\ty\tstring\t\t\n", "x.tsv:4: id 1 does not follow 2"},
		{hdr + "1\tx\tstring\t\t\n2\tx\tstring\t\t\n", "x.tsv:4: name x twice"},
		{hdr + "1\t x\tstring\t\t\n", "x.tsv:3: bad name"},
		{hdr + "1\tx\tint\t\t\n", "x.tsv:3: unknown data type \"int\""},
		{hdr + "1\tx\tstring\tcounter\t\n", "x.tsv:3: unknown semantics \"counter\""},
	} {
		_, err := ParseElements(VendorFile{Path: "x.tsv", PEN: 1, Text: tc.text})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseElements(%q) = %v, want an error containing %q", tc.text, err, tc.want)
		}
	}
	rows, err := ParseElements(VendorFile{Path: "x.tsv", PEN: 7, Text: hdr + "5\tx\tunsigned32\tdeltaCounter\toctets\n"})
	if want := (Element{PEN: 7, ID: 5, Name: "x", Type: Unsigned32, Semantics: DeltaCounter, Units: "octets"}); err != nil || len(rows) != 1 || rows[0] != want {
		t.Errorf("ParseElements = %+v, %v, want [%+v]", rows, err, want)
	}
	_, err = ParseElements(VendorFile{Path: "x.tsv", PEN: 7, V9Base: 60000, Text: hdr + "6000\tx\tstring\t\t\n"})
	if err == nil || !strings.Contains(err.Error(), "no v9 type") {
		t.Errorf("an id beyond the v9 range: %v", err)
	}
}
