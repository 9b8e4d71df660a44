package collector

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/benchpkt"
	"github.com/nfkit/nfkit/internal/spoof"
)

// Over real UDP: a template flood from 25,000 spoofed loopback sources, and
// one from a single source filling one worker's budgets, then a router that
// starts afterwards. Its capture must decode whole: before, every new
// exporter's templates were refused once the flood had used the budgets.
func TestLiveFloodThenNewExporter(t *testing.T) {
	s, err := spoof.New()
	if err != nil {
		t.Skip(err)
	}
	defer s.Close()
	capPkts := capturePayloads(t, "softflowd-ipfix.pcap")
	want := len(tsharkKeys(t, "softflowd-ipfix.pcap"))
	fields := []benchpkt.Field{{ID: 8, Len: 4}, {ID: 12, Len: 4}, {ID: 7, Len: 2}, {ID: 11, Len: 2}, {ID: 4, Len: 1}, {ID: 1, Len: 8}, {ID: 2, Len: 8}, {ID: 152, Len: 8}}
	for _, tc := range []struct {
		name    string
		workers int
		send    func(dst netip.AddrPort) int
	}{
		{"25000 spoofed sources", 2, func(dst netip.AddrPort) int {
			var b []byte
			batch := make([]spoof.Datagram, 0, spoof.MaxBatch)
			n := 0
			for i := range 25000 {
				b = benchpkt.AppendTemplatePacket(b[:0], 10, 0, 0, 256, 4, fields)
				src := netip.AddrFrom4([4]byte{127, 100 + byte(i>>16), byte(i >> 8), byte(i)})
				batch = append(batch, spoof.Datagram{Src: src, Payload: append([]byte(nil), b...)})
				if len(batch) == cap(batch) {
					k, _ := s.SendBatch(dst, batch)
					n += k
					batch = batch[:0]
					time.Sleep(200 * time.Microsecond) // the kernel's buffer, not the collector, would drop
				}
			}
			k, _ := s.SendBatch(dst, batch)
			return n + k
		}},
		{"one source, every domain", 1, func(dst netip.AddrPort) int {
			var b []byte
			src := netip.MustParseAddr("127.99.0.1")
			n := 0
			// Templates of 32 fields: the exporter's 4096 would hold 128k.
			wide := append(append(append(append([]benchpkt.Field(nil), fields...), fields...), fields...), fields...)
			per := benchpkt.TemplatesFit(10, wide, 1400)
			for d := range uint32(3000) {
				b = benchpkt.AppendTemplatePacket(b[:0], 10, d, 0, 256, per, wide)
				if s.Send(src, dst, b) == nil {
					n++
				}
				if d%64 == 63 {
					time.Sleep(200 * time.Microsecond)
				}
			}
			return n
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "x.json")
			// The default budgets, but the total field budget of a worker
			// small enough (100k fields) that one source's templates
			// (4096 templates of 32 fields, without the per-exporter field
			// budget) or the spoofed sources' would fill it.
			c := live(t, Config{Outputs: fileOut(t, out), Workers: tc.workers, Limits: limitsFields(100000)}, func(addr netip.AddrPort, c *Collector) {
				deadline := time.Now().Add(30 * time.Second)
				sent := tc.send(addr)
				for c.Stats().Packets < uint64(sent) && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				waitIdle(t, c)
				newSender(t, "127.0.12.1", addr).send(t, capPkts...)
			})
			if got := legitFlows(t, out, "127.0.12.1"); got != want {
				t.Errorf("new exporter after the flood: %d flows of %d", got, want)
			}
			m := c.metrics
			evicted := m.exporterEvictions.Load() + m.decoderEvictions.Load()
			for b := range numBudgets {
				evicted += m.templateEvictions[b].Load()
			}
			if evicted == 0 {
				t.Error("the flood evicted nothing: it did not fill the budgets")
			}
			t.Logf("received %d packets, evictions: exporters %d (decoder %d), templates %d/%d/%d",
				c.Stats().Packets, m.exporterEvictions.Load(), m.decoderEvictions.Load(),
				m.templateEvictions[0].Load(), m.templateEvictions[1].Load(), m.templateEvictions[2].Load())
		})
	}
}
