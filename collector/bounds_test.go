package collector

import (
	"context"
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/decode"
)

// Memory and state bounds under floods, and the counters that show them.

// block stops worker w until the returned function is called.
func block(w *worker) (release func()) {
	stop, started := make(chan struct{}), make(chan struct{})
	go w.call(func() { close(started); <-stop })
	<-started
	return func() { close(stop) }
}

// The decode queue is bounded in bytes, whatever the datagrams' size: a
// flood of 64 KiB datagrams cannot hold more than QueueBytes.
func TestQueueBytesBound(t *testing.T) {
	c := newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(t.TempDir(), "x.json")), Workers: 1, QueueBytes: 1 << 20})
	release := block(c.workers[0])
	big := make([]byte, 65000)
	big[1] = 99 // an unknown version: cheap to reject
	queued := 0
	for range 100 {
		if c.Submit(context.Background(), Packet{Data: big, Source: netip.MustParseAddrPort("192.0.2.1:1"), Received: 1}, false) {
			queued++
		}
		if q := c.queuedBytes.Load(); q > 1<<20 {
			t.Fatalf("%d bytes queued, bound 1 MiB", q)
		}
	}
	if queued == 0 || queued > 16 {
		t.Errorf("%d datagrams of 65000 bytes queued within 1 MiB", queued)
	}
	// Small datagrams take small buffers: many fit in the same bound.
	small := make([]byte, 100)
	n := 0
	for range 200 {
		if c.Submit(context.Background(), Packet{Data: small, Source: netip.MustParseAddrPort("192.0.2.1:1"), Received: 1}, false) {
			n++
		}
	}
	release()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	if s.Packets != 300 || s.QueueDrops != uint64(300-queued-n) || s.Decoded != uint64(queued+n) {
		t.Errorf("stats %+v: want 300 received, %d queued", s, queued+n)
	}
	if c.queuedBytes.Load() != 0 {
		t.Errorf("%d bytes still accounted as queued", c.queuedBytes.Load())
	}
}

// v9Data returns a NetFlow v9 packet with one data flowset for template
// id (never defined): 28 bytes.
func v9Data(seq uint32, id uint16) []byte {
	b := make([]byte, 28)
	binary.BigEndian.PutUint16(b, 9)
	binary.BigEndian.PutUint16(b[2:], 1)
	binary.BigEndian.PutUint32(b[12:], seq)
	binary.BigEndian.PutUint16(b[20:], id)
	binary.BigEndian.PutUint16(b[22:], 8)
	return b
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC() // twice: pooled buffers survive one

	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// Packets waiting for their template are accounted at their real cost:
// a flood of tiny ones stays within PendingTotalBytes of memory, and the
// oldest go first.
func TestPendingRealCost(t *testing.T) {
	const bound = 8 << 20
	c := newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(t.TempDir(), "x.json")), Workers: 1, PendingTotalBytes: bound})
	before := heapInUse()
	const sources, per = 200, 1024
	for s := range sources {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(s >> 8), byte(s)}), 2055)
		for i := range per {
			c.Submit(context.Background(), Packet{Data: v9Data(uint32(i), 300), Source: src, Received: time.Now().UnixNano()}, true)
		}
	}
	waitDecoded(t, c, sources*per)
	grown := int64(heapInUse()) - int64(before)
	accounted := c.pendingBytes.Load()
	if accounted > bound {
		t.Errorf("pending accounted %d bytes, bound %d", accounted, bound)
	}
	if grown > 2*bound {
		t.Errorf("heap grew %d bytes holding pending packets accounted at %d (bound %d)", grown, accounted, bound)
	}
	var pending, dropped int64
	for _, e := range c.metrics.all() {
		pending += e.pending.Load()
		dropped += int64(e.pendingDrops.Load())
	}
	if pending+dropped != sources*per || dropped == 0 {
		t.Errorf("%d pending + %d dropped, want %d in all, some dropped", pending, dropped, sources*per)
	}
	c.Close()
	t.Logf("%d pending packets accounted at %d bytes; heap grew %d", pending, accounted, grown)
}

// Shutdown with a full queue is bounded: what cannot be decoded in
// ShutdownTimeout is counted, and what was decoded is written.
func TestShutdownTimeout(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.json")
	c := newTestCollector(t, Config{Outputs: fileOut(t, out), Workers: 1, ShutdownTimeout: 300 * time.Millisecond})
	v5 := capturePayloads(t, "softflowd-v5.pcap")[0]
	src := netip.MustParseAddrPort("192.0.2.1:2055")
	c.Submit(context.Background(), Packet{Data: v5, Source: src, Received: 1}, true)
	waitDecoded(t, c, 1)
	release := block(c.workers[0])
	for range 5000 {
		c.Submit(context.Background(), Packet{Data: v5, Source: src, Received: 1}, false)
	}
	start := time.Now()
	go func() { time.Sleep(time.Second); release() }() // the worker is stuck past the timeout
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Close took %v with a 300ms shutdown timeout", d)
	}
	s := c.Stats()
	if s.Decoded+s.QueueDrops != s.Packets || s.QueueDrops == 0 {
		t.Errorf("stats %+v: every packet decoded or counted as dropped, some dropped", s)
	}
	if n := len(readLines(t, out)); uint64(n) != s.Flows || n < 30 {
		t.Errorf("%d flows written, %d decoded", n, s.Flows)
	}
}

// Packets are counted when they arrive, so a backlog shows: received runs
// ahead of decoded.
func TestReceivedCountedAtArrival(t *testing.T) {
	c := newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(t.TempDir(), "x.json")), Workers: 1})
	release := block(c.workers[0])
	v5 := capturePayloads(t, "softflowd-v5.pcap")[0]
	for range 10 {
		c.Submit(context.Background(), Packet{Data: v5, Source: netip.MustParseAddrPort("192.0.2.1:2055"), Received: 1}, false)
	}
	m := string(c.AppendMetrics(nil))
	release()
	c.Close()
	if !strings.Contains(m, "nfcollect_packets_received_total 10\n") || strings.Contains(m, `nfcollect_packets_decoded_total{exporter="192.0.2.1"} 10`) {
		t.Errorf("a backlog of 10 is not visible:\n%s", m)
	}
}

// After a restart with --templates, the exporters' template counts are
// known (metrics and the summary line), not 0.
func TestTemplatesKnownAfterRestore(t *testing.T) {
	dir := t.TempDir()
	tf := filepath.Join(dir, "templates.json")
	src := netip.MustParseAddrPort("192.0.2.1:2055")
	c := newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(dir, "a.json")), TemplatesFile: tf, Workers: 1})
	c.Submit(context.Background(), Packet{Data: pythonVector(t, "v9_template_2templates_8flows.hex")[0], Source: src, Received: time.Now().UnixNano()}, true)
	c.Close()
	c = newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(dir, "b.json")), TemplatesFile: tf, Workers: 2})
	defer c.Close()
	if m := string(c.AppendMetrics(nil)); !strings.Contains(m, `nfcollect_templates{exporter="192.0.2.1"} 2`) {
		t.Errorf("templates after restore not known:\n%s", m)
	}
}

// The softflowd capture, decoded by a collector after a flood: the
// exporter's flows must all be there.
func legitFlows(t *testing.T, out, exporter string) int {
	n := 0
	for _, m := range readLines(t, out) {
		if m["sampler_address"] == exporter {
			n++
		}
	}
	return n
}

// A flood of template packets from 25,000 distinct (spoofed) sources, or
// of templates in many domains from one source into one worker, must not
// lock out an exporter that starts afterwards: state gives way, least
// recently used and template-only first, and the new exporter's capture
// decodes whole.
func TestTemplateFloodThenNewExporter(t *testing.T) {
	capPkts := capturePayloads(t, "softflowd-ipfix.pcap")
	want := len(tsharkKeys(t, "softflowd-ipfix.pcap"))
	tmpl := func(domain uint32, id uint16) []byte {
		// IPFIX: one template of 8 fields, like a small router's.
		set := []byte{0, 2, 0, 4 + 4 + 8*4, byte(id >> 8), byte(id), 0, 8}
		for _, f := range []uint16{8, 12, 7, 11, 4, 1, 2, 152} {
			l := uint16(4)
			switch f {
			case 7, 11:
				l = 2
			case 4:
				l = 1
			case 1, 2, 152:
				l = 8
			}
			set = binary.BigEndian.AppendUint16(set, f)
			set = binary.BigEndian.AppendUint16(set, l)
		}
		h := binary.BigEndian.AppendUint16(nil, 10)
		h = binary.BigEndian.AppendUint16(h, uint16(16+len(set)))
		h = binary.BigEndian.AppendUint32(h, uint32(time.Now().Unix()))
		h = binary.BigEndian.AppendUint32(h, 0)
		h = binary.BigEndian.AppendUint32(h, domain)
		return append(h, set...)
	}
	for _, tc := range []struct {
		name  string
		flood func(c *Collector)
	}{
		{"25000 sources", func(c *Collector) {
			for i := range 25000 {
				src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 4739)
				for id := range uint16(3) {
					c.Submit(context.Background(), Packet{Data: tmpl(0, 256+id), Source: src, Received: time.Now().UnixNano()}, true)
				}
			}
		}},
		{"one source, many domains", func(c *Collector) {
			src := netip.MustParseAddrPort("10.0.0.1:4739")
			for d := range uint32(1200) {
				for id := range uint16(4) {
					c.Submit(context.Background(), Packet{Data: tmpl(d, 256+id), Source: src, Received: time.Now().UnixNano()}, true)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.json")
			// A worker's total field budget small enough for the test to
			// fill it: 40 fields per template.
			c := newTestCollector(t, Config{Outputs: fileOut(t, out), Workers: 1, Limits: decode.Limits{MaxTotalFields: 100000}})
			tc.flood(c)
			legit := netip.MustParseAddrPort("192.0.2.200:4739")
			for _, p := range capPkts {
				c.Submit(context.Background(), Packet{Data: p, Source: legit, Received: time.Now().UnixNano()}, true)
			}
			waitDecoded(t, c, c.Stats().Packets)
			m := string(c.AppendMetrics(nil))
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if got := legitFlows(t, out, "192.0.2.200"); got != want {
				t.Errorf("new exporter after the flood: %d flows of %d", got, want)
			}
			if !regexp.MustCompile(`nfcollect_(decoder_exporter|template)_evictions_total(\{budget="\w+"\})? [1-9]`).MatchString(m) {
				t.Errorf("no evictions counted:\n%s", m)
			}
		})
	}
}

// limitsFields returns the default limits with a total field budget of n.
func limitsFields(n int) decode.Limits { return decode.Limits{MaxTotalFields: n} }
