package analyzer

import (
	"bufio"
	"io"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// benchFlows makes n flows like bench/analyzer's file: connections of two flows
// (20% one-way) in export order (by flow end) at 200 flows per second.
func benchFlows(n int, seed uint64) []Flow {
	r := rand.New(rand.NewPCG(seed, seed))
	services := []uint16{443, 443, 443, 80, 80, 53, 22, 25, 123, 3389, 8443, 993}
	clock := int64(1_700_000_000) * int64(time.Second)
	exporter := netip.MustParseAddr("192.0.2.1")
	fs := make([]Flow, 0, n)
	add := func(start, end int64, src, dst uint32, sp, dp uint16, proto uint8, pk, size uint64) {
		fs = append(fs, Flow{Start: start, End: end, Received: end, Bytes: pk * size, Packets: pk, Flows: 1,
			Src:      netip.AddrFrom4([4]byte{byte(src >> 24), byte(src >> 16), byte(src >> 8), byte(src)}),
			Dst:      netip.AddrFrom4([4]byte{byte(dst >> 24), byte(dst >> 16), byte(dst >> 8), byte(dst)}),
			Exporter: exporter, SrcAS: 64500, DstAS: 15169, SrcPort: sp, DstPort: dp, Proto: proto, Version: 10,
			Flags: flowHasStart | flowHasEnd | flowMatched})
	}
	for len(fs) < n {
		clock += int64(2 * time.Second / 200)
		dur := min(int64(r.ExpFloat64()*float64(20*time.Second)), int64(30*time.Minute))
		start, end := clock-dur, clock
		client := 0x0a000000 | uint32(r.IntN(50000))
		server := 0xc6336400 | uint32(r.IntN(2000))
		sport := uint16(32768 + r.IntN(28000))
		dport := services[r.IntN(len(services))]
		proto := uint8(6)
		if dport == 53 || dport == 123 {
			proto = 17
		}
		add(start, end, client, server, sport, dport, proto, uint64(1+r.IntN(200)), 80)
		if len(fs) < n && r.IntN(5) != 0 {
			add(start+int64(r.IntN(5e6)), end, server, client, dport, sport, proto, uint64(1+r.IntN(300)), 900)
		}
	}
	return fs
}

// BenchmarkPairer is the pairer alone (pairing, expiry, output order) on flows in export order.
func BenchmarkPairer(b *testing.B) {
	fs := benchFlows(1_000_000, 1)
	b.ReportAllocs()
	var conns int
	for b.Loop() {
		p := newPairer(int64(15*time.Minute), int64(2*time.Second), 0, nil, func(*Conn) { conns++ })
		for i := range fs {
			p.add(&fs[i])
		}
		p.flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(fs)), "ns/flow")
}

// BenchmarkWriteTable formats connections as the default table.
func BenchmarkWriteTable(b *testing.B) {
	var conns []Conn
	p := newPairer(int64(15*time.Minute), int64(2*time.Second), 0, nil, func(c *Conn) { conns = append(conns, *c) })
	fs := benchFlows(20_000, 1)
	for i := range fs {
		p.add(&fs[i])
	}
	p.flush()
	for _, format := range []string{"table", "json", "csv"} {
		b.Run(format, func(b *testing.B) {
			cw, err := newConnWriter(bufio.NewWriter(io.Discard), format, time.UTC, nil, 0)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				for i := range conns {
					cw.write(&conns[i])
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(conns)), "ns/conn")
		})
	}
}
