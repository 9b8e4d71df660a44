package collector

import (
	"context"
	"hash/maphash"
	"net/netip"
	"sync"
	"time"
)

// Packet is one export packet as an input hands it to the collector.
type Packet struct {
	// Data is the export packet (a UDP payload, or one message of a
	// stream). Submit copies it.
	Data []byte
	// Source is the exporter's address and port.
	Source netip.AddrPort
	// Received is when the packet arrived (the capture time when read
	// from a capture), Unix ns.
	Received int64
	// Session scopes templates to a transport session (IPFIX over TCP or
	// SCTP, RFC 7011 §8): packets with the same Source and a non-zero
	// Session share templates that no other session sees. 0 means
	// datagrams: templates belong to the exporter address.
	Session uint64
	// End marks the end of Session: its templates are forgotten. Data is
	// ignored.
	End bool
}

// An Input feeds export packets to a collector: UDP sockets, capture
// files, and later stream sessions and other protocols. Each is one file
// of this package behind this interface.
type Input interface {
	// Run submits packets (Collector.Submit) until ctx ends or the input
	// is exhausted, and reports why it stopped (nil for both).
	Run(ctx context.Context, c *Collector) error
	// Close releases the input; a blocked Run returns.
	Close() error
}

// packet is a queued export packet: a copy of Packet.Data in a pooled
// buffer.
type packet struct {
	data    []byte
	src     netip.AddrPort
	ts      int64 // receive time, Unix ns
	session uint64
	end     bool
	buf     *[]byte // the pooled buffer holding data
}

// The size classes of packet buffers: a datagram is copied into the
// smallest that holds it, so that a small packet never pins a 64 KiB
// buffer, and queued bytes are accounted by the class size.
var bufClasses = [...]int{256, 2 << 10, 16 << 10, 64 << 10}

// bufPool holds packet buffers by size class.
type bufPool struct {
	pools [len(bufClasses)]sync.Pool
}

// get returns a buffer of at least n bytes (n ≤ 64 KiB), with its class.
func (p *bufPool) get(n int) *[]byte {
	for i, size := range bufClasses {
		if n <= size {
			if b, ok := p.pools[i].Get().(*[]byte); ok {
				return b
			}
			b := make([]byte, 0, size)
			return &b
		}
	}
	b := make([]byte, 0, n)
	return &b
}

//nfkit:hot
func (p *bufPool) put(b *[]byte) {
	c := cap(*b)
	for i, size := range bufClasses {
		if c == size {
			p.pools[i].Put(b)
			return
		}
	}
}

// Submit hands one export packet to the decode worker that owns its
// exporter (by address hash). With wait false (live traffic) it never
// blocks: when the worker's queue is full, or the packets waiting in all
// queues hold Config.QueueBytes, the packet is dropped and counted
// (nfcollect_queue_drops_total). With wait true (replay) it waits for room
// instead, unless ctx ends. It reports whether the packet was queued.
func (c *Collector) Submit(ctx context.Context, p Packet, wait bool) bool {
	w := c.workerFor(p.Source.Addr())
	w.received.Add(1)
	w.receivedBytes.Add(uint64(len(p.Data)))
	if c.closing.Load() {
		w.queueDrops.Add(1)
		return false
	}
	if len(p.Data) > maxPacket {
		p.Data = p.Data[:maxPacket]
	}
	bp := c.bufs.get(len(p.Data))
	size := int64(cap(*bp))
	if !c.reserve(ctx, size, wait) {
		c.bufs.put(bp)
		w.queueDrops.Add(1)
		return false
	}
	b := append((*bp)[:0], p.Data...)
	*bp = b
	q := packet{data: b, src: p.Source, ts: p.Received, session: p.Session, end: p.End, buf: bp}
	if wait {
		select {
		case w.in <- q:
			return true
		case <-ctx.Done():
		case <-c.stopped:
		}
	} else {
		select {
		case w.in <- q:
			return true
		default:
		}
	}
	c.release(q)
	w.queueDrops.Add(1)
	return false
}

// maxPacket is the largest export packet: the largest UDP payload.
const maxPacket = 65535

// reserve takes size bytes of the queue budget, waiting for room when
// wait is set.
func (c *Collector) reserve(ctx context.Context, size int64, wait bool) bool {
	for {
		if c.queuedBytes.Add(size) <= c.cfg.QueueBytes {
			return true
		}
		c.queuedBytes.Add(-size)
		if !wait || ctx.Err() != nil {
			return false
		}
		time.Sleep(time.Millisecond)
	}
}

// release returns a queued packet's buffer and its share of the queue
// budget.
//
//nfkit:hot
func (c *Collector) release(p packet) {
	if p.buf == nil {
		return
	}
	c.queuedBytes.Add(-int64(cap(*p.buf)))
	c.bufs.put(p.buf)
}

// workerFor returns the worker that owns exporter addr.
func (c *Collector) workerFor(addr netip.Addr) *worker {
	if len(c.workers) == 1 {
		return c.workers[0]
	}
	a := addr.Unmap().As16()
	return c.workers[maphash.Bytes(c.seed, a[:])%uint64(len(c.workers))]
}
