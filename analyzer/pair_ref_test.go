package analyzer

import (
	"math"
	"math/big"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// refPairer is the pairer's rules written plainly: slices searched in full
// instead of the pending table, calendar queues and lazy deletion.
// TestPairerMatchesReference checks that the pairer gives the same connections
// in the same order with the same counts.

type refPend struct {
	f       Flow
	horizon int64 // the horizon when it went pending
	aged    bool  // out of young: it may expire
	agedSeq int
	done    bool // paired or expired
}

type refOut struct {
	c   Conn
	seq int
}

type refPairer struct {
	window, tol int64
	maxBuf      int
	emit        func(*Conn)
	keep        func(*Conn) bool

	maxSeen, horizon int64
	started          bool
	pend             []*refPend // in the order they went pending
	young            []*refPend // in the order they went pending, also when done since
	maxYoung         int
	agedSeq          int
	out              []refOut
	outSeq           int
	lastEmitted      int64

	Late, Pairs, OneWays int64
}

func newRefPairer(window, tol int64, maxBuf int, keep func(*Conn) bool, emit func(*Conn)) *refPairer {
	if maxBuf <= 0 {
		maxBuf = defaultMaxBuffered
	}
	return &refPairer{window: window, tol: tol, maxBuf: maxBuf, keep: keep, emit: emit,
		lastEmitted: math.MinInt64, horizon: math.MinInt64, maxYoung: defaultMaxYoung}
}

// refAfter reports whether a - b > d, computed exactly.
func refAfter(a, b, d int64) bool {
	diff := new(big.Int).Sub(big.NewInt(a), big.NewInt(b))
	return diff.Cmp(big.NewInt(d)) > 0
}

func (p *refPairer) add(f *Flow) {
	if !p.started || f.Start > p.maxSeen {
		p.maxSeen, p.started = f.Start, true
		h := new(big.Int).Sub(big.NewInt(f.Start), big.NewInt(p.window))
		if h.IsInt64() {
			p.horizon = h.Int64()
		} else {
			p.horizon = math.MinInt64
		}
	}
	p.expire(false)
	p.pair(f)
	p.advance()
}

func (p *refPairer) flush() {
	p.expire(true)
	p.release(0, true)
}

func (p *refPairer) remove(e *refPend) {
	e.done = true
	for i, x := range p.pend {
		if x == e {
			p.pend = append(p.pend[:i], p.pend[i+1:]...)
			return
		}
	}
	panic("not pending")
}

func (p *refPairer) expire(all bool) {
	// Out of young, in order: when the horizon has moved on by the tolerance
	// since they went pending, or more than maxYoung went pending after them.
	ageAll := all || len(p.pend) > p.maxBuf
	for len(p.young) > 0 {
		e := p.young[0]
		if !ageAll && !refAfter(p.horizon, e.horizon, p.tol) && len(p.young) <= p.maxYoung {
			break
		}
		p.young = p.young[1:]
		if !e.done {
			e.aged, e.agedSeq = true, p.agedSeq
			p.agedSeq++
		}
	}
	for {
		var first *refPend
		for _, e := range p.pend {
			if e.aged && (first == nil || e.f.End < first.f.End || e.f.End == first.f.End && e.agedSeq < first.agedSeq) {
				first = e
			}
		}
		if first == nil || !all && !refAfter(p.horizon, first.f.End, p.tol) && len(p.pend) <= p.maxBuf {
			return
		}
		p.remove(first)
		p.OneWays++
		p.commit(Conn{Start: first.f.Start, End: first.f.End, A: first.f})
	}
}

func (p *refPairer) pair(f *Flow) {
	if f.Flags&flowBiflow != 0 {
		c := Conn{Start: f.Start, End: f.End, A: *f}
		if dstIsServer, _ := serverSide(f); !dstIsServer {
			reverse(&c.A)
		}
		p.Pairs++
		p.commit(c)
		return
	}
	// Among the first maxChainScan pending flows with the reversed tuple.
	var best *refPend
	n := 0
	for _, e := range p.pend {
		g := &e.f
		if keyOf(g) != reverseKeyOf(f) || n == maxChainScan {
			continue
		}
		n++
		overlap := !refAfter(g.Start, f.End, p.tol) && !refAfter(f.Start, g.End, p.tol)
		if overlap && (best == nil || g.Start < best.f.Start) {
			best = e
		}
	}
	if best == nil {
		e := &refPend{f: *f, horizon: p.horizon}
		p.pend = append(p.pend, e)
		p.young = append(p.young, e)
		return
	}
	p.remove(best)
	g := &best.f
	first, second := g, f
	if f.Start < g.Start {
		first, second = f, g
	}
	c := Conn{Start: min(g.Start, f.Start), End: max(g.End, f.End), HasB: true}
	if clientFirst(first, second) {
		c.A, c.B = *first, reverseOf(second)
	} else {
		c.A, c.B = *second, reverseOf(first)
	}
	p.Pairs++
	p.commit(c)
}

func (p *refPairer) commit(c Conn) {
	if p.keep != nil && !p.keep(&c) {
		return
	}
	p.out = append(p.out, refOut{c: c, seq: p.outSeq})
	p.outSeq++
}

func (p *refPairer) advance() {
	// Connections wait for the pending flows that are out of young or came
	// late, and for the tolerance before the horizon.
	w := int64(math.MinInt64)
	if !refAfter(math.MinInt64, p.horizon, -p.tol) {
		w = p.horizon - p.tol
	}
	for _, e := range p.pend {
		if e.aged || e.f.Start < e.horizon {
			w = min(w, e.f.Start)
		}
	}
	p.release(w, false)
}

func (p *refPairer) release(w int64, all bool) {
	for len(p.out) > 0 {
		m := 0
		for i, o := range p.out {
			if o.c.Start < p.out[m].c.Start || o.c.Start == p.out[m].c.Start && o.seq < p.out[m].seq {
				m = i
			}
		}
		o := p.out[m]
		if !all && o.c.Start >= w && len(p.out) <= p.maxBuf {
			return
		}
		p.out = append(p.out[:m], p.out[m+1:]...)
		if o.c.Start < p.lastEmitted {
			p.Late++
		}
		p.lastEmitted = o.c.Start
		p.emit(&o.c)
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
		hosts, ports, protos := hosts, ports, protos
		if seed%4 == 3 {
			// One 5-tuple and its reverse: long chains of pending flows,
			// longer than maxChainScan, paired from their middle.
			hosts, ports, protos = hosts[:2], ports[:1], protos[:1]
		}
		var fs []Flow
		clock := int64(1_700_000_000) * s
		switch seed % 16 {
		case 13: // all times near the bottom of int64: the horizon and its
			// tolerance would go below it
			clock = math.MinInt64 + 25*s + r.Int64N(2*s)
		case 14: // near the top: times run into it
			clock = math.MaxInt64 - int64(n)*s/8
		}
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
			case 3:
				if seed%8 == 5 { // times at the ends of int64 (hostile input)
					start = []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 1, math.MaxInt64}[r.IntN(4)]
					dur = 0
				}
			}
			end := start + dur
			if end < start {
				end = start
			}
			f := Flow{Start: start, End: end, Src: hosts[r.IntN(len(hosts))], Dst: hosts[r.IntN(len(hosts))],
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
		if r.IntN(3) == 0 {
			p.maxYoung = []int{0, 1, 5, 50}[r.IntN(4)]
			ref.maxYoung = p.maxYoung
		}
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
