package analyzer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseFilterErrors(t *testing.T) {
	cases := []struct {
		expr     string
		pos, len int
		msg      string
	}{
		{"src net 10.0.0.0/33 and dst port 443", 8, 11, "expected a network"},
		{"src host foo", 9, 3, "expected an IP address"},
		{"dst port https2", 9, 6, "port number"},
		{"src port 443 dst port 80", 13, 3, "missing \"and\" or \"or\""},
		{"proto xyz", 6, 3, "unknown protocol"},
		{"(tcp or udp", 11, 1, "expected \")\""},
		{"tcp and", 7, 1, "expected a filter primitive"},
		{"src banana", 4, 6, "expected host, net, port, as"},
		{"port in [80 443", 15, 1, "expected \"]\" to close the list at column 9"},
		{"port in [80 http5]", 12, 5, "port number"},
		{"port in []", 9, 1, "empty list"},
		{"flags SYN", 6, 3, "letters of F (FIN)"},
		{"flags > 64", 8, 2, "0 to 63"},
		{"dst tos 4", 0, 3, "only the source TOS"},
		{"src if 3", 0, 3, "does not take \"src\""},
		{"in port 80", 0, 2, "does not take \"in\""},
		{"mac 00:11:22:33:44", 4, 14, "MAC address"},
		{"net 10.0.0.0 255.0.255.0", 13, 11, "netmask"},
		{"geo DE", 0, 3, "geo location database"},
		{"next ip 10.0.0.1", 0, 4, "not read by nfanalyze"},
		{"bps > fast", 6, 4, "expected a number"},
		{"vlan 5000", 5, 4, "0 to 4095"},
		{"flowdir sideways", 8, 8, "ingress, egress"},
		{"frobnicate", 0, 10, "unknown filter primitive"},
		{"bytes > lots", 8, 4, "expected a number"},
		{"tcp )", 4, 1, "unexpected"},
	}
	for _, c := range cases {
		_, err := ParseFilter(c.expr)
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("ParseFilter(%q) = %v, want a FilterError", c.expr, err)
			continue
		}
		if fe.Pos != c.pos || fe.Len != c.len || !strings.Contains(fe.Msg, c.msg) {
			t.Errorf("ParseFilter(%q) error at %d+%d %q, want at %d+%d containing %q", c.expr, fe.Pos, fe.Len, fe.Msg, c.pos, c.len, c.msg)
		}
		// The caret line points at the token.
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != 3 || strings.Index(lines[2], "^") != c.pos+2 {
			t.Errorf("ParseFilter(%q) error text:\n%s", c.expr, err)
		}
	}
	for _, ok := range []string{"", "any", "src or dst host 10.0.0.1", "ip 10.0.0.1", "net 2001:db8::/32", "port 53", "port <= 1023",
		"proto tcp", "icmp6", "not not tcp", "router 192.0.2.1", "packets gt 5",
		"port in [80 443]", "src port in [ssh,https]", "net 10.0/16", "net 10.0.0.0 255.255.0.0", "flags AS", "flags X", "flags > 2",
		"bpp < 100", "bps > 1m", "pps >= 10k", "duration > 1000", "tos 4", "src tos 4", "in if 3", "out if 7", "if 3", "router ip 127.0.0.1",
		"src as 64500", "as in [64500 64501]", "vlan 10", "dst vlan 20", "mac 00:11:22:33:44:55", "in src mac 00:11:22:33:44:55",
		"out dst mac 00-11-22-33-44-55", "ip in [10.0.0.1 192.0.2.0/24 2001:db8::/32]", "mask 24", "src mask > 16", "icmp-type 8",
		"icmp-code 0", "flowdir egress", "in bytes > 1k", "out packets 0", "flows > 1"} {
		if _, err := ParseFilter(ok); err != nil {
			t.Errorf("ParseFilter(%q) = %v", ok, err)
		}
	}
}

func TestScan(t *testing.T) {
	var s lineScanner
	var f Flow
	if err := s.scan(benchLine, &f); err != nil {
		t.Fatal(err)
	}
	want := Flow{Start: 1700000000000000000, End: 1700000020000000000, Received: 1700000020512345678, Bytes: 123456, Packets: 321, Flows: 1,
		Src: netip.MustParseAddr("10.0.12.34"), Dst: netip.MustParseAddr("198.51.100.77"), Exporter: netip.MustParseAddr("192.0.2.1"),
		SrcAS: 64500, DstAS: 15169, SrcPort: 51234, DstPort: 443, Proto: 6, Version: 10, Flags: flowHasStart | flowHasEnd,
		TCPFlags: 27, InIf: 3, OutIf: 7, SrcMask: 24, DstMask: 16}
	if f != want {
		t.Errorf("got scan() = %+v,\nwant %+v", f, want)
	}
	for _, c := range []struct{ line, err string }{
		{`{"src_addr":"1.2.3.4","dst_addr":"::1","bytes":18446744073709551616}`, "out of range"},
		{`{"src_addr":"1.2.3.4","dst_addr":"::1"} x`, "after the record"},
		{`{"src_addr":"1.2.3.4","dst_addr":"::1",}`, "expected a key"},
		{`{"src_addr":"1.2.3.4" "dst_addr":"::1"}`, "expected ','"},
		{`{"src_addr":"1.2.3.4","dst_addr":"::1","x":[1,2}`, "expected ','"},
		{`{"src_addr":"1.2.3.4","dst_addr":"::1","x":"unterminated}`, "unterminated"},
		{`{"src_addr":"01.2.3.4","dst_addr":"::1"}`, "bad address"},
		{`{"dst_addr":"::1"}`, "missing field \"src_addr\""},
		{`{}`, "missing field"},
		{`[]`, "expected '{'"},
	} {
		if err := s.scan([]byte(c.line), &f); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("scan(%s) = %v, want an error containing %q", c.line, err, c.err)
		}
	}
	// Whitespace, escapes in unknown values, nulls, floats and IPv6.
	line := ` { "a\"b" : "x\\\"y" , "src_addr" : "2001:db8::1", "dst_addr":"::ffff:10.0.0.1", "bytes": 1.5e3, "packets": null, "flows": 3 } `
	if err := s.scan([]byte(line), &f); err != nil {
		t.Fatal(err)
	}
	if f.Bytes != 1500 || f.Packets != 0 || f.Flows != 3 || f.Src != netip.MustParseAddr("2001:db8::1") {
		t.Errorf("got %+v", f)
	}
}

func TestUintValue(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		v := r.Uint64() >> r.IntN(64)
		s := strconv.FormatUint(v, 10) + []string{"", ",", "}", " ", ",\"x\":1"}[i%5]
		got, n, err := uintValue([]byte(s), 0, nil, math.MaxUint64)
		if err != nil || got != v || n != len(strconv.FormatUint(v, 10)) {
			t.Fatalf("uintValue(%q) = %d, %d, %v; want %d", s, got, n, err, v)
		}
	}
}

// FuzzScan: the scanner never panics, and whatever it accepts encoding/json
// reads as an object with the same addresses and counters.
func FuzzScan(f *testing.F) {
	f.Add(string(benchLine))
	f.Add(`{"src_addr":"1.2.3.4","dst_addr":"::1","bytes":1}`)
	f.Add(`{"src_addr":1,"dst_addr":"::1","x":{"y":[true,false,null,"\\"]}}`)
	f.Fuzz(func(t *testing.T, line string) {
		var s lineScanner
		var fl Flow
		if s.scan([]byte(line), &fl) != nil {
			return
		}
		var m map[string]any
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("scan accepted %q, encoding/json did not: %v", line, err)
		}
		if src, ok := m["src_addr"].(string); ok {
			if a, err := netip.ParseAddr(src); err == nil && a != fl.Src {
				t.Errorf("src %v, want %v", fl.Src, a)
			}
		}
		if b, ok := m["bytes"].(json.Number); ok {
			if v, err := strconv.ParseUint(string(b), 10, 64); err == nil && v != fl.Bytes {
				t.Errorf("bytes %d, want %d", fl.Bytes, v)
			}
		}
	})
}

func TestHuman(t *testing.T) {
	for _, c := range []struct {
		n    uint64
		want string
	}{{0, "0B"}, {1023, "1023B"}, {1024, "1.00K"}, {4456448, "4.25M"}, {3 << 30, "3.00G"}, {5 << 40, "5.00T"}} {
		if got := HumanSize(c.n); got != c.want {
			t.Errorf("HumanSize(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	for _, c := range []struct {
		s    int64
		want string
	}{{0, "0 sec"}, {59, "59 sec"}, {60, "01:00 min"}, {927, "15:27 min"}, {3600, "60:00 min"}, {3601, "1:00.01 hours"}, {7389, "2:03.09 hours"}} {
		if got := HumanDuration(c.s * int64(time.Second)); got != c.want {
			t.Errorf("HumanDuration(%ds) = %q, want %q", c.s, got, c.want)
		}
	}
}

func TestService(t *testing.T) {
	for _, c := range []struct {
		sp, dp uint16
		proto  uint8
		want   string
	}{{51000, 22, 6, "ssh"}, {22, 51000, 6, "ssh"}, {443, 40000, 17, "https"}, {40001, 31337, 6, "tcp/31337"},
		{5353, 5353, 17, "mdns"}, {0, 2048, 1, "icmp"}, {0, 0, 47, "gre"}, {8080, 443, 6, "https"}} {
		f := Flow{SrcPort: c.sp, DstPort: c.dp, Proto: c.proto}
		if got := Service(&f); got != c.want {
			t.Errorf("Service(%d->%d/%d) = %q, want %q", c.sp, c.dp, c.proto, got, c.want)
		}
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func flowAt(src, dst string, sp, dp uint16, start, end time.Duration) Flow {
	return Flow{Src: addr(src), Dst: addr(dst), SrcPort: sp, DstPort: dp, Proto: 6, Start: int64(start), End: int64(end),
		Bytes: 100, Packets: 1, Flows: 1, Flags: flowHasStart | flowHasEnd | flowMatched}
}

func TestPairing(t *testing.T) {
	const s = time.Second
	cases := []struct {
		name  string
		flows []Flow
		want  []string
	}{
		{"exact", []Flow{flowAt("10.0.0.1", "10.0.0.2", 5000, 80, 0, 5*s), flowAt("10.0.0.2", "10.0.0.1", 80, 5000, s, 5*s)},
			[]string{"0s 10.0.0.1:5000 > 10.0.0.2:80 pair"}},
		{"within tolerance", []Flow{flowAt("10.0.0.1", "10.0.0.2", 5000, 80, 0, s), flowAt("10.0.0.2", "10.0.0.1", 80, 5000, 2*s, 3*s)},
			[]string{"0s 10.0.0.1:5000 > 10.0.0.2:80 pair"}},
		{"beyond tolerance", []Flow{flowAt("10.0.0.1", "10.0.0.2", 5000, 80, 0, s), flowAt("10.0.0.2", "10.0.0.1", 80, 5000, 4*s, 5*s)},
			[]string{"0s 10.0.0.1:5000 > 10.0.0.2:80 one-way", "4s 10.0.0.2:80 > 10.0.0.1:5000 one-way"}},
		{"ports must match", []Flow{flowAt("10.0.0.1", "10.0.0.2", 5000, 80, 0, s), flowAt("10.0.0.2", "10.0.0.1", 80, 5001, 0, s)},
			[]string{"0s 10.0.0.1:5000 > 10.0.0.2:80 one-way", "0s 10.0.0.2:80 > 10.0.0.1:5001 one-way"}},
		{"reply first in file, client shown first", []Flow{flowAt("10.0.0.2", "10.0.0.1", 443, 5000, 2*s, 5*s), flowAt("10.0.0.1", "10.0.0.2", 5000, 443, s, 5*s)},
			[]string{"1s 10.0.0.1:5000 > 10.0.0.2:443 pair"}},
		{"same direction twice, oldest pairs first", []Flow{flowAt("10.0.0.1", "10.0.0.2", 5000, 80, 0, 10*s), flowAt("10.0.0.1", "10.0.0.2", 5000, 80, s, 10*s),
			flowAt("10.0.0.2", "10.0.0.1", 80, 5000, 2*s, 10*s)},
			[]string{"0s 10.0.0.1:5000 > 10.0.0.2:80 pair", "1s 10.0.0.1:5000 > 10.0.0.2:80 one-way"}},
	}
	for _, c := range cases {
		var got []string
		p := newPairer(int64(time.Minute), int64(2*s), 0, nil, func(cn *Conn) {
			kind := "pair"
			if cn.OneWay() {
				kind = "one-way"
			}
			got = append(got, fmt.Sprintf("%v %v > %v %s", time.Duration(cn.Start), netip.AddrPortFrom(cn.A.Src, cn.A.SrcPort), netip.AddrPortFrom(cn.A.Dst, cn.A.DstPort), kind))
		})
		for i := range c.flows {
			p.add(&c.flows[i])
		}
		p.flush()
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestPairingBounded: a long stream keeps memory bounded by the window and the
// flows alive at once, not by its length; output stays in start order.
func TestPairingBounded(t *testing.T) {
	const n = 200000
	last := int64(-1 << 63)
	var emitted, maxHeld int
	p := newPairer(int64(10*time.Second), int64(time.Second), 0, nil, func(c *Conn) {
		if c.Start < last {
			t.Fatalf("output out of order: %d after %d", c.Start, last)
		}
		last = c.Start
		emitted++
	})
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < n; i++ {
		// 1000 flows per second, exported up to 5 s out of start order
		start := int64(i)*int64(time.Millisecond) - int64(r.IntN(5000))*int64(time.Millisecond)
		f := flowAt("10.0.0.1", "10.0.0.2", uint16(i), 80, time.Duration(start), time.Duration(start)+time.Second)
		p.add(&f)
		maxHeld = max(maxHeld, p.live+p.out.Len())
	}
	p.flush()
	if emitted != n || p.Late != 0 {
		t.Errorf("emitted %d of %d, %d late", emitted, n, p.Late)
	}
	if maxHeld > 20000 { // window (10 s) + tolerance at 1000 flows/s, with slack
		t.Errorf("held up to %d flows at once; memory is not bounded by the window", maxHeld)
	}
}

// TestPairingAfterFutureFlow: one flow stamped years ahead moves the horizon
// there, so every flow after it is late. They still pair with their replies,
// and those without one still leave, so that memory stays bounded.
func TestPairingAfterFutureFlow(t *testing.T) {
	const n = 300000
	var emitted, pairs, maxHeld int
	p := newPairer(int64(10*time.Second), int64(time.Second), 0, nil, func(c *Conn) {
		emitted++
		if c.HasB {
			pairs++
		}
	})
	future := flowAt("10.9.9.9", "10.0.0.2", 1, 80, 10*365*24*time.Hour, 10*365*24*time.Hour+time.Second)
	p.add(&future)
	wantPairs := 0
	for i := 0; i < n; i++ {
		start := time.Duration(i) * time.Millisecond
		f := flowAt("10.0.0.1", "10.0.0.2", uint16(i), 80, start, start+time.Second)
		p.add(&f)
		if i%2 == 0 { // the reply
			g := flowAt("10.0.0.2", "10.0.0.1", 80, uint16(i), start, start+time.Second)
			p.add(&g)
			wantPairs++
		}
		maxHeld = max(maxHeld, p.live+p.out.Len())
	}
	p.flush()
	if pairs != wantPairs || emitted != n+1 { // a pair or a one-way flow each, and the future flow
		t.Errorf("%d connections (%d pairs), want %d (%d pairs)", emitted, pairs, n+1, wantPairs)
	}
	if maxHeld > defaultMaxYoung+1000 {
		t.Errorf("held up to %d flows at once; memory is not bounded", maxHeld)
	}
}

type slowResolver struct {
	delay    time.Duration
	inflight atomic.Int64
	peak     atomic.Int64
	mu       sync.Mutex
	calls    map[netip.Addr]int
}

func (r *slowResolver) LookupAddr(ctx context.Context, a netip.Addr) (string, error) {
	n := r.inflight.Add(1)
	defer r.inflight.Add(-1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			break
		}
	}
	r.mu.Lock()
	r.calls[a]++
	r.mu.Unlock()
	select {
	case <-time.After(r.delay):
		return "host-" + strings.ReplaceAll(a.String(), ".", "-"), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func TestNamesBoundCacheTimeout(t *testing.T) {
	r := &slowResolver{delay: 5 * time.Millisecond, calls: map[netip.Addr]int{}}
	n := NewNames(r, 4, time.Second)
	var addrs []netip.Addr
	for i := 0; i < 100; i++ {
		addrs = append(addrs, netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
	}
	for _, a := range addrs {
		n.Prefetch(a)
		n.Prefetch(a)
	}
	for _, a := range addrs {
		if got, want := n.Name(a), "host-"+strings.ReplaceAll(a.String(), ".", "-"); got != want {
			t.Errorf("Name(%v) = %q, want %q", a, got, want)
		}
	}
	n.Close()
	if p := r.peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak lookups in flight = %d, want 2..4 (the bound)", p)
	}
	for a, c := range r.calls {
		if c != 1 {
			t.Errorf("%v looked up %d times, want once (cache)", a, c)
		}
	}
	// Timeout: a resolver slower than the timeout leaves names empty, quickly.
	slow := &slowResolver{delay: time.Hour, calls: map[netip.Addr]int{}}
	n = NewNames(slow, 8, 20*time.Millisecond)
	start := time.Now()
	for _, a := range addrs[:16] {
		n.Prefetch(a)
	}
	for _, a := range addrs[:16] {
		if got := n.Name(a); got != "" {
			t.Errorf("Name(%v) = %q after a timeout, want \"\"", a, got)
		}
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("16 timed-out lookups with 8 workers took %v", el)
	}
	n.Close()
}
