package analyzer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The tests in this file check statistics, filters and the timeline against a
// brute-force computation that shares no code with the analyzer: flows are made
// as plain Go values, written with encoding/json, and the expected answers are
// computed from the Go values with maps keyed by strings.

type bfFlow struct {
	Src, Dst         string
	SrcPort, DstPort int
	Proto            int
	Bytes, Packets   int
	SrcAS, DstAS     int
	Exporter         string
	Start            int64
}

func randomFlows(n int, seed uint64) []bfFlow {
	r := rand.New(rand.NewPCG(seed, 7))
	hosts := []string{"10.0.0.1", "10.0.0.2", "10.1.2.3", "192.0.2.7", "198.51.100.9", "2001:db8::1", "2001:db8::2", "fe80::1"}
	protos := []int{6, 6, 6, 17, 17, 1, 58, 47}
	ports := []int{22, 53, 80, 443, 8080, 50000, 51000, 123}
	var fs []bfFlow
	for i := 0; i < n; i++ {
		f := bfFlow{
			Src: hosts[r.IntN(len(hosts))], Dst: hosts[r.IntN(len(hosts))],
			Proto: protos[r.IntN(len(protos))], Bytes: r.IntN(100000), Packets: 1 + r.IntN(100),
			SrcAS: []int{0, 64500, 64501}[r.IntN(3)], DstAS: []int{0, 64500, 15169}[r.IntN(3)],
			Exporter: []string{"192.0.2.1", "192.0.2.2"}[r.IntN(2)],
			Start:    1_700_000_000_000_000_000 + int64(r.IntN(7200))*int64(time.Second),
		}
		if f.Proto == 6 || f.Proto == 17 {
			f.SrcPort, f.DstPort = ports[r.IntN(len(ports))], ports[r.IntN(len(ports))]
		}
		fs = append(fs, f)
	}
	return fs
}

func writeBF(t *testing.T, fs []bfFlow) string {
	t.Helper()
	var b bytes.Buffer
	for _, f := range fs {
		m := map[string]any{"type": "IPFIX", "time_received_ns": f.Start + 1, "sampler_address": f.Exporter,
			"time_flow_start_ns": f.Start, "time_flow_end_ns": f.Start + 1000,
			"src_addr": f.Src, "dst_addr": f.Dst, "proto": f.Proto, "bytes": f.Bytes, "packets": f.Packets,
			"src_as": f.SrcAS, "dst_as": f.DstAS}
		if f.Proto == 6 || f.Proto == 17 {
			m["src_port"], m["dst_port"] = f.SrcPort, f.DstPort
		}
		line, _ := json.Marshal(m)
		b.Write(line)
		b.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), "flows.jsonl")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type bfAgg struct{ Flows, Packets, Bytes int }

// bfKeys returns the keys a flow counts under for a statistic.
func bfKeys(stat string, f bfFlow) []string {
	both := func(a, b string) []string {
		if a == b {
			return []string{a}
		}
		return []string{a, b}
	}
	hasPorts := f.Proto == 6 || f.Proto == 17
	port := func(p int) string {
		if !hasPorts {
			return "0"
		}
		return fmt.Sprint(p)
	}
	switch stat {
	case "src":
		return []string{f.Src}
	case "dst":
		return []string{f.Dst}
	case "ip":
		return both(f.Src, f.Dst)
	case "pair":
		a, b := netip.MustParseAddr(f.Src), netip.MustParseAddr(f.Dst)
		if b.Less(a) {
			a, b = b, a
		}
		return []string{a.String() + " <-> " + b.String()}
	case "port":
		return both(port(f.SrcPort), port(f.DstPort))
	case "srcport":
		return []string{port(f.SrcPort)}
	case "dstport":
		return []string{port(f.DstPort)}
	case "proto":
		return []string{map[int]string{6: "TCP", 17: "UDP", 1: "ICMP", 58: "ICMPv6", 47: "GRE"}[f.Proto]}
	case "exporter":
		return []string{f.Exporter}
	case "as":
		return both(fmt.Sprint(f.SrcAS), fmt.Sprint(f.DstAS))
	case "srcas":
		return []string{fmt.Sprint(f.SrcAS)}
	case "dstas":
		return []string{fmt.Sprint(f.DstAS)}
	}
	panic(stat)
}

func TestStatsBruteForce(t *testing.T) {
	fs := randomFlows(3000, 1)
	path := writeBF(t, fs)
	for _, stat := range []string{"src", "dst", "ip", "pair", "port", "srcport", "dstport", "proto", "exporter", "as", "srcas", "dstas"} {
		for _, by := range StatOrders {
			want := map[string]bfAgg{}
			for _, f := range fs {
				for _, k := range bfKeys(stat, f) {
					a := want[k]
					a.Flows++
					a.Packets += f.Packets
					a.Bytes += f.Bytes
					want[k] = a
				}
			}
			var out, errb bytes.Buffer
			if _, err := Run(Config{Inputs: []string{path}, StatKeys: []string{stat}, By: by, Output: "json"}, &out, &errb); err != nil {
				t.Fatal(err)
			}
			got := map[string]bfAgg{}
			var prev *bfAgg
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var row struct {
					Value                 string
					Flows, Packets, Bytes int
				}
				if err := json.Unmarshal([]byte(line), &row); err != nil {
					t.Fatalf("%s: %v in %q", stat, err, line)
				}
				a := bfAgg{row.Flows, row.Packets, row.Bytes}
				got[row.Value] = a
				if prev != nil && measureBF(*prev, by) < measureBF(a, by) {
					t.Errorf("%s by %s: rows not in descending order at %q", stat, by, row.Value)
				}
				prev = &a
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("stat %s by %s:\n got %v\nwant %v", stat, by, got, want)
			}
		}
	}
}

func measureBF(a bfAgg, by string) int {
	switch by {
	case "flows":
		return a.Flows
	case "packets":
		return a.Packets
	}
	return a.Bytes
}

func TestFilterBruteForce(t *testing.T) {
	fs := randomFlows(2000, 2)
	path := writeBF(t, fs)
	in := func(cidr, a string) bool { return netip.MustParsePrefix(cidr).Contains(netip.MustParseAddr(a)) }
	tp := func(f bfFlow) bool { return f.Proto == 6 || f.Proto == 17 }
	cases := []struct {
		expr string
		want func(bfFlow) bool
	}{
		{"src net 10.0.0.0/8 and dst port 443", func(f bfFlow) bool { return in("10.0.0.0/8", f.Src) && tp(f) && f.DstPort == 443 }},
		{"host 10.0.0.1", func(f bfFlow) bool { return f.Src == "10.0.0.1" || f.Dst == "10.0.0.1" }},
		{"not (tcp or udp)", func(f bfFlow) bool { return !tp(f) }},
		{"proto icmp or proto 58", func(f bfFlow) bool { return f.Proto == 1 || f.Proto == 58 }},
		{"dst net 2001:db8::/32 && !src host 2001:db8::1", func(f bfFlow) bool { return in("2001:db8::/32", f.Dst) && f.Src != "2001:db8::1" }},
		{"src and dst net 10.0.0.0/8", func(f bfFlow) bool { return in("10.0.0.0/8", f.Src) && in("10.0.0.0/8", f.Dst) }},
		{"src or dst port ssh", func(f bfFlow) bool { return tp(f) && (f.SrcPort == 22 || f.DstPort == 22) }},
		{"port > 1023 and udp", func(f bfFlow) bool { return f.Proto == 17 && (f.SrcPort > 1023 || f.DstPort > 1023) }},
		{"bytes >= 50k or packets < 10", func(f bfFlow) bool { return f.Bytes >= 50000 || f.Packets < 10 }},
		{"src as 64500 and not dst as 15169", func(f bfFlow) bool { return f.SrcAS == 64500 && f.DstAS != 15169 }},
		{"exporter 192.0.2.2 and inet6", func(f bfFlow) bool { return f.Exporter == "192.0.2.2" && strings.Contains(f.Src, ":") }},
		{"inet and (dst port 80 or dst port 8080)", func(f bfFlow) bool {
			return !strings.Contains(f.Src, ":") && tp(f) && (f.DstPort == 80 || f.DstPort == 8080)
		}},
		{"any", func(bfFlow) bool { return true }},
	}
	for _, c := range cases {
		wantN, wantBytes := 0, 0
		for _, f := range fs {
			if c.want(f) {
				wantN++
				wantBytes += f.Bytes
			}
		}
		var out, errb bytes.Buffer
		sum, err := Run(Config{Inputs: []string{path}, Filter: mustFilter(t, c.expr), StatKeys: []string{"proto"}, Output: "json"}, &out, &errb)
		if err != nil {
			t.Fatal(err)
		}
		gotBytes := 0
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var row struct{ Bytes int }
			if line != "" {
				json.Unmarshal([]byte(line), &row)
			}
			gotBytes += row.Bytes
		}
		if sum.Matched != int64(wantN) || gotBytes != wantBytes {
			t.Errorf("filter %q: matched %d flows, %d bytes; want %d, %d", c.expr, sum.Matched, gotBytes, wantN, wantBytes)
		}
	}
}

func TestTimelineBruteForce(t *testing.T) {
	fs := randomFlows(1000, 3)
	path := writeBF(t, fs)
	const interval = 7 * time.Minute
	want := map[int64]bfAgg{}
	lo, hi := int64(1<<62), int64(0)
	for _, f := range fs {
		b := f.Start / int64(interval) * int64(interval)
		a := want[b]
		a.Flows++
		a.Packets += f.Packets
		a.Bytes += f.Bytes
		want[b] = a
		lo, hi = min(lo, b), max(hi, b)
	}
	var out, errb bytes.Buffer
	if _, err := Run(Config{Inputs: []string{path}, Timeline: interval, Output: "json"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	var times []int64
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var row struct {
			TimeNs                int64 `json:"time_ns"`
			Flows, Packets, Bytes int
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		times = append(times, row.TimeNs)
		if got := (bfAgg{row.Flows, row.Packets, row.Bytes}); got != want[row.TimeNs] {
			t.Errorf("bucket %d: got %v, want %v", row.TimeNs, got, want[row.TimeNs])
		}
	}
	if !sort.SliceIsSorted(times, func(i, j int) bool { return times[i] < times[j] }) || len(times) != int((hi-lo)/int64(interval))+1 {
		t.Errorf("got %d buckets, want %d consecutive ones", len(times), (hi-lo)/int64(interval)+1)
	}
}
