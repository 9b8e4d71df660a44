package collector

import (
	"cmp"
	"errors"
	"net/netip"
	"slices"
	"time"

	"github.com/nfkit/nfkit/decode"
)

// Packets whose data sets wait for their template are kept, bounded per
// exporter (packets and bytes) and per worker (bytes), for PendingAge, and
// decoded when the template comes. Memory is accounted at its real cost:
// the packet is copied to a buffer of its own size, plus the bookkeeping of
// each packet.

// pendingOverhead is the memory a pending packet takes besides its bytes:
// its record in the exporter's queue (up to twice its size, as slices
// grow) and in the worker's arrival order, and the allocation's rounding.
const pendingOverhead = 256

// pendingPacket is a packet waiting for a template.
type pendingPacket struct {
	id      uint64
	data    []byte
	src     netip.AddrPort
	ts      int64
	session uint64 // whose templates it waits for (Packet.Session)
	sets    uint64 // data sets still to decode (decode.MissingTemplateError.Sets)
	// emitted marks the outputs that wrote something for the packet (see
	// Export.Before).
	emitted uint64
}

func (p *pendingPacket) cost() int { return len(p.data) + pendingOverhead }

// pendingRef is a pending packet in the worker's arrival order. Packets
// leave their exporter's queue in any order (decoded, dropped), so refs
// are checked when taken: a ref whose packet has gone is skipped.
type pendingRef struct {
	ex *exporterState
	id uint64
	ts int64
}

// pendingSet is a worker's pending packets in arrival order, across its
// exporters: the oldest goes first when the worker's bound is reached or
// its age is up, whichever exporter it belongs to.
type pendingSet struct {
	order  []pendingRef
	head   int // order[head:] are the refs not yet taken
	nextID uint64
	cost   int // memory of all pending packets
	live   int // pending packets
}

// hold keeps packet p of exporter ex, whose data sets marked in sets wait
// for a template. It takes over p's data (releasing its queue buffer).
//
//nfkit:cold packets whose template has not come: copied and kept by design, bounded per exporter and worker
func (s *pendingSet) hold(w *worker, ex *exporterState, p packet, sets, emitted uint64) {
	cfg := &w.c.cfg
	cost := len(p.data) + pendingOverhead
	if cost > cfg.PendingBytes || cost > cfg.PendingTotalBytes {
		ex.stats.pendingDrops.Add(1)
		w.c.release(p)
		return
	}
	for len(ex.pending) > 0 && (len(ex.pending) >= cfg.PendingPackets || ex.pendingCost+cost > cfg.PendingBytes) {
		s.dropOldest(w, ex, "exporter's pending bound")
	}
	for s.cost+cost > cfg.PendingTotalBytes && s.dropFirst(w, "worker's pending bound") {
	}
	data := append(make([]byte, 0, len(p.data)), p.data...)
	w.c.release(p)
	s.nextID++
	ex.pending = append(ex.pending, pendingPacket{id: s.nextID, data: data, src: p.src, ts: p.ts, session: p.session, sets: sets, emitted: emitted})
	ex.pendingCost += cost
	s.cost += cost
	w.c.pendingBytes.Add(int64(cost))
	s.live++
	s.order = append(s.order, pendingRef{ex, s.nextID, p.ts})
	ex.stats.pending.Add(1)
	s.compact()
}

// remove takes the pending packet i out of ex's queue.
func (s *pendingSet) remove(w *worker, ex *exporterState, i int) pendingPacket {
	pp := ex.pending[i]
	w.c.pendingBytes.Add(-int64(pp.cost()))
	copy(ex.pending[i:], ex.pending[i+1:])
	ex.pending[len(ex.pending)-1] = pendingPacket{}
	ex.pending = ex.pending[:len(ex.pending)-1]
	if n := len(ex.pending); n == 0 {
		ex.pending = nil // an exporter's burst leaves no slack behind
	} else if cap(ex.pending) > 64 && n < cap(ex.pending)/4 {
		ex.pending = append([]pendingPacket(nil), ex.pending...)
	}
	ex.pendingCost -= pp.cost()
	s.cost -= pp.cost()
	s.live--
	ex.stats.pending.Add(-1)
	return pp
}

// dropOldest drops ex's oldest pending packet, counted and logged.
func (s *pendingSet) dropOldest(w *worker, ex *exporterState, why string) {
	pp := s.remove(w, ex, 0)
	ex.stats.pendingDrops.Add(1)
	if w.logAllowed(ex) {
		w.c.log.Warn("dropped a packet that waited for its template", "exporter", ex.addr, "why", why,
			"age", time.Duration(w.c.now().UnixNano()-pp.ts).Round(time.Millisecond))
	}
}

// dropFirst drops the worker's oldest pending packet; false if none.
func (s *pendingSet) dropFirst(w *worker, why string) bool {
	for s.head < len(s.order) {
		r := s.order[s.head]
		s.order[s.head] = pendingRef{}
		s.head++
		if len(r.ex.pending) > 0 && r.ex.pending[0].id == r.id {
			s.dropOldest(w, r.ex, why)
			return true
		}
	}
	return false
}

// dropSession drops ex's packets that wait for templates of a session that
// ended.
//
//nfkit:cold packets whose template has not come: copied and kept by design, bounded per exporter and worker
func (s *pendingSet) dropSession(w *worker, ex *exporterState, session uint64) {
	for i := 0; i < len(ex.pending); {
		if ex.pending[i].session != session {
			i++
			continue
		}
		s.remove(w, ex, i)
		ex.stats.pendingDrops.Add(1)
	}
}

// expire drops the packets that arrived before cutoff (Unix ns).
func (s *pendingSet) expire(w *worker, cutoff int64) {
	for s.head < len(s.order) && s.order[s.head].ts < cutoff {
		r := s.order[s.head]
		s.order[s.head] = pendingRef{}
		s.head++
		if len(r.ex.pending) > 0 && r.ex.pending[0].id == r.id {
			s.dropOldest(w, r.ex, "age")
		}
	}
	s.compact()
}

// dropAll drops every pending packet (shutdown), counted and logged.
func (s *pendingSet) dropAll(w *worker, why string) {
	for s.dropFirst(w, why) {
	}
	s.order, s.head = s.order[:0], 0
}

// compact drops the refs of packets that have gone, once they are many.
func (s *pendingSet) compact() {
	n := len(s.order) - s.head
	if n < 1024 || n < 2*s.live {
		return
	}
	kept := s.order[:0]
	for _, r := range s.order[s.head:] {
		// An exporter's queue is in id order.
		if _, ok := slices.BinarySearchFunc(r.ex.pending, r.id, func(p pendingPacket, id uint64) int { return cmp.Compare(p.id, id) }); ok {
			kept = append(kept, r)
		}
	}
	clear(s.order[len(kept):])
	s.order, s.head = kept, 0
}

// retry decodes ex's pending packets of session again after new templates
// came in it; the ones still missing a template stay.
//
//nfkit:cold packets whose template has not come: copied and kept by design, bounded per exporter and worker
func (s *pendingSet) retry(w *worker, ex *exporterState, dec *decode.Decoder, session uint64) {
	for i := 0; i < len(ex.pending); {
		pp := &ex.pending[i]
		if pp.session != session {
			i++
			continue
		}
		err := dec.Retry(ex.addr, pp.data, pp.sets, &w.pkt)
		// The packet's sequence number was counted when it arrived.
		pp.emitted |= w.emit(packet{data: pp.data, src: pp.src, ts: pp.ts}, ex, err == nil, pp.emitted)
		var missing *decode.MissingTemplateError
		if errors.As(err, &missing) && missing.Sets != 0 {
			pp.sets = missing.Sets // still waiting for other templates
			i++
			continue
		}
		s.remove(w, ex, i)
		ex.stats.pendingLate.Add(1)
	}
}
