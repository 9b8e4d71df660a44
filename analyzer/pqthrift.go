package analyzer

import (
	"bytes"
	"errors"
	"fmt"
)

// The Parquet footer and page headers are Thrift structures in the compact
// protocol. This is a reader of exactly what the analyzer needs from them:
// it never allocates by a count it read (lists are walked, and a count
// larger than the bytes left is an error), bounds its nesting, and keeps
// byte strings as slices of its input.

// Thrift compact types.
const (
	tcStop   = 0
	tcTrue   = 1
	tcFalse  = 2
	tcByte   = 3
	tcI16    = 4
	tcI32    = 5
	tcI64    = 6
	tcDouble = 7
	tcBinary = 8
	tcList   = 9
	tcSet    = 10
	tcMap    = 11
	tcStruct = 12
)

// tcMaxDepth bounds the nesting of structures, lists and maps (a footer
// nests six deep).
const tcMaxDepth = 32

var errThrift = errors.New("damaged Thrift structure")

// tcReader reads the compact protocol from b. The first error sticks: every
// later read returns zero values, so that callers check once at the end.
type tcReader struct {
	b     []byte
	off   int
	err   error
	depth int
}

func (r *tcReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format+" at byte %d", append([]any{errThrift}, append(args, r.off)...)...)
	}
	r.off = len(r.b)
}

func (r *tcReader) byte() byte {
	if r.off >= len(r.b) {
		r.fail("truncated")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *tcReader) uvarint() uint64 {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
	r.fail("varint too long")
	return 0
}

func (r *tcReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// binary reads a byte string: a slice of the input.
func (r *tcReader) binary() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)-r.off) {
		r.fail("string of %d bytes past the end", n)
		return nil
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s
}

// field reads a field header after the field id last; typ tcStop ends the
// structure.
func (r *tcReader) field(last int16) (id int16, typ byte) {
	c := r.byte()
	if r.err != nil || c == tcStop {
		return 0, tcStop
	}
	typ = c & 0x0f
	if d := c >> 4; d != 0 {
		id = last + int16(d)
	} else {
		v := r.varint()
		if int64(int16(v)) != v {
			r.fail("field id out of range")
			return 0, tcStop
		}
		id = int16(v)
	}
	return id, typ
}

// list reads a list (or set) header. Every element takes a byte at least,
// so a count beyond the bytes left is damage.
func (r *tcReader) list() (n int, elem byte) {
	c := r.byte()
	elem = c & 0x0f
	u := uint64(c >> 4)
	if u == 15 {
		u = r.uvarint()
	}
	if r.err != nil {
		return 0, 0
	}
	if u > uint64(len(r.b)-r.off) {
		r.fail("list of %d elements past the end", u)
		return 0, 0
	}
	return int(u), elem
}

// enter and leave bound the nesting.
func (r *tcReader) enter() bool {
	r.depth++
	if r.depth > tcMaxDepth {
		r.fail("nested too deep")
		return false
	}
	return true
}

func (r *tcReader) leave() { r.depth-- }

// skip skips a value of type typ.
func (r *tcReader) skip(typ byte) {
	switch typ {
	case tcTrue, tcFalse:
	case tcByte:
		r.byte()
	case tcI16, tcI32, tcI64:
		r.uvarint()
	case tcDouble:
		if len(r.b)-r.off < 8 {
			r.fail("truncated double")
			return
		}
		r.off += 8
	case tcBinary:
		r.binary()
	case tcList, tcSet:
		n, elem := r.list()
		if !r.enter() {
			return
		}
		for i := 0; i < n && r.err == nil; i++ {
			if elem == tcTrue || elem == tcFalse {
				r.byte() // booleans in lists take a byte
				continue
			}
			r.skip(elem)
		}
		r.leave()
	case tcMap:
		n := r.uvarint()
		if n > uint64(len(r.b)-r.off) {
			r.fail("map of %d entries past the end", n)
			return
		}
		if n == 0 {
			return
		}
		kv := r.byte()
		if !r.enter() {
			return
		}
		for i := uint64(0); i < n && r.err == nil; i++ {
			r.skipElem(kv >> 4)
			r.skipElem(kv & 0x0f)
		}
		r.leave()
	case tcStruct:
		r.structure(func(int16, byte) bool { return false })
	default:
		r.fail("unknown type %d", typ)
	}
}

func (r *tcReader) skipElem(typ byte) {
	if typ == tcTrue || typ == tcFalse {
		r.byte()
		return
	}
	r.skip(typ)
}

// structure reads the fields of a structure, calling fn for each: fn
// reads the field's value and returns true, or returns false to have it
// skipped.
func (r *tcReader) structure(fn func(id int16, typ byte) bool) {
	if !r.enter() {
		return
	}
	var last int16
	for r.err == nil {
		id, typ := r.field(last)
		if typ == tcStop {
			break
		}
		last = id
		if !fn(id, typ) {
			r.skip(typ)
		}
	}
	r.leave()
}

// int reads an integer field of any width (a mismatch of the field's type
// is damage).
func (r *tcReader) int(typ byte) int64 {
	switch typ {
	case tcI16, tcI32, tcI64, tcByte:
		if typ == tcByte {
			return int64(int8(r.byte()))
		}
		return r.varint()
	}
	r.fail("integer field of type %d", typ)
	return 0
}

// bool reads a boolean field.
func (r *tcReader) bool(typ byte) bool {
	switch typ {
	case tcTrue:
		return true
	case tcFalse:
		return false
	}
	r.fail("boolean field of type %d", typ)
	return false
}

// Parquet's enumerations, as far as the analyzer uses them.
const (
	pqBoolean   = 0
	pqInt32     = 1
	pqInt64     = 2
	pqByteArray = 6
	pqFixed     = 7

	pqRequired = 0
	pqOptional = 1

	encPlain     = 0
	encPlainDict = 2
	encRLE       = 3
	encBitPacked = 4
	encDelta     = 5 // DELTA_BINARY_PACKED
	encRLEDict   = 8

	pqCodecNone   = 0
	pqCodecSnappy = 1
	pqCodecGzip   = 2
	pqCodecZstd   = 6
	pqCodecLZ4Raw = 7

	pageData   = 0
	pageIndex  = 1
	pageDict   = 2
	pageDataV2 = 3
)

var encodingNames = []string{"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
	"DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"}

func encodingName(e int32) string {
	if e >= 0 && int(e) < len(encodingNames) {
		return encodingNames[e]
	}
	return fmt.Sprintf("encoding %d", e)
}

var codecNames = []string{"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"}

func codecName(c int32) string {
	if c >= 0 && int(c) < len(codecNames) {
		return codecNames[c]
	}
	return fmt.Sprintf("codec %d", c)
}

// pqSchemaElem is an element of the footer's schema.
type pqSchemaElem struct {
	name        []byte
	typ         int32 // physical type; -1 for a group
	typeLen     int32
	rep         int32
	numChildren int32
	// timeUnit is the nanoseconds of a TIMESTAMP's unit (0: not a
	// timestamp of milli- or microseconds), from the logical type, else
	// the converted type.
	timeUnit, logicalUnit int64
}

// timestampUnit reads a LogicalType union and returns the nanoseconds of
// its TIMESTAMP unit, 0 for another logical type.
func (r *tcReader) timestampUnit() int64 {
	var unit int64
	r.structure(func(id int16, typ byte) bool {
		if id != 8 || typ != tcStruct { // TimestampType
			return false
		}
		r.structure(func(id int16, typ byte) bool {
			if id != 2 || typ != tcStruct { // TimeUnit
				return false
			}
			r.structure(func(id int16, typ byte) bool {
				switch id {
				case 1:
					unit = 1e6
				case 2:
					unit = 1e3
				case 3:
					unit = 1
				}
				return false
			})
			return true
		})
		return true
	})
	return unit
}

// pqMaxColumns bounds the schema.
const pqMaxColumns = 1 << 16

// pqMeta is what the analyzer keeps of a file's footer: the schema, and
// where each row group's description starts in the footer (row groups are
// read one at a time, readRowGroup).
type pqMeta struct {
	footer  []byte
	numRows int64
	schema  []pqSchemaElem
	groups  []int32 // offsets of the RowGroup structures in footer
}

// parseFooter parses the FileMetaData in b (which meta keeps).
func (m *pqMeta) parse(b []byte) error {
	m.footer, m.numRows, m.schema, m.groups = b, 0, m.schema[:0], m.groups[:0]
	r := tcReader{b: b}
	seenSchema, seenRows, seenGroups := false, false, false
	r.structure(func(id int16, typ byte) bool {
		switch {
		case id == 2 && typ == tcList:
			seenSchema = true
			n, elem := r.list()
			if elem != tcStruct && n > 0 {
				r.fail("schema is not a list of structures")
				return true
			}
			if n > pqMaxColumns {
				r.fail("schema of %d elements (at most %d)", n, pqMaxColumns)
				return true
			}
			for range n {
				e := pqSchemaElem{typ: -1}
				r.structure(func(id int16, typ byte) bool {
					switch id {
					case 1:
						e.typ = int32(r.int(typ))
					case 2:
						e.typeLen = int32(r.int(typ))
					case 3:
						e.rep = int32(r.int(typ))
					case 4:
						if typ != tcBinary {
							return false
						}
						e.name = r.binary()
					case 5:
						e.numChildren = int32(r.int(typ))
					case 6:
						switch r.int(typ) {
						case 9: // TIMESTAMP_MILLIS
							e.timeUnit = 1e6
						case 10: // TIMESTAMP_MICROS
							e.timeUnit = 1e3
						}
					case 10:
						if typ != tcStruct {
							return false
						}
						if u := r.timestampUnit(); u != 0 {
							e.logicalUnit = u
						}
					default:
						return false
					}
					return true
				})
				if e.logicalUnit != 0 {
					e.timeUnit = e.logicalUnit
				}
				m.schema = append(m.schema, e)
			}
		case id == 3:
			seenRows = true
			m.numRows = r.int(typ)
		case id == 4 && typ == tcList:
			seenGroups = true
			n, elem := r.list()
			if elem != tcStruct && n > 0 {
				r.fail("row groups are not a list of structures")
				return true
			}
			for range n {
				m.groups = append(m.groups, int32(r.off))
				r.skip(tcStruct)
			}
		case id == 8 || id == 9:
			r.fail("encrypted file")
		default:
			return false
		}
		return true
	})
	if r.err != nil {
		return r.err
	}
	if !seenSchema || !seenRows || !seenGroups {
		return fmt.Errorf("%w: footer without schema, row count or row groups", errThrift)
	}
	return nil
}

// pqStats are the min/max statistics of a column chunk (slices of the
// footer).
type pqStats struct {
	min, max     []byte // min_value/max_value, else the deprecated min/max
	ok           bool   // both bounds known and exact
	sortedBounds bool   // from min_value/max_value: in the logical type's order
	nulls        int64  // null_count, -1 unknown
}

// constant reports whether every value of the chunk is the same, the
// bounds' bytes; width is the value's size.
func (s *pqStats) constant(width int) bool {
	return s.ok && s.nulls == 0 && len(s.min) == width && bytes.Equal(s.min, s.max)
}

// pqChunk describes a column chunk of a row group.
type pqChunk struct {
	typ       int32
	codec     int32
	encodings uint64 // bit e: encoding e is used
	pathLen   int
	path0     []byte
	external  bool // in another file (file_path)
	numValues int64
	compSize  int64
	dataOff   int64
	dictOff   int64 // 0: none
	stats     pqStats
	seen      bool
}

// pqGroup is a row group's description.
type pqGroup struct {
	numRows int64
	chunks  []pqChunk // by leaf
}

// parseGroup reads row group g of the footer into rg; chunks has one entry
// per leaf column.
func (m *pqMeta) parseGroup(g int, rg *pqGroup, leaves int) error {
	r := tcReader{b: m.footer, off: int(m.groups[g])}
	if cap(rg.chunks) < leaves {
		rg.chunks = make([]pqChunk, leaves)
	}
	rg.chunks = rg.chunks[:leaves]
	clear(rg.chunks)
	rg.numRows = -1
	ncols := -1
	r.structure(func(id int16, typ byte) bool {
		switch {
		case id == 1 && typ == tcList:
			n, elem := r.list()
			if elem != tcStruct && n > 0 || n != leaves {
				r.fail("row group of %d column chunks for %d columns", n, leaves)
				return true
			}
			ncols = n
			for i := range n {
				c := &rg.chunks[i]
				c.seen = true
				r.structure(func(id int16, typ byte) bool {
					switch {
					case id == 1 && typ == tcBinary:
						r.binary()
						c.external = true
					case id == 3 && typ == tcStruct:
						r.columnMeta(c)
					case id == 8 || id == 9:
						r.fail("encrypted column")
					default:
						return false
					}
					return true
				})
			}
		case id == 3:
			rg.numRows = r.int(typ)
		default:
			return false
		}
		return true
	})
	if r.err != nil {
		return r.err
	}
	if ncols < 0 || rg.numRows < 0 {
		return fmt.Errorf("%w: row group %d without columns or row count", errThrift, g)
	}
	return nil
}

func (r *tcReader) columnMeta(c *pqChunk) {
	c.stats.nulls = -1
	r.structure(func(id int16, typ byte) bool {
		switch {
		case id == 1:
			c.typ = int32(r.int(typ))
		case id == 2 && typ == tcList:
			n, _ := r.list()
			for range n {
				e := r.varint()
				if e >= 0 && e < 64 {
					c.encodings |= 1 << e
				} else {
					c.encodings |= 1 << 63
				}
			}
		case id == 3 && typ == tcList:
			n, elem := r.list()
			if elem != tcBinary && n > 0 {
				r.fail("path is not a list of strings")
				return true
			}
			c.pathLen = n
			for i := range n {
				s := r.binary()
				if i == 0 {
					c.path0 = s
				}
			}
		case id == 4:
			c.codec = int32(r.int(typ))
		case id == 5:
			c.numValues = r.int(typ)
		case id == 7:
			c.compSize = r.int(typ)
		case id == 9:
			c.dataOff = r.int(typ)
		case id == 11:
			c.dictOff = r.int(typ)
		case id == 12 && typ == tcStruct:
			r.statistics(&c.stats)
		default:
			return false
		}
		return true
	})
}

func (r *tcReader) statistics(s *pqStats) {
	var min, max, minV, maxV []byte
	var hasMin, hasMax, hasMinV, hasMaxV bool
	exact := true
	r.structure(func(id int16, typ byte) bool {
		switch {
		case id == 1 && typ == tcBinary:
			max, hasMax = r.binary(), true
		case id == 2 && typ == tcBinary:
			min, hasMin = r.binary(), true
		case id == 3:
			s.nulls = r.int(typ)
		case id == 5 && typ == tcBinary:
			maxV, hasMaxV = r.binary(), true
		case id == 6 && typ == tcBinary:
			minV, hasMinV = r.binary(), true
		case (id == 7 || id == 8) && (typ == tcTrue || typ == tcFalse):
			if !r.bool(typ) {
				exact = false
			}
		default:
			return false
		}
		return true
	})
	switch {
	case hasMinV && hasMaxV:
		s.min, s.max, s.ok, s.sortedBounds = minV, maxV, exact, true
	case hasMin && hasMax:
		s.min, s.max, s.ok = min, max, exact
	}
}

// pqPageHeader is what the analyzer reads of a page header.
type pqPageHeader struct {
	typ          int32
	uncompSize   int32
	compSize     int32
	numValues    int32
	numNulls     int32 // v2
	encoding     int32
	defLen       int32 // v2: bytes of definition levels
	repLen       int32 // v2: bytes of repetition levels
	uncompressed bool  // v2: is_compressed false
}

// parsePageHeader reads a page header from the start of b and returns its
// length.
func parsePageHeader(b []byte, h *pqPageHeader) (int, error) {
	*h = pqPageHeader{typ: -1, numValues: -1, encoding: -1}
	r := tcReader{b: b}
	r.structure(func(id int16, typ byte) bool {
		switch {
		case id == 1:
			h.typ = r.i32int(typ)
		case id == 2:
			h.uncompSize = r.i32int(typ)
		case id == 3:
			h.compSize = r.i32int(typ)
		case (id == 5 || id == 7 || id == 8) && typ == tcStruct:
			r.structure(func(fid int16, typ byte) bool {
				switch {
				case fid == 1:
					h.numValues = r.i32int(typ)
				case fid == 2 && id == 8:
					h.numNulls = r.i32int(typ)
				case fid == 2 && id != 8 || fid == 4 && id == 8:
					h.encoding = r.i32int(typ)
				case fid == 5 && id == 8:
					h.defLen = r.i32int(typ)
				case fid == 6 && id == 8:
					h.repLen = r.i32int(typ)
				case fid == 7 && id == 8 && (typ == tcTrue || typ == tcFalse):
					h.uncompressed = !r.bool(typ)
				default:
					return false
				}
				return true
			})
		default:
			return false
		}
		return true
	})
	if r.err != nil {
		return 0, r.err
	}
	return r.off, nil
}

// i32int reads an integer field that must fit 32 bits.
func (r *tcReader) i32int(typ byte) int32 {
	v := r.int(typ)
	if int64(int32(v)) != v {
		r.fail("value %d out of range", v)
		return 0
	}
	return int32(v)
}
