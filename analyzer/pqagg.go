package analyzer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"unsafe"

	"github.com/nfkit/nfkit/flowparquet"
)

// readParquetFast reads a Parquet file with the fast reader. It reports
// false when the file is one for the general reader (nothing was counted
// then).
func (a *run) readParquetFast(in *inputState, f *os.File, size int64) bool {
	if !littleEndian {
		return false // the fast reader views little-endian values in place
	}
	p := a.pq
	if p == nil {
		p = &pqFile{}
		a.pq = p
	}
	defer p.dec.close()
	agg := a.aggMode()
	var use [pcN]bool
	rowCols := !agg
	var fcols [pcN]bool
	if agg && a.cfg.Filter.n != nil {
		// The filter over the columns it looks at, where it looks at
		// addresses, ports, protocols, AS numbers, exporters and times
		// only; else over whole Flows.
		var ok bool
		fcols, ok = filterColumns(a.cfg.Filter.n)
		rowCols = !ok
	}
	for c := range pcN {
		act := pqSpecs[c].act
		switch {
		case c == pcPresent || c == pcType:
			use[c] = true
		case rowCols && act == 0:
			use[c] = true
		case rowCols:
			use[c] = a.scanner.skip&(1<<act) == 0
		}
	}
	p.filterCols = agg && a.cfg.Filter.n != nil && !rowCols
	if agg {
		for _, c := range []int{pcBytes, pcPackets, pcOutBytes, pcOutPackets, pcRevBytes, pcRevPackets, pcFlows} {
			use[c] = true
		}
		for c := range pcN {
			use[c] = use[c] || fcols[c]
		}
		for _, t := range a.stats {
			switch statKinds[t.key] {
			case kindSrc:
				use[pcSrc] = true
			case kindDst:
				use[pcDst] = true
			case kindProto:
				use[pcProto] = true
			default: // ports, as finish makes them for ICMP
				use[pcSrcPort], use[pcDstPort], use[pcICMPType], use[pcICMPCode] = true, true, true, true
			}
		}
		if a.timeline != nil {
			use[pcStart], use[pcEnd], use[pcReceived] = true, true, true
		}
	}
	p.optional, p.version = false, a.scanner.skip&(1<<actType) == 0
	for c := pcTOS; c < pcN; c++ {
		if use[c] {
			p.optional = true
		}
	}
	err := pqOpen(p, f, size, &use)
	if why, ok := err.(*errPqGeneral); ok {
		if err = p.checkGeneral(); err == nil {
			for _, c := range []int{pcReceived, pcStart, pcEnd} {
				if p.timeUnit(c) > 1 && err == nil {
					err = fmt.Errorf("%v, and the general reader takes times in nanoseconds only (column %s is in %s)",
						why, pqSpecs[c].name, map[int64]string{1e3: "microseconds", 1e6: "milliseconds"}[p.timeUnit(c)])
				}
			}
		}
		if err == nil {
			if a.cfg.Verbose {
				in.msg(0, "read by the general Parquet reader: %v", why)
			}
			return false
		}
	}
	in.lr = &lineReader{}
	if err != nil {
		in.broken = true
		in.msg(0, "not a readable Parquet file (%v)", err)
		return true
	}
	var ag *pqAggregator
	if agg {
		ag = a.pqAgg()
		defer ag.flush(a)
		if !rowCols {
			// The type only for rows without addresses; addresses counted
			// by their dictionary index where they have one (and the
			// filter does not look at them).
			p.lazy[pcType] = true
			for _, c := range ag.keyCol {
				if c >= 0 {
					p.keyed[c] = !fcols[c]
				}
			}
		}
		if a.timeline != nil && !rowCols && !fcols[pcStart] {
			// A flow's start is its start time unless it has none.
			p.lazy[pcEnd], p.lazy[pcReceived] = true, true
		}
	}
	if mem := mapFile(f, size); mem != nil {
		p.mem = mem
		defer func() {
			p.mem = nil
			for c := range p.cols {
				p.cols[c].chunk, p.cols[c].plain, p.view[c] = nil, nil, nil
			}
			unmapFile(mem)
		}()
	}
	err = a.pqGroups(in, p, ag)
	if ag != nil {
		ag.foldAll(p)
	}
	if err != nil {
		in.broken = true
		in.msg(in.lr.line, "reading the Parquet file: %v; the rest of the file is skipped", err)
	}
	return true
}

var errShrank = errors.New("the file shrank while it was read")

// pqGroups reads the row groups of the file. A fault in the file's mapping
// (the file shrank) is an error.
func (a *run) pqGroups(in *inputState, p *pqFile, ag *pqAggregator) (err error) {
	if mem := p.mem; mem != nil {
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		defer func() {
			if r := recover(); r != nil {
				e, ok := r.(interface{ Addr() uintptr })
				base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
				if !ok || e.Addr() < base || e.Addr()-base >= uintptr(len(mem)) {
					panic(r)
				}
				err = errShrank
			}
		}()
	}
	since, until := a.cfg.Filter.timeRange()
	for g := range p.meta.groups {
		if err := p.meta.parseGroup(g, &p.group, len(p.leaves)); err != nil {
			return fmt.Errorf("footer: %w", err)
		}
		rows := p.group.numRows
		if a.pairer == nil && (p.outsideTime(since, until) || !a.cfg.Filter.mayMatchAddrs(p)) {
			// No flow of the row group can match: statistics and
			// timelines count only matching flows (connections pair
			// with the others, so they read everything). Counted as
			// reading them would: rows without addresses as skipped
			// lines, the others as flows.
			bad, notIP, err := p.unaddressed(in, in.lr.line)
			p.release()
			if err != nil {
				return err
			}
			a.sum.Lines += rows
			a.sum.SkippedLines += bad
			a.sum.Flows += rows - bad - notIP
			in.lr.line += rows
			a.parquetSkipped += rows
			continue
		}
		if err := p.beginGroup(g); err != nil {
			return err
		}
		for left := rows; left > 0; {
			n, err := p.read(int(min(left, pqBatch)))
			if err != nil {
				return err
			}
			if ag != nil {
				if err := ag.batch(a, in, p, n); err != nil {
					return err
				}
			} else {
				for i := range n {
					in.lr.line++
					a.sum.Lines++
					if err := p.flow(i, &a.flow); err != nil {
						if !p.notIP(i) {
							a.sum.SkippedLines++
							in.msg(in.lr.line, "%v, row skipped", err)
						}
						continue
					}
					a.handle(&a.flow)
					if a.stop || a.stopFile {
						a.stopFile = false
						return nil
					}
				}
			}
			a.flowsSeen.Store(a.sum.Flows)
			left -= int64(n)
		}
		if ag != nil {
			ag.foldAll(p) // while the dictionaries are there
		}
		p.release()
	}
	return nil
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// aggMode reports whether the run's views are counted by column batches:
// statistics by source or destination address, and timelines.
func (a *run) aggMode() bool {
	if a.pairer != nil || a.flowView != nil || a.html != nil || a.recvEnd != 0 && a.inRotated {
		return false
	}
	if len(a.stats) == 0 && a.timeline == nil {
		return false
	}
	for _, t := range a.stats {
		if _, ok := statKinds[t.key]; !ok {
			return false
		}
	}
	return true
}

// statKind is how the column batches count a statistic: by address, or by
// a small number in an array.
type statKind uint8

const (
	kindSrc statKind = iota
	kindDst
	kindSrcPort
	kindDstPort
	kindPort
	kindProto
)

// statKinds are the statistics counted by column batches.
var statKinds = map[string]statKind{"src": kindSrc, "dst": kindDst, "srcport": kindSrcPort, "dstport": kindDstPort, "port": kindPort, "proto": kindProto}

// pqAggregator counts a file's flows for statistics by address and
// timelines, by column batches.
type pqAggregator struct {
	tables []*addrTable // by stat table: the sums by address (src, dst)
	keyCol []int        // by stat table: the address column, or -1
	kinds  []statKind   // by stat table
	small  [][]dictAgg  // by stat table: the sums by port or protocol
	total  statAgg

	mf, mp, mb []uint64 // the batch's flows, packets and bytes per row
	starts     []int64
	sel        []int32 // the rows with both addresses, when some lack one
	match      []int32 // the rows that pass the filter

	lastBucket int64
	last       *statAgg

	dicts  [][]dictAgg // by table: sums by dictionary index of the current chunk
	dictOf []*pqCol    // by table: the column whose dictionary dicts index, or nil
}

func (a *run) pqAgg() *pqAggregator {
	if a.pqag == nil {
		ag := &pqAggregator{mf: make([]uint64, pqBatch), mp: make([]uint64, pqBatch), mb: make([]uint64, pqBatch),
			starts: make([]int64, pqBatch), sel: make([]int32, 0, pqBatch), match: make([]int32, 0, pqBatch)}
		for _, t := range a.stats {
			kind := statKinds[t.key]
			ag.kinds = append(ag.kinds, kind)
			ag.dicts = append(ag.dicts, nil)
			ag.dictOf = append(ag.dictOf, nil)
			ag.tables = append(ag.tables, newAddrTable())
			col := -1
			var small []dictAgg
			switch kind {
			case kindSrc:
				col = pcSrc
			case kindDst:
				col = pcDst
			case kindProto:
				small = make([]dictAgg, 256)
			default:
				small = make([]dictAgg, 1<<16)
			}
			ag.keyCol = append(ag.keyCol, col)
			ag.small = append(ag.small, small)
		}
		a.pqag = ag
	}
	a.pqag.last = nil
	return a.pqag
}

// batch counts n rows of the batch.
func (ag *pqAggregator) batch(a *run, in *inputState, p *pqFile, n int) error {
	if a.cfg.Filter.n != nil && !p.filterCols {
		return ag.rows(a, in, p, n)
	}
	pres := p.u64(pcPresent)[:n]
	const both = flowparquet.HasSrcAddr | flowparquet.HasDstAddr
	all := ^uint64(0)
	for _, pr := range pres {
		all &= pr
	}
	// Rows without both addresses are bad lines, as in JSON; sel lists the
	// others when there are such rows.
	var sel []int32
	if all&both != both {
		if err := p.need(pcType, n); err != nil {
			return err
		}
		sel = ag.sel[:0]
		for i, pr := range pres {
			switch {
			case pr&both != both && p.notIP(i):
			case pr&flowparquet.HasSrcAddr == 0:
				a.sum.SkippedLines++
				in.msg(in.lr.line+int64(i)+1, "%v, row skipped", &missingError{"src_addr"})
			case pr&flowparquet.HasDstAddr == 0:
				a.sum.SkippedLines++
				in.msg(in.lr.line+int64(i)+1, "%v, row skipped", &missingError{"dst_addr"})
			default:
				sel = append(sel, int32(i))
			}
		}
		ag.sel = sel
	} else if err := p.passIfLazy(pcType, n); err != nil {
		return err
	}
	good := int64(n)
	if sel != nil {
		good = int64(len(sel))
	}
	in.lr.line += int64(n)
	a.sum.Lines += int64(n)
	a.sum.Flows += good
	if fl := &a.cfg.Filter; fl.n != nil {
		// The filter over Flows of the columns it looks at; sel becomes
		// the matching rows.
		m := ag.match[:0]
		f := &a.flow
		if sel == nil {
			for i := range n {
				if p.filterFlow(i, f); fl.Match(f) {
					m = append(m, int32(i))
				}
			}
		} else {
			for _, i := range sel {
				if p.filterFlow(int(i), f); fl.Match(f) {
					m = append(m, i)
				}
			}
		}
		ag.match, sel = m, m
		good = int64(len(m))
	}
	a.sum.Matched += good
	mf, mp, mb := ag.mf[:n], ag.mp[:n], ag.mb[:n]
	bytes, pkts := p.u64(pcBytes)[:n], p.u64(pcPackets)[:n]
	zero := func(c int) bool { return p.cols[c].konst && binary.LittleEndian.Uint64(p.cols[c].kval[:]) == 0 }
	if zero(pcOutBytes) && zero(pcOutPackets) && zero(pcRevBytes) && zero(pcRevPackets) && p.cols[pcFlows].konst {
		// No out_, rev_ counters and one flow count (the usual file):
		// the counters as they are.
		fl := binary.LittleEndian.Uint64(p.cols[pcFlows].kval[:])
		if fl == 0 {
			fl = 1
		}
		for i, pr := range pres {
			by := bytes[i]
			if pr&flowparquet.HasBytes == 0 {
				by = 0
			}
			mf[i], mp[i], mb[i] = fl, pkts[i], by
		}
	} else {
		outB, revB := p.u64(pcOutBytes)[:n], p.u64(pcRevBytes)[:n]
		outP, revP := p.u64(pcOutPackets)[:n], p.u64(pcRevPackets)[:n]
		flows := p.u64(pcFlows)[:n]
		for i, pr := range pres {
			// As finish: bytes wins over out_bytes, and packets over
			// out_packets unless packets is 0; no flow count means 1.
			by := bytes[i]
			if pr&flowparquet.HasBytes == 0 {
				by = outB[i]
			}
			pk := pkts[i]
			if pk == 0 && pr&flowparquet.HasOutPackets != 0 {
				pk = outP[i]
			}
			fl := flows[i]
			if fl == 0 {
				fl = 1
			}
			mf[i], mp[i], mb[i] = fl, pk+revP[i], by+revB[i]
		}
	}
	var tf, tp, tb uint64
	if sel == nil {
		for i := range mf {
			tf += mf[i]
			tp += mp[i]
			tb += mb[i]
		}
	} else {
		for _, i := range sel {
			tf += mf[i]
			tp += mp[i]
			tb += mb[i]
		}
	}
	ag.total.flows += tf
	ag.total.packets += tp
	ag.total.bytes += tb
	for k, t := range ag.tables {
		if ag.keyCol[k] < 0 {
			ag.addSmall(k, p, n, sel)
			continue
		}
		if idx := p.idx[ag.keyCol[k]]; idx != nil {
			ag.addIndexed(k, p, idx, sel)
			continue
		}
		keys := p.addr(ag.keyCol[k])[:n]
		if sel == nil {
			for i := range keys {
				t.add(&keys[i], mf[i], mp[i], mb[i])
			}
		} else {
			for _, i := range sel {
				t.add(&keys[i], mf[i], mp[i], mb[i])
			}
		}
	}
	if tl := a.timeline; tl != nil {
		starts := ag.starts[:n]
		copy(starts, p.i64(pcStart)[:n])
		if all&flowparquet.HasStart == 0 {
			// Some flows have no start: their end, else their receive
			// time, as fixTimes makes it.
			if err := p.need(pcEnd, n); err != nil {
				return err
			}
			if err := p.need(pcReceived, n); err != nil {
				return err
			}
			end, recv := p.i64(pcEnd)[:n], p.i64(pcReceived)[:n]
			for i, pr := range pres {
				switch {
				case pr&flowparquet.HasStart != 0:
				case pr&flowparquet.HasEnd != 0:
					starts[i] = end[i]
				default:
					starts[i] = recv[i]
				}
			}
		} else if err := ag.passLazy(p, n); err != nil {
			return err
		}
		if sel == nil {
			for i, s := range starts {
				x := ag.bucket(tl, s)
				x.flows += mf[i]
				x.packets += mp[i]
				x.bytes += mb[i]
			}
		} else {
			for _, i := range sel {
				x := ag.bucket(tl, starts[i])
				x.flows += mf[i]
				x.packets += mp[i]
				x.bytes += mb[i]
			}
		}
	}
	return nil
}

// dictAgg is what the flows of a dictionary entry add up to in a chunk.
type dictAgg struct {
	statAgg
	rows uint64
}

// addIndexed counts the batch by the dictionary indices of table k's key
// column: an array by index instead of a hash table by address. fold adds
// them to the table when the chunk (and its dictionary) ends.
func (ag *pqAggregator) addIndexed(k int, p *pqFile, idx []uint32, sel []int32) {
	col := &p.cols[ag.keyCol[k]]
	d := ag.dicts[k]
	if len(d) < col.dictN {
		ag.fold(k, p)
		d = make([]dictAgg, col.dictN)
		ag.dicts[k] = d
	}
	d = d[:col.dictN]
	ag.dictOf[k] = col
	mf, mp, mb := ag.mf, ag.mp, ag.mb
	if sel == nil {
		for i, x := range idx {
			e := &d[x]
			e.flows += mf[i]
			e.packets += mp[i]
			e.bytes += mb[i]
			e.rows++
		}
		return
	}
	for _, i := range sel {
		e := &d[idx[i]]
		e.flows += mf[i]
		e.packets += mp[i]
		e.bytes += mb[i]
		e.rows++
	}
}

func (e *dictAgg) add(fl, pk, by uint64) {
	e.flows += fl
	e.packets += pk
	e.bytes += by
	e.rows++
}

// addSmall counts the batch by port or protocol (table k), the ports as
// finish makes them: an ICMP flow without ports has type<<8|code as its
// destination port.
func (ag *pqAggregator) addSmall(k int, p *pqFile, n int, sel []int32) {
	d := ag.small[k]
	mf, mp, mb := ag.mf, ag.mp, ag.mb
	if ag.kinds[k] == kindProto {
		proto := p.u32(pcProto)[:n]
		if sel == nil {
			for i, x := range proto {
				d[uint8(x)].add(mf[i], mp[i], mb[i])
			}
		} else {
			for _, i := range sel {
				d[uint8(proto[i])].add(mf[i], mp[i], mb[i])
			}
		}
		return
	}
	pres := p.u64(pcPresent)[:n]
	sp, dp := p.u32(pcSrcPort)[:n], p.u32(pcDstPort)[:n]
	it, ic := p.u32(pcICMPType)[:n], p.u32(pcICMPCode)[:n]
	one := func(i int) {
		s, t := uint16(sp[i]), uint16(dp[i])
		if pres[i]&flowparquet.HasICMPType != 0 && s == 0 && t == 0 {
			t = uint16(it[i])<<8 | uint16(ic[i]&0xff)
		}
		switch ag.kinds[k] {
		case kindSrcPort:
			d[s].add(mf[i], mp[i], mb[i])
		case kindDstPort:
			d[t].add(mf[i], mp[i], mb[i])
		default:
			d[s].add(mf[i], mp[i], mb[i])
			if t != s {
				d[t].add(mf[i], mp[i], mb[i])
			}
		}
	}
	if sel == nil {
		for i := range n {
			one(i)
		}
	} else {
		for _, i := range sel {
			one(int(i))
		}
	}
}

// fold adds the sums by dictionary index to the tables, while the
// dictionaries are those the indices refer to (before a new chunk).
func (ag *pqAggregator) fold(k int, p *pqFile) {
	col := ag.dictOf[k]
	if col == nil {
		return
	}
	d := ag.dicts[k][:col.dictN]
	keys := unsafe.Slice((*[16]byte)(unsafe.Pointer(unsafe.SliceData(col.dict))), col.dictN)
	for j := range d {
		if e := &d[j]; e.rows > 0 {
			ag.tables[k].add(&keys[j], e.flows, e.packets, e.bytes)
			*e = dictAgg{}
		}
	}
	ag.dictOf[k] = nil
}

// foldAll folds every table's sums by dictionary index.
func (ag *pqAggregator) foldAll(p *pqFile) {
	for k := range ag.tables {
		ag.fold(k, p)
	}
}

// passLazy passes over the batch's values of the lazy time columns.
func (ag *pqAggregator) passLazy(p *pqFile, n int) error {
	for _, c := range []int{pcEnd, pcReceived} {
		if err := p.passIfLazy(c, n); err != nil {
			return err
		}
	}
	return nil
}

// rows counts the batch row by row, with a Flow for the filter (the run
// reads the columns of a Flow then, and none lazily).
func (ag *pqAggregator) rows(a *run, in *inputState, p *pqFile, n int) error {
	for i := range n {
		in.lr.line++
		a.sum.Lines++
		f := &a.flow
		if err := p.flow(i, f); err != nil {
			if !p.notIP(i) {
				a.sum.SkippedLines++
				in.msg(in.lr.line, "%v, row skipped", err)
			}
			continue
		}
		a.sum.Flows++
		if !a.cfg.Filter.Match(f) {
			continue
		}
		a.sum.Matched++
		fl, pk, by := f.Flows, f.Packets+f.RevPackets, f.Bytes+f.RevBytes
		ag.total.flows += fl
		ag.total.packets += pk
		ag.total.bytes += by
		for k, t := range ag.tables {
			switch ag.kinds[k] {
			case kindSrc, kindDst:
				t.add(&p.addr(ag.keyCol[k])[i], fl, pk, by)
			case kindProto:
				ag.small[k][f.Proto].add(fl, pk, by)
			case kindSrcPort:
				ag.small[k][f.SrcPort].add(fl, pk, by)
			case kindDstPort:
				ag.small[k][f.DstPort].add(fl, pk, by)
			case kindPort:
				ag.small[k][f.SrcPort].add(fl, pk, by)
				if f.DstPort != f.SrcPort {
					ag.small[k][f.DstPort].add(fl, pk, by)
				}
			}
		}
		if a.timeline != nil {
			ag.bucket(a.timeline, f.Start).addAgg(statAgg{fl, pk, by})
		}
	}
	return nil
}

// bucket returns the timeline's sums for flows starting at start.
func (ag *pqAggregator) bucket(tl *timeline, start int64) *statAgg {
	iv := tl.interval
	b := start - ((start%iv)+iv)%iv
	if ag.last == nil || b != ag.lastBucket {
		ag.last, ag.lastBucket = tl.bucket(b), b
	}
	return ag.last
}

// flush adds what the file counted to the run's statistics.
func (ag *pqAggregator) flush(a *run) {
	for k, t := range a.stats {
		t.total.addAgg(ag.total)
		at := ag.tables[k]
		var f Flow
		for i := range at.slots {
			if e := &at.slots[i]; e.used {
				f.Src = pqAddr(&e.key)
				f.Dst = f.Src
				t.addAgg(&f, e.agg)
			}
		}
		at.reset()
		for j := range ag.small[k] {
			e := &ag.small[k][j]
			if e.rows == 0 {
				continue
			}
			// A flow with the key in every field the statistic looks at:
			// one key each (for "port" too, source and destination equal).
			f := Flow{Proto: uint8(j), SrcPort: uint16(j), DstPort: uint16(j)}
			t.addAgg(&f, e.statAgg)
			*e = dictAgg{}
		}
	}
	ag.total = statAgg{}
	ag.last = nil
}

// addrTable sums flows by a 16-byte address: open addressing with linear
// probing over entries that hold key and sums together (one cache line),
// the table at most half full.
type addrTable struct {
	slots []addrEntry
	n     int
}

type addrEntry struct {
	key  [16]byte
	agg  statAgg
	used bool
}

func newAddrTable() *addrTable { return &addrTable{slots: make([]addrEntry, 1024)} }

func (t *addrTable) reset() {
	clear(t.slots)
	t.n = 0
}

func addrHash(k *[16]byte) uint64 {
	h := binary.LittleEndian.Uint64(k[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(k[8:])
	h ^= h >> 32
	h *= 0xff51afd7ed558ccd
	return h ^ h>>29
}

func (t *addrTable) add(k *[16]byte, fl, pk, by uint64) { t.addHashed(k, addrHash(k), fl, pk, by) }

func (t *addrTable) addHashed(k *[16]byte, h, fl, pk, by uint64) {
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := &t.slots[i]
		if !e.used {
			*e = addrEntry{key: *k, agg: statAgg{fl, pk, by}, used: true}
			t.n++
			if 2*t.n > len(t.slots) {
				t.grow()
			}
			return
		}
		if e.key == *k {
			e.agg.flows += fl
			e.agg.packets += pk
			e.agg.bytes += by
			return
		}
	}
}

func (t *addrTable) grow() {
	old := t.slots
	t.slots = make([]addrEntry, 2*len(old))
	mask := uint64(len(t.slots) - 1)
	for j := range old {
		if !old[j].used {
			continue
		}
		i := addrHash(&old[j].key) & mask
		for t.slots[i].used {
			i = (i + 1) & mask
		}
		t.slots[i] = old[j]
	}
}
