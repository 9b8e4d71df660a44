package analyzer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"os"
	"unsafe"

	"github.com/nfkit/nfkit/flowparquet"
)

// The fast path of readParquet: nfcollect's files (and other writers'
// files of the same flat schema with PLAIN or dictionary encodings) are
// read column chunk by column chunk with the decoder of pqcolumn.go.
// Statistics and timelines without other views are counted by column
// batches (pqagg.go); every other view gets one Flow per row, made as
// finish makes it from a JSON line.

// The columns the analyzer reads.
const (
	pcType = iota
	pcReceived
	pcSampler
	pcSamplerFam
	pcStart
	pcEnd
	pcBytes
	pcPackets
	pcOutBytes
	pcOutPackets
	pcRevBytes
	pcRevPackets
	pcFlows
	pcSrc
	pcDst
	pcSrcPort
	pcDstPort
	pcProto
	pcICMPType
	pcICMPCode
	pcSrcAS
	pcDstAS
	pcPresent
	pcTOS
	pcTCPFlags
	pcSrcVLAN
	pcDstVLAN
	pcInIf
	pcOutIf
	pcSrcMask
	pcDstMask
	pcDirection
	pcSrcMAC
	pcDstMAC
	pcN
)

// pqSpecs are the columns' names, physical types and value sizes, and
// the scanner action that makes a run read an optional one (0: always
// read by the row path).
var pqSpecs = [pcN]struct {
	name  string
	phys  int32
	width int
	act   uint8
}{
	pcType:       {"type", pqByteArray, 0, actType},
	pcReceived:   {"time_received_ns", pqInt64, 8, 0},
	pcSampler:    {"sampler_address", pqFixed, 16, actExporter},
	pcSamplerFam: {"sampler_address_family", pqInt32, 4, actExporter},
	pcStart:      {"time_flow_start_ns", pqInt64, 8, 0},
	pcEnd:        {"time_flow_end_ns", pqInt64, 8, 0},
	pcBytes:      {"bytes", pqInt64, 8, 0},
	pcPackets:    {"packets", pqInt64, 8, 0},
	pcOutBytes:   {"out_bytes", pqInt64, 8, 0},
	pcOutPackets: {"out_packets", pqInt64, 8, 0},
	pcRevBytes:   {"rev_bytes", pqInt64, 8, 0},
	pcRevPackets: {"rev_packets", pqInt64, 8, 0},
	pcFlows:      {"flows", pqInt64, 8, 0},
	pcSrc:        {"src_addr", pqFixed, 16, 0},
	pcDst:        {"dst_addr", pqFixed, 16, 0},
	pcSrcPort:    {"src_port", pqInt32, 4, 0},
	pcDstPort:    {"dst_port", pqInt32, 4, 0},
	pcProto:      {"proto", pqInt32, 4, 0},
	pcICMPType:   {"icmp_type", pqInt32, 4, 0},
	pcICMPCode:   {"icmp_code", pqInt32, 4, 0},
	pcSrcAS:      {"src_as", pqInt32, 4, actSrcAS},
	pcDstAS:      {"dst_as", pqInt32, 4, actDstAS},
	pcPresent:    {"present", pqInt64, 8, 0},
	pcTOS:        {"ip_tos", pqInt32, 4, actTOS},
	pcTCPFlags:   {"tcp_flags", pqInt32, 4, actTCPFlags},
	pcSrcVLAN:    {"src_vlan", pqInt32, 4, actSrcVLAN},
	pcDstVLAN:    {"dst_vlan", pqInt32, 4, actDstVLAN},
	pcInIf:       {"in_if", pqInt32, 4, actInIf},
	pcOutIf:      {"out_if", pqInt32, 4, actOutIf},
	pcSrcMask:    {"src_net", pqInt32, 4, actSrcMask},
	pcDstMask:    {"dst_net", pqInt32, 4, actDstMask},
	pcDirection:  {"direction", pqInt32, 4, actDirection},
	pcSrcMAC:     {"src_mac", pqFixed, 6, actSrcMAC},
	pcDstMAC:     {"dst_mac", pqFixed, 6, actDstMAC},
}

// pqBatch is the number of rows decoded at once.
const pqBatch = 4096

// pqFooterLimit bounds the footer read into memory.
const pqFooterLimit = 256 << 20

// errPqGeneral means that the file is readable Parquet that the fast
// reader does not handle (another writer's encodings or layout): the
// general reader (parquet-go) reads it.
type errPqGeneral struct{ why string }

func (e *errPqGeneral) Error() string { return e.why }

// pqFile is a file opened by the fast reader.
type pqFile struct {
	f       *os.File
	size    int64
	meta    pqMeta
	leafOf  map[string]int // leaf column index by name
	leaves  []int          // schema element of each leaf
	group   pqGroup
	mem     []byte // the file mapped, or nil: read with ReadAt
	endOff  int64  // where the footer starts
	nleaves int    // leaf columns of the schema

	cols     [pcN]pqCol
	use      [pcN]bool     // read by this run
	lazy     [pcN]bool     // read (load) or passed over (pass) batch by batch as needed
	keyed    [pcN]bool     // dictionary pages are read as indices (idx), not values
	idx      [pcN][]uint32 // the batch's dictionary indices of a keyed column, or nil: view
	view     [pcN][]byte   // the batch's values
	data     [pcN][]uint64 // scratch for values that are not viewed in place (aligned)
	vers     []uint8       // the type column's versions
	dec      pqDecoders
	optional bool // an optional field (tos, flags, VLANs, …) is in use
	// version: the run uses the export version (else only rows without
	// addresses look at it: sFlow's are passed over).
	version bool
	// filterCols: the filter looks only at the columns in use (filterFlow).
	filterCols bool
}

// notIP reports whether row i, which lacks an address, is an sFlow record
// without addresses: passed over, not a bad line (isNotIP).
func (p *pqFile) notIP(i int) bool {
	v := p.vers[i]
	return v == 105 || v == 106
}

// pqOpen reads the footer of f and checks that the fast reader can read
// the columns in use. An *errPqGeneral error sends the file to the
// general reader; any other error is damage.
func pqOpen(p *pqFile, f *os.File, size int64, use *[pcN]bool) error {
	p.f, p.size = f, size
	if size < 12 {
		return errors.New("too short for a Parquet file")
	}
	var tail [8]byte
	if _, err := f.ReadAt(tail[:], size-8); err != nil {
		return err
	}
	if !bytes.Equal(tail[4:], parquetMagic) {
		if string(tail[4:]) == "PARE" {
			return errors.New("encrypted Parquet file (not supported)")
		}
		return errors.New("no Parquet footer at the end (nfcollect was still writing it, or it is cut short)")
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n > size-12 {
		return fmt.Errorf("footer of %d bytes in a file of %d", n, size)
	}
	if n > pqFooterLimit {
		return fmt.Errorf("footer of %d bytes (at most %d)", n, pqFooterLimit)
	}
	p.endOff = size - 8 - n
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, p.endOff); err != nil {
		return err
	}
	if err := p.meta.parse(buf); err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	s := p.meta.schema
	p.nleaves = 0
	for i := 1; i < len(s); i++ {
		if s[i].numChildren == 0 {
			p.nleaves++
		}
	}
	if len(s) == 0 || s[0].numChildren != int32(len(s)-1) {
		return &errPqGeneral{"nested schema"}
	}
	p.leafOf = make(map[string]int, len(s))
	p.leaves = p.leaves[:0]
	for i := 1; i < len(s); i++ {
		if s[i].typ < 0 || s[i].numChildren != 0 {
			return &errPqGeneral{"nested schema"}
		}
		p.leafOf[string(s[i].name)] = len(p.leaves)
		p.leaves = append(p.leaves, i)
	}
	p.use, p.lazy, p.keyed = *use, [pcN]bool{}, [pcN]bool{}
	for c := range pcN {
		if !p.use[c] {
			continue
		}
		spec := &pqSpecs[c]
		leaf, ok := p.leafOf[spec.name]
		if !ok {
			return &errPqGeneral{"no column " + spec.name}
		}
		e := &s[p.leaves[leaf]]
		ba := spec.phys == pqFixed && e.typ == pqByteArray // DuckDB writes addresses as BLOBs
		if !ba && (e.typ != spec.phys || spec.phys == pqFixed && int(e.typeLen) != spec.width) {
			return &errPqGeneral{"column " + spec.name + " of another type"}
		}
		if e.rep != pqRequired && e.rep != pqOptional {
			return &errPqGeneral{"repeated column " + spec.name}
		}
		col := &p.cols[c]
		col.name, col.leaf, col.phys, col.width, col.opt, col.dec = spec.name, leaf, e.typ, spec.width, e.rep == pqOptional, &p.dec
		col.ba, col.scale = ba, 1
		if spec.phys == pqInt64 && e.timeUnit > 1 {
			col.scale = e.timeUnit
		}
		if spec.width > 0 {
			if w := (pqBatch*spec.width + 7) / 8; len(p.data[c]) < w {
				p.data[c] = make([]uint64, w)
			}
		} else if len(p.vers) < pqBatch {
			p.vers = make([]uint8, pqBatch)
		}
	}
	// Every chunk of every row group must be one the fast reader reads.
	var rows int64
	for g := range p.meta.groups {
		if err := p.meta.parseGroup(g, &p.group, len(p.leaves)); err != nil {
			return fmt.Errorf("footer: %w", err)
		}
		if p.group.numRows < 0 {
			return fmt.Errorf("row group %d of %d rows", g, p.group.numRows)
		}
		rows += p.group.numRows
		for c := range pcN {
			if !p.use[c] {
				continue
			}
			if err := p.checkChunk(&p.group.chunks[p.cols[c].leaf], c, p.cols[c].phys); err != nil {
				return err
			}
		}
	}
	if rows != p.meta.numRows {
		return fmt.Errorf("footer: row groups of %d rows in a file of %d", rows, p.meta.numRows)
	}
	return nil
}

// pqEncodings are the encodings the fast reader decodes.
const pqEncodings = 1<<encPlain | 1<<encPlainDict | 1<<encRLE | 1<<encBitPacked | 1<<encRLEDict | 1<<encDelta

func (p *pqFile) checkChunk(ch *pqChunk, c int, phys int32) error {
	name := pqSpecs[c].name
	switch {
	case ch.external:
		return &errPqGeneral{"column " + name + " in another file"}
	case ch.pathLen != 1 || string(ch.path0) != name:
		return fmt.Errorf("footer: column chunk of column %s names another", name)
	case ch.typ != phys:
		return fmt.Errorf("footer: column chunk of %s has another type", name)
	case ch.encodings&^pqEncodings != 0:
		return &errPqGeneral{"column " + name + " has encodings the fast reader does not decode"}
	}
	switch ch.codec {
	case pqCodecNone, pqCodecSnappy, pqCodecGzip, pqCodecZstd, pqCodecLZ4Raw:
	default:
		return &errPqGeneral{"column " + name + " compressed with " + codecName(ch.codec)}
	}
	start := chunkStart(ch)
	if start < 4 || ch.compSize <= 0 || ch.compSize > p.endOff-start {
		return fmt.Errorf("footer: column chunk of %s at %d of %d bytes lies outside the file's %d bytes of pages", name, start, ch.compSize, p.endOff)
	}
	return nil
}

// checkGeneral checks the row groups and page headers of a file for the
// general reader, which is not hardened against hostile sizes: every
// column chunk lies in the file, and every page header parses and says
// sizes that fit its chunk and pqPageLimit.
func (p *pqFile) checkGeneral() error {
	var window []byte
	for g := range p.meta.groups {
		if err := p.meta.parseGroup(g, &p.group, p.nleaves); err != nil {
			return fmt.Errorf("footer: %w", err)
		}
		for i := range p.group.chunks {
			ch := &p.group.chunks[i]
			if ch.external {
				return errors.New("a column chunk in another file (not supported)")
			}
			start := ch.dataOff
			if ch.dictOff > 0 && ch.dictOff < start {
				start = ch.dictOff
			}
			if start < 4 || ch.compSize <= 0 || ch.compSize > p.endOff-start {
				return fmt.Errorf("footer: column chunk at %d of %d bytes lies outside the file's %d bytes of pages", start, ch.compSize, p.endOff)
			}
			for pos, end := start, start+ch.compSize; pos < end; {
				w := min(end-pos, 64<<10)
				if int64(cap(window)) < w {
					window = make([]byte, w)
				}
				window = window[:w]
				if _, err := p.f.ReadAt(window, pos); err != nil {
					return err
				}
				var h pqPageHeader
				hl, err := parsePageHeader(window, &h)
				if err != nil {
					return fmt.Errorf("page header at %d: %w", pos, err)
				}
				if h.compSize < 0 || int64(h.compSize) > end-pos-int64(hl) || h.uncompSize < 0 || h.uncompSize > pqPageLimit {
					return fmt.Errorf("page at %d of %d bytes (%d uncompressed) does not fit its column chunk", pos, h.compSize, h.uncompSize)
				}
				pos += int64(hl) + int64(h.compSize)
			}
		}
	}
	return nil
}

// beginGroup parses row group g and starts reading its chunks in use.
func (p *pqFile) beginGroup(g int) error {
	if err := p.meta.parseGroup(g, &p.group, len(p.leaves)); err != nil {
		return fmt.Errorf("footer: %w", err)
	}
	for c := range pcN {
		if p.use[c] {
			if err := p.beginCol(c, p.cols[c].width > 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// release lets the pages of the mapping that the current row group's
// chunks were read from leave the process's resident set (dropMapped), so
// that it does not grow with the file.
func (p *pqFile) release() {
	if p.mem == nil {
		return
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(p.mem)))
	page := uintptr(os.Getpagesize())
	for c := range p.cols {
		col := &p.cols[c]
		if len(col.chunk) == 0 {
			continue
		}
		start := uintptr(unsafe.Pointer(unsafe.SliceData(col.chunk))) - base
		end := start + uintptr(len(col.chunk))
		start = (start + page - 1) &^ (page - 1)
		end &^= page - 1
		if start < end && end <= uintptr(len(p.mem)) {
			dropMapped(p.mem[start:end])
		}
		col.chunk, col.plain = nil, nil
	}
}

// beginCol starts reading column c of the current row group, by its
// statistics if it is constant and konstOK.
func (p *pqFile) beginCol(c int, konstOK bool) error {
	col := &p.cols[c]
	ch := &p.group.chunks[col.leaf]
	if konstOK && col.scale <= 1 && ch.stats.constant(col.width) {
		col.begin(ch, p.group.numRows, true, nil)
		return nil
	}
	start, size := chunkStart(ch), ch.compSize // checked by checkChunk
	var b []byte
	if p.mem != nil {
		b = p.mem[start : start+size]
	} else {
		if int64(cap(col.own)) < size {
			col.own = make([]byte, size)
		}
		b = col.own[:size]
		if _, err := p.f.ReadAt(b, start); err != nil {
			return fmt.Errorf("column %s: %w", col.name, err)
		}
	}
	col.begin(ch, p.group.numRows, false, b)
	return nil
}

// read decodes the next rows of the columns in use but the lazy ones, at
// most max, and returns how many: a batch ends where a page of a column
// does, so that values are viewed in their page.
func (p *pqFile) read(max int) (int, error) {
	n := max
	for c := range pcN {
		if !p.use[c] || p.lazy[c] {
			continue
		}
		col := &p.cols[c]
		if err := col.ensure(); err != nil {
			return 0, fmt.Errorf("column %s: %w", col.name, err)
		}
		n = min(n, col.avail())
	}
	for c := range pcN {
		if !p.use[c] || p.lazy[c] {
			continue
		}
		col := &p.cols[c]
		var err error
		switch {
		case col.width == 0:
			err = col.versions(p.vers[:n])
		case p.keyed[c] && col.isDict && !col.konst:
			p.view[c] = nil
			p.idx[c], err = col.indices(n)
		default:
			p.idx[c] = nil
			p.view[c], err = col.view(n, p.scratch(c))
		}
		if err != nil {
			return 0, fmt.Errorf("column %s: %w", col.name, err)
		}
	}
	return n, nil
}

// load reads the batch's n values of lazy column c.
func (p *pqFile) load(c, n int) error {
	col := &p.cols[c]
	var err error
	if col.width == 0 {
		err = col.versions(p.vers[:n])
	} else {
		p.view[c] = p.scratch(c)[:n*col.width]
		err = col.fill(p.view[c])
	}
	if err != nil {
		return fmt.Errorf("column %s: %w", col.name, err)
	}
	return nil
}

// need makes the batch's n values of column c available: loaded if
// lazy.
func (p *pqFile) need(c, n int) error {
	if p.lazy[c] {
		return p.load(c, n)
	}
	return nil
}

// passIfLazy passes over the batch's n values of column c if lazy.
func (p *pqFile) passIfLazy(c, n int) error {
	if !p.lazy[c] {
		return nil
	}
	if err := p.cols[c].skip(n); err != nil {
		return fmt.Errorf("column %s: %w", p.cols[c].name, err)
	}
	return nil
}

func (p *pqFile) scratch(c int) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(p.data[c]))), pqBatch*p.cols[c].width)
}

// The batch's values of column c.
func (p *pqFile) u64(c int) []uint64 {
	v := p.view[c]
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(v))), len(v)/8)
}
func (p *pqFile) i64(c int) []int64 {
	v := p.view[c]
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(v))), len(v)/8)
}
func (p *pqFile) u32(c int) []uint32 {
	v := p.view[c]
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(v))), len(v)/4)
}
func (p *pqFile) addr(c int) [][16]byte {
	v := p.view[c]
	return unsafe.Slice((*[16]byte)(unsafe.Pointer(unsafe.SliceData(v))), len(v)/16)
}
func (p *pqFile) mac(c int, i int) uint64 {
	b := p.view[c][6*i:]
	return uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
}

// timeUnit returns the nanoseconds of the unit of column c if it is a
// timestamp of milli- or microseconds, else 0.
func (p *pqFile) timeUnit(c int) int64 {
	leaf, ok := p.leafOf[pqSpecs[c].name]
	if !ok {
		return 0
	}
	return p.meta.schema[p.leaves[leaf]].timeUnit
}

// groupStats returns a column's statistics in the current row group, nil
// if the column is not in the file.
func (p *pqFile) groupStats(c int) *pqStats {
	leaf, ok := p.leafOf[pqSpecs[c].name]
	if !ok {
		return nil
	}
	return &p.group.chunks[leaf].stats
}

// int64Bounds returns the min and max of an INT64 column in the current
// row group, if known.
func (p *pqFile) int64Bounds(c int) (lo, hi int64, ok bool) {
	s := p.groupStats(c)
	if s == nil || !s.ok || len(s.min) != 8 || len(s.max) != 8 {
		return 0, 0, false
	}
	lo, hi = int64(binary.LittleEndian.Uint64(s.min)), int64(binary.LittleEndian.Uint64(s.max))
	if k := p.timeUnit(c); k > 1 {
		if lo < math.MinInt64/k || hi > math.MaxInt64/k {
			return 0, 0, false
		}
		lo, hi = lo*k, hi*k
	}
	return lo, hi, true
}

// addrBounds returns the min and max of an address column in the current
// row group, if known in byte order.
func (p *pqFile) addrBounds(c int) (lo, hi [16]byte, ok bool) {
	s := p.groupStats(c)
	if s == nil || !s.ok || !s.sortedBounds || len(s.min) != 16 || len(s.max) != 16 {
		return lo, hi, false
	}
	return [16]byte(s.min), [16]byte(s.max), true
}

// outsideTime reports whether the current row group's statistics show
// that no flow of it starts in [since, until). A flow's start is its start
// time, else its end, else its receive time (fixTimes), so all three
// columns' bounds count; an absent start is stored as 0, which keeps the
// group for an until bound.
func (p *pqFile) outsideTime(since, until int64) bool {
	if since == 0 && until == 0 {
		return false
	}
	var lo, hi int64
	for i, c := range []int{pcStart, pcEnd, pcReceived} {
		l, h, ok := p.int64Bounds(c)
		if !ok {
			return false
		}
		if i == 0 || l < lo {
			lo = l
		}
		if i == 0 || h > hi {
			hi = h
		}
	}
	return since != 0 && hi < since || until != 0 && lo >= until
}

// unaddressed returns the number of rows of the current row group that
// lack a source or destination address, and of those the sFlow records
// (passed over, isNotIP), reading only the presence bits and the types;
// the others are reported as bad lines would be (the group's first row is
// line+1).
func (p *pqFile) unaddressed(in *inputState, line int64) (bad, notIP int64, err error) {
	for _, c := range []int{pcPresent, pcType} {
		if err := p.beginCol(c, c == pcPresent); err != nil {
			return 0, 0, err
		}
	}
	const both = flowparquet.HasSrcAddr | flowparquet.HasDstAddr
	if col := &p.cols[pcPresent]; col.konst && binary.LittleEndian.Uint64(col.kval[:])&both == both {
		return 0, 0, nil
	}
	for left := p.group.numRows; left > 0; {
		n := int(min(left, pqBatch))
		if err := p.load(pcPresent, n); err != nil {
			return 0, 0, err
		}
		if err := p.load(pcType, n); err != nil {
			return 0, 0, err
		}
		for i, bits := range p.u64(pcPresent)[:n] {
			switch {
			case bits&both == both:
			case p.notIP(i):
				notIP++
			default:
				bad++
				missing := "dst_addr"
				if bits&flowparquet.HasSrcAddr == 0 {
					missing = "src_addr"
				}
				in.msg(line+int64(i)+1, "%v, row skipped", &missingError{missing})
			}
		}
		line += int64(n)
		left -= int64(n)
	}
	return bad, notIP, nil
}

// pqAddr returns the address of a 16-byte column, IPv4 unmapped (as
// handle does), or with its family for the exporter.
func pqAddr(b *[16]byte) netip.Addr {
	a := netip.AddrFrom16(*b)
	if a.Is4In6() {
		return a.Unmap()
	}
	return a
}

// flow makes f from row i of the batch as finish makes it from a JSON
// line.
func (p *pqFile) flow(i int, f *Flow) error {
	pr := p.u64(pcPresent)[i]
	*f = Flow{}
	if pr&flowparquet.HasSrcAddr == 0 {
		return &missingError{"src_addr"}
	}
	if pr&flowparquet.HasDstAddr == 0 {
		return &missingError{"dst_addr"}
	}
	if p.version {
		f.Version = p.vers[i]
	}
	f.Src = pqAddr(&p.addr(pcSrc)[i])
	f.Dst = pqAddr(&p.addr(pcDst)[i])
	if p.use[pcSampler] && pr&flowparquet.HasSamplerAddress != 0 {
		f.Exporter = netip.AddrFrom16(p.addr(pcSampler)[i])
		if p.u32(pcSamplerFam)[i] == 4 {
			f.Exporter = f.Exporter.Unmap()
		}
	}
	f.Received = p.i64(pcReceived)[i]
	f.Start, f.End = p.i64(pcStart)[i], p.i64(pcEnd)[i]
	if pr&flowparquet.HasStart != 0 {
		f.Flags |= flowHasStart
	}
	if pr&flowparquet.HasEnd != 0 {
		f.Flags |= flowHasEnd
	}
	// bytes wins over out_bytes, and packets over out_packets unless packets is 0.
	f.Bytes = p.u64(pcBytes)[i]
	if pr&flowparquet.HasBytes == 0 {
		f.Bytes = p.u64(pcOutBytes)[i]
	}
	f.Packets = p.u64(pcPackets)[i]
	if f.Packets == 0 && pr&flowparquet.HasOutPackets != 0 {
		f.Packets = p.u64(pcOutPackets)[i]
	}
	if pr&(flowparquet.HasRevBytes|flowparquet.HasRevPackets) != 0 {
		f.Flags |= flowBiflow
	}
	f.RevBytes, f.RevPackets = p.u64(pcRevBytes)[i], p.u64(pcRevPackets)[i]
	f.Flows = p.u64(pcFlows)[i]
	f.SrcPort, f.DstPort, f.Proto = uint16(p.u32(pcSrcPort)[i]), uint16(p.u32(pcDstPort)[i]), uint8(p.u32(pcProto)[i])
	if p.use[pcSrcAS] {
		f.SrcAS = p.u32(pcSrcAS)[i]
	}
	if p.use[pcDstAS] {
		f.DstAS = p.u32(pcDstAS)[i]
	}
	if pr&flowparquet.HasICMPType != 0 && f.SrcPort == 0 && f.DstPort == 0 {
		f.DstPort = uint16(p.u32(pcICMPType)[i])<<8 | uint16(p.u32(pcICMPCode)[i]&0xff)
	}
	if p.optional {
		p.setOptional(i, f)
	}
	f.fixTimes()
	return nil
}

// setOptional sets the optional fields the run uses.
func (p *pqFile) setOptional(i int, f *Flow) {
	if p.use[pcTOS] {
		f.TOS = uint8(p.u32(pcTOS)[i])
	}
	if p.use[pcTCPFlags] {
		f.TCPFlags = uint16(p.u32(pcTCPFlags)[i])
	}
	if p.use[pcSrcVLAN] {
		f.SrcVLAN = uint16(p.u32(pcSrcVLAN)[i])
	}
	if p.use[pcDstVLAN] {
		f.DstVLAN = uint16(p.u32(pcDstVLAN)[i])
	}
	if p.use[pcInIf] {
		f.InIf = p.u32(pcInIf)[i]
	}
	if p.use[pcOutIf] {
		f.OutIf = p.u32(pcOutIf)[i]
	}
	if p.use[pcSrcMask] {
		f.SrcMask = uint8(p.u32(pcSrcMask)[i])
	}
	if p.use[pcDstMask] {
		f.DstMask = uint8(p.u32(pcDstMask)[i])
	}
	if p.use[pcDirection] {
		f.Direction = uint8(p.u32(pcDirection)[i])
	}
	if p.use[pcSrcMAC] {
		f.SrcMAC = p.mac(pcSrcMAC, i)
	}
	if p.use[pcDstMAC] {
		f.DstMAC = p.mac(pcDstMAC, i)
	}
}

// filterColumns returns the columns the filter looks at, and false if it
// looks at fields other than addresses, ports, protocols, AS numbers,
// exporters and times.
func filterColumns(n node) (cols [pcN]bool, ok bool) {
	ok = true
	eachLeaf(n, func(n node) {
		switch n.(type) {
		case anyNode:
		case hostNode, netNode, ipVersionNode, ipListNode:
			cols[pcSrc], cols[pcDst] = true, true
		case portNode, portListNode:
			cols[pcSrcPort], cols[pcDstPort], cols[pcProto], cols[pcICMPType], cols[pcICMPCode] = true, true, true, true, true
		case protoNode:
			cols[pcProto] = true
		case asNode, asListNode:
			cols[pcSrcAS], cols[pcDstAS] = true, true
		case exporterNode:
			cols[pcSampler], cols[pcSamplerFam] = true, true
		case timeNode:
			cols[pcStart], cols[pcEnd], cols[pcReceived] = true, true, true
		default:
			ok = false
		}
	})
	return cols, ok
}

// filterFlow makes f from row i (which has both addresses) with the fields
// of the columns in use, as flow does, for a filter that looks at no
// others (filterColumns).
func (p *pqFile) filterFlow(i int, f *Flow) {
	pr := p.u64(pcPresent)[i]
	*f = Flow{}
	if p.use[pcSrc] && p.view[pcSrc] != nil {
		f.Src = pqAddr(&p.addr(pcSrc)[i])
	}
	if p.use[pcDst] && p.view[pcDst] != nil {
		f.Dst = pqAddr(&p.addr(pcDst)[i])
	}
	if p.use[pcProto] {
		f.Proto = uint8(p.u32(pcProto)[i])
	}
	if p.use[pcSrcPort] {
		f.SrcPort, f.DstPort = uint16(p.u32(pcSrcPort)[i]), uint16(p.u32(pcDstPort)[i])
		if pr&flowparquet.HasICMPType != 0 && f.SrcPort == 0 && f.DstPort == 0 {
			f.DstPort = uint16(p.u32(pcICMPType)[i])<<8 | uint16(p.u32(pcICMPCode)[i]&0xff)
		}
	}
	if p.use[pcSrcAS] {
		f.SrcAS, f.DstAS = p.u32(pcSrcAS)[i], p.u32(pcDstAS)[i]
	}
	if p.use[pcSampler] && pr&flowparquet.HasSamplerAddress != 0 {
		f.Exporter = netip.AddrFrom16(p.addr(pcSampler)[i])
		if p.u32(pcSamplerFam)[i] == 4 {
			f.Exporter = f.Exporter.Unmap()
		}
	}
	if p.use[pcStart] && !p.lazy[pcEnd] {
		f.Received = p.i64(pcReceived)[i]
		f.Start, f.End = p.i64(pcStart)[i], p.i64(pcEnd)[i]
		if pr&flowparquet.HasStart != 0 {
			f.Flags |= flowHasStart
		}
		if pr&flowparquet.HasEnd != 0 {
			f.Flags |= flowHasEnd
		}
		f.fixTimes()
	}
}
