//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	"github.com/nfkit/nfkit/internal/spoof"
)

// flood is a stream of spoofed datagrams.
type flood struct {
	// next returns the i-th datagram: its source and payload. The payload
	// is either shared and never changed, or built in *buf, the scratch
	// buffer of one batch slot, which stays untouched until the batch is
	// sent.
	next  func(i int, buf *[]byte) (netip.Addr, []byte)
	count int     // datagrams at most (0: no bound but time)
	rate  float64 // datagrams/s (0: as fast as the socket takes them)
	limit time.Duration
}

// sent is what a flood sent.
type sent struct {
	Datagrams int64         `json:"datagrams"`
	Bytes     int64         `json:"bytes"`
	Errors    int64         `json:"send_errors"`
	FirstErr  string        `json:"first_error,omitempty"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	StoppedBy string        `json:"stopped_by"` // "count", "time", "collector exited", "interrupted"
}

func (s sent) rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Datagrams) / s.Elapsed.Seconds()
}

// run sends the flood to dst until its count or time bound, ctx ends, or
// stop reports true (checked between batches).
func (f *flood) run(ctx context.Context, s *spoof.Sender, dst netip.AddrPort, stop func() bool) sent {
	var r sent
	var ds [spoof.MaxBatch]spoof.Datagram
	var bufs [spoof.MaxBatch][]byte
	start := time.Now()
	i := 0
	for {
		el := time.Since(start)
		switch {
		case f.count > 0 && i >= f.count:
			r.StoppedBy = "count"
		case el >= f.limit:
			r.StoppedBy = "time"
		case ctx.Err() != nil:
			r.StoppedBy = "interrupted"
		case stop():
			r.StoppedBy = "collector exited"
		}
		if r.StoppedBy != "" {
			break
		}
		n := spoof.MaxBatch
		if f.rate > 0 {
			due := int(f.rate*el.Seconds()) + 1 - i
			if due <= 0 {
				time.Sleep(time.Millisecond)
				continue
			}
			n = min(n, due)
		}
		if f.count > 0 {
			n = min(n, f.count-i)
		}
		for k := range n {
			src, p := f.next(i+k, &bufs[k])
			ds[k] = spoof.Datagram{Src: src, Payload: p}
			r.Bytes += int64(len(p))
		}
		k, err := s.SendBatch(dst, ds[:n])
		if err != nil {
			r.Errors += int64(n - k)
			if r.FirstErr == "" {
				r.FirstErr = err.Error()
			}
			if r.Errors > 10000 && r.Errors > r.Datagrams {
				r.StoppedBy = "send errors"
				break
			}
		}
		r.Datagrams += int64(k)
		i += n
	}
	r.Elapsed = time.Since(start)
	return r
}

// addrAt returns base + i as an IPv4 address.
func addrAt(base netip.Addr, i int) netip.Addr {
	a := base.As4()
	v := binary.BigEndian.Uint32(a[:]) + uint32(i)
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}

// sources returns n consecutive addresses from base.
func sources(base string, n int) []netip.Addr {
	b := netip.MustParseAddr(base)
	out := make([]netip.Addr, n)
	for i := range out {
		out[i] = addrAt(b, i)
	}
	return out
}

// describe is a short description of the offered load.
func (s sent) describe(sources int) string {
	plural := "s"
	if sources == 1 {
		plural = ""
	}
	return fmt.Sprintf("%s datagrams, %s in %.1f s (%s/s) from %s source%s",
		si(float64(s.Datagrams)), bytesSI(s.Bytes), s.Elapsed.Seconds(), si(s.rate()), thousands(float64(sources)), plural)
}

// si formats a count with k/M suffixes.
func si(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

func bytesSI(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10))
	}
}
