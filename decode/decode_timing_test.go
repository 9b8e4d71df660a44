package decode

import (
	"testing"

	"github.com/nfkit/nfkit/internal/benchpkt"
)

// A benchmark fixture: packets to learn first, then the packet decoded in
// the loop, with its record count.
type fixture struct {
	name    string
	setup   [][]byte
	pkt     []byte
	records int
	generic bool // force the compiled step list instead of a shape reader
}

func fixtures() []fixture {
	v9t, v9d := benchpkt.V9()
	ipt, ipd := benchpkt.IPFIX()
	sft, sfd := benchpkt.V9Softflowd()
	return []fixture{
		{name: "v5", pkt: benchpkt.V5(), records: benchpkt.V5Records},
		{name: "v9", setup: [][]byte{v9t}, pkt: v9d, records: benchpkt.V9Records},
		{name: "ipfix", setup: [][]byte{ipt}, pkt: ipd, records: benchpkt.IPFIXRecords},
		{name: "v9-steps", setup: [][]byte{v9t}, pkt: v9d, records: benchpkt.V9Records, generic: true},
		{name: "ipfix-steps", setup: [][]byte{ipt}, pkt: ipd, records: benchpkt.IPFIXRecords, generic: true},
		{name: "v9-softflowd-shape", setup: [][]byte{sft}, pkt: sfd, records: benchpkt.SoftflowdRecords},
		{name: "v9-softflowd-steps", setup: [][]byte{sft}, pkt: sfd, records: benchpkt.SoftflowdRecords, generic: true},
	}
}

// prepare returns a decoder that knows the fixture's templates.
func (fx fixture) prepare(tb testing.TB) (*Decoder, *Packet) {
	tb.Helper()
	d := new(Decoder)
	p := new(Packet)
	noSpecialize = fx.generic
	defer func() { noSpecialize = false }()
	for _, s := range fx.setup {
		if err := d.Decode(loopback, s, p); err != nil {
			tb.Fatalf("%s: template: %v", fx.name, err)
		}
	}
	return d, p
}

var sinkBytes uint64

// decodeOnce decodes fx.pkt and checks the record count; shared by the
// benchmarks and the allocation tests.
func decodeOnce(tb testing.TB, d *Decoder, p *Packet, fx *fixture) {
	if err := d.Decode(loopback, fx.pkt, p); err != nil {
		tb.Fatalf("%s: %v", fx.name, err)
	}
	if len(p.Records) != fx.records {
		tb.Fatalf("%s: %d records, want %d", fx.name, len(p.Records), fx.records)
	}
	sinkBytes += p.Records[0].Bytes
}

func BenchmarkDecode(b *testing.B) {
	for _, fx := range fixtures() {
		b.Run(fx.name, func(b *testing.B) {
			d, p := fx.prepare(b)
			b.ReportAllocs()
			b.SetBytes(int64(len(fx.pkt)))
			for b.Loop() {
				decodeOnce(b, d, p, &fx)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(fx.records), "ns/flow")
		})
	}
}

// BenchmarkDecodeParallel decodes with one Decoder per goroutine.
func BenchmarkDecodeParallel(b *testing.B) {
	for _, fx := range fixtures()[:3] { // v5, v9, ipfix
		b.Run(fx.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(fx.pkt)))
			b.RunParallel(func(pb *testing.PB) {
				d, p := fx.prepare(b)
				for pb.Next() {
					if err := d.Decode(loopback, fx.pkt, p); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// Zero heap allocations while decoding packets whose templates are known,
// for every version and both reader kinds.
func TestDecodeAllocs(t *testing.T) {
	for _, fx := range fixtures() {
		d, p := fx.prepare(t)
		decodeOnce(t, d, p, &fx) // grow p.Records once
		if n := testing.AllocsPerRun(100, func() { decodeOnce(t, d, p, &fx) }); n != 0 {
			t.Errorf("%s: %v allocations per packet, want 0", fx.name, n)
		}
	}
}

// Re-sent, unchanged templates (softflowd every 16 packets, nfreplay every
// packet) are recognized without compiling or allocating.
func TestTemplateResendAllocs(t *testing.T) {
	for _, fx := range fixtures()[1:3] { // v9, ipfix
		d, p := fx.prepare(t)
		if n := testing.AllocsPerRun(100, func() {
			if err := d.Decode(loopback, fx.setup[0], p); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations per re-sent template, want 0", fx.name, n)
		}
	}
}

// Walking every raw field of every record allocates nothing either.
func TestFieldIterAllocs(t *testing.T) {
	fx := fixtures()[2]
	d, p := fx.prepare(t)
	decodeOnce(t, d, p, &fx)
	n := testing.AllocsPerRun(100, func() {
		for i := range p.Records {
			it := p.Records[i].Iter()
			for it.Next() {
				v, _ := it.Field().Uint()
				sinkBytes += v
			}
		}
	})
	if n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

func BenchmarkFieldIter(b *testing.B) {
	fx := fixtures()[2]
	d, p := fx.prepare(b)
	decodeOnce(b, d, p, &fx)
	b.ReportAllocs()
	for b.Loop() {
		for i := range p.Records {
			it := p.Records[i].Iter()
			for it.Next() {
				v, _ := it.Field().Uint()
				sinkBytes += v
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(fx.records), "ns/flow")
}

// The benchmark templates are read by generated class readers, the
// softflowd one by its shape reader; the -steps fixtures by steps alone.
func TestFixtureReaders(t *testing.T) {
	for _, fx := range fixtures()[1:] {
		d, _ := fx.prepare(t)
		for _, ex := range d.exporters {
			for _, tm := range ex.templates {
				gen := tm.specialized() || tm.classRead()
				if gen == fx.generic {
					t.Errorf("%s: specialized %v, class %v", fx.name, tm.specialized(), tm.classRead())
				}
			}
		}
	}
}

// BenchmarkDecodeCapture decodes every export packet of each real
// exporter's capture in testdata, in order, with one Decoder: the
// exporters' own templates, options and re-sends, not packets shaped like
// the generated readers' fast paths.
func BenchmarkDecodeCapture(b *testing.B) {
	for _, name := range captures(b) {
		pkts := readCapture(b, name)
		b.Run(name[:len(name)-len(".pcap")], func(b *testing.B) {
			var d Decoder
			var p Packet
			flows := 0
			for _, pk := range pkts {
				d.Decode(pk.src, pk.data, &p)
				flows += len(p.Records)
			}
			b.ReportAllocs()
			for b.Loop() {
				for _, pk := range pkts {
					d.Decode(pk.src, pk.data, &p)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(flows), "ns/flow")
		})
	}
}

// Zero heap allocations in steady state on every real exporter's capture:
// once a first pass has learned the templates and grown the packet, a
// second pass over all its packets (re-sent templates, options data, every
// template shape) allocates nothing.
func TestCaptureAllocs(t *testing.T) {
	for _, name := range captures(t) {
		pkts := readCapture(t, name)
		var d Decoder
		var p Packet
		pass := func() {
			for _, pk := range pkts {
				d.Decode(pk.src, pk.data, &p)
			}
		}
		pass()
		if n := testing.AllocsPerRun(5, pass); n != 0 {
			t.Errorf("%s: %v allocations per pass over %d packets, want 0", name, n, len(pkts))
		}
	}
}
