package collector

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/ip4defrag"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// packetSource reads pcap and pcapng files.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// countingReader counts the bytes read, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func openCapture(r io.Reader) (packetSource, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("not a capture file: %w", err)
	}
	if binary.BigEndian.Uint32(magic) == 0x0A0D0D0A {
		return pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
	}
	return pcapgo.NewReader(br)
}

// Replay decodes the export packets in pcap or pcapng files exactly as
// live traffic: the UDP payloads (IPv4 and IPv6, VLAN-tagged, IPv4
// fragments reassembled), keyed by each packet's source address, with the
// capture time as the receive time. progress, if not nil, receives
// progress lines for a terminal.
func (c *Collector) Replay(ctx context.Context, paths []string, progress io.Writer) error {
	for _, path := range paths {
		if err := c.replayFile(ctx, path, progress); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

func (c *Collector) replayFile(ctx context.Context, path string, progress io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	cr := &countingReader{r: f}
	src, err := openCapture(cr)
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	if progress != nil {
		go c.showProgress(path, cr, size, progress, stop)
	}
	defer close(stop)

	defrag := ip4defrag.NewIPv4Defragmenter()
	link := src.LinkType()
	n := 0
	for {
		if n++; n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		data, ci, err := src.ReadPacketData()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// A truncated capture: keep what was read.
			c.log.Warn("capture ends early", "file", path, "err", err)
			return nil
		}
		pkt := gopacket.NewPacket(data, link, gopacket.DecodeOptions{NoCopy: true, Lazy: true})
		var (
			addr    netip.Addr
			payload []byte
		)
		switch ip := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			addr, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
				whole, err := defrag.DefragIPv4WithTimestamp(ip, ci.Timestamp)
				if err != nil || whole == nil {
					continue
				}
				if whole.Protocol != layers.IPProtocolUDP {
					continue
				}
				udp := gopacket.NewPacket(whole.Payload, layers.LayerTypeUDP, gopacket.Default)
				if u, ok := udp.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
					payload = u.Payload
				}
			}
		case *layers.IPv6:
			addr, _ = netip.AddrFromSlice(ip.SrcIP)
		default:
			continue
		}
		if payload == nil {
			u, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if !ok {
				continue
			}
			payload = u.Payload
		}
		if len(payload) == 0 || !c.allowed(addr) {
			continue
		}
		var port uint16
		if u, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			port = uint16(u.SrcPort)
		}
		c.dispatch(c.newPacket(payload, netip.AddrPortFrom(addr, port), ci.Timestamp.UnixNano()), true)
	}
}

func (c *Collector) showProgress(path string, cr *countingReader, size int64, w io.Writer, stop chan struct{}) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	start := time.Now()
	line := func() {
		done := cr.n.Load()
		pct := 100.0
		if size > 0 {
			pct = 100 * float64(done) / float64(size)
		}
		fmt.Fprintf(w, "\r%s: %5.1f%%  %.1f/%.1f MB  %d flows  %s ", path, pct,
			float64(done)/1e6, float64(size)/1e6, c.Stats().Flows, time.Since(start).Round(time.Second))
	}
	for {
		select {
		case <-stop:
			line()
			fmt.Fprintln(w)
			return
		case <-t.C:
			line()
		}
	}
}
