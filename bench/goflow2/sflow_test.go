package goflow2bench

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"

	"github.com/netsampler/goflow2/v2/decoders/sflow"
	"github.com/netsampler/goflow2/v2/producer"
	protoproducer "github.com/netsampler/goflow2/v2/producer/proto"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/testvec"
)

// BenchmarkSFlow decodes every datagram of the sFlow captures of pmacct's
// sfprobe (testdata/sfprobe-*.pcap: flow samples with a raw packet header
// and extended switch, router and gateway records, and counter samples),
// in capture order:
//
//	BenchmarkSFlow/<impl>
//
// impl:
//   - nfkit: decode.Decoder (DecodeSFlow) into a reused decode.Packet:
//     every record decoded and the sampled headers parsed into the
//     normalized fields.
//   - goflow2-decoder: goflow2's sflow.DecodeMessageVersion as its sFlow
//     pipe calls it (a bytes.Buffer over the datagram, a reused Packet);
//     it keeps the sampled header as bytes and does not parse it.
//   - goflow2-producer: the decoder plus goflow2's protobuf producer, which
//     parses the sampled headers into the flow messages a goflow2 user
//     gets (Produce then Commit).
//
// Each reports ns/sample (flow and counter samples) beside ns/op.
func BenchmarkSFlow(b *testing.B) {
	pkts, samples := sflowFixture(b)
	for _, im := range sflowImpls {
		b.Run(im.name, func(b *testing.B) {
			s := im.new()
			for _, p := range pkts { // warm up: buffers, pools
				if _, err := s.decode(p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			var n int
			for _, p := range pkts {
				n += len(p)
			}
			b.SetBytes(int64(n))
			for b.Loop() {
				for _, p := range pkts {
					k, _ := s.decode(p)
					sink += k
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(samples), "ns/sample")
		})
	}
}

// sflowFixture returns the datagrams of the sFlow captures and their
// number of samples (nfkit's count).
func sflowFixture(tb testing.TB) ([][]byte, int) {
	var pkts [][]byte
	samples := 0
	var d decode.Decoder
	var p decode.Packet
	for _, name := range []string{"sfprobe-sflow.pcap", "sfprobe-sflow-sampling.pcap"} {
		for _, dg := range testvec.Capture(tb, name) {
			if err := d.Decode(dg.Src.Addr(), dg.Payload, &p); err != nil {
				tb.Fatal(err)
			}
			samples += len(p.Records) + len(p.Counters)
			pkts = append(pkts, dg.Payload)
		}
	}
	return pkts, samples
}

type sflowImpl interface {
	decode(pkt []byte) (int, error) // samples (nfkit, decoder) or flow messages (producer)
	views(pkt []byte) ([]view, error)
}

var sflowImpls = []struct {
	name string
	new  func() sflowImpl
}{
	{"nfkit", func() sflowImpl { return new(nfkitSFlow) }},
	{"goflow2-decoder", func() sflowImpl { return newGoflow2SFlow(false) }},
	{"goflow2-producer", func() sflowImpl { return newGoflow2SFlow(true) }},
}

type nfkitSFlow struct {
	d decode.Decoder
	p decode.Packet
}

func (n *nfkitSFlow) decode(pkt []byte) (int, error) {
	err := n.d.Decode(exporter, pkt, &n.p)
	return len(n.p.Records) + len(n.p.Counters), err
}

func (n *nfkitSFlow) views(pkt []byte) ([]view, error) {
	if _, err := n.decode(pkt); err != nil {
		return nil, err
	}
	var out []view
	for i := range n.p.Records {
		r := &n.p.Records[i]
		out = append(out, view{Bytes: r.Bytes, Packets: r.Packets, Src: r.SrcAddr, Dst: r.DstAddr,
			SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Proto})
	}
	return out, nil
}

type goflow2SFlow struct {
	pkt      sflow.Packet
	producer producer.ProducerInterface
	args     producer.ProduceArgs
}

func newGoflow2SFlow(withProducer bool) *goflow2SFlow {
	g := &goflow2SFlow{args: producer.ProduceArgs{
		Src:            exporterPort,
		Dst:            netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), 6343),
		SamplerAddress: exporter,
		TimeReceived:   received,
	}}
	if withProducer {
		var cfg *protoproducer.ProducerConfig
		cfgm, err := cfg.Compile()
		if err != nil {
			panic(err)
		}
		p, err := protoproducer.CreateProtoProducer(cfgm, protoproducer.CreateSamplingSystem)
		if err != nil {
			panic(err)
		}
		g.producer = p
	}
	return g
}

// decodePacket is goflow2's SFlowPipe.DecodeFlow: a bytes.Buffer over the
// payload and DecodeMessageVersion.
func (g *goflow2SFlow) decodePacket(pkt []byte) error {
	g.pkt = sflow.Packet{}
	return sflow.DecodeMessageVersion(bytes.NewBuffer(pkt), &g.pkt)
}

func (g *goflow2SFlow) decode(pkt []byte) (int, error) {
	if err := g.decodePacket(pkt); err != nil {
		return 0, err
	}
	if g.producer == nil {
		return len(g.pkt.Samples), nil
	}
	msgs, err := g.producer.Produce(&g.pkt, &g.args)
	n := len(msgs)
	g.producer.Commit(msgs)
	return n, err
}

func (g *goflow2SFlow) views(pkt []byte) ([]view, error) {
	if err := g.decodePacket(pkt); err != nil {
		return nil, err
	}
	msgs, err := g.producer.Produce(&g.pkt, &g.args)
	if err != nil {
		return nil, err
	}
	var out []view
	for _, m := range msgs {
		fm, ok := m.(*protoproducer.ProtoProducerMessage)
		if !ok {
			return nil, fmt.Errorf("producer message is %T", m)
		}
		src, _ := netip.AddrFromSlice(fm.SrcAddr)
		dst, _ := netip.AddrFromSlice(fm.DstAddr)
		out = append(out, view{Bytes: fm.Bytes, Packets: fm.Packets, Src: src, Dst: dst,
			SrcPort: uint16(fm.SrcPort), DstPort: uint16(fm.DstPort), Proto: uint8(fm.Proto)})
	}
	g.producer.Commit(msgs)
	return out, nil
}

// TestSFlowAgreement: on the benchmark's bytes, nfkit and goflow2's producer
// give the same flows (addresses, ports, protocol, bytes, packets), and
// goflow2's decoder the same number of samples.
func TestSFlowAgreement(t *testing.T) {
	pkts, samples := sflowFixture(t)
	nf, dec, prod := new(nfkitSFlow), newGoflow2SFlow(false), newGoflow2SFlow(true)
	total, flows := 0, 0
	for i, p := range pkts {
		n, err := dec.decode(p)
		if err != nil {
			t.Fatalf("datagram %d: goflow2: %v", i, err)
		}
		total += n
		a, err := nf.views(p)
		if err != nil {
			t.Fatalf("datagram %d: nfkit: %v", i, err)
		}
		b, err := prod.views(p)
		if err != nil {
			t.Fatalf("datagram %d: goflow2 producer: %v", i, err)
		}
		if len(a) != len(b) {
			t.Fatalf("datagram %d: nfkit %d flows, goflow2 %d", i, len(a), len(b))
		}
		for j := range a {
			if a[j] != b[j] {
				t.Errorf("datagram %d flow %d:\n nfkit   %v\n goflow2 %v", i, j, a[j], b[j])
			}
		}
		flows += len(a)
	}
	if total != samples || flows == 0 {
		t.Errorf("goflow2 decoded %d samples, nfkit %d (%d flows)", total, samples, flows)
	}
}
