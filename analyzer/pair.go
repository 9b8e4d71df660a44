package analyzer

// The pairer turns flows into connections in three bounded stages:
//
//  1. reorder: flows enter in file order, which is roughly the order the exporter
//     sent them (flow end), and leave in start-time order once they are older than
//     the newest start seen minus the window;
//  2. pair: in start order, a flow whose reversed 5-tuple has a pending flow that
//     overlaps it in time (within the tolerance) is merged with it; a pending flow
//     whose end plus the tolerance is older than the current start can no longer
//     be matched and leaves as a one-way flow. Memory is bounded by the flows alive
//     at one time, not by the input;
//  3. sort: connections leave in start order once no pending flow or future flow
//     can produce an earlier one.
//
// Each stage also has a hard cap on the flows it holds; past it the oldest flow is
// let through early (counted as late).
//
// Stages 1 and 3 are calendar queues (calQueue): a flow is appended to the bucket
// of its start time and read back in order when its bucket comes up, rather than
// sifted through a binary heap of every flow in the window.

// heapItem orders by key, then by arrival sequence (so output is stable).
type heapItem struct {
	key int64
	seq uint64
	idx int32
	gen uint32
}

type itemHeap []heapItem

func (h itemHeap) less(i, j int) bool {
	return h[i].key < h[j].key || h[i].key == h[j].key && h[i].seq < h[j].seq
}

func (h *itemHeap) push(it heapItem) {
	*h = append(*h, it)
	s := *h
	i := len(s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !s.less(i, p) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *itemHeap) pop() heapItem {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s.less(r, l) {
			m = r
		}
		if !s.less(m, i) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// slab stores values with stable int32 indices and a free list.
type slab[T any] struct {
	v    []T
	gen  []uint32
	free []int32
}

func (s *slab[T]) alloc() int32 {
	if n := len(s.free); n > 0 {
		i := s.free[n-1]
		s.free = s.free[:n-1]
		return i
	}
	var zero T
	s.v = append(s.v, zero)
	s.gen = append(s.gen, 0)
	return int32(len(s.v) - 1)
}

func (s *slab[T]) release(i int32) {
	s.gen[i]++
	s.free = append(s.free, i)
}

// pendRef refers to a pending flow: its slab index and generation.
type pendRef struct {
	idx int32
	gen uint32
}

// youngRef is a young pending flow: its end, the clock when it went pending,
// and the flow.
type youngRef struct {
	end, clock int64
	ref        pendRef
}

type pending struct {
	f    Flow
	key  pendKey // f's 5-tuple
	next int32   // next flow with the same tuple, -1 ends
}

// pairerLimits bound memory; see the package doc in USAGE.md.
const (
	defaultMaxBuffered = 1 << 20
)

type pairer struct {
	window, tol int64
	maxBuf      int
	emit        func(*Conn) // receives connections in start order

	// stage 1
	in      *calQueue[Flow]
	maxSeen int64
	lastOut int64
	started bool

	// stage 2
	clock int64
	pend  pendTable
	pSlab slab[pending]
	live  int
	// Pending flows by end, then in the order they went pending. A flow that
	// goes pending with its end not before the clock cannot expire until the
	// clock has moved on by the tolerance, and most are paired before that:
	// such flows wait in young (in the order they went pending) and enter
	// expiry only if still pending then.
	expiry   *calQueue[pendRef]
	young    []youngRef
	youngPos int
	fifo     []heapItem
	fifoPos  int

	// stage 3
	newConn     Conn // the connection being made (newOut, commitOut)
	out         *calQueue[Conn]
	lastEmitted int64

	// filter on connections (before stage 3)
	keep func(*Conn) bool

	Late    int64 // flows or connections that left a stage out of order
	Pairs   int64
	OneWays int64
}

func newPairer(window, tol int64, maxBuf int, keep func(*Conn) bool, emit func(*Conn)) *pairer {
	if maxBuf <= 0 {
		maxBuf = defaultMaxBuffered
	}
	p := &pairer{window: window, tol: tol, maxBuf: maxBuf, keep: keep, emit: emit,
		lastOut: -1 << 63, lastEmitted: -1 << 63,
		in: newCalQueue[Flow](window), out: newCalQueue[Conn](window), expiry: newCalQueue[pendRef](window)}
	p.pend.keyOf = func(i int32) *pendKey { return &p.pSlab.v[i].key }
	return p
}

// add takes one flow (copied).
func (p *pairer) add(f *Flow) {
	if !p.started || f.Start > p.maxSeen {
		p.maxSeen = f.Start
		p.started = true
	}
	p.in.push(f.Start, f)
	limit := p.maxSeen - p.window
	for {
		k, _, ok := p.in.peek()
		if !ok || k >= limit && p.in.Len() <= p.maxBuf {
			break
		}
		p.releaseIn()
	}
}

func (p *pairer) releaseIn() {
	_, f := p.in.pop()
	if f.Start < p.lastOut {
		p.Late++
	}
	p.lastOut = f.Start
	p.pair(f) // pair copies what it keeps
}

// flush drains every stage; call at the end of the input.
func (p *pairer) flush() {
	for p.in.Len() > 0 {
		p.releaseIn()
	}
	p.expireUntil(1<<63 - 1)
	p.releaseOut(1<<63 - 1)
}

// ageYoung moves the young flows that went pending at least the tolerance
// ago (all of them if all is true) to expiry, unless paired already.
func (p *pairer) ageYoung(all bool) {
	i := p.youngPos
	for ; i < len(p.young); i++ {
		y := &p.young[i]
		if !all && y.clock+p.tol > p.clock {
			break
		}
		if p.pSlab.gen[y.ref.idx] == y.ref.gen {
			p.expiry.push(y.end, &y.ref)
		}
	}
	if i == len(p.young) {
		p.young, i = p.young[:0], 0
	} else if i > 4096 && i > len(p.young)/2 {
		p.young = p.young[:copy(p.young, p.young[i:])]
		i = 0
	}
	p.youngPos = i
}

func (p *pairer) expireUntil(t int64) {
	// The young flows left cannot expire by t <= clock: each went pending at
	// a clock c > clock-tol, with its end at c or later.
	p.ageYoung(p.live > p.maxBuf || t > p.clock)
	for {
		k, _, ok := p.expiry.peek()
		if !ok || k+p.tol >= t && p.live <= p.maxBuf {
			return
		}
		_, it := p.expiry.pop()
		if p.pSlab.gen[it.idx] != it.gen {
			continue // paired already
		}
		c := p.newOut()
		pe := &p.pSlab.v[it.idx]
		*c = Conn{Start: pe.f.Start, End: pe.f.End, A: pe.f}
		p.unlink(it.idx)
		p.OneWays++
		p.commitOut()
	}
}

// unlink removes pending entry i from its chain and frees it.
func (p *pairer) unlink(i int32) {
	pe := &p.pSlab.v[i]
	si := p.pend.find(&pe.key, pe.key.hash())
	sl := &p.pend.slots[si]
	if sl.head == i {
		sl.head = pe.next
		if sl.head < 0 {
			p.pend.remove(si)
		}
	} else {
		for j := sl.head; j >= 0; j = p.pSlab.v[j].next {
			if p.pSlab.v[j].next == i {
				p.pSlab.v[j].next = pe.next
				if sl.tail == i {
					sl.tail = j
				}
				break
			}
		}
	}
	p.pSlab.release(i)
	p.live--
}

func (p *pairer) pair(f *Flow) {
	if f.Start > p.clock {
		p.clock = f.Start
	}
	// Expire by f's start, not the clock: a late flow (out of order by more than
	// the window) does not expire everything pending before it.
	p.expireUntil(f.Start)

	if f.Flags&flowBiflow != 0 {
		c := p.newOut()
		*c = Conn{Start: f.Start, End: f.End, A: *f}
		if dstIsServer, _ := serverSide(f); !dstIsServer {
			reverse(&c.A)
		}
		p.Pairs++
		p.commitOut()
		p.advanceOut()
		return
	}
	// A pending reverse flow is alive, so its end plus the tolerance is at least
	// the clock: it overlaps f. Take the oldest.
	k, rk := p.pend.keys(f)
	if si := p.pend.find(&rk, rk.hash()); si >= 0 {
		sl := &p.pend.slots[si]
		j := sl.head
		c := p.newOut()
		pe := &p.pSlab.v[j].f
		c.Start, c.End, c.HasB = min(pe.Start, f.Start), max(pe.End, f.End), true
		if clientFirst(pe, f) {
			c.A, c.B = *pe, reverseOf(f)
		} else {
			c.A, c.B = *f, reverseOf(pe)
		}
		// unlink the head
		if sl.head = p.pSlab.v[j].next; sl.head < 0 {
			p.pend.remove(si)
		}
		p.pSlab.release(j)
		p.live--
		p.Pairs++
		p.commitOut()
		p.advanceOut()
		return
	}
	i := p.pSlab.alloc()
	p.pSlab.v[i] = pending{f: *f, key: k, next: -1}
	h := k.hash()
	if si := p.pend.find(&k, h); si < 0 {
		p.pend.insert(h, i)
	} else {
		sl := &p.pend.slots[si]
		p.pSlab.v[sl.tail].next = i
		sl.tail = i
	}
	p.live++
	g := p.pSlab.gen[i]
	if f.End >= p.clock {
		p.young = append(p.young, youngRef{end: f.End, clock: p.clock, ref: pendRef{idx: i, gen: g}})
	} else {
		// A late flow: it goes into expiry after every flow that went pending before it.
		p.ageYoung(true)
		p.expiry.push(f.End, &pendRef{idx: i, gen: g})
	}
	p.fifo = append(p.fifo, heapItem{key: f.Start, idx: i, gen: g})
	p.advanceOut()
}

// advanceOut releases connections that nothing can precede any more.
func (p *pairer) advanceOut() {
	// The oldest live pending flow bounds what may still come out of stage 2.
	for p.fifoPos < len(p.fifo) {
		it := p.fifo[p.fifoPos]
		if p.pSlab.gen[it.idx] == it.gen {
			break
		}
		p.fifoPos++
	}
	if p.fifoPos > 4096 && p.fifoPos > len(p.fifo)/2 {
		n := copy(p.fifo, p.fifo[p.fifoPos:])
		p.fifo = p.fifo[:n]
		p.fifoPos = 0
	}
	w := p.clock
	if p.fifoPos < len(p.fifo) && p.fifo[p.fifoPos].key < w {
		w = p.fifo[p.fifoPos].key
	}
	p.releaseOut(w)
}

// newOut returns the connection to fill in; commitOut queues it (or drops it if
// keep says so). One connection is made at a time.
func (p *pairer) newOut() *Conn { return &p.newConn }

func (p *pairer) commitOut() {
	c := &p.newConn
	if p.keep != nil && !p.keep(c) {
		return
	}
	p.out.push(c.Start, c)
}

func (p *pairer) releaseOut(w int64) {
	for {
		k, _, ok := p.out.peek()
		if !ok || k >= w && p.out.Len() <= p.maxBuf {
			return
		}
		_, c := p.out.pop()
		if c.Start < p.lastEmitted {
			p.Late++
		}
		p.lastEmitted = c.Start
		p.emit(c) // emit must not keep c
	}
}

// clientFirst reports whether a (the flow seen first) goes client -> server,
// so that it is shown first; otherwise b does.
func clientFirst(a, b *Flow) bool {
	if hasPorts(a.Proto) {
		dstIsServer, _ := serverSide(a)
		return dstIsServer || a.SrcPort == a.DstPort
	}
	return !(isICMPRequest(b) && !isICMPRequest(a))
}

// reverse swaps the directions of a biflow record in place.
func reverse(f *Flow) {
	f.Src, f.Dst = f.Dst, f.Src
	f.SrcPort, f.DstPort = f.DstPort, f.SrcPort
	f.SrcAS, f.DstAS = f.DstAS, f.SrcAS
	f.Bytes, f.RevBytes = f.RevBytes, f.Bytes
	f.Packets, f.RevPackets = f.RevPackets, f.Packets
}
