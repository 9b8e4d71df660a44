package goflow2bench

import (
	"bytes"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
	"github.com/netsampler/goflow2/v2/decoders/netflowlegacy"
	"github.com/netsampler/goflow2/v2/decoders/utils"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/testvec"
)

// BenchmarkCaptures decodes every export packet of each real exporter's
// capture in testdata/, in capture order, with state learned from one pass
// before the timer: the exporters' own templates (re-sent as the exporter
// re-sent them), options data and packet sizes, not packets shaped like
// nfkit's fast paths.
//
//	BenchmarkCaptures/<capture>/<impl>
//
// impl is nfkit (decode.Decoder into a reused Packet) or goflow2-decoder
// (goflow2's netflowlegacy / netflow decoders with one template system per
// exporter, as its NetFlow pipe keeps them; the pipe's per-packet
// AddrPort.String() key is replaced by a map keyed by the AddrPort, which
// spares goflow2 an allocation). Each reports ns/flow and ns/packet.
// Both divide by nfkit's flow count: on the captures where goflow2
// decodes fewer flows (TestCaptureAgreement logs them), it also does less
// work. Captures of NetFlow v1 and v7, which goflow2 does not decode, run
// for nfkit only.
func BenchmarkCaptures(b *testing.B) {
	for _, cf := range captureFixtures(b) {
		b.Run(cf.name, func(b *testing.B) {
			for _, ic := range captureImpls {
				if ic.name != "nfkit" && !cf.goflow2 {
					continue
				}
				b.Run(ic.name, func(b *testing.B) {
					im := ic.new()
					flows := 0
					for i := range cf.pkts {
						d := &cf.pkts[i]
						n, err := im.decode(d)
						if err != nil && ic.name == "nfkit" {
							b.Fatalf("%s: packet %d: %v", cf.name, d.Packet, err)
						}
						flows += n
					}
					if ic.name == "nfkit" && flows != cf.flows {
						b.Fatalf("%s: %d flows, want %d", cf.name, flows, cf.flows)
					}
					b.ReportAllocs()
					for b.Loop() {
						for i := range cf.pkts {
							n, _ := im.decode(&cf.pkts[i])
							sink += n
						}
					}
					ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
					b.ReportMetric(ns/float64(cf.flows), "ns/flow")
					b.ReportMetric(ns/float64(len(cf.pkts)), "ns/packet")
				})
			}
		})
	}
}

// TestCaptureAgreement checks that goflow2 and nfkit find the same number
// of flows in every capture both decode, and the same bytes and packets in
// total, so that BenchmarkCaptures compares equal work. goflow2 reads a
// NetFlow v9 packet only up to the header's record count, so where an
// exporter's count is short (softflowd counts only the templates of a
// packet that also carries data) it misses templates and their data: such
// captures are logged, with what goflow2 missed.
func TestCaptureAgreement(t *testing.T) {
	for _, cf := range captureFixtures(t) {
		if !cf.goflow2 {
			continue
		}
		g := newCaptureGoflow2()
		var flows, failed int
		var octets, packets uint64
		var first error
		for i := range cf.pkts {
			d := &cf.pkts[i]
			n, o, p, err := g.totals(d)
			if err != nil {
				failed++
				if first == nil {
					first = fmt.Errorf("packet %d: %w", d.Packet, err)
				}
			}
			flows += n
			octets += o
			packets += p
		}
		if failed != 0 {
			t.Logf("%s: goflow2 failed on %d of %d packets (first: %v): %d of %d flows",
				cf.name, failed, len(cf.pkts), first, flows, cf.flows)
			continue
		}
		if flows != cf.flows || octets != cf.octets || packets != cf.packets {
			t.Errorf("%s: goflow2 %d flows, %d bytes, %d packets; nfkit %d, %d, %d",
				cf.name, flows, octets, packets, cf.flows, cf.octets, cf.packets)
		}
	}
}

// captureFixture is one capture's datagrams with nfkit's totals.
type captureFixture struct {
	name            string
	pkts            []testvec.Datagram
	flows           int
	octets, packets uint64
	goflow2         bool // every packet is v5, v9 or IPFIX
}

func captureFixtures(tb testing.TB) []captureFixture {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "*.pcap"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []captureFixture
	for _, path := range names {
		name := filepath.Base(path)
		if name == "synthetic-traffic.pcap" { // the traffic the exporters saw, not exports
			continue
		}
		cf := captureFixture{name: strings.TrimSuffix(name, ".pcap"), pkts: testvec.Capture(tb, name), goflow2: true}
		var d decode.Decoder
		var p decode.Packet
		for _, dg := range cf.pkts {
			if err := d.Decode(dg.Src.Addr(), dg.Payload, &p); err != nil {
				tb.Fatalf("%s: packet %d: %v", name, dg.Packet, err)
			}
			if p.Version != 5 && p.Version != 9 && p.Version != 10 {
				cf.goflow2 = false
			}
			for i := range p.Records {
				cf.flows++
				cf.octets += p.Records[i].Bytes
				cf.packets += p.Records[i].Packets
			}
		}
		if cf.flows == 0 {
			tb.Fatalf("%s: no flows", name)
		}
		out = append(out, cf)
	}
	if len(out) == 0 {
		tb.Fatal("no captures in testdata/")
	}
	return out
}

// captureImpl decodes one datagram and returns its flows. The datagram is
// passed by pointer: a capture.Datagram is 136 bytes, and copying it per
// packet would add its copy to the time of both decoders.
type captureImpl interface {
	decode(d *testvec.Datagram) (int, error)
}

var captureImpls = []struct {
	name string
	new  func() captureImpl
}{
	{"nfkit", func() captureImpl { return new(nfkitCapture) }},
	{"goflow2-decoder", func() captureImpl { return newCaptureGoflow2() }},
}

type nfkitCapture struct {
	d decode.Decoder
	p decode.Packet
}

func (n *nfkitCapture) decode(d *testvec.Datagram) (int, error) {
	err := n.d.Decode(d.Src.Addr(), d.Payload, &n.p)
	return len(n.p.Records), err
}

// captureGoflow2 is goflow2's decoder stage as its NetFlow pipe runs it
// (utils/pipe.go DecodeFlow): a template system per exporter, a
// bytes.Buffer over the payload, the version, then that version's decoder
// into a packet struct (reused here, declared per datagram in the pipe).
type captureGoflow2 struct {
	templates map[netip.AddrPort]netflow.NetFlowTemplateSystem
	v5        netflowlegacy.PacketNetFlowV5
	v9        netflow.NFv9Packet
	ipfix     netflow.IPFIXPacket
}

func newCaptureGoflow2() *captureGoflow2 {
	return &captureGoflow2{templates: make(map[netip.AddrPort]netflow.NetFlowTemplateSystem)}
}

func (g *captureGoflow2) packet(d *testvec.Datagram) (any, error) {
	ts, ok := g.templates[d.Src]
	if !ok {
		ts = netflow.CreateTemplateSystem()
		g.templates[d.Src] = ts
	}
	buf := bytes.NewBuffer(d.Payload)
	var version uint16
	if err := utils.BinaryDecoder(buf, &version); err != nil {
		return nil, err
	}
	switch version {
	case 5:
		g.v5 = netflowlegacy.PacketNetFlowV5{Version: 5}
		return &g.v5, netflowlegacy.DecodeMessage(buf, &g.v5)
	case 9:
		g.v9 = netflow.NFv9Packet{Version: 9}
		return &g.v9, netflow.DecodeMessageNetFlow(buf, ts, &g.v9)
	case 10:
		g.ipfix = netflow.IPFIXPacket{Version: 10}
		return &g.ipfix, netflow.DecodeMessageIPFIX(buf, ts, &g.ipfix)
	}
	return nil, fmt.Errorf("not a NetFlow packet: version %d", version)
}

func (g *captureGoflow2) decode(d *testvec.Datagram) (int, error) {
	p, err := g.packet(d)
	if err != nil {
		return 0, err
	}
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

// totals returns the data records of d and the sums of their byte and
// packet counters as goflow2 decodes them (IANA elements 1/2 or
// 85/86, and 23/24 for NetFlow v9 out counters are not counted, matching
// nfkit's Bytes and Packets).
func (g *captureGoflow2) totals(d *testvec.Datagram) (flows int, octets, packets uint64, err error) {
	p, err := g.packet(d)
	if err != nil {
		return 0, 0, 0, err
	}
	var sets []any
	switch p := p.(type) {
	case *netflowlegacy.PacketNetFlowV5:
		for _, r := range p.Records {
			octets += uint64(r.DOctets)
			packets += uint64(r.DPkts)
		}
		return len(p.Records), octets, packets, nil
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
			flows++
			var o, pk, to, tpk uint64
			var hasO, hasP bool
			for _, f := range r.Values {
				if f.PenProvided {
					continue
				}
				v, _ := f.Value.([]byte)
				switch f.Type {
				case netflow.NFV9_FIELD_IN_BYTES:
					o, hasO = beUint(v), true
				case netflow.NFV9_FIELD_IN_PKTS:
					pk, hasP = beUint(v), true
				case netflow.IPFIX_FIELD_octetTotalCount:
					to = beUint(v)
				case netflow.IPFIX_FIELD_packetTotalCount:
					tpk = beUint(v)
				}
			}
			if !hasO {
				o = to
			}
			if !hasP {
				pk = tpk
			}
			octets += o
			packets += pk
		}
	}
	return flows, octets, packets, nil
}
