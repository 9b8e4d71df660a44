package collector

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Codec is the compression of an output file.
type Codec int

// The codecs.
const (
	Plain Codec = iota
	Gzip
	Zstd
)

// CodecFor returns the codec a file name asks for: .gz gzip, .zst zstd,
// anything else plain.
func CodecFor(name string) Codec {
	switch {
	case strings.HasSuffix(name, ".gz"):
		return Gzip
	case strings.HasSuffix(name, ".zst"):
		return Zstd
	}
	return Plain
}

// ParseCodec parses a --compress value: gz, zst or none.
func ParseCodec(s string) (Codec, error) {
	switch s {
	case "gz", "gzip":
		return Gzip, nil
	case "zst", "zstd":
		return Zstd, nil
	case "none", "plain":
		return Plain, nil
	}
	return 0, fmt.Errorf("unknown compression %q (want gz, zst or none)", s)
}

// Ext returns the file name extension of the codec.
func (c Codec) Ext() string {
	switch c {
	case Gzip:
		return ".gz"
	case Zstd:
		return ".zst"
	}
	return ""
}

// A Framer turns a buffer of whole encoded records into the bytes a sink
// appends (a compressed, self-contained member). The result is valid until
// the next call. Each worker has its own; a Framer is not safe for
// concurrent use.
type Framer interface {
	Frame(src []byte) []byte
}

// Framing is implemented by sinks whose chunks are framed: NewFramer
// returns a framer for one worker.
type Framing interface {
	NewFramer() (Framer, error)
}

// The gzip members nfcollect writes carry their own length in an extra
// field (RFC 1952 §2.3.1.1, subfield "NK", 4 bytes little endian), so that
// the end of a file can be checked, and a damaged file walked, without
// decompressing it. Readers ignore the field.
const (
	gzipExtraID  = "NK"
	gzipSizeAt   = 16 // offset of the length in the member: header 10, XLEN 2, SI1 SI2 LEN 4
	gzipExtraLen = 8
)

// newFramer returns the framer of a codec (nil for Plain).
func newFramer(c Codec) (Framer, error) {
	switch c {
	case Gzip:
		gz, err := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		if err != nil {
			return nil, err
		}
		return &gzipFramer{gz: gz}, nil
	case Zstd:
		zs, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if err != nil {
			return nil, err
		}
		return &zstdFramer{zs: zs}, nil
	}
	return nil, nil
}

type gzipFramer struct {
	buf bytes.Buffer
	gz  *gzip.Writer
}

// Frame returns src as one gzip member that records its own length.
func (z *gzipFramer) Frame(src []byte) []byte {
	z.buf.Reset()
	z.gz.Reset(&z.buf)
	z.gz.Header.Extra = []byte{gzipExtraID[0], gzipExtraID[1], 4, 0, 0, 0, 0, 0}
	z.gz.Write(src) // writes to a bytes.Buffer cannot fail
	z.gz.Close()
	b := z.buf.Bytes()
	binary.LittleEndian.PutUint32(b[gzipSizeAt:], uint32(len(b)))
	return b
}

type zstdFramer struct {
	buf []byte
	zs  *zstd.Encoder
}

// Frame returns src as one zstd frame.
func (z *zstdFramer) Frame(src []byte) []byte {
	z.buf = z.zs.EncodeAll(src, z.buf[:0])
	return z.buf
}

// errDamaged reports a file whose content cannot be walked.
var errDamaged = errors.New("damaged")

// completeLength returns the length of the longest prefix of r (size
// bytes) made of whole members (gzip), frames (zstd) or lines (plain):
// what survives of a file that a crash or a full disk cut short.
func completeLength(r io.ReaderAt, size int64, c Codec) (int64, error) {
	switch c {
	case Gzip:
		return gzipComplete(r, size)
	case Zstd:
		return zstdComplete(r, size)
	}
	return plainComplete(r, size)
}

func plainComplete(r io.ReaderAt, size int64) (int64, error) {
	var buf [64 << 10]byte
	end := size
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		if _, err := r.ReadAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			return end - n + int64(i) + 1, nil
		}
		end -= n
	}
	return 0, nil
}

// gzipComplete walks the members of a gzip file: by their recorded length
// when they carry one, else by decompressing them.
func gzipComplete(r io.ReaderAt, size int64) (int64, error) {
	var off int64
	var hdr [gzipSizeAt + 4]byte
	for off < size {
		n, _ := r.ReadAt(hdr[:], off)
		if n < 10 || hdr[0] != 0x1f || hdr[1] != 0x8b || hdr[2] != 8 {
			return off, nil // not a member start: cut here
		}
		if n == len(hdr) && hdr[3]&4 != 0 && hdr[12] == gzipExtraID[0] && hdr[13] == gzipExtraID[1] && hdr[14] == 4 {
			l := int64(binary.LittleEndian.Uint32(hdr[gzipSizeAt:]))
			if l < int64(len(hdr)) || off+l > size {
				return off, nil
			}
			off += l
			continue
		}
		// A member without its length (another writer): decompress it.
		l, ok := gzipMemberLen(io.NewSectionReader(r, off, size-off))
		if !ok {
			return off, nil
		}
		off += l
	}
	return off, nil
}

// gzipMemberLen decompresses the gzip member at the start of r and returns
// its length.
func gzipMemberLen(r io.Reader) (int64, bool) {
	cr := &countReader{r: r}
	br := bufio.NewReader(cr)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return 0, false
	}
	zr.Multistream(false)
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return 0, false
	}
	return cr.n - int64(br.Buffered()), true
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// zstdComplete walks the frames of a zstd file by their headers and block
// headers (RFC 8878 §3.1), without decompressing them.
func zstdComplete(r io.ReaderAt, size int64) (int64, error) {
	var off int64
	for off < size {
		l, ok := zstdFrameLen(r, off, size)
		if !ok {
			return off, nil
		}
		off += l
	}
	return off, nil
}

// zstdFrameLen returns the length of the zstd frame (or skippable frame)
// at off, or false if it is cut short or not a frame.
func zstdFrameLen(r io.ReaderAt, off, size int64) (int64, bool) {
	var h [18]byte
	n, _ := r.ReadAt(h[:], off)
	if n < 8 {
		return 0, false
	}
	magic := binary.LittleEndian.Uint32(h[:])
	if magic&0xFFFFFFF0 == 0x184D2A50 { // skippable frame
		l := 8 + int64(binary.LittleEndian.Uint32(h[4:]))
		return l, off+l <= size
	}
	if magic != 0xFD2FB528 {
		return 0, false
	}
	fhd := h[4]
	if fhd&0x08 != 0 { // reserved bit
		return 0, false
	}
	single := fhd&0x20 != 0
	pos := int64(5)
	if !single {
		pos++ // window descriptor
	}
	pos += [4]int64{0, 1, 2, 4}[fhd&3] // dictionary id
	switch fhd >> 6 {                  // frame content size
	case 0:
		if single {
			pos++
		}
	case 1:
		pos += 2
	case 2:
		pos += 4
	case 3:
		pos += 8
	}
	var bh [3]byte
	for {
		if off+pos+3 > size {
			return 0, false
		}
		if _, err := r.ReadAt(bh[:], off+pos); err != nil {
			return 0, false
		}
		v := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
		last, typ, bsize := v&1 != 0, (v>>1)&3, int64(v>>3)
		pos += 3
		switch typ {
		case 0, 2: // raw, compressed
			pos += bsize
		case 1: // RLE
			pos++
		default:
			return 0, false
		}
		if last {
			break
		}
	}
	if fhd&0x04 != 0 {
		pos += 4 // content checksum
	}
	return pos, off+pos <= size
}
