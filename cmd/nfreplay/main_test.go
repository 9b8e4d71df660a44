package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfkit/nfkit/capture"
	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/benchpkt"
)

func TestParseArgs(t *testing.T) {
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"-t", "127.0.0.1:9000"}, "unbounded"},
		{[]string{"-t", "127.0.0.1:9000", "--rate", "1M"}, "unbounded"},
		{[]string{"-t", "10.0.0.1:9000", "--count", "10"}, "only loopback"},
		{[]string{"-t", "192.168.1.1:2055", "--count", "10"}, "only loopback"},
		{[]string{"-t", "8.8.8.8:2055", "--count", "10"}, "only loopback"},
		{[]string{"-t", "[2001:db8::1]:2055", "--count", "10"}, "only loopback"},
		{[]string{"-t", "[::ffff:10.1.2.3]:2055", "--count", "10"}, "only loopback"},
		{[]string{"-t", "example.com:2055", "--count", "10"}, "loopback IP"},
		{[]string{"-t", "127.0.0.1", "--count", "10"}, "missing port"},
		{[]string{"-t", "127.0.0.1:0", "--count", "10"}, "bad port"},
		{[]string{"-t", "127.0.0.1:70000", "--count", "10"}, "bad port"},
		{[]string{"--duration", "2h"}, "exceeds"},
		{[]string{"--duration", "-1s"}, "positive"},
		{[]string{"--count", "10", "--rate", "1M", "--pps", "10k"}, "not both"},
		{[]string{"--count", "10", "--rate", "fast"}, "bad rate"},
		{[]string{"--count", "10", "--rate", "-5"}, "bad rate"},
		{[]string{"--count", "1.5"}, "bad count"},
		{[]string{"--count", "10", "--source-addrs", "0"}, "--source-addrs"},
		{[]string{"--count", "10", "--source-addrs", "100000"}, "--source-addrs"},
		{[]string{"--count", "10", "--batch", "0"}, "--batch"},
		{[]string{"--count", "10", "--template-every", "-1"}, "--template-every"},
		{[]string{"-t", "[::1]:2055", "--count", "10", "--source-addrs", "2"}, "IPv4 target"},
		{[]string{"--count", "10", "extra"}, "unexpected"},
	}
	for _, c := range bad {
		_, err := parseArgs(c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want one containing %q", c.args, err, c.want)
		}
	}

	cfg, err := parseArgs([]string{"-t", "127.0.0.2:9995", "--rate", "1.5M", "--count", "2k", "--source-addrs", "4", "--json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.rate != 1.5e6 || cfg.count != 2000 || cfg.sources != 4 || !cfg.json || cfg.target != netip.MustParseAddrPort("127.0.0.2:9995") {
		t.Errorf("parsed %+v", cfg)
	}
	for _, args := range [][]string{
		{"--duration", "4s"},
		{"-t", "localhost:2055", "-n", "5"},
		{"-t", "[::1]:2055", "-d", "1s", "--pps", "100k"},
		{"-t", "127.255.0.9:2055", "--count", "1", "--rate", "0"},
	} {
		if _, err := parseArgs(args, io.Discard); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	if code := run([]string{"--count", "1", "-t", "1.1.1.1:2055"}, io.Discard, io.Discard, nil); code != 2 {
		t.Errorf("non-loopback target: exit %d, want 2", code)
	}
}

func TestSourceAddr(t *testing.T) {
	for i, want := range map[int]string{0: "127.0.0.1", 1: "127.0.0.2", 254: "127.0.0.255", 255: "127.0.1.0", 65535: "127.1.0.0"} {
		if got := sourceAddr(i).String(); got != want {
			t.Errorf("sourceAddr(%d) = %s, want %s", i, got, want)
		}
	}
}

func TestCursorRewritesSequence(t *testing.T) {
	tpl, data := benchpkt.V9()
	s := generated(3)
	c := newCursor(s, false)
	buf := make([]byte, 2048)
	var kinds []string
	for i := range 9 {
		p := c.next()
		b := c.fill(buf, p, 1234)
		if seq := be.Uint32(b[12:]); seq != uint32(i) {
			t.Errorf("packet %d: sequence %d", i, seq)
		}
		if secs := be.Uint32(b[8:]); secs != 1234 {
			t.Errorf("packet %d: export time %d", i, secs)
		}
		if p.template {
			kinds = append(kinds, "T")
			if !bytes.Equal(b[20:], tpl[20:]) {
				t.Errorf("template body changed")
			}
		} else {
			kinds = append(kinds, "D")
			if !bytes.Equal(b[20:], data[20:]) {
				t.Errorf("data body changed")
			}
		}
	}
	if got := strings.Join(kinds, ""); got != "TDDDTDDDT" {
		t.Errorf("order %s, want TDDDTDDDT", got)
	}

	// v5 counts flows, IPFIX counts records, per domain.
	v5 := benchpkt.V5()
	ipt, ipd := benchpkt.IPFIX()
	st := &stream{pkts: []pkt{
		{data: v5, flows: benchpkt.V5Records, records: benchpkt.V5Records},
		{data: ipt},
		{data: ipd, flows: benchpkt.IPFIXRecords, records: benchpkt.IPFIXRecords},
	}}
	c = newCursor(st, false)
	var v5seq, ipseq []uint32
	for range 6 {
		p := c.next()
		b := c.fill(buf, p, 1)
		switch be.Uint16(b) {
		case 5:
			v5seq = append(v5seq, be.Uint32(b[16:]))
		case 10:
			ipseq = append(ipseq, be.Uint32(b[8:]))
		}
	}
	if want := []uint32{0, 30}; !equal(v5seq, want) {
		t.Errorf("v5 sequences %v, want %v", v5seq, want)
	}
	if want := []uint32{0, 0, 22, 22}; !equal(ipseq, want) {
		t.Errorf("IPFIX sequences %v, want %v", ipseq, want)
	}

	// --verbatim leaves packets alone.
	c = newCursor(generated(0), true)
	c.next()
	if b := c.fill(buf, c.next(), 99); !bytes.Equal(b, data) {
		t.Error("verbatim packet changed")
	}
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sink is a local UDP socket that counts what arrives, per source.
type sink struct {
	conn *net.UDPConn
	mu   sync.Mutex
	pkts map[netip.Addr][][]byte
	n    int
}

func newSink(t *testing.T) *sink {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	setRcvbuf(conn, 16<<20)
	s := &sink{conn: conn, pkts: map[netip.Addr][][]byte{}}
	go func() {
		buf := make([]byte, 65536)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			s.mu.Lock()
			s.pkts[from.Addr()] = append(s.pkts[from.Addr()], append([]byte(nil), buf[:n]...))
			s.n++
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return s
}

func (s *sink) addr() string { return s.conn.LocalAddr().String() }

// waitFor waits until n packets arrived (or a second passed) and returns
// the count.
func (s *sink) waitFor(n int) int {
	deadline := time.Now().Add(time.Second)
	for {
		s.mu.Lock()
		got := s.n
		s.mu.Unlock()
		if got >= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func runJSON(t *testing.T, args ...string) report {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(append(args, "--json"), &out, &errb, nil); code != 0 {
		t.Fatalf("nfreplay %q: exit %d: %s", args, code, errb.String())
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	return r
}

func TestLoopbackGenerated(t *testing.T) {
	s := newSink(t)
	const count = 3000
	r := runJSON(t, "-t", s.addr(), "--rate", "500k", "--count", "3000", "--source-addrs", "3", "--template-every", "100", "--batch", "10")
	if r.Packets != count || r.SendErrors != 0 || r.StoppedBy != "count" {
		t.Fatalf("report %+v", r)
	}
	if got := s.waitFor(count); got != count {
		t.Fatalf("received %d packets, sent %d", got, count)
	}
	// 3 sources x (1 + 1000/101) templates.
	if r.TemplatePackets != 30 || r.Flows != (count-30)*benchpkt.V9Records {
		t.Errorf("templates %d, flows %d", r.TemplatePackets, r.Flows)
	}
	// The rate was kept: 3000 packets of which 2970 with 25 flows at 500k
	// flows/s take about 149 ms.
	if r.FlowsPerS > 505e3 || r.ElapsedS < 0.148 {
		t.Errorf("achieved %.0f flows/s in %.3f s: faster than requested", r.FlowsPerS, r.ElapsedS)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pkts) != 3 {
		t.Fatalf("packets from %d sources, want 3", len(s.pkts))
	}
	var dec decode.Decoder
	var out decode.Packet
	flows := 0
	for i := range 3 {
		addr := sourceAddr(i)
		pkts := s.pkts[addr]
		if len(pkts) != count/3 {
			t.Errorf("%s sent %d packets, want %d", addr, len(pkts), count/3)
		}
		for j, p := range pkts {
			if err := dec.Decode(addr, p, &out); err != nil {
				t.Fatalf("%s packet %d: %v", addr, j, err)
			}
			if j == 0 && out.Templates != 1 {
				t.Errorf("%s: first packet is not the template", addr)
			}
			if out.Sequence != uint32(j) {
				t.Fatalf("%s packet %d: sequence %d", addr, j, out.Sequence)
			}
			flows += len(out.Records)
		}
	}
	if flows != int(r.Flows) {
		t.Errorf("decoded %d flows, report says %d", flows, r.Flows)
	}
}

func TestLoopbackCapture(t *testing.T) {
	const capture = "../../testdata/softflowd-v9.pcap"
	c, err := readCapture(capture)
	if err != nil {
		t.Fatal(err)
	}
	perPass := 0
	for _, st := range c.streams {
		perPass += len(st.pkts)
	}
	s := newSink(t)
	count := 2*perPass + 1 // two passes over the capture and one more packet
	r := runJSON(t, "-t", s.addr(), "-r", capture, "--pps", "50k", "--count", strconv.Itoa(count), "--batch", "4")
	if r.Packets != uint64(count) || r.SendErrors != 0 {
		t.Fatalf("report %+v", r)
	}
	if got := s.waitFor(count); got != count {
		t.Fatalf("received %d packets, sent %d", got, count)
	}
	var dec decode.Decoder
	var out decode.Packet
	flows := 0
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, pkts := range s.pkts {
		for _, p := range pkts {
			dec.Decode(addr, p, &out)
			flows += len(out.Records)
		}
	}
	if flows != int(r.Flows) || flows == 0 {
		t.Errorf("decoded %d flows, report says %d", flows, r.Flows)
	}
}

func TestDurationAndStop(t *testing.T) {
	s := newSink(t)
	r := runJSON(t, "-t", s.addr(), "--rate", "100k", "--duration", "150ms")
	if r.StoppedBy != "duration" || r.ElapsedS < 0.15 || r.ElapsedS > 2 {
		t.Errorf("stopped by %s after %.3f s", r.StoppedBy, r.ElapsedS)
	}
	if r.FlowsPerS > 101e3 {
		t.Errorf("%.0f flows/s, requested 100k", r.FlowsPerS)
	}

	stop := make(chan struct{})
	time.AfterFunc(100*time.Millisecond, func() { close(stop) })
	var out bytes.Buffer
	start := time.Now()
	if code := run([]string{"-t", s.addr(), "--pps", "1k", "--duration", "30s"}, &out, io.Discard, stop); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("stop took %v", el)
	}
	if !strings.Contains(out.String(), "stopped by signal") {
		t.Errorf("report: %s", out.String())
	}
}

func TestSendErrorsCounted(t *testing.T) {
	// Nothing listens: the kernel refuses the connected socket's packets.
	s := newSink(t)
	addr := s.addr()
	s.conn.Close()
	var out, errb bytes.Buffer
	code := run([]string{"-t", addr, "--pps", "10k", "--count", "20", "--batch", "1", "--json"}, &out, &errb, nil)
	if code != 1 || !strings.Contains(errb.String(), "not sent") {
		t.Errorf("exit %d, stderr %q; want 1 and a note on unsent packets", code, errb.String())
	}
}

// A pcapng capture gives the packets of the same pcap; a capture cut in
// the middle of a packet is replayed up to the cut, with a warning that
// names the packet and offset.
func TestReadCapturePcapngAndTruncated(t *testing.T) {
	const pcap = "../../testdata/softflowd-ipfix-ether.pcap"
	want, err := readCapture(pcap)
	if err != nil || want.truncated != nil {
		t.Fatal(err, want.truncated)
	}
	ng, err := readCapture("../../capture/testdata/softflowd-ipfix-ether.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ng.streams, want.streams) || !reflect.DeepEqual(ng.exporters, want.exporters) {
		t.Error("the pcapng capture gives other packets than the pcap")
	}

	raw, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcap")
	os.WriteFile(cut, raw[:len(raw)-10], 0o644)
	var stderr bytes.Buffer
	streams, _, err := loadStreams(&config{capture: cut}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	n, all := 0, 0
	for _, s := range streams {
		n += len(s.pkts)
	}
	for _, s := range want.streams {
		all += len(s.pkts)
	}
	if n != all-1 || !strings.Contains(stderr.String(), "capture truncated") || !strings.Contains(stderr.String(), fmt.Sprintf("packet %d at offset", all)) {
		t.Errorf("%d of %d packets; stderr %q", n, all, stderr.String())
	}

	os.WriteFile(cut, raw[:30], 0o644) // no complete packet: nothing to replay
	if _, err := readCapture(cut); !errors.Is(err, capture.ErrTruncated) {
		t.Errorf("capture without a whole packet: %v", err)
	}
	os.WriteFile(cut, []byte("not a capture"), 0o644)
	if _, err := readCapture(cut); !errors.Is(err, capture.ErrFormat) || !strings.Contains(err.Error(), cut) {
		t.Errorf("not a capture: %v", err)
	}
}
