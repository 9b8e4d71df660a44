package analyzer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/nfkit/nfkit/flowparquet"
)

// parquetMagic starts (and ends) every Parquet file.
var parquetMagic = []byte("PAR1")

// isParquet reports whether the regular file f starts like a Parquet file.
func isParquet(f *os.File) bool {
	var b [4]byte
	n, _ := f.ReadAt(b[:], 0)
	return bytes.Equal(b[:n], parquetMagic)
}

// parquetBatch is the number of rows read at once.
const parquetBatch = 4096

// readParquet reads a Parquet file of nfcollect (--format parquet), as
// readLines does for JSON lines: the typed columns give the Flow, the
// presence bits what the record had. Row numbers stand for line numbers in
// messages. The fast reader (readParquetFast) reads the files it can; the
// others (other writers' encodings, nested schemas) are read here, column
// by column with parquet-go's typed page readers, once the fast reader has
// checked their footer.
func (a *run) readParquet(in *inputState, f *os.File, size int64) {
	if a.readParquetFast(in, f, size) {
		return
	}
	in.lr = &lineReader{}
	defer func() {
		// parquet-go is not hardened against hostile files: a file it
		// cannot parse is reported like any damaged input, not a crash.
		if r := recover(); r != nil {
			in.broken = true
			in.msg(in.lr.line, "damaged Parquet file (%v); the rest of the file is skipped", r)
		}
	}()
	pf, err := parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		in.broken = true
		in.msg(0, "not a readable Parquet file (%v); a file nfcollect was still writing has no footer", err)
		return
	}
	cols, err := newParquetColumns(pf.Schema())
	if err != nil {
		in.broken = true
		in.msg(0, "%v: not a Parquet file of nfcollect", err)
		return
	}
	defer func() {
		for _, p := range cols.cols {
			p.close()
		}
	}()
	var row parquetRow
	since, until := a.cfg.Filter.timeRange()
	for _, rg := range pf.RowGroups() {
		if a.pairer == nil && outsideTime(rg, cols, since, until) {
			// No flow of the row group can match: statistics and
			// timelines count only matching flows (connections pair
			// with the others, so they read everything).
			// Counted as reading them would: rows without addresses
			// as skipped lines, the others as flows.
			bad, notIP, err := cols.unaddressed(rg, in, in.lr.line)
			if err != nil {
				in.broken = true
				in.msg(in.lr.line, "reading the Parquet file: %v; the rest of the file is skipped", err)
				return
			}
			a.sum.Lines += rg.NumRows()
			a.sum.SkippedLines += bad
			a.sum.Flows += rg.NumRows() - bad - notIP
			in.lr.line += rg.NumRows()
			a.parquetSkipped += rg.NumRows()
			continue
		}
		cols.begin(rg)
		for left := rg.NumRows(); left > 0; {
			n := int(min(left, parquetBatch))
			if err := cols.read(n); err != nil {
				in.broken = true
				in.msg(in.lr.line, "reading the Parquet file: %v; the rest of the file is skipped", err)
				return
			}
			for i := range n {
				in.lr.line++
				a.sum.Lines++
				cols.row(i, &row)
				if err := parquetFlow(&row, &a.flow); err != nil {
					if row.Version != 105 && row.Version != 106 { // sFlow records without addresses are passed over (isNotIP)
						a.sum.SkippedLines++
						in.msg(in.lr.line, "%v, row skipped", err)
					}
					continue
				}
				a.handle(&a.flow)
			}
			left -= int64(n)
		}
	}
}

// outsideTime reports whether the row group's statistics show that no
// flow of it starts in [since, until). A flow's start is its start time,
// else its end, else its receive time (fixTimes), so all three columns'
// bounds count; an absent start is stored as 0, which keeps the group for
// an until bound.
func outsideTime(rg parquet.RowGroup, cols *parquetColumns, since, until int64) bool {
	if since == 0 && until == 0 {
		return false
	}
	chunks := rg.ColumnChunks()
	lo, hi := int64(0), int64(0)
	for i, p := range []*pqColumn{cols.start, cols.end, cols.received} {
		cc, ok := chunks[p.leaf].(interface {
			Bounds() (min, max parquet.Value, ok bool)
		})
		if !ok {
			return false
		}
		min, max, ok := cc.Bounds()
		if !ok || min.IsNull() || max.IsNull() {
			return false
		}
		if i == 0 || min.Int64() < lo {
			lo = min.Int64()
		}
		if i == 0 || max.Int64() > hi {
			hi = max.Int64()
		}
	}
	return since != 0 && hi < since || until != 0 && lo >= until
}

// pqColumn reads one column chunk page by page.
type pqColumn struct {
	name  string
	leaf  int
	pages parquet.Pages
	page  parquet.Page
	vals  parquet.ValueReader
}

// next moves to the next page of the chunk.
func (c *pqColumn) next() error {
	if c.page != nil {
		parquet.Release(c.page)
		c.page, c.vals = nil, nil
	}
	p, err := c.pages.ReadPage()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("column %s: fewer values than rows", c.name)
		}
		return fmt.Errorf("column %s: %w", c.name, err)
	}
	if p.NumNulls() > 0 {
		parquet.Release(p)
		return fmt.Errorf("column %s: null values (nfcollect writes none)", c.name)
	}
	c.page, c.vals = p, p.Values()
	return nil
}

// fill reads n values with read, which returns how many it read of those
// asked for from the current page's values, moving on from page to page.
func (c *pqColumn) fill(n int, read func(r parquet.ValueReader, off, n int) (int, error)) error {
	for off := 0; off < n; {
		if c.vals == nil {
			if err := c.next(); err != nil {
				return err
			}
		}
		k, err := read(c.vals, off, n-off)
		off += k
		if errors.Is(err, io.EOF) {
			c.vals = nil
			continue
		}
		if err != nil {
			return fmt.Errorf("column %s: %w", c.name, err)
		}
		if k == 0 {
			return fmt.Errorf("column %s: no progress", c.name)
		}
	}
	return nil
}

func (c *pqColumn) close() {
	if c.page != nil {
		parquet.Release(c.page)
	}
	if c.pages != nil {
		c.pages.Close()
	}
	c.page, c.vals, c.pages = nil, nil, nil
}

func (c *pqColumn) int64s(dst []int64) error {
	return c.fill(len(dst), func(r parquet.ValueReader, off, n int) (int, error) {
		if ir, ok := r.(parquet.Int64Reader); ok {
			return ir.ReadInt64s(dst[off : off+n])
		}
		return readValuesAs(r, n, func(i int, v parquet.Value) { dst[off+i] = v.Int64() })
	})
}

func (c *pqColumn) uint64s(dst []uint64) error {
	return c.fill(len(dst), func(r parquet.ValueReader, off, n int) (int, error) {
		switch ur := r.(type) {
		case interface{ ReadUint64s([]uint64) (int, error) }:
			return ur.ReadUint64s(dst[off : off+n])
		case parquet.Int64Reader:
			return ur.ReadInt64s(unsafeInt64s(dst[off : off+n]))
		}
		return readValuesAs(r, n, func(i int, v parquet.Value) { dst[off+i] = v.Uint64() })
	})
}

func (c *pqColumn) uint32s(dst []uint32) error {
	return c.fill(len(dst), func(r parquet.ValueReader, off, n int) (int, error) {
		switch ur := r.(type) {
		case interface{ ReadUint32s([]uint32) (int, error) }:
			return ur.ReadUint32s(dst[off : off+n])
		case parquet.Int32Reader:
			return ur.ReadInt32s(unsafeInt32s(dst[off : off+n]))
		}
		return readValuesAs(r, n, func(i int, v parquet.Value) { dst[off+i] = v.Uint32() })
	})
}

func (c *pqColumn) addrs(dst [][16]byte) error {
	return c.fill(len(dst), func(r parquet.ValueReader, off, n int) (int, error) {
		switch ar := r.(type) {
		case interface{ ReadBE128s([][16]byte) (int, error) }:
			return ar.ReadBE128s(dst[off : off+n])
		case parquet.FixedLenByteArrayReader:
			return ar.ReadFixedLenByteArrays(unsafeBytes(dst[off : off+n]))
		}
		return readValuesAs(r, n, func(i int, v parquet.Value) { copy(dst[off+i][:], v.ByteArray()) })
	})
}

func (c *pqColumn) values(dst []parquet.Value) error {
	return c.fill(len(dst), func(r parquet.ValueReader, off, n int) (int, error) {
		return r.ReadValues(dst[off : off+n])
	})
}

// parquetColumns are the columns the analyzer reads, and a batch of their
// values.
type parquetColumns struct {
	cols []*pqColumn

	typ, samplerAddr, samplerFam, received, start, end      *pqColumn
	bytes, packets, outBytes, outPackets, revBytes, revPkts *pqColumn
	flows, src, srcFam, dst, dstFam, srcPort, dstPort       *pqColumn
	proto, icmpType, icmpCode, srcAS, dstAS, present        *pqColumn
	// The optional fields (filters, flow columns), when the file has them.
	opt    [9]*pqColumn // ip_tos, tcp_flags, src_vlan, dst_vlan, in_if, out_if, src_net, dst_net, direction
	macs   [2]*pqColumn // src_mac, dst_mac
	optU32 [9][]uint32
	macV   [2][]parquet.Value

	typV        []parquet.Value
	typVersion  []uint8
	i64         [3][]int64  // received, start, end
	u64         [8][]uint64 // bytes … flows, present
	u32         [10][]uint32
	addr        [3][][16]byte
	lastType    []byte
	lastVersion uint8
}

func newParquetColumns(s *parquet.Schema) (*parquetColumns, error) {
	c := &parquetColumns{}
	col := func(name string) *pqColumn {
		leaf, ok := s.Lookup(name)
		if !ok {
			return nil
		}
		p := &pqColumn{name: name, leaf: leaf.ColumnIndex}
		c.cols = append(c.cols, p)
		return p
	}
	c.typ, c.received, c.samplerAddr, c.samplerFam = col("type"), col("time_received_ns"), col("sampler_address"), col("sampler_address_family")
	c.start, c.end = col("time_flow_start_ns"), col("time_flow_end_ns")
	c.bytes, c.packets, c.outBytes, c.outPackets = col("bytes"), col("packets"), col("out_bytes"), col("out_packets")
	c.revBytes, c.revPkts, c.flows = col("rev_bytes"), col("rev_packets"), col("flows")
	c.src, c.srcFam, c.dst, c.dstFam = col("src_addr"), col("src_addr_family"), col("dst_addr"), col("dst_addr_family")
	c.srcPort, c.dstPort, c.proto = col("src_port"), col("dst_port"), col("proto")
	c.icmpType, c.icmpCode, c.srcAS, c.dstAS = col("icmp_type"), col("icmp_code"), col("src_as"), col("dst_as")
	c.present = col("present")
	for i, name := range []string{"ip_tos", "tcp_flags", "src_vlan", "dst_vlan", "in_if", "out_if", "src_net", "dst_net", "direction"} {
		c.opt[i] = col(name)
		c.optU32[i] = make([]uint32, parquetBatch)
	}
	for i, name := range []string{"src_mac", "dst_mac"} {
		c.macs[i] = col(name)
		c.macV[i] = make([]parquet.Value, parquetBatch)
	}
	names := []string{"type", "time_received_ns", "sampler_address", "sampler_address_family", "time_flow_start_ns",
		"time_flow_end_ns", "bytes", "packets", "out_bytes", "out_packets", "rev_bytes", "rev_packets", "flows",
		"src_addr", "src_addr_family", "dst_addr", "dst_addr_family", "src_port", "dst_port", "proto",
		"icmp_type", "icmp_code", "src_as", "dst_as", "present"}
	for _, name := range names {
		if _, ok := s.Lookup(name); !ok {
			return nil, fmt.Errorf("no column %s", name)
		}
	}
	c.typV = make([]parquet.Value, parquetBatch)
	c.typVersion = make([]uint8, parquetBatch)
	for i := range c.i64 {
		c.i64[i] = make([]int64, parquetBatch)
	}
	for i := range c.u64 {
		c.u64[i] = make([]uint64, parquetBatch)
	}
	for i := range c.u32 {
		c.u32[i] = make([]uint32, parquetBatch)
	}
	for i := range c.addr {
		c.addr[i] = make([][16]byte, parquetBatch)
	}
	return c, nil
}

// begin starts reading a row group.
func (c *parquetColumns) begin(rg parquet.RowGroup) {
	chunks := rg.ColumnChunks()
	for _, p := range c.cols {
		p.close()
		p.pages = chunks[p.leaf].Pages()
	}
}

// unaddressed returns the number of rows of the row group that lack a
// source or destination address, and of those the sFlow records (passed
// over, isNotIP), reading only the presence bits and the types; the others
// are reported as bad lines would be (the group's first row is line+1).
func (c *parquetColumns) unaddressed(rg parquet.RowGroup, in *inputState, line int64) (bad, notIP int64, err error) {
	for _, p := range []*pqColumn{c.present, c.typ} {
		p.close()
		p.pages = rg.ColumnChunks()[p.leaf].Pages()
	}
	buf := c.u64[7]
	for left := rg.NumRows(); left > 0; {
		n := int(min(left, parquetBatch))
		if err := c.present.uint64s(buf[:n]); err != nil {
			return 0, 0, err
		}
		if err := c.typ.values(c.typV[:n]); err != nil {
			return 0, 0, err
		}
		for i, bits := range buf[:n] {
			if bits&flowparquet.HasSrcAddr == 0 || bits&flowparquet.HasDstAddr == 0 {
				if v := versionOf(c.typV[i].ByteArray()); v == 105 || v == 106 {
					notIP++
				} else {
					bad++
					missing := "dst_addr"
					if bits&flowparquet.HasSrcAddr == 0 {
						missing = "src_addr"
					}
					in.msg(line+int64(i)+1, "%v, row skipped", &missingError{missing})
				}
			}
		}
		line += int64(n)
		left -= int64(n)
	}
	return bad, notIP, nil
}

// read reads the next n rows of every column.
func (c *parquetColumns) read(n int) error {
	if err := c.typ.values(c.typV[:n]); err != nil {
		return err
	}
	for i, v := range c.typV[:n] {
		b := v.ByteArray()
		if !bytes.Equal(b, c.lastType) || c.lastType == nil {
			c.lastType = append(c.lastType[:0], b...)
			c.lastVersion = versionOf(b)
		}
		c.typVersion[i] = c.lastVersion
	}
	for i, p := range []*pqColumn{c.received, c.start, c.end} {
		if err := p.int64s(c.i64[i][:n]); err != nil {
			return err
		}
	}
	for i, p := range []*pqColumn{c.bytes, c.packets, c.outBytes, c.outPackets, c.revBytes, c.revPkts, c.flows, c.present} {
		if err := p.uint64s(c.u64[i][:n]); err != nil {
			return err
		}
	}
	for i, p := range []*pqColumn{c.samplerFam, c.srcFam, c.dstFam, c.srcPort, c.dstPort, c.proto, c.icmpType, c.icmpCode, c.srcAS, c.dstAS} {
		if err := p.uint32s(c.u32[i][:n]); err != nil {
			return err
		}
	}
	for i, p := range []*pqColumn{c.samplerAddr, c.src, c.dst} {
		if err := p.addrs(c.addr[i][:n]); err != nil {
			return err
		}
	}
	for i, p := range c.opt {
		if p == nil {
			clear(c.optU32[i][:n])
		} else if err := p.uint32s(c.optU32[i][:n]); err != nil {
			return err
		}
	}
	for i, p := range c.macs {
		if p == nil {
			clear(c.macV[i][:n])
		} else if err := p.values(c.macV[i][:n]); err != nil {
			return err
		}
	}
	return nil
}

// row sets r from row i of the batch.
func (c *parquetColumns) row(i int, r *parquetRow) {
	r.Version = c.typVersion[i]
	r.TimeReceived, r.Start, r.End = c.i64[0][i], c.i64[1][i], c.i64[2][i]
	r.Bytes, r.Packets, r.OutBytes, r.OutPackets = c.u64[0][i], c.u64[1][i], c.u64[2][i], c.u64[3][i]
	r.RevBytes, r.RevPackets, r.Flows, r.Present = c.u64[4][i], c.u64[5][i], c.u64[6][i], c.u64[7][i]
	r.SamplerAddressFamily, r.SrcAddrFamily, r.DstAddrFamily = uint8(c.u32[0][i]), uint8(c.u32[1][i]), uint8(c.u32[2][i])
	r.SrcPort, r.DstPort, r.Proto = uint16(c.u32[3][i]), uint16(c.u32[4][i]), uint8(c.u32[5][i])
	r.ICMPType, r.ICMPCode, r.SrcAS, r.DstAS = uint8(c.u32[6][i]), uint8(c.u32[7][i]), c.u32[8][i], c.u32[9][i]
	r.SamplerAddress, r.SrcAddr, r.DstAddr = c.addr[0][i], c.addr[1][i], c.addr[2][i]
	r.TOS, r.TCPFlags, r.SrcVLAN, r.DstVLAN = uint8(c.optU32[0][i]), uint16(c.optU32[1][i]), uint16(c.optU32[2][i]), uint16(c.optU32[3][i])
	r.InIf, r.OutIf, r.SrcMask, r.DstMask, r.Direction = c.optU32[4][i], c.optU32[5][i], uint8(c.optU32[6][i]), uint8(c.optU32[7][i]), uint8(c.optU32[8][i])
	for k, v := range c.macV {
		var m uint64
		if b := v[i].ByteArray(); len(b) == 6 {
			m = uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(b[4])<<8 | uint64(b[5])
		}
		r.MACs[k] = m
	}
}

// parquetRow is one row of the columns the analyzer reads (the export
// version for the type).
type parquetRow struct {
	Version              uint8
	TimeReceived         int64    `parquet:"time_received_ns,timestamp(nanosecond)"`
	SamplerAddress       [16]byte `parquet:"sampler_address"`
	SamplerAddressFamily uint8    `parquet:"sampler_address_family"`
	Start                int64    `parquet:"time_flow_start_ns,timestamp(nanosecond)"`
	End                  int64    `parquet:"time_flow_end_ns,timestamp(nanosecond)"`
	Bytes                uint64   `parquet:"bytes"`
	Packets              uint64   `parquet:"packets"`
	OutBytes             uint64   `parquet:"out_bytes"`
	OutPackets           uint64   `parquet:"out_packets"`
	RevBytes             uint64   `parquet:"rev_bytes"`
	RevPackets           uint64   `parquet:"rev_packets"`
	Flows                uint64   `parquet:"flows"`
	SrcAddr              [16]byte `parquet:"src_addr"`
	SrcAddrFamily        uint8    `parquet:"src_addr_family"`
	DstAddr              [16]byte `parquet:"dst_addr"`
	DstAddrFamily        uint8    `parquet:"dst_addr_family"`
	SrcPort              uint16   `parquet:"src_port"`
	DstPort              uint16   `parquet:"dst_port"`
	Proto                uint8    `parquet:"proto"`
	ICMPType             uint8    `parquet:"icmp_type"`
	ICMPCode             uint8    `parquet:"icmp_code"`
	SrcAS                uint32   `parquet:"src_as"`
	DstAS                uint32   `parquet:"dst_as"`
	Present              uint64   `parquet:"present"`

	TOS              uint8
	TCPFlags         uint16
	SrcVLAN, DstVLAN uint16
	InIf, OutIf      uint32
	SrcMask, DstMask uint8
	Direction        uint8
	MACs             [2]uint64
}

// parquetAddr returns the address of a 16-byte column and its family.
func parquetAddr(b *[16]byte, family uint8) netip.Addr {
	a := netip.AddrFrom16(*b)
	if family == 4 {
		return a.Unmap()
	}
	return a
}

// parquetFlow makes f from a row as finish makes it from a JSON line.
func parquetFlow(r *parquetRow, f *Flow) error {
	p := r.Present
	*f = Flow{}
	if p&flowparquet.HasSrcAddr == 0 {
		return &missingError{"src_addr"}
	}
	if p&flowparquet.HasDstAddr == 0 {
		return &missingError{"dst_addr"}
	}
	f.Src = parquetAddr(&r.SrcAddr, r.SrcAddrFamily)
	f.Dst = parquetAddr(&r.DstAddr, r.DstAddrFamily)
	if p&flowparquet.HasSamplerAddress != 0 {
		f.Exporter = parquetAddr(&r.SamplerAddress, r.SamplerAddressFamily)
	}
	f.Version = r.Version
	f.Received = r.TimeReceived
	f.Start, f.End = r.Start, r.End
	if p&flowparquet.HasStart != 0 {
		f.Flags |= flowHasStart
	}
	if p&flowparquet.HasEnd != 0 {
		f.Flags |= flowHasEnd
	}
	// bytes wins over out_bytes, and packets over out_packets unless packets is 0.
	f.Bytes = r.Bytes
	if p&flowparquet.HasBytes == 0 {
		f.Bytes = r.OutBytes
	}
	f.Packets = r.Packets
	if f.Packets == 0 && p&flowparquet.HasOutPackets != 0 {
		f.Packets = r.OutPackets
	}
	if p&(flowparquet.HasRevBytes|flowparquet.HasRevPackets) != 0 {
		f.Flags |= flowBiflow
	}
	f.RevBytes, f.RevPackets = r.RevBytes, r.RevPackets
	f.Flows = r.Flows
	f.SrcPort, f.DstPort, f.Proto = r.SrcPort, r.DstPort, r.Proto
	f.SrcAS, f.DstAS = r.SrcAS, r.DstAS
	if p&flowparquet.HasICMPType != 0 && f.SrcPort == 0 && f.DstPort == 0 {
		f.DstPort = uint16(r.ICMPType)<<8 | uint16(r.ICMPCode)
	}
	f.TOS, f.TCPFlags, f.SrcVLAN, f.DstVLAN = r.TOS, r.TCPFlags, r.SrcVLAN, r.DstVLAN
	f.InIf, f.OutIf, f.SrcMask, f.DstMask, f.Direction = r.InIf, r.OutIf, r.SrcMask, r.DstMask, r.Direction
	f.SrcMAC, f.DstMAC = r.MACs[0], r.MACs[1]
	f.fixTimes()
	return nil
}

// The unsigned columns are stored as their signed physical types; these
// view a slice as the other without copying.
func unsafeInt64s(s []uint64) []int64 {
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
func unsafeInt32s(s []uint32) []int32 {
	return unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
func unsafeBytes(s [][16]byte) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), 16*len(s))
}
