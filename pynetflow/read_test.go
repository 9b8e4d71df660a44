package pynetflow

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/testvec"
)

// readAll reads line with a fresh Reader and returns its flows.
func readAll(t *testing.T, line string) ([]Flow, []error, error) {
	t.Helper()
	var r Reader
	var flows []Flow
	skipped, err := r.ReadLine([]byte(line), func(f *Flow) { flows = append(flows, *f) })
	return flows, skipped, err
}

// The keys the reader takes each field from, as the analyzer read them
// before they were derived from the writer's tables.
func TestReadKeys(t *testing.T) {
	names := func(ks []key) []string {
		var out []string
		for _, k := range ks {
			out = append(out, k.name)
		}
		return out
	}
	for _, c := range []struct {
		what string
		got  []key
		want []string
	}{
		{"src", keys.src, []string{"IPV4_SRC_ADDR", "IPV6_SRC_ADDR", "sourceIPv4Address", "sourceIPv6Address"}},
		{"dst", keys.dst, []string{"IPV4_DST_ADDR", "IPV6_DST_ADDR", "destinationIPv4Address", "destinationIPv6Address"}},
		{"srcPort", keys.srcPort, []string{"SRC_PORT", "L4_SRC_PORT", "sourceTransportPort"}},
		{"dstPort", keys.dstPort, []string{"DST_PORT", "L4_DST_PORT", "destinationTransportPort"}},
		{"proto", keys.proto, []string{"PROTO", "PROTOCOL", "protocolIdentifier"}},
		{"bytes", keys.bytes, []string{"IN_OCTETS", "IN_BYTES", "octetDeltaCount", "octetTotalCount", "NF_F_FWD_FLOW_DELTA_BYTES"}},
		{"packets", keys.packets, []string{"IN_PACKETS", "IN_PKTS", "packetDeltaCount", "packetTotalCount"}},
		{"revBytes", keys.revBytes, []string{"NF_F_REV_FLOW_DELTA_BYTES", "reverseOctetDeltaCount"}},
		{"revPackets", keys.revPackets, []string{"reversePacketDeltaCount"}},
		{"flows", keys.flows, []string{"FLOWS"}},
		{"srcAS", keys.srcAS, []string{"SRC_AS", "bgpSourceAsNumber"}},
		{"dstAS", keys.dstAS, []string{"DST_AS", "bgpDestinationAsNumber"}},
		{"outBytes", keys.outBytes, []string{"OUT_BYTES", "postOctetDeltaCount"}},
		{"outPackets", keys.outPackets, []string{"OUT_PKTS", "postPacketDeltaCount"}},
		{"icmp", keys.icmp, []string{"ICMP_TYPE", "icmpTypeCodeIPv4", "icmpTypeCodeIPv6"}},
		{"asaICMPType", keys.asaICMPType, []string{"NF_F_ICMP_TYPE", "NF_F_ICMP_TYPE_IPV6"}},
		{"asaICMPCode", keys.asaICMPCode, []string{"NF_F_ICMP_CODE", "NF_F_ICMP_CODE_IPV6"}},
	} {
		if got := names(c.got); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s keys %q, want %q", c.what, got, c.want)
		}
	}
	for _, k := range append(keys.src, keys.dst...) {
		if k.v6 != strings.Contains(strings.ToLower(k.name), "ipv6") {
			t.Errorf("%s: v6 = %v", k.name, k.v6)
		}
	}
	wantStart := timeKeys{"FIRST_SWITCHED", "flowStartSeconds", "flowStartMilliseconds", "flowStartMicroseconds",
		"flowStartNanoseconds", "flowStartSysUpTime", "flowStartDeltaMicroseconds"}
	wantEnd := timeKeys{"LAST_SWITCHED", "flowEndSeconds", "flowEndMilliseconds", "flowEndMicroseconds",
		"flowEndNanoseconds", "flowEndSysUpTime", "flowEndDeltaMicroseconds"}
	if keys.start != wantStart || keys.end != wantEnd {
		t.Errorf("time keys %+v, %+v; want %+v, %+v", keys.start, keys.end, wantStart, wantEnd)
	}
	if keys.createTime != "NF_F_FLOW_CREATE_TIME_MSEC" || keys.sysInit != "systemInitTimeMilliseconds" {
		t.Errorf("createTime %q, sysInit %q", keys.createTime, keys.sysInit)
	}
}

// capturePayloads returns the UDP payloads of a capture in ../testdata.
func capturePayloads(t testing.TB, name string) [][]byte { return testvec.Payloads(t, name) }

// roundTripSources are export streams, each from one exporter: the real
// exporters' captures and the python-netflow vectors (templates first).
func roundTripSources(t *testing.T) map[string][][]byte {
	t.Helper()
	src := map[string][][]byte{}
	names, _ := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "*.pcap"))
	for _, n := range names {
		// PSAMP packet reports carry no flow addresses: nothing to
		// round-trip. The python-netflow format has no sFlow (nfcollect
		// writes nothing for it in this format).
		if base := filepath.Base(n); base != "synthetic-traffic.pcap" && !strings.Contains(base, "psamp") && !strings.HasPrefix(base, "sfprobe-") {
			src[base] = capturePayloads(t, base)
		}
	}
	if len(src) == 0 {
		t.Fatal("no captures")
	}
	for _, v := range pyVectors {
		var pkts [][]byte
		if v.prior != "" {
			pkts = pyLoadHex(t, v.prior+".hex")
		}
		src[v.name] = append(pkts, pyLoadHex(t, v.name+".hex")...)
	}
	return src
}

// wantFlow is what the reader must give for a decoded record.
func wantFlow(r *decode.Record, ts int64, client netip.Addr) Flow {
	f := Flow{Received: int64(math.Round(float64(ts) / 1e9 * 1e9)), Exporter: client, Version: uint8(r.Version),
		Src: r.SrcAddr.Unmap(), Dst: r.DstAddr.Unmap(), SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Proto,
		SrcAS: r.SrcAS, DstAS: r.DstAS, Bytes: r.Bytes, Packets: r.Packets,
		RevBytes: r.RevBytes, RevPackets: r.RevPackets, Biflow: r.Has&(decode.HasRevBytes|decode.HasRevPackets) != 0,
		Flows: r.Flows, Start: r.Start, End: r.End,
		HasStart: r.Has&decode.HasStart != 0, HasEnd: r.Has&decode.HasEnd != 0}
	if r.Has&decode.HasBytes == 0 {
		f.Bytes = r.OutBytes
	}
	if r.Has&decode.HasPackets == 0 {
		f.Packets = r.OutPackets
	}
	icmp := r.Has&decode.HasICMPType != 0
	if r.Version == 9 {
		// Types missing from V9_FIELD_TYPES are all written as
		// UNKNOWN_FIELD_TYPE: what they carry (pmacct's flowEndMilliseconds
		// 153, softflowd's icmpTypeCodeIPv6 139) cannot be read back.
		has := func(id uint16) bool { _, ok := r.Lookup(0, id); return ok }
		f.HasStart = f.HasStart && (has(22) || has(152))
		f.HasEnd = f.HasEnd && has(21)
		icmp = icmp && has(32)
	}
	if !f.HasStart {
		f.Start = 0
	}
	if !f.HasEnd {
		f.End = 0
	}
	if f.SrcPort == 0 && f.DstPort == 0 && icmp {
		f.DstPort = uint16(r.ICMPType)<<8 | uint16(r.ICMPCode)
	}
	return f
}

// Every flow the decoder finds in the captures and vectors comes back from
// the line AppendPacket writes for it, with the same addresses, ports,
// counters and times.
func TestReadRoundTrip(t *testing.T) {
	ts := time.Unix(0, 1700000000_123456700)
	client := netip.MustParseAddrPort("192.0.2.9:2055")
	for name, pkts := range roundTripSources(t) {
		t.Run(name, func(t *testing.T) {
			var d decode.Decoder
			var p decode.Packet
			var r Reader
			flows := 0
			for i, pkt := range pkts {
				if err := d.Decode(client.Addr(), pkt, &p); err != nil {
					t.Fatalf("packet %d: %v", i, err)
				}
				var want []Flow
				for j := range p.Records {
					if rec := &p.Records[j]; rec.SrcAddr.IsValid() && rec.DstAddr.IsValid() {
						want = append(want, wantFlow(rec, ts.UnixNano(), client.Addr()))
					}
				}
				line := AppendPacket(nil, ts, client, &p)
				var got []Flow
				skipped, err := r.ReadLine(line, func(f *Flow) { got = append(got, *f) })
				if err != nil || len(skipped) > 0 {
					t.Fatalf("packet %d: %v %v\n%s", i, err, skipped, line)
				}
				if len(got) != len(want) {
					t.Fatalf("packet %d: %d flows, want %d\n%s", i, len(got), len(want), line)
				}
				for j := range got {
					// The reader keeps dateTimeMicroseconds to whole
					// microseconds, the decoder to nanoseconds.
					got[j].Start, got[j].End = got[j].Start/1e3, got[j].End/1e3
					want[j].Start, want[j].End = want[j].Start/1e3, want[j].End/1e3
					if got[j] != want[j] {
						t.Errorf("packet %d flow %d:\ngot  %+v\nwant %+v", i, j, got[j], want[j])
						if testing.Verbose() {
							t.Logf("%s", line)
						}
						t.FailNow()
					}
				}
				flows += len(got)
			}
			if flows == 0 {
				t.Error("no flows")
			}
		})
	}
}

func TestReadLineErrors(t *testing.T) {
	const head = `{"1700000000.5": {"client": ["127.0.0.1", 1], "header": {"version": 9, "uptime": 0, "timestamp": 1700000000}, "flows": [`
	for _, c := range []struct {
		line, want string
		records    []string // record errors of a good line
	}{
		{line: `{"1700000000.5": {"client": ["127.0.0.1", 1], "flows": []}}`, want: `missing field "header"`},
		{line: `{"1700000000.5": {"header": {}, "flows": []}}`, want: `missing field "header.version"`},
		{line: `{"1700000000.5": {"header": {"version": 9}`, want: "unexpected end of line (truncated record?)"},
		{line: `{"1700000000.5": x}`, want: "column 18: invalid character 'x' looking for beginning of value"},
		{line: `{"a": {}, "b": {}}`, want: "python-netflow line has 2 keys, want 1 (the receive time)"},
		{line: `{"now": {}}`, want: `key "now" is not a receive timestamp`},
		{line: `{"NaN": {}}`, want: `key "NaN" is not a receive timestamp`},
		{line: `{"1e300": {}}`, want: `key "1e300" is not a receive timestamp`},
		{line: `{"1.5": {}} {}`, want: "unexpected data after the record"},
		{line: `{"1.5": {"header": {"version": 9}, "flows": 5}}`, want: "json: cannot unmarshal number"},
		{line: head + `{"IPV4_SRC_ADDR": "x", "IPV4_DST_ADDR": "10.0.0.1"}]}}`,
			records: []string{`flow 0: IPV4_SRC_ADDR: bad address "x"`}},
		{line: head + `{"IPV4_SRC_ADDR": "10.0.0.1", "IPV4_DST_ADDR": "10.0.0.2", "IN_BYTES": -1}]}}`,
			records: []string{`flow 0: IN_BYTES: expected a non-negative integer, got -1`}},
		// Out-of-range or fractional values are errors, never wrapped
		// into the field (65558 used to read as port 22, 262 as TCP).
		{line: head + `{"IPV4_SRC_ADDR": "10.0.0.1", "IPV4_DST_ADDR": "10.0.0.2", "L4_DST_PORT": 65558}]}}`,
			records: []string{`flow 0: L4_DST_PORT: 65558 is out of range (at most 65535)`}},
		{line: head + `{"IPV4_SRC_ADDR": "10.0.0.1", "IPV4_DST_ADDR": "10.0.0.2", "PROTOCOL": 262}]}}`,
			records: []string{`flow 0: PROTOCOL: 262 is out of range (at most 255)`}},
		{line: head + `{"IPV4_SRC_ADDR": "10.0.0.1", "IPV4_DST_ADDR": "10.0.0.2", "PROTOCOL": 6.9}]}}`,
			records: []string{`flow 0: PROTOCOL: expected a non-negative integer, got 6.9`}},
		{line: head + `{"sourceIPv4Address": "10.0.0.1", "destinationIPv4Address": "10.0.0.2", "flowStartSeconds": 9223372036854775807}]}}`,
			records: []string{`flow 0: flowStartSeconds: 9223372036854775807 is out of range for a time`}},
		{line: head + `{"IPV4_SRC_ADDR": "10.0.0.1", "IPV4_DST_ADDR": "10.0.0.2", "SRC_AS": 4294967296}]}}`,
			records: []string{`flow 0: SRC_AS: 4294967296 is out of range (at most 4294967295)`}},
		{line: head + `{"IPV4_SRC_ADDR": "10.0.0.1"}, {"L4_SRC_PORT": 1}, {"IPV4_DST_ADDR": "10.0.0.2", "IN_PKTS": "many"}]}}`,
			records: []string{`flow 0: missing field "destination address"`,
				`flow 2: IN_PKTS: expected a non-negative integer, got "many"`}},
		{line: head + `{"sourceIPv4Address": 4294967296, "destinationIPv4Address": 1}]}}`,
			records: []string{"flow 0: sourceIPv4Address: 4294967296 is not an IPv4 address"}},
		{line: head + `{"sourceIPv6Address": 340282366920938463463374607431768211456, "destinationIPv4Address": 1}]}}`,
			records: []string{"flow 0: sourceIPv6Address: bad address 340282366920938463463374607431768211456"}},
		{line: head + `{"IPV4_SRC_ADDR": ["10.0.0.1"], "IPV4_DST_ADDR": "10.0.0.2"}]}}`,
			records: []string{`flow 0: IPV4_SRC_ADDR: expected an address, got ["10.0.0.1"]`}},
	} {
		flows, skipped, err := readAll(t, c.line)
		if c.want != "" {
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s:\ngot error %v, want %q", c.line, err, c.want)
			}
			if len(flows) != 0 || len(skipped) != 0 {
				t.Errorf("%s: a bad line gave flows or record errors", c.line)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		var got []string
		for _, e := range skipped {
			var re *RecordError
			if !errors.As(e, &re) {
				t.Errorf("%v is not a *RecordError", e)
			}
			got = append(got, e.Error())
		}
		if !reflect.DeepEqual(got, c.records) {
			t.Errorf("%s:\nrecord errors %q\nwant          %q", c.line, got, c.records)
		}
		if len(flows) != 0 {
			t.Errorf("%s: %d flows from bad records", c.line, len(flows))
		}
	}
}

// A record with several keys for one field gives the same flow whatever
// the order of Go's map iteration: the first key of the field's list wins.
func TestReadPrecedence(t *testing.T) {
	line := `{"1700000000.0": {"client": ["192.0.2.1", 4739], "header": {"version": 10, "export_uptime": 1700000000}, ` +
		`"flows": [{"sourceIPv4Address": 1, "destinationIPv4Address": 2, "octetTotalCount": 900, "octetDeltaCount": 100, ` +
		`"packetTotalCount": 9, "packetDeltaCount": 1, "flowStartMilliseconds": 1700000000500, "flowStartSeconds": 1699999999}]}}`
	for range 50 {
		flows, _, err := readAll(t, line)
		if err != nil || len(flows) != 1 {
			t.Fatalf("%v, %d flows", err, len(flows))
		}
		f := flows[0]
		if f.Bytes != 100 || f.Packets != 1 || f.Start != 1699999999e9 {
			t.Fatalf("bytes %d packets %d start %d; want the delta counters and the seconds", f.Bytes, f.Packets, f.Start)
		}
	}
}

// The time forms: uptime-relative ms (with wrap), seconds, ms, NTP µs and
// ns, sysUpTime against the exporter's systemInitTimeMilliseconds (sent in
// a later record of the line), µs before the export time, ASA create time.
func TestReadTimes(t *testing.T) {
	const export = 1700000000
	v9 := func(rec string) string {
		return `{"1700000001.0": {"client": ["192.0.2.1", 1], "header": {"version": 9, "uptime": 1000, "timestamp": 1700000000}, ` +
			`"flows": [{"IPV4_SRC_ADDR": "10.0.0.1", "IPV4_DST_ADDR": "10.0.0.2", ` + rec + `}]}}`
	}
	ipfix := func(rec string) string {
		return `{"1700000001.0": {"client": ["192.0.2.1", 1], "header": {"version": 10, "export_uptime": 1700000000}, ` +
			`"flows": [{"sourceIPv4Address": 1, "destinationIPv4Address": 2, ` + rec + `}, {"systemInitTimeMilliseconds": 1699990000000}]}}`
	}
	for _, c := range []struct {
		line       string
		start, end int64 // Unix ns; -1: absent
	}{
		{v9(`"FIRST_SWITCHED": 400, "LAST_SWITCHED": 900`), export*1e9 - 600e6, export*1e9 - 100e6},
		{v9(`"FIRST_SWITCHED": 4294967000, "LAST_SWITCHED": 200`), export*1e9 - 1296e6, export*1e9 - 800e6},
		{v9(`"LAST_SWITCHED": 900`), -1, export*1e9 - 100e6},
		{v9(`"NF_F_FLOW_CREATE_TIME_MSEC": 1699999999250`), 1699999999250e6, -1},
		{ipfix(`"flowStartSeconds": 1699999990, "flowEndMilliseconds": 1699999995500`), 1699999990e9, 1699999995500e6},
		{ipfix(`"flowStartMicroseconds": [3909000000, 2147483648], "flowEndNanoseconds": [3909000001, 1073741824]`),
			(3909000000-ntpEpochOffset)*1e9 + 500e6, (3909000001-ntpEpochOffset)*1e9 + 250e6},
		{ipfix(`"flowStartSysUpTime": 5000, "flowEndSysUpTime": 6000`), 1699990005000e6, 1699990006000e6},
		{ipfix(`"flowStartDeltaMicroseconds": 3000000, "flowEndDeltaMicroseconds": 1000`), export*1e9 - 3e9, export*1e9 - 1e6},
		{ipfix(`"packetDeltaCount": 1`), -1, -1},
	} {
		flows, skipped, err := readAll(t, c.line)
		if err != nil || len(skipped) > 0 || len(flows) != 1 {
			t.Fatalf("%s: %v %v, %d flows", c.line, err, skipped, len(flows))
		}
		f := flows[0]
		got := [2]int64{-1, -1}
		if f.HasStart {
			got[0] = f.Start
		}
		if f.HasEnd {
			got[1] = f.End
		}
		if want := [2]int64{c.start, c.end}; got != want {
			t.Errorf("%s:\ngot start, end %d, want %d", c.line, got, want)
		}
	}
}

// The exporters whose init time a Reader remembers are bounded; a known
// one is still updated.
func TestReadSysInitBound(t *testing.T) {
	var r Reader
	line := func(client string, init int) []byte {
		return fmt.Appendf(nil, `{"1.0": {"client": [%q, 1], "header": {"version": 10}, "flows": [{"systemInitTimeMilliseconds": %d}]}}`, client, init)
	}
	for i := range maxExporters + 10 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		if _, err := r.ReadLine(line(a.String(), 1), func(*Flow) {}); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.sysInit) != maxExporters {
		t.Errorf("%d exporters remembered, want %d", len(r.sysInit), maxExporters)
	}
	if _, err := r.ReadLine(line("10.0.0.0", 7), func(*Flow) {}); err != nil {
		t.Fatal(err)
	}
	if got := r.sysInit[netip.MustParseAddr("10.0.0.0")]; got != 7e6 {
		t.Errorf("known exporter's init time %d, want 7e6", got)
	}
}

// Python's json.dumps writes float NaN and infinities as the bare words
// NaN, Infinity and -Infinity (and AppendPacket does too): a line holding
// them keeps its flows.
func TestReadPythonConstants(t *testing.T) {
	line := `{"1.0": {"client": ["192.0.2.1", 1], "header": {"version": 10}, "flows": [{"sourceIPv4Address": 1, ` +
		`"destinationIPv4Address": 2, "absoluteError": NaN, "x": [Infinity, -Infinity], "interfaceName": "NaN \" Infinity"}]}}`
	flows, skipped, err := readAll(t, line)
	if err != nil || len(skipped) > 0 || len(flows) != 1 {
		t.Fatalf("%v %v, %d flows", err, skipped, len(flows))
	}
	if got, want := string(nullConstants([]byte(line))), strings.NewReplacer(": NaN", ": null", "[Infinity, -Infinity]", "[null, null]").Replace(line); got != want {
		t.Errorf("nullConstants:\ngot  %s\nwant %s", got, want)
	}
	if s := []byte(`{"a": "NaN"}`); &nullConstants(s)[0] != &s[0] {
		t.Error("a line without constants was copied")
	}
}
