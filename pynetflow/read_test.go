package pynetflow

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
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
		{"revBytes", keys.revBytes, []string{"NF_F_REV_FLOW_DELTA_BYTES"}},
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
			records: []string{`flow 0: IN_BYTES: expected a non-negative number, got -1`}},
		{line: head + `{"IPV4_SRC_ADDR": "10.0.0.1"}, {"L4_SRC_PORT": 1}, {"IPV4_DST_ADDR": "10.0.0.2", "IN_PKTS": "many"}]}}`,
			records: []string{`flow 0: missing field "destination address"`,
				`flow 2: IN_PKTS: expected a non-negative number, got "many"`}},
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
