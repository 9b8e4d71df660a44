// Package collector receives NetFlow v1/v5/v7/v9 and IPFIX export packets
// (over UDP, from captures, from any Input), decodes them with package
// decode and hands the records to one or more outputs: an Encoder (JSON
// lines, the python-netflow format, ClickHouse rows) and a Sink (a file,
// rotated files, standard output, or a DeliverySink that batches for a
// remote receiver such as ClickHouse, with a memory queue and an on-disk
// spool) each.
//
// Inputs hand each packet to the decode worker that owns its exporter (by
// address hash) through a queue bounded in packets and bytes, whose
// overflow is counted, never silent. Workers decode, keep data that
// arrives before its template, track sequence numbers, and encode and
// frame (compress) chunks in parallel; each output writes its chunks from
// a bounded queue of its own, so that a slow or failed sink stalls neither
// receiving nor another sink.
package collector

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nfkit/nfkit/decode"
)

// Config configures a Collector. Zero fields take the defaults noted.
type Config struct {
	Host    string // listen address; "" = all IPv4 and IPv6 addresses
	Port    int    // UDP port (default 2055)
	Workers int    // receive sockets and decode workers (default: number of CPUs)
	RcvBuf  int    // socket receive buffer in bytes (default 32 MiB)
	Allow   []netip.Prefix

	// Outputs are where the records go; at least one.
	Outputs []Output

	TemplatesFile string // persist templates and sampling state here
	Renormalize   bool   // multiply counters by the sampling rate
	Debug         bool

	QueueLen   int   // packets per decode queue (default 65536)
	QueueBytes int64 // memory of the packets in all decode queues (default 256 MiB)
	ChunkSize  int   // uncompressed bytes per output chunk (default 1 MiB)
	// FlushInterval: buffered records are handed to the outputs at least
	// this often (default 1s).
	FlushInterval     time.Duration
	PendingPackets    int           // packets waiting for a template, per exporter (default 1024)
	PendingBytes      int           // their memory, per exporter (default 4 MiB)
	PendingTotalBytes int           // their memory, per worker (default 64 MiB)
	PendingAge        time.Duration // how long a packet may wait (default 1h, as python-netflow)
	// ExporterIdle: the templates of an exporter silent this long are
	// forgotten and not saved in TemplatesFile (default: 1h or PendingAge,
	// whichever is longer).
	ExporterIdle          time.Duration
	ErrorLogInterval      time.Duration // per exporter, at most one bad-packet log line per interval (default 10s)
	TemplatesSaveInterval time.Duration // save TemplatesFile this often while running (default 30s)
	StatsInterval         time.Duration // per-exporter summary log line (default 5m; 0 keeps the default, <0 disables)
	// ShutdownTimeout bounds the decoding of what is queued at shutdown;
	// writing what was decoded gets as long again (default 10s).
	ShutdownTimeout time.Duration
	// MetricsExporters is how many exporters get metric series of their
	// own; the others are summed as exporter="other" (default 1000).
	MetricsExporters int
	Limits           decode.Limits

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
	if c.QueueBytes <= 0 {
		c.QueueBytes = 256 << 20
	}
	def(&c.ChunkSize, 1<<20)
	def(&c.PendingPackets, 1024)
	def(&c.PendingBytes, 4<<20)
	def(&c.PendingTotalBytes, 64<<20)
	def(&c.MetricsExporters, 1000)
	defDur(&c.FlushInterval, time.Second)
	defDur(&c.PendingAge, time.Hour)
	defDur(&c.ExporterIdle, max(time.Hour, c.PendingAge))
	defDur(&c.ErrorLogInterval, 10*time.Second)
	defDur(&c.StatsInterval, 5*time.Minute)
	defDur(&c.TemplatesSaveInterval, 30*time.Second)
	defDur(&c.ShutdownTimeout, 10*time.Second)
	if c.Limits.MaxExporters <= 0 {
		c.Limits.MaxExporters = 10000
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
	workers []*worker
	outputs []*output
	wg      sync.WaitGroup
	seed    maphash.Seed
	bufs    bufPool

	tcpMu     sync.Mutex
	tcpInputs []*TCPInput // for the metrics

	queuedBytes  atomic.Int64 // memory of queued packets (Config.QueueBytes)
	pendingBytes atomic.Int64 // memory of pending packets, all workers
	// replaying is set while a capture is read: queues wait instead of
	// dropping, and the clock is the capture's (clock).
	replaying atomic.Bool
	clock     atomic.Int64
	// closing is set by Close: inputs' packets are no longer queued;
	// stopped is closed then, to stop the workers.
	closing atomic.Bool
	stopped chan struct{}
	// drainDeadline (Unix ns, 0 = none) is when shutdown stops decoding
	// what is queued; outputs stop writing at outputDeadline, set when the
	// workers have stopped.
	drainDeadline  atomic.Int64
	outputDeadline atomic.Int64
	closeOnce      sync.Once
	closeErr       error
	rotateMu       sync.Mutex // Rotate against Close

	saveMu    sync.Mutex
	savedGens []uint64 // decoder state versions last saved
}

// New checks the configuration, restores saved templates and starts the
// workers and outputs.
func New(cfg Config) (*Collector, error) {
	cfg.setDefaults()
	if len(cfg.Outputs) == 0 {
		return nil, errors.New("no output")
	}
	if len(cfg.Outputs) > 64 {
		return nil, errors.New("more than 64 outputs")
	}
	c := &Collector{
		cfg:     cfg,
		log:     cfg.Logger,
		metrics: newMetrics(cfg.MetricsExporters),
		seed:    maphash.MakeSeed(),
		stopped: make(chan struct{}),
	}
	names := map[string]bool{}
	for _, o := range cfg.Outputs {
		if o.Encoder == nil || o.Sink == nil {
			return nil, fmt.Errorf("output %q lacks an encoder or a sink", o.Name)
		}
		if names[o.Name] {
			return nil, fmt.Errorf("two outputs named %q", o.Name)
		}
		names[o.Name] = true
		c.outputs = append(c.outputs, newOutput(c, o))
	}
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
	for _, o := range c.outputs {
		go o.run()
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

// Workers returns the number of decode workers.
func (c *Collector) Workers() int { return len(c.workers) }

// now is the collector's clock: the wall clock, or the capture's time
// while replaying.
func (c *Collector) now() time.Time {
	if c.replaying.Load() {
		return time.Unix(0, c.clock.Load())
	}
	return time.Now()
}

// allowed reports whether packets from addr are accepted (Config.Allow).
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

// Serve runs the inputs until ctx ends or every input is done (a capture
// read to its end), then stops them, decodes what they queued, completes
// the outputs and saves the templates.
func (c *Collector) Serve(ctx context.Context, inputs ...Input) error {
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make([]error, len(inputs))
	for i, in := range inputs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = in.Run(runCtx, c)
		}()
	}
	inputsDone := make(chan struct{})
	go func() { wg.Wait(); close(inputsDone) }()
	if c.cfg.StatsInterval > 0 {
		go every(runCtx, c.cfg.StatsInterval, c.logStats)
	}
	if c.cfg.TemplatesFile != "" {
		go every(runCtx, c.cfg.TemplatesSaveInterval, c.saveTemplatesNow)
	}
	select {
	case <-ctx.Done():
	case <-inputsDone:
	}
	stop()
	for _, in := range inputs {
		in.Close()
	}
	<-inputsDone
	err := c.Close() // decodes what the inputs queued
	c.logStats()
	return errors.Join(append(errs, err)...)
}

// Rotate hands every worker's buffered records to the outputs and rotates
// them (SIGHUP): rotated files start the next file, a single file is
// reopened under its name. After Close it does nothing.
func (c *Collector) Rotate() {
	c.rotateMu.Lock()
	defer c.rotateMu.Unlock()
	if c.closing.Load() {
		return
	}
	c.flushAll()
	for _, o := range c.outputs {
		o.rotate()
	}
}

func (c *Collector) flushAll() {
	for _, w := range c.workers {
		w.call(func() { w.flush(false) })
	}
}

// Close stops the workers after they decoded what is queued (for at most
// Config.ShutdownTimeout; what is left is counted), completes the outputs
// (for at most as long again) and saves the templates. Inputs must have
// stopped.
func (c *Collector) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.close() })
	return c.closeErr
}

func (c *Collector) close() error {
	c.rotateMu.Lock()
	c.closing.Store(true)
	c.rotateMu.Unlock()
	start := time.Now()
	c.drainDeadline.Store(start.Add(c.cfg.ShutdownTimeout).UnixNano())
	close(c.stopped)
	c.wg.Wait()
	var dropped uint64
	for _, w := range c.workers {
		dropped += w.shutdownDrops.Load()
	}
	if dropped > 0 {
		c.log.Error("shutdown ran out of time; queued packets not decoded", "packets", dropped, "timeout", c.cfg.ShutdownTimeout)
	}
	// Outputs write what was decoded, within their own bound.
	outputDeadline := time.Now().Add(c.cfg.ShutdownTimeout)
	c.outputDeadline.Store(outputDeadline.UnixNano())
	var errs []error
	for _, o := range c.outputs {
		close(o.queue)
	}
	for _, o := range c.outputs {
		select {
		case <-o.done:
		case <-time.After(time.Until(outputDeadline) + time.Second):
			errs = append(errs, fmt.Errorf("output %s did not complete within %v", o.Name, c.cfg.ShutdownTimeout))
		}
	}
	if c.cfg.TemplatesFile != "" {
		if err := c.saveTemplates(false); err != nil {
			errs = append(errs, fmt.Errorf("saving templates: %w", err))
		}
	}
	return errors.Join(errs...)
}

// giveUp reports whether shutdown has run out of time for writing (the
// outputs get ShutdownTimeout once the workers have stopped).
func (c *Collector) giveUp() bool {
	dl := c.outputDeadline.Load()
	return dl != 0 && time.Now().UnixNano() > dl
}

// Stats is a summary of what a collector did.
type Stats struct {
	Packets      uint64 // received (queued or dropped)
	Decoded      uint64 // taken from the queues and decoded
	Flows        uint64 // decoded
	Errors       uint64 // packets with decode errors
	QueueDrops   uint64
	PendingDrops uint64
	SeqLost      uint64
	WriteErrors  uint64 // all outputs
	OutputFlows  uint64 // written, all outputs
	OutputBytes  uint64
}

// Stats returns the totals so far.
func (c *Collector) Stats() Stats {
	var s Stats
	for _, w := range c.workers {
		s.Packets += w.received.Load()
		s.QueueDrops += w.queueDrops.Load() + w.shutdownDrops.Load()
	}
	for _, e := range c.metrics.all() {
		s.Decoded += e.packets.Load()
		s.Flows += e.flows.Load()
		for r := range numReasons {
			s.Errors += e.errors[r].Load()
		}
		s.PendingDrops += e.pendingDrops.Load()
		s.SeqLost += e.seqLost.Load()
	}
	for _, o := range c.outputs {
		s.WriteErrors += o.writeErrors.Load()
		s.OutputFlows += o.written.Load()
		s.OutputBytes += o.writtenBytes.Load()
	}
	return s
}

// logStats writes one summary line per named exporter and one for the
// others.
func (c *Collector) logStats() {
	named, other := c.metrics.snapshot()
	line := func(name any, e *exporterStats) {
		var errs uint64
		for r := range numReasons {
			errs += e.errors[r].Load()
		}
		c.log.Info("exporter", "exporter", name, "packets", e.packets.Load(), "flows", e.flows.Load(),
			"sequence_lost", e.seqLost.Load(), "sequence_resets", e.seqResets.Load(), "decode_errors", errs,
			"pending", e.pending.Load(), "pending_dropped", e.pendingDrops.Load(),
			"templates", e.templates.Load())
	}
	for _, e := range named {
		line(e.addr, e)
	}
	if other.packets.Load() != 0 {
		line("other", other)
	}
}

// every calls f every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}
