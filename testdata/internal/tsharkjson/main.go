// Command tsharkjson runs tshark's CFLOW (NetFlow/IPFIX) dissector on a
// capture of flow exports and reduces its JSON output to the expectations
// file testdata/<name>.tshark.json used by the decoder tests.
//
// Usage:
//
//	cd testdata/internal && go run ./tsharkjson -port 20101 -o ../x.tshark.json ../x.pcap
//
// tshark is run as
//
//	TZ=UTC tshark -n -r X.pcap -d udp.port==PORT,cflow -T json -J "frame ip ipv6 cflow"
//
// (with -tcp, IPFIX over TCP: -d tcp.port==PORT,cflow; tshark reassembles
// the streams and shows each message in the frame that completes it,
// several in one frame as an array; frames without one are left out)
//
// without --no-duplicate-keys: the JSON is parsed here token by token, so
// that repeated keys (a field shown twice in one record, e.g. RFC 5103
// reverse elements, which tshark names like the forward element) are kept
// in the order tshark printed them. See testdata/README.md for the format.
//
// tshark dissects at most Count flowsets of a NetFlow v9 packet (it takes
// the header's Count for a number of flowsets), while softflowd's Count is
// its number of data records: a packet with templates, options and a couple
// of data records is cut short. For such packets (more flowsets than Count)
// tshark is run on a copy of the capture whose Count is the number of
// flowsets; the expectations then give the original Count in the header and
// the patched one in "dissected_with_count". See v9CountPatch.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ---- ordered JSON values -------------------------------------------------

// obj is a JSON object that keeps key order and repeated keys.
type obj struct {
	keys []string
	vals []any // string | *obj | []any | json.Number | bool | nil
}

func (o *obj) add(k string, v any) { o.keys = append(o.keys, k); o.vals = append(o.vals, v) }

// get returns the first value stored under k.
func (o *obj) get(k string) (any, bool) {
	for i, kk := range o.keys {
		if kk == k {
			return o.vals[i], true
		}
	}
	return nil, false
}

func (o *obj) str(k string) string {
	v, _ := o.get(k)
	s, _ := v.(string)
	return s
}

func parseValue(d *json.Decoder) (any, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &obj{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				o.add(kt.(string), v)
			}
			_, err := d.Token() // '}'
			return o, err
		case '[':
			var a []any
			for d.More() {
				v, err := parseValue(d)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := d.Token() // ']'
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil
	}
}

// ---- ordered output ------------------------------------------------------

// out is an ordered object for the output file; values are string, int,
// bool, []string, *out or []*out (or []any of those).
type out struct {
	keys []string
	vals []any
}

func (o *out) set(k string, v any) *out {
	for i, kk := range o.keys {
		if kk == k {
			o.vals[i] = v
			return o
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
	return o
}

func (o *out) get(k string) any {
	for i, kk := range o.keys {
		if kk == k {
			return o.vals[i]
		}
	}
	return nil
}

// addMulti stores v under k; a repeated key turns the value into an array.
func (o *out) addMulti(k, v string) {
	for i, kk := range o.keys {
		if kk == k {
			switch old := o.vals[i].(type) {
			case string:
				o.vals[i] = []string{old, v}
			case []string:
				o.vals[i] = append(old, v)
			}
			return
		}
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func quote(s string) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func write(w *bytes.Buffer, v any, ind string) {
	const step = "  "
	switch v := v.(type) {
	case *out:
		if len(v.keys) == 0 {
			w.WriteString("{}")
			return
		}
		w.WriteString("{\n")
		for i, k := range v.keys {
			w.WriteString(ind + step + quote(k) + ": ")
			write(w, v.vals[i], ind+step)
			if i < len(v.keys)-1 {
				w.WriteByte(',')
			}
			w.WriteByte('\n')
		}
		w.WriteString(ind + "}")
	case []*out:
		a := make([]any, len(v))
		for i := range v {
			a[i] = v[i]
		}
		write(w, a, ind)
	case []string:
		// Short scalar arrays stay on one line.
		w.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				w.WriteString(", ")
			}
			w.WriteString(quote(s))
		}
		w.WriteByte(']')
	case []any:
		if len(v) == 0 {
			w.WriteString("[]")
			return
		}
		w.WriteString("[\n")
		for i, e := range v {
			w.WriteString(ind + step)
			write(w, e, ind+step)
			if i < len(v)-1 {
				w.WriteByte(',')
			}
			w.WriteByte('\n')
		}
		w.WriteString(ind + "]")
	case string:
		w.WriteString(quote(v))
	case int:
		w.WriteString(strconv.Itoa(v))
	case bool:
		w.WriteString(strconv.FormatBool(v))
	default:
		panic(fmt.Sprintf("write: %T", v))
	}
}

// ---- reduction -----------------------------------------------------------

// flatten copies every field below o into r: "*_tree" subtrees and text
// labels are descended into, repeated names become arrays.
func flatten(o *obj, r *out) {
	for i, k := range o.keys {
		flattenValue(k, o.vals[i], r)
	}
}

func flattenValue(k string, v any, r *out) {
	switch v := v.(type) {
	case *obj:
		if strings.HasSuffix(k, "_section_tree") {
			// tshark's dissection of the packet bytes in a PSAMP
			// section field (dataLinkFrameSection 315, ...): eth,
			// ip, tcp layers, not fields of the record; kept apart as
			// "section", as a sampled sFlow header's.
			if r.get("section") == nil {
				h := &out{}
				keepHeader(v, h)
				r.set("section", h)
			}
			return
		}
		flatten(v, r)
	case []any:
		for _, e := range v {
			flattenValue(k, e, r)
		}
	case string:
		r.addMulti(k, v)
	case json.Number:
		r.addMulti(k, v.String())
	case bool:
		r.addMulti(k, strconv.FormatBool(v))
	case nil:
		r.addMulti(k, "")
	}
}

var (
	reFlowSet  = regexp.MustCompile(`^(Flow)?Set \d+ \[id=(\d+)\]`)
	rePDU      = regexp.MustCompile(`^pdu \d+/\d+$`)
	reTemplate = regexp.MustCompile(`^(Options )?Template \(Id = (\d+)`)
	reField    = regexp.MustCompile(`^Field \(\d+/\d+\)( \[Scope\])?: (.*)$`)
	reFlow     = regexp.MustCompile(`^Flow \d+$`)
)

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(fmt.Sprintf("not a number: %q", s))
	}
	return n
}

type tmplKey struct{ frame, id int }

type reducer struct {
	kinds map[tmplKey]string // template kind by defining frame and id
	stats struct{ packets, templates, optTemplates, records, optRecords, undecoded int }
}

// template reduces one "Template (Id = N, ...)" or "Options Template" node.
func (rd *reducer) template(label string, t *obj) *out {
	m := reTemplate.FindStringSubmatch(label)
	res := &out{}
	res.set("template_id", atoi(t.str("cflow.template_id")))
	var scope, fields []*out
	extra := &out{}
	for i, k := range t.keys {
		switch k {
		case "cflow.template_id", "cflow.template_field_count", "cflow.option_scope_length", "cflow.option_length",
			"cflow.template_ipfix_total_field_count", "cflow.template_ipfix_scope_field_count":
			continue
		}
		fm := reField.FindStringSubmatch(k)
		fo, isObj := t.vals[i].(*obj)
		if fm == nil || !isObj {
			flattenValue(k, t.vals[i], extra)
			continue
		}
		f := &out{}
		f.set("name", fm[2])
		for j, fk := range fo.keys {
			s, _ := fo.vals[j].(string)
			switch fk {
			case "cflow.template_field_type", "cflow.template_ipfix_field_type", "cflow.scope_field_type",
				"cflow.template_ipfix_field_type_enterprise": // an enterprise tshark has no names for
				f.set("type", atoi(s))
			case "cflow.template_field_length":
				f.set("length", atoi(s))
			case "cflow.template_ipfix_field_pen":
				f.set("pen", atoi(s))
			case "cflow.template_ipfix_pen_provided":
				// implied by "pen"
			default:
				flattenValue(fk, fo.vals[j], f)
			}
		}
		// canonical key order: name, type, pen, length, rest
		g := &out{}
		for _, k := range []string{"name", "type", "pen", "length"} {
			for j, kk := range f.keys {
				if kk == k {
					g.set(k, f.vals[j])
				}
			}
		}
		for j, kk := range f.keys {
			switch kk {
			case "name", "type", "pen", "length":
			default:
				g.set(kk, f.vals[j])
			}
		}
		if fm[1] != "" {
			scope = append(scope, g)
		} else {
			fields = append(fields, g)
		}
	}
	if m[1] != "" {
		if scope == nil {
			scope = []*out{}
		}
		res.set("scope_fields", scope)
		rd.stats.optTemplates++
	} else {
		rd.stats.templates++
	}
	if fields == nil {
		fields = []*out{}
	}
	res.set("fields", fields)
	if len(extra.keys) > 0 {
		res.set("extra", extra)
	}
	return res
}

func (rd *reducer) flowset(frame, version int, label string, fs *obj) *out {
	m := reFlowSet.FindStringSubmatch(label)
	id := atoi(m[2])
	res := &out{}
	res.set("id", id)
	var templates []*out
	var records []*out
	extra := &out{}
	tmplFrame := 0
	for i, k := range fs.keys {
		v := fs.vals[i]
		switch {
		case k == "cflow.flowset_id":
		case k == "cflow.flowset_length":
			res.set("length", atoi(v.(string)))
		case k == "cflow.template_frame":
			tmplFrame = atoi(v.(string))
		case reTemplate.MatchString(k):
			t := rd.template(k, v.(*obj))
			kind := "template"
			if strings.HasPrefix(k, "Options ") {
				kind = "options_template"
			}
			tid, _ := t.vals[0].(int)
			key := tmplKey{frame, tid}
			if _, seen := rd.kinds[key]; !seen {
				rd.kinds[key] = kind
			}
			templates = append(templates, t)
		case reFlow.MatchString(k):
			r := &out{}
			flatten(v.(*obj), r)
			records = append(records, r)
		default:
			flattenValue(k, v, extra)
		}
	}
	switch {
	case id == 0 && version == 9, id == 2 && version == 10:
		res.set("kind", "template")
	case id == 1 && version == 9, id == 3 && version == 10:
		res.set("kind", "options_template")
	case id >= 256:
		res.set("template_id", id)
		kind, ok := rd.kinds[tmplKey{tmplFrame, id}]
		switch {
		case tmplFrame == 0 || !ok:
			res.set("kind", "data")
			res.set("undecoded", true) // tshark had no template for it
			rd.stats.undecoded++
		case kind == "options_template":
			res.set("kind", "options_data")
			rd.stats.optRecords += len(records)
		default:
			res.set("kind", "data")
			rd.stats.records += len(records)
		}
		if tmplFrame != 0 {
			res.set("template_frame", tmplFrame)
		}
	default:
		res.set("kind", "reserved")
	}
	if templates != nil {
		res.set("templates", templates)
	}
	if records != nil || id >= 256 {
		if records == nil {
			records = []*out{}
		}
		res.set("records", records)
	}
	if len(extra.keys) > 0 {
		res.set("extra", extra)
	}
	return res
}

// packets reduces one frame. Over UDP a frame is one export packet; over
// TCP (tcp) a frame may complete no message (acknowledgements, segments
// of a message completed later) or several, which tshark shows as an
// array of cflow layers: one packet each, all with the frame's number.
func (rd *reducer) packets(layers *obj, tcp bool) ([]*out, error) {
	cv, ok := layers.get("cflow")
	if !ok && tcp {
		return nil, nil
	}
	if a, isArr := cv.([]any); isArr && tcp {
		var ps []*out
		for _, c := range a {
			l := &obj{keys: append([]string(nil), layers.keys...), vals: append([]any(nil), layers.vals...)}
			for i, k := range l.keys {
				if k == "cflow" {
					l.vals[i] = c
				}
			}
			p, err := rd.packet(l)
			if err != nil {
				return nil, err
			}
			ps = append(ps, p)
		}
		return ps, nil
	}
	p, err := rd.packet(layers)
	if err != nil {
		return nil, err
	}
	return []*out{p}, nil
}

func (rd *reducer) packet(layers *obj) (*out, error) {
	p := &out{}
	fr, _ := layers.get("frame")
	frObj, ok := fr.(*obj)
	if !ok {
		return nil, errors.New("no frame layer")
	}
	frame := atoi(frObj.str("frame.number"))
	p.set("frame", frame)
	src := ""
	if ip, ok := layers.get("ip"); ok {
		src = ip.(*obj).str("ip.src")
	} else if ip, ok := layers.get("ipv6"); ok {
		src = ip.(*obj).str("ipv6.src")
	}
	p.set("src", src)
	cv, ok := layers.get("cflow")
	if !ok {
		return nil, fmt.Errorf("frame %d: no cflow layer", frame)
	}
	c, ok := cv.(*obj)
	if !ok {
		return nil, fmt.Errorf("frame %d: cflow layer is %T (several PDUs in one frame?)", frame, cv)
	}
	version := atoi(c.str("cflow.version"))
	p.set("version", version)
	header := &out{}
	var flowsets, records []*out
	for i, k := range c.keys {
		v := c.vals[i]
		switch {
		case reFlowSet.MatchString(k):
			flowsets = append(flowsets, rd.flowset(frame, version, k, v.(*obj)))
		case rePDU.MatchString(k):
			r := &out{}
			flatten(v.(*obj), r)
			records = append(records, r)
			rd.stats.records++
		default:
			flattenValue(k, v, header)
		}
	}
	p.set("header", header)
	if version == 9 || version == 10 {
		if flowsets == nil {
			flowsets = []*out{}
		}
		p.set("flowsets", flowsets)
	} else {
		if records == nil {
			records = []*out{}
		}
		p.set("records", records)
	}
	rd.stats.packets++
	return p, nil
}

func main() {
	port := flag.Int("port", 0, "UDP port of the exports (decoded as cflow)")
	outPath := flag.String("o", "", "output file (default: <pcap without .pcap>.tshark.json)")
	tsharkBin := flag.String("tshark", "tshark", "tshark binary")
	sflow := flag.Bool("sflow", false, "the exports are sFlow v5 (tshark's sflow dissector instead of cflow)")
	tcp := flag.Bool("tcp", false, "the exports are IPFIX over TCP to the port (tcp.port==PORT,cflow; tshark reassembles the stream)")
	flag.Parse()
	if flag.NArg() != 1 || *port == 0 {
		fmt.Fprintln(os.Stderr, "usage: tsharkjson -port N [-o out.json] capture.pcap")
		os.Exit(2)
	}
	pcap := flag.Arg(0)
	if *outPath == "" {
		*outPath = strings.TrimSuffix(pcap, ".pcap") + ".tshark.json"
	}
	run := func(tsharkBin, pcap string, port int, outPath string) error {
		return runCflow(tsharkBin, pcap, port, outPath, *tcp)
	}
	if *sflow {
		run = runSFlow
	}
	if err := run(*tsharkBin, pcap, *port, *outPath); err != nil {
		fmt.Fprintln(os.Stderr, "tsharkjson:", err)
		os.Exit(1)
	}
}

// v9CountPatch finds the NetFlow v9 packets to UDP port `port` in a classic
// pcap (Ethernet, optionally 802.1Q, over IPv4 or IPv6) that hold more
// flowsets than their header's Count, and sets Count to the number of
// flowsets in a copy of the file. It returns the copy (nil when no packet
// needs it) and, by frame number, the original and the patched Count.
// Flowsets are counted by their length fields up to the end of the packet
// or the first length that is too short or runs past it.
func v9CountPatch(b []byte, port int) (patched []byte, counts map[int][2]int, err error) {
	if len(b) < 24 {
		return nil, nil, errors.New("pcap: short file header")
	}
	var bo binary.ByteOrder
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		bo = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		bo = binary.BigEndian
	default:
		return nil, nil, errors.New("pcap: not a classic pcap file")
	}
	if lt := bo.Uint32(b[20:]); lt != 1 {
		return nil, nil, fmt.Errorf("pcap: link type %d, want 1 (Ethernet)", lt)
	}
	out := append([]byte(nil), b...)
	counts = map[int][2]int{}
	frame := 0
	for off := 24; off < len(b); {
		if off+16 > len(b) {
			return nil, nil, fmt.Errorf("pcap: record %d: short header", frame+1)
		}
		n := int(bo.Uint32(b[off+8:]))
		if off+16+n > len(b) {
			return nil, nil, fmt.Errorf("pcap: record %d: short data", frame+1)
		}
		frame++
		pkt := out[off+16 : off+16+n]
		off += 16 + n
		udp := udpPayload(pkt, port)
		if len(udp) < 20 || binary.BigEndian.Uint16(udp) != 9 {
			continue
		}
		sets := 0
		for o := 20; o+4 <= len(udp); {
			l := int(binary.BigEndian.Uint16(udp[o+2:]))
			if l < 4 || o+l > len(udp) {
				break
			}
			sets++
			o += l
		}
		if count := int(binary.BigEndian.Uint16(udp[2:])); sets > count {
			binary.BigEndian.PutUint16(udp[2:], uint16(sets))
			counts[frame] = [2]int{count, sets}
		}
	}
	if len(counts) == 0 {
		return nil, nil, nil
	}
	return out, counts, nil
}

// udpPayload returns the payload of an Ethernet frame's UDP datagram to
// port, as a slice of pkt, or nil.
func udpPayload(pkt []byte, port int) []byte {
	if len(pkt) < 14 {
		return nil
	}
	et, o := binary.BigEndian.Uint16(pkt[12:]), 14
	if et == 0x8100 && len(pkt) >= 18 {
		et, o = binary.BigEndian.Uint16(pkt[16:]), 18
	}
	switch {
	case et == 0x0800 && len(pkt) >= o+20 && pkt[o+9] == 17:
		o += int(pkt[o]&0x0f) * 4
	case et == 0x86dd && len(pkt) >= o+40 && pkt[o+6] == 17:
		o += 40
	default:
		return nil
	}
	if len(pkt) < o+8 || int(binary.BigEndian.Uint16(pkt[o+2:])) != port {
		return nil
	}
	end := o + int(binary.BigEndian.Uint16(pkt[o+4:]))
	if end < o+8 || end > len(pkt) {
		return nil
	}
	return pkt[o+8 : end]
}

func runCflow(tsharkBin, pcap string, port int, outPath string, tcp bool) error {
	env := append(os.Environ(), "TZ=UTC", "LC_ALL=C")
	ver, err := exec.Command(tsharkBin, "-v").Output()
	if err != nil {
		return fmt.Errorf("tshark -v: %w", err)
	}
	verLine, _, _ := strings.Cut(string(ver), "\n")

	raw, err := os.ReadFile(pcap)
	if err != nil {
		return err
	}
	var patched []byte
	var v9counts map[int][2]int
	if !tcp {
		patched, v9counts, err = v9CountPatch(raw, port)
		if err != nil {
			return fmt.Errorf("%s: %w", pcap, err)
		}
	}
	input := pcap
	if patched != nil {
		f, err := os.CreateTemp("", "tsharkjson-*.pcap")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		if _, err := f.Write(patched); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		input = f.Name()
	}

	proto := "udp"
	if tcp {
		proto = "tcp"
	}
	cmd := exec.Command(tsharkBin, "-n", "-r", input, "-d", fmt.Sprintf("%s.port==%d,cflow", proto, port),
		"-T", "json", "-J", "frame ip ipv6 cflow")
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	d := json.NewDecoder(stdout)
	d.UseNumber()
	top, perr := parseValue(d)
	io.Copy(io.Discard, stdout)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("tshark: %w: %s", err, stderr.String())
	}
	if perr != nil {
		return fmt.Errorf("parsing tshark json: %w", perr)
	}
	arr, ok := top.([]any)
	if !ok {
		return errors.New("tshark json: not an array")
	}
	rd := &reducer{kinds: map[tmplKey]string{}}
	var packets []*out
	for _, e := range arr {
		src, _ := e.(*obj).get("_source")
		layers, _ := src.(*obj).get("layers")
		ps, err := rd.packets(layers.(*obj), tcp)
		if err != nil {
			return err
		}
		for _, p := range ps {
			frame, _ := p.get("frame").(int)
			if c, ok := v9counts[frame]; ok {
				p.get("header").(*out).set("cflow.count", strconv.Itoa(c[0]))
				p.set("dissected_with_count", c[1])
			}
			packets = append(packets, p)
		}
	}
	if packets == nil {
		packets = []*out{}
	}
	res := &out{}
	res.set("capture", filepath.Base(pcap))
	res.set("tshark", verLine)
	res.set("port", port)
	if tcp {
		res.set("transport", "tcp")
	}
	counts := &out{}
	counts.set("packets", rd.stats.packets)
	counts.set("templates", rd.stats.templates)
	counts.set("options_templates", rd.stats.optTemplates)
	counts.set("data_records", rd.stats.records)
	counts.set("options_records", rd.stats.optRecords)
	counts.set("undecoded_flowsets", rd.stats.undecoded)
	res.set("counts", counts)
	res.set("packets", packets)
	var b bytes.Buffer
	write(&b, res, "")
	b.WriteByte('\n')
	return os.WriteFile(outPath, b.Bytes(), 0o644)
}
