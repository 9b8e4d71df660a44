package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/fields"
)

// The committed python-netflow tables parse into the counts and quirks of
// python-netflow 0.12.2: 118 v9 rows, 464 IPFIX rows (ids 0-491), its type
// histogram and its quirks.
func TestPyTables(t *testing.T) {
	v9, err := parsePyV9(fields.PyNetflowV9)
	if err != nil {
		t.Fatal(err)
	}
	if len(v9) != 118 {
		t.Errorf("V9_FIELD_TYPES: %d rows, want 118", len(v9))
	}
	byID := map[uint16]pyV9Row{}
	var ips []uint16
	for _, r := range v9 {
		byID[r.id] = r
		if r.ip {
			ips = append(ips, r.id)
		}
	}
	for id, want := range map[uint16]string{0: "UNKNOWN_FIELD_TYPE", 50: "NTERVAL", 63: "BPG_IPV6_NEXT_HOP",
		98: "postipDiffServCodePoint", 152: "NF_F_FLOW_CREATE_TIME_MSEC", 56702: "PANOS_USERID"} {
		if got := byID[id].name; got != want {
			t.Errorf("v9 %d = %q, want %q", id, got, want)
		}
	}
	if want := []uint16{8, 12, 15, 18, 27, 28, 62, 63}; !reflect.DeepEqual(ips, want) {
		t.Errorf("v9 IP types %v, want %v", ips, want)
	}

	ipfix, err := parsePyIPFIX(fields.PyNetflowIPFIX)
	if err != nil {
		t.Fatal(err)
	}
	if len(ipfix) != 464 || ipfix[len(ipfix)-1].id != 491 {
		t.Errorf("iana_field_types: %d rows up to %d, want 464 up to 491", len(ipfix), ipfix[len(ipfix)-1].id)
	}
	kinds := map[string]int{}
	for _, r := range ipfix {
		kinds[pyKinds[r.dataType]]++
		switch r.id {
		case 416, 419:
			if r.name != "" || r.dataType != "" {
				t.Errorf("ipfix %d = %q %q, want empty name and type", r.id, r.name, r.dataType)
			}
		case 65, 105, 127:
			t.Errorf("ipfix %d is in the table", r.id)
		}
	}
	// The type histogram of python-netflow's table, by value rule.
	want := map[string]int{"kindUnsigned": 106 + 80 + 62 + 55 + 9 + 7 + 7 + 4 + 3 + 1 + 4, "kindSigned": 1,
		"kindFloat": 6, "kindBytesInt": 36 + 16 + 12 + 8, "kindString": 37, "kindTimeFraction": 5 + 5}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("value rules %v, want %v", kinds, want)
	}
}

// Damaged tables are refused with the line or id at fault.
func TestPyTablesBad(t *testing.T) {
	const v9Head = "# comment\nid\tname\tip_string\n"
	const ipfixHead = "id\tname\tdata_type\n"
	for _, c := range []struct {
		name, text, want string
		ipfix            bool
	}{
		{"no header", "# only a comment\n", "no header line", false},
		{"wrong header", "id\tname\tdata_type\n0\tX\t0\n", `v9_field_types.tsv:1: header`, false},
		{"columns", v9Head + "0\tUNKNOWN_FIELD_TYPE\n", "v9_field_types.tsv:3: 2 columns, want 3", false},
		{"bad id", v9Head + "0\tU\t0\nx\tY\t0\n", `row 2: bad id "x"`, false},
		{"id order", v9Head + "0\tU\t0\n5\tA\t0\n5\tB\t0\n", "row 3: id 5 after 5", false},
		{"empty v9 name", v9Head + "0\tU\t0\n1\t\t0\n", "id 1: empty name", false},
		{"ip flag", v9Head + "0\tU\t0\n1\tA\tyes\n", `ip_string "yes"`, false},
		{"no row 0", v9Head + "1\tA\t0\n", "no row 0", false},
		{"data type", ipfixHead + "1\toctetDeltaCount\tunsigned63\n", `id 1: unknown data type "unsigned63"`, true},
		{"enterprise bit", ipfixHead + "32769\tx\tstring\n", "id 32769 has the enterprise bit", true},
	} {
		var err error
		if c.ipfix {
			_, err = parsePyIPFIX(c.text)
		} else {
			_, err = parsePyV9(c.text)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
