package analyzer

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// refPairer is the pairer as first written, with binary heaps for the reorder
// and output stages. TestPairerMatchesReference checks that the pairer gives
// the same connections in the same order with the same counts.

type refPairer struct {
	window, tol int64
	maxBuf      int
	emit        func(*Conn) // receives connections in start order

	seq uint64

	// stage 1
	inSlab  slab[Flow]
	inHeap  itemHeap
	maxSeen int64
	lastOut int64
	started bool

	// stage 2
	clock   int64
	pend    map[tupleKey]int32
	pSlab   slab[pending]
	live    int
	expiry  itemHeap // key = end
	pendSeq uint64
	fifo    []heapItem
	fifoPos int

	// stage 3
	outSlab     slab[Conn]
	outPending  int32
	outHeap     itemHeap
	lastEmitted int64

	// filter on connections (before stage 3)
	keep func(*Conn) bool

	Late    int64 // flows or connections that left a stage out of order
	Pairs   int64
	OneWays int64
}

func newRefPairer(window, tol int64, maxBuf int, keep func(*Conn) bool, emit func(*Conn)) *refPairer {
	if maxBuf <= 0 {
		maxBuf = defaultMaxBuffered
	}
	return &refPairer{window: window, tol: tol, maxBuf: maxBuf, keep: keep, emit: emit,
		pend: make(map[tupleKey]int32), lastOut: -1 << 63, lastEmitted: -1 << 63}
}

// add takes one flow (copied).
func (p *refPairer) add(f *Flow) {
	p.seq++
	if !p.started || f.Start > p.maxSeen {
		p.maxSeen = f.Start
		p.started = true
	}
	i := p.inSlab.alloc()
	p.inSlab.v[i] = *f
	p.inHeap.push(heapItem{key: f.Start, seq: p.seq, idx: i})
	limit := p.maxSeen - p.window
	for len(p.inHeap) > 0 && (p.inHeap[0].key < limit || len(p.inHeap) > p.maxBuf) {
		p.releaseIn()
	}
}

func (p *refPairer) releaseIn() {
	it := p.inHeap.pop()
	f := &p.inSlab.v[it.idx]
	if f.Start < p.lastOut {
		p.Late++
	}
	p.lastOut = f.Start
	p.pair(f)
	p.inSlab.release(it.idx) // pair copies what it keeps
}

// flush drains every stage; call at the end of the input.
func (p *refPairer) flush() {
	for len(p.inHeap) > 0 {
		p.releaseIn()
	}
	p.expireUntil(1<<63 - 1)
	p.releaseOut(1<<63 - 1)
}

func (p *refPairer) expireUntil(t int64) {
	for len(p.expiry) > 0 && (p.expiry[0].key+p.tol < t || p.live > p.maxBuf) {
		it := p.expiry.pop()
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
func (p *refPairer) unlink(i int32) {
	pe := &p.pSlab.v[i]
	k := keyOf(&pe.f)
	head := p.pend[k]
	if head == i {
		if pe.next < 0 {
			delete(p.pend, k)
		} else {
			p.pend[k] = pe.next
		}
	} else {
		for j := head; j >= 0; j = p.pSlab.v[j].next {
			if p.pSlab.v[j].next == i {
				p.pSlab.v[j].next = pe.next
				break
			}
		}
	}
	p.pSlab.release(i)
	p.live--
}

func (p *refPairer) pair(f *Flow) {
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
	if j, ok := p.pend[reverseKeyOf(f)]; ok {
		c := p.newOut()
		pe := &p.pSlab.v[j].f
		c.Start, c.End, c.HasB = min(pe.Start, f.Start), max(pe.End, f.End), true
		if clientFirst(pe, f) {
			c.A, c.B = *pe, reverseOf(f)
		} else {
			c.A, c.B = *f, reverseOf(pe)
		}
		p.unlink(j)
		p.Pairs++
		p.commitOut()
		p.advanceOut()
		return
	}
	i := p.pSlab.alloc()
	p.pSlab.v[i] = pending{f: *f, next: -1}
	k := keyOf(f)
	if head, ok := p.pend[k]; ok {
		j := head
		for p.pSlab.v[j].next >= 0 {
			j = p.pSlab.v[j].next
		}
		p.pSlab.v[j].next = i
	} else {
		p.pend[k] = i
	}
	p.live++
	g := p.pSlab.gen[i]
	p.pendSeq++ // among equal ends, in the order they went pending
	p.expiry.push(heapItem{key: f.End, seq: p.pendSeq, idx: i, gen: g})
	p.fifo = append(p.fifo, heapItem{key: f.Start, idx: i, gen: g})
	p.advanceOut()
}

// advanceOut releases connections that nothing can precede any more.
func (p *refPairer) advanceOut() {
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

// newOut returns a slot for a connection; commitOut queues it (or drops it if
// keep says so). One slot is pending at a time.
func (p *refPairer) newOut() *Conn {
	p.outPending = p.outSlab.alloc()
	return &p.outSlab.v[p.outPending]
}

func (p *refPairer) commitOut() {
	i := p.outPending
	c := &p.outSlab.v[i]
	if p.keep != nil && !p.keep(c) {
		p.outSlab.release(i)
		return
	}
	p.seq++
	p.outHeap.push(heapItem{key: c.Start, seq: p.seq, idx: i})
}

func (p *refPairer) releaseOut(w int64) {
	for len(p.outHeap) > 0 && (p.outHeap[0].key < w || len(p.outHeap) > p.maxBuf) {
		it := p.outHeap.pop()
		c := &p.outSlab.v[it.idx]
		if c.Start < p.lastEmitted {
			p.Late++
		}
		p.lastEmitted = c.Start
		p.emit(c) // emit must not keep c
		p.outSlab.release(it.idx)
	}
}

type tupleKey struct {
	src, dst     netip.Addr
	sport, dport uint16
	proto        uint8
}

// keyOf is the flow's 5-tuple; protocols without ports (ICMP: the type and code
// differ between request and reply) are keyed by addresses and protocol only.
func keyOf(f *Flow) tupleKey {
	if !hasPorts(f.Proto) {
		return tupleKey{src: f.Src, dst: f.Dst, proto: f.Proto}
	}
	return tupleKey{f.Src, f.Dst, f.SrcPort, f.DstPort, f.Proto}
}

func reverseKeyOf(f *Flow) tupleKey {
	if !hasPorts(f.Proto) {
		return tupleKey{src: f.Dst, dst: f.Src, proto: f.Proto}
	}
	return tupleKey{f.Dst, f.Src, f.DstPort, f.SrcPort, f.Proto}
}

// TestPairerMatchesReference feeds random flows (out of order, late beyond the
// window, equal start times, biflows, ICMP, repeated 5-tuples) to the pairer and
// to refPairer, with small and large windows and caps, and a keep function that
// drops some connections, and requires the same output.
func TestPairerMatchesReference(t *testing.T) {
	hosts := []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2"),
		netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("fe80::1%eth0"),
		netip.MustParseAddr("fe80::1%eth1")}
	ports := []uint16{22, 80, 443, 5000, 5001, 53}
	protos := []uint8{6, 6, 17, 1, 58, 47}
	const s = int64(time.Second)
	for seed := uint64(0); seed < 60; seed++ {
		r := rand.New(rand.NewPCG(seed, 2))
		n := 200 + r.IntN(3000)
		window := []int64{1, s, 10 * s, 60 * s, 15 * 60 * s}[r.IntN(5)]
		tol := []int64{0, s / 2, 2 * s}[r.IntN(3)]
		maxBuf := []int{0, 0, 1, 5, 50}[r.IntN(5)]
		var keep func(c *Conn) bool
		if r.IntN(2) == 0 {
			keep = func(c *Conn) bool { return c.Packets()%3 != 0 }
		}
		var fs []Flow
		clock := int64(1_700_000_000) * s
		for len(fs) < n {
			clock += r.Int64N(s / 4)
			dur := r.Int64N(20 * s)
			start := clock - dur
			switch r.IntN(30) {
			case 0:
				start -= r.Int64N(30 * 60 * s) // late beyond most windows
			case 1:
				start = clock // many equal starts
			case 2:
				start, dur = clock-s, s // many equal starts and ends
			}
			f := Flow{Start: start, End: start + dur, Src: hosts[r.IntN(len(hosts))], Dst: hosts[r.IntN(len(hosts))],
				Proto: protos[r.IntN(len(protos))], Bytes: uint64(r.IntN(1000)), Packets: uint64(1 + r.IntN(20)), Flows: 1,
				Flags: flowHasStart | flowHasEnd}
			if hasPorts(f.Proto) {
				f.SrcPort, f.DstPort = ports[r.IntN(len(ports))], ports[r.IntN(len(ports))]
			} else if f.Proto == 1 {
				f.DstPort = uint16([]int{0, 8}[r.IntN(2)]) << 8
			}
			if r.IntN(20) == 0 {
				f.Flags |= flowBiflow
				f.RevBytes, f.RevPackets = 10, 1
			}
			fs = append(fs, f)
			if r.IntN(2) == 0 { // the reply, close in time
				g := f
				g.Src, g.Dst, g.SrcPort, g.DstPort = f.Dst, f.Src, f.DstPort, f.SrcPort
				g.Start += r.Int64N(3*s) - s
				g.End = max(g.Start, f.End+r.Int64N(2*s)-s)
				g.Flags &^= flowBiflow
				fs = append(fs, g)
			}
		}
		var got, want []Conn
		p := newPairer(window, tol, maxBuf, keep, func(c *Conn) { got = append(got, *c) })
		ref := newRefPairer(window, tol, maxBuf, keep, func(c *Conn) { want = append(want, *c) })
		for i := range fs {
			f1, f2 := fs[i], fs[i]
			p.add(&f1)
			ref.add(&f2)
		}
		p.flush()
		ref.flush()
		if len(got) != len(want) {
			t.Fatalf("seed %d: %d connections, want %d", seed, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("seed %d: connection %d is\n%+v\nwant\n%+v", seed, i, got[i], want[i])
			}
		}
		if p.Late != ref.Late || p.Pairs != ref.Pairs || p.OneWays != ref.OneWays {
			t.Fatalf("seed %d: late/pairs/one-way %d/%d/%d, want %d/%d/%d", seed, p.Late, p.Pairs, p.OneWays, ref.Late, ref.Pairs, ref.OneWays)
		}
	}
}
