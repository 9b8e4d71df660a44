package analyzer

import "unsafe"

// The pairer turns flows into connections in input order, and hands them on in
// start-time order:
//
//  1. pair: a flow whose reversed 5-tuple has a pending flow that overlaps it in
//     time (within the tolerance) is merged with it at once; otherwise it goes
//     pending. Input is taken to be at most the window out of start-time order
//     (the exporter sends flows as they end), so the horizon, the newest start
//     seen minus the window, bounds the start of any flow still to come. A
//     pending flow whose end plus the tolerance is older than the horizon can no
//     longer be matched and leaves as a one-way flow. Memory is bounded by the
//     flows alive within the window, not by the input;
//  2. sort: connections leave in start order once no pending flow and no flow
//     still to come can produce an earlier one: below the horizon and below the
//     oldest pending start.
//
// Each stage also has a hard cap on the flows it holds; past it the oldest is
// let through early (a connection that leaves out of order counts as late).
//
// The expiry queue, the pending starts and the output are calendar queues
// (calQueue): a value is appended to the bucket of its key and read back in
// order when its bucket comes up, rather than sifted through a binary heap of
// every value in the window.

// heapItem orders by key, then by arrival sequence (so output is stable).
type heapItem struct {
	key int64
	seq uint64
	idx int32
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

// youngRef is a pending flow and the horizon when it went pending.
type youngRef struct {
	horizon int64
	ref     pendRef
}

type pending struct {
	f    Flow
	key  pendKey // f's 5-tuple
	next int32   // next flow with the same tuple (in input order), -1 ends
	prev int32   // the flow before it in the chain, -1 for the head
	tail int32   // of the chain's head: the chain's last flow
}

// pairerLimits bound memory; see the package doc in USAGE.md.
const (
	defaultMaxBuffered = 1 << 20
	maxChainScan       = 64 // pending flows of one 5-tuple looked at for a match
	// Young flows (paired or not) at most: when the horizon stands still (after
	// a flow from the future, say) late flows still leave young.
	defaultMaxYoung = 1 << 16
)

type pairer struct {
	window, tol int64
	maxBuf      int
	emit        func(*Conn) // receives connections in start order

	maxSeen int64 // the newest start seen
	horizon int64 // maxSeen - window: no flow to come starts before it (unless late)
	started bool

	// stage 1
	pend  pendTable
	pSlab slab[pending]
	live  int
	// Pending flows wait in young, in the order they went pending, until the
	// horizon has moved on by the tolerance since (or maxYoung flows went
	// pending after them); only then, if still pending, do they enter expiry.
	// Most are paired before that. The wait is no delay for a flow that came in
	// time (it cannot expire sooner anyway); it gives a late flow the chance to
	// meet its reverse, which mostly comes next.
	young    []youngRef
	youngPos int
	maxYoung int
	expiry   *calQueue[pendRef] // pending flows by end (lazily deleted)
	starts   *calQueue[pendRef] // pending flows by start, once aged or if late (lazily deleted)

	// stage 2
	newConn     Conn  // the connection being made when not in place (newOut, commitOut)
	newAt       *Conn // the connection being made
	out         *calQueue[Conn]
	lastEmitted int64

	// filter on connections (before stage 2)
	keep func(*Conn) bool

	Late    int64 // connections that left out of start order
	Pairs   int64
	OneWays int64
	// What the cap (maxBuf) forced: pending flows that left unpaired before
	// their time, and connections that left the output stage before theirs.
	ForcedOneWays, ForcedOut int64
}

// bufferedFor returns the flows each stage may hold within a memory budget
// of budget bytes (the Go heap, garbage not yet collected included). An
// entry of the pending stage costs a pending value and its references (the
// hash table's slot, young, the expiry and start queues: about 80 bytes);
// one of the output stage a Conn and its queue entry, in up to three places
// at the worst (ring buckets that grow by doubling, the late values'
// slab, the spare storage of emptied buckets: measured on BenchmarkBurst).
// The garbage collector lets the heap grow to about twice what is live.
func bufferedFor(budget int64) int {
	perEntry := 2*(int64(unsafe.Sizeof(pending{}))+80) + 5*(int64(unsafe.Sizeof(Conn{}))+24)
	return int(max(budget/perEntry, 1024))
}

func newPairer(window, tol int64, maxBuf int, keep func(*Conn) bool, emit func(*Conn)) *pairer {
	if maxBuf <= 0 {
		maxBuf = defaultMaxBuffered
	}
	p := &pairer{window: window, tol: tol, maxBuf: maxBuf, keep: keep, emit: emit, maxYoung: defaultMaxYoung,
		lastEmitted: -1 << 63, horizon: -1 << 63,
		out: newCalQueue[Conn](window), expiry: newCalQueue[pendRef](window), starts: newCalQueue[pendRef](window)}
	p.pend.keyOf = func(i int32) *pendKey { return &p.pSlab.v[i].key }
	return p
}

// add takes one flow (copied).
func (p *pairer) add(f *Flow) {
	if !p.started || f.Start > p.maxSeen {
		p.maxSeen = f.Start
		p.started = true
		p.horizon = f.Start - p.window
		if p.horizon > f.Start { // overflow
			p.horizon = -1 << 63
		}
		p.expire(false)
	} else if p.live > p.maxBuf || len(p.young)-p.youngPos > p.maxYoung {
		// Otherwise nothing can expire before the horizon moves.
		p.expire(false)
	}
	p.pair(f)
	p.advanceOut()
	// The expiry and start queues keep the references of flows that were
	// paired after they entered them, until their time comes up; when time
	// stands still (a burst), those would pile up with the input.
	if n := p.expiry.Len(); n > 2*p.live+1<<16 {
		p.expiry = p.compactRefs(p.expiry)
	}
	if n := p.starts.Len(); n > 2*p.live+1<<16 {
		p.starts = p.compactRefs(p.starts)
	}
}

// compactRefs returns a queue of the references of q that still refer to a
// pending flow, in q's order.
func (p *pairer) compactRefs(q *calQueue[pendRef]) *calQueue[pendRef] {
	nq := newCalQueue[pendRef](p.window)
	for q.Len() > 0 {
		k, it := q.pop()
		if ref := *it; p.pSlab.gen[ref.idx] == ref.gen {
			nq.push(k, &ref)
		}
	}
	return nq
}

// flush drains every stage; call at the end of the input.
func (p *pairer) flush() {
	p.expire(true)
	p.releaseOut(1<<63-1, true)
}

// ageYoung moves the young flows that went pending while the horizon was more
// than the tolerance older, or that have more than maxYoung flows after them
// in young (all of them if all is true), to expiry, unless paired already.
func (p *pairer) ageYoung(all bool) {
	i := p.youngPos
	for ; i < len(p.young); i++ {
		y := &p.young[i]
		if !all && !after(p.horizon, y.horizon, p.tol) && len(p.young)-i <= p.maxYoung {
			break
		}
		if p.pSlab.gen[y.ref.idx] == y.ref.gen {
			f := &p.pSlab.v[y.ref.idx].f
			p.expiry.push(f.End, &y.ref)
			if f.Start >= y.horizon { // a late flow is in starts already
				p.starts.push(f.Start, &y.ref)
			}
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

// expire lets the pending flows that can no longer be matched (all of them if
// all is true) leave as one-way flows, oldest end first: those that ended more
// than the tolerance before the horizon, once out of young.
func (p *pairer) expire(all bool) {
	p.ageYoung(all || p.live > p.maxBuf)
	for {
		k, it, ok := p.expiry.peek()
		if !ok {
			return
		}
		if p.pSlab.gen[it.idx] != it.gen {
			p.expiry.pop() // paired already
			continue
		}
		if !all && !after(p.horizon, k, p.tol) && p.live <= p.maxBuf {
			return
		}
		if !all && !after(p.horizon, k, p.tol) {
			p.ForcedOneWays++
		}
		p.expiry.pop()
		i := it.idx
		pe := &p.pSlab.v[i]
		c := p.newOut(pe.f.Start)
		c.Start, c.End = pe.f.Start, pe.f.End
		c.A = pe.f
		p.unlink(i)
		p.OneWays++
		p.commitOut()
	}
}

// after reports whether a is more than d (>= 0) after b, without overflow.
func after(a, b, d int64) bool { return a > b && uint64(a-b) > uint64(d) }

// unlink removes pending entry i from its chain and frees it.
func (p *pairer) unlink(i int32) {
	pe := &p.pSlab.v[i]
	p.unlinkAt(p.pend.find(&pe.key, pe.key.hash()), i)
}

// unlinkAt is unlink when the chain's slot si is known.
func (p *pairer) unlinkAt(si int, i int32) {
	pe := &p.pSlab.v[i]
	if head := &p.pend.heads[si]; *head == i {
		*head = pe.next
		if pe.next < 0 {
			p.pend.remove(si)
		} else {
			p.pSlab.v[pe.next].tail = pe.tail
			p.pSlab.v[pe.next].prev = -1
		}
	} else {
		// Doubly linked: a flow leaving from the middle of a long chain (the
		// same 5-tuple over and over, as in a repeated burst) costs no walk.
		p.pSlab.v[pe.prev].next = pe.next
		if pe.next >= 0 {
			p.pSlab.v[pe.next].prev = pe.prev
		} else {
			p.pSlab.v[*head].tail = pe.prev
		}
	}
	p.pSlab.release(i)
	p.live--
}

func (p *pairer) pair(f *Flow) {
	if f.Flags&flowBiflow != 0 {
		c := p.newOut(f.Start)
		c.Start, c.End = f.Start, f.End
		c.A = *f
		if dstIsServer, _ := serverSide(f); !dstIsServer {
			reverse(&c.A)
		}
		p.Pairs++
		p.commitOut()
		return
	}
	// Of the pending reverse flows that overlap f, take the one that started
	// first (of equal starts, the first in the input); of a long chain (the
	// same 5-tuple over and over), only the first maxChainScan are looked at.
	// Every pending flow ends at or after the horizon minus the tolerance, so
	// a flow that is not late (it starts at or after the horizon) cannot miss
	// one that expired.
	var k, rk pendKey
	p.pend.keys(f, &k, &rk)
	if si := p.pend.find(&rk, rk.hash()); si >= 0 {
		best := int32(-1)
		var bestStart int64
		n := 0
		for j := p.pend.heads[si]; j >= 0 && n < maxChainScan; j = p.pSlab.v[j].next {
			n++
			g := &p.pSlab.v[j].f
			if !after(g.Start, f.End, p.tol) && !after(f.Start, g.End, p.tol) && (best < 0 || g.Start < bestStart) {
				best, bestStart = j, g.Start
			}
		}
		if best >= 0 {
			g := &p.pSlab.v[best].f
			c := p.newOut(min(g.Start, f.Start))
			c.Start, c.End, c.HasB = min(g.Start, f.Start), max(g.End, f.End), true
			// The flow that started first (of equal starts, the pending one)
			// counts as seen first.
			first, second := g, f
			if f.Start < g.Start {
				first, second = f, g
			}
			if !clientFirst(first, second) {
				first, second = second, first
			}
			c.A = *first
			c.B = reverseOf(second)
			p.unlinkAt(si, best)
			p.Pairs++
			p.commitOut()
			return
		}
	}
	i := p.pSlab.alloc()
	p.pSlab.v[i] = pending{f: *f, key: k, next: -1, prev: -1, tail: i}
	h := k.hash()
	if si := p.pend.find(&k, h); si < 0 {
		p.pend.insert(h, i)
	} else {
		head := &p.pSlab.v[p.pend.heads[si]]
		p.pSlab.v[head.tail].next = i
		p.pSlab.v[i].prev = head.tail
		head.tail = i
	}
	p.live++
	ref := pendRef{idx: i, gen: p.pSlab.gen[i]}
	p.young = append(p.young, youngRef{horizon: p.horizon, ref: ref})
	if f.Start < p.horizon {
		p.starts.push(f.Start, &ref)
	}
}

// advanceOut releases connections that nothing can precede any more: older
// than the horizon and than the oldest pending flow. A young flow that came in
// time started at or after the horizon when it went pending, which is at most
// the tolerance older than the horizon now; starts holds the other pending
// flows.
func (p *pairer) advanceOut() {
	w := p.horizon - p.tol
	if w > p.horizon {
		w = -1 << 63 // overflow
	}
	for {
		k, it, ok := p.starts.peek()
		if !ok {
			break
		}
		if p.pSlab.gen[it.idx] != it.gen {
			p.starts.pop() // no longer pending
			continue
		}
		w = min(w, k)
		break
	}
	p.releaseOut(w, false)
}

// newOut returns a zero connection to fill in, with the given start;
// commitOut queues it (or drops it if keep says so). One connection is made at
// a time, in place in the output queue where it can be taken out again
// (copying it in after it was written would stall); one beyond the queue's
// ring is made aside and copied in.
func (p *pairer) newOut(start int64) *Conn {
	if c, ok := p.out.allocRing(start); ok {
		p.newAt = c
	} else {
		p.newConn = Conn{}
		p.newAt = &p.newConn
	}
	return p.newAt
}

func (p *pairer) commitOut() {
	c := p.newAt
	kept := p.keep == nil || p.keep(c)
	switch {
	case c != &p.newConn:
		if !kept {
			p.out.cancel()
		}
	case kept:
		p.out.push(c.Start, c)
	}
}

// releaseOut emits the connections that start before w (all if all is true),
// and more while the stage holds more than its cap.
func (p *pairer) releaseOut(w int64, all bool) {
	for {
		k, _, ok := p.out.peek()
		if !ok || !all && k >= w && p.out.Len() <= p.maxBuf {
			return
		}
		if !all && k >= w {
			p.ForcedOut++
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
