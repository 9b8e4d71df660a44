// Package goflow2bench compares nfkit's decoder with goflow2 v2 decoding the
// same bytes (internal/benchpkt), in one `go test -bench` invocation:
//
//	BenchmarkCompare/<version>/<impl>
//
// version: v5, v9, ipfix, v9-softflowd (softflowd's IPv4 template, for which
// nfkit has a generated straight-line reader).
//
// impl:
//   - nfkit: decode.Decoder into a reused decode.Packet (records with the
//     normalized Flow fields).
//   - goflow2-decoder: goflow2's netflowlegacy / netflow decoders with its
//     in-memory template system, as its NetFlow pipe calls them (a fresh
//     bytes.Buffer per datagram, a reused packet struct).
//   - goflow2-producer: the decoder plus goflow2's protobuf producer building
//     the flow messages a goflow2 user gets (Produce then Commit, which
//     returns the messages to its pool); no formatting or transport.
//
// Templates are learned before the timer. Each benchmark reports ns/flow
// beside ns/op, B/op and allocs/op. It is a separate module so that the main
// module does not depend on goflow2.
package goflow2bench

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"
	"github.com/netsampler/goflow2/v2/decoders/utils"
	"github.com/netsampler/goflow2/v2/producer"
	protoproducer "github.com/netsampler/goflow2/v2/producer/proto"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/benchpkt"
)

// A fixture: template packets to learn first, then the packet decoded in
// the loop, with its record count.
type fixture struct {
	name    string
	setup   [][]byte
	pkt     []byte
	records int
}

func fixtures() []fixture {
	v9t, v9d := benchpkt.V9()
	ipt, ipd := benchpkt.IPFIX()
	sft, sfd := benchpkt.V9Softflowd()
	return []fixture{
		{name: "v5", pkt: benchpkt.V5(), records: benchpkt.V5Records},
		{name: "v9", setup: [][]byte{v9t}, pkt: v9d, records: benchpkt.V9Records},
		{name: "ipfix", setup: [][]byte{ipt}, pkt: ipd, records: benchpkt.IPFIXRecords},
		{name: "v9-softflowd", setup: [][]byte{sft}, pkt: sfd, records: benchpkt.SoftflowdRecords},
	}
}

var (
	exporter     = netip.MustParseAddr("192.0.2.1")
	exporterPort = netip.AddrPortFrom(exporter, 40000)
	received     = time.Unix(1700000000, 0)
)

// view is the handful of fields compared across implementations. Start and
// End (Unix ns) are zero where an implementation does not compute them
// (goflow2's decoder leaves times raw).
type view struct {
	Bytes, Packets   uint64
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
	Proto            uint8
	Start, End       int64
}

func (v view) String() string {
	return fmt.Sprintf("bytes=%d pkts=%d %v:%d -> %v:%d proto=%d start=%d end=%d",
		v.Bytes, v.Packets, v.Src, v.SrcPort, v.Dst, v.DstPort, v.Proto, v.Start, v.End)
}

// impl is one implementation under test.
type impl interface {
	// decode decodes one datagram and returns the number of flows it
	// produced; it is the timed operation.
	decode(pkt []byte) (int, error)
	// views decodes pkt and returns the compared fields of every flow.
	views(pkt []byte) ([]view, error)
}

var impls = []struct {
	name string
	new  func() impl
}{
	{"nfkit", func() impl { return new(nfkitImpl) }},
	{"goflow2-decoder", func() impl { return newGoflow2(false) }},
	{"goflow2-producer", func() impl { return newGoflow2(true) }},
}

// ---- nfkit ----

type nfkitImpl struct {
	d decode.Decoder
	p decode.Packet
}

func (n *nfkitImpl) decode(pkt []byte) (int, error) {
	err := n.d.Decode(exporter, pkt, &n.p)
	return len(n.p.Records), err
}

func (n *nfkitImpl) views(pkt []byte) ([]view, error) {
	if _, err := n.decode(pkt); err != nil {
		return nil, err
	}
	out := make([]view, len(n.p.Records))
	for i := range n.p.Records {
		r := &n.p.Records[i]
		out[i] = view{
			Bytes: r.Bytes, Packets: r.Packets,
			Src: r.SrcAddr, Dst: r.DstAddr,
			SrcPort: r.SrcPort, DstPort: r.DstPort,
			Proto: r.Proto, Start: r.Start, End: r.End,
		}
	}
	return out, nil
}

// ---- goflow2 ----

type goflow2Impl struct {
	templates netflow.NetFlowTemplateSystem
	producer  producer.ProducerInterface // nil: decoder only
	args      producer.ProduceArgs

	v5    netflowlegacy.PacketNetFlowV5
	v9    netflow.NFv9Packet
	ipfix netflow.IPFIXPacket
}

func newGoflow2(withProducer bool) *goflow2Impl {
	g := &goflow2Impl{
		templates: netflow.CreateTemplateSystem(),
		args: producer.ProduceArgs{
			Src:            exporterPort,
			Dst:            netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), 2055),
			SamplerAddress: exporter,
			TimeReceived:   received,
		},
	}
	if withProducer {
		// What cmd/goflow2 does without a mapping file (-produce=sample).
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

// decodePacket decodes one datagram the way goflow2's NetFlowPipe.DecodeFlow
// (utils/pipe.go) does: a bytes.Buffer over the payload, the version read
// with utils.BinaryDecoder, then that version's decoder. It returns the
// packet as a pointer, as the pipe hands it to the producer. Unlike the
// pipe, the packet struct is reused rather than declared per datagram,
// which spares goflow2 one allocation per packet.
func (g *goflow2Impl) decodePacket(pkt []byte) (any, error) {
	buf := bytes.NewBuffer(pkt)
	var version uint16
	if err := utils.BinaryDecoder(buf, &version); err != nil {
		return nil, err
	}
	switch version {
	case 5:
		g.v5 = netflowlegacy.PacketNetFlowV5{Version: 5}
		err := netflowlegacy.DecodeMessage(buf, &g.v5)
		return &g.v5, err
	case 9:
		g.v9 = netflow.NFv9Packet{Version: 9}
		err := netflow.DecodeMessageNetFlow(buf, g.templates, &g.v9)
		return &g.v9, err
	case 10:
		g.ipfix = netflow.IPFIXPacket{Version: 10}
		err := netflow.DecodeMessageIPFIX(buf, g.templates, &g.ipfix)
		return &g.ipfix, err
	}
	return nil, fmt.Errorf("not a NetFlow packet: version %d", version)
}

func dataRecords(sets []any) (n int) {
	for _, s := range sets {
		if ds, ok := s.(netflow.DataFlowSet); ok {
			n += len(ds.Records)
		}
	}
	return n
}

func (g *goflow2Impl) decode(pkt []byte) (int, error) {
	p, err := g.decodePacket(pkt)
	if err != nil {
		return 0, err
	}
	if g.producer == nil {
		switch p := p.(type) {
		case *netflowlegacy.PacketNetFlowV5:
			return len(p.Records), nil
		case *netflow.NFv9Packet:
			return dataRecords(p.FlowSets), nil
		case *netflow.IPFIXPacket:
			return dataRecords(p.FlowSets), nil
		}
		return 0, nil
	}
	msgs, err := g.producer.Produce(p, &g.args)
	n := len(msgs)
	g.producer.Commit(msgs)
	return n, err
}

func (g *goflow2Impl) views(pkt []byte) ([]view, error) {
	p, err := g.decodePacket(pkt)
	if err != nil {
		return nil, err
	}
	var out []view
	if g.producer != nil {
		msgs, err := g.producer.Produce(p, &g.args)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			fm, ok := m.(*protoproducer.ProtoProducerMessage)
			if !ok {
				return nil, fmt.Errorf("producer message is %T", m)
			}
			src, _ := netip.AddrFromSlice(fm.SrcAddr)
			dst, _ := netip.AddrFromSlice(fm.DstAddr)
			out = append(out, view{
				Bytes: fm.Bytes, Packets: fm.Packets,
				Src: src, Dst: dst,
				SrcPort: uint16(fm.SrcPort), DstPort: uint16(fm.DstPort),
				Proto: uint8(fm.Proto),
				Start: int64(fm.TimeFlowStartNs), End: int64(fm.TimeFlowEndNs),
			})
		}
		g.producer.Commit(msgs)
		return out, nil
	}
	var sets []any
	switch p := p.(type) {
	case *netflowlegacy.PacketNetFlowV5:
		for _, r := range p.Records {
			out = append(out, view{
				Bytes: uint64(r.DOctets), Packets: uint64(r.DPkts),
				Src: v4(uint32(r.SrcAddr)), Dst: v4(uint32(r.DstAddr)),
				SrcPort: r.SrcPort, DstPort: r.DstPort, Proto: r.Proto,
			})
		}
		return out, nil
	case *netflow.NFv9Packet:
		sets = p.FlowSets
	case *netflow.IPFIXPacket:
		sets = p.FlowSets
	}
	for _, s := range sets {
		ds, ok := s.(netflow.DataFlowSet)
		if !ok {
			continue
		}
		for _, r := range ds.Records {
			var v view
			for _, f := range r.Values {
				b, _ := f.Value.([]byte)
				if f.PenProvided {
					continue
				}
				switch f.Type {
				case netflow.NFV9_FIELD_IN_BYTES:
					v.Bytes = beUint(b)
				case netflow.NFV9_FIELD_IN_PKTS:
					v.Packets = beUint(b)
				case netflow.NFV9_FIELD_IPV4_SRC_ADDR:
					v.Src, _ = netip.AddrFromSlice(b)
				case netflow.NFV9_FIELD_IPV4_DST_ADDR:
					v.Dst, _ = netip.AddrFromSlice(b)
				case netflow.NFV9_FIELD_L4_SRC_PORT:
					v.SrcPort = uint16(beUint(b))
				case netflow.NFV9_FIELD_L4_DST_PORT:
					v.DstPort = uint16(beUint(b))
				case netflow.NFV9_FIELD_PROTOCOL:
					v.Proto = uint8(beUint(b))
				}
			}
			out = append(out, v)
		}
	}
	return out, nil
}

func v4(a uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)})
}

func beUint(b []byte) (v uint64) {
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// ---- shared set-up and checks ----

// prepare returns impl i with fx's templates learned.
func prepare(tb testing.TB, newImpl func() impl, fx fixture) impl {
	tb.Helper()
	im := newImpl()
	for _, s := range fx.setup {
		if _, err := im.decode(s); err != nil {
			tb.Fatalf("%s: template packet: %v", fx.name, err)
		}
	}
	return im
}

// reference returns nfkit's views of fx.pkt.
func reference(tb testing.TB, fx fixture) []view {
	tb.Helper()
	vs, err := prepare(tb, impls[0].new, fx).views(fx.pkt)
	if err != nil {
		tb.Fatalf("%s: nfkit: %v", fx.name, err)
	}
	if len(vs) != fx.records {
		tb.Fatalf("%s: nfkit decoded %d records, want %d", fx.name, len(vs), fx.records)
	}
	return vs
}

// agree reports the first difference between want (nfkit) and got on the
// fields every implementation fills in; times are compared only when got
// has them.
func agree(want, got view) error {
	type pair struct {
		name string
		w, g any
	}
	ps := []pair{
		{"bytes", want.Bytes, got.Bytes},
		{"packets", want.Packets, got.Packets},
		{"src addr", want.Src, got.Src},
		{"dst addr", want.Dst, got.Dst},
		{"src port", want.SrcPort, got.SrcPort},
		{"dst port", want.DstPort, got.DstPort},
		{"proto", want.Proto, got.Proto},
	}
	if got.Start != 0 || got.End != 0 {
		ps = append(ps, pair{"start", want.Start, got.Start}, pair{"end", want.End, got.End})
	}
	for _, p := range ps {
		if p.w != p.g {
			return fmt.Errorf("%s: nfkit %v, goflow2 %v", p.name, p.w, p.g)
		}
	}
	return nil
}

// verify checks, before the timer, that im decodes fx.pkt into the expected
// number of flows and agrees with nfkit on the first one.
func verify(tb testing.TB, implName string, im impl, fx fixture, ref []view) {
	tb.Helper()
	n, err := im.decode(fx.pkt)
	if err != nil {
		tb.Fatalf("%s/%s: %v", fx.name, implName, err)
	}
	if n != fx.records {
		tb.Fatalf("%s/%s: %d flows, want %d", fx.name, implName, n, fx.records)
	}
	vs, err := im.views(fx.pkt)
	if err != nil {
		tb.Fatalf("%s/%s: %v", fx.name, implName, err)
	}
	if len(vs) != fx.records {
		tb.Fatalf("%s/%s: %d flows, want %d", fx.name, implName, len(vs), fx.records)
	}
	if err := agree(ref[0], vs[0]); err != nil {
		tb.Fatalf("%s/%s: first flow: %v\nnfkit:   %v\ngoflow2: %v", fx.name, implName, err, ref[0], vs[0])
	}
}

var sink int

func BenchmarkCompare(b *testing.B) {
	for _, fx := range fixtures() {
		ref := reference(b, fx)
		b.Run(fx.name, func(b *testing.B) {
			for _, ic := range impls {
				b.Run(ic.name, func(b *testing.B) {
					im := prepare(b, ic.new, fx)
					verify(b, ic.name, im, fx, ref)
					b.ReportAllocs()
					b.SetBytes(int64(len(fx.pkt)))
					for b.Loop() {
						n, err := im.decode(fx.pkt)
						if err != nil {
							b.Fatal(err)
						}
						sink += n
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(fx.records), "ns/flow")
				})
			}
		})
	}
}

// TestAgreement compares every flow of every fixture between nfkit and both
// goflow2 levels on bytes, packets, addresses, ports and protocol, and on
// start/end times against goflow2's producer.
func TestAgreement(t *testing.T) {
	for _, fx := range fixtures() {
		ref := reference(t, fx)
		for _, ic := range impls[1:] {
			vs, err := prepare(t, ic.new, fx).views(fx.pkt)
			if err != nil {
				t.Fatalf("%s/%s: %v", fx.name, ic.name, err)
			}
			if len(vs) != len(ref) {
				t.Fatalf("%s/%s: %d flows, nfkit %d", fx.name, ic.name, len(vs), len(ref))
			}
			for i := range vs {
				if err := agree(ref[i], vs[i]); err != nil {
					t.Errorf("%s/%s: flow %d: %v", fx.name, ic.name, i, err)
					break
				}
			}
		}
	}
}
