package collector

import (
	"sync"
	"sync/atomic"
	"time"
)

// A Sink stores encoded records: a file, rotated files, standard output;
// each is one file of this package behind this interface (and so will be a
// database or a message bus).
//
// The collector calls a sink's methods from one goroutine of its own, fed
// by a bounded queue, so a slow or failed sink never stalls receiving,
// decoding or another sink: what its queue cannot hold is dropped and
// counted.
type Sink interface {
	// Write stores one chunk of whole encoded records. An error means
	// that none of them were kept; the sink must leave what it stored
	// before intact.
	Write(c Chunk) error
	// Rotate completes what the sink is writing and starts anew (SIGHUP):
	// rotated files start the next file, a single file is reopened under
	// its name (after logrotate moved it).
	Rotate(now time.Time) error
	// Tick is called about once a second, with the collector's clock
	// (the capture time when replaying), so that a sink can rotate and
	// recover when no records come.
	Tick(now time.Time) error
	// Close completes the sink. Nothing is written after it.
	Close() error
}

// Chunk is a piece of encoded records handed to a sink.
type Chunk struct {
	Data    []byte // framed by the sink's Framer, if it has one
	Records int
	// Time is the collector's clock when the chunk was made (the capture
	// time when replaying): what a rotating sink files it under.
	Time time.Time
}

// Output is one destination of the collector's records: an encoder and a
// sink.
type Output struct {
	Name    string // for logs and the sink label of metrics ("file", "rotate", …)
	Encoder Encoder
	Sink    Sink
	// QueueBytes bounds the chunks waiting for the sink (default 64 MiB).
	QueueBytes int64
}

// output runs one Output: its queue, its goroutine and its counters.
type output struct {
	Output
	c      *Collector
	queue  chan outItem
	queued atomic.Int64 // bytes in queue
	done   chan struct{}
	bufs   sync.Pool

	written      atomic.Uint64 // records stored
	writtenBytes atomic.Uint64
	writeErrors  atomic.Uint64
	writeDropped atomic.Uint64 // records lost to write errors
	queueDropped atomic.Uint64 // records dropped because the queue was full or shutdown ran out of time
	rotations    atomic.Uint64
	lastWarn     atomic.Int64 // Unix ns of the last warning logged
}

// outItem is a chunk to write, or a rotation (rotate set, done closed
// after it).
type outItem struct {
	chunk  Chunk
	buf    *[]byte
	rotate bool
	done   chan struct{}
}

func newOutput(c *Collector, o Output) *output {
	if o.QueueBytes <= 0 {
		o.QueueBytes = 64 << 20
	}
	return &output{Output: o, c: c, queue: make(chan outItem, 4096), done: make(chan struct{})}
}

// enqueue copies a chunk into the output's queue. With wait false a full
// queue drops it (counted); with wait true it waits for room, for at most
// the shutdown timeout once the collector is closing.
func (o *output) enqueue(data []byte, records int, now time.Time, wait bool) {
	size := int64(len(data))
	var until time.Time
	giveUp := func() bool {
		if !o.c.closing.Load() {
			return false
		}
		if until.IsZero() {
			until = time.Now().Add(o.c.cfg.ShutdownTimeout)
		}
		return time.Now().After(until)
	}
	for {
		if n := o.queued.Add(size); n <= o.QueueBytes || n == size {
			break // room, or the queue was empty: one chunk always fits
		}
		o.queued.Add(-size)
		if !wait || giveUp() {
			o.queueDropped.Add(uint64(records))
			o.warn("output queue full; records dropped", "records", records)
			return
		}
		time.Sleep(time.Millisecond)
	}
	bp, _ := o.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	*bp = append((*bp)[:0], data...)
	item := outItem{chunk: Chunk{Data: *bp, Records: records, Time: now}, buf: bp}
	for {
		select {
		case o.queue <- item:
			return
		default:
		}
		if !wait || giveUp() {
			break
		}
		time.Sleep(time.Millisecond)
	}
	o.queued.Add(-size)
	o.queueDropped.Add(uint64(records))
	o.warn("output queue full; records dropped", "records", records)
}

// run writes the queue until it is closed, then closes the sink.
func (o *output) run() {
	defer close(o.done)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case it, ok := <-o.queue:
			if !ok {
				if err := o.Sink.Close(); err != nil {
					o.writeErrors.Add(1)
					o.c.log.Error("completing output failed", "sink", o.Name, "err", err)
				}
				return
			}
			o.handle(it)
		case <-tick.C:
			if err := o.Sink.Tick(o.c.now()); err != nil {
				o.warn("output", "err", err)
			}
		}
	}
}

func (o *output) handle(it outItem) {
	if it.rotate {
		if err := o.Sink.Rotate(o.c.now()); err != nil {
			o.writeErrors.Add(1)
			o.c.log.Error("rotating output failed", "sink", o.Name, "err", err)
		} else {
			o.rotations.Add(1)
		}
		close(it.done)
		return
	}
	size := int64(len(it.chunk.Data))
	if o.c.giveUp() {
		o.queueDropped.Add(uint64(it.chunk.Records))
	} else if err := o.Sink.Write(it.chunk); err != nil {
		o.writeErrors.Add(1)
		o.writeDropped.Add(uint64(it.chunk.Records))
		o.warn("output write failed; records lost", "err", err, "records", it.chunk.Records,
			"write_errors_total", o.writeErrors.Load(), "dropped_records_total", o.writeDropped.Load())
	} else {
		o.written.Add(uint64(it.chunk.Records))
		o.writtenBytes.Add(uint64(size))
	}
	o.queued.Add(-size)
	if cap(*it.buf) <= 4<<20 {
		o.bufs.Put(it.buf)
	}
}

// warn logs at most once a second per output.
func (o *output) warn(msg string, args ...any) {
	now := time.Now().UnixNano()
	last := o.lastWarn.Load()
	if now-last < int64(time.Second) || !o.lastWarn.CompareAndSwap(last, now) {
		return
	}
	o.c.log.Error(msg, append([]any{"sink", o.Name}, args...)...)
}

// rotate asks the sink to rotate after the chunks already queued, and
// waits for it.
func (o *output) rotate() {
	done := make(chan struct{})
	o.queue <- outItem{rotate: true, done: done}
	<-done
}
