package goflow2bench

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/netsampler/goflow2/v2/decoders/netflow"
	"github.com/netsampler/goflow2/v2/decoders/utils"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/testvec"
)

// BenchmarkTemplates measures template handling on the template sets of
// each real exporter's capture (testvec.TemplatePackets: the templates and
// options templates of the first packet that has some, in a packet of
// their own):
//
//	BenchmarkTemplates/<capture>/<op>/<impl>
//
// op is learn (a new decoder state learns them: nfkit a new Decoder,
// goflow2 a new template system), learn-8 (a new decoder state learns them
// from 8 exporters, as a collector does for exporters of one model and
// configuration: nfkit a new Decoder, goflow2 a template system per
// exporter as its pipe keeps them), redefine (every template ID alternately
// gets two different definitions), redefine-nocache (the same with nfkit's
// cache of replaced templates turned off, Limits.MaxCachedTemplates -1, so
// that every record is compiled again; goflow2 has no such cache and runs
// redefine again) or resend (the same definitions again, as exporters
// repeat them). Each reports ns/template, per template record in the
// packet.
func BenchmarkTemplates(b *testing.B) {
	for _, cf := range captureFixtures(b) {
		if !cf.goflow2 {
			continue
		}
		var pkts [][]byte
		for _, d := range cf.pkts {
			pkts = append(pkts, d.Payload)
		}
		tmpl, rotated, n := testvec.TemplatePackets(pkts)
		if tmpl == nil {
			continue // NetFlow v5: no templates
		}
		src := cf.pkts[0].Src.Addr()
		b.Run(cf.name, func(b *testing.B) {
			ops := []struct {
				name      string
				fresh     bool      // a new state per operation
				seq       [2][]byte // packets decoded alternately
				nocache   bool      // nfkit without its cache of replaced templates
				exporters int       // exporters sending the packet in each operation
			}{
				{"learn", true, [2][]byte{tmpl, tmpl}, false, 1},
				{"learn-8", true, [2][]byte{tmpl, tmpl}, false, 8},
				{"redefine", false, [2][]byte{rotated, tmpl}, false, 1},
				{"redefine-nocache", false, [2][]byte{rotated, tmpl}, true, 1},
				{"resend", false, [2][]byte{tmpl, tmpl}, false, 1},
			}
			// The exporters of learn-8: the capture's, then 7 more.
			srcs := []netip.Addr{src}
			for len(srcs) < 8 {
				srcs = append(srcs, srcs[len(srcs)-1].Next())
			}
			for _, op := range ops {
				b.Run(op.name, func(b *testing.B) {
					b.Run("nfkit", func(b *testing.B) {
						var lim decode.Limits
						if op.nocache {
							lim.MaxCachedTemplates = -1
						}
						d := decode.Decoder{Limits: lim}
						var p decode.Packet
						if err := d.Decode(src, tmpl, &p); err != nil || p.Templates != n {
							b.Fatalf("%d templates, want %d: %v", p.Templates, n, err)
						}
						b.ReportAllocs()
						i := 0
						if op.exporters == 1 {
							// One call per operation: a loop over one
							// exporter adds a nanosecond to a re-send.
							for b.Loop() {
								if op.fresh {
									d = decode.Decoder{Limits: lim}
								}
								d.Decode(src, op.seq[i&1], &p)
								i++
							}
						} else {
							for b.Loop() {
								d = decode.Decoder{Limits: lim}
								for _, from := range srcs[:op.exporters] {
									d.Decode(from, op.seq[i&1], &p)
								}
								i++
							}
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*op.exporters), "ns/template")
					})
					b.Run("goflow2-decoder", func(b *testing.B) {
						ts := netflow.CreateTemplateSystem()
						if err := goflow2Templates(ts, tmpl); err != nil {
							b.Fatal(err)
						}
						b.ReportAllocs()
						i := 0
						if op.exporters == 1 {
							for b.Loop() {
								if op.fresh {
									ts = netflow.CreateTemplateSystem()
								}
								goflow2Templates(ts, op.seq[i&1])
								i++
							}
						} else {
							for b.Loop() {
								for range op.exporters {
									ts = netflow.CreateTemplateSystem()
									goflow2Templates(ts, op.seq[i&1])
								}
								i++
							}
						}
						b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*op.exporters), "ns/template")
					})
				})
			}
		})
	}
}

// goflow2Templates decodes a template packet with goflow2's decoder into
// the template system ts.
func goflow2Templates(ts netflow.NetFlowTemplateSystem, pkt []byte) error {
	buf := bytes.NewBuffer(pkt)
	var version uint16
	if err := utils.BinaryDecoder(buf, &version); err != nil {
		return err
	}
	if version == 9 {
		p := netflow.NFv9Packet{Version: 9}
		return netflow.DecodeMessageNetFlow(buf, ts, &p)
	}
	p := netflow.IPFIXPacket{Version: 10}
	return netflow.DecodeMessageIPFIX(buf, ts, &p)
}
