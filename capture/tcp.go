package capture

import (
	"net/netip"
	"time"
)

// IPFIX over TCP (RFC 7011 §10.4): each connection is a byte stream of
// IPFIX messages, each framed by the length in its header. A Reader
// reassembles the streams of the TCP segments it reads, per connection
// (source and destination address and port), within fixed bounds, and
// returns each message as a Datagram of its own, with the connection's
// Session. NetFlow v9 has no message length (RFC 3954 defines it over UDP
// only), so a v9 stream cannot be cut into messages without its
// templates: TCP streams that do not carry IPFIX are skipped, counted.

// Limits of TCP stream reassembly.
const (
	// MaxTCPConns is the number of connections followed at once; past
	// it, the least recently active one is closed (its unfinished
	// message reported as a gap).
	MaxTCPConns = 1024
	// MaxTCPConnBytes bounds the out-of-order data held for one
	// connection (segments past a hole, waiting for it to be filled);
	// past it the hole is given up as a gap.
	MaxTCPConnBytes = 1 << 20
	// MaxTCPBytes bounds the data held for all connections together
	// (unfinished messages and out-of-order segments); past it the
	// least recently active connections are closed.
	MaxTCPBytes = 64 << 20
	// TCPIdleTimeout closes a connection that has sent nothing for this
	// long in capture time.
	TCPIdleTimeout = 10 * time.Minute

	maxTCPHeld     = 64 // out-of-order segments held per connection
	tcpMinLen      = 20
	tcpFIN         = 0x01
	tcpSYN         = 0x02
	tcpRST         = 0x04
	protoTCP       = 6
	ipfixHeaderLen = 16
	ipfixVersion   = 10
	maxMessage     = 65535
)

// TCPGap is a part of a TCP stream that a Reader could not read: bytes
// the capture does not have (a hole that was never filled, a connection
// whose start was not captured) or an IPFIX message left unfinished when
// its connection ended. The messages around it are returned; the stream's
// framing is found again after it.
type TCPGap struct {
	Src, Dst netip.AddrPort
	Session  uint64 // the connection's Session
	Packet   int    // the packet record at which the gap was found
	// Lost is how many bytes of the stream are missing or were dropped
	// for lack of framing, as far as is known.
	Lost   int64
	Reason string
}

// tcpKey identifies a direction of a connection.
type tcpKey struct{ src, dst netip.AddrPort }

// tcpSeg is an out-of-order segment, its data copied.
type tcpSeg struct {
	seq  uint32
	data []byte
}

// tcpConn is one direction of a TCP connection being reassembled.
type tcpConn struct {
	key     tcpKey
	session uint64
	next    uint32 // sequence number of the next in-order byte
	// buf[pos:] are in-order bytes not yet returned as messages.
	buf []byte
	pos int
	// inSync says buf[pos] begins a message; otherwise the framing is
	// looked for (after a gap, or in a connection whose start was not
	// captured).
	inSync bool
	held   []tcpSeg // out-of-order segments, by sequence number
	heldN  int      // their bytes
	last   time.Time
	packet int
	// notIPFIX marks a stream whose bytes are not IPFIX: they are
	// skipped until the connection ends.
	notIPFIX bool
	msgs     int   // messages cut from the stream
	skipped  int64 // bytes dropped to find the framing
}

// tcpState is a Reader's TCP reassembly.
type tcpState struct {
	conns   map[tcpKey]*tcpConn
	bytes   int // bytes held in all connections
	session uint64
	// out are the messages ready to be returned, payloads aliasing the
	// buffers of the connections in touched; they are compacted (release)
	// when the next message is asked for.
	out     []Datagram
	outPos  int
	touched []*tcpConn
	sweep   int // packets until the next idle sweep
	onGap   func(TCPGap)
	onEnd   func(src netip.AddrPort, session uint64)
}

// OnTCPGap makes the Reader call fn for every TCPGap it finds (they are
// counted in Stats either way). fn must not call the Reader.
func (r *Reader) OnTCPGap(fn func(TCPGap)) { r.tcp.onGap = fn }

// OnTCPEnd makes the Reader call fn when a connection's stream ends (FIN
// or RST, a new connection in its place, idle, dropped for the limits, or
// the end of the capture), after every message of the connection has been
// returned by Next: its templates can be forgotten. fn is called from
// within Next and must not call the Reader.
func (r *Reader) OnTCPEnd(fn func(src netip.AddrPort, session uint64)) { r.tcp.onEnd = fn }

// pop returns the next ready message; the end of a connection queued
// behind its messages is given to onEnd on the way.
func (t *tcpState) pop() (Datagram, bool) {
	for t.outPos < len(t.out) {
		d := t.out[t.outPos]
		t.outPos++
		if d.Payload == nil {
			t.onEnd(d.Src, d.Session)
			continue
		}
		return d, true
	}
	return Datagram{}, false
}

// release compacts the buffers of the messages returned: their payloads
// are no longer valid.
func (t *tcpState) release() {
	t.out, t.outPos = t.out[:0], 0
	for _, c := range t.touched {
		if c.pos > 0 {
			n := copy(c.buf, c.buf[c.pos:])
			c.buf, c.pos = c.buf[:n], 0
		}
		if cap(c.buf) > 4*maxMessage && len(c.buf) < maxMessage {
			// A burst of segments grew the buffer: give it back.
			c.buf = append([]byte(nil), c.buf...)
		}
	}
	t.touched = t.touched[:0]
}

func (t *tcpState) touch(c *tcpConn) {
	for _, x := range t.touched {
		if x == c {
			return
		}
	}
	t.touched = append(t.touched, c)
}

// tcpGap reports and counts a gap of c. In a stream that has not given a
// message yet (other TCP traffic in the capture), the bytes are counted
// as skipped and nothing is reported.
func (r *Reader) tcpGap(c *tcpConn, lost int64, reason string) {
	if c.msgs == 0 {
		r.stats.TCPBytesSkipped += max(lost, 0)
		return
	}
	r.stats.TCPGaps++
	if lost > 0 {
		r.stats.TCPBytesLost += lost
	}
	if r.tcp.onGap != nil {
		r.tcp.onGap(TCPGap{Src: c.key.src, Dst: c.key.dst, Session: c.session, Packet: c.packet, Lost: lost, Reason: reason})
	}
}

// seqAfter reports whether a is after b, modulo 2^32.
func seqAfter(a, b uint32) bool { return int32(a-b) > 0 }

// parseTCP reads a TCP segment (RFC 9293) of the given IP addresses and
// feeds its data to the connection's stream. It always returns false:
// the messages the segment completes are returned by Next through pop.
// missing is how many bytes of the segment the capture does not have
// (cut by the snapshot length).
func (r *Reader) parseTCP(src, dst netip.Addr, b []byte, missing int, d *Datagram) bool {
	r.stats.TCPSegments++
	if len(b) < tcpMinLen {
		r.stats.TCPMalformed++
		return false
	}
	off := int(b[12]>>4) * 4
	if off < tcpMinLen || off > len(b) {
		r.stats.TCPMalformed++
		return false
	}
	key := tcpKey{netip.AddrPortFrom(src, be.Uint16(b)), netip.AddrPortFrom(dst, be.Uint16(b[2:]))}
	seq, flags, data := be.Uint32(b[4:]), b[13], b[off:]
	t := &r.tcp
	if t.conns == nil {
		t.conns = map[tcpKey]*tcpConn{}
	}
	if t.sweep--; t.sweep <= 0 {
		t.sweep = 1024
		r.tcpSweep(d.Time)
	}
	c := t.conns[key]
	if flags&tcpSYN != 0 && c != nil && c.next == seq+1 {
		flags &^= tcpSYN // the SYN again
		seq++
	} else if flags&tcpSYN != 0 {
		if c != nil {
			r.tcpEnd(c, "a new connection (SYN) replaces it")
		}
		c = r.tcpNew(key, seq+1, true)
		seq++
	} else if c == nil {
		if len(data) == 0 {
			return false // an acknowledgement, or the end of a connection not followed
		}
		// The capture starts inside the connection: look for the framing.
		c = r.tcpNew(key, seq, false)
	}
	c.last, c.packet = d.Time, d.Packet
	if flags&tcpRST != 0 {
		r.tcpEnd(c, "reset (RST)")
		return false
	}
	if len(data) > 0 {
		r.tcpData(c, seq, data, d)
	}
	if missing > 0 && c.next == seq+uint32(len(data)) {
		// The rest of the segment is not in the capture.
		lost := int64(missing)
		if c.inSync {
			lost += int64(len(c.buf) - c.pos)
			r.tcp.bytes -= len(c.buf) - c.pos
			c.buf = c.buf[:c.pos]
		}
		r.tcpGap(c, lost, "segment cut by the capture's snapshot length")
		c.inSync = false
		c.next += uint32(missing)
		r.tcpDrain(c)
		r.tcpFrame(c, d, false)
		return false
	}
	if flags&tcpFIN != 0 && c.next == seq+uint32(len(data)) {
		r.tcpEnd(c, "")
	}
	return false
}

// tcpNew starts following a connection.
func (r *Reader) tcpNew(key tcpKey, next uint32, inSync bool) *tcpConn {
	t := &r.tcp
	for len(t.conns) >= MaxTCPConns {
		r.tcpEnd(r.tcpOldest(nil), "too many connections: the least recently active is dropped")
	}
	t.session++
	c := &tcpConn{key: key, session: t.session, next: next, inSync: inSync}
	t.conns[key] = c
	r.stats.TCPConnections++
	return c
}

// tcpOldest returns the least recently active connection other than not.
func (r *Reader) tcpOldest(not *tcpConn) *tcpConn {
	var o *tcpConn
	for _, c := range r.tcp.conns {
		if c != not && (o == nil || c.last.Before(o.last)) {
			o = c
		}
	}
	return o
}

// tcpSweep ends the connections idle for TCPIdleTimeout.
func (r *Reader) tcpSweep(now time.Time) {
	for _, c := range r.tcp.conns {
		if now.Sub(c.last) > TCPIdleTimeout {
			r.tcpEnd(c, "idle for "+TCPIdleTimeout.String())
		}
	}
}

// tcpData takes a segment's data at sequence number seq.
func (r *Reader) tcpData(c *tcpConn, seq uint32, data []byte, d *Datagram) {
	t := &r.tcp
	if !seqAfter(seq+uint32(len(data)), c.next) {
		r.stats.TCPRetransmitted++ // nothing new
		return
	}
	if seqAfter(c.next, seq) {
		r.stats.TCPRetransmitted++ // partly new
		data = data[c.next-seq:]
		seq = c.next
	}
	if seq != c.next {
		r.tcpHold(c, seq, data)
	} else {
		r.tcpAppend(c, data)
		r.tcpDrain(c)
		r.tcpFrame(c, d, false)
	}
	for t.bytes > MaxTCPBytes {
		o := r.tcpOldest(c)
		if o == nil {
			break
		}
		r.tcpEnd(o, "reassembly memory full: the least recently active connection is dropped")
	}
}

// tcpAppend appends in-order bytes to c's stream.
func (r *Reader) tcpAppend(c *tcpConn, data []byte) {
	if c.notIPFIX {
		r.stats.TCPBytesSkipped += int64(len(data))
	} else {
		c.buf = append(c.buf, data...)
		r.tcp.bytes += len(data)
	}
	c.next += uint32(len(data))
}

// tcpHold keeps an out-of-order segment until the hole before it is
// filled; when c holds too much, the hole is given up.
func (r *Reader) tcpHold(c *tcpConn, seq uint32, data []byte) {
	r.stats.TCPOutOfOrder++
	i := len(c.held)
	for i > 0 && seqAfter(c.held[i-1].seq, seq) {
		i--
	}
	if i > 0 && c.held[i-1].seq == seq && len(c.held[i-1].data) >= len(data) {
		r.stats.TCPRetransmitted++
		return
	}
	c.held = append(c.held, tcpSeg{})
	copy(c.held[i+1:], c.held[i:])
	c.held[i] = tcpSeg{seq: seq, data: append([]byte(nil), data...)}
	c.heldN += len(data)
	r.tcp.bytes += len(data)
	if len(c.held) > maxTCPHeld || c.heldN > MaxTCPConnBytes {
		r.tcpSkipHole(c)
	}
}

// tcpSkipHole gives up the hole before c's first held segment: the bytes
// are lost, the unfinished message with them, and the framing is looked
// for again after it.
func (r *Reader) tcpSkipHole(c *tcpConn) {
	if len(c.held) == 0 {
		return
	}
	lost := int64(c.held[0].seq - c.next)
	if c.inSync && len(c.buf) > c.pos {
		lost += int64(len(c.buf) - c.pos)
	}
	r.tcpGap(c, lost, "segments missing from the capture")
	r.tcp.bytes -= len(c.buf) - c.pos
	c.buf = c.buf[:c.pos]
	c.inSync = false
	c.next = c.held[0].seq
	r.tcpDrain(c)
}

// tcpDrain appends the held segments that the stream has reached.
func (r *Reader) tcpDrain(c *tcpConn) {
	for len(c.held) > 0 && !seqAfter(c.held[0].seq, c.next) {
		s := c.held[0]
		c.held = c.held[1:]
		c.heldN -= len(s.data)
		r.tcp.bytes -= len(s.data)
		if end := s.seq + uint32(len(s.data)); seqAfter(end, c.next) {
			r.tcpAppend(c, s.data[c.next-s.seq:])
		} else {
			r.stats.TCPRetransmitted++
		}
	}
	if len(c.held) == 0 {
		c.held = nil
	}
}

// tcpFrame cuts c's stream into messages and queues them. final says the
// stream ends here: a message that begins where the framing is sought is
// taken when its sets fill it exactly, without the next one to confirm it.
func (r *Reader) tcpFrame(c *tcpConn, d *Datagram, final bool) {
	t := &r.tcp
	for !c.notIPFIX {
		rest := c.buf[c.pos:]
		if !c.inSync {
			at, ok := findMessage(rest, final)
			if at > 0 {
				r.tcpDrop(c, at)
				rest = c.buf[c.pos:]
			}
			if !ok {
				if c.msgs == 0 && c.skipped > 2*maxMessage {
					// Far more than a message and nothing like one.
					c.notIPFIX = true
					r.stats.TCPNotIPFIX++
					r.tcpDrop(c, len(rest))
				}
				return
			}
			c.inSync = true
		}
		if len(rest) < 4 {
			return
		}
		n := int(be.Uint16(rest[2:]))
		if be.Uint16(rest) != ipfixVersion || n < ipfixHeaderLen {
			// Not a message where one should begin.
			r.tcpGap(c, 0, "not an IPFIX message header where one should begin")
			c.inSync = false
			continue
		}
		if len(rest) < n {
			return
		}
		t.out = append(t.out, Datagram{Time: d.Time, Src: c.key.src, Dst: c.key.dst, Payload: rest[:n:n], Packet: d.Packet, Session: c.session})
		r.stats.TCPMessages++
		c.msgs++
		c.pos += n
		t.bytes -= n
		t.touch(c)
	}
}

// tcpDrop drops n bytes of c's stream that are not part of a message.
func (r *Reader) tcpDrop(c *tcpConn, n int) {
	c.skipped += int64(n)
	c.pos += n
	r.tcp.bytes -= n
	r.stats.TCPBytesSkipped += int64(n)
	r.tcp.touch(c)
}

// tcpEnd ends the stream of c: the held segments past a hole are read
// after it (the hole reported), the messages complete are queued, an
// unfinished one is reported; c is forgotten. reason, when not "", says
// why a connection is ended before its own end.
func (r *Reader) tcpEnd(c *tcpConn, reason string) {
	t := &r.tcp
	if t.conns[c.key] != c {
		return
	}
	d := Datagram{Time: c.last, Packet: c.packet}
	for len(c.held) > 0 {
		r.tcpSkipHole(c)
		r.tcpFrame(c, &d, false)
	}
	r.tcpFrame(c, &d, true)
	if left := len(c.buf) - c.pos; left > 0 && !c.notIPFIX {
		why := "the connection ends inside a message"
		if reason != "" {
			why = reason + ", inside a message"
		}
		r.tcpGap(c, int64(left), why)
		t.bytes -= left
		c.pos = len(c.buf)
		t.touch(c)
	}
	delete(t.conns, c.key)
	if t.onEnd != nil && c.msgs > 0 {
		t.out = append(t.out, Datagram{Src: c.key.src, Dst: c.key.dst, Session: c.session})
	}
}

// tcpFlush ends every connection at the end of the capture.
func (r *Reader) tcpFlush() {
	for len(r.tcp.conns) > 0 {
		r.tcpEnd(r.tcpOldest(nil), "")
	}
}

// findMessage looks in b for the start of an IPFIX message: version 10,
// a length of at least a header, and sets (2 templates, 3 options
// templates, 256 and up data) whose lengths fill the message exactly,
// followed by the header of another message (unless final and the message
// ends b). It returns the offset of the message and true, or, when there
// is none yet, the offset from which one may still begin and false.
func findMessage(b []byte, final bool) (int, bool) {
	for i := 0; i+4 <= len(b); i++ {
		if b[i] != 0 || b[i+1] != ipfixVersion {
			continue
		}
		n := int(be.Uint16(b[i+2:]))
		if n < ipfixHeaderLen {
			continue
		}
		if i+n > len(b) {
			return i, false // might be one: wait for the rest
		}
		if !setsFill(b[i : i+n]) {
			continue
		}
		next := b[i+n:]
		switch {
		case len(next) >= 4:
			if be.Uint16(next) == ipfixVersion && be.Uint16(next[2:]) >= ipfixHeaderLen {
				return i, true
			}
		case final && len(next) == 0:
			return i, true
		default:
			return i, false // wait for the next header
		}
	}
	return max(len(b)-3, 0), false
}

// setsFill reports whether the sets of message m fill it exactly.
func setsFill(m []byte) bool {
	for p := ipfixHeaderLen; p < len(m); {
		if len(m)-p < 4 {
			return false
		}
		id, l := be.Uint16(m[p:]), int(be.Uint16(m[p+2:]))
		if (id != 2 && id != 3 && id < 256) || l < 4 || l > len(m)-p {
			return false
		}
		p += l
	}
	return true
}
