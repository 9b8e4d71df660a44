package collector

import (
	"errors"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/nfkit/nfkit/decode"
)

// worker decodes the packets of the exporters hashed to it, so that each
// exporter's templates, pending packets and sequence state live in one
// place without locks, and encodes their records for every output.
type worker struct {
	c   *Collector
	in  chan packet
	ctl chan func() // run on the worker's goroutine (flush, save, stats)

	dec      decode.Decoder // templates of datagram exporters
	sessions map[sessionKey]*decode.Decoder
	pkt      decode.Packet
	export   Export
	outs     []workerOut

	exporters exporterTable
	pending   pendingSet
	decStats  decode.DecoderStats // last seen, to count evictions

	// Counted where packets are queued (Submit), read by metrics.
	received      atomic.Uint64
	receivedBytes atomic.Uint64
	queueDrops    atomic.Uint64
	// shutdownDrops counts packets left in the queue when shutdown ran
	// out of time.
	shutdownDrops atomic.Uint64
	lastIdleCheck int64
}

// workerOut is a worker's buffer of encoded records for one output.
type workerOut struct {
	o       *output
	framer  Framer  // nil: chunks as encoded
	batcher Batcher // non-nil: the sink's own encoding, in place of buf
	buf     []byte
	records int
}

type sessionKey struct {
	addr    netip.Addr
	session uint64
}

// maxSessions bounds the transport sessions (each with its own templates)
// a worker keeps.
const maxSessions = 4096

func newWorker(c *Collector) (*worker, error) {
	w := &worker{
		c:        c,
		in:       make(chan packet, c.cfg.QueueLen),
		ctl:      make(chan func()),
		sessions: make(map[sessionKey]*decode.Decoder),
	}
	w.dec.Limits = c.cfg.Limits
	w.exporters.init(c.cfg.Limits.MaxExporters)
	for _, o := range c.outputs {
		wo := workerOut{o: o, buf: make([]byte, 0, c.cfg.ChunkSize+64<<10)}
		if f, ok := o.Sink.(Framing); ok {
			fr, err := f.NewFramer()
			if err != nil {
				return nil, err
			}
			wo.framer = fr
		}
		if b, ok := o.Sink.(Batching); ok {
			bt, err := b.NewBatcher()
			if err != nil {
				return nil, err
			}
			wo.batcher = bt
		}
		w.outs = append(w.outs, wo)
	}
	return w, nil
}

// run decodes until the collector stops, then decodes what is queued
// (until the shutdown deadline; the rest is counted) and flushes. The
// queue is never closed, so that a late Submit cannot panic.
func (w *worker) run() {
	tick := time.NewTicker(w.c.cfg.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case p := <-w.in:
			w.handle(p)
		case <-w.c.stopped:
			w.drain()
			return
		case <-tick.C:
			w.expire(w.c.now())
			w.flush(false)
		case f := <-w.ctl:
			f()
		}
	}
}

// drain decodes what is queued, until the shutdown deadline, and flushes.
func (w *worker) drain() {
	dl := w.c.drainDeadline.Load()
	for {
		select {
		case p := <-w.in:
			if time.Now().UnixNano() > dl {
				w.shutdownDrops.Add(1)
				w.c.release(p)
				continue
			}
			w.handle(p)
			continue
		default:
		}
		break
	}
	w.pending.dropAll(w, "shutdown: template never arrived")
	w.flush(true)
}

// call runs f on the worker's goroutine and waits for it; once the
// collector is stopping, f is not run.
func (w *worker) call(f func()) {
	done := make(chan struct{})
	select {
	case w.ctl <- func() { f(); close(done) }:
		<-done
	case <-w.c.stopped:
	}
}

// decoder returns the decoder of a packet's templates: the worker's for
// datagrams, or the session's own.
//
//nfkit:hot
func (w *worker) decoder(addr netip.Addr, p *packet) *decode.Decoder {
	if p.session == 0 {
		return &w.dec
	}
	k := sessionKey{addr, p.session}
	d := w.sessions[k]
	if d == nil {
		if len(w.sessions) >= maxSessions {
			for old := range w.sessions { // any one: sessions end on their own
				delete(w.sessions, old)
				break
			}
		}
		d = &decode.Decoder{Limits: w.c.cfg.Limits}
		d.Limits.MaxExporters = 1
		w.sessions[k] = d //nfkit:allow mapwrite a new transport session: once per session, bounded by maxSessions
	}
	return d
}

// handle decodes one packet and emits its records.
//
//nfkit:hot
func (w *worker) handle(p packet) {
	addr := p.src.Addr().Unmap()
	if p.end {
		delete(w.sessions, sessionKey{addr, p.session})
		if ex := w.exporters.byAddr[addr]; ex != nil {
			w.pending.dropSession(w, ex, p.session)
			ex.endSession(p.session)
		}
		w.c.release(p)
		return
	}
	ex := w.exporters.get(w, addr, p.ts)
	st := ex.stats
	st.packets.Add(1)
	st.bytes.Add(uint64(len(p.data)))
	dec := w.decoder(addr, &p)
	dec.SetTime(p.ts)
	err := dec.Decode(addr, p.data, &w.pkt)
	var missing *decode.MissingTemplateError
	isMissing := errors.As(err, &missing)
	if err == nil || isMissing || len(w.pkt.Records) > 0 {
		w.trackSequence(ex, isMissing, p.session)
	}
	emitted := w.emit(p, ex, err == nil, 0)
	if w.pkt.Templates > 0 || err != nil {
		// Only learning templates (or failing to) evicts.
		st.templates.Store(int64(dec.TemplatesOf(addr)))
		w.countEvictions(dec)
	}
	switch {
	case err == nil:
	case isMissing:
		if missing.Err != nil {
			w.countError(ex, missing.Err)
		}
		w.pending.hold(w, ex, p, missing.Sets, emitted)
		return // the packet is kept
	default:
		w.countError(ex, err)
	}
	if w.pkt.Templates > 0 && len(ex.pending) > 0 {
		w.pending.retry(w, ex, dec, p.session)
	}
	w.c.release(p)
}

//nfkit:cold bad packets: counted, and logged at most once per ErrorLogInterval
func (w *worker) countError(ex *exporterState, err error) {
	ex.stats.errors[classify(err)].Add(1)
	if w.logAllowed(ex) {
		w.c.log.Warn("bad export packet", "exporter", ex.addr, "err", err)
	}
}

// countEvictions adds what the decoder evicted since last time to the
// metrics.
//
//nfkit:hot
func (w *worker) countEvictions(d *decode.Decoder) {
	if d != &w.dec {
		return
	}
	s, old := d.Stats(), w.decStats
	if s == old {
		return
	}
	m := w.c.metrics
	m.decoderEvictions.Add(s.EvictedExporters - old.EvictedExporters)
	m.templateEvictions[budgetTemplates].Add(s.TemplatesEvictedMaxTemplates - old.TemplatesEvictedMaxTemplates)
	m.templateEvictions[budgetExporterFields].Add(s.TemplatesEvictedMaxExporterFields - old.TemplatesEvictedMaxExporterFields)
	m.templateEvictions[budgetTotalFields].Add(s.TemplatesEvictedMaxTotalFields - old.TemplatesEvictedMaxTotalFields)
	w.decStats = s
}

// emit encodes the records of w.pkt (just decoded from p) for every
// output, and returns the outputs that wrote something (bit i: output i).
// complete says that p decoded whole; before marks the outputs that wrote
// something for an earlier decode of p.
//
//nfkit:hot
func (w *worker) emit(p packet, ex *exporterState, complete bool, before uint64) uint64 {
	pk := &w.pkt
	n := len(pk.Records)
	if n > 0 {
		ex.proven = true
		ex.stats.flows.Add(uint64(n))
		w.c.metrics.flowsByVersion[versionSlot(pk.Version)].Add(uint64(n))
		if w.c.cfg.Renormalize {
			for i := range pk.Records {
				pk.Records[i].Renormalize()
			}
		}
	}
	w.export = Export{Packet: pk, Source: p.src, Received: p.ts, Complete: complete}
	var emitted uint64
	for i := range w.outs {
		o := &w.outs[i]
		w.export.Before = before&(1<<i) != 0
		if o.batcher != nil {
			if o.batcher.Append(&w.export) {
				o.records += n
				emitted |= 1 << i
			}
			if o.batcher.Full() {
				w.flushOut(o, false)
			}
			continue
		}
		start := len(o.buf)
		o.buf = o.o.Encoder.AppendPacket(o.buf, &w.export)
		if len(o.buf) != start {
			o.records += n
			emitted |= 1 << i
		}
		if len(o.buf) >= w.c.cfg.ChunkSize {
			w.flushOut(o, false)
		}
	}
	if w.c.cfg.Debug {
		//nfkit:allow iface a log line per packet only with --debug
		w.c.log.Debug("packet", "exporter", p.src, "version", pk.Version, "bytes", len(p.data), "flows", n, "templates", pk.Templates)
	}
	return emitted
}

// trackSequence follows the sequence numbers of w.pkt's stream. Packets
// retried after their template came were tracked when they arrived.
//
//nfkit:hot
func (w *worker) trackSequence(ex *exporterState, unknown bool, session uint64) {
	pk := &w.pkt
	if pk.Version == 0 {
		return
	}
	o := seqObs{version: pk.Version, seq: pk.Sequence, count: uint32(pk.Count)}
	if pk.Version == 10 {
		o.count, o.opts, o.unknown = uint32(len(pk.Records)), uint32(len(pk.Options)), unknown
	}
	lost, reset := ex.seq(pk.Version, pk.Domain, session).observe(o)
	if lost > 0 {
		ex.stats.seqLost.Add(uint64(lost))
	}
	if reset {
		ex.stats.seqResets.Add(1)
		if w.logAllowed(ex) {
			//nfkit:allow iface a sequence reset (an exporter restart), logged at most once per ErrorLogInterval
			w.c.log.Info("exporter sequence reset (restart?)", "exporter", ex.addr, "version", pk.Version, "domain", pk.Domain, "sequence", pk.Sequence)
		}
	}
}

// logAllowed rate-limits log lines per exporter.
//
//nfkit:hot
func (w *worker) logAllowed(ex *exporterState) bool {
	now := time.Now().UnixNano()
	if now-ex.lastLog < int64(w.c.cfg.ErrorLogInterval) {
		return false
	}
	ex.lastLog = now
	return true
}

// expire drops pending packets past their age and, once a minute,
// forgets the exporters idle for ExporterIdle.
func (w *worker) expire(now time.Time) {
	ns := now.UnixNano()
	w.pending.expire(w, ns-int64(w.c.cfg.PendingAge))
	if ns-w.lastIdleCheck < int64(time.Minute) {
		return
	}
	w.lastIdleCheck = ns
	idle := ns - int64(w.c.cfg.ExporterIdle)
	w.exporters.expire(w, idle)
	w.dec.ExpireIdle(idle)
	for k, d := range w.sessions {
		if d.Stats().Exporters == 0 || d.ExpireIdle(idle) > 0 {
			delete(w.sessions, k)
		}
	}
}

// flush hands every output's buffered records to it. At shutdown (final)
// it waits for room in the outputs' queues.
func (w *worker) flush(final bool) {
	for i := range w.outs {
		w.flushOut(&w.outs[i], final)
	}
}

//nfkit:cold once per chunk of output (ChunkSize, about 1 MiB)
func (w *worker) flushOut(o *workerOut, wait bool) {
	if len(o.buf) == 0 && o.records == 0 {
		return
	}
	data := o.buf
	if o.batcher != nil {
		data = o.batcher.Flush()
	} else if o.framer != nil {
		data = o.framer.Frame(o.buf)
	}
	o.o.enqueue(data, o.records, w.c.now(), wait || w.c.replaying.Load())
	o.buf = o.buf[:0]
	o.records = 0
}
