package fields

import (
	"strings"
	"testing"
)

var elementTables = []struct {
	name string
	pen  uint32
	rows []Element
}{
	{"IANA", PENIANA, IANA},
	{"Cisco", PENCisco, Cisco},
	{"NetScaler", PENNetScaler, NetScaler},
	{"VMware", PENVMware, VMware},
}

// checkElement reports rows with an empty name or an out-of-range type or
// semantics.
func checkElement(t *testing.T, table string, e Element) {
	t.Helper()
	if strings.TrimSpace(e.Name) == "" || e.Name != strings.TrimSpace(e.Name) {
		t.Errorf("%s: %d/%d: bad name %q", table, e.PEN, e.ID, e.Name)
	}
	if int(e.Type) >= len(DataTypeNames) {
		t.Errorf("%s: %s: data type %d out of range", table, e.Name, e.Type)
	}
	if int(e.Semantics) >= len(SemanticsNames) {
		t.Errorf("%s: %s: semantics %d out of range", table, e.Name, e.Semantics)
	}
}

func TestElementTables(t *testing.T) {
	for _, tab := range elementTables {
		if len(tab.rows) == 0 {
			t.Errorf("%s: empty", tab.name)
		}
		names := map[string]uint16{}
		for i, e := range tab.rows {
			checkElement(t, tab.name, e)
			if e.PEN != tab.pen {
				t.Errorf("%s: %s: PEN %d, want %d", tab.name, e.Name, e.PEN, tab.pen)
			}
			if i > 0 {
				p := tab.rows[i-1]
				if p.PEN > e.PEN || (p.PEN == e.PEN && p.ID >= e.ID) {
					t.Errorf("%s: rows not sorted by (PEN, ID) or duplicate: %d/%d %s before %d/%d %s",
						tab.name, p.PEN, p.ID, p.Name, e.PEN, e.ID, e.Name)
				}
			}
			if id, dup := names[e.Name]; dup {
				t.Errorf("%s: name %q used by ids %d and %d", tab.name, e.Name, id, e.ID)
			}
			names[e.Name] = e.ID
			if e.ID == 0 || e.ID > 0x7fff {
				t.Errorf("%s: %s: id %d outside 1-32767", tab.name, e.Name, e.ID)
			}
		}
	}
}

func find(rows []Element, id uint16) (Element, bool) {
	for _, e := range rows {
		if e.ID == id {
			return e, true
		}
	}
	return Element{}, false
}

func TestIANAContents(t *testing.T) {
	if len(IANA) < 460 {
		t.Errorf("IANA has %d rows, want at least 460", len(IANA))
	}
	want := []Element{
		{PEN: PENIANA, ID: 1, Name: "octetDeltaCount", Type: Unsigned64, Semantics: DeltaCounter, Units: "octets"},
		{PEN: PENIANA, ID: 2, Name: "packetDeltaCount", Type: Unsigned64, Semantics: DeltaCounter, Units: "packets"},
		{PEN: PENIANA, ID: 4, Name: "protocolIdentifier", Type: Unsigned8, Semantics: Identifier},
		{PEN: PENIANA, ID: 8, Name: "sourceIPv4Address", Type: IPv4Address, Semantics: Default},
		{PEN: PENIANA, ID: 27, Name: "sourceIPv6Address", Type: IPv6Address, Semantics: Default},
		{PEN: PENIANA, ID: 152, Name: "flowStartMilliseconds", Type: DateTimeMilliseconds, Semantics: Default, Units: "milliseconds"},
	}
	for _, w := range want {
		got, ok := find(IANA, w.ID)
		if !ok {
			t.Errorf("IANA lacks %d %s", w.ID, w.Name)
			continue
		}
		if got != w {
			t.Errorf("IANA %d = %+v, want %+v", w.ID, got, w)
		}
	}
	// Only name and type are pinned for these.
	for _, w := range []Element{
		{ID: 6, Name: "tcpControlBits", Type: Unsigned16},
		{ID: 34, Name: "samplingInterval", Type: Unsigned32}, // deprecated, kept
		{ID: 305, Name: "samplingPacketInterval", Type: Unsigned32},
		{ID: 346, Name: "privateEnterpriseNumber", Type: Unsigned32},
		{ID: 491, Name: "bgpDestinationLargeCommunityList", Type: BasicList},
		{ID: 492, Name: "srhFlagsIPv6", Type: Unsigned8},
	} {
		got, ok := find(IANA, w.ID)
		if !ok || got.Name != w.Name || got.Type != w.Type {
			t.Errorf("IANA %d = %+v (found %v), want name %s type %s", w.ID, got, ok, w.Name, DataTypeNames[w.Type])
		}
	}
}

func TestV9(t *testing.T) {
	names := map[string]uint16{}
	elemNames := map[string]uint16{}
	for i, v := range V9 {
		if v.Name == "" || v.Name != strings.TrimSpace(v.Name) {
			t.Errorf("V9 %d: bad name %q", v.ID, v.Name)
		}
		if id, dup := names[v.Name]; dup {
			t.Errorf("V9: name %q used by ids %d and %d", v.Name, id, v.ID)
		}
		names[v.Name] = v.ID
		if v.ID == 0 {
			t.Errorf("V9: %s has id 0", v.Name)
		}
		if i > 0 && V9[i-1].ID >= v.ID {
			t.Errorf("V9: not sorted by ID or duplicate: %d before %d", V9[i-1].ID, v.ID)
		}
		if v.Element == nil {
			// A v9 type without its own element is the IANA element with
			// the same id.
			if _, ok := find(IANA, v.ID); !ok {
				t.Errorf("V9 %d %s: no Element and no IANA row %d", v.ID, v.Name, v.ID)
			}
			continue
		}
		e := *v.Element
		checkElement(t, "V9", e)
		if e.PEN != 0 || e.ID != v.ID {
			t.Errorf("V9 %d %s: Element has PEN %d ID %d, want 0/%d", v.ID, v.Name, e.PEN, e.ID, v.ID)
		}
		if id, dup := elemNames[e.Name]; dup {
			t.Errorf("V9: element name %q used by ids %d and %d", e.Name, id, v.ID)
		}
		elemNames[e.Name] = v.ID
	}

	byID := map[uint16]V9Name{}
	for _, v := range V9 {
		byID[v.ID] = v
	}
	for id, name := range map[uint16]string{
		1: "IN_BYTES", 2: "IN_PKTS", 3: "FLOWS", 4: "PROTOCOL", 5: "SRC_TOS",
		6: "TCP_FLAGS", 7: "L4_SRC_PORT", 8: "IPV4_SRC_ADDR", 9: "SRC_MASK",
		10: "INPUT_SNMP", 11: "L4_DST_PORT", 12: "IPV4_DST_ADDR", 13: "DST_MASK",
		14: "OUTPUT_SNMP", 15: "IPV4_NEXT_HOP", 16: "SRC_AS", 17: "DST_AS",
		21: "LAST_SWITCHED", 22: "FIRST_SWITCHED", 23: "OUT_BYTES", 24: "OUT_PKTS",
		27: "IPV6_SRC_ADDR", 28: "IPV6_DST_ADDR", 32: "ICMP_TYPE",
		34: "SAMPLING_INTERVAL", 35: "SAMPLING_ALGORITHM",
		48: "FLOW_SAMPLER_ID", 50: "FLOW_SAMPLER_RANDOM_INTERVAL",
		56: "IN_SRC_MAC", 57: "OUT_DST_MAC", 58: "SRC_VLAN", 61: "DIRECTION",
		70: "MPLS_LABEL_1", 89: "FORWARDING_STATUS",
		148: "NF_F_CONN_ID", 225: "NF_F_XLATE_SRC_ADDR_IPV4", 233: "NF_F_FW_EVENT",
		323: "NF_F_EVENT_TIME_MSEC", 33000: "NF_F_INGRESS_ACL_ID",
		33002: "NF_F_FW_EXT_EVENT", 40000: "NF_F_USERNAME",
		56701: "PANOS_APPID", 56702: "PANOS_USERID",
	} {
		v, ok := byID[id]
		if !ok || v.Name != name {
			t.Errorf("V9 %d = %q (found %v), want %q", id, v.Name, ok, name)
		}
	}
	// v9 types that share the IANA row, and ones that must not.
	for _, id := range []uint16{1, 8, 27, 148, 152, 225, 233, 323} {
		if v := byID[id]; v.Element != nil {
			t.Errorf("V9 %d %s: unexpected Element %+v; it is IANA element %d", id, v.Name, *v.Element, id)
		}
	}
	for id, typ := range map[uint16]DataType{
		33000: OctetArray,  // 3 x 4-byte ACL ids
		33001: OctetArray,  //
		33002: Unsigned16,  // NF_F_FW_EXT_EVENT
		40000: String,      // NF_F_USERNAME
		40001: IPv4Address, // NF_F_XLATE_SRC_ADDR_84
		56701: String,      // PANOS_APPID
	} {
		v := byID[id]
		if v.Element == nil || v.Element.Type != typ {
			t.Errorf("V9 %d %s: Element %+v, want type %s", id, v.Name, v.Element, DataTypeNames[typ])
		}
	}
}

func TestNames(t *testing.T) {
	for i, n := range DataTypeNames {
		if n == "" {
			t.Errorf("DataTypeNames[%d] is empty", i)
		}
	}
	for i, n := range SemanticsNames {
		if n == "" {
			t.Errorf("SemanticsNames[%d] is empty", i)
		}
	}
}
