package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nfkit/nfkit/internal/spool"
)

// ErrRejected is wrapped by a Deliverer's error when the receiver refused
// a batch as malformed: retrying it would fail again.
var ErrRejected = errors.New("batch rejected by the receiver")

// A Deliverer sends batches to a remote system (ClickHouse, Kafka).
type Deliverer interface {
	// Deliver sends one batch (encoded by the output's Encoder; whole
	// records). nil: stored. An error wrapping ErrRejected: the receiver
	// refused the batch as malformed: it is moved aside and counted,
	// never retried. Any other error: retried with backoff (capped), the
	// batch kept (memory, then spool) meanwhile. Deliver must return soon
	// after ctx is done.
	Deliver(ctx context.Context, batch []byte, records int) error
	Close() error
}

// DeliveryConfig configures a delivery sink. Zero fields take the
// defaults noted.
type DeliveryConfig struct {
	Name         string        // for logs: "clickhouse", "kafka"
	BatchBytes   int           // deliver when a batch reaches this size (default 16 MiB) …
	BatchRecords int           // … or this many records (default 200000) …
	Flush        time.Duration // … or this age (default 1s; checked at each write and once a second)
	MemoryBytes  int64         // batches waiting in memory (default 256 MiB)
	SpoolDir     string        // "" = no spool: past MemoryBytes, drop (counted)
	SpoolBytes   int64         // bound of the spool (default 10 GiB)
	RetryMin     time.Duration // first backoff after a failed delivery (default 100ms)
	RetryMax     time.Duration // backoff cap (default 10s)
	// CloseTimeout bounds how long Close keeps delivering before it
	// spools what is left (default 5s).
	CloseTimeout time.Duration
}

func (c *DeliveryConfig) setDefaults() {
	if c.Name == "" {
		c.Name = "delivery"
	}
	if c.BatchBytes <= 0 {
		c.BatchBytes = 16 << 20
	}
	if c.BatchRecords <= 0 {
		c.BatchRecords = 200000
	}
	if c.Flush <= 0 {
		c.Flush = time.Second
	}
	if c.MemoryBytes <= 0 {
		c.MemoryBytes = 256 << 20
	}
	if c.SpoolBytes <= 0 {
		c.SpoolBytes = 10 << 30
	}
	if c.RetryMin <= 0 {
		c.RetryMin = 100 * time.Millisecond
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = max(10*time.Second, c.RetryMin)
	}
	if c.CloseTimeout <= 0 {
		c.CloseTimeout = 5 * time.Second
	}
}

// batch is a sealed batch in memory.
type batch struct {
	buf     *[]byte
	records int
}

// DeliverySink is a Sink that gathers chunks into batches and hands them
// to a Deliverer from a goroutine of its own, so that writing never waits
// for the receiver. Batches wait in a queue bounded by MemoryBytes, then
// in the spool (bounded by SpoolBytes, kept across restarts); once
// anything is in the spool, newer batches go behind it until it drains, so
// the receiver gets batches in the order they were made. Past the spool's
// bound, or MemoryBytes without a spool, batches are dropped and counted.
type DeliverySink struct {
	d     Deliverer
	cfg   DeliveryConfig
	log   *slog.Logger
	spool *spool.Spool // nil: none

	// The batch being filled; the collector calls Write, Tick, Rotate
	// and Close from one goroutine.
	cur        *[]byte
	curRecords int
	curStart   time.Time

	mu       sync.Mutex
	mem      []batch // oldest first; mem[0] may be being delivered
	memBytes int64
	spooling bool // the spool holds (or is being given) batches: new ones go behind
	putting  int  // spool puts in progress
	closing  bool

	wake     chan struct{}
	ctx      context.Context // cancelled when Close runs out of time
	cancel   context.CancelFunc
	done     chan struct{} // closed when the delivery goroutine returns
	bufs     sync.Pool
	lastWarn atomic.Int64

	batches     atomic.Uint64 // delivered
	records     atomic.Uint64
	bytes       atomic.Uint64
	latencyNs   atomic.Uint64 // sum over delivered batches
	retries     atomic.Uint64
	errs        atomic.Uint64
	rejected    atomic.Uint64 // records
	dropped     atomic.Uint64 // records
	memRecords  atomic.Int64
	spoolErrors atomic.Uint64
}

// NewDeliverySink opens the spool (if any; what it holds is delivered
// first) and starts delivering.
func NewDeliverySink(d Deliverer, cfg DeliveryConfig, log *slog.Logger) (*DeliverySink, error) {
	cfg.setDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &DeliverySink{d: d, cfg: cfg, log: log, wake: make(chan struct{}, 1), done: make(chan struct{})}
	if cfg.SpoolDir != "" {
		sp, err := spool.Open(cfg.SpoolDir, cfg.SpoolBytes)
		if err != nil {
			return nil, err
		}
		s.spool = sp
		st := sp.Stats()
		if st.TempRemoved > 0 || st.Corrupt > 0 {
			log.Warn("spool: removed the leftovers of an interrupted run", "sink", cfg.Name, "dir", cfg.SpoolDir,
				"temporary_files", st.TempRemoved, "damaged_segments_moved_aside", st.Corrupt)
		}
		if st.Segments > 0 {
			s.spooling = true
			log.Info("spool: delivering the batches of an earlier run first", "sink", cfg.Name, "dir", cfg.SpoolDir,
				"batches", st.Segments, "records", st.Records, "bytes", st.Bytes)
		}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	go s.run()
	return s, nil
}

// Write adds a chunk to the batch being filled, and seals the batch when
// it is full or old. It never waits for the receiver.
func (s *DeliverySink) Write(c Chunk) error {
	if len(c.Data) == 0 {
		return nil
	}
	if s.cur == nil {
		s.cur = s.getBuf()
		s.curStart = time.Now()
	}
	*s.cur = append(*s.cur, c.Data...)
	s.curRecords += c.Records
	if len(*s.cur) >= s.cfg.BatchBytes || s.curRecords >= s.cfg.BatchRecords || time.Since(s.curStart) >= s.cfg.Flush {
		s.seal()
	}
	return nil
}

// Tick seals the batch being filled once it is Flush old.
func (s *DeliverySink) Tick(time.Time) error {
	if s.cur != nil && time.Since(s.curStart) >= s.cfg.Flush {
		s.seal()
	}
	return nil
}

// Rotate seals the batch being filled (SIGHUP delivers it now).
func (s *DeliverySink) Rotate(time.Time) error {
	s.seal()
	return nil
}

func (s *DeliverySink) getBuf() *[]byte {
	if bp, _ := s.bufs.Get().(*[]byte); bp != nil {
		*bp = (*bp)[:0]
		return bp
	}
	b := make([]byte, 0, min(s.cfg.BatchBytes+1<<20, 64<<20))
	return &b
}

func (s *DeliverySink) putBuf(bp *[]byte) {
	if cap(*bp) <= 2*s.cfg.BatchBytes+2<<20 {
		s.bufs.Put(bp)
	}
}

// seal queues the batch being filled: into memory while the spool is not
// in use and the memory bound allows, else into the spool, else nowhere
// (counted).
func (s *DeliverySink) seal() {
	if s.cur == nil {
		return
	}
	b := batch{buf: s.cur, records: s.curRecords}
	s.cur, s.curRecords = nil, 0
	size := int64(len(*b.buf))
	s.mu.Lock()
	if !s.spooling && s.memBytes+size <= s.cfg.MemoryBytes {
		s.mem = append(s.mem, b)
		s.memBytes += size
		s.memRecords.Add(int64(b.records))
		s.mu.Unlock()
		s.signal()
		return
	}
	if s.spool == nil {
		s.mu.Unlock()
		s.drop(b.records, "memory queue full and no spool")
		s.putBuf(b.buf)
		return
	}
	s.spooling = true
	s.putting++
	s.mu.Unlock()
	err := s.spool.Put(*b.buf, b.records)
	s.mu.Lock()
	s.putting--
	s.mu.Unlock()
	if err != nil {
		if !errors.Is(err, spool.ErrFull) {
			s.spoolErrors.Add(1)
		}
		s.drop(b.records, err.Error())
	}
	s.putBuf(b.buf)
	s.signal()
}

func (s *DeliverySink) drop(records int, why string) {
	s.dropped.Add(uint64(records))
	s.warn("batch dropped", "records", records, "reason", why, "dropped_records_total", s.dropped.Load())
}

func (s *DeliverySink) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// warn logs at most once a second.
func (s *DeliverySink) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := s.lastWarn.Load()
	if now-last < int64(time.Second) || !s.lastWarn.CompareAndSwap(last, now) {
		return
	}
	s.log.Error(msg, append([]any{"sink", s.cfg.Name}, args...)...)
}

// run delivers batches, oldest first, until Close.
func (s *DeliverySink) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		if len(s.mem) > 0 {
			b := s.mem[0]
			s.mu.Unlock()
			if !s.deliver(*b.buf, b.records) {
				return // Close ran out of time; b stays in mem
			}
			s.mu.Lock()
			s.mem = s.mem[1:]
			s.memBytes -= int64(len(*b.buf))
			s.memRecords.Add(-int64(b.records))
			s.mu.Unlock()
			s.putBuf(b.buf)
			continue
		}
		spooling, closing := s.spooling, s.closing
		s.mu.Unlock()
		if spooling {
			seg, ok, err := s.spool.Oldest()
			switch {
			case err != nil:
				s.spoolErrors.Add(1)
				s.warn("spool: reading failed", "err", err)
				if !s.sleep(s.cfg.RetryMax) {
					return
				}
			case ok:
				if !s.deliver(seg.Data, seg.Records) {
					return
				}
				if err := s.spool.Remove(seg.Seq); err != nil {
					s.spoolErrors.Add(1)
					s.warn("spool: removing a delivered batch failed (it would be delivered again)", "err", err)
				}
			default:
				s.mu.Lock()
				if s.putting == 0 && s.spool.Len() == 0 {
					s.spooling = false
				}
				again := s.spooling
				s.mu.Unlock()
				if again && !s.sleep(time.Millisecond) { // a put in progress
					return
				}
			}
			continue
		}
		if closing {
			return // all delivered
		}
		<-s.wake
	}
}

// deliver sends one batch until it is stored or rejected; it returns
// false, the batch not delivered, when Close ran out of time.
func (s *DeliverySink) deliver(data []byte, records int) bool {
	backoff := s.cfg.RetryMin
	for {
		if s.ctx.Err() != nil {
			return false
		}
		start := time.Now()
		err := s.d.Deliver(s.ctx, data, records)
		if err == nil {
			s.latencyNs.Add(uint64(time.Since(start)))
			s.batches.Add(1)
			s.records.Add(uint64(records))
			s.bytes.Add(uint64(len(data)))
			return true
		}
		s.errs.Add(1)
		if errors.Is(err, ErrRejected) {
			s.reject(data, records, err)
			return true
		}
		if s.ctx.Err() != nil {
			return false
		}
		s.warn("delivery failed; retrying", "err", err, "records", records, "retry_in", backoff)
		if !s.sleep(backoff) {
			return false
		}
		s.retries.Add(1)
		backoff = min(2*backoff, s.cfg.RetryMax)
	}
}

// reject counts a refused batch and keeps it in the spool's rejected/
// directory, if there is a spool.
func (s *DeliverySink) reject(data []byte, records int, why error) {
	s.rejected.Add(uint64(records))
	s.warn("batch rejected by the receiver; moved aside, not retried", "records", records,
		"bytes", len(data), "err", why, "rejected_records_total", s.rejected.Load())
	if s.spool != nil {
		if err := s.spool.PutAside(data, records, why.Error()); err != nil {
			s.spoolErrors.Add(1)
			s.warn("spool: keeping a rejected batch failed", "err", err)
		}
	}
}

// sleep waits d, or less if Close ran out of time (then it returns false).
func (s *DeliverySink) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// Close seals the last batch, keeps delivering for at most CloseTimeout,
// then stops the delivery and spools the batches still in memory in front
// of the spooled ones (their order kept), or drops them (counted) without
// a spool. A batch being delivered when time runs out may have been stored
// by the receiver and is spooled nonetheless: it can arrive twice.
func (s *DeliverySink) Close() error {
	s.seal()
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.signal()
	t := time.NewTimer(s.cfg.CloseTimeout)
	select {
	case <-s.done:
	case <-t.C:
		s.cancel()
		<-s.done
	}
	t.Stop()
	s.cancel()
	var errs []error
	s.mu.Lock()
	mem := s.mem
	s.mem, s.memBytes = nil, 0
	s.mu.Unlock()
	for i := len(mem) - 1; i >= 0; i-- {
		b := mem[i]
		s.memRecords.Add(-int64(b.records))
		if s.spool == nil {
			s.dropped.Add(uint64(b.records))
			continue
		}
		if err := s.spool.Prepend(*b.buf, b.records); err != nil {
			s.dropped.Add(uint64(b.records))
			errs = append(errs, err)
		}
	}
	if n := s.dropped.Load(); n > 0 {
		s.log.Error("records dropped", "sink", s.cfg.Name, "records", n)
	}
	if s.spool != nil {
		if st := s.spool.Stats(); st.Segments > 0 {
			s.log.Warn("spool: batches left for the next run", "sink", s.cfg.Name, "dir", s.cfg.SpoolDir,
				"batches", st.Segments, "records", st.Records, "bytes", st.Bytes)
		}
		if err := s.spool.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := s.d.Close(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", s.cfg.Name, err))
	}
	return errors.Join(errs...)
}

// DeliveryStats are a delivery sink's counters and gauges.
type DeliveryStats struct {
	Batches, Records, Bytes uint64 // delivered
	Latency                 time.Duration
	Retries, Errors         uint64
	Rejected, Dropped       uint64 // records
	MemoryRecords           int64
	MemoryBytes             int64
	Spool                   spool.Stats
	SpoolErrors             uint64
}

// Stats returns the sink's counters.
func (s *DeliverySink) Stats() DeliveryStats {
	st := DeliveryStats{
		Batches: s.batches.Load(), Records: s.records.Load(), Bytes: s.bytes.Load(),
		Latency: time.Duration(s.latencyNs.Load()), Retries: s.retries.Load(), Errors: s.errs.Load(),
		Rejected: s.rejected.Load(), Dropped: s.dropped.Load(),
		MemoryRecords: s.memRecords.Load(), SpoolErrors: s.spoolErrors.Load(),
	}
	s.mu.Lock()
	st.MemoryBytes = s.memBytes
	s.mu.Unlock()
	if s.spool != nil {
		st.Spool = s.spool.Stats()
	}
	return st
}

// SinkMetrics reports the delivery counters (MetricsSink).
func (s *DeliverySink) SinkMetrics() []SinkMetric {
	st := s.Stats()
	c := func(name, help string, v uint64) SinkMetric {
		return SinkMetric{Name: name, Type: "counter", Help: help, Value: float64(v)}
	}
	g := func(name, help string, v int64) SinkMetric {
		return SinkMetric{Name: name, Type: "gauge", Help: help, Value: float64(max(v, 0))}
	}
	return []SinkMetric{
		c("nfcollect_delivery_batches_total", "Batches the receiver stored.", st.Batches),
		c("nfcollect_delivery_flows_total", "Flows the receiver stored.", st.Records),
		c("nfcollect_delivery_bytes_total", "Bytes of the batches the receiver stored (before compression on the wire).", st.Bytes),
		{Name: "nfcollect_delivery_duration_seconds_total", Type: "counter", Help: "Time spent delivering the stored batches (divide by nfcollect_delivery_batches_total for the mean latency).", Value: st.Latency.Seconds()},
		c("nfcollect_delivery_retries_total", "Deliveries retried after a failure.", st.Retries),
		c("nfcollect_delivery_errors_total", "Failed deliveries (retried or rejected).", st.Errors),
		c("nfcollect_delivery_rejected_flows_total", "Flows in batches the receiver refused as malformed (moved aside, not retried).", st.Rejected),
		c("nfcollect_delivery_dropped_flows_total", "Flows dropped: memory queue and spool full, or no spool.", st.Dropped),
		g("nfcollect_delivery_memory_flows", "Flows in batches waiting in memory.", st.MemoryRecords),
		g("nfcollect_delivery_memory_bytes", "Bytes of the batches waiting in memory.", st.MemoryBytes),
		g("nfcollect_delivery_spool_flows", "Flows in batches waiting in the spool.", st.Spool.Records),
		g("nfcollect_delivery_spool_bytes", "Bytes of the spool's segments.", st.Spool.Bytes),
		c("nfcollect_delivery_spool_errors_total", "Failed spool reads, writes and removals.", st.SpoolErrors),
		c("nfcollect_delivery_spool_damaged_total", "Damaged spool segments and leftover temporary files found (moved aside or removed).", st.Spool.Corrupt+st.Spool.TempRemoved),
	}
}
