package flowparquet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"

	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
)

// A RowGroupEncoder encodes records straight into a Parquet row group:
// the column chunks, their pages compressed, and the row group's metadata
// (offsets, sizes, statistics). A Writer appends such row groups to a
// file without looking at the values again, so that the encoding, the
// costly part, runs wherever the records are decoded (in the collector,
// one encoder per decode worker) and only the appending is serial.
//
// Values go into blocks of column buffers small enough to stay in the
// CPU's cache (blockRows rows); a full block becomes one page per column,
// compressed at once. A column chunk is PLAIN, except where a dictionary
// is cheaper and simpler: the type column is always dictionary-encoded,
// the addresses are (looked up as the record is stored, until a row
// group has maxDict distinct ones), and a column whose values are all
// equal in the row group (an absent key, the exporter of a single
// exporter, the other fields of a single template) is a one-value
// dictionary and one run of its index. The time, address and integer
// columns have min/max statistics, in the order of their logical types
// (unsigned for the integers and bytes, signed for the times).
//
// A RowGroupEncoder is not safe for concurrent use; it allocates nothing
// per record once its buffers have grown.
type RowGroupEncoder struct {
	codec     compress.Codec
	codec64   compress.Codec // the codec of the pages of small INT64 values
	pageCodec compress.Codec // the codec of the page being compressed
	maxRows   int
	blockRows int
	maxDict   int // entries of an address dictionary at most

	blk     *block   // the block's values
	other   []byte   // the block's other fields, PLAIN BYTE_ARRAY values
	n       int      // rows in the block
	rows    int      // rows in the completed blocks
	size    int      // compressed bytes of the completed blocks
	err     error    // the first compression error
	scratch []byte   // PLAIN values on big-endian machines
	idx     []uint32 // dictionary indexes of a block's values
	vals    []byte   // addresses of a block's indexes
	dpage   []byte   // a dictionary page
	dicts   [numAddr]addrDict

	chunks [numColumns]chunkState
	ver    versionRuns

	page []byte // a page being built
	comp []byte // a compressed page
	hdr  bytes.Buffer
	te   *thrift.Encoder
	rg   format.RowGroup

	cc     format.CompressionCodec
	rowsIn bool // the block has rows of AppendRecords (appendRow)
	varies bool // the block's other fields are not all the same (see oc)

	// The other fields: texts kept per template; the block's values
	// without their consecutive repeats (e.other) and their rows (runs);
	// where the last one starts and the cache slot whose text it is (or
	// -1).
	oc        [otherCaches]otherCache
	runs      []uint32
	opage     []byte
	prevOther int
	prevSlot  int
}

// chunkState is what a RowGroupEncoder keeps of a column chunk between
// blocks.
type chunkState struct {
	data         []byte // PLAIN pages, with their headers
	uncompressed int64  // their uncompressed size, headers included
	// While plain is false, the chunk's values so far are constRun times
	// constVal, not written yet.
	plain    bool
	constRun int
	constVal []byte
	// Statistics: lo/hi of the integers (as uint64, or int64 for the
	// times) and of the addresses (big-endian halves).
	stats    bool
	lo, hi   uint64
	blockHi  uint64 // the greatest integer of the last block
	loA, hiA [2]uint64
	loT, hiT int64
	// dict is the dictionary of an address column, nil for the others.
	dict *addrDict
}

// versionRuns is the type column of a row group: a dictionary of the
// version names in order of appearance and the runs of their indexes.
type versionRuns struct {
	index [len(versionNames)]int8
	dict  []byte // PLAIN BYTE_ARRAY names
	nd    int
	runs  []byte // RLE runs: uvarint(length<<1), index byte
	cur   int8   // the index of the open run
	run   int    // its length, 0 for none
}

// rowGroupMagic starts an encoded row group.
var rowGroupMagic = [4]byte{'N', 'F', 'R', 'G'}

// rowGroupHeader is the size of an encoded row group's header: the magic,
// the length of its column data and of its metadata.
const rowGroupHeader = 12

// The sizes that bound a RowGroupEncoder.
const (
	// blockRows is the rows of a block, and of a page: 4 MiB of values
	// (about 240 bytes a row), pages of 64 KiB (INT32) to 256 KiB (the
	// addresses). Smaller blocks stay in the L2 cache, but zstd's setup
	// per page then costs more than the misses (4096 rows: 9% more CPU
	// per flow on the benchmark packet).
	blockRows = 16384
	// maxGroupBytes bounds a row group's compressed size (Full).
	maxGroupBytes = 64 << 20
)

// NewRowGroupEncoder returns an encoder of row groups of about
// o.RowGroupRows rows compressed with o.Compression.
func NewRowGroupEncoder(o Options) (*RowGroupEncoder, error) {
	codec, err := o.Compression.codec()
	if err != nil {
		return nil, err
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	e := &RowGroupEncoder{codec: codec, codec64: codec, cc: codec.CompressionCodec(), maxRows: o.RowGroupRows}
	if e.cc == format.Zstd {
		// zstd's fastest matcher hashes 6 bytes: in INT64 values below
		// 2^16 (packet counts) it finds the zero high bytes a value back
		// and takes those short matches, many, missing the longer ones
		// (16 times slower on the benchmark packet's packet counts). Its
		// default level, which also hashes 8 bytes, finds them, as fast
		// on such values when they do not repeat; on larger ones (byte
		// counts, times) it is a third slower.
		e.codec64 = &zstd.Codec{Level: zstd.SpeedDefault}
	}
	e.blockRows = min(blockRows, o.RowGroupRows)
	if o.blockRows > 0 {
		e.blockRows = min(e.blockRows, o.blockRows)
	}
	e.maxDict = maxDict
	if o.maxDict > 0 {
		e.maxDict = min(maxDict, o.maxDict)
	}
	e.blk = new(block)
	e.idx = make([]uint32, blockRows)
	e.te = thrift.NewEncoder(new(thrift.CompactProtocol).NewWriter(&e.hdr))
	e.rg.Columns = make([]format.ColumnChunk, numColumns)
	e.reset()
	return e, nil
}

// width returns the size of a column's PLAIN values in the column
// buffers (the type column holds the 2-byte versions), 0 for the JSON
// text.
func (t columnType) width() int {
	switch t {
	case typeVersion:
		return 2
	case typeTime, typeUint64:
		return 8
	case typeUint8, typeUint16, typeUint32:
		return 4
	case typeAddr:
		return 16
	case typeMAC:
		return 6
	}
	return 0
}

// physical returns the column's Parquet physical type.
func (t columnType) physical() format.Type {
	switch t {
	case typeTime, typeUint64:
		return format.Int64
	case typeUint8, typeUint16, typeUint32:
		return format.Int32
	case typeAddr, typeMAC:
		return format.FixedLenByteArray
	}
	return format.ByteArray
}

// Rows returns the number of rows of the row group being encoded.
func (e *RowGroupEncoder) Rows() int { return e.rows + e.n }

// Full reports whether the row group has its RowGroupRows rows (or 64 MiB
// compressed): time to Finish it.
//
//nfkit:hot
func (e *RowGroupEncoder) Full() bool { return e.rows+e.n >= e.maxRows || e.size >= maxGroupBytes }

// AppendRecords adds a row per record of an export packet to the row
// group and returns their number. received is the time the packet
// arrived, Unix ns.
//
//nfkit:hot
func (e *RowGroupEncoder) AppendRecords(rs []decode.Record, received int64) int {
	for i := range rs {
		if e.n == e.blockRows {
			e.flushBlock()
		}
		putRecord(e.blk, &e.dicts, e.n, &rs[i], received)
		e.appendOther(&rs[i])
		e.n++
	}
	return len(rs)
}

// AppendSFlow adds a row per flow sample of a decoded sFlow v5 datagram
// (p.Version decode.VersionSFlow5), as AppendSFlow does, and returns
// their number.
//
//nfkit:hot
func (e *RowGroupEncoder) AppendSFlow(p *decode.Packet, received int64) int {
	for i := range p.Records {
		if e.n == e.blockRows {
			e.flushBlock()
		}
		putRecord(e.blk, &e.dicts, e.n, &p.Records[i], received)
		o := e.openOther()
		e.other = flowjson.AppendSFlowSample(e.other, p, i)
		e.closeOther(o)
		e.n++
	}
	return len(p.Records)
}

// appendRow adds a row of AppendRecords (a whole one: its fixed part and
// other fields).
//
//nfkit:hot
func (e *RowGroupEncoder) appendRow(row []byte) {
	if e.n == e.blockRows {
		e.flushBlock()
	}
	putRow(e.blk, e.n, row[:rowFixed])
	e.rowsIn = true
	o := len(e.other)
	if len(row) == rowFixed {
		e.other = append(e.other, emptyOther...)
	} else {
		e.other = binary.LittleEndian.AppendUint32(e.other, uint32(len(row)-rowFixed))
		e.other = append(e.other, row[rowFixed:]...)
	}
	e.endOther(o, -1)
	e.n++
}

// emptyOther is the PLAIN value of an empty object.
var emptyOther = []byte{2, 0, 0, 0, '{', '}'}

// flushBlock turns the block into a page per column (or extends the runs
// of the constant columns and of the versions).
//
//nfkit:cold once per block of 16384 rows
func (e *RowGroupEncoder) flushBlock() {
	n := e.n
	if n == 0 {
		return
	}
	e.addVersions(e.blk.cType[:n])
	// The keys no record of the block had (had) and those every record
	// had (all). putRecord leaves an absent key's value as it was: the
	// columns of the keys no record had are zeros, not read; those of the
	// keys some records had are zeroed where absent. Rows of
	// AppendRecords taken by Write hold their values as they are, zeros
	// or not.
	var had, all uint64 = math.MaxUint64, math.MaxUint64
	if !e.rowsIn {
		had = 0
		for _, p := range e.blk.cPresent[:n] {
			had |= p
			all &= p
		}
	}
	for k := range columns {
		if k == colType {
			continue
		}
		cs := &e.chunks[k]
		var b []byte
		var w int
		var constant bool
		if k == colOther {
			// A constant column's value is the first row's; the values
			// are written out only for a PLAIN page.
			w = 4 + int(binary.LittleEndian.Uint32(e.other))
			b, constant = e.other[:w], !e.varies
			if !constant || cs.plain || cs.constRun > 0 && !bytes.Equal(cs.constVal, b) {
				b = e.otherPlain()
			}
		} else {
			w = columns[k].Type.width()
			if cs.dict != nil && !e.rowsIn && e.addrIndexes(cs, k, n, had, all) {
				continue
			}
			switch bit := uint64(1) << k; {
			case k < colPresent && had&bit == 0:
				b, constant = zeros[:n*w], true
			case k < colPresent && all&bit == 0:
				b = e.blk.plain(k, n, &e.scratch)
				zeroAbsent(b, w, e.blk.cPresent[:n], bit)
			default:
				b = e.blk.plain(k, n, &e.scratch)
			}
			constant = cs.addStats(columns[k].Type, b, w, constant)
			if cs.dict != nil && !cs.dict.full {
				if cs.dict.indexes(b, constant, e.idx[:n]) {
					e.page = appendIndexes(e.page[:0], e.idx[:n])
					e.dataPage(cs, e.page, n, format.RLEDictionary)
					continue
				}
				cs.dict.full = true // PLAIN from now on
				cs.plain = true
			}
		}
		if !cs.plain && constant && (cs.constRun == 0 || bytes.Equal(cs.constVal, b[:w])) {
			if cs.constRun == 0 {
				cs.constVal = append(cs.constVal[:0], b[:w]...)
			}
			cs.constRun += n
			continue
		}
		if !cs.plain {
			cs.plain = true
			e.plainRun(cs, w)
		}
		if w == 8 && columns[k].Type == typeUint64 && cs.blockHi < 1<<16 {
			e.pageCodec = e.codec64
		}
		e.dataPage(cs, b, n, format.Plain)
		e.pageCodec = nil
	}
	e.rows += n
	e.n = 0
	e.other, e.runs = e.other[:0], e.runs[:0]
	e.varies, e.rowsIn = false, false
}

// addrIndexes writes the block's page of address column k as the
// indexes putRecord stored, and reports true; or, once the column's
// dictionary has overflowed, puts the addresses of the rows stored as
// indexes in the block and reports false: the block's values are then
// written as the other columns' are, PLAIN. had and all are the presence
// bits of some and of all rows.
func (e *RowGroupEncoder) addrIndexes(cs *chunkState, k, n int, had, all uint64) bool {
	d := cs.dict
	x := e.blk.indexes(k, n)
	if bit := uint64(1) << k; !d.full && all&bit == 0 {
		// The absent rows index the zero address.
		z, ok := d.index(0, 0)
		if !ok {
			d.full, d.fullAt = true, n
		} else if had&bit == 0 {
			for i := range x {
				x[i] = z
			}
		} else {
			for i, p := range e.blk.cPresent[:n] {
				if p&bit == 0 {
					x[i] = z
				}
			}
		}
	}
	if !d.full {
		e.page = appendIndexes(e.page[:0], x)
		e.dataPage(cs, e.page, n, format.RLEDictionary)
		return true
	}
	if d.fullAt > 0 {
		// The dictionary overflowed in this block: the rows before hold
		// indexes.
		e.vals = d.values(e.vals[:0], x[:d.fullAt])
		copy(e.blk.plain(k, n, &e.scratch), e.vals)
		d.fullAt = 0
	}
	cs.plain = true
	return false
}

// zeros are the values of a column that no row of a block has.
var zeros [blockRows * 16]byte

// zeroAbsent clears the values (w bytes each) of the rows of b whose
// present bits lack bit.
func zeroAbsent(b []byte, w int, present []uint64, bit uint64) {
	for i, p := range present {
		if p&bit == 0 {
			clear(b[i*w : i*w+w])
		}
	}
}

// plainRun writes the constant values a chunk held (constRun times
// constVal) as PLAIN pages, when a block that differs comes.
func (e *RowGroupEncoder) plainRun(cs *chunkState, w int) {
	for left := cs.constRun; left > 0; {
		n := min(left, e.blockRows)
		e.page = e.page[:0]
		for range n {
			e.page = append(e.page, cs.constVal...)
		}
		e.dataPage(cs, e.page, n, format.Plain)
		left -= n
	}
	cs.constRun = 0
}

// addVersions extends the type column's runs by the versions of a block.
func (e *RowGroupEncoder) addVersions(b []uint16) {
	v := &e.ver
	for len(b) > 0 {
		// A run of one version at a time.
		version, n := b[0], 1
		for n < len(b) && b[n] == version {
			n++
		}
		b = b[n:]
		k := versionIndex(version)
		if v.index[k] < 0 {
			v.index[k] = int8(v.nd)
			v.nd++
			name := versionNames[k]
			v.dict = binary.LittleEndian.AppendUint32(v.dict, uint32(len(name)))
			v.dict = append(v.dict, name...)
		}
		x := v.index[k]
		if v.run > 0 && x == v.cur {
			v.run += n
			continue
		}
		v.closeRun()
		v.cur, v.run = x, n
	}
}

// closeRun appends the open run.
func (v *versionRuns) closeRun() {
	if v.run > 0 {
		v.runs = binary.AppendUvarint(v.runs, uint64(v.run)<<1)
		v.runs = append(v.runs, byte(v.cur))
		v.run = 0
	}
}

// versionIndex returns the index of a version's name in versionNames.
//
//nfkit:hot
func versionIndex(v uint16) int {
	switch v {
	case 1:
		return 0
	case 5:
		return 1
	case 7:
		return 2
	case 9:
		return 3
	case 10:
		return 4
	case decode.VersionSFlow5:
		return 5
	case decode.VersionSFlow5 + 1:
		return 6
	}
	return len(versionNames) - 1
}

// addStats extends a chunk's statistics by a block's values b (w bytes
// each): the times, addresses and integers; not the MACs. It reports
// whether the values are all equal, which constant says when known.
func (cs *chunkState) addStats(t columnType, b []byte, w int, constant bool) bool {
	if !constant {
		// Vectorized: quicker than a range.
		constant = bytes.Equal(b[w:], b[:len(b)-w])
	}
	if !constant && t != typeAddr && t != typeMAC {
		switch {
		case t == typeTime:
			cs.addTimes(int64Range(b))
		case w == 8:
			cs.addInts(uint64Range(b))
		default:
			lo, hi := uint32Range(b)
			cs.addInts(uint64(lo), uint64(hi))
		}
		return false
	}
	switch t {
	case typeMAC:
		return constant
	case typeAddr:
		var lo, hi [2]uint64
		if constant {
			lo = [2]uint64{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
			hi = lo
		} else {
			lo, hi = addrRange(b)
		}
		if !cs.stats || less(lo, cs.loA) {
			cs.loA = lo
		}
		if !cs.stats || less(cs.hiA, hi) {
			cs.hiA = hi
		}
		cs.stats = true
	case typeTime:
		v := int64(binary.LittleEndian.Uint64(b))
		cs.addTimes(v, v)
	default:
		v := uint64(binary.LittleEndian.Uint32(b))
		if w == 8 {
			v = binary.LittleEndian.Uint64(b)
		}
		cs.addInts(v, v)
	}
	return constant
}

// addTimes extends the statistics of a time column by [lo, hi].
func (cs *chunkState) addTimes(lo, hi int64) {
	if !cs.stats {
		cs.loT, cs.hiT, cs.stats = lo, hi, true
	}
	cs.loT, cs.hiT = min(cs.loT, lo), max(cs.hiT, hi)
}

// addInts extends the statistics of an integer column by [lo, hi], a
// block's range.
func (cs *chunkState) addInts(lo, hi uint64) {
	cs.blockHi = hi
	if !cs.stats {
		cs.lo, cs.hi, cs.stats = lo, hi, true
	}
	cs.lo, cs.hi = min(cs.lo, lo), max(cs.hi, hi)
}

// less reports whether address a sorts before b.
func less(a, b [2]uint64) bool { return a[0] < b[0] || a[0] == b[0] && a[1] < b[1] }

// statistics returns the chunk's min/max statistics for a column of type
// t (w bytes a value).
func (cs *chunkState) statistics(t columnType, w int) format.Statistics {
	var st format.Statistics
	if !cs.stats {
		return st
	}
	switch t {
	case typeAddr:
		st.MinValue = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), cs.loA[0]), cs.loA[1])
		st.MaxValue = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), cs.hiA[0]), cs.hiA[1])
	case typeTime:
		st.MinValue = binary.LittleEndian.AppendUint64(nil, uint64(cs.loT))
		st.MaxValue = binary.LittleEndian.AppendUint64(nil, uint64(cs.hiT))
	default:
		if w == 8 {
			st.MinValue = binary.LittleEndian.AppendUint64(nil, cs.lo)
			st.MaxValue = binary.LittleEndian.AppendUint64(nil, cs.hi)
		} else {
			st.MinValue = binary.LittleEndian.AppendUint32(nil, uint32(cs.lo))
			st.MaxValue = binary.LittleEndian.AppendUint32(nil, uint32(cs.hi))
		}
	}
	return st
}

// uint32Range returns the least and greatest of the little-endian uint32
// values in b. Four pairs of accumulators, not one, so that the
// comparisons of a value do not wait for the previous value's.
//
//nfkit:hot
func uint32Range(b []byte) (lo, hi uint32) {
	l0, l1, l2, l3 := uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32), uint32(math.MaxUint32)
	var h0, h1, h2, h3 uint32
	for ; len(b) >= 16; b = b[16:] {
		v0, v1 := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		v2, v3 := binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
		l0, l1, l2, l3 = min(l0, v0), min(l1, v1), min(l2, v2), min(l3, v3)
		h0, h1, h2, h3 = max(h0, v0), max(h1, v1), max(h2, v2), max(h3, v3)
	}
	lo, hi = min(l0, l1, l2, l3), max(h0, h1, h2, h3)
	for ; len(b) >= 4; b = b[4:] {
		v := binary.LittleEndian.Uint32(b)
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// uint64Range returns the least and greatest of the little-endian uint64
// values in b, as uint32Range does.
//
//nfkit:hot
func uint64Range(b []byte) (lo, hi uint64) {
	l0, l1, l2, l3 := uint64(math.MaxUint64), uint64(math.MaxUint64), uint64(math.MaxUint64), uint64(math.MaxUint64)
	var h0, h1, h2, h3 uint64
	for ; len(b) >= 32; b = b[32:] {
		v0, v1 := binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])
		v2, v3 := binary.LittleEndian.Uint64(b[16:]), binary.LittleEndian.Uint64(b[24:])
		l0, l1, l2, l3 = min(l0, v0), min(l1, v1), min(l2, v2), min(l3, v3)
		h0, h1, h2, h3 = max(h0, v0), max(h1, v1), max(h2, v2), max(h3, v3)
	}
	lo, hi = min(l0, l1, l2, l3), max(h0, h1, h2, h3)
	for ; len(b) >= 8; b = b[8:] {
		v := binary.LittleEndian.Uint64(b)
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// int64Range returns the least and greatest of the little-endian int64
// values in b, as uint32Range does.
//
//nfkit:hot
func int64Range(b []byte) (lo, hi int64) {
	l0, l1, l2, l3 := int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64)
	h0, h1, h2, h3 := int64(math.MinInt64), int64(math.MinInt64), int64(math.MinInt64), int64(math.MinInt64)
	for ; len(b) >= 32; b = b[32:] {
		v0, v1 := int64(binary.LittleEndian.Uint64(b)), int64(binary.LittleEndian.Uint64(b[8:]))
		v2, v3 := int64(binary.LittleEndian.Uint64(b[16:])), int64(binary.LittleEndian.Uint64(b[24:]))
		l0, l1, l2, l3 = min(l0, v0), min(l1, v1), min(l2, v2), min(l3, v3)
		h0, h1, h2, h3 = max(h0, v0), max(h1, v1), max(h2, v2), max(h3, v3)
	}
	lo, hi = min(l0, l1, l2, l3), max(h0, h1, h2, h3)
	for ; len(b) >= 8; b = b[8:] {
		v := int64(binary.LittleEndian.Uint64(b))
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// addrRange returns the least and greatest of the 16-byte addresses in b,
// in byte order, as big-endian halves.
//
//nfkit:hot
func addrRange(b []byte) (lo, hi [2]uint64) {
	lo = [2]uint64{math.MaxUint64, math.MaxUint64}
	for ; len(b) >= 16; b = b[16:] {
		h, l := binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])
		if h < lo[0] || h == lo[0] && l < lo[1] {
			lo = [2]uint64{h, l}
		}
		if h > hi[0] || h == hi[0] && l > hi[1] {
			hi = [2]uint64{h, l}
		}
	}
	return lo, hi
}

// dataPage appends a compressed data page (v1) of n values to a chunk.
func (e *RowGroupEncoder) dataPage(cs *chunkState, body []byte, n int, enc format.Encoding) {
	before := len(cs.data)
	var err error
	cs.data, err = e.page1(cs.data, &cs.uncompressed, format.DataPage, body, n, enc)
	e.pageCodec = nil
	e.size += len(cs.data) - before
	if err != nil && e.err == nil {
		e.err = err
	}
}

// page1 appends a compressed page of n values, with its header, to dst
// and adds its uncompressed size to *unc.
func (e *RowGroupEncoder) page1(dst []byte, unc *int64, typ format.PageType, body []byte, n int, enc format.Encoding) ([]byte, error) {
	c := e.codec
	if e.pageCodec != nil {
		c = e.pageCodec
	}
	comp, err := c.Encode(e.comp[:0], body)
	if err != nil {
		return dst, err
	}
	if len(comp) == 0 && len(body) > 0 && e.cc == format.Lz4Raw {
		// The LZ4 compressor gives up on incompressible data (it returns
		// nothing); the page is then one run of literals.
		comp = lz4Literals(comp, body)
	}
	e.comp = comp
	if len(body) > math.MaxInt32 || len(comp) > math.MaxInt32 {
		return dst, errors.New("page too large")
	}
	h := format.PageHeader{Type: typ, UncompressedPageSize: int32(len(body)), CompressedPageSize: int32(len(comp))}
	if typ == format.DictionaryPage {
		h.DictionaryPageHeader = thrift.New(format.DictionaryPageHeader{NumValues: int32(n), Encoding: format.Plain})
	} else {
		h.DataPageHeader = thrift.New(format.DataPageHeader{
			NumValues:               int32(n),
			Encoding:                enc,
			DefinitionLevelEncoding: format.RLE,
			RepetitionLevelEncoding: format.RLE,
		})
	}
	e.hdr.Reset()
	if err := e.te.Encode(&h); err != nil {
		return dst, err
	}
	*unc += int64(e.hdr.Len() + len(body))
	dst = append(dst, e.hdr.Bytes()...)
	return append(dst, comp...), nil
}

// columnPaths are the columns' paths in the schema.
var columnPaths = func() (p [numColumns][]string) {
	for k := range columns {
		p[k] = []string{columns[k].Name}
	}
	return p
}()

var (
	plainEncodings = []format.Encoding{format.Plain}
	dictEncodings  = []format.Encoding{format.Plain, format.RLEDictionary}
)

// Finish completes the row group: it appends the encoded row group (for
// Writer.WriteRowGroups) to dst, or nothing if it has no rows, and starts
// the next.
func (e *RowGroupEncoder) Finish(dst []byte) ([]byte, error) {
	e.flushBlock()
	defer e.reset()
	if e.err != nil {
		return dst, fmt.Errorf("flowparquet: compressing a page: %w", e.err)
	}
	if e.rows == 0 {
		return dst, nil
	}
	start := len(dst)
	dst = append(dst, rowGroupMagic[:]...)
	dst = append(dst, make([]byte, rowGroupHeader-len(rowGroupMagic))...)
	base := len(dst)
	var total int64
	for k := range columns {
		spec := &columns[k]
		cs := &e.chunks[k]
		md := format.ColumnMetaData{
			Type:         spec.Type.physical(),
			PathInSchema: columnPaths[k],
			Codec:        e.cc,
			NumValues:    int64(e.rows),
		}
		if cs.dict != nil && len(cs.dict.vals) > 0 {
			// The dictionary's entries are the values of the rows that
			// hold indexes.
			lo, hi := cs.dict.span()
			if !cs.stats || less(lo, cs.loA) {
				cs.loA = lo
			}
			if !cs.stats || less(cs.hiA, hi) {
				cs.hiA = hi
			}
			cs.stats = true
		}
		if spec.Type != typeVersion && spec.Type != typeJSON {
			md.Statistics = cs.statistics(spec.Type, spec.Type.width())
		}
		first := int64(len(dst) - base)
		var err error
		switch {
		case k == colType:
			e.ver.closeRun()
			md.Encoding = dictEncodings
			md.DictionaryPageOffset = first
			if dst, err = e.page1(dst, &md.TotalUncompressedSize, format.DictionaryPage, e.ver.dict, e.ver.nd, format.Plain); err != nil {
				return dst[:start], err
			}
			md.DataPageOffset = int64(len(dst) - base)
			e.page = append(e.page[:0], byte(max(1, bits.Len(uint(e.ver.nd-1)))))
			e.page = append(e.page, e.ver.runs...)
			dst, err = e.page1(dst, &md.TotalUncompressedSize, format.DataPage, e.page, e.rows, format.RLEDictionary)
		case cs.dict != nil && len(cs.dict.vals) > 0:
			e.dpage = cs.dict.page(e.dpage[:0])
			md.Encoding = dictEncodings
			md.DictionaryPageOffset = first
			if dst, err = e.page1(dst, &md.TotalUncompressedSize, format.DictionaryPage, e.dpage, len(cs.dict.vals), format.Plain); err != nil {
				return dst[:start], err
			}
			md.DataPageOffset = int64(len(dst) - base)
			md.TotalUncompressedSize += cs.uncompressed
			dst = append(dst, cs.data...)
		case !cs.plain:
			md.Encoding = dictEncodings
			md.DictionaryPageOffset = first
			if dst, err = e.page1(dst, &md.TotalUncompressedSize, format.DictionaryPage, cs.constVal, 1, format.Plain); err != nil {
				return dst[:start], err
			}
			md.DataPageOffset = int64(len(dst) - base)
			e.page = append(e.page[:0], 1) // bit width 1, one run of index 0
			e.page = binary.AppendUvarint(e.page, uint64(e.rows)<<1)
			e.page = append(e.page, 0)
			dst, err = e.page1(dst, &md.TotalUncompressedSize, format.DataPage, e.page, e.rows, format.RLEDictionary)
		default:
			md.Encoding = plainEncodings
			md.DataPageOffset = first
			md.TotalUncompressedSize = cs.uncompressed
			dst = append(dst, cs.data...)
		}
		if err != nil {
			return dst[:start], fmt.Errorf("flowparquet: column %s: %w", spec.Name, err)
		}
		md.TotalCompressedSize = int64(len(dst)-base) - first
		total += md.TotalUncompressedSize
		e.rg.Columns[k] = format.ColumnChunk{FileOffset: first, MetaData: md}
	}
	dataLen := len(dst) - base
	e.rg.NumRows = int64(e.rows)
	e.rg.TotalByteSize = total
	e.rg.TotalCompressedSize = int64(dataLen)
	e.hdr.Reset()
	if err := e.te.Encode(&e.rg); err != nil {
		return dst[:start], err
	}
	if dataLen > math.MaxUint32 {
		return dst[:start], errors.New("flowparquet: row group too large")
	}
	binary.LittleEndian.PutUint32(dst[start+4:], uint32(dataLen))
	binary.LittleEndian.PutUint32(dst[start+8:], uint32(e.hdr.Len()))
	return append(dst, e.hdr.Bytes()...), nil
}

// reset starts a new row group.
func (e *RowGroupEncoder) reset() {
	e.n, e.rows, e.size, e.err = 0, 0, 0, nil
	e.other, e.runs, e.varies, e.rowsIn, e.prevSlot = e.other[:0], e.runs[:0], false, false, -1
	for k := range e.chunks {
		cs := &e.chunks[k]
		*cs = chunkState{data: cs.data[:0], constVal: cs.constVal[:0]}
	}
	for j, k := range addrColumns {
		e.dicts[j].reset(e.maxDict)
		e.chunks[k].dict = &e.dicts[j]
	}
	v := &e.ver
	for i := range v.index {
		v.index[i] = -1
	}
	v.dict, v.nd, v.runs, v.run = v.dict[:0], 0, v.runs[:0], 0
}

// lz4Literals appends src as an LZ4 block of one sequence of literals:
// its token, its length beyond 15 in bytes of 255 and a remainder, then
// src.
func lz4Literals(dst, src []byte) []byte {
	n := len(src)
	if n < 15 {
		return append(append(dst, byte(n<<4)), src...)
	}
	dst = append(dst, 15<<4)
	for n -= 15; n >= 255; n -= 255 {
		dst = append(dst, 255)
	}
	return append(append(dst, byte(n)), src...)
}
