//go:build linux

package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/nfkit/nfkit/internal/benchpkt"
)

// scenario is one flood of the issue.
type scenario struct {
	id, title string
	// what describes the flood's datagrams for the report.
	what string
	// args are extra collector flags.
	args []string
	// templates runs the collector with --templates and waits for a save.
	templates bool
	// during and after: the legitimate exporter replays its capture while
	// the flood runs, and after it (from another new address).
	during, after bool
	nsources      int
	// prepare runs before the flood (e.g. the templates the flood's data
	// needs).
	prepare func(s sender, dst netip.AddrPort) error
	// flood returns the flood; its time bound is set from -duration
	// unless it has one.
	flood func(o *options) *flood
}

// sender sends one datagram from a chosen source (*spoof.Sender).
type sender interface {
	Send(src netip.Addr, dst netip.AddrPort, payload []byte) error
}

// The addresses of the legitimate exporter: new exporters, used by no
// flood (the floods use 127.1.0.0/16 to 127.6.0.0/16).
var (
	legitDuring = netip.MustParseAddr("127.254.0.1")
	legitAfter  = netip.MustParseAddr("127.254.0.2")
)

// Parameters of the floods (from the issue).
const (
	aSources   = 25000 // a: spoofed template senders
	aTemplates = 3     // a: templates per packet
	aRate      = 50000 // a: packets/s: every source every 0.5 s

	bDomains   = 16   // b: observation domains of the one source
	bTemplates = 256  // b: templates per domain (16×256 = 4096, the per-exporter cap)
	bFields    = 1024 // b: fields per template (the per-template cap): 4 Mi fields in all
	bRate      = 1000 // b: packets/s (about 61 MB/s)

	cSources = 16   // c: sources of the big datagrams (so that every worker gets some)
	cRecords = 5953 // c: 11-byte records: 20+4+5953×11 = 65,507 bytes
	cTID     = 300  // c: the options template

	dSources = 1000    // d: sources × 1024 packets each (the per-exporter pending cap)
	dPackets = 1024000 // d: 28-byte data packets for a template never sent
	dRate    = 100000  // d: packets/s (what the collector takes on 2 shared cores)
	dTID     = 60000   // d: the template they refer to

	eSources = 200   // e: garbage sources
	eRate    = 95000 // e: datagrams/s

	fSources   = 300  // f: exporters
	fTemplates = 4000 // f: templates each, in one packet: 1.2M in all
	fRate      = 500  // f: packets/s
)

// cScope and cFields are the 11-byte options record of scenario c: scope
// System, then SAMPLING_INTERVAL, SAMPLING_ALGORITHM, FLOW_SAMPLER_ID.
var (
	cScope  = []benchpkt.Field{{ID: 1, Len: 4}}
	cFields = []benchpkt.Field{{ID: 34, Len: 4}, {ID: 35, Len: 1}, {ID: 48, Len: 2}}
)

// fFields is the 3-field template of scenario f: IN_BYTES, IN_PKTS,
// PROTOCOL.
var fFields = []benchpkt.Field{{ID: 1, Len: 4}, {ID: 2, Len: 4}, {ID: 4, Len: 1}}

// bFieldList is a 1024-field template: four-byte counters and ids.
func bFieldList() []benchpkt.Field {
	f := make([]benchpkt.Field, bFields)
	for i := range f {
		f[i] = benchpkt.Field{ID: uint16(1 + i%100), Len: 4}
	}
	return f
}

var scenarios = []*scenario{
	{
		id: "a", title: "template flood, 25,000 spoofed sources",
		what:     fmt.Sprintf("v9 and IPFIX template packets (%d templates of 20 fields, 276/272 bytes) cycling over %d sources", aTemplates, aSources),
		nsources: aSources, during: true, after: true,
		flood: func(o *options) *flood {
			srcs := sources("127.1.0.1", aSources)
			v9 := benchpkt.AppendTemplatePacket(nil, 9, 1, 1, 256, aTemplates, benchpkt.V9Fields)
			ipfix := benchpkt.AppendTemplatePacket(nil, 10, 1, 1, 256, aTemplates, benchpkt.IPFIXFields)
			return &flood{rate: aRate, next: func(i int, _ *[]byte) (netip.Addr, []byte) {
				k := i % aSources
				if k%2 == 0 {
					return srcs[k], v9
				}
				return srcs[k], ipfix
			}}
		},
	},
	{
		id: "b", title: "one source, 16 domains × 256 templates × 1024 fields, --workers 1",
		what:     fmt.Sprintf("IPFIX template packets of 15 templates of %d fields (61.5 KB) over %d domains × %d template ids, repeated", bFields, bDomains, bTemplates),
		args:     []string{"--workers", "1"},
		nsources: 1, during: true, after: true,
		flood: func(o *options) *flood {
			src := netip.MustParseAddr("127.2.0.1")
			fields := bFieldList()
			per := benchpkt.TemplatesFit(10, fields, benchpkt.MaxDatagram)
			var pkts [][]byte
			for d := range bDomains {
				for first := 256; first < 256+bTemplates; first += per {
					n := min(per, 256+bTemplates-first)
					pkts = append(pkts, benchpkt.AppendTemplatePacket(nil, 10, uint32(d+1), uint32(len(pkts)), uint16(first), n, fields))
				}
			}
			return &flood{rate: bRate, next: func(i int, _ *[]byte) (netip.Addr, []byte) {
				return src, pkts[i%len(pkts)]
			}}
		},
	},
	{
		id: "c", title: "65,507-byte datagrams as fast as possible",
		what: fmt.Sprintf("65,507-byte NetFlow v9 options data packets (%d 11-byte sampling records of an options template sent first) from %d sources, no pacing. "+
			"Options data is decoded and applied to the sampling state but written nowhere, so the decode queue fills without gigabytes of JSON output to count", cRecords, cSources),
		nsources: cSources, during: true, after: true,
		prepare: func(s sender, dst netip.AddrPort) error {
			t := benchpkt.AppendOptionsTemplatePacket(nil, 9, 0, 1, cTID, cScope, cFields)
			for _, src := range sources("127.3.0.1", cSources) {
				if err := s.Send(src, dst, t); err != nil {
					return err
				}
			}
			time.Sleep(200 * time.Millisecond)
			return nil
		},
		flood: func(o *options) *flood {
			srcs := sources("127.3.0.1", cSources)
			rec := []byte{0, 0, 0, 1, 0, 0, 0, 100, 2, 0, 7} // system 1: 1 in 100, algorithm 2, sampler 7
			pkt := benchpkt.AppendDataPacket(nil, 9, 0, 2, cTID, cRecords, rec)
			if len(pkt) != benchpkt.MaxDatagram {
				panic(fmt.Sprintf("scenario c: %d-byte datagram", len(pkt)))
			}
			return &flood{next: func(i int, _ *[]byte) (netip.Addr, []byte) {
				return srcs[i%cSources], pkt
			}}
		},
	},
	{
		id: "d", title: "1,024,000 tiny data packets for a template never sent",
		what:     fmt.Sprintf("28-byte v9 and IPFIX data packets (one set for template %d, never defined) from %d sources, %d each", dTID, dSources, dPackets/dSources),
		nsources: dSources, during: true, after: true,
		flood: func(o *options) *flood {
			srcs := sources("127.4.0.1", dSources)
			rec := make([]byte, 8)
			return &flood{count: dPackets, rate: dRate, next: func(i int, buf *[]byte) (netip.Addr, []byte) {
				k := i % dSources
				seq := uint32(i / dSources)
				if k%2 == 0 {
					*buf = benchpkt.AppendDataPacket((*buf)[:0], 9, 1, seq, dTID, 1, rec[:4])
				} else {
					*buf = benchpkt.AppendDataPacket((*buf)[:0], 10, 1, seq, dTID, 1, rec)
				}
				return srcs[k], *buf
			}}
		},
	},
	{
		id: "e", title: "garbage at 95k datagrams/s from 200 sources",
		what:     fmt.Sprintf("random bytes, unknown versions and truncated v1/v5/v7/v9/IPFIX headers in turn (1 to 1400 bytes) from %d sources", eSources),
		nsources: eSources, during: true, after: true,
		flood: func(o *options) *flood {
			srcs := sources("127.5.0.1", eSources)
			r := rand.New(rand.NewPCG(o.seed, 0xE))
			return &flood{rate: eRate, next: func(i int, buf *[]byte) (netip.Addr, []byte) {
				*buf = benchpkt.AppendGarbage((*buf)[:0], r, benchpkt.Garbage(i%3))
				return srcs[i%eSources], *buf
			}}
		},
	},
	{
		id: "f", title: "--templates with 1.2M templates learned, then a save",
		what:      fmt.Sprintf("%d exporters each sending one packet of %d 3-field templates (v9 and IPFIX, 64 KB)", fSources, fTemplates),
		templates: true, nsources: fSources, after: true,
		flood: func(o *options) *flood {
			srcs := sources("127.6.0.1", fSources)
			v9 := benchpkt.AppendTemplatePacket(nil, 9, 1, 1, 256, fTemplates, fFields)
			ipfix := benchpkt.AppendTemplatePacket(nil, 10, 1, 1, 256, fTemplates, fFields)
			return &flood{count: fSources, rate: fRate, next: func(i int, _ *[]byte) (netip.Addr, []byte) {
				if i%2 == 0 {
					return srcs[i], v9
				}
				return srcs[i], ipfix
			}}
		},
	},
}

func scenarioByID(id string) *scenario {
	for _, s := range scenarios {
		if s.id == id {
			return s
		}
	}
	return nil
}
