// Package collector receives NetFlow v1/v5/v7/v9 and IPFIX export packets
// over UDP (or from pcap captures), decodes them with package decode and
// writes one JSON line per flow (docs/output-schema.md) to compressed,
// optionally rotated files.
//
// Receivers read datagrams in batches and hand each to the decode worker
// that owns its exporter (by address hash), through a bounded queue whose
// overflow is counted, never silent. Workers decode, keep data that
// arrives before its template, track sequence numbers, encode and compress
// chunks in parallel; the output only appends finished chunks.
package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/nfkit/nfkit/decode"
)

// Output formats.
const (
	FormatJSON   = "json"
	FormatPython = "python-netflow"
)

// Config configures a Collector. Zero fields take the defaults noted.
type Config struct {
	Host    string // listen address; "" = all IPv4 and IPv6 addresses
	Port    int    // UDP port (default 2055)
	Workers int    // receive sockets and decode workers (default: number of CPUs)
	RcvBuf  int    // socket receive buffer in bytes (default 32 MiB)
	Allow   []netip.Prefix

	Output string        // output file; "-" for plain JSON lines on Stdout
	Stdout io.Writer     // where "-" writes (default os.Stdout)
	Dir    string        // with Rotate: directory of rotated files
	Prefix string        // rotated file name prefix (default "nfcollect")
	Rotate time.Duration // start a new file every Rotate (needs Dir)
	Codec  string        // for rotated files: "gz", "zst" or "" (plain)

	Format        string // FormatJSON (default) or FormatPython
	TemplatesFile string // persist templates and sampling state here
	Renormalize   bool   // multiply counters by the sampling rate
	Debug         bool

	QueueLen              int           // packets per decode queue (default 8192)
	ChunkSize             int           // uncompressed bytes per output chunk (default 1 MiB)
	FlushInterval         time.Duration // flush buffered flows at least this often (default 1s)
	PendingPackets        int           // packets waiting for a template, per exporter (default 1024)
	PendingBytes          int           // their bytes, per exporter (default 4 MiB)
	PendingTotalBytes     int           // their bytes, per worker (default 64 MiB)
	PendingAge            time.Duration // how long a packet may wait (default 1h, as python-netflow)
	ErrorLogInterval      time.Duration // per exporter, at most one bad-packet log line per interval (default 10s)
	TemplatesSaveInterval time.Duration // save TemplatesFile this often while running (default 30s)
	StatsInterval         time.Duration // per-exporter summary log line (default 5m; 0 keeps the default, <0 disables)
	Limits                decode.Limits

	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Port, 2055)
	def(&c.Workers, runtime.NumCPU())
	def(&c.RcvBuf, 32<<20)
	def(&c.QueueLen, 65536)
	def(&c.ChunkSize, 1<<20)
	def(&c.PendingPackets, 1024)
	def(&c.PendingBytes, 4<<20)
	def(&c.PendingTotalBytes, 64<<20)
	defDur(&c.FlushInterval, time.Second)
	defDur(&c.PendingAge, time.Hour)
	defDur(&c.ErrorLogInterval, 10*time.Second)
	defDur(&c.StatsInterval, 5*time.Minute)
	defDur(&c.TemplatesSaveInterval, 30*time.Second)
	if c.Prefix == "" {
		c.Prefix = "nfcollect"
	}
	if c.Format == "" {
		c.Format = FormatJSON
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Collector is a running collector.
type Collector struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	sink    *sink
	workers []*worker
	wg      sync.WaitGroup
	seed    maphash.Seed
	pool    sync.Pool
	closed  bool
	savedMu sync.Mutex
	saved   []byte // template state last written
}

// New checks the configuration and prepares the output and the workers.
func New(cfg Config) (*Collector, error) {
	cfg.setDefaults()
	if cfg.Limits.MaxExporters <= 0 {
		cfg.Limits.MaxExporters = 10000
	}
	if cfg.Format != FormatJSON && cfg.Format != FormatPython {
		return nil, fmt.Errorf("unknown format %q (want %s or %s)", cfg.Format, FormatJSON, FormatPython)
	}
	c := &Collector{
		cfg:     cfg,
		log:     cfg.Logger,
		metrics: newMetrics(cfg.Limits.MaxExporters),
		seed:    maphash.MakeSeed(),
	}
	c.pool.New = func() any { b := make([]byte, 0, 2048); return &b }
	s := &sink{log: c.log, m: c.metrics, path: cfg.Output, stdout: cfg.Stdout}
	if s.stdout == nil {
		s.stdout = os.Stdout
	}
	switch {
	case cfg.Rotate > 0:
		if cfg.Dir == "" {
			return nil, errors.New("--rotate needs --dir")
		}
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, err
		}
		s.dir, s.prefix, s.interval = cfg.Dir, cfg.Prefix, cfg.Rotate
		switch cfg.Codec {
		case "gz", "gzip":
			s.codec = codecGzip
		case "zst", "zstd":
			s.codec = codecZstd
		case "", "none", "plain":
		default:
			return nil, fmt.Errorf("unknown compression %q (want gz, zst or none)", cfg.Codec)
		}
	case cfg.Output == "":
		return nil, errors.New("no output: set an output file or --rotate with --dir")
	case cfg.Output != "-":
		s.codec = codecFor(cfg.Output)
	}
	c.sink = s
	for range cfg.Workers {
		w, err := newWorker(c)
		if err != nil {
			return nil, err
		}
		c.workers = append(c.workers, w)
	}
	if cfg.TemplatesFile != "" {
		c.loadTemplates()
	}
	for _, w := range c.workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			w.run()
		}()
	}
	return c, nil
}

// loadTemplates restores the saved decoder state into every worker (an
// exporter may hash to any of them after a change of worker count).
func (c *Collector) loadTemplates() {
	b, err := os.ReadFile(c.cfg.TemplatesFile)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err != nil {
		c.log.Warn("cannot read the templates file; starting without", "file", c.cfg.TemplatesFile, "err", err)
		return
	}
	for _, w := range c.workers {
		if err := w.dec.UnmarshalState(b); err != nil {
			c.log.Warn("templates file partly unusable", "file", c.cfg.TemplatesFile, "err", err)
		}
	}
	c.log.Info("templates restored", "file", c.cfg.TemplatesFile, "templates", c.workers[0].dec.NumTemplates())
}

// saveTemplates writes the union of the workers' state (each exporter lives
// in one worker) atomically, unless it equals what was saved last. With
// running true the workers are asked for their state in their own
// goroutines; otherwise they have stopped.
func (c *Collector) saveTemplates(running bool) error {
	var all decode.Decoder
	all.Limits = c.cfg.Limits
	reply := make(chan []byte)
	for _, w := range c.workers {
		var b []byte
		if running {
			w.stateCh <- reply
			b = <-reply
		} else {
			var err error
			if b, err = w.dec.MarshalState(); err != nil {
				return err
			}
		}
		if err := all.UnmarshalState(b); err != nil {
			c.log.Warn("merging template state", "err", err)
		}
	}
	b, err := all.MarshalState()
	if err != nil {
		return err
	}
	c.savedMu.Lock()
	defer c.savedMu.Unlock()
	if bytes.Equal(b, c.saved) {
		return nil
	}
	tmp := c.cfg.TemplatesFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.cfg.TemplatesFile); err != nil {
		return err
	}
	c.saved = b
	return nil
}

// saveLoop saves the template state every interval while the collector
// runs, so a crash loses at most that much.
func (c *Collector) saveLoop(ctx context.Context) {
	if c.cfg.TemplatesFile == "" {
		return
	}
	t := time.NewTicker(c.cfg.TemplatesSaveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.saveTemplates(true); err != nil {
				c.log.Error("saving templates failed", "file", c.cfg.TemplatesFile, "err", err)
			}
		}
	}
}

// allowed reports whether packets from addr are accepted.
func (c *Collector) allowed(addr netip.Addr) bool {
	if len(c.cfg.Allow) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range c.cfg.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// workerFor returns the worker that owns exporter addr.
func (c *Collector) workerFor(addr netip.Addr) *worker {
	if len(c.workers) == 1 {
		return c.workers[0]
	}
	a := addr.Unmap().As16()
	return c.workers[maphash.Bytes(c.seed, a[:])%uint64(len(c.workers))]
}

// newPacket copies a datagram into a pooled buffer.
func (c *Collector) newPacket(data []byte, src netip.AddrPort, ts int64) packet {
	bp := c.pool.Get().(*[]byte)
	b := append((*bp)[:0], data...)
	*bp = b
	return packet{data: b, src: src, ts: ts, buf: bp}
}

func (c *Collector) release(p packet) {
	if p.buf != nil && cap(*p.buf) <= 64<<10 {
		c.pool.Put(p.buf)
	}
}

// dispatch queues a packet for its worker. With wait false (live
// traffic) a full queue drops the packet and counts it; the receive path
// never blocks on decoding.
func (c *Collector) dispatch(p packet, wait bool) {
	w := c.workerFor(p.src.Addr())
	if wait {
		w.in <- p
		return
	}
	select {
	case w.in <- p:
	default:
		c.metrics.exporter(p.src.Addr().Unmap()).queueDrops.Add(1)
		c.release(p)
	}
}

// Rotate flushes every worker and completes the current rotated file.
func (c *Collector) Rotate() {
	c.flushAll()
	c.sink.rotate(time.Now())
}

func (c *Collector) flushAll() {
	done := make(chan struct{})
	for _, w := range c.workers {
		w.flushCh <- done
		<-done
	}
}

// Close stops the workers after they decoded everything queued, flushes
// and completes the output, and saves the templates. Receivers must have
// stopped.
func (c *Collector) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	for _, w := range c.workers {
		close(w.in)
	}
	c.wg.Wait()
	var errs []error
	if err := c.sink.close(); err != nil {
		errs = append(errs, fmt.Errorf("completing output: %w", err))
	}
	if c.cfg.TemplatesFile != "" {
		if err := c.saveTemplates(false); err != nil {
			errs = append(errs, fmt.Errorf("saving templates: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Stats is a summary of what a collector did.
type Stats struct {
	Packets, Flows, Errors, QueueDrops, PendingDrops, SeqLost uint64
	WriteErrors, OutputBytes                                  uint64
}

// Stats returns the totals so far.
func (c *Collector) Stats() Stats {
	var s Stats
	for _, e := range c.metrics.snapshot() {
		s.Packets += e.packets.Load()
		s.Flows += e.flows.Load()
		for r := range numReasons {
			s.Errors += e.errors[r].Load()
		}
		s.QueueDrops += e.queueDrops.Load()
		s.PendingDrops += e.pendingDrops.Load()
		s.SeqLost += e.seqLost.Load()
	}
	s.WriteErrors = c.metrics.writeErrors.Load()
	s.OutputBytes = c.metrics.outputBytes.Load()
	return s
}

// AppendMetrics appends the Prometheus text exposition of the metrics.
func (c *Collector) AppendMetrics(b []byte) []byte { return c.metrics.appendPrometheus(b) }

// logStats writes one summary line per exporter.
func (c *Collector) logStats() {
	for _, e := range c.metrics.snapshot() {
		var errs uint64
		for r := range numReasons {
			errs += e.errors[r].Load()
		}
		c.log.Info("exporter", "exporter", e.addr, "packets", e.packets.Load(), "flows", e.flows.Load(),
			"sequence_lost", e.seqLost.Load(), "sequence_resets", e.seqResets.Load(), "decode_errors", errs,
			"queue_drops", e.queueDrops.Load(), "pending", e.pending.Load(), "pending_dropped", e.pendingDrops.Load(),
			"templates", e.templates.Load())
	}
}

// statsLoop logs the per-exporter summary every StatsInterval until ctx
// ends.
func (c *Collector) statsLoop(ctx context.Context) {
	if c.cfg.StatsInterval < 0 {
		return
	}
	t := time.NewTicker(c.cfg.StatsInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.logStats()
		}
	}
}
