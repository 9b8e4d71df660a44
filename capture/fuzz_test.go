package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
	"testing/iotest"
)

// seeds returns small captures: a prefix of every testdata capture, the
// pcapng variants and captures of each encapsulation and of fragments.
func seeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, path := range testdataCaptures(tb) {
		b, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b[:min(len(b), 1500)])
	}
	if b, err := os.ReadFile("testdata/softflowd-ipfix-ether.pcapng"); err == nil {
		out = append(out, b[:min(len(b), 1500)])
	}
	ip4 := udpPacket(tb, exp4, col4, testPayload(40, 1))
	ip6 := udpPacket(tb, exp6, col6, testPayload(40, 2))
	out = append(out,
		pcapFile(true, true, uint32(LinkTypeLinuxSLL), 65535, rec{ts: t0, data: sllFrame(etherIPv4, ip4)}),
		pcapFile(false, false, uint32(LinkTypeLinuxSLL2), 65535, rec{ts: t0, data: sll2Frame(etherIPv6, ip6)}),
		pcapFile(false, false, uint32(LinkTypeNull), 65535, rec{ts: t0, data: loopFrame(afInet6Darwin, order(false), ip6)}),
		pcapFile(false, false, uint32(LinkTypeEthernet), 65535, rec{ts: t0, data: etherFrame(etherMPLS, append([]byte{0, 1, 1, 64}, ip4...), etherVLAN)}),
	)
	var frags []rec
	for _, f := range append(fragments(tb, exp4, col4, testPayload(100, 3), 48, 1), fragments(tb, exp6, col6, testPayload(100, 4), 48, 2)...) {
		frags = append(frags, rec{ts: t0, data: f})
	}
	out = append(out, pcapFile(false, false, uint32(LinkTypeRaw), 65535, frags...))
	ng := (*ngFile)(nil).section(true).iface(uint16(LinkTypeEthernet), 0, 0x80|20, 7).
		epb(0, 1, etherFrame(etherIPv4, ip4), 0).spb(etherFrame(etherIPv6, ip6), 0).
		section(false).iface(uint16(LinkTypeRaw), 64, 9, 0).pb(0, 2, ip4)
	return append(out, ng.b)
}

// fuzzRead reads a capture to its end, checking what must hold of every
// datagram and error.
func fuzzRead(t *testing.T, src io.Reader) ([]dg, Stats, error) {
	r, err := NewReader(src)
	if err != nil {
		checkErr(t, err)
		return nil, Stats{}, err
	}
	var out []dg
	for {
		d, err := r.Next()
		st := r.Stats()
		if st.Packets != st.Datagrams-st.Reassembled-st.TCPMessages+st.NotUDP+st.Malformed+st.UnsupportedLink+st.Fragments+st.TCPSegments ||
			st.FragmentsDropped > st.Fragments || st.Truncated > st.Datagrams || st.Datagrams != len(out)+map[bool]int{true: 1}[err == nil] {
			t.Fatalf("stats do not add up: %+v after %d datagrams", st, len(out))
		}
		if len(r.defrag.m) > MaxFragmented || r.defrag.bytes > MaxFragmentedBytes || cap(r.buf) > 2*MaxRecordLen {
			t.Fatalf("memory: %d datagrams, %d bytes in reassembly, %d buffered", len(r.defrag.m), r.defrag.bytes, cap(r.buf))
		}
		if len(r.tcp.conns) > MaxTCPConns || r.tcp.bytes > MaxTCPBytes+MaxRecordLen || r.tcp.bytes < 0 {
			t.Fatalf("memory: %d TCP connections, %d bytes", len(r.tcp.conns), r.tcp.bytes)
		}
		if err != nil {
			checkErr(t, err)
			if _, again := r.Next(); again == nil {
				t.Fatalf("Next after %v returned a datagram", err)
			}
			return out, st, err
		}
		if len(d.Payload) > maxDatagramLen || (d.Packet != st.Packets && (d.Session == 0 || d.Packet > st.Packets)) || !d.Src.IsValid() || !d.Dst.IsValid() {
			t.Fatalf("datagram %+v after %d packets", d, st.Packets)
		}
		out = append(out, copyDatagram(d))
	}
}

func checkErr(t *testing.T, err error) {
	if err == io.EOF {
		return
	}
	var e *Error
	if !errors.As(err, &e) || !(errors.Is(err, ErrTruncated) || errors.Is(err, ErrFormat) || errors.Is(err, ErrUnsupported)) || e.Detail == "" {
		t.Fatalf("error %v (%T) is not a *Error of a known kind", err, err)
	}
}

// FuzzReader: any input gives datagrams and an error, never a panic, a
// hang or unbounded memory; statistics add up; reading a byte at a time
// gives the same result.
func FuzzReader(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, st, err := fuzzRead(t, bytes.NewReader(b))
		got1, st1, err1 := fuzzRead(t, iotest.OneByteReader(bytes.NewReader(b)))
		if st != st1 || (err == nil) != (err1 == nil) || err.Error() != err1.Error() {
			t.Fatalf("one byte at a time: %+v %v; at once: %+v %v", st1, err1, st, err)
		}
		equalDatagrams(t, "one byte at a time", got1, got)
	})
}
