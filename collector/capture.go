package collector

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"sync/atomic"

	"github.com/nfkit/nfkit/capture"
)

// CaptureInput reads export packets from pcap or pcapng files, as live
// traffic would bring them: the UDP payloads (IPv4 and IPv6, VLAN-tagged,
// fragments reassembled; package capture) and the IPFIX messages of TCP
// connections (each connection a session of its own), keyed by each
// packet's source address, with the capture time as the receive time. While it runs, the
// collector's queues wait instead of dropping, and its clock (rotation,
// ages) is the capture's.
type CaptureInput struct {
	Paths []string

	cur atomic.Pointer[openCapture]
}

type openCapture struct {
	path string
	f    *capture.File
}

// Progress reports the capture being read, the bytes read of it and its
// size. It is safe to call while Run runs.
func (in *CaptureInput) Progress() (path string, done, size int64) {
	if c := in.cur.Load(); c != nil {
		return c.path, c.f.Offset(), c.f.Size()
	}
	return "", 0, 0
}

// Close does nothing; Run stops when its context ends.
func (*CaptureInput) Close() error { return nil }

// Run reads the captures in order. A capture cut short (a crash of the
// capturing program) is read up to the cut, with a warning.
func (in *CaptureInput) Run(ctx context.Context, c *Collector) error {
	c.replaying.Store(true)
	for _, path := range in.Paths {
		f, err := capture.Open(path)
		if err != nil {
			return err
		}
		in.cur.Store(&openCapture{path, f})
		// IPFIX over TCP: parts of streams the capture lacks are logged
		// (the first 100 of a file; all are in the stats line).
		gaps := 0
		f.OnTCPGap(func(g capture.TCPGap) {
			if gaps++; gaps <= 100 {
				c.log.Warn("capture: IPFIX over TCP: part of a stream not read", "file", path, "packet", g.Packet,
					"from", g.Src, "to", g.Dst, "lost_bytes", g.Lost, "reason", g.Reason)
			}
		})
		// The end of a connection: its templates go, as on the live path.
		f.OnTCPEnd(func(src netip.AddrPort, session uint64) {
			c.Submit(ctx, Packet{Source: src, Received: c.clock.Load(), Session: session | 1<<63, End: true}, true)
		})
		err = c.replay(ctx, f)
		if st := f.Stats(); st.TCPMessages > 0 || st.TCPGaps > 0 {
			c.log.Info("capture: IPFIX over TCP", "file", path, "connections", st.TCPConnections, "messages", st.TCPMessages,
				"gaps", st.TCPGaps, "lost_bytes", st.TCPBytesLost, "retransmitted", st.TCPRetransmitted, "out_of_order", st.TCPOutOfOrder)
		}
		f.Close()
		switch {
		case errors.Is(err, capture.ErrTruncated):
			c.log.Warn("capture ends early; read up to the cut", "file", path, "err", err)
		case err != nil:
			return err
		}
	}
	return nil
}

func (c *Collector) replay(ctx context.Context, f *capture.File) error {
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		d, err := f.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(d.Payload) == 0 || !c.allowed(d.Src.Addr()) {
			continue
		}
		ts := d.Time.UnixNano()
		if ts > c.clock.Load() {
			c.clock.Store(ts)
		}
		// An IPFIX message of a TCP connection: templates scoped to the
		// connection, as on the live path (whose sessions count up from
		// 1; these have the top bit set).
		var session uint64
		if d.Session != 0 {
			session = d.Session | 1<<63
		}
		if !c.Submit(ctx, Packet{Data: d.Payload, Source: d.Src, Received: ts, Session: session}, true) && ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
