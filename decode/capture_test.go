package decode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Captures from real exporters (softflowd, pmacct, fprobe) compared field
// by field with tshark's CFLOW dissector, an independent decoder. The
// captures and expectations are made by scripts/make-testdata.sh; see
// testdata/README.md for tshark's quirks that the comparison allows for.

type tsharkFile struct {
	Capture string         `json:"capture"`
	Counts  map[string]int `json:"counts"`
	Packets []struct {
		Frame    int              `json:"frame"`
		Src      string           `json:"src"`
		Version  int              `json:"version"`
		Header   map[string]any   `json:"header"`
		Records  []map[string]any `json:"records"` // v1/v5/v7
		Flowsets []tsharkFlowset  `json:"flowsets"`
	} `json:"packets"`
}

type tsharkFlowset struct {
	ID      int              `json:"id"`
	Kind    string           `json:"kind"`
	Records []map[string]any `json:"records"`
}

// tsharkValues returns a field's values (tshark lists a field twice as an
// array, e.g. forward and RFC 5103 reverse counters).
func tsharkValues(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = fmt.Sprint(x)
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

func parseNum(tb testing.TB, s string) uint64 {
	tb.Helper()
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		tb.Fatalf("tshark value %q: %v", s, err)
	}
	return v
}

// parseSeconds parses tshark's "60.000000000" (relative seconds) into ms.
func parseSecondsMs(tb testing.TB, s string) int64 {
	tb.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		tb.Fatalf("tshark seconds %q: %v", s, err)
	}
	return int64(math.Round(f * 1000))
}

func parseDate(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse("Jan _2, 2006 15:04:05.999999999 MST", s)
	if err != nil {
		tb.Fatalf("tshark date %q: %v", s, err)
	}
	return t
}

// ignored are tshark fields that carry nothing to compare: padding,
// reserved bytes, bit-by-bit views of tcpflags and derived analysis.
func ignored(k string) bool {
	return strings.HasPrefix(k, "cflow.tcpflags.") || k == "cflow.padding" || k == "cflow.reserved" ||
		k == "cflow.scope_system" || k == "cflow.scope_interface" || k == "cflow.flow_exporter"
}

func TestCapturesAgainstTshark(t *testing.T) {
	for _, name := range captures(t) {
		t.Run(strings.TrimSuffix(name, ".pcap"), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "testdata", strings.TrimSuffix(name, ".pcap")+".tshark.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want tsharkFile
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			pkts := readCapture(t, name)
			if len(pkts) != len(want.Packets) {
				t.Fatalf("capture has %d packets, tshark saw %d", len(pkts), len(want.Packets))
			}
			var d Decoder
			var p Packet
			nData, nOpts := 0, 0
			for i, pk := range pkts {
				wp := want.Packets[i]
				check(t, "source", pk.src.String(), wp.Src)
				if err := d.Decode(pk.src, pk.data, &p); err != nil {
					t.Fatalf("frame %d: %v", wp.Frame, err)
				}
				compareHeader(t, wp.Frame, &p, wp.Header)
				var data, opts []map[string]any
				data = append(data, wp.Records...)
				for _, fs := range wp.Flowsets {
					switch fs.Kind {
					case "data":
						data = append(data, fs.Records...)
					case "options_data":
						opts = append(opts, fs.Records...)
					}
				}
				if len(p.Records) != len(data) || len(p.Options) != len(opts) {
					t.Fatalf("frame %d: %d data + %d options records, tshark %d + %d",
						wp.Frame, len(p.Records), len(p.Options), len(data), len(opts))
				}
				for j := range data {
					compareRecord(t, fmt.Sprintf("frame %d record %d", wp.Frame, j), name, &p, &p.Records[j], data[j])
				}
				for j := range opts {
					compareRecord(t, fmt.Sprintf("frame %d options record %d", wp.Frame, j), name, &p, &p.Options[j], opts[j])
				}
				nData += len(data)
				nOpts += len(opts)
			}
			if c, ok := want.Counts["data_records"]; ok {
				check(t, "data records", nData, c)
			}
			if c, ok := want.Counts["options_records"]; ok {
				check(t, "options records", nOpts, c)
			}
			if nData == 0 {
				t.Error("no data records compared")
			}
		})
	}
}

func compareHeader(t *testing.T, frame int, p *Packet, h map[string]any) {
	t.Helper()
	num := func(k string) (uint64, bool) {
		v, ok := h[k]
		if !ok {
			return 0, false
		}
		return parseNum(t, tsharkValues(v)[0]), true
	}
	at := fmt.Sprintf("frame %d header ", frame)
	if v, ok := num("cflow.version"); ok {
		check(t, at+"version", uint64(p.Version), v)
	}
	if v, ok := num("cflow.count"); ok {
		check(t, at+"count", uint64(p.Count), v)
	}
	if v, ok := num("cflow.sequence"); ok {
		check(t, at+"sequence", uint64(p.Sequence), v)
	}
	if v, ok := num("cflow.source_id"); ok {
		check(t, at+"source id", uint64(p.Domain), v)
	}
	if v, ok := num("cflow.od_id"); ok {
		check(t, at+"domain", uint64(p.Domain), v)
	}
	if v, ok := num("cflow.len"); ok {
		check(t, at+"length", uint64(p.Length), v)
	}
	if v, ok := num("cflow.unix_secs"); ok {
		check(t, at+"export secs", uint64(p.ExportTime/1e9), v)
	}
	if v, ok := num("cflow.unix_nsecs"); ok {
		check(t, at+"export nsecs", uint64(p.ExportTime%1e9), v)
	}
	if v, ok := num("cflow.exporttime"); ok {
		check(t, at+"export time", p.ExportTime, int64(v)*1e9)
	}
	if v, ok := h["cflow.sysuptime"]; ok {
		check(t, at+"sysuptime", int64(p.SysUptime), parseSecondsMs(t, tsharkValues(v)[0]))
	}
	if v, ok := num("cflow.engine_type"); ok {
		check(t, at+"engine type", uint64(p.EngineType), v)
	}
	if v, ok := num("cflow.engine_id"); ok {
		check(t, at+"engine id", uint64(p.EngineID), v)
	}
	if v, ok := num("cflow.samplingmode"); ok {
		check(t, at+"sampling mode", uint64(p.SamplingMode), v)
	}
	if v, ok := num("cflow.samplerate"); ok {
		check(t, at+"sampling interval", uint64(p.SamplingInterval), v)
	}
}

// compareRecord checks every field tshark shows for a record against the
// decoded record.
func compareRecord(t *testing.T, at, capture string, p *Packet, r *Record, want map[string]any) {
	t.Helper()
	f := &r.Flow
	has := func(bit FieldSet, what string) bool {
		if f.Has&bit == 0 {
			t.Errorf("%s: tshark shows %s, record lacks it (Has=%#x)", at, what, f.Has)
			return false
		}
		return true
	}
	addr := func(what string, got netip.Addr, vs []string) {
		check(t, at+" "+what, got.String(), vs[0])
	}
	num := func(what string, bit FieldSet, got uint64, vs []string) {
		if has(bit, what) {
			check(t, at+" "+what, got, parseNum(t, vs[0]))
		}
	}
	// reverse returns the RFC 5103 reverse raw value of IANA id.
	reverse := func(id uint16) uint64 { return fieldUint(t, r, 29305, id) }
	for k, v := range want {
		if sec, ok := v.(map[string]any); ok && k == "section" {
			compareSection(t, at, r, sec)
			continue
		}
		vs := tsharkValues(v)
		switch k {
		case "cflow.srcaddr", "cflow.srcaddrv6":
			if has(HasSrcAddr, k) {
				addr(k, f.SrcAddr, vs)
			}
		case "cflow.dstaddr", "cflow.dstaddrv6":
			if has(HasDstAddr, k) {
				addr(k, f.DstAddr, vs)
			}
		case "cflow.nexthop":
			if has(HasNextHop, k) {
				addr(k, f.NextHop, vs)
			}
		case "cflow.octets":
			num(k, HasBytes, f.Bytes, vs)
			if len(vs) > 1 && has(HasRevBytes, "reverse octets") {
				check(t, at+" reverse octets", f.RevBytes, parseNum(t, vs[1]))
			}
		case "cflow.packets":
			num(k, HasPackets, f.Packets, vs)
			if len(vs) > 1 && has(HasRevPackets, "reverse packets") {
				check(t, at+" reverse packets", f.RevPackets, parseNum(t, vs[1]))
			}
		case "cflow.tcpflags":
			num(k, HasTCPFlags, uint64(f.TCPFlags), vs)
			if len(vs) > 1 {
				check(t, at+" reverse tcpflags", reverse(6), parseNum(t, vs[1]))
			}
		case "cflow.tos":
			num(k, HasTOS, uint64(f.TOS), vs)
			if len(vs) > 1 {
				check(t, at+" reverse tos", reverse(5), parseNum(t, vs[1]))
			}
		case "cflow.protocol":
			num(k, HasProto, uint64(f.Proto), vs)
		case "cflow.srcport":
			num(k, HasSrcPort, uint64(f.SrcPort), vs)
		case "cflow.dstport":
			num(k, HasDstPort, uint64(f.DstPort), vs)
		case "cflow.inputint":
			num(k, HasInIf, uint64(f.InIf), vs)
		case "cflow.outputint":
			num(k, HasOutIf, uint64(f.OutIf), vs)
		case "cflow.srcas":
			num(k, HasSrcAS, uint64(f.SrcAS), vs)
		case "cflow.dstas":
			num(k, HasDstAS, uint64(f.DstAS), vs)
		case "cflow.srcmask":
			num(k, HasSrcMask, uint64(f.SrcMask), vs)
		case "cflow.dstmask":
			num(k, HasDstMask, uint64(f.DstMask), vs)
		case "cflow.ip_version":
			num(k, HasIPVersion, uint64(f.IPVersion), vs)
		case "cflow.direction":
			num(k, HasDirection, uint64(f.Direction), vs)
		case "cflow.flow_end_reason":
			num(k, HasFlowEndReason, uint64(f.FlowEndReason), vs)
		case "cflow.icmp_type_code_ipv4":
			if has(HasICMPType|HasICMPCode, k) {
				check(t, at+" "+k, uint64(f.ICMPType)<<8|uint64(f.ICMPCode), parseNum(t, vs[0]))
			}
		case "cflow.icmp_ipv6_type":
			num(k, HasICMPType, uint64(f.ICMPType), vs)
		case "cflow.icmp_ipv6_code":
			num(k, HasICMPCode, uint64(f.ICMPCode), vs)
		case "cflow.sampler_id":
			num(k, HasSamplerID, f.SamplerID, vs)
		case "cflow.sampler_mode", "cflow.sampling_algorithm", "cflow.selector_algorithm":
			num(k, HasSamplingAlgorithm, uint64(f.SamplingAlgorithm), vs)
		case "cflow.sampler_random_interval", "cflow.sampling_interval":
			num(k, HasSamplingInterval, f.SamplingInterval, vs)
		case "cflow.sampling_packet_interval":
			num(k, HasSamplingPacketInterval, f.SamplingPacketInterval, vs)
		case "cflow.sampling_packet_space":
			num(k, HasSamplingSpace, f.SamplingSpace, vs)
		case "cflow.mp_id":
			check(t, at+" "+k, fieldUint(t, r, 0, 143), parseNum(t, vs[0]))
		case "cflow.if_name":
			fl, ok := r.Lookup(0, 82)
			if !ok {
				t.Errorf("%s: no interfaceName", at)
			} else {
				check(t, at+" "+k, string(bytes.TrimRight(fl.Value, "\x00")), vs[0])
			}
		case "cflow.sys_init_time":
			if has(HasSystemInitMs, k) {
				check(t, at+" "+k, int64(f.SystemInitMs)*1e6, parseDate(t, vs[0]).UnixNano())
			}
		case "cflow.srcmac":
			if has(HasSrcMAC, k) {
				check(t, at+" "+k, f.SrcMAC.String(), vs[0])
			}
		case "cflow.dstmac":
			if has(HasDstMAC, k) {
				check(t, at+" "+k, f.DstMAC.String(), vs[0])
			}
		case "cflow.vlanid":
			num(k, HasSrcVLAN, uint64(f.SrcVLAN), vs)
		case "cflow.post_vlanid":
			num(k, HasDstVLAN, uint64(f.DstVLAN), vs)
		case "cflow.flags":
			check(t, at+" v7 flags", fieldUint(t, r, PENV7, 1), parseNum(t, vs[0]))
		case "cflow.routersc":
			fl, _ := r.Lookup(PENV7, 2)
			a, _ := fl.Addr()
			addr(k, a, vs)
		case "cflow.timestart", "cflow.timeend":
			// Uptime-relative seconds: compare the raw field, then the
			// absolute time we derive from it.
			id, bit, got := uint16(22), HasStart, f.Start
			if k == "cflow.timeend" {
				id, bit, got = 21, HasEnd, f.End
			}
			ms := parseSecondsMs(t, vs[0])
			check(t, at+" "+k+" raw", int64(fieldUint(t, r, 0, id)), ms)
			if !has(bit, k) {
				break
			}
			var wantNs int64
			if p.Version == 10 {
				// IPFIX: relative to systemInitTimeMilliseconds from
				// the exporter's options data (tshark leaves it relative).
				init, ok := d0InitMs(p)
				if !ok {
					break
				}
				wantNs = (init + ms) * 1e6
			} else {
				wantNs = p.ExportTime - (int64(p.SysUptime)-ms)*1e6
			}
			check(t, at+" "+k+" absolute", got, wantNs)
		case "cflow.abstimestart", "cflow.abstimeend":
			bit, got := HasStart, f.Start
			if k == "cflow.abstimeend" {
				bit, got = HasEnd, f.End
			}
			wt := parseDate(t, vs[0])
			if wt.Year() == 1970 {
				// tshark prints an uptime of 0 this way, and misreads
				// pmacct's 16-byte timeval as NTP (testdata/README.md).
				break
			}
			if has(bit, k) {
				if diff := got - wt.UnixNano(); diff < -1000 || diff > 1000 {
					t.Errorf("%s: %s = %v, tshark %v", at, k, time.Unix(0, got).UTC(), wt)
				}
			}
		case "cflow.timedelta":
			if f.Has&(HasStart|HasEnd) == HasStart|HasEnd && !strings.Contains(capture, "usec") {
				if diff := (f.End-f.Start)/1e6 - parseSecondsMs(t, vs[0]); diff < -1 || diff > 1 {
					t.Errorf("%s: duration %d ms, tshark %s s", at, (f.End-f.Start)/1e6, vs[0])
				}
			}
		default:
			if !ignored(k) && !compareMore(t, at, r, k, vs) {
				t.Errorf("%s: tshark field %s = %v is not compared; add it to compareRecord", at, k, v)
			}
		}
	}
}

// d0InitMs is set per test by the IPFIX options records seen so far: the
// system init time of the exporter, taken from the options data tshark
// decoded (so the check does not read it back from the decoder state).
var initFromOptions = map[uint32]int64{}

func d0InitMs(p *Packet) (int64, bool) {
	for i := range p.Options {
		if o := &p.Options[i]; o.Has&HasSystemInitMs != 0 {
			initFromOptions[o.Domain] = int64(o.SystemInitMs)
		}
	}
	v, ok := initFromOptions[p.Domain]
	return v, ok
}

// The real exporters' common templates get the generated straight-line
// readers (fields/shapes.go).
func TestCaptureTemplatesSpecialized(t *testing.T) {
	for _, c := range []struct {
		capture string
		ids     []uint16
	}{
		{"softflowd-v9.pcap", []uint16{1024, 1025, 2048, 2049}},
		{"softflowd-ipfix.pcap", []uint16{1024, 1025, 2048, 2049}},
		{"pmacct-v9.pcap", []uint16{1024, 2048}},
		{"pmacct-ipfix.pcap", []uint16{1024, 2048}},
	} {
		var d Decoder
		var p Packet
		pkts := readCapture(t, c.capture)
		for _, pk := range pkts {
			_ = d.Decode(pk.src, pk.data, &p)
		}
		for _, id := range c.ids {
			tm := d.Template(pkts[0].src, 0, id)
			if tm == nil || !tm.specialized() {
				t.Errorf("%s template %d: not specialized", c.capture, id)
			}
		}
	}
}

// Sampled exports: softflowd announces its rate in options data scoped to
// an interface, pmacct per sampler id (FLOW_SAMPLER_ID in every record,
// options with 48/49/50 in v9 and scope 144 in IPFIX). Every flow must
// carry the 1-in-10 rate.
func TestCaptureSamplingRates(t *testing.T) {
	for _, capture := range []string{"softflowd-v9-sampling.pcap", "pmacct-v9-sampling.pcap", "pmacct-ipfix-sampling.pcap"} {
		var d Decoder
		var p Packet
		n := 0
		for _, pk := range readCapture(t, capture) {
			if err := d.Decode(pk.src, pk.data, &p); err != nil {
				t.Fatalf("%s: %v", capture, err)
			}
			for i := range p.Records {
				n++
				if r := p.Records[i].SamplingRate; r != 10 {
					t.Errorf("%s: record with sampling rate %d, want 10", capture, r)
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: no records", capture)
		}
	}
}

// compareSection checks the fields a record took from the headers of its
// sampled packet section against tshark's dissection of the section.
func compareSection(t *testing.T, at string, r *Record, sec map[string]any) {
	t.Helper()
	f := &r.Flow
	for k, v := range sec {
		s := fmt.Sprint(v)
		var got string
		var bit FieldSet
		switch k {
		case "ip.src", "ipv6.src":
			got, bit = f.SrcAddr.String(), HasSrcAddr
		case "ip.dst", "ipv6.dst":
			got, bit = f.DstAddr.String(), HasDstAddr
		case "tcp.srcport", "udp.srcport":
			got, bit = strconv.Itoa(int(f.SrcPort)), HasSrcPort
		case "tcp.dstport", "udp.dstport":
			got, bit = strconv.Itoa(int(f.DstPort)), HasDstPort
		case "ip.proto", "ipv6.nxt":
			got, bit = strconv.Itoa(int(f.Proto)), HasProto
		case "ip.ttl", "ipv6.hlim":
			got, bit = strconv.Itoa(int(f.TTL)), HasTTL
		case "eth.src":
			got, bit = f.SrcMAC.String(), HasSrcMAC
		case "eth.dst":
			got, bit = f.DstMAC.String(), HasDstMAC
		case "vlan.id":
			got, bit = strconv.Itoa(int(f.SrcVLAN)), HasSrcVLAN
		default:
			continue // type and length fields, flags in tshark's notation
		}
		if f.Has&bit == 0 {
			t.Errorf("%s: section %s = %s, record lacks it", at, k, s)
			continue
		}
		check(t, at+" section "+k, got, s)
	}
}
