package collector

import (
	"errors"
	"net/netip"
	"time"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/pynetflow"
)

// packet is one received export packet. data is owned by the packet until
// it is released.
type packet struct {
	data []byte
	src  netip.AddrPort
	ts   int64 // receive time, Unix ns
	buf  *[]byte
}

// pendingPacket waits for a template.
type pendingPacket struct {
	packet
	sets  uint64 // data sets still to decode (decode.MissingTemplateError.Sets)
	lined bool   // a python-netflow line was written for the packet's first part
}

type pendingQueue struct {
	pkts  []pendingPacket
	bytes int
}

// worker decodes the packets of the exporters hashed to it, so each
// exporter's templates, pending packets and sequence state live in one
// place without locks.
type worker struct {
	c       *Collector
	in      chan packet
	flushCh chan chan struct{}
	stateCh chan chan []byte
	dec     decode.Decoder
	pkt     decode.Packet
	comp    *compressor

	out      []byte // JSON lines not yet flushed
	prefix   []byte
	outFlows int

	pending      map[netip.Addr]*pendingQueue
	pendingBytes int
	seq          map[seqKey]*seqState
	stats        map[netip.Addr]*exporterStats
	lastLog      map[netip.Addr]time.Time
}

func newWorker(c *Collector) (*worker, error) {
	comp, err := newCompressor(c.sink.codec)
	if err != nil {
		return nil, err
	}
	w := &worker{
		c:       c,
		in:      make(chan packet, c.cfg.QueueLen),
		flushCh: make(chan chan struct{}),
		stateCh: make(chan chan []byte),
		comp:    comp,
		pending: make(map[netip.Addr]*pendingQueue),
		seq:     make(map[seqKey]*seqState),
		stats:   make(map[netip.Addr]*exporterStats),
		lastLog: make(map[netip.Addr]time.Time),
		out:     make([]byte, 0, c.cfg.ChunkSize+64<<10),
	}
	w.dec.Limits = c.cfg.Limits
	return w, nil
}

func (w *worker) exporter(addr netip.Addr) *exporterStats {
	s := w.stats[addr]
	if s == nil {
		s = w.c.metrics.exporter(addr)
		if s.addr.IsValid() {
			w.stats[addr] = s
		}
	}
	return s
}

// run decodes until in is closed, then flushes.
func (w *worker) run() {
	tick := time.NewTicker(w.c.cfg.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case p, ok := <-w.in:
			if !ok {
				w.expirePending(time.Now(), true)
				w.flush()
				return
			}
			w.handle(p)
			if len(w.out) >= w.c.cfg.ChunkSize {
				w.flush()
			}
		case now := <-tick.C:
			w.expirePending(now, false)
			w.flush()
		case reply := <-w.stateCh:
			b, err := w.dec.MarshalState()
			if err != nil {
				b = nil
			}
			reply <- b
		case done := <-w.flushCh:
			w.flush()
			done <- struct{}{}
		}
	}
}

// handle decodes one packet and emits its flows.
func (w *worker) handle(p packet) {
	addr := p.src.Addr().Unmap()
	st := w.exporter(addr)
	st.packets.Add(1)
	st.bytes.Add(uint64(len(p.data)))
	err := w.dec.Decode(addr, p.data, &w.pkt)
	lined := w.emit(p, st, err == nil || errors.As(err, new(*decode.MissingTemplateError)) || len(w.pkt.Records) > 0, err == nil)
	if w.pkt.Templates > 0 {
		st.templates.Store(int64(w.dec.TemplatesOf(addr)))
	}
	var missing *decode.MissingTemplateError
	switch {
	case err == nil:
	case errors.As(err, &missing):
		if missing.Err != nil {
			w.countError(st, addr, missing.Err)
		}
		w.hold(p, missing.Sets, lined, st)
		return // the packet's buffer is kept
	default:
		w.countError(st, addr, err)
	}
	if w.pkt.Templates > 0 {
		w.retryPending(addr, st)
	}
	w.c.release(p)
}

func (w *worker) countError(st *exporterStats, addr netip.Addr, err error) {
	st.errors[classify(err)].Add(1)
	if w.logAllowed(addr) {
		w.c.log.Warn("bad export packet", "exporter", addr, "err", err)
	}
}

// emit encodes the records of w.pkt (just decoded from p) and reports
// whether it wrote anything. Sequence numbers are tracked on first decode
// only, not when a waiting packet is retried. With the python-netflow
// format, a packet without flows still gets its line (as the Python
// collector writes one per export packet) when whole: decoded completely,
// with no line written for it before.
func (w *worker) emit(p packet, st *exporterStats, track, whole bool) bool {
	pk := &w.pkt
	if track && pk.Version != 0 {
		w.trackSequence(p, st)
	}
	n := len(pk.Records)
	if n == 0 && !(w.c.cfg.Format == FormatPython && (whole || pynetflow.FlowCount(pk) > 0)) {
		return false
	}
	st.flows.Add(uint64(n))
	w.c.metrics.flowsByVersion[min(int(pk.Version), 10)].Add(uint64(n))
	if w.c.cfg.Renormalize {
		for i := range pk.Records {
			renormalize(&pk.Records[i])
		}
	}
	if w.c.cfg.Format == FormatPython {
		w.out = pynetflow.AppendPacket(w.out, time.Unix(0, p.ts), p.src, pk)
	} else {
		// The line prefix is the same for every record of the packet.
		w.prefix = appendPrefix(w.prefix[:0], &pk.Records[0], p.ts)
		for i := range pk.Records {
			w.out = append(w.out, w.prefix...)
			w.out = appendFlowBody(w.out, &pk.Records[i])
		}
	}
	w.outFlows += n
	if w.c.cfg.Debug {
		w.c.log.Debug("packet", "exporter", p.src, "version", pk.Version, "bytes", len(p.data), "flows", n, "templates", pk.Templates)
	}
	return true
}

func (w *worker) trackSequence(p packet, st *exporterStats) {
	pk := &w.pkt
	k := seqKey{p.src.Addr().Unmap(), pk.Version, pk.Domain}
	s := w.seq[k]
	if s == nil {
		if len(w.seq) >= 4*w.c.cfg.Limits.MaxExporters {
			return // a flood of sources: stop tracking new streams
		}
		s = new(seqState)
		w.seq[k] = s
	}
	count := uint32(len(pk.Records) + len(pk.Options))
	if pk.Version != 10 {
		count = uint32(pk.Count)
		if pk.Version == 9 {
			count = 1
		}
	}
	lost, reset := s.observe(pk.Version, pk.Sequence, count)
	if lost > 0 {
		st.seqLost.Add(uint64(lost))
	}
	if reset {
		st.seqResets.Add(1)
		w.c.log.Info("exporter sequence reset (restart?)", "exporter", k.addr, "version", pk.Version, "domain", pk.Domain, "sequence", pk.Sequence)
	}
}

// hold keeps a packet whose data sets wait for a template, within the
// configured bounds.
func (w *worker) hold(p packet, sets uint64, lined bool, st *exporterStats) {
	addr := p.src.Addr().Unmap()
	q := w.pending[addr]
	if q == nil {
		q = new(pendingQueue)
		w.pending[addr] = q
	}
	cfg := &w.c.cfg
	for len(q.pkts) > 0 && (len(q.pkts) >= cfg.PendingPackets || q.bytes+len(p.data) > cfg.PendingBytes ||
		w.pendingBytes+len(p.data) > cfg.PendingTotalBytes) {
		w.dropPending(addr, q, st, "bound")
	}
	if len(p.data) > cfg.PendingBytes || w.pendingBytes+len(p.data) > cfg.PendingTotalBytes {
		st.pendingDrops.Add(1)
		w.c.release(p)
		return
	}
	q.pkts = append(q.pkts, pendingPacket{p, sets, lined})
	q.bytes += len(p.data)
	w.pendingBytes += len(p.data)
	st.pending.Add(1)
}

func (w *worker) dropPending(addr netip.Addr, q *pendingQueue, st *exporterStats, why string) {
	old := q.pkts[0]
	q.pkts = q.pkts[1:]
	q.bytes -= len(old.data)
	w.pendingBytes -= len(old.data)
	st.pending.Add(-1)
	st.pendingDrops.Add(1)
	now := time.Now()
	if w.logAllowed(addr) {
		w.c.log.Warn("dropped a packet that waited for its template", "exporter", addr, "why", why,
			"age", time.Duration(now.UnixNano()-old.ts).Round(time.Millisecond), "sets", old.sets)
	}
	w.c.release(old.packet)
}

// retryPending decodes the exporter's waiting packets after new templates
// arrived.
func (w *worker) retryPending(addr netip.Addr, st *exporterStats) {
	q := w.pending[addr]
	if q == nil || len(q.pkts) == 0 {
		return
	}
	kept := q.pkts[:0]
	for _, pp := range q.pkts {
		err := w.dec.Retry(addr, pp.data, pp.sets, &w.pkt)
		// The packet's sequence number was counted when it arrived.
		if w.emit(pp.packet, st, false, err == nil && !pp.lined) {
			pp.lined = true
		}
		var missing *decode.MissingTemplateError
		if errors.As(err, &missing) && missing.Sets != 0 {
			pp.sets = missing.Sets // still waiting for other templates
			kept = append(kept, pp)
			continue
		}
		st.pendingLate.Add(1)
		st.pending.Add(-1)
		q.bytes -= len(pp.data)
		w.pendingBytes -= len(pp.data)
		w.c.release(pp.packet)
	}
	clear(q.pkts[len(kept):])
	q.pkts = kept
}

// logAllowed rate-limits log lines per exporter (and all sources beyond
// the exporter bound together).
func (w *worker) logAllowed(addr netip.Addr) bool {
	if len(w.lastLog) >= w.c.cfg.Limits.MaxExporters {
		if _, ok := w.lastLog[addr]; !ok {
			addr = netip.Addr{}
		}
	}
	now := time.Now()
	if now.Sub(w.lastLog[addr]) < w.c.cfg.ErrorLogInterval {
		return false
	}
	w.lastLog[addr] = now
	return true
}

// expirePending drops packets older than the pending age bound (all of
// them at shutdown, after logging what is lost).
func (w *worker) expirePending(now time.Time, all bool) {
	for addr, q := range w.pending {
		st := w.exporter(addr)
		for len(q.pkts) > 0 && (all || now.UnixNano()-q.pkts[0].ts > int64(w.c.cfg.PendingAge)) {
			why := "age"
			if all {
				why = "shutdown: template never arrived"
			}
			w.dropPending(addr, q, st, why)
		}
		if len(q.pkts) == 0 {
			delete(w.pending, addr)
		}
	}
}

// flush compresses and hands the buffered lines to the output.
func (w *worker) flush() {
	if len(w.out) == 0 {
		return
	}
	data := w.comp.compress(w.out)
	w.c.sink.write(chunk{data: data, flows: w.outFlows}, time.Now())
	w.out = w.out[:0]
	w.outFlows = 0
}
