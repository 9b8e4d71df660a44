package collector

import (
	"container/list"
	"net/netip"
	"slices"
)

// exporterState is what a worker keeps of one exporter besides its
// templates: counters, sequence streams, packets waiting for a template.
type exporterState struct {
	addr    netip.Addr
	stats   *exporterStats
	streams []seqStream
	pending []pendingPacket // oldest first
	// pendingCost is the memory the pending packets take.
	pendingCost int
	lastLog     int64 // Unix ns of the last warning logged for it
	lastSeen    int64 // receive time of its last packet, Unix ns
	// proven is set once records were decoded from it: a source that has
	// only ever sent templates (or garbage) is evicted first.
	proven bool
	elem   *list.Element // in its table's proven list (inProven) or unproven list
	// inProven is set once elem moved to the proven list (proven is set
	// when records are decoded; the move follows at the next packet).
	inProven bool
}

// seqStream is the sequence state of one (version, domain) of an exporter,
// per transport session (IPFIX over TCP numbers each connection's messages
// on its own, RFC 7011 §3.1; 0 for datagrams).
type seqStream struct {
	version uint16
	domain  uint32
	session uint64
	state   seqState
}

// maxStreams bounds the sequence streams kept per exporter; beyond it the
// oldest is forgotten.
const maxStreams = 64

// seq returns the sequence state of the exporter's (version, domain).
//
//nfkit:hot
func (e *exporterState) seq(version uint16, domain uint32, session uint64) *seqState {
	for i := range e.streams {
		if s := &e.streams[i]; s.version == version && s.domain == domain && s.session == session {
			return &s.state
		}
	}
	if len(e.streams) >= maxStreams {
		copy(e.streams, e.streams[1:])
		e.streams = e.streams[:len(e.streams)-1]
	}
	e.streams = append(e.streams, seqStream{version: version, domain: domain, session: session})
	return &e.streams[len(e.streams)-1].state
}

// endSession forgets the sequence streams of a transport session that
// ended.
//
//nfkit:cold once per transport session, at its end
func (e *exporterState) endSession(session uint64) {
	e.streams = slices.DeleteFunc(e.streams, func(s seqStream) bool { return s.session == session })
}

// exporterTable holds a worker's exporters, bounded: past the bound, a new
// exporter evicts the least recently seen one, taking one that never
// yielded records if there is any, so that a flood of spoofed sources
// cannot push out the routers that export real data.
type exporterTable struct {
	byAddr map[netip.Addr]*exporterState
	// The exporters by recency, most recent at the front, in two lists.
	proven, unproven list.List
	max              int
	last             *exporterState // the previous packet's exporter
}

func (t *exporterTable) init(max int) {
	t.byAddr = make(map[netip.Addr]*exporterState)
	t.proven.Init()
	t.unproven.Init()
	t.max = max
	if t.max <= 0 {
		t.max = 10000
	}
}

// get returns the state of addr, creating it, and marks it seen at ts.
//
//nfkit:hot
func (t *exporterTable) get(w *worker, addr netip.Addr, ts int64) *exporterState {
	e := t.last
	if e == nil || e.addr != addr {
		e = t.byAddr[addr]
		if e == nil {
			if len(t.byAddr) >= t.max {
				t.evict(w)
			}
			e = &exporterState{addr: addr, stats: w.c.metrics.register(addr)}
			t.byAddr[addr] = e //nfkit:allow mapwrite a new exporter: once per exporter, bounded by MaxExporters
			e.elem = t.unproven.PushFront(e)
		}
		t.last = e
	}
	e.lastSeen = ts
	// Keep the lists in recency order; an exporter that became proven
	// moves to the proven list.
	switch {
	case e.proven && !e.inProven:
		t.unproven.Remove(e.elem)
		e.elem, e.inProven = t.proven.PushFront(e), true
	case e.inProven:
		t.proven.MoveToFront(e.elem)
	default:
		t.unproven.MoveToFront(e.elem)
	}
	return e
}

// oldest returns the least recently seen exporter of l, or nil.
func oldest(l *list.List) *exporterState {
	if b := l.Back(); b != nil {
		return b.Value.(*exporterState)
	}
	return nil
}

// evict forgets the least recently seen exporter, unproven ones first.
//
//nfkit:cold a full table: once per new exporter past MaxExporters
func (t *exporterTable) evict(w *worker) {
	e := oldest(&t.unproven)
	if e == nil {
		e = oldest(&t.proven)
	}
	if e == nil {
		return
	}
	t.remove(w, e)
	w.c.metrics.exporterEvictions.Add(1)
}

// expire forgets the exporters last seen before cutoff (Unix ns).
func (t *exporterTable) expire(w *worker, cutoff int64) {
	for _, l := range []*list.List{&t.unproven, &t.proven} {
		for e := oldest(l); e != nil && e.lastSeen < cutoff; e = oldest(l) {
			t.remove(w, e)
		}
	}
}

// remove forgets e: its pending packets are dropped (counted) and its
// counters go to the metrics' "other" totals.
func (t *exporterTable) remove(w *worker, e *exporterState) {
	for len(e.pending) > 0 {
		w.pending.dropOldest(w, e, "exporter evicted")
	}
	if e.inProven {
		t.proven.Remove(e.elem)
	} else {
		t.unproven.Remove(e.elem)
	}
	delete(t.byAddr, e.addr)
	if t.last == e {
		t.last = nil
	}
	w.c.metrics.unregister(e.stats)
}
