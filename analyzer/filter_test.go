package analyzer

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// filterFlows are flows with every field a filter looks at, for the tests
// below.
func filterFlows() []Flow {
	return []Flow{
		{Start: 1e18, End: 1e18 + 2e9, Bytes: 3000, Packets: 3, Flows: 1, Src: netip.MustParseAddr("10.0.1.2"), Dst: netip.MustParseAddr("192.0.2.80"),
			Exporter: netip.MustParseAddr("127.0.0.1"), SrcPort: 40000, DstPort: 443, Proto: 6, TCPFlags: tcpSYN | tcpACK, TOS: 184,
			InIf: 3, OutIf: 5, SrcVLAN: 10, DstVLAN: 20, SrcMAC: 0x00005e005301, DstMAC: 0x0a1b2c3d4e5f, SrcMask: 24, DstMask: 16, Direction: 1, SrcAS: 64500, DstAS: 65000},
		{Start: 1e18, End: 1e18, Bytes: 100, Packets: 1, Flows: 1, Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"),
			DstPort: 128 << 8, Proto: 58},
		{Start: 1e18, End: 1e18 + 5e8, Bytes: 1e6, Packets: 1000, Flows: 1, Src: netip.MustParseAddr("192.0.2.53"), Dst: netip.MustParseAddr("10.0.1.2"),
			SrcPort: 53, DstPort: 40001, Proto: 17, InIf: 5, OutIf: 3},
		{Start: 1e18, End: 1e18 + 1e9, Bytes: 40, Packets: 1, Flows: 1, Src: netip.MustParseAddr("10.0.1.2"), Dst: netip.MustParseAddr("10.0.1.3"),
			SrcPort: 1, DstPort: 2, Proto: 6, TCPFlags: tcpSYN},
	}
}

// TestFilterPrimitives: each primitive selects the flows it should.
func TestFilterPrimitives(t *testing.T) {
	flows := filterFlows()
	for _, c := range []struct {
		expr string
		want string // one letter per flow: y selected, . not
	}{
		{"port in [443 53]", "y.y."},
		{"src port in [53, 1]", "..yy"},
		{"net 10.0/16", "y.yy"},
		{"dst net 192.0.2.0 255.255.255.0", "y..."},
		{"flags S", "y..y"},
		{"flags AS", "y..."},
		{"flags S and not flags AFRPU", "...y"},
		{"not flags A", ".yyy"},
		{"flags 18", "y..."},
		{"bpp > 100", "y.y."},
		{"bpp = 100", ".y.."},
		{"bps > 12k", "..y."}, // 3000 B in 2 s are 12000 bps; 1 MB in 0.5 s 16M
		{"bps = 12k", "y..."},
		{"bps >= 12k", "y.y."},
		{"pps = 2000", "..y."},
		{"pps = 0", ".y.."},
		{"duration = 0", ".y.."},
		{"duration >= 1000", "y..y"},
		{"tos 184", "y..."},
		{"in if 3", "y..."},
		{"out if 3", "..y."},
		{"if 5", "y.y."},
		{"router ip 127.0.0.1", "y..."},
		{"src as 64500 and dst as 65000", "y..."},
		{"as in [65000 1]", "y..."},
		{"vlan 20", "y..."},
		{"src vlan 20", "...."},
		{"mac 0a:1b:2c:3d:4e:5f", "y..."},
		{"in src mac 00:00:5e:00:53:01", "y..."},
		{"dst mac 00:00:5e:00:53:01", "...."},
		{"src mask 24 and dst mask 16", "y..."},
		{"ip in [192.0.2.0/24 2001:db8::2]", "yyy."},
		{"icmp-type 128", ".y.."},
		{"icmp-code 0", ".y.."},
		{"flowdir egress", "y..."},
		{"flowdir ingress", ".yyy"},
		{"packets > 1k", "...."},
		{"packets >= 1k", "..y."},
		{"out bytes 0", "yyyy"},
		{"flows 1", "yyyy"},
		{"inet6", ".y.."},
	} {
		f, err := ParseFilter(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		var got strings.Builder
		for i := range flows {
			if f.Match(&flows[i]) {
				got.WriteByte('y')
			} else {
				got.WriteByte('.')
			}
		}
		if got.String() != c.want {
			t.Errorf("%s: selects %s, want %s", c.expr, got.String(), c.want)
		}
	}
}

// TestScanOptionalFields: the optional fields are read when asked for and
// skipped otherwise.
func TestScanOptionalFields(t *testing.T) {
	line := []byte(`{"src_addr":"10.0.0.1","dst_addr":"10.0.0.2","proto":6,"ip_tos":8,"tcp_flags":18,"in_if":1,"out_if":2,"src_net":24,"dst_net":8,"src_vlan":10,"dst_vlan":20,"src_mac":"00:11:22:aa:BB:cc","dst_mac":"0a:1b:2c:3d:4e:5f","direction":1}`)
	var s lineScanner
	var f Flow
	for range 2 { // the general scanner, then the fast one
		if err := s.scan(line, &f); err != nil {
			t.Fatal(err)
		}
		if f.TOS != 8 || f.TCPFlags != 18 || f.InIf != 1 || f.OutIf != 2 || f.SrcMask != 24 || f.DstMask != 8 || f.SrcVLAN != 10 ||
			f.DstVLAN != 20 || f.SrcMAC != 0x001122aabbcc || f.DstMAC != 0x0a1b2c3d4e5f || f.Direction != 1 {
			t.Errorf("scan: %+v", f)
		}
	}
	s = lineScanner{skip: optionalActs}
	for range 2 {
		if err := s.scan(line, &f); err != nil {
			t.Fatal(err)
		}
		if f.TOS != 0 || f.TCPFlags != 0 || f.InIf != 0 || f.SrcMAC != 0 || f.Direction != 0 {
			t.Errorf("scan with the optional fields skipped: %+v", f)
		}
	}
	for _, bad := range []string{`"src_mac":"00:11:22:33:44"`, `"dst_mac":"00:11:22:33:44:zz"`, `"src_mac":7`, `"in_if":4294967296`, `"src_vlan":-1`} {
		var s lineScanner
		l := `{"src_addr":"10.0.0.1","dst_addr":"10.0.0.2",` + bad + `}`
		if err := s.scan([]byte(l), &f); err == nil {
			t.Errorf("scan(%s) accepted a bad value: %+v", l, f)
		}
	}
}

// FuzzParseFilter: ParseFilter never panics; an error points inside the
// expression (or just past its end); a filter it accepts can be matched, and
// "not (expr)" selects exactly the flows expr does not (except with "flags",
// which nfdump negates its own way).
func FuzzParseFilter(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "nfdump", "filters.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		expr, _, _ := strings.Cut(line, "\t")
		f.Add(expr)
	}
	for _, s := range []string{"port in [80 443", "net 10.0.0.0 255.0.255.0", "src or dst host 10.0.0.1", "(tcp or udp", "flags X", "mac 00:11:22:33:44:55"} {
		f.Add(s)
	}
	flows := filterFlows()
	f.Fuzz(func(t *testing.T, expr string) {
		fl, err := ParseFilter(expr)
		if err != nil {
			var fe *FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFilter(%q) = %v, not a *FilterError", expr, err)
			}
			if fe.Pos < 0 || fe.Pos > len(expr) || fe.Len < 0 || fe.Pos+fe.Len > len(expr)+1 || fe.Msg == "" {
				t.Fatalf("ParseFilter(%q): error at %d+%d %q is outside the expression", expr, fe.Pos, fe.Len, fe.Msg)
			}
			_ = err.Error()
			return
		}
		if strings.TrimSpace(expr) == "" || strings.Contains(strings.ToLower(expr), "flags") {
			return
		}
		neg, err := ParseFilter("not (" + expr + ")")
		if err != nil {
			// "expr" may end inside a list or hold a ")" that closes early.
			return
		}
		for i := range flows {
			if fl.Match(&flows[i]) == neg.Match(&flows[i]) {
				t.Fatalf("%q and its negation agree on flow %d", expr, i)
			}
		}
	})
}
