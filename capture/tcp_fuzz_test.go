package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"path/filepath"
	"testing"
)

// tcpCaptureStream returns the IPFIX messages of the first connection of
// testdata/softflowd-ipfix-tcp.pcap (softflowd -P tcp), as one stream.
func tcpCaptureStream(tb testing.TB) []byte {
	tb.Helper()
	f, err := Open(filepath.Join("..", "testdata", "softflowd-ipfix-tcp.pcap"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var stream []byte
	for {
		d, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if d.Session == 1 {
			stream = append(stream, d.Payload...)
		}
	}
	if len(stream) == 0 {
		tb.Fatal("no IPFIX messages over TCP in the capture")
	}
	return stream
}

// fuzzSegments cuts stream into the frames of one connection as ops say:
// each op is two bytes, a length (1 to 2048 bytes) and what to do with
// the segment: send it, send it twice, leave a hole before it, or send it
// after the next one. It returns the frames and whether the segments
// cover the stream without a hole.
// The sequence numbers wrap around 2^32 in the stream. The frames are
// built by hand (Ethernet, IPv4 and TCP headers without options or
// checksums, which the reader does not check), fast enough to fuzz.
func fuzzSegments(tb testing.TB, data, ops []byte) ([][]byte, bool) {
	s := &rawStream{isn: 0xffffff00, data: data}
	frames := [][]byte{s.syn()}
	whole := true
	var late []byte
	pos := 0
	for i := 0; i+1 < len(ops) && pos < len(data); i += 2 {
		n := min(1+int(ops[i])*8, len(data)-pos)
		seg := s.seg(pos, pos+n)
		switch ops[i+1] & 3 {
		case 0:
			frames = append(frames, seg)
		case 1:
			frames = append(frames, seg, seg)
		case 2:
			whole = false // a hole: this segment is never sent
		case 3:
			if late != nil {
				frames = append(frames, late)
			}
			late = seg
			pos += n
			continue
		}
		if late != nil {
			frames = append(frames, late)
			late = nil
		}
		pos += n
	}
	if late != nil {
		frames = append(frames, late)
	}
	if pos < len(data) {
		frames = append(frames, s.seg(pos, len(data)))
	}
	if len(ops)%4 == 1 {
		frames = append(frames, s.fin())
	}
	return frames, whole
}

// FuzzTCPReassembly: any stream, cut into segments sent in any order,
// twice or never, reads without a panic, with bounded memory and nothing
// held at the end; every message returned is a whole IPFIX message of the
// stream; and a stream of messages sent without a hole is read back
// message for message.
func FuzzTCPReassembly(f *testing.F) {
	stream := tcpCaptureStream(f)
	f.Add(stream, []byte{68, 0, 68, 0, 68, 0, 68, 0, 68, 0, 68, 0, 68, 0})    // 545-byte segments, as captured
	f.Add(stream, []byte{10, 3, 200, 0, 3, 1, 50, 3, 50, 0, 255, 0, 0, 0, 1}) // reordered, repeated, a FIN
	f.Add(stream, []byte{100, 0, 20, 2, 100, 0, 100, 0, 100, 0, 100, 0, 100}) // a hole
	f.Add(stream[:300], []byte{0, 0, 1, 3, 2, 1})
	f.Add([]byte("GET / HTTP/1.1\r\n\x00\x0a\x00\x10\r\n"), []byte{1, 0})
	f.Fuzz(func(t *testing.T, stream, ops []byte) {
		if len(stream) > 1<<18 || len(ops) > 1<<10 {
			return
		}
		frames, whole := fuzzSegments(t, stream, ops)
		r, err := NewReader(bytes.NewReader(capFile(frames...)))
		if err != nil {
			t.Fatal(err)
		}
		var got [][]byte
		for {
			d, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(r.tcp.conns) > MaxTCPConns || r.tcp.bytes > MaxTCPBytes || r.tcp.bytes < 0 {
				t.Fatalf("%d connections, %d bytes held", len(r.tcp.conns), r.tcp.bytes)
			}
			p := d.Payload
			if len(p) < ipfixHeaderLen || binary.BigEndian.Uint16(p) != ipfixVersion || int(binary.BigEndian.Uint16(p[2:])) != len(p) ||
				d.Session != 1 || !bytes.Contains(stream, p) {
				t.Fatalf("message %x (session %d) is not one of the stream", p, d.Session)
			}
			got = append(got, bytes.Clone(p))
		}
		if r.tcp.bytes != 0 || len(r.tcp.conns) != 0 {
			t.Fatalf("after the end: %d bytes held, %d connections", r.tcp.bytes, len(r.tcp.conns))
		}
		st := r.Stats()
		if st.Packets != st.Datagrams-st.TCPMessages+st.TCPSegments || st.TCPSegments != len(frames) {
			t.Fatalf("stats %+v for %d frames", st, len(frames))
		}
		if !whole {
			return
		}
		// Without a hole: the messages of the stream, in order, as far as
		// they are whole messages.
		var want [][]byte
		for rest := stream; len(rest) >= ipfixHeaderLen && binary.BigEndian.Uint16(rest) == ipfixVersion; {
			n := int(binary.BigEndian.Uint16(rest[2:]))
			if n < ipfixHeaderLen || n > len(rest) {
				break
			}
			want = append(want, rest[:n])
			rest = rest[n:]
		}
		if len(want) > 0 && len(got) < len(want) {
			t.Fatalf("%d messages read, the stream has %d", len(got), len(want))
		}
		for i := range want {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("message %d: %x, want %x", i, got[i], want[i])
			}
		}
	})
}

// rawStream builds the frames of one direction of a connection from
// tcpExp to tcpCol.
type rawStream struct {
	isn  uint32
	data []byte
}

func rawSegment(seq uint32, flags byte, payload []byte) []byte {
	b := make([]byte, 14+20+20, 14+20+20+len(payload))
	binary.BigEndian.PutUint16(b[12:], etherIPv4)
	ip := b[14:]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(min(20+20+len(payload), 0xffff)))
	ip[8], ip[9] = 64, protoTCP
	src, dst := tcpExp.Addr().As4(), tcpCol.Addr().As4()
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	tcp := ip[20:]
	binary.BigEndian.PutUint16(tcp, tcpExp.Port())
	binary.BigEndian.PutUint16(tcp[2:], tcpCol.Port())
	binary.BigEndian.PutUint32(tcp[4:], seq)
	tcp[12], tcp[13] = 5<<4, flags
	return append(b, payload...)
}

func (s *rawStream) syn() []byte { return rawSegment(s.isn, tcpSYN, nil) }

func (s *rawStream) seg(from, to int) []byte {
	return rawSegment(s.isn+1+uint32(from), 0x10, s.data[from:to])
}

func (s *rawStream) fin() []byte { return rawSegment(s.isn+1+uint32(len(s.data)), 0x10|tcpFIN, nil) }
