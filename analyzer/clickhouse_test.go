package analyzer

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseFlowRow(t *testing.T) {
	row := strings.Split("1700000000000000000\t1700000001000000000\t1700000002000000000\t100\t3\t0\t0\t1\t"+
		"00000000000000000000FFFFC0000201\t20010DB8000000000000000000000001\t00000000000000000000FFFF7F000001\t"+
		"64500\t0\t443\t51000\t6\t10\t1\t1\t0", "\t")
	var f Flow
	if err := parseFlowRow(row, &f); err != nil {
		t.Fatal(err)
	}
	if f.Src != netip.MustParseAddr("192.0.2.1") || f.Dst != netip.MustParseAddr("2001:db8::1") || f.Exporter != netip.MustParseAddr("127.0.0.1") ||
		f.Bytes != 100 || f.Packets != 3 || f.SrcAS != 64500 || f.SrcPort != 443 || f.DstPort != 51000 || f.Proto != 6 || f.Version != 10 ||
		f.Flags != flowHasStart|flowHasEnd || f.Start != 1700000000000000000 || f.End != 1700000001000000000 {
		t.Errorf("%+v", f)
	}
	// No times sent: the receive time stands in, as with files.
	row[17], row[18] = "0", "0"
	parseFlowRow(row, &f)
	if f.Start != 1700000002000000000 || f.End != f.Start {
		t.Errorf("times %d %d", f.Start, f.End)
	}
	for _, bad := range [][]string{row[:19], append(append([]string(nil), row[:8]...), append([]string{"zz"}, row[9:]...)...)} {
		if err := parseFlowRow(bad, &f); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Rows a ClickHouse server answers, whatever they hold, are parsed or
// refused with an error, never a panic.
func FuzzClickHouseRow(f *testing.F) {
	f.Add("1700000000000000000\t1700000001000000000\t1700000002000000000\t100\t3\t0\t0\t1\t00000000000000000000FFFFC0000201\t20010DB8000000000000000000000001\t00000000000000000000FFFF7F000001\t64500\t0\t443\t51000\t6\t10\t1\t1\t0")
	f.Add("00000000000000000000FFFFC0000201\t5\t6\t7")
	f.Add("443\t1\t2\t3")
	f.Fuzz(func(t *testing.T, line string) {
		r := strings.Split(line, "\t")
		var fl Flow
		if parseFlowRow(r, &fl) == nil && fl.End < fl.Start {
			t.Fatalf("End before Start: %+v", fl)
		}
		for _, d := range []string{"src", "dst", "ip", "exporter", "proto", "srcport", "dstport", "port", "as", "srcas", "dstas"} {
			setField(&fl, d, r[0])
		}
		if len(r) >= 3 {
			parseAgg(r[len(r)-3:])
		}
	})
}

type fakeNode struct{}

func (fakeNode) match(*Flow) bool { return true }

// A filter primitive without SQL is refused, not turned into a wrong query.
func TestCheckSQL(t *testing.T) {
	f, err := ParseFilter("src net 10.0.0.0/8 and not (port 53 or proto udp) and bytes > 1k and inet6 and exporter 192.0.2.1 and src as 3")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSQL(f.And(TimeFilter(1, 2)).n); err != nil {
		t.Error(err)
	}
	if err := checkSQL(andNode{f.n, notNode{fakeNode{}}}); err == nil {
		t.Error("unknown primitive accepted")
	}
}

// nfdump primitives without SQL are refused by name; bytes and packets
// comparisons run.
func TestCheckSQLNames(t *testing.T) {
	for expr, want := range map[string]string{
		"flags S":                    "flags",
		"port in [80 443]":           "port in",
		"mac 02:00:5e:10:00:01":      "mac",
		"tos 16":                     "comparison",
		"bytes > 1000":               "",
		"packets < 10 and proto tcp": "",
	} {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		err = checkSQL(f.n)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", expr, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%s: %v, want an error naming %q", expr, err, want)
		}
	}
}
