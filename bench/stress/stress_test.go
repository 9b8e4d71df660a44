//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/spoof"
)

func TestParseStatusSelf(t *testing.T) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	m, err := parseStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS < 1<<20 || m.HWM < m.RSS {
		t.Errorf("got VmRSS %d, VmHWM %d bytes for this test process, want RSS ≥ 1 MiB and HWM ≥ RSS", m.RSS, m.HWM)
	}
}

func TestParseStatus(t *testing.T) {
	good := "Name:\tnfcollect\nVmPeak:\t 2000 kB\nVmHWM:\t   12345 kB\nVmRSS:\t    2048 kB\nThreads:\t9\n"
	m, err := parseStatus([]byte(good))
	if err != nil || m.RSS != 2048<<10 || m.HWM != 12345<<10 {
		t.Errorf("got parseStatus = %+v, %v, want RSS 2 MiB, HWM 12345 KiB", m, err)
	}
	for _, bad := range []string{
		"Name:\tzombie\nState:\tZ (zombie)\n", // no Vm lines
		"VmHWM:\t1 kB\n",                      // no VmRSS
		"VmRSS:\t12 MB\nVmHWM:\t1 kB\n",       // unit
		"VmRSS:\t-3 kB\nVmHWM:\t1 kB\n",
		"VmRSS:\tlots kB\nVmHWM:\t1 kB\n",
	} {
		if _, err := parseStatus([]byte(bad)); err == nil {
			t.Errorf("got parseStatus(%q) = nil error, want an error", bad)
		}
	}
}

const sampleMetrics = `# HELP nfcollect_packets_received_total Export packets received.
# TYPE nfcollect_packets_received_total counter
nfcollect_packets_received_total{exporter="127.0.0.1"} 10
nfcollect_packets_received_total{exporter="127.254.0.1"} 5
nfcollect_packets_received_total{exporter="other"} 1e3
nfcollect_decode_errors_total{exporter="127.254.0.1",reason="limit"} 3
nfcollect_decode_errors_total{exporter="127.0.0.1",reason="truncated"} 4
nfcollect_decode_errors_total{exporter="127.0.0.1",reason="limit"} 2
nfcollect_odd{path="a \"quoted\" \\ value",x="y"} 7
nfcollect_kernel_receive_drops 42
broken line
nfcollect_template_evictions_total{cause="exporters"} 17
`

func TestParseMetrics(t *testing.T) {
	m := parseMetrics([]byte(sampleMetrics))
	for _, tc := range []struct {
		name  string
		match []string
		want  float64
	}{
		{"nfcollect_packets_received_total", nil, 1015},
		{"nfcollect_packets_received_total", []string{"exporter", "127.254.0.1"}, 5},
		{"nfcollect_decode_errors_total", []string{"reason", "limit"}, 5},
		{"nfcollect_kernel_receive_drops", nil, 42},
		{"nfcollect_odd", []string{"path", `a "quoted" \ value`, "x", "y"}, 7},
		{"nfcollect_missing", nil, 0},
	} {
		if got := m.sum(tc.name, tc.match...); got != tc.want {
			t.Errorf("got sum(%s, %q) = %v, want %v", tc.name, tc.match, got, tc.want)
		}
	}
	by := m.byLabel("nfcollect_decode_errors_total", "reason", "exporter", "127.0.0.1")
	if len(by) != 2 || by["truncated"] != 4 || by["limit"] != 2 {
		t.Errorf("got byLabel = %v, want truncated 4, limit 2", by)
	}
	r := &result{Final: m, AtFlood: m}
	got := notable(r)
	for _, want := range []string{"received 1,015", "kernel drops 42", "errors limit 5", "errors truncated 4", "template_evictions 17"} {
		if !strings.Contains(got, want) {
			t.Errorf("got notable = %q, want it to contain %q", got, want)
		}
	}
	var l legitRun
	l.Addr = netip.MustParseAddr("127.254.0.1")
	l.fromMetrics(m)
	if !l.Listed || l.Received != 5 || l.Errors["limit"] != 3 {
		t.Errorf("got legit counters %+v, want listed, 5 received, 3 limit errors", l)
	}
}

func TestParseGoMem(t *testing.T) {
	text := "heap profile: 1: 2 [3: 4] @ heap/1048576\n\n# runtime.MemStats\n# Alloc = 100\n# Sys = 73400320\n# HeapIdle = 2097152\n# HeapInuse = 62914560\n# HeapReleased = 1048576\n# StackInuse = 524288\n# NumGC = 12\n"
	g, ok := parseGoMem([]byte(text))
	if !ok || g.HeapInuse != 62914560 || g.Sys != 73400320 || g.HeapIdle != 2097152 || g.HeapReleased != 1048576 || g.StackInuse != 524288 || g.NumGC != 12 {
		t.Errorf("got parseGoMem = %+v, %v", g, ok)
	}
	if _, ok := parseGoMem([]byte("not a heap profile")); ok {
		t.Error("got ok for text without MemStats lines")
	}
}

func TestFlagNames(t *testing.T) {
	usage := "usage: nfcollect [-p port]\n\n  -D\tdebug\n  -metrics addr\n    \tserve\n  -o file\n    \toutput\n  -templates file\n    \tpersist\n  -templates-save-interval duration\n    \tsave every\n"
	f := flagNames([]byte(usage))
	for _, want := range []string{"D", "metrics", "o", "templates", "templates-save-interval"} {
		if !f[want] {
			t.Errorf("flag %q not found in %v", want, f)
		}
	}
	if got := saveIntervalFlag(f); got != "templates-save-interval" {
		t.Errorf("got saveIntervalFlag = %q, want templates-save-interval", got)
	}
	delete(f, "templates-save-interval")
	if got := saveIntervalFlag(f); got != "" {
		t.Errorf("got saveIntervalFlag = %q without such a flag, want \"\"", got)
	}
}

func TestReadCapture(t *testing.T) {
	path := filepath.Join("..", "..", "testdata", "softflowd-ipfix.pcap")
	pkts, err := readCapture(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) == 0 || !pkts[0].template {
		t.Fatalf("got %d datagrams, first has templates %v; want the template first", len(pkts), len(pkts) > 0 && pkts[0].template)
	}
	if n := decodedFlows(pkts); n == 0 {
		t.Error("got 0 flows decoded from the capture")
	}
	if _, err := readCapture(filepath.Join("..", "..", "README.md")); err == nil {
		t.Error("got no error reading a text file as a capture")
	}
}

func TestHasTemplateSet(t *testing.T) {
	v9 := func(sets ...uint16) []byte {
		b := make([]byte, 20)
		b[1] = 9
		for _, id := range sets {
			b = append(b, byte(id>>8), byte(id), 0, 8, 0, 0, 0, 0)
		}
		return b
	}
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{v9(256, 0), true},
		{v9(1), true},
		{v9(256, 300), false},
		{append([]byte{0, 10}, make([]byte, 14)...), false},
		{[]byte{0, 5, 0, 0}, false},
		{nil, false},
		{append(v9(), 1, 0, 0, 0), false}, // a set length below 4 ends the walk
	} {
		if got := hasTemplateSet(tc.b); got != tc.want {
			t.Errorf("got hasTemplateSet(% x) = %v, want %v", tc.b, got, tc.want)
		}
	}
}

func TestCountOutput(t *testing.T) {
	dir := t.TempDir()
	a, b := netip.MustParseAddr("127.254.0.1"), netip.MustParseAddr("127.254.0.2")
	var text strings.Builder
	wantA, wantB, lines := 0, 0, 0
	// Lines of varied length, so keys straddle the counter's 1 MiB blocks.
	for i := 0; text.Len() < 5<<20; i++ {
		src := "127.3.0.1"
		switch {
		case i%7 == 0:
			src, wantA = a.String(), wantA+1
		case i%11 == 0:
			src, wantB = b.String(), wantB+1
		}
		fmt.Fprintf(&text, `{"type":"NETFLOW_V9","sampler_address":"%s","pad":"%s"}`+"\n", src, strings.Repeat("x", i%97))
		lines++
	}
	path := filepath.Join(dir, "flows.zst")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw, err := zstd.NewWriter(f)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write([]byte(text.String()))
	zw.Close()
	f.Close()
	oc := countOutput(path, a, b)
	if oc.Err != "" || oc.Lines != int64(lines) || oc.From[a] != int64(wantA) || oc.From[b] != int64(wantB) {
		t.Errorf("got %d lines, %d from %v, %d from %v (err %q), want %d, %d, %d", oc.Lines, oc.From[a], a, oc.From[b], b, oc.Err, lines, wantA, wantB)
	}
	// A file cut short (SIGKILL) is counted as far as it reads, with an
	// error.
	whole, _ := os.ReadFile(path)
	os.WriteFile(path, whole[:len(whole)/2], 0o644)
	oc = countOutput(path, a, b)
	if oc.Err == "" || oc.Lines >= int64(lines) {
		t.Errorf("truncated file: got %d lines, err %q; want fewer than %d and an error", oc.Lines, oc.Err, lines)
	}
	if oc := countOutput(filepath.Join(dir, "missing.zst"), a); oc.Err == "" {
		t.Error("got no error for a missing file")
	}
}

// TestFloodRun sends a small paced flood to a local listener and checks
// the bounds and the sources.
func TestFloodRun(t *testing.T) {
	l, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.SetReadBuffer(4 << 20)
	dst := l.LocalAddr().(*net.UDPAddr).AddrPort()
	s, err := spoof.New()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srcs := sources("127.7.0.250", 10) // crosses an octet
	if srcs[9] != netip.MustParseAddr("127.7.1.3") {
		t.Fatalf("got sources ending %v, want 127.7.1.3", srcs[9])
	}
	f := &flood{count: 200, rate: 2000, limit: 5 * time.Second, next: func(i int, buf *[]byte) (netip.Addr, []byte) {
		*buf = fmt.Appendf((*buf)[:0], "%d", i)
		return srcs[i%len(srcs)], *buf
	}}
	r := f.run(context.Background(), s, dst, func() bool { return false })
	if r.Datagrams != 200 || r.StoppedBy != "count" || r.Errors != 0 {
		t.Fatalf("got %+v, want 200 datagrams stopped by count", r)
	}
	if r.Elapsed < 80*time.Millisecond {
		t.Errorf("200 datagrams at 2000/s took %v, want about 100 ms", r.Elapsed)
	}
	buf := make([]byte, 64)
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 200 {
		n, from, err := l.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatal(err)
		}
		var i int
		fmt.Sscan(string(buf[:n]), &i)
		if want := srcs[i%len(srcs)]; from.Addr() != want {
			t.Fatalf("datagram %d: got source %v, want %v", i, from.Addr(), want)
		}
	}
	// Bounded by time and by the stop function.
	f = &flood{limit: 50 * time.Millisecond, rate: 1000, next: func(i int, _ *[]byte) (netip.Addr, []byte) { return srcs[0], []byte("x") }}
	if r := f.run(context.Background(), s, dst, func() bool { return false }); r.StoppedBy != "time" || r.Elapsed > time.Second {
		t.Errorf("got %+v, want stopped by time after 50 ms", r)
	}
	if r := f.run(context.Background(), s, dst, func() bool { return true }); r.StoppedBy != "collector exited" || r.Datagrams != 0 {
		t.Errorf("got %+v, want stopped at once", r)
	}
}

// templateSink keeps what a scenario's prepare sends.
type templateSink struct{ pkts [][]byte }

func (s *templateSink) Send(src netip.Addr, dst netip.AddrPort, p []byte) error {
	s.pkts = append(s.pkts, append([]byte(nil), p...))
	return nil
}

// TestScenarioPackets decodes what each flood sends.
func TestScenarioPackets(t *testing.T) {
	o := &options{seed: 1}
	d := decode.Decoder{}
	var pkt decode.Packet
	first := func(id string, n int) ([]netip.Addr, [][]byte) {
		f := scenarioByID(id).flood(o)
		var srcs []netip.Addr
		var pkts [][]byte
		for i := range n {
			var buf []byte
			src, p := f.next(i, &buf)
			srcs = append(srcs, src)
			pkts = append(pkts, append([]byte(nil), p...))
		}
		return srcs, pkts
	}
	srcs, pkts := first("a", 4)
	for i, p := range pkts {
		if err := d.Decode(srcs[i], p, &pkt); err != nil || pkt.Templates != aTemplates {
			t.Errorf("a: packet %d: got %d templates, %v", i, pkt.Templates, err)
		}
	}
	srcs, pkts = first("b", 20)
	for i, p := range pkts {
		if err := d.Decode(srcs[i], p, &pkt); err != nil || pkt.Templates == 0 || len(p) > 65507 {
			t.Errorf("b: packet %d (%d bytes): got %d templates, %v", i, len(p), pkt.Templates, err)
		}
	}
	srcs, pkts = first("c", 2)
	if len(pkts[0]) != 65507 || srcs[0] == srcs[1] {
		t.Errorf("c: got %d bytes from %v then %v, want 65507 from two sources", len(pkts[0]), srcs[0], srcs[1])
	}
	ts := &templateSink{}
	if err := scenarioByID("c").prepare(ts, netip.MustParseAddrPort("127.0.0.1:9")); err != nil {
		t.Fatal(err)
	}
	for _, tp := range ts.pkts {
		if err := d.Decode(srcs[0], tp, &pkt); err != nil || pkt.Templates != 1 {
			t.Fatalf("c: template packet: got %d templates, %v", pkt.Templates, err)
		}
	}
	if err := d.Decode(srcs[0], pkts[0], &pkt); err != nil || len(pkt.Options) != cRecords || len(pkt.Records) != 0 {
		t.Errorf("c: got %d options records, %d flows, %v, want %d options records and no flows", len(pkt.Options), len(pkt.Records), err, cRecords)
	}
	srcs, pkts = first("d", 4)
	for i, p := range pkts {
		err := d.Decode(srcs[i], p, &pkt)
		var missing *decode.MissingTemplateError
		if len(p) != 28 || !errors.As(err, &missing) || missing.TemplateID != dTID {
			t.Errorf("d: packet %d: got %d bytes, %v, want 28 bytes waiting for template %d", i, len(p), err, dTID)
		}
	}
	srcs, pkts = first("e", 30)
	for i, p := range pkts {
		if err := d.Decode(srcs[i], p, &pkt); err == nil {
			t.Errorf("e: packet %d (% x…) decoded without error", i, p[:min(8, len(p))])
		}
	}
	srcs, pkts = first("f", 2)
	for i, p := range pkts {
		if err := d.Decode(srcs[i], p, &pkt); err != nil || pkt.Templates != fTemplates {
			t.Errorf("f: packet %d: got %d templates, %v, want %d", i, pkt.Templates, err, fTemplates)
		}
	}
}

func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45000: "-45,000"} {
		if got := thousands(v); got != want {
			t.Errorf("got thousands(%v) = %q, want %q", v, got, want)
		}
	}
}
