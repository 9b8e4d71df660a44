package collector

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/testvec"
)

// tcpFrame returns an Ethernet frame of a TCP segment from 127.0.0.1:sport
// to 127.0.0.1:4739 (no checksums: the capture reader does not check them).
func tcpFrame(sport uint16, seq uint32, flags byte, payload []byte) []byte {
	b := make([]byte, 14+20+20, 14+40+len(payload))
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	binary.BigEndian.PutUint16(ip[2:], uint16(40+len(payload)))
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp, sport)
	binary.BigEndian.PutUint16(tcp[2:], 4739)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	tcp[12], tcp[13] = 5<<4, flags
	return append(b, payload...)
}

// writePcap writes frames as a pcap (Ethernet, µs), one a millisecond.
func writePcap(t *testing.T, path string, frames [][]byte) {
	t.Helper()
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint32(b, 65535)
	b = le.AppendUint32(b, 1)
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, f := range frames {
		ts := t0.Add(time.Duration(i) * time.Millisecond)
		b = le.AppendUint32(b, uint32(ts.Unix()))
		b = le.AppendUint32(b, uint32(ts.Nanosecond()/1000))
		b = le.AppendUint32(b, uint32(len(f)))
		b = le.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// IPFIX over TCP from a capture: each connection is a session with its own
// templates, as on the live path. Two connections of one exporter: the
// first sends softflowd's three messages (templates in the first), the
// second only the last two, whose data must not be decoded with the first
// connection's templates (they wait for their own and go when their
// connection ends).
func TestReplayTCPSessions(t *testing.T) {
	var msgs [][]byte
	for _, d := range testvec.Capture(t, "softflowd-ipfix-tcp.pcap") {
		if d.Session == 1 {
			msgs = append(msgs, d.Payload)
		}
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages in the first connection", len(msgs))
	}
	seqA, seqB := uint32(1000), uint32(5000)
	frames := [][]byte{tcpFrame(40001, seqA, 0x02, nil)}
	seqA++
	for _, m := range msgs {
		frames = append(frames, tcpFrame(40001, seqA, 0x10, m))
		seqA += uint32(len(m))
	}
	frames = append(frames, tcpFrame(40002, seqB, 0x02, nil))
	seqB++
	for _, m := range msgs[1:] {
		frames = append(frames, tcpFrame(40002, seqB, 0x10, m))
		seqB += uint32(len(m))
	}
	frames = append(frames, tcpFrame(40001, seqA, 0x11, nil), tcpFrame(40002, seqB, 0x11, nil))
	path := filepath.Join(t.TempDir(), "tcp.pcap")
	writePcap(t, path, frames)

	out := filepath.Join(t.TempDir(), "flows.json")
	c := newTestCollector(t, Config{Outputs: fileOut(t, out)})
	if err := replay(t, c, path); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, out)
	// The first connection's flows only: the same as its own capture's
	// first session gives.
	one := filepath.Join(t.TempDir(), "one.pcap")
	writePcap(t, one, frames[:4])
	out1 := filepath.Join(t.TempDir(), "one.json")
	c1 := newTestCollector(t, Config{Outputs: fileOut(t, out1)})
	if err := replay(t, c1, one); err != nil {
		t.Fatal(err)
	}
	want := len(readLines(t, out1))
	if want < 50 || len(lines) != want {
		t.Fatalf("%d flows from the two connections, want the first connection's %d", len(lines), want)
	}
	var pending uint64
	for _, e := range c.metrics.all() {
		pending += e.pendingDrops.Load()
	}
	if pending == 0 {
		t.Errorf("the second connection's data was not held for its templates and dropped at its end")
	}
}
