package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/nfkit/nfkit/capture"
	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/benchpkt"
)

var be = binary.BigEndian

// pkt is one export packet to replay.
type pkt struct {
	data     []byte
	flows    int  // data records (flows) a collector decodes from it
	records  int  // data and options data records (the IPFIX sequence step)
	template bool // a template-only packet (generated set)
}

// stream is what one source sends: a list of packets cycled in order and,
// for the generated set, a template packet sent first and again after
// every `every` data packets.
type stream struct {
	pkts     []pkt
	template *pkt
	every    int
}

// generated returns the built-in packet set: benchpkt.V9's 25-flow NetFlow
// v9 data packet (the decoder benchmarks' packet) with its template first
// and re-sent after every `every` data packets.
func generated(every int) *stream {
	t, d := benchpkt.V9()
	return &stream{
		pkts:     []pkt{{data: d, flows: benchpkt.V9Records, records: benchpkt.V9Records}},
		template: &pkt{data: t, template: true},
		every:    every,
	}
}

// exportCapture is the export packets of a pcap or pcapng file grouped by
// exporter (source address), in order of first appearance.
type exportCapture struct {
	exporters []netip.Addr
	streams   []*stream
	// truncated is the error of a capture cut in the middle of a
	// packet: the packets before it are replayed.
	truncated error
}

// readCapture takes the UDP payloads of a pcap or pcapng file (see package
// capture: VLAN tags, IPv4 and IPv6, fragments reassembled) and counts
// each packet's flows with the decoder: a first pass learns the templates
// so that data which precedes its template in the capture counts too.
func readCapture(path string) (*exportCapture, error) {
	f, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &exportCapture{}
	index := map[netip.Addr]int{}
	for {
		d, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, capture.ErrTruncated) && len(c.exporters) > 0 {
			c.truncated = err
			break
		}
		if err != nil {
			return nil, err
		}
		if len(d.Payload) == 0 {
			continue
		}
		addr := d.Src.Addr()
		i, ok := index[addr]
		if !ok {
			i = len(c.exporters)
			index[addr] = i
			c.exporters = append(c.exporters, addr)
			c.streams = append(c.streams, &stream{})
		}
		c.streams[i].pkts = append(c.streams[i].pkts, pkt{data: append([]byte(nil), d.Payload...)})
	}
	if len(c.exporters) == 0 {
		st := f.Stats()
		return nil, fmt.Errorf("%s: no UDP datagrams with a payload in %d packets", path, st.Packets)
	}
	var dec decode.Decoder
	var out decode.Packet
	for pass := range 2 {
		for i, s := range c.streams {
			for j := range s.pkts {
				p := &s.pkts[j]
				dec.Decode(c.exporters[i], p.data, &out) // errors: the packet counts what decoded
				if pass == 1 {
					p.flows = len(out.Records)
					p.records = len(out.Records) + len(out.Options)
				}
			}
		}
	}
	return c, nil
}

// cursor walks a stream for one source and rewrites each packet's export
// time and sequence number as a live exporter would set them: v9 counts
// packets, v5/v7 and IPFIX count records, each per source and observation
// domain (v9 source ID, IPFIX domain, v5 engine), so that a collector's
// sequence-loss counter measures what it lost.
type cursor struct {
	s        *stream
	pos      int
	sinceTpl int
	needTpl  bool
	seq      map[uint64]uint32 // version<<32 | domain
	verbatim bool
}

func newCursor(s *stream, verbatim bool) *cursor {
	return &cursor{s: s, needTpl: s.template != nil, seq: map[uint64]uint32{}, verbatim: verbatim}
}

// next returns the next packet to send.
func (c *cursor) next() *pkt {
	if c.needTpl {
		c.needTpl = false
		c.sinceTpl = 0
		return c.s.template
	}
	p := &c.s.pkts[c.pos]
	if c.pos++; c.pos == len(c.s.pkts) {
		c.pos = 0
	}
	if c.s.template != nil && c.s.every > 0 {
		if c.sinceTpl++; c.sinceTpl >= c.s.every {
			c.needTpl = true
		}
	}
	return p
}

// fill copies p into buf and rewrites the header's export time (unix
// seconds) and sequence number. It returns the packet's bytes.
func (c *cursor) fill(buf []byte, p *pkt, unixSecs uint32) []byte {
	b := buf[:copy(buf, p.data)]
	if c.verbatim || len(b) < 4 {
		return b
	}
	ver := be.Uint16(b)
	switch ver {
	case 1:
		if len(b) >= 16 {
			be.PutUint32(b[8:], unixSecs)
			be.PutUint32(b[12:], 0)
		}
	case 5, 7:
		if len(b) >= 24 {
			be.PutUint32(b[8:], unixSecs)
			be.PutUint32(b[12:], 0)
			var domain uint32
			if ver == 5 {
				domain = uint32(b[20])<<8 | uint32(b[21])
			}
			k := uint64(ver)<<32 | uint64(domain)
			be.PutUint32(b[16:], c.seq[k])
			c.seq[k] += uint32(be.Uint16(b[2:]))
		}
	case 9:
		if len(b) >= 20 {
			be.PutUint32(b[8:], unixSecs)
			k := uint64(9)<<32 | uint64(be.Uint32(b[16:]))
			be.PutUint32(b[12:], c.seq[k])
			c.seq[k]++
		}
	case 10:
		if len(b) >= 16 {
			be.PutUint32(b[4:], unixSecs)
			k := uint64(10)<<32 | uint64(be.Uint32(b[12:]))
			be.PutUint32(b[8:], c.seq[k])
			c.seq[k] += uint32(p.records)
		}
	}
	return b
}

// maxLen is the longest packet of the stream.
func (s *stream) maxLen() int {
	n := 0
	if s.template != nil {
		n = len(s.template.data)
	}
	for _, p := range s.pkts {
		n = max(n, len(p.data))
	}
	return n
}

// flows is the number of flows in one pass over the stream's packets.
func (s *stream) flows() int {
	n := 0
	for _, p := range s.pkts {
		n += p.flows
	}
	return n
}
