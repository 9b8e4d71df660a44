// Command importxml did the first import of the field-type tables in
// package fields from the element files kept in fields/data.
//
// It reads
//
//	fields/data/iana.xml, iana-extra.xml          -> fields/iana.go   (var IANA)
//	fields/data/cisco.xml, netscaler.xml, vmware.xml -> fields/vendor.go (Cisco, NetScaler, VMware)
//	fields/data/v9_field_types.tsv, v9-extra.tsv,
//	netflow.xml, netflowExtra.xml (+ iana.xml)    -> fields/v9.go     (var V9)
//
// and writes one composite literal per row, sorted by (PEN, ID) and gofmt'd.
// The output is deterministic.
//
// The Go tables are maintained by hand after the import: running this
// command again overwrites hand edits, so only do it to start over from
// fresh XML (and then re-apply the edits, see fields/data/SOURCE.md).
//
// Usage, from the module root:
//
//	go run ./fields/internal/importxml [-data fields/data] [-out fields]
package main

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// xmlFile is the libfds element-file format.
type xmlFile struct {
	Scope struct {
		PEN  uint64 `xml:"pen"`
		Name string `xml:"name"`
	} `xml:"scope"`
	Elements []xmlElement `xml:"element"`
}

type xmlElement struct {
	ID        string `xml:"id"`
	Name      string `xml:"name"`
	DataType  string `xml:"dataType"`
	Semantics string `xml:"dataSemantics"`
	Units     string `xml:"units"`
	Status    string `xml:"status"`
	Reference string `xml:"reference"` // nfkit extension, used by iana-extra.xml
}

// row is one output row: an Element plus comments.
type row struct {
	PEN       uint32
	ID        uint16
	Name      string
	Type      string // Go identifier of the DataType constant
	Semantics string // Go identifier of the Semantics constant
	Units     string
	Notes     []string
}

// dataTypes maps registry names (lower-cased) to the DataType constants.
var dataTypes = map[string]string{
	"octetarray":           "OctetArray",
	"unsigned8":            "Unsigned8",
	"unsigned16":           "Unsigned16",
	"unsigned32":           "Unsigned32",
	"unsigned64":           "Unsigned64",
	"signed8":              "Signed8",
	"signed16":             "Signed16",
	"signed32":             "Signed32",
	"signed64":             "Signed64",
	"float32":              "Float32",
	"float64":              "Float64",
	"boolean":              "Boolean",
	"macaddress":           "MACAddress",
	"string":               "String",
	"datetimeseconds":      "DateTimeSeconds",
	"datetimemilliseconds": "DateTimeMilliseconds",
	"datetimemicroseconds": "DateTimeMicroseconds",
	"datetimenanoseconds":  "DateTimeNanoseconds",
	"ipv4address":          "IPv4Address",
	"ipv6address":          "IPv6Address",
	"basiclist":            "BasicList",
	"subtemplatelist":      "SubTemplateList",
	"subtemplatemultilist": "SubTemplateMultiList",
}

// semantics maps registry names (lower-cased) to the Semantics constants.
var semantics = map[string]string{
	"":             "Default",
	"default":      "Default",
	"quantity":     "Quantity",
	"totalcounter": "TotalCounter",
	"deltacounter": "DeltaCounter",
	"identifier":   "Identifier",
	"flags":        "Flags",
	"list":         "List",
	"snmpcounter":  "SNMPCounter",
	"snmpgauge":    "SNMPGauge",
}

func main() {
	dataDir := flag.String("data", "fields/data", "directory with the element files")
	outDir := flag.String("out", "fields", "directory of package fields")
	flag.Parse()
	if err := run(*dataDir, *outDir); err != nil {
		fmt.Fprintln(os.Stderr, "importxml:", err)
		os.Exit(1)
	}
}

func run(dataDir, outDir string) error {
	iana, err := loadRows(dataDir, "iana.xml", 0)
	if err != nil {
		return err
	}
	ianaExtra, err := loadRows(dataDir, "iana-extra.xml", 0)
	if err != nil {
		return err
	}
	ianaAll, err := merge(iana, ianaExtra)
	if err != nil {
		return err
	}

	var out bytes.Buffer
	header(&out, "iana.xml and iana-extra.xml")
	table(&out, "IANA", `IANA holds the IANA "IPFIX Information Elements" registry
(https://www.iana.org/assignments/ipfix), ids 1-491 from libfds' iana.xml
(deprecated elements included: exporters still send some) and the later
assignments 492 and up from iana-extra.xml (see fields/data/SOURCE.md for
how those were checked). The RFC 5103 reverse elements (PEN 29305) are not
listed: they are derived from these rows.`, ianaAll)
	if err := write(filepath.Join(outDir, "iana.go"), out.Bytes()); err != nil {
		return err
	}

	out.Reset()
	header(&out, "cisco.xml, netscaler.xml and vmware.xml")
	for _, v := range []struct {
		file, name, doc string
		pen             uint32
	}{
		{"cisco.xml", "Cisco", `Cisco holds Cisco's enterprise-specific elements (PEN 9): the AVC
Application Response Time metrics of Cisco's AVC Metric Definition Guide
(https://www.cisco.com/c/en/us/td/docs/routers/access/ISRG2/AVC/api/guide/AVC_Metric_Definition_Guide.pdf)
and others, as libfds lists them.`, 9},
		{"netscaler.xml", "NetScaler", `NetScaler holds Citrix NetScaler's enterprise-specific elements (PEN 5951),
as libfds took them from Splunk's IPFIX add-on
(https://github.com/splunk/ipfix, information-elements/5951.xml).`, 5951},
		{"vmware.xml", "VMware", `VMware holds VMware's enterprise-specific elements (PEN 6876) of the IPFIX
export of the vSphere Distributed Switch / NSX ("Flows Monitored by the
IPFIX for vSphere Distributed Switch"), as libfds lists them.`, 6876},
	} {
		rows, err := loadRows(dataDir, v.file, v.pen)
		if err != nil {
			return err
		}
		rows, err = merge(rows)
		if err != nil {
			return err
		}
		table(&out, v.name, v.doc, rows)
	}
	if err := write(filepath.Join(outDir, "vendor.go"), out.Bytes()); err != nil {
		return err
	}

	v9, err := buildV9(dataDir, iana)
	if err != nil {
		return err
	}
	out.Reset()
	header(&out, "v9_field_types.tsv, v9-extra.tsv, netflow.xml and netflowExtra.xml")
	v9Table(&out, v9)
	return write(filepath.Join(outDir, "v9.go"), out.Bytes())
}

func penConst(pen uint32) string {
	switch pen {
	case 0:
		return "PENIANA"
	case 9:
		return "PENCisco"
	case 5951:
		return "PENNetScaler"
	case 6876:
		return "PENVMware"
	}
	return strconv.FormatUint(uint64(pen), 10)
}

func loadXML(path string) (*xmlFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f xmlFile
	if err := xml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}

// loadRows reads an element file; ids are taken as they are and the PEN is
// set to pen (the files' own pseudo-PENs for NetFlow are not used).
func loadRows(dir, file string, pen uint32) ([]row, error) {
	f, err := loadXML(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	var rows []row
	for _, e := range f.Elements {
		r, ok, err := convert(e, pen)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if ok {
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// convert turns an XML element into a row; ok is false for unnamed ones.
func convert(e xmlElement, pen uint32) (r row, ok bool, err error) {
	name := strings.TrimSpace(e.Name)
	if name == "" {
		return r, false, nil
	}
	id, err := strconv.ParseUint(strings.TrimSpace(e.ID), 10, 16)
	if err != nil {
		return r, false, fmt.Errorf("element %q: id: %w", name, err)
	}
	r = row{PEN: pen, ID: uint16(id), Name: name, Units: strings.TrimSpace(e.Units)}
	dt := strings.ToLower(strings.TrimSpace(e.DataType))
	switch {
	case dataTypes[dt] != "":
		r.Type = dataTypes[dt]
	case dt == "unsigned256":
		r.Type = "OctetArray"
		r.Notes = append(r.Notes, "IANA type unsigned256 (RFC 9740), no DataType for it yet")
	default:
		return r, false, fmt.Errorf("element %q: unknown data type %q", name, e.DataType)
	}
	sem, known := semantics[strings.ToLower(strings.TrimSpace(e.Semantics))]
	if !known {
		return r, false, fmt.Errorf("element %q: unknown semantics %q", name, e.Semantics)
	}
	r.Semantics = sem
	if s := strings.TrimSpace(e.Status); s != "" && s != "current" {
		r.Notes = append(r.Notes, s)
	}
	if ref := strings.TrimSpace(e.Reference); ref != "" {
		r.Notes = append(r.Notes, ref)
	}
	return r, true, nil
}

// merge concatenates row sets, sorts by (PEN, ID) and rejects duplicate ids
// or names.
func merge(sets ...[]row) ([]row, error) {
	var all []row
	for _, s := range sets {
		all = append(all, s...)
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].PEN != all[j].PEN {
			return all[i].PEN < all[j].PEN
		}
		return all[i].ID < all[j].ID
	})
	names := map[string]bool{}
	for i, r := range all {
		if i > 0 && all[i-1].PEN == r.PEN && all[i-1].ID == r.ID {
			return nil, fmt.Errorf("duplicate id %d/%d (%s, %s)", r.PEN, r.ID, all[i-1].Name, r.Name)
		}
		if names[r.Name] {
			return nil, fmt.Errorf("duplicate name %q", r.Name)
		}
		names[r.Name] = true
	}
	return all, nil
}

// v9Row is one row of the V9 table.
type v9Row struct {
	ID    uint16
	Name  string
	Elem  *row
	Notes []string
}

// buildV9 assembles the NetFlow v9 names.
//
//   - v9_field_types.tsv (python-netflow) gives the names of the RFC 3954 /
//     Cisco v9 types, corrected by v9-extra.tsv.
//   - netflow.xml (v9 ids 128-32767) repeats the IANA rows with the same id
//     for 128-491; ids that IANA lacks or defines differently get a full
//     Element.
//   - netflowExtra.xml stores v9 ids 32768-65535 as id-32768; all of them
//     get a full Element with the real v9 id.
//   - v9-extra.tsv adds vendor v9 ids with full Elements.
//
// v9 types without a known v9 name but with an Element are named by
// upper-casing the element name (a note on the row says so).
func buildV9(dir string, iana []row) ([]v9Row, error) {
	ianaByID := map[uint16]row{}
	for _, r := range iana {
		ianaByID[r.ID] = r
	}
	byID := map[uint16]*v9Row{}

	py, err := readTSV(filepath.Join(dir, "v9_field_types.tsv"))
	if err != nil {
		return nil, err
	}
	for _, f := range py {
		id, err := parseID(f[0])
		if err != nil {
			return nil, fmt.Errorf("v9_field_types.tsv: %w", err)
		}
		if id == 0 { // python-netflow's fallback name for unknown types
			continue
		}
		byID[id] = &v9Row{ID: id, Name: f[1]}
	}

	extra, err := readTSV(filepath.Join(dir, "v9-extra.tsv"))
	if err != nil {
		return nil, err
	}
	for _, f := range extra {
		for len(f) < 7 {
			f = append(f, "")
		}
		id, err := parseID(f[0])
		if err != nil {
			return nil, fmt.Errorf("v9-extra.tsv: %w", err)
		}
		name, elemName, note := f[1], f[2], f[6]
		if name == "-" {
			delete(byID, id)
			continue
		}
		r := byID[id]
		if r == nil {
			r = &v9Row{ID: id}
			byID[id] = r
		}
		r.Name = name
		if note != "" {
			r.Notes = append(r.Notes, note)
		}
		if elemName != "" {
			e, ok, err := convert(xmlElement{ID: f[0], Name: elemName, DataType: f[3], Semantics: f[4], Units: f[5]}, 0)
			if err != nil || !ok {
				return nil, fmt.Errorf("v9-extra.tsv: id %d: %v", id, err)
			}
			r.Elem = &e
		}
	}

	// Elements from libfds' NetFlow files.
	add := func(file string, offset int, alwaysElem bool) error {
		rows, err := loadRows(dir, file, 0)
		if err != nil {
			return err
		}
		for _, e := range rows {
			id := int(e.ID) + offset
			if id > 0xffff {
				return fmt.Errorf("%s: id %d out of range", file, id)
			}
			e.ID = uint16(id)
			if !alwaysElem {
				if ie, ok := ianaByID[e.ID]; ok && ie.Name == e.Name && ie.Type == e.Type {
					continue // same as the IANA row: v9 type N means IANA element N
				}
			}
			r := byID[e.ID]
			if r == nil {
				r = &v9Row{ID: e.ID, Name: upperSnake(e.Name)}
				r.Notes = append(r.Notes, "v9 name derived from the libfds name")
				byID[e.ID] = r
			}
			if r.Elem != nil {
				continue // v9-extra.tsv wins
			}
			e.Notes = nil
			r.Elem = &e
		}
		return nil
	}
	if err := add("netflow.xml", 0, false); err != nil {
		return nil, err
	}
	if err := add("netflowExtra.xml", 32768, true); err != nil {
		return nil, err
	}

	var out []v9Row
	names := map[string]bool{}
	for _, r := range byID {
		if r.Elem == nil {
			if _, ok := ianaByID[r.ID]; !ok {
				return nil, fmt.Errorf("v9 type %d (%s) has neither an IANA row nor an Element", r.ID, r.Name)
			}
		}
		if names[r.Name] {
			return nil, fmt.Errorf("duplicate v9 name %q", r.Name)
		}
		names[r.Name] = true
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func parseID(s string) (uint16, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	return uint16(n), err
}

// readTSV returns the data lines of a tab-separated file: comment lines
// (#) and the header line (first field "id") are skipped.
func readTSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Split(line, "\t")
		if fs[0] == "id" {
			continue
		}
		if len(fs) < 2 {
			return nil, fmt.Errorf("%s: short line %q", path, line)
		}
		out = append(out, fs)
	}
	return out, sc.Err()
}

// upperSnake turns a camelCase element name into a v9-style name:
// tcpWindowSizeMin -> TCP_WINDOW_SIZE_MIN, clientIPv4Address ->
// CLIENT_IPV4_ADDRESS, policyQosQueueID -> POLICY_QOS_QUEUE_ID.
func upperSnake(s string) string {
	s = strings.NewReplacer("IPv4", "Ipv4", "IPv6", "Ipv6").Replace(s)
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

func header(b *bytes.Buffer, from string) {
	fmt.Fprintf(b, `// The rows in this file were first imported by fields/internal/importxml
// from fields/data (%s).
// They are maintained by hand from now on: edit the rows here (keep them
// sorted by PEN, then ID) and note the source of any change beside the row.

package fields

`, from)
}

func elemLit(r row) string {
	s := fmt.Sprintf("PEN: %s, ID: %d, Name: %q, Type: %s, Semantics: %s", penConst(r.PEN), r.ID, r.Name, r.Type, r.Semantics)
	if r.Units != "" {
		s += fmt.Sprintf(", Units: %q", r.Units)
	}
	return s
}

func comment(notes []string) string {
	if len(notes) == 0 {
		return ""
	}
	return " // " + strings.Join(notes, "; ")
}

func docComment(b *bytes.Buffer, doc string) {
	for _, l := range strings.Split(doc, "\n") {
		fmt.Fprintf(b, "// %s\n", l)
	}
}

func table(b *bytes.Buffer, name, doc string, rows []row) {
	docComment(b, doc)
	fmt.Fprintf(b, "var %s = []Element{\n", name)
	for _, r := range rows {
		fmt.Fprintf(b, "\t{%s},%s\n", elemLit(r), comment(r.Notes))
	}
	b.WriteString("}\n\n")
}

func v9Table(b *bytes.Buffer, rows []v9Row) {
	docComment(b, `V9 names the NetFlow v9 field types: RFC 3954 section 8 and Cisco's
"NetFlow Version 9 Flow-Record Format" for 1-127 (names as python-netflow
0.12.2 lists them, corrected where noted), Cisco ASA NSEL (NF_F_*), the
v9 ids libfds knows beyond IANA (netflow.xml, netflowExtra.xml) and a few
vendor ids (see fields/data/v9-extra.tsv for sources).

A row without Element means v9 type ID is IANA element ID. Rows with an
Element describe v9 types that IANA lacks or defines differently.`)
	b.WriteString("var V9 = []V9Name{\n")
	for _, r := range rows {
		if r.Elem == nil {
			fmt.Fprintf(b, "\t{ID: %d, Name: %q},%s\n", r.ID, r.Name, comment(r.Notes))
			continue
		}
		fmt.Fprintf(b, "\t{ID: %d, Name: %q, Element: &Element{%s}},%s\n", r.ID, r.Name, elemLit(*r.Elem), comment(append(r.Notes, r.Elem.Notes...)))
	}
	b.WriteString("}\n")
}

func write(path string, src []byte) error {
	out, err := format.Source(src)
	if err != nil {
		return fmt.Errorf("%s: gofmt: %w", path, err)
	}
	return os.WriteFile(path, out, 0o644)
}
