package spoof_test

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/spoof"
)

// listen opens a UDP listener on 127.0.0.1 and an ephemeral port.
func listen(t *testing.T) (*net.UDPConn, netip.AddrPort) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("source address choice is implemented on Linux only")
	}
	l, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, l.LocalAddr().(*net.UDPAddr).AddrPort()
}

func newSender(t *testing.T) *spoof.Sender {
	t.Helper()
	s, err := spoof.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// receive reads n datagrams and returns them keyed by payload.
func receive(t *testing.T, l *net.UDPConn, n int) map[string]netip.AddrPort {
	t.Helper()
	got := map[string]netip.AddrPort{}
	buf := make([]byte, 2048)
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range n {
		k, from, err := l.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), n, err)
		}
		got[string(buf[:k])] = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	}
	return got
}

func TestSendSources(t *testing.T) {
	l, dst := listen(t)
	s := newSender(t)
	srcs := []string{"127.0.0.1", "127.1.2.3", "127.250.0.9", "127.255.255.254"}
	for _, a := range srcs {
		if err := s.Send(netip.MustParseAddr(a), dst, []byte("from "+a)); err != nil {
			t.Fatal(err)
		}
	}
	got := receive(t, l, len(srcs))
	for _, a := range srcs {
		want := netip.AddrPortFrom(netip.MustParseAddr(a), s.Port())
		if from := got["from "+a]; from != want {
			t.Errorf("got source %v for the datagram sent from %s, want %v", from, a, want)
		}
	}
}

func TestSendBatchSources(t *testing.T) {
	l, dst := listen(t)
	s := newSender(t)
	const n = 3*spoof.MaxBatch + 7 // several sendmmsg calls
	ds := make([]spoof.Datagram, n)
	for i := range ds {
		ds[i] = spoof.Datagram{
			Src:     netip.AddrFrom4([4]byte{127, 10, byte(i >> 8), byte(i)}),
			Payload: fmt.Appendf(nil, "datagram %d", i),
		}
	}
	sent, err := s.SendBatch(dst, ds)
	if err != nil || sent != n {
		t.Fatalf("got SendBatch = %d, %v, want %d, nil", sent, err, n)
	}
	got := receive(t, l, n)
	for i, d := range ds {
		want := netip.AddrPortFrom(d.Src, s.Port())
		if from := got[string(d.Payload)]; from != want {
			t.Errorf("datagram %d: got source %v, want %v", i, from, want)
		}
	}
}

func TestSendLargeDatagram(t *testing.T) {
	l, dst := listen(t)
	if err := l.SetReadBuffer(1 << 20); err != nil {
		t.Fatal(err)
	}
	s := newSender(t)
	p := bytes.Repeat([]byte{0xA5}, 65507) // the largest UDP payload over IPv4
	src := netip.MustParseAddr("127.9.9.9")
	if err := s.Send(src, dst, p); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 70000)
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	k, from, err := l.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatal(err)
	}
	if k != len(p) || from.Addr() != src || !bytes.Equal(buf[:k], p) {
		t.Errorf("got %d bytes from %v, want %d bytes from %v", k, from, len(p), src)
	}
}

func TestSendRejects(t *testing.T) {
	_, dst := listen(t)
	s := newSender(t)
	if err := s.Send(netip.MustParseAddr("::1"), dst, []byte("x")); err == nil {
		t.Error("got Send from ::1 = nil, want an error (IPv4 sources only)")
	}
	if err := s.Send(netip.MustParseAddr("127.0.0.2"), netip.MustParseAddrPort("[::1]:9"), []byte("x")); err == nil {
		t.Error("got Send to [::1]:9 = nil, want an error (IPv4 destinations only)")
	}
	// 192.0.2.1 (TEST-NET-1) is not an address of this host: the kernel
	// refuses it as a source.
	if err := s.Send(netip.MustParseAddr("192.0.2.1"), dst, []byte("x")); err == nil {
		t.Error("got Send from 192.0.2.1 = nil, want an error (not a local address)")
	}
	ds := []spoof.Datagram{{Src: netip.MustParseAddr("127.0.0.3"), Payload: []byte("a")}, {Src: netip.MustParseAddr("::1"), Payload: []byte("b")}}
	if n, err := s.SendBatch(dst, ds); n != 0 || err == nil {
		t.Errorf("got SendBatch with an IPv6 source = %d, %v, want 0 and an error", n, err)
	}
	s.Close()
	if err := s.Send(netip.MustParseAddr("127.0.0.2"), dst, []byte("x")); err == nil {
		t.Error("got Send after Close = nil, want an error")
	}
}

func TestSendAllocs(t *testing.T) {
	_, dst := listen(t)
	s := newSender(t)
	p := []byte("payload")
	src := netip.MustParseAddr("127.3.3.3")
	if a := testing.AllocsPerRun(100, func() {
		if err := s.Send(src, dst, p); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("got %v allocations per Send, want 0", a)
	}
}
