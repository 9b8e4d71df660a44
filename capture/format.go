package capture

import (
	"encoding/binary"
	"io"
	"math/bits"
	"time"
)

// File formats: pcap (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html)
// and pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html).
const (
	pcapMagicMicro    = 0xa1b2c3d4
	pcapMagicNano     = 0xa1b23c4d
	pcapMagicModified = 0xa1b2cd34 // Alexey Kuznetsov's patched libpcap
	pcapHeaderLen     = 24
	pcapRecordLen     = 16

	ngByteOrderMagic = 0x1a2b3c4d
	ngSHB            = 0x0a0d0d0a // section header block
	ngIDB            = 1          // interface description block
	ngPB             = 2          // packet block (obsolete)
	ngSPB            = 3          // simple packet block
	ngEPB            = 6          // enhanced packet block
	ngSHBMinLen      = 28
	ngEPBMinLen      = 32 // also the obsolete packet block
	ngSPBMinLen      = 16
	ngIDBMinLen      = 20
	ngOptTsResol     = 9
	ngOptTsOffset    = 14
	maxInterfaces    = 1 << 16 // per section
)

// byteOrder is the byte order of a capture's headers.
type byteOrder struct{ big bool }

func (o byteOrder) u16(b []byte) uint16 {
	if o.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (o byteOrder) u32(b []byte) uint32 {
	if o.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (o byteOrder) u64(b []byte) uint64 {
	if o.big {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// iface is a pcapng interface: its link type and how to read its
// timestamps (units of 10^-exp or 2^-exp seconds, plus offset seconds).
type iface struct {
	link   LinkType
	snap   uint32
	pow2   bool
	exp    uint8
	div    uint64 // 10^exp when !pow2
	offset int64
}

var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// time converts a timestamp in the interface's units.
func (f *iface) time(ts uint64) time.Time {
	var sec, ns uint64
	switch {
	case !f.pow2:
		sec = ts / f.div
		hi, lo := bits.Mul64(ts%f.div, 1e9)
		ns, _ = bits.Div64(hi, lo, f.div)
	case f.exp == 0:
		sec = ts
	case f.exp < 64:
		sec = ts >> f.exp
		hi, lo := bits.Mul64(ts&(1<<f.exp-1), 1e9)
		ns = hi<<(64-f.exp) | lo>>f.exp
	default:
		hi, _ := bits.Mul64(ts, 1e9)
		ns = hi >> (f.exp - 64)
	}
	return time.Unix(int64(sec)+f.offset, int64(ns))
}

// readFileHeader reads the pcap file header or the first pcapng section
// header.
func (r *Reader) readFileHeader() error {
	n := r.need(4)
	if n < 4 {
		if r.rerr != nil && r.rerr != io.EOF {
			return &Error{Path: r.path, Err: r.rerr, Detail: "reading the file header"}
		}
		return r.fail(0, 0, ErrFormat, "%d bytes: too short to be a pcap or pcapng file", n)
	}
	m := r.buf[r.pos : r.pos+4]
	if binary.BigEndian.Uint32(m) == ngSHB {
		r.ng = true
		if err := r.readSHB(true); err != nil {
			return err
		}
		r.readFirstIDB()
		return nil
	}
	switch binary.LittleEndian.Uint32(m) {
	case pcapMagicMicro:
	case pcapMagicNano:
		r.nsec = true
	case bits.ReverseBytes32(pcapMagicMicro):
		r.order.big = true
	case bits.ReverseBytes32(pcapMagicNano):
		r.order.big, r.nsec = true, true
	case pcapMagicModified, bits.ReverseBytes32(pcapMagicModified):
		return r.fail(0, 0, ErrUnsupported, "modified (Kuznetsov) pcap format; convert it with editcap -F pcap")
	default:
		switch {
		case m[0] == 0x1f && m[1] == 0x8b:
			return r.fail(0, 0, ErrUnsupported, "gzip-compressed; decompress it first")
		case binary.LittleEndian.Uint32(m) == 0xfd2fb528:
			return r.fail(0, 0, ErrUnsupported, "zstd-compressed; decompress it first")
		}
		return r.fail(0, 0, ErrFormat, "not a pcap or pcapng file (it starts with %x)", m)
	}
	if n := r.need(pcapHeaderLen); n < pcapHeaderLen {
		return r.readErr(0, 0, "the pcap file header", int64(n), pcapHeaderLen)
	}
	h := r.buf[r.pos : r.pos+pcapHeaderLen]
	if major := r.order.u16(h[4:]); major != 2 {
		return r.fail(0, 0, ErrUnsupported, "pcap version %d.%d", major, r.order.u16(h[6:]))
	}
	// The link type is the low 16 bits; bits 26-31 may say an FCS is
	// appended (the IP length excludes it anyway); bits 16-25 are
	// reserved.
	lt := r.order.u32(h[20:])
	if lt&0x03ff0000 != 0 || !LinkType(lt).supported() {
		return r.fail(0, 0, ErrUnsupported, "link type %s (%#x): this package reads %s", LinkType(lt), lt, supportedList)
	}
	r.link = LinkType(lt)
	r.consume(pcapHeaderLen)
	return nil
}

const supportedList = "Ethernet, Linux SLL and SLL2, raw IP, BSD loopback"

// nextPacket returns the next packet record's link type, data and time,
// or io.EOF at the end of the capture.
func (r *Reader) nextPacket() (LinkType, []byte, time.Time, error) {
	if r.ng {
		return r.nextBlock()
	}
	off := r.consumed
	packet := r.stats.Packets + 1
	n := r.need(pcapRecordLen)
	if n < pcapRecordLen {
		if n == 0 && (r.rerr == io.EOF || r.rerr == nil) {
			return 0, nil, time.Time{}, io.EOF
		}
		return 0, nil, time.Time{}, r.readErr(off, packet, "the record header", int64(n), pcapRecordLen)
	}
	h := r.buf[r.pos : r.pos+pcapRecordLen]
	sec, frac := r.order.u32(h), r.order.u32(h[4:])
	incl := r.order.u32(h[8:])
	if incl > MaxRecordLen-pcapRecordLen {
		return 0, nil, time.Time{}, r.fail(off, packet, ErrFormat, "captured length %d is over the limit of %d: the file is damaged", incl, MaxRecordLen-pcapRecordLen)
	}
	want := pcapRecordLen + int(incl)
	if n := r.need(want); n < want {
		return 0, nil, time.Time{}, r.readErr(off, packet, "the record", int64(n), int64(want))
	}
	data := r.buf[r.pos+pcapRecordLen : r.pos+want]
	r.consume(want)
	ns := int64(frac)
	if !r.nsec {
		ns *= 1000
	}
	return r.link, data, time.Unix(int64(sec), ns), nil
}

// readSHB reads a pcapng section header block at the current offset.
func (r *Reader) readSHB(first bool) error {
	off := r.consumed
	if n := r.need(12); n < 12 {
		return r.readErr(off, 0, "the section header block", int64(n), ngSHBMinLen)
	}
	b := r.buf[r.pos:]
	switch {
	case binary.BigEndian.Uint32(b[8:]) == ngByteOrderMagic:
		r.order.big = true
	case binary.LittleEndian.Uint32(b[8:]) == ngByteOrderMagic:
		r.order.big = false
	default:
		if first {
			return r.fail(off, 0, ErrFormat, "not a pcap or pcapng file (pcapng magic without its byte-order magic, found %x)", b[8:12])
		}
		return r.fail(off, 0, ErrFormat, "section header block with byte-order magic %x", b[8:12])
	}
	blen := r.order.u32(b[4:])
	if blen < ngSHBMinLen || blen%4 != 0 || blen > MaxRecordLen {
		return r.fail(off, 0, ErrFormat, "section header block length %d", blen)
	}
	if n := r.need(int(blen)); n < int(blen) {
		return r.readErr(off, 0, "the section header block", int64(n), int64(blen))
	}
	b = r.buf[r.pos : r.pos+int(blen)]
	if t := r.order.u32(b[blen-4:]); t != blen {
		return r.fail(off, 0, ErrFormat, "section header block: trailing length %d differs from leading length %d", t, blen)
	}
	if major := r.order.u16(b[12:]); major != 1 {
		return r.fail(off, 0, ErrUnsupported, "pcapng version %d.%d", major, r.order.u16(b[14:]))
	}
	r.ifaces = r.ifaces[:0]
	r.consume(int(blen))
	return nil
}

// readFirstIDB reads the interface description block that follows the
// section header, for LinkType. Anything else, or anything wrong with it,
// is left for nextBlock to read or report.
func (r *Reader) readFirstIDB() {
	if r.need(8) < 8 || r.order.u32(r.buf[r.pos:]) != ngIDB {
		return
	}
	blen := r.order.u32(r.buf[r.pos+4:])
	if blen < ngIDBMinLen || blen%4 != 0 || blen > MaxRecordLen || r.need(int(blen)) < int(blen) {
		return
	}
	b := r.buf[r.pos : r.pos+int(blen)]
	if r.order.u32(b[blen-4:]) != blen {
		return
	}
	if r.readIDB(r.consumed, b) == nil { // it adds the interface only when it returns nil
		r.consume(int(blen))
	}
}

// nextBlock reads pcapng blocks up to the next packet.
func (r *Reader) nextBlock() (LinkType, []byte, time.Time, error) {
	for {
		off := r.consumed
		packet := r.stats.Packets + 1
		n := r.need(8)
		b := r.buf[r.pos:]
		var typ uint32
		if n >= 4 {
			typ = r.order.u32(b)
		}
		isPacket := typ == ngEPB || typ == ngSPB || typ == ngPB
		if !isPacket {
			packet = 0
		}
		if n < 8 {
			if n == 0 && (r.rerr == io.EOF || r.rerr == nil) {
				return 0, nil, time.Time{}, io.EOF
			}
			return 0, nil, time.Time{}, r.readErr(off, packet, "the block header", int64(n), 8)
		}
		if typ == ngSHB {
			if err := r.readSHB(false); err != nil {
				return 0, nil, time.Time{}, err
			}
			continue
		}
		blen := r.order.u32(b[4:])
		if blen < 12 || blen%4 != 0 {
			return 0, nil, time.Time{}, r.fail(off, 0, ErrFormat, "block of type %#x with length %d", typ, blen)
		}
		if blen > MaxRecordLen {
			if typ == ngIDB {
				return 0, nil, time.Time{}, r.fail(off, 0, ErrFormat, "interface description block length %d is over the limit of %d", blen, MaxRecordLen)
			}
			if got := r.skip(int64(blen)); got < int64(blen) {
				return 0, nil, time.Time{}, r.readErr(off, packet, "the block", got, int64(blen))
			}
			if isPacket {
				r.stats.Packets++
				r.stats.Malformed++
			}
			continue
		}
		if n := r.need(int(blen)); n < int(blen) {
			return 0, nil, time.Time{}, r.readErr(off, packet, "the block", int64(n), int64(blen))
		}
		b = r.buf[r.pos : r.pos+int(blen)]
		if t := r.order.u32(b[blen-4:]); t != blen {
			return 0, nil, time.Time{}, r.fail(off, packet, ErrFormat, "block of type %#x: trailing length %d differs from leading length %d", typ, t, blen)
		}
		r.consume(int(blen))
		var (
			ifid  uint32
			data  []byte
			ts    uint64
			hasTS = true
		)
		switch typ {
		case ngIDB:
			if err := r.readIDB(off, b); err != nil {
				return 0, nil, time.Time{}, err
			}
			continue
		case ngEPB, ngPB:
			if blen < ngEPBMinLen {
				break
			}
			if typ == ngEPB {
				ifid = r.order.u32(b[8:])
			} else {
				ifid = uint32(r.order.u16(b[8:]))
			}
			ts = uint64(r.order.u32(b[12:]))<<32 | uint64(r.order.u32(b[16:]))
			if capLen := r.order.u32(b[20:]); capLen <= blen-ngEPBMinLen {
				data = b[28 : 28+capLen]
			}
		case ngSPB:
			if blen < ngSPBMinLen || len(r.ifaces) == 0 {
				break
			}
			capLen := min(r.order.u32(b[8:]), blen-ngSPBMinLen)
			if s := r.ifaces[0].snap; s != 0 {
				capLen = min(capLen, s)
			}
			data, hasTS = b[12:12+capLen], false
		default:
			continue
		}
		if data == nil || int(ifid) >= len(r.ifaces) {
			r.stats.Packets++
			r.stats.Malformed++
			continue
		}
		f := &r.ifaces[ifid]
		var t time.Time
		if hasTS {
			t = f.time(ts)
		}
		return f.link, data, t, nil
	}
}

// readIDB reads an interface description block b at offset off.
func (r *Reader) readIDB(off int64, b []byte) error {
	if len(b) < ngIDBMinLen {
		return r.fail(off, 0, ErrFormat, "interface description block length %d", len(b))
	}
	if len(r.ifaces) >= maxInterfaces {
		return r.fail(off, 0, ErrFormat, "more than %d interfaces in one section", maxInterfaces)
	}
	f := iface{link: LinkType(r.order.u16(b[8:])), snap: r.order.u32(b[12:]), exp: 6, div: 1e6}
	opts := b[16 : len(b)-4]
	for len(opts) >= 4 {
		code, olen := r.order.u16(opts), int(r.order.u16(opts[2:]))
		if code == 0 {
			break
		}
		padded := (olen + 3) &^ 3
		if 4+padded > len(opts) {
			return r.fail(off, 0, ErrFormat, "interface %d: option %d of length %d runs past its block", len(r.ifaces), code, olen)
		}
		v := opts[4 : 4+olen]
		switch {
		case code == ngOptTsResol && olen == 1:
			f.exp = v[0] & 0x7f
			f.pow2 = v[0]&0x80 != 0
			if !f.pow2 {
				if int(f.exp) >= len(pow10) {
					return r.fail(off, 0, ErrUnsupported, "interface %d: timestamp resolution 10^-%d s", len(r.ifaces), f.exp)
				}
				f.div = pow10[f.exp]
			}
		case code == ngOptTsOffset && olen == 8:
			f.offset = int64(r.order.u64(v))
		}
		opts = opts[4+padded:]
	}
	r.ifaces = append(r.ifaces, f)
	return nil
}
