package analyzer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compressed input. nfcollect writes a file as a concatenation of
// independent gzip members or zstd frames, one per chunk of about 1 MiB of
// lines (python-netflow's collector writes one gzip member per line). A
// chunkReader reads such a file member by member and checks each one before
// handing out its data: a damaged member (a checksum that does not match,
// data the decoder refuses, a header destroyed) is skipped as a whole, and
// reading resumes at the next member that is intact, searched for from the
// byte after the damaged member's start (the decoder may have run past the
// end of a damaged member into the next ones). The damage is reported once,
// with its byte offsets, rather than as the thousands of bad lines that the
// garbage of a damaged member would make. A member cut short by the end of
// the file (a crash while writing) keeps its whole lines.
//
// Memory is bounded: a member's data is held back for checking up to
// chunkOutMax, and its compressed bytes are kept for a search from its start
// up to chunkRawMax; a larger member (a whole file compressed by gzip in one
// piece) is handed out as it is decoded, and after damage in it reading
// resumes from where the decoder stopped.

const (
	chunkOutMax = 4 << 20 // data of one member held back until its checksum is checked
	chunkRawMax = 4 << 20 // compressed bytes of one member kept for a search from its start
	sniffLen    = 64 << 10
)

var (
	newline   = []byte{'\n'}
	gzipMagic = []byte{0x1f, 0x8b, 0x08}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// codec is the compression of an input.
type codec uint8

const (
	codecPlain codec = iota
	codecGzip
	codecZstd
)

func (c codec) String() string { return [...]string{"plain", "gzip", "zstd"}[c] }

// sniff returns the compression of an input from its first bytes (at most
// sniffLen): gzip or zstd when it starts with their magic, or when it starts
// with binary data (control characters, which JSON lines never hold) followed
// by their magic, which is a compressed file with a damaged start; plain
// text otherwise.
func sniff(head []byte) codec {
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		return codecGzip
	case bytes.HasPrefix(head, zstdMagic):
		return codecZstd
	}
	if isText(head) {
		return codecPlain
	}
	g, z := bytes.Index(head, gzipMagic), bytes.Index(head, zstdMagic)
	switch {
	case g >= 0 && (z < 0 || g < z):
		return codecGzip
	case z >= 0:
		return codecZstd
	}
	return codecPlain
}

// isText reports whether b holds no control character but tab, newline and
// carriage return.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// rawSource is the compressed input as the decoder reads it (through a
// bufio.Reader). It keeps what it read from the current member's start on,
// so that reading can go back there.
type rawSource struct {
	src  io.Reader
	keep []byte // the input from offset base on, as far as read from src
	drop int    // keep[:drop] is forgotten
	base int64
	next int64 // offset of the next byte Read returns
	err  error // src's error, once it returned one
}

func (s *rawSource) Read(p []byte) (int, error) {
	if k := s.next - s.base; k < int64(len(s.keep)) {
		n := copy(p, s.keep[k:])
		s.next += int64(n)
		return n, nil
	}
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.src.Read(p)
	s.keep = append(s.keep, p[:n]...)
	s.next += int64(n)
	if err != nil {
		s.err = err
	}
	return n, err
}

// first returns the offset of the first byte still kept.
func (s *rawSource) first() int64 { return s.base + int64(s.drop) }

// kept returns how many bytes are kept.
func (s *rawSource) kept() int { return len(s.keep) - s.drop }

// forget drops what was kept before offset off. The bytes are moved only
// when as many are dropped as are left, so that each byte is moved at most
// about once.
func (s *rawSource) forget(off int64) {
	if off <= s.first() {
		return
	}
	s.drop = int(min(off-s.base, int64(len(s.keep))))
	if s.drop >= 64<<10 && s.drop >= len(s.keep)/2 {
		s.keep = s.keep[:copy(s.keep, s.keep[s.drop:])]
		s.base += int64(s.drop)
		s.drop = 0
	}
}

// readErr returns src's error when it is not io.EOF and the reading has come
// up to it.
func (c *chunkReader) readErr() error {
	if c.src.err == nil || c.src.err == io.EOF || c.br.Buffered() > 0 || c.src.next < c.src.base+int64(len(c.src.keep)) {
		return nil
	}
	return c.src.err
}

// chunkReader is an io.Reader of the data of a gzip or zstd file, read and
// checked member by member (see above). Not safe for concurrent use.
type chunkReader struct {
	codec codec
	magic []byte
	src   rawSource
	br    *bufio.Reader
	gz    *gzip.Reader
	zs    *zstd.Decoder
	zf    zstdFrame
	dec   io.Reader // the current member's data

	// report receives each problem: a damaged stretch, a cut member.
	report func(msg string)

	out, spare []byte // the current member's data; spare holds a cut member's while later ones are tried
	ready      []byte // data to hand out
	streaming  bool   // the current member is larger than chunkOutMax: it is handed out as decoded
	start      int64  // offset of the current member
	rewind     bool   // the current member's start is still kept

	damaged   bool // skipping a damaged stretch that began at damageAt
	damageAt  int64
	damageErr error
	cutAt     int64 // a member at cutAt ran into the end of the input; its data is in spare
	cut       bool
	wasted    int64 // bytes decoded in members that turned out damaged
	err       error // returned once the data is handed out: io.EOF or a read error

	Damaged int   // damaged stretches and cut members reported
	Data    int64 // bytes of data handed out
	lines   int64 // lines in them
}

// say reports a problem, after the lines handed out so far.
func (c *chunkReader) say(format string, args ...any) {
	c.report(fmt.Sprintf("after line %d: ", c.lines) + fmt.Sprintf(format, args...))
}

func newChunkReader(raw io.Reader, c codec, report func(string)) *chunkReader {
	r := &chunkReader{codec: c, magic: gzipMagic, report: report}
	if c == codecZstd {
		r.magic = zstdMagic
	}
	r.src.src = raw
	r.br = bufio.NewReaderSize(&r.src, 64<<10)
	return r
}

// Close releases the decoders.
func (c *chunkReader) Close() {
	if c.zs != nil {
		c.zs.Close()
	}
}

// pos returns the offset of the next byte the decoder reads.
func (c *chunkReader) pos() int64 { return c.src.next - int64(c.br.Buffered()) }

// seek moves the read position back to off, which must still be kept.
func (c *chunkReader) seek(off int64) {
	c.src.next = off
	c.br.Reset(&c.src)
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for {
		if len(c.ready) > 0 {
			n := copy(p, c.ready)
			c.ready = c.ready[n:]
			c.Data += int64(n)
			c.lines += int64(bytes.Count(p[:n], newline))
			return n, nil
		}
		if c.err != nil {
			return 0, c.err
		}
		if c.streaming {
			n, err := c.dec.Read(p)
			c.Data += int64(n)
			c.lines += int64(bytes.Count(p[:n], newline))
			if err == nil {
				if c.src.kept() > chunkRawMax {
					c.src.forget(c.pos())
					c.rewind = false
				}
				if n > 0 {
					return n, nil
				}
				continue
			}
			if err == io.EOF {
				err = c.ended()
			}
			if err == nil {
				c.streaming = false
				c.src.forget(c.pos())
			} else {
				c.failed(err)
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		c.nextMember()
	}
}

// nextMember reads members from the current position until one is intact,
// or the input ends.
func (c *chunkReader) nextMember() {
	for {
		from := c.pos()
		found := c.skipToMagic()
		if c.pos() > from && !c.damaged {
			c.beginDamage(from, fmt.Errorf("data that is not %v", c.codec))
		}
		if !found {
			if err := c.readErr(); err != nil {
				c.err = err
				return
			}
			c.endOfInput()
			return
		}
		if c.codec == codecZstd && !c.damaged && c.skippableFrame() {
			continue
		}
		c.start = c.pos()
		c.rewind = true
		err := c.decodeMember()
		if err == nil {
			c.intact()
			return
		}
		c.failed(err)
		if c.err != nil {
			return
		}
	}
}

// decodeMember decodes the member at the current position into c.out, until
// its end (nil: checked and intact), an error, or chunkOutMax (nil, and
// c.streaming: the rest is handed out as it is decoded).
func (c *chunkReader) decodeMember() error {
	var err error
	if c.codec == codecGzip {
		if c.gz == nil {
			c.gz, err = gzip.NewReader(c.br)
		} else {
			err = c.gz.Reset(c.br)
		}
		if err != nil {
			return err
		}
		c.gz.Multistream(false)
		c.dec = c.gz
	} else {
		c.zf = zstdFrame{r: c.br}
		if c.zs == nil {
			c.zs, err = zstd.NewReader(&c.zf, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
		} else {
			err = c.zs.Reset(&c.zf)
		}
		if err != nil {
			return err
		}
		c.dec = c.zs
	}
	c.out = c.out[:0]
	for len(c.out) < chunkOutMax {
		if cap(c.out)-len(c.out) < 32<<10 {
			// Doubling, up to chunkOutMax and a read's room.
			b := make([]byte, len(c.out), min(max(2*cap(c.out), 64<<10), chunkOutMax+64<<10))
			c.out = b[:copy(b, c.out)]
		}
		n, err := c.dec.Read(c.out[len(c.out):cap(c.out)])
		c.out = c.out[:len(c.out)+n]
		if err == io.EOF {
			return c.ended()
		}
		if err != nil {
			return err
		}
		if c.src.kept() > chunkRawMax {
			c.src.forget(c.pos())
			c.rewind = false
		}
	}
	c.streaming = true
	return nil
}

// errFrameEnd is a zstd frame whose decoder stopped before the frame's end.
var errFrameEnd = errors.New("zstd: the decoder stopped before the end of the frame")

// ended checks, when the decoder says the member ended, that it read the
// whole member.
func (c *chunkReader) ended() error {
	if c.codec == codecZstd && (c.zf.state != zsDone || c.zf.left != 0) {
		return errFrameEnd
	}
	return nil
}

// intact hands out the data of the member just read, which ends a damaged
// stretch before it.
func (c *chunkReader) intact() {
	if c.damaged {
		c.Damaged++
		c.say("bytes %d to %d skipped: %v; reading goes on with the intact %s at byte %d",
			c.damageAt, c.start, c.damageErr, c.memberName(), c.start)
		c.damaged, c.cut = false, false
	}
	c.ready = c.out
	if !c.streaming {
		c.src.forget(c.pos())
	}
}

func (c *chunkReader) memberName() string {
	if c.codec == codecZstd {
		return "zstd frame"
	}
	return "gzip member"
}

// failed handles the failure of the member that started at c.start: a
// damaged stretch begins there (unless one is already being skipped), and
// the search for the next intact member starts at the byte after it.
func (c *chunkReader) failed(err error) {
	if e := c.readErr(); e != nil {
		c.err = e // a read error: nothing more can be read
		return
	}
	at := c.pos()
	streamed := c.streaming
	c.streaming = false
	if !c.damaged {
		if streamed {
			c.beginDamage(at, fmt.Errorf("the %s that began at byte %d is damaged (%v); its data before the damage was read", c.memberName(), c.start, err))
		} else {
			c.beginDamage(c.start, fmt.Errorf("a damaged %s (%v)", c.memberName(), err))
		}
	}
	if !streamed && !c.cut && c.truncated(err) {
		// Maybe the last member, cut short: keep its data in case no intact
		// member follows.
		c.cut, c.cutAt = true, c.start
		c.out, c.spare = c.spare[:0], c.out
	}
	c.wasted += at - c.start
	// Searching from the start again costs a decode per false match of the
	// magic; past a bound of the bytes read, go on from where the decoder
	// stopped instead, so that hostile input costs linear time.
	switch {
	case c.rewind && c.start >= c.src.first() && c.wasted <= 16*(at+1<<20):
		c.seek(c.start + 1)
	case at == c.start:
		c.br.Discard(1) // the decoder took nothing: never try the same start twice
	}
}

func (c *chunkReader) beginDamage(at int64, err error) {
	c.damaged, c.damageAt, c.damageErr = true, at, err
}

// truncated reports whether err is the input ending inside the member.
func (c *chunkReader) truncated(err error) bool {
	if _, perr := c.br.Peek(1); perr != io.EOF {
		return false
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || c.codec == codecZstd && c.zf.err == io.ErrUnexpectedEOF
}

// endOfInput reports what is left of a damaged stretch or a cut member.
func (c *chunkReader) endOfInput() {
	c.err = io.EOF
	end := c.pos()
	if c.cut {
		data := c.spare
		whole := bytes.LastIndexByte(data, '\n') + 1
		if isText(data[:whole]) {
			if c.damageAt < c.cutAt {
				c.Damaged++
				c.say("bytes %d to %d skipped: %v", c.damageAt, c.cutAt, c.damageErr)
			}
			c.Damaged++
			lost := "the rest of it is lost"
			if whole < len(data) {
				lost = fmt.Sprintf("the rest of it (with a partial line of %d bytes) is lost", len(data)-whole)
			}
			c.say("the file ends inside the %s at byte %d (cut short at byte %d): %d whole lines of it read, %s",
				c.memberName(), c.cutAt, end, bytes.Count(data[:whole], newline), lost)
			c.ready = data[:whole]
			return
		}
	}
	if c.damaged {
		c.Damaged++
		c.say("bytes %d to %d (the end) skipped: %v; no intact %s follows", c.damageAt, end, c.damageErr, c.memberName())
	}
}

// skipToMagic moves the read position to the next occurrence of the codec's
// magic number, and reports whether there is one.
func (c *chunkReader) skipToMagic() bool {
	m := c.magic
	for {
		b, _ := c.br.Peek(len(m))
		if len(b) < len(m) {
			c.br.Discard(len(b))
			return false
		}
		if bytes.Equal(b, m) {
			return true
		}
		buf, _ := c.br.Peek(c.br.Buffered())
		if k := bytes.Index(buf[1:], m); k >= 0 {
			c.br.Discard(k + 1)
			return true
		}
		// The last bytes may start a match.
		c.br.Discard(len(buf) - (len(m) - 1))
		c.src.forget(c.pos())
	}
}

// skippableFrame passes over a zstd skippable frame at the read position,
// and reports whether there was one.
func (c *chunkReader) skippableFrame() bool {
	b, _ := c.br.Peek(8)
	if len(b) < 8 || b[0]&0xf0 != 0x50 || b[1] != 0x2a || b[2] != 0x4d || b[3] != 0x18 {
		return false
	}
	n := int64(b[4]) | int64(b[5])<<8 | int64(b[6])<<16 | int64(b[7])<<24
	c.br.Discard(8)
	for n > 0 {
		k, _ := c.br.Discard(int(min(n, 1<<20)))
		if k == 0 {
			break
		}
		n -= int64(k)
	}
	c.src.forget(c.pos())
	return true
}

// zstdFrame passes on exactly one zstd frame of r, found from its header and
// block headers (RFC 8878, section 3.1.1), and then io.EOF, so that the
// decoder never reads into the next frame.
type zstdFrame struct {
	r     *bufio.Reader
	left  int // bytes of the current part still to pass on
	state uint8
	last  bool // the last block has begun
	check bool // a content checksum follows the last block
	err   error
}

const (
	zsHeader = iota
	zsBlocks
	zsDone
)

var (
	errZstdReserved  = errors.New("zstd: reserved bit set in a frame header")
	errZstdBlockType = errors.New("zstd: reserved block type")
	errZstdBlockSize = errors.New("zstd: block larger than 128 KiB")
)

func (z *zstdFrame) Read(p []byte) (int, error) {
	for z.left == 0 {
		if z.err != nil {
			return 0, z.err
		}
		z.err = z.nextPart()
	}
	n, err := z.r.Read(p[:min(len(p), z.left)])
	z.left -= n
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
		z.err = err
	}
	return n, err
}

// nextPart finds the length of the frame's next part: the header, a block
// with its header, the checksum.
func (z *zstdFrame) nextPart() error {
	switch z.state {
	case zsHeader:
		h, _ := z.r.Peek(5)
		if len(h) < 5 {
			return io.ErrUnexpectedEOF
		}
		fhd := h[4]
		if fhd&0x08 != 0 {
			return errZstdReserved
		}
		single := fhd >> 5 & 1
		n := 5 + int(1-single) + [4]int{0, 1, 2, 4}[fhd&3]
		switch fhd >> 6 {
		case 0:
			n += int(single)
		case 1:
			n += 2
		case 2:
			n += 4
		case 3:
			n += 8
		}
		z.check = fhd&0x04 != 0
		z.left, z.state = n, zsBlocks
	case zsBlocks:
		if z.last {
			z.state = zsDone
			if z.check {
				z.left = 4
				return nil
			}
			return io.EOF
		}
		h, _ := z.r.Peek(3)
		if len(h) < 3 {
			return io.ErrUnexpectedEOF
		}
		bh := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
		z.last = bh&1 != 0
		size := bh >> 3
		switch bh >> 1 & 3 {
		case 1: // RLE: one byte, repeated
			size = 1
		case 3:
			return errZstdBlockType
		}
		if size > 128<<10 {
			return errZstdBlockSize
		}
		z.left = 3 + size
	default:
		return io.EOF
	}
	return nil
}
