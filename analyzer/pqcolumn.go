package analyzer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"unsafe"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// The fast Parquet reader decodes the pages of the column chunks a view
// needs straight into reused typed slices: PLAIN values are copied as the
// little-endian arrays they are, dictionary pages are decoded once per
// chunk and their indices (the RLE/bit-packed hybrid) gathered from them.
// Every size read from the file is checked against the bytes that hold it
// before use; nothing is allocated by a size the file claims beyond the
// bounds below.

// pqPageLimit bounds a page's uncompressed size (writers make pages of
// 8 KiB to a few MiB).
const pqPageLimit = 64 << 20

// pqDecoders are the decompressors of a run, made when first needed.
type pqDecoders struct {
	zstd *zstd.Decoder
	gz   *gzip.Reader
	br   bytes.Reader
}

func (d *pqDecoders) close() {
	if d.zstd != nil {
		d.zstd.Close()
		d.zstd = nil
	}
}

// decompress decompresses a page of codec into buf, which must come to
// exactly n bytes, and returns it.
func (d *pqDecoders) decompress(codec int32, src, buf []byte, n int) ([]byte, error) {
	if n < 0 || n > pqPageLimit {
		return buf, fmt.Errorf("page of %d bytes uncompressed (at most %d)", n, pqPageLimit)
	}
	var out []byte
	var err error
	switch codec {
	case pqCodecNone:
		if len(src) != n {
			return buf, fmt.Errorf("uncompressed page of %d bytes says %d", len(src), n)
		}
		return src, nil
	case pqCodecZstd:
		if d.zstd == nil {
			d.zstd, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(pqPageLimit))
			if err != nil {
				return buf, err
			}
		}
		// Slack past the page lets the decoder copy in whole words.
		if cap(buf) < n+64 {
			buf = make([]byte, 0, n+64)
		}
		out, err = d.zstd.DecodeAll(src, buf[:0])
	case pqCodecSnappy:
		m, derr := snappy.DecodedLen(src)
		if derr != nil {
			return buf, fmt.Errorf("snappy: %w", derr)
		}
		if m != n {
			return buf, fmt.Errorf("snappy page of %d bytes says %d", m, n)
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		out, err = snappy.Decode(buf[:n], src)
	case pqCodecLZ4Raw:
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		var m int
		m, err = lz4.UncompressBlock(src, buf[:n])
		out = buf[:m]
	case pqCodecGzip:
		d.br.Reset(src)
		if d.gz == nil {
			d.gz, err = gzip.NewReader(&d.br)
		} else {
			err = d.gz.Reset(&d.br)
		}
		if err != nil {
			return buf, fmt.Errorf("gzip: %w", err)
		}
		if cap(buf) < n+1 {
			buf = make([]byte, n+1)
		}
		var m int
		m, err = io.ReadFull(d.gz, buf[:n+1])
		if err == io.ErrUnexpectedEOF {
			err = nil
		}
		out = buf[:m]
	default:
		return buf, fmt.Errorf("compression %s is not supported", codecName(codec))
	}
	if err != nil {
		return buf, fmt.Errorf("%s: %w", codecName(codec), err)
	}
	if len(out) != n {
		return buf, fmt.Errorf("%s page of %d bytes says %d", codecName(codec), len(out), n)
	}
	return out, nil
}

// pqCol reads one column of the file: a chunk at a time, a page at a time.
type pqCol struct {
	name  string
	leaf  int
	phys  int32 // the physical type the reader wants
	width int   // bytes per value; 0 for BYTE_ARRAY
	opt   bool  // OPTIONAL in the schema: definition levels, all 1
	ba    bool  // BYTE_ARRAY values that must be width bytes long (DuckDB's addresses)
	scale int64 // times in units of scale nanoseconds (1: nanoseconds)

	chunk    []byte // the chunk's bytes
	own      []byte // the column's buffer for chunks read from the file (not mapped)
	pos      int
	codec    int32
	valsLeft int64 // values the chunk's data pages still owe

	konst    bool // constant by the statistics: every value is kval
	kval     [16]byte
	konstRun []byte // a batch of kval

	hasDict bool
	dict    []byte  // fixed width: dictN values of width bytes
	dictN   int     //
	dictVer []uint8 // BYTE_ARRAY (the type column): the versions of the dictionary's strings

	buf    []byte   // decompressed page
	delta  []uint64 // a DELTA_BINARY_PACKED page decoded
	plain  []byte   // PLAIN values left in the current page
	rle    rleDec   // dictionary indices of the current page
	isDict bool
	left   int // values left in the current page
	idx    []uint32
	levels rleDec

	dec *pqDecoders
}

// begin starts reading chunk ch, whose bytes are chunk (nil when konst:
// constant by the statistics).
func (c *pqCol) begin(ch *pqChunk, numRows int64, konst bool, chunk []byte) {
	c.hasDict, c.dictN, c.left, c.plain, c.isDict, c.pos = false, 0, 0, nil, false, 0
	c.codec, c.valsLeft = ch.codec, numRows
	c.konst, c.chunk = konst, chunk
	if konst {
		copy(c.kval[:], ch.stats.min)
		if len(c.konstRun) < pqBatch*c.width {
			c.konstRun = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(make([]uint64, 2*pqBatch)))), pqBatch*c.width)
		}
		for i := 0; i < len(c.konstRun); i += c.width {
			copy(c.konstRun[i:], c.kval[:c.width])
		}
	}
}

// chunkStart returns where chunk ch's pages start.
func chunkStart(ch *pqChunk) int64 {
	if ch.dictOff > 0 && ch.dictOff < ch.dataOff {
		return ch.dictOff
	}
	return ch.dataOff
}

var errPqNulls = errors.New("null values (nfcollect writes none)")

// nextPage moves to the next data page of the chunk, reading a dictionary
// page on the way.
func (c *pqCol) nextPage() error {
	for {
		if c.valsLeft <= 0 {
			return errors.New("fewer values than rows")
		}
		if c.pos >= len(c.chunk) {
			return errors.New("column chunk ends before its values")
		}
		var h pqPageHeader
		hl, err := parsePageHeader(c.chunk[c.pos:], &h)
		if err != nil {
			return fmt.Errorf("page header: %w", err)
		}
		c.pos += hl
		if h.compSize < 0 || int(h.compSize) > len(c.chunk)-c.pos {
			return fmt.Errorf("page of %d bytes past the end of its column chunk", h.compSize)
		}
		body := c.chunk[c.pos : c.pos+int(h.compSize)]
		c.pos += int(h.compSize)
		switch h.typ {
		case pageIndex:
			continue
		case pageDict:
			if err := c.readDict(&h, body); err != nil {
				return fmt.Errorf("dictionary page: %w", err)
			}
			continue
		case pageData, pageDataV2:
			return c.readData(&h, body)
		default:
			return fmt.Errorf("page of unknown type %d", h.typ)
		}
	}
}

func (c *pqCol) readDict(h *pqPageHeader, body []byte) error {
	if c.hasDict {
		return errors.New("a second dictionary")
	}
	if h.encoding != encPlain && h.encoding != encPlainDict {
		return fmt.Errorf("encoding %s is not supported", encodingName(h.encoding))
	}
	data, err := c.dec.decompress(c.codec, body, c.buf, int(h.uncompSize))
	if err != nil {
		return err
	}
	c.keep(data)
	n := int(h.numValues)
	if n < 0 {
		return fmt.Errorf("%d values", n)
	}
	if c.width == 0 {
		// Byte strings: only the type column, kept as versions.
		c.dictVer = c.dictVer[:0]
		for i := 0; i < n; i++ {
			if len(data) < 4 {
				return errors.New("truncated")
			}
			l := binary.LittleEndian.Uint32(data)
			if uint64(l) > uint64(len(data)-4) {
				return errors.New("truncated string")
			}
			c.dictVer = append(c.dictVer, versionOf(data[4:4+l]))
			data = data[4+l:]
		}
	} else if c.ba {
		// Byte strings of the value's size.
		if n > len(data)/(4+c.width) {
			return fmt.Errorf("%d values of %d bytes in %d bytes", n, c.width, len(data))
		}
		c.dict = c.dict[:0]
		for range n {
			if l := binary.LittleEndian.Uint32(data); l != uint32(c.width) {
				return fmt.Errorf("value of %d bytes (want %d)", l, c.width)
			}
			c.dict = append(c.dict, data[4:4+c.width]...)
			data = data[4+c.width:]
		}
	} else {
		if n > len(data)/c.width {
			return fmt.Errorf("%d values of %d bytes in %d bytes", n, c.width, len(data))
		}
		c.dict = append(c.dict[:0], data[:n*c.width]...)
	}
	c.dictN, c.hasDict = n, true
	return nil
}

func (c *pqCol) readData(h *pqPageHeader, body []byte) error {
	n := int64(h.numValues)
	if n <= 0 || n > c.valsLeft {
		return fmt.Errorf("data page of %d values where %d are left", n, c.valsLeft)
	}
	var levels []byte
	if h.typ == pageDataV2 {
		if h.repLen != 0 {
			return errors.New("repeated values (a nested column)")
		}
		if h.numNulls != 0 {
			return errPqNulls
		}
		if h.defLen < 0 || int(h.defLen) > len(body) || (h.defLen > 0) != c.opt {
			return fmt.Errorf("%d bytes of definition levels", h.defLen)
		}
		levels, body = body[:h.defLen], body[h.defLen:]
		if !h.uncompressed {
			var err error
			if body, err = c.dec.decompress(c.codec, body, c.buf, int(h.uncompSize)-int(h.defLen)); err != nil {
				return err
			}
			c.keep(body)
		}
	} else {
		data, err := c.dec.decompress(c.codec, body, c.buf, int(h.uncompSize))
		if err != nil {
			return err
		}
		c.keep(data)
		body = data
		if c.opt {
			if len(body) < 4 {
				return errors.New("truncated definition levels")
			}
			l := binary.LittleEndian.Uint32(body)
			if uint64(l) > uint64(len(body)-4) {
				return errors.New("definition levels past the end of the page")
			}
			levels, body = body[4:4+l], body[4+l:]
		}
	}
	if c.opt {
		// Every value must be defined: definition level 1 throughout.
		c.levels.init(levels, 1)
		if err := c.levels.allOnes(int(n)); err != nil {
			return fmt.Errorf("definition levels: %w", err)
		}
	}
	switch h.encoding {
	case encPlain:
		if c.width > 0 && !c.ba && int64(len(body)) < n*int64(c.width) {
			return fmt.Errorf("%d values of %d bytes in a page of %d", n, c.width, len(body))
		}
		c.plain, c.isDict = body, false
	case encPlainDict, encRLEDict:
		if !c.hasDict {
			return errors.New("dictionary-encoded page without a dictionary")
		}
		if len(body) < 1 || body[0] > 32 {
			return errors.New("bad bit width of dictionary indices")
		}
		c.rle.init(body[1:], uint(body[0]))
		c.isDict = true
	case encDelta:
		if c.width != 4 && c.width != 8 || c.ba {
			return fmt.Errorf("page encoding %s for a column of %d-byte values", encodingName(h.encoding), c.width)
		}
		var err error
		if c.plain, c.delta, err = decodeDelta(body, int(n), c.width, c.delta); err != nil {
			return err
		}
		c.isDict = false
	default:
		return fmt.Errorf("page encoding %s is not supported", encodingName(h.encoding))
	}
	c.left = int(n)
	c.valsLeft -= n
	return nil
}

// keep makes the page buffer the one data lies in (it may have grown);
// uncompressed pages lie in the chunk.
func (c *pqCol) keep(data []byte) {
	if c.codec != pqCodecNone && cap(data) > cap(c.buf) {
		c.buf = data[:0]
	}
}

// ensure makes sure a page with values is at hand (not for constant
// columns).
func (c *pqCol) ensure() error {
	if c.left == 0 && !c.konst {
		return c.nextPage()
	}
	return nil
}

// avail returns the values left in the current page (after ensure), a
// batch for constant columns.
func (c *pqCol) avail() int {
	if c.konst {
		return pqBatch
	}
	return c.left
}

// view returns the next k values (k <= avail) as width*k bytes aligned
// for their type: the page's own bytes where it can, else decoded into
// scratch.
func (c *pqCol) view(k int, scratch []byte) ([]byte, error) {
	w := c.width
	if c.konst {
		return c.konstRun[:k*w], nil
	}
	var out []byte
	switch {
	case c.isDict:
		out = scratch[:k*w]
		if err := c.gather(out, k); err != nil {
			return nil, err
		}
	case c.ba:
		out = scratch[:k*w]
		if err := c.plainBytes(out, k); err != nil {
			return nil, err
		}
	default:
		out = c.plain[:k*w]
		c.plain = c.plain[k*w:]
		if k > 0 && (c.scale > 1 || uintptr(unsafe.Pointer(unsafe.SliceData(out)))%pqAlign(w) != 0) {
			out = scratch[:copy(scratch, out)]
		}
	}
	c.left -= k
	if c.scale > 1 {
		if err := scaleTimes(out, c.scale); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// plainBytes reads k PLAIN BYTE_ARRAY values that must be width bytes long
// (addresses and MACs of other writers) into dst.
func (c *pqCol) plainBytes(dst []byte, k int) error {
	w := c.width
	p := c.plain
	for i := range k {
		if len(p) < 4 {
			return errors.New("truncated value")
		}
		if l := binary.LittleEndian.Uint32(p); l != uint32(w) || len(p)-4 < w {
			return fmt.Errorf("value of %d bytes (want %d)", l, w)
		}
		copy(dst[i*w:i*w+w], p[4:4+w])
		p = p[4+w:]
	}
	c.plain = p
	return nil
}

var errPqTime = errors.New("time out of range in nanoseconds")

// scaleTimes turns times of a coarser unit (scale nanoseconds) into
// nanoseconds.
func scaleTimes(b []byte, scale int64) error {
	v := unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
	lo, hi := math.MinInt64/scale, math.MaxInt64/scale
	for i, x := range v {
		if x < lo || x > hi {
			return errPqTime
		}
		v[i] = x * scale
	}
	return nil
}

// indices returns the next k values (k <= avail) of a dictionary-encoded
// page as their indices, checked against the dictionary.
func (c *pqCol) indices(k int) ([]uint32, error) {
	if cap(c.idx) < k {
		c.idx = make([]uint32, k)
	}
	idx := c.idx[:k]
	if err := c.rle.read(idx); err != nil {
		return nil, fmt.Errorf("dictionary indices: %w", err)
	}
	var hi uint32
	for _, x := range idx {
		hi = max(hi, x)
	}
	if k > 0 && hi >= uint32(c.dictN) {
		return nil, errPqIndex
	}
	c.left -= k
	return idx, nil
}

// pqAlign returns the alignment of values of w bytes.
func pqAlign(w int) uintptr {
	switch w {
	case 4:
		return 4
	case 8, 16:
		return 8
	}
	return 1
}

// fill reads the next len(dst)/width values into dst (fixed-width types),
// across pages.
func (c *pqCol) fill(dst []byte) error {
	w := c.width
	if c.konst {
		for i := 0; i < len(dst); i += w {
			copy(dst[i:i+w], c.kval[:w])
		}
		return nil
	}
	for len(dst) > 0 {
		if c.left == 0 {
			if err := c.nextPage(); err != nil {
				return err
			}
		}
		k := min(c.left, len(dst)/w)
		switch {
		case c.isDict:
			if err := c.gather(dst[:k*w], k); err != nil {
				return err
			}
		case c.ba:
			if err := c.plainBytes(dst[:k*w], k); err != nil {
				return err
			}
		default:
			copy(dst, c.plain[:k*w])
			c.plain = c.plain[k*w:]
		}
		if c.scale > 1 {
			if err := scaleTimes(dst[:k*w], c.scale); err != nil {
				return err
			}
		}
		c.left -= k
		dst = dst[k*w:]
	}
	return nil
}

// skip passes over the next n values. Whole data pages are passed over
// undecoded.
func (c *pqCol) skip(n int) error {
	if c.konst {
		return nil
	}
	for n > 0 {
		if c.left == 0 {
			var h pqPageHeader
			hl, err := parsePageHeader(c.chunk[c.pos:], &h)
			if err == nil && (h.typ == pageData || h.typ == pageDataV2) && h.numValues > 0 && int(h.numValues) <= n &&
				int64(h.numValues) <= c.valsLeft && h.compSize >= 0 && int(h.compSize) <= len(c.chunk)-c.pos-hl {
				c.pos += hl + int(h.compSize)
				c.valsLeft -= int64(h.numValues)
				n -= int(h.numValues)
				continue
			}
			if err := c.nextPage(); err != nil {
				return err
			}
		}
		k := min(c.left, n)
		switch {
		case c.isDict:
			if cap(c.idx) < k {
				c.idx = make([]uint32, k)
			}
			if err := c.rle.read(c.idx[:k]); err != nil {
				return fmt.Errorf("dictionary indices: %w", err)
			}
		case c.width > 0 && !c.ba:
			c.plain = c.plain[k*c.width:]
		default:
			for range k {
				if len(c.plain) < 4 {
					return errors.New("truncated string")
				}
				l := binary.LittleEndian.Uint32(c.plain)
				if uint64(l) > uint64(len(c.plain)-4) {
					return errors.New("truncated string")
				}
				c.plain = c.plain[4+l:]
			}
		}
		c.left -= k
		n -= k
	}
	return nil
}

// gather reads k dictionary indices and copies their values to dst.
func (c *pqCol) gather(dst []byte, k int) error {
	if cap(c.idx) < k {
		c.idx = make([]uint32, k)
	}
	idx := c.idx[:k]
	if err := c.rle.read(idx); err != nil {
		return fmt.Errorf("dictionary indices: %w", err)
	}
	n := uint32(c.dictN)
	switch c.width {
	case 8:
		d := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(c.dict))), c.dictN)
		out := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(dst))), k)
		for i, x := range idx {
			if x >= n {
				return errPqIndex
			}
			out[i] = d[x]
		}
	case 4:
		d := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(c.dict))), c.dictN)
		out := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), k)
		for i, x := range idx {
			if x >= n {
				return errPqIndex
			}
			out[i] = d[x]
		}
	case 16:
		d := unsafe.Slice((*[16]byte)(unsafe.Pointer(unsafe.SliceData(c.dict))), c.dictN)
		out := unsafe.Slice((*[16]byte)(unsafe.Pointer(unsafe.SliceData(dst))), k)
		for i, x := range idx {
			if x >= n {
				return errPqIndex
			}
			out[i] = d[x]
		}
	default:
		w := c.width
		for i, x := range idx {
			if x >= n {
				return errPqIndex
			}
			copy(dst[i*w:i*w+w], c.dict[int(x)*w:])
		}
	}
	return nil
}

var errPqIndex = errors.New("dictionary index out of range")

// versions reads the next len(dst) values of the type column as export
// versions.
func (c *pqCol) versions(dst []uint8) error {
	for len(dst) > 0 {
		if c.left == 0 {
			if err := c.nextPage(); err != nil {
				return err
			}
		}
		k := min(c.left, len(dst))
		if c.isDict {
			if cap(c.idx) < k {
				c.idx = make([]uint32, k)
			}
			idx := c.idx[:k]
			if err := c.rle.read(idx); err != nil {
				return fmt.Errorf("dictionary indices: %w", err)
			}
			for i, x := range idx {
				if x >= uint32(c.dictN) {
					return errPqIndex
				}
				dst[i] = c.dictVer[x]
			}
		} else {
			p := c.plain
			for i := range k {
				if len(p) < 4 {
					return errors.New("truncated string")
				}
				l := binary.LittleEndian.Uint32(p)
				if uint64(l) > uint64(len(p)-4) {
					return errors.New("truncated string")
				}
				dst[i] = versionOf(p[4 : 4+l])
				p = p[4+l:]
			}
			c.plain = p
		}
		c.left -= k
		dst = dst[k:]
	}
	return nil
}

// rleDec decodes Parquet's RLE/bit-packed hybrid of values of w bits
// (w <= 32), without a length prefix.
type rleDec struct {
	b      []byte
	w      uint
	run    int // values left in the current RLE run
	val    uint32
	bp     []byte // the current bit-packed run
	bit    uint   // bit offset of the next value in bp
	bpLeft int    // values left in the bit-packed run
}

func (d *rleDec) init(b []byte, w uint) {
	*d = rleDec{b: b, w: w}
}

var errRLETruncated = errors.New("run past the end of the page")

// header reads the next run's header.
func (d *rleDec) header() error {
	h, n := binary.Uvarint(d.b)
	if n <= 0 {
		return errRLETruncated
	}
	d.b = d.b[n:]
	if h&1 == 1 {
		groups := h >> 1
		if groups == 0 || groups > uint64(len(d.b)+1)*8 {
			return errRLETruncated
		}
		nb := groups * uint64(d.w)
		count := groups * 8
		if nb > uint64(len(d.b)) {
			// A last run may end short of its padding.
			if d.w == 0 {
				return errRLETruncated
			}
			nb = uint64(len(d.b))
			count = nb * 8 / uint64(d.w)
			if count == 0 {
				return errRLETruncated
			}
		}
		d.bp, d.bit, d.bpLeft = d.b[:nb], 0, int(count)
		d.b = d.b[nb:]
		return nil
	}
	count := h >> 1
	nb := int(d.w+7) / 8
	if nb > len(d.b) || count > 1<<31 {
		return errRLETruncated
	}
	var v uint32
	for i := range nb {
		v |= uint32(d.b[i]) << (8 * i)
	}
	d.b = d.b[nb:]
	d.run, d.val = int(count), v
	return nil
}

// read fills dst.
func (d *rleDec) read(dst []uint32) error {
	for len(dst) > 0 {
		switch {
		case d.run > 0:
			k := min(d.run, len(dst))
			v := d.val
			for i := range dst[:k] {
				dst[i] = v
			}
			d.run -= k
			dst = dst[k:]
		case d.bpLeft > 0:
			k := min(d.bpLeft, len(dst))
			d.unpack(dst[:k])
			d.bpLeft -= k
			dst = dst[k:]
		default:
			if err := d.header(); err != nil {
				return err
			}
		}
	}
	return nil
}

// unpack reads len(dst) values of the bit-packed run.
func (d *rleDec) unpack(dst []uint32) {
	w := d.w
	if w == 0 {
		clear(dst)
		return
	}
	mask := uint64(1)<<w - 1
	bp, bit := d.bp, d.bit
	i := 0
	// Whole 8-byte loads while they stay inside the run.
	for ; i < len(dst) && int(bit>>3)+8 <= len(bp); i++ {
		dst[i] = uint32(binary.LittleEndian.Uint64(bp[bit>>3:]) >> (bit & 7) & mask)
		bit += w
	}
	for ; i < len(dst); i++ {
		var v uint64
		o := int(bit >> 3)
		for k := 0; k < 8 && o+k < len(bp); k++ {
			v |= uint64(bp[o+k]) << (8 * k)
		}
		dst[i] = uint32(v >> (bit & 7) & mask)
		bit += w
	}
	d.bit = bit
}

// allOnes checks that the next n values are all 1 (definition levels of
// a column without nulls).
func (d *rleDec) allOnes(n int) error {
	var tmp [256]uint32
	for n > 0 {
		k := min(n, len(tmp))
		if err := d.read(tmp[:k]); err != nil {
			return err
		}
		for _, v := range tmp[:k] {
			if v != 1 {
				return errPqNulls
			}
		}
		n -= k
	}
	return nil
}
