package collector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

const (
	batchLen  = 64                  // datagrams per recvmmsg
	maxDgram  = 64 << 10            // largest UDP payload
	soRcvbufF = unix.SO_RCVBUFFORCE // exceeds rmem_max with CAP_NET_ADMIN
)

// Listener holds the collector's bound UDP sockets.
type Listener struct {
	conns []*net.UDPConn
	port  int
}

// Addr returns the bound address of the first socket.
func (l *Listener) Addr() netip.AddrPort {
	return l.conns[0].LocalAddr().(*net.UDPAddr).AddrPort()
}

// Listen binds Workers UDP sockets with SO_REUSEPORT on the configured
// address, so the kernel spreads exporters over them. With no host it
// listens on all IPv4 and IPv6 addresses (a dual-stack socket, or IPv4 only
// when the host has no IPv6).
func (c *Collector) Listen() (*Listener, error) {
	var bufWarn sync.Once
	lc := net.ListenConfig{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			if serr != nil {
				return
			}
			want := c.cfg.RcvBuf
			if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, soRcvbufF, want) != nil {
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, want)
			}
			// Linux reports twice the usable size.
			if got, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF); err == nil && got/2 < want {
				bufWarn.Do(func() {
					c.log.Warn("kernel capped the socket receive buffer; bursts may be dropped (raise net.core.rmem_max)",
						"requested", want, "got", got/2)
				})
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ctx := context.Background()
	host := c.cfg.Host
	network := "udp"
	if host == "" {
		host = "::"
	}
	l := &Listener{port: c.cfg.Port}
	for i := range c.cfg.Workers {
		addr := net.JoinHostPort(host, strconv.Itoa(l.port))
		pc, err := lc.ListenPacket(ctx, network, addr)
		if err != nil && i == 0 && c.cfg.Host == "" {
			// No IPv6 on this host: IPv4 only.
			host = "0.0.0.0"
			addr = net.JoinHostPort(host, strconv.Itoa(l.port))
			pc, err = lc.ListenPacket(ctx, "udp4", addr)
		}
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		conn := pc.(*net.UDPConn)
		if i == 0 {
			l.port = conn.LocalAddr().(*net.UDPAddr).Port
		}
		l.conns = append(l.conns, conn)
	}
	c.metrics.kernelDrops = func() uint64 { return kernelDrops(l.port) }
	return l, nil
}

// Close closes the sockets.
func (l *Listener) Close() {
	for _, c := range l.conns {
		c.Close()
	}
}

// Serve receives on l until ctx is done, then stops receiving, decodes
// everything already read, completes the output and returns.
func (c *Collector) Serve(ctx context.Context, l *Listener) error {
	var wg sync.WaitGroup
	for _, conn := range l.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.receive(conn)
		}()
	}
	statsCtx, stopStats := context.WithCancel(ctx)
	go c.statsLoop(statsCtx)
	go c.saveLoop(statsCtx)
	<-ctx.Done()
	stopStats()
	l.Close() // unblocks the receivers
	wg.Wait()
	c.logStats()
	return c.Close()
}

// batchReader is the ReadBatch method of ipv4.PacketConn and ipv6.PacketConn
// (recvmmsg on Linux).
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

func (c *Collector) receive(conn *net.UDPConn) {
	var br batchReader
	if conn.LocalAddr().(*net.UDPAddr).IP.To4() != nil {
		br = ipv4.NewPacketConn(conn)
	} else {
		br = ipv6.NewPacketConn(conn)
	}
	msgs := make([]ipv4.Message, batchLen)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, maxDgram)}
	}
	for {
		n, err := br.ReadBatch(msgs, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			c.log.Error("receive failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		now := time.Now().UnixNano()
		for i := range n {
			m := &msgs[i]
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			src := ua.AddrPort()
			src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
			if !c.allowed(src.Addr()) {
				c.metrics.denied.Add(1)
				continue
			}
			c.dispatch(c.newPacket(m.Buffers[0][:m.N], src, now), false)
		}
	}
}

// kernelDrops sums the drop counters of the UDP sockets bound to port
// (/proc/net/udp and udp6, last column).
func kernelDrops(port int) uint64 {
	var total uint64
	want := fmt.Sprintf(":%04X", port)
	for _, name := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 13 || !strings.HasSuffix(fs[1], want) {
				continue
			}
			if v, err := strconv.ParseUint(fs[len(fs)-1], 10, 64); err == nil {
				total += v
			}
		}
		f.Close()
	}
	return total
}
