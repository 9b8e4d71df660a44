package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

var (
	tcpExp  = netip.MustParseAddrPort("192.0.2.1:40000")
	tcpExp2 = netip.MustParseAddrPort("192.0.2.1:40001")
	tcpCol  = netip.MustParseAddrPort("198.51.100.1:4739")
	tcpExp6 = netip.MustParseAddrPort("[2001:db8::1]:40000")
	tcpCol6 = netip.MustParseAddrPort("[2001:db8::2]:4739")
)

// tcpSegment returns an Ethernet frame of a TCP segment (gopacket's
// serializers).
func tcpSegment(tb testing.TB, src, dst netip.AddrPort, seq uint32, syn, fin, rst bool, payload []byte) []byte {
	tb.Helper()
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()), Seq: seq,
		SYN: syn, FIN: fin, RST: rst, ACK: !syn, Window: 65535}
	var ls []gopacket.SerializableLayer
	et := layers.EthernetTypeIPv4
	if src.Addr().Is4() {
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: ipOf(src.Addr()), DstIP: ipOf(dst.Addr())}
		tcp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, ip)
	} else {
		et = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolTCP, SrcIP: ipOf(src.Addr()), DstIP: ipOf(dst.Addr())}
		tcp.SetNetworkLayerForChecksum(ip)
		ls = append(ls, ip)
	}
	ls = append(ls, tcp, gopacket.Payload(payload))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, serialize, ls...); err != nil {
		tb.Fatal(err)
	}
	return etherFrame(uint16(et), append([]byte(nil), buf.Bytes()...))
}

// ipfixMessage returns an IPFIX message of n bytes (at least 20): the
// header (sequence number seq), then one data set of template 256 filled
// with the byte fill.
func ipfixMessage(n int, seq uint32, fill byte) []byte {
	m := make([]byte, n)
	binary.BigEndian.PutUint16(m, 10)
	binary.BigEndian.PutUint16(m[2:], uint16(n))
	binary.BigEndian.PutUint32(m[4:], 1700000000)
	binary.BigEndian.PutUint32(m[8:], seq)
	binary.BigEndian.PutUint16(m[16:], 256)
	binary.BigEndian.PutUint16(m[18:], uint16(n-16))
	for i := 20; i < n; i++ {
		m[i] = fill
	}
	return m
}

// stream builds the segments of one direction of a connection.
type stream struct {
	tb       testing.TB
	src, dst netip.AddrPort
	isn      uint32
	data     []byte // the stream's bytes
}

// syn returns the SYN segment.
func (s *stream) syn() []byte { return tcpSegment(s.tb, s.src, s.dst, s.isn, true, false, false, nil) }

// seg returns the segment of the stream's bytes [from, to).
func (s *stream) seg(from, to int) []byte {
	return tcpSegment(s.tb, s.src, s.dst, s.isn+1+uint32(from), false, false, false, s.data[from:to])
}

// fin returns the FIN after the stream's bytes.
func (s *stream) fin() []byte {
	return tcpSegment(s.tb, s.src, s.dst, s.isn+1+uint32(len(s.data)), false, true, false, nil)
}

// ack returns an acknowledgement from the other side.
func (s *stream) ack() []byte { return tcpSegment(s.tb, s.dst, s.src, 7, false, false, false, nil) }

// capFile returns a pcap of frames, one a millisecond.
func capFile(frames ...[]byte) []byte {
	var recs []rec
	for i, f := range frames {
		recs = append(recs, rec{ts: t0.Add(time.Duration(i) * time.Millisecond), data: f})
	}
	return pcapFile(false, true, 1, 65535, recs...)
}

// tcpRead reads a capture, recording gaps and connection ends, and checks
// that nothing is left held at the end.
type tcpResult struct {
	dgs  []Datagram
	st   Stats
	gaps []TCPGap
	ends []string // "session N after M datagrams"
}

func tcpRead(tb testing.TB, b []byte) tcpResult {
	tb.Helper()
	r, err := NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	var res tcpResult
	r.OnTCPGap(func(g TCPGap) { res.gaps = append(res.gaps, g) })
	r.OnTCPEnd(func(src netip.AddrPort, session uint64) {
		res.ends = append(res.ends, fmt.Sprintf("%v session %d after %d", src, session, len(res.dgs)))
	})
	for {
		d, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		d.Payload = bytes.Clone(d.Payload)
		res.dgs = append(res.dgs, d)
	}
	res.st = r.Stats()
	if r.tcp.bytes != 0 || len(r.tcp.conns) != 0 {
		tb.Fatalf("after the end: %d bytes held, %d connections", r.tcp.bytes, len(r.tcp.conns))
	}
	st := res.st
	if st.Packets != st.Datagrams-st.TCPMessages+st.NotUDP+st.Malformed+st.UnsupportedLink+st.Fragments+st.TCPSegments {
		tb.Fatalf("stats do not add up: %+v", st)
	}
	return res
}

// checkMessages compares the datagrams with the messages wanted, their
// source, session and completing packet.
func checkMessages(tb testing.TB, got []Datagram, want [][]byte, src []netip.AddrPort, session []uint64, packet []int) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i, d := range got {
		if !bytes.Equal(d.Payload, want[i]) || d.Src != src[i] || d.Session != session[i] || (packet != nil && d.Packet != packet[i]) {
			tb.Errorf("message %d: %d bytes from %v session %d packet %d; want %d bytes from %v session %d packet %v",
				i, len(d.Payload), d.Src, d.Session, d.Packet, len(want[i]), src[i], session[i], packet)
		}
	}
}

// Messages cut across segments and several in one segment, over IPv4 and
// IPv6, from two connections of one exporter interleaved: each message
// once, whole, with its connection's session, in the packet that
// completes it; the ends of the connections after their messages.
func TestTCPFraming(t *testing.T) {
	m := [][]byte{ipfixMessage(100, 0, 1), ipfixMessage(40, 1, 2), ipfixMessage(300, 2, 3), ipfixMessage(20, 3, 4)}
	a := &stream{tb: t, src: tcpExp, dst: tcpCol, isn: 1000, data: bytes.Join(m, nil)}
	b := &stream{tb: t, src: tcpExp2, dst: tcpCol, isn: 0xfffffff0, data: bytes.Join(m[:2], nil)} // wraps around 2^32
	c := &stream{tb: t, src: tcpExp6, dst: tcpCol6, isn: 5, data: m[2]}
	frames := [][]byte{
		a.syn(), a.ack(), b.syn(), c.syn(),
		a.seg(0, 60),    // 5: part of m0
		b.seg(0, 140),   // 6: b's m0 and m1
		a.ack(),         // 7
		a.seg(60, 130),  // 8: rest of m0, m1 but 10 bytes
		a.seg(130, 460), // 9: rest of m1, m2, m3
		c.seg(0, 1),     // 10
		c.seg(1, 300),   // 11
		a.fin(), b.fin(),
	}
	res := tcpRead(t, capFile(frames...))
	checkMessages(t, res.dgs,
		[][]byte{m[0], m[1], m[0], m[1], m[2], m[3], m[2]},
		[]netip.AddrPort{tcpExp2, tcpExp2, tcpExp, tcpExp, tcpExp, tcpExp, tcpExp6},
		[]uint64{2, 2, 1, 1, 1, 1, 3},
		[]int{6, 6, 8, 9, 9, 9, 11})
	if len(res.gaps) != 0 || res.st.TCPMessages != 7 || res.st.TCPSegments != len(frames) || res.st.Datagrams != 7 {
		t.Errorf("gaps %v, stats %+v", res.gaps, res.st)
	}
	want := []string{"192.0.2.1:40000 session 1 after 7", "192.0.2.1:40001 session 2 after 7", "[2001:db8::1]:40000 session 3 after 7"}
	if strings.Join(res.ends, "; ") != strings.Join(want, "; ") {
		t.Errorf("ends %q, want %q", res.ends, want)
	}
}

// Segments out of order are held and put in place; retransmitted ones,
// whole or overlapping, are not read twice; a SYN sent again changes
// nothing.
func TestTCPReorder(t *testing.T) {
	m := [][]byte{ipfixMessage(100, 0, 1), ipfixMessage(100, 1, 2), ipfixMessage(100, 2, 3)}
	a := &stream{tb: t, src: tcpExp, dst: tcpCol, isn: 77, data: bytes.Join(m, nil)}
	frames := [][]byte{
		a.syn(), a.syn(),
		a.seg(150, 250), // held
		a.seg(0, 80),
		a.seg(0, 80),    // again
		a.seg(200, 300), // overlaps the held one
		a.seg(50, 160),  // overlaps both sides: m0 and m1 complete
		a.seg(250, 300), // again
	}
	res := tcpRead(t, capFile(frames...))
	checkMessages(t, res.dgs, m, []netip.AddrPort{tcpExp, tcpExp, tcpExp}, []uint64{1, 1, 1}, []int{7, 7, 7})
	if len(res.gaps) != 0 || res.st.TCPOutOfOrder != 2 || res.st.TCPRetransmitted < 3 || res.st.TCPConnections != 1 {
		t.Errorf("gaps %v, stats %+v", res.gaps, res.st)
	}
}

// A hole that is never filled is reported with its connection and what was
// lost (the message it cut); the messages after it are found again.
func TestTCPGap(t *testing.T) {
	m := [][]byte{ipfixMessage(100, 0, 1), ipfixMessage(100, 1, 2), ipfixMessage(100, 2, 3), ipfixMessage(100, 3, 4), ipfixMessage(100, 4, 5)}
	a := &stream{tb: t, src: tcpExp, dst: tcpCol, isn: 9, data: bytes.Join(m, nil)}
	frames := [][]byte{a.syn(), a.seg(0, 150), a.seg(170, 500), a.fin()}
	res := tcpRead(t, capFile(frames...))
	checkMessages(t, res.dgs, [][]byte{m[0], m[2], m[3], m[4]}, []netip.AddrPort{tcpExp, tcpExp, tcpExp, tcpExp}, []uint64{1, 1, 1, 1}, nil)
	if len(res.gaps) != 1 {
		t.Fatalf("gaps %+v", res.gaps)
	}
	g := res.gaps[0]
	// 20 bytes missing, the 50 of m1 before them dropped, the 30 after
	// them skipped to find m2.
	if g.Src != tcpExp || g.Dst != tcpCol || g.Session != 1 || g.Lost != 70 || !strings.Contains(g.Reason, "missing") {
		t.Errorf("gap %+v", g)
	}
	if res.st.TCPGaps != 1 || res.st.TCPBytesLost != 70 || res.st.TCPBytesSkipped != 30 {
		t.Errorf("stats %+v", res.st)
	}
}

// Too many segments past a hole: the hole is given up before the end of
// the capture, bounded.
func TestTCPHoldLimit(t *testing.T) {
	var ms [][]byte
	for i := range 100 {
		ms = append(ms, ipfixMessage(100, uint32(i), byte(i)))
	}
	a := &stream{tb: t, src: tcpExp, dst: tcpCol, isn: 1, data: bytes.Join(ms, nil)}
	frames := [][]byte{a.syn(), a.seg(0, 100)}
	for i := 2; i < 100; i++ { // m1 never comes
		frames = append(frames, a.seg(i*100, i*100+100))
	}
	res := tcpRead(t, capFile(frames...))
	if len(res.gaps) != 1 || res.gaps[0].Packet != 2+maxTCPHeld+1 {
		t.Errorf("gaps %+v, want one at packet %d", res.gaps, 2+maxTCPHeld+1)
	}
	// m0, and every message from m3 (m2 confirms the framing but is the
	// first message found: it is read too).
	if len(res.dgs) != 99 {
		t.Errorf("%d messages, want 99", len(res.dgs))
	}
}

// A capture that starts inside a connection: the framing is found (a
// message whose sets fill it, followed by another), the bytes before it
// skipped without a gap reported.
func TestTCPMidStream(t *testing.T) {
	m := [][]byte{ipfixMessage(100, 0, 1), ipfixMessage(100, 1, 0x0a), ipfixMessage(64, 2, 0)}
	a := &stream{tb: t, src: tcpExp, dst: tcpCol, isn: 3, data: bytes.Join(m, nil)}
	res := tcpRead(t, capFile(a.seg(37, 120), a.seg(120, 264)))
	checkMessages(t, res.dgs, [][]byte{m[1], m[2]}, []netip.AddrPort{tcpExp, tcpExp}, []uint64{1, 1}, []int{2, 2})
	if len(res.gaps) != 0 || res.st.TCPBytesSkipped != 63 {
		t.Errorf("gaps %v, stats %+v", res.gaps, res.st)
	}
}

// Other TCP traffic (here HTTP) gives nothing, reports nothing and holds
// little: a stream with no IPFIX message in twice the largest is given up.
func TestTCPNotIPFIX(t *testing.T) {
	body := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: example\r\n\r\n\x00\x0a\x00\x10"), 8000)
	a := &stream{tb: t, src: tcpExp, dst: netip.MustParseAddrPort("198.51.100.1:80"), isn: 1, data: body}
	frames := [][]byte{a.syn()}
	for i := 0; i < len(body); i += 1400 {
		frames = append(frames, a.seg(i, min(i+1400, len(body))))
	}
	frames = append(frames, a.fin())
	res := tcpRead(t, capFile(frames...))
	if len(res.dgs) != 0 || len(res.gaps) != 0 || len(res.ends) != 0 || res.st.TCPNotIPFIX != 1 || res.st.TCPBytesSkipped != int64(len(body)) {
		t.Errorf("%d datagrams, gaps %v, ends %v, stats %+v", len(res.dgs), res.gaps, res.ends, res.st)
	}
}

// A segment cut by the snapshot length: the message it completes is lost,
// reported, and the next one read.
func TestTCPSnapLength(t *testing.T) {
	m := [][]byte{ipfixMessage(100, 0, 1), ipfixMessage(600, 1, 2), ipfixMessage(100, 2, 3), ipfixMessage(100, 3, 4)}
	a := &stream{tb: t, src: tcpExp, dst: tcpCol, isn: 3, data: bytes.Join(m, nil)}
	big := a.seg(0, 700)
	recs := []rec{
		{ts: t0, data: a.syn()},
		{ts: t0, data: big[:400], orig: len(big)},
		{ts: t0, data: a.seg(700, 900)},
	}
	res := tcpRead(t, pcapFile(false, false, 1, 400, recs...))
	checkMessages(t, res.dgs, [][]byte{m[0], m[2], m[3]}, []netip.AddrPort{tcpExp, tcpExp, tcpExp}, []uint64{1, 1, 1}, []int{2, 3, 3})
	if len(res.gaps) != 1 || !strings.Contains(res.gaps[0].Reason, "snapshot") || res.gaps[0].Lost != 600 {
		t.Errorf("gaps %+v", res.gaps)
	}
}

// More connections than MaxTCPConns, each with a message begun: the least
// recently active are ended (reported), never more than MaxTCPConns held.
func TestTCPConnLimit(t *testing.T) {
	var frames [][]byte
	msg := ipfixMessage(200, 0, 1)
	for i := range MaxTCPConns + 10 {
		s := &stream{tb: t, src: netip.AddrPortFrom(tcpExp.Addr(), uint16(10000+i)), dst: tcpCol, isn: 1, data: msg}
		frames = append(frames, s.syn(), s.seg(0, 100))
	}
	r, err := NewReader(bytes.NewReader(capFile(frames...)))
	if err != nil {
		t.Fatal(err)
	}
	maxConns := 0
	for {
		_, err := r.Next()
		maxConns = max(maxConns, len(r.tcp.conns))
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := r.Stats(); maxConns > MaxTCPConns || st.TCPConnections != MaxTCPConns+10 || st.TCPMessages != 0 || r.tcp.bytes != 0 {
		t.Errorf("%d connections at most, stats %+v, %d bytes held", maxConns, st, r.tcp.bytes)
	}
}

// A connection reset, then a new one from the same port: two sessions;
// the end of the first comes after its messages.
func TestTCPResetAndReuse(t *testing.T) {
	m := [][]byte{ipfixMessage(50, 0, 1), ipfixMessage(50, 1, 2)}
	a := &stream{tb: t, src: tcpExp, dst: tcpCol, isn: 100, data: bytes.Join(m, nil)}
	b := &stream{tb: t, src: tcpExp, dst: tcpCol, isn: 900, data: m[1]}
	rst := tcpSegment(t, tcpExp, tcpCol, 100+1+75, false, false, true, nil)
	res := tcpRead(t, capFile(a.syn(), a.seg(0, 75), rst, b.syn(), b.seg(0, 50)))
	checkMessages(t, res.dgs, [][]byte{m[0], m[1]}, []netip.AddrPort{tcpExp, tcpExp}, []uint64{1, 2}, []int{2, 5})
	if len(res.gaps) != 1 || !strings.Contains(res.gaps[0].Reason, "reset") || res.gaps[0].Lost != 25 {
		t.Errorf("gaps %+v", res.gaps)
	}
	if want := "192.0.2.1:40000 session 1 after 1; 192.0.2.1:40000 session 2 after 2"; strings.Join(res.ends, "; ") != want {
		t.Errorf("ends %q, want %q", res.ends, want)
	}
}
