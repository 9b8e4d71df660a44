// Package capture reads the UDP datagrams out of pcap and pcapng captures:
// the export packets a collector would have received, with their capture
// time and addresses.
//
// A Reader recognises the file format by its magic number: pcap in either
// byte order, with microsecond or nanosecond timestamps, and pcapng
// (any number of sections and interfaces, each interface with its own
// link type and timestamp resolution). It reads these link types:
// Ethernet (with any number of 802.1Q, 802.1ad and QinQ tags, and MPLS
// label stacks), Linux cooked captures (SLL and SLL2), raw IPv4/IPv6 and
// BSD loopback (NULL and LOOP). Above them it reads IPv4 and IPv6 (IPv6
// hop-by-hop, routing, destination options and authentication headers
// are skipped) and reassembles IPv4 and IPv6 fragments, within fixed
// memory bounds.
//
// IPFIX carried over TCP (RFC 7011 §10.4) is read too: each connection's
// stream is reassembled within fixed bounds and cut into messages by the
// length in their headers, each returned as a Datagram with the
// connection's Session (see tcp.go, TCPGap and MaxTCPConns).
//
// Other packets are skipped; packets whose headers are malformed are
// skipped too, and both are counted in Stats. A capture
// that ends in the middle of a record (common after a crash) yields every
// complete datagram, then an error matching ErrTruncated that names the
// packet number and file offset where the capture is cut.
//
// Reading allocates nothing per packet, except for IP fragments waiting
// for reassembly and TCP streams (a buffer per connection, copies of
// segments held out of order).
package capture

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// Errors matched with errors.Is; the error returned is a *Error that says
// where in the capture the problem is.
var (
	// ErrTruncated means the capture ends in the middle of a record or
	// block: every datagram before it has been returned.
	ErrTruncated = errors.New("capture truncated")
	// ErrFormat means the input is not a pcap or pcapng capture, or its
	// framing is damaged past repair (a record or block length that
	// cannot be right).
	ErrFormat = errors.New("malformed capture")
	// ErrUnsupported means a valid capture of a kind this package does
	// not read: a pcap link type other than those listed in the package
	// documentation, or a pcap or pcapng version it does not know.
	ErrUnsupported = errors.New("unsupported capture")
)

// Error is the error of NewReader, Open and Reader.Next for bad input.
type Error struct {
	Path   string // the file, for a Reader from Open
	Offset int64  // file offset of the record or block at fault
	Packet int    // number (from 1, as Wireshark counts frames) of the packet record at fault; 0 for a header or a block that holds no packet
	Err    error  // ErrTruncated, ErrFormat, ErrUnsupported, or the error of the underlying reader
	Detail string // what is wrong, in words
}

func (e *Error) Error() string {
	b := make([]byte, 0, 128)
	if e.Path != "" {
		b = append(b, e.Path...)
		b = append(b, ": "...)
	}
	if e.Packet > 0 {
		b = append(b, "packet "...)
		b = strconv.AppendInt(b, int64(e.Packet), 10)
		b = append(b, " at "...)
	}
	b = append(b, "offset "...)
	b = strconv.AppendInt(b, e.Offset, 10)
	b = append(b, ": "...)
	b = append(b, e.Err.Error()...)
	if e.Detail != "" {
		b = append(b, ": "...)
		b = append(b, e.Detail...)
	}
	return string(b)
}

func (e *Error) Unwrap() error { return e.Err }

// Datagram is one UDP datagram of the capture.
type Datagram struct {
	// Time is the capture time of the packet (of the last fragment, for a
	// reassembled datagram). It is the zero Time for packets of a pcapng
	// Simple Packet Block, which carries none.
	Time     time.Time
	Src, Dst netip.AddrPort
	// Payload is the UDP payload. It aliases the Reader's buffers and is
	// valid only until the next call to Next; copy it to keep it.
	Payload []byte
	// Truncated says the capture holds only the first len(Payload) bytes
	// of the payload: the packet was longer than the capture's snapshot
	// length.
	Truncated bool
	// Packet is the number of the packet record that holds the datagram
	// (its last fragment, for a reassembled one; for an IPFIX message
	// over TCP, the segment that completed it), counted from 1 as
	// Wireshark numbers frames.
	Packet int
	// Session is 0 for a UDP datagram. An IPFIX message read from a TCP
	// stream has its connection's Session, a number of its own (from 1,
	// in the order connections begin in the capture): templates are
	// scoped to it (RFC 7011 §8), as a collector scopes them to its
	// connection.
	Session uint64
}

// Stats counts what a Reader has read. Every packet record is counted in
// exactly one of Datagrams-Reassembled-TCPMessages, NotUDP, Malformed,
// UnsupportedLink, Fragments and TCPSegments.
type Stats struct {
	Packets         int // packet records read
	Datagrams       int // UDP datagrams returned by Next
	Truncated       int // of those, returned with only part of their payload (Datagram.Truncated)
	NotUDP          int // packets skipped because they are not UDP over IPv4 or IPv6 (ARP, TCP, ICMP, other link protocols)
	Malformed       int // packets skipped because a link, IP or UDP header is invalid or cut short by the snapshot length
	UnsupportedLink int // pcapng packets skipped because their interface's link type is not one this package reads
	Fragments       int // IP fragments of UDP datagrams, taken for reassembly
	Reassembled     int // datagrams rebuilt from fragments (counted in Datagrams too)
	// FragmentsDropped counts fragments whose datagram could not be
	// completed: overlapping or inconsistent fragments, datagrams older
	// than 30 s of capture time, over the reassembly memory bound, or
	// still incomplete at the end of the capture.
	FragmentsDropped int

	// IPFIX over TCP (see TCPGap and the limits MaxTCPConns, …).
	TCPSegments      int   // TCP packets read (counted here, not in NotUDP), acknowledgements included
	TCPMalformed     int   // of those, with an invalid TCP header
	TCPConnections   int   // connection directions followed
	TCPMessages      int   // IPFIX messages cut from the streams (counted in Datagrams too)
	TCPRetransmitted int   // segments whose data, or part of it, had been read already
	TCPOutOfOrder    int   // segments held until the hole before them was filled
	TCPGaps          int   // TCPGaps found
	TCPBytesLost     int64 // bytes of the streams missing from the capture or of messages left unfinished
	TCPBytesSkipped  int64 // bytes skipped to find the framing, or of streams that are not IPFIX
	TCPNotIPFIX      int   // connections whose bytes were found not to be IPFIX
}

// LinkType is a pcap/pcapng link-layer header type (LINKTYPE_* of
// https://www.tcpdump.org/linktypes.html).
type LinkType uint16

// The link types a Reader reads.
const (
	LinkTypeNull      LinkType = 0   // BSD loopback, address family in the capturing host's byte order
	LinkTypeEthernet  LinkType = 1   // Ethernet II, with VLAN tags and MPLS
	LinkTypeRaw       LinkType = 101 // raw IPv4 or IPv6 (also read under the DLT_RAW values 12 and 14)
	LinkTypeLoop      LinkType = 108 // OpenBSD loopback, address family in network byte order
	LinkTypeLinuxSLL  LinkType = 113 // Linux cooked capture v1
	LinkTypeIPv4      LinkType = 228 // raw IPv4
	LinkTypeIPv6      LinkType = 229 // raw IPv6
	LinkTypeLinuxSLL2 LinkType = 276 // Linux cooked capture v2
)

func (l LinkType) String() string {
	switch l {
	case LinkTypeNull:
		return "NULL"
	case LinkTypeEthernet:
		return "ETHERNET"
	case LinkTypeRaw, 12, 14:
		return "RAW"
	case LinkTypeLoop:
		return "LOOP"
	case LinkTypeLinuxSLL:
		return "LINUX_SLL"
	case LinkTypeIPv4:
		return "IPV4"
	case LinkTypeIPv6:
		return "IPV6"
	case LinkTypeLinuxSLL2:
		return "LINUX_SLL2"
	}
	return "LINKTYPE_" + strconv.Itoa(int(l))
}

// supported reports whether a Reader reads packets of link type l.
func (l LinkType) supported() bool {
	switch l {
	case LinkTypeNull, LinkTypeEthernet, LinkTypeRaw, 12, 14, LinkTypeLoop,
		LinkTypeLinuxSLL, LinkTypeIPv4, LinkTypeIPv6, LinkTypeLinuxSLL2:
		return true
	}
	return false
}

// Limits of what a Reader holds in memory.
const (
	// MaxRecordLen is the longest packet record or pcapng block a Reader
	// reads; a pcap record longer than this is taken as damage (ErrFormat)
	// and a pcapng packet block longer than this is skipped as malformed.
	// Other pcapng blocks of any length are skipped without being read
	// into memory.
	MaxRecordLen = 1 << 20
	bufSize      = 64 << 10
)

// Reader reads the UDP datagrams of a pcap or pcapng capture. It is not
// safe for concurrent use, except for Offset.
type Reader struct {
	src       io.Reader
	path      string
	rerr      error // the error that ended reading src (io.EOF at its end)
	zeroReads int

	buf      []byte
	pos, end int   // buf[pos:end] is read from src and not yet consumed
	consumed int64 // file offset of buf[pos]
	offset   atomic.Int64

	ng    bool
	order byteOrder
	// pcap
	link LinkType
	nsec bool
	// pcapng: the interfaces of the current section
	ifaces []iface

	stats  Stats
	defrag defrag
	tcp    tcpState
}

// NewReader reads the file header of a pcap or pcapng capture from r and
// returns a Reader of its datagrams. It reads r in large blocks and
// needs no buffering of its own.
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{src: r, buf: make([]byte, bufSize)}
	if err := rd.readFileHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// LinkType returns the link type of a pcap file, or of the first
// interface of a pcapng file. (A pcapng file whose first section does not
// start with an interface description has none until Next has read one;
// LinkType then returns 0.)
func (r *Reader) LinkType() LinkType {
	if r.ng {
		if len(r.ifaces) == 0 {
			return 0
		}
		return r.ifaces[0].link
	}
	return r.link
}

// Offset returns how many bytes of the capture have been consumed: the
// file offset of the next record. It may be called from any goroutine,
// for example to show progress against the file size.
func (r *Reader) Offset() int64 { return r.offset.Load() }

// Stats returns the counts of what has been read so far.
func (r *Reader) Stats() Stats { return r.stats }

// Next returns the next UDP datagram of the capture. At the end of the
// capture it returns io.EOF; for a capture cut short or damaged, a *Error
// (errors.Is ErrTruncated or ErrFormat) after every datagram before the
// damage. Datagram.Payload is valid until the next call to Next.
func (r *Reader) Next() (Datagram, error) {
	r.defrag.release()
	if d, ok := r.nextTCP(); ok {
		return d, nil
	}
	r.tcp.release()
	var d Datagram
	for {
		link, data, ts, err := r.nextPacket()
		if err != nil {
			if err == io.EOF {
				r.stats.FragmentsDropped += r.defrag.flush()
				// The messages of TCP streams complete at their end.
				r.tcpFlush()
				if d, ok := r.nextTCP(); ok {
					return d, nil
				}
			}
			return Datagram{}, err
		}
		r.stats.Packets++
		if !link.supported() {
			r.stats.UnsupportedLink++
			continue
		}
		d.Time = ts
		d.Packet = r.stats.Packets
		if r.parseLink(link, data, &d) {
			r.stats.Datagrams++
			if d.Truncated {
				r.stats.Truncated++
			}
			return d, nil
		}
		if d, ok := r.nextTCP(); ok {
			return d, nil
		}
	}
}

// nextTCP returns the next IPFIX message of the TCP streams, if one is
// ready.
func (r *Reader) nextTCP() (Datagram, bool) {
	d, ok := r.tcp.pop()
	if ok {
		r.stats.Datagrams++
	}
	return d, ok
}

// File is a Reader of a capture file opened by Open.
type File struct {
	*Reader
	f    *os.File
	size int64
}

// Open opens a pcap or pcapng file. Its errors, and those of Next, name
// the file. Offset and Size give the progress through it.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	r := &Reader{src: f, path: path, buf: make([]byte, bufSize)}
	if err := r.readFileHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return &File{Reader: r, f: f, size: size}, nil
}

// Size returns the size of the file when it was opened (0 when it is not
// a regular file).
func (f *File) Size() int64 { return f.size }

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// fail returns a *Error for the record or block at offset off.
func (r *Reader) fail(off int64, packet int, err error, format string, args ...any) error {
	return &Error{Path: r.path, Offset: off, Packet: packet, Err: err, Detail: fmt.Sprintf(format, args...)}
}

// need makes n bytes available at buf[pos:] and returns how many are
// (fewer than n only at the end of the input or on a read error, which
// r.rerr then holds). n must be at most MaxRecordLen.
func (r *Reader) need(n int) int {
	if r.end-r.pos >= n {
		return n
	}
	if r.pos+n > len(r.buf) {
		if n > len(r.buf) {
			nb := make([]byte, max(n, 2*len(r.buf)))
			r.end = copy(nb, r.buf[r.pos:r.end])
			r.buf = nb
		} else {
			r.end = copy(r.buf, r.buf[r.pos:r.end])
		}
		r.pos = 0
	}
	for r.end-r.pos < n && r.rerr == nil {
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		if m > 0 {
			r.zeroReads = 0
		}
		if err != nil {
			r.rerr = err
		} else if m == 0 {
			// A reader that returns nothing and no error, over and
			// over, would otherwise keep us here forever.
			r.zeroReads++
			if r.zeroReads > 100 {
				r.rerr = io.ErrNoProgress
			}
		}
	}
	return min(n, r.end-r.pos)
}

// consume moves past n bytes of buf[pos:].
func (r *Reader) consume(n int) {
	r.pos += n
	r.consumed += int64(n)
	r.offset.Store(r.consumed)
}

// skip moves past n bytes of input, reading them in buffer-sized pieces.
// It returns how many it could skip.
func (r *Reader) skip(n int64) int64 {
	var done int64
	for done < n {
		k := r.need(int(min(n-done, int64(len(r.buf)))))
		if k == 0 {
			break
		}
		r.consume(k)
		done += int64(k)
	}
	return done
}

// readErr is the error for input that ended after have of the want bytes
// of the record at off: ErrTruncated at the end of the input, the read
// error otherwise.
func (r *Reader) readErr(off int64, packet int, what string, have, want int64) error {
	if r.rerr != nil && r.rerr != io.EOF && r.rerr != io.ErrUnexpectedEOF {
		return &Error{Path: r.path, Offset: off, Packet: packet, Err: r.rerr, Detail: "reading " + what}
	}
	return r.fail(off, packet, ErrTruncated, "%s needs %d bytes, the capture ends after %d", what, want, have)
}
