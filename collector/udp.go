package collector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

const (
	batchLen = 64       // datagrams per batch read (recvmmsg on Linux)
	maxDgram = 64 << 10 // largest UDP payload
)

// UDPInput receives export packets on UDP sockets bound with SO_REUSEPORT
// (one per worker), so that the kernel spreads exporters over them.
type UDPInput struct {
	conns []*net.UDPConn
	port  int
}

// Addr returns the bound address of the first socket.
func (u *UDPInput) Addr() netip.AddrPort {
	return u.conns[0].LocalAddr().(*net.UDPAddr).AddrPort()
}

// ListenUDP binds Config.Workers UDP sockets on the configured address and
// port. With no host it listens on all IPv4 and IPv6 addresses (a
// dual-stack socket, or IPv4 only when the host has no IPv6).
func (c *Collector) ListenUDP() (*UDPInput, error) { return c.ListenUDPPort(c.cfg.Port) }

// ListenUDPPort is ListenUDP on another port, with the same host and
// socket options: a second input (sFlow's 6343 beside NetFlow's 2055; any
// input takes every protocol, told apart by its bytes), passed to Serve
// with the first.
func (c *Collector) ListenUDPPort(port int) (*UDPInput, error) {
	var bufWarn sync.Once
	lc := net.ListenConfig{Control: func(network, address string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			if serr = setReusePort(fd); serr != nil {
				return
			}
			want := c.cfg.RcvBuf
			if got := setRcvBuf(fd, want); got < want {
				bufWarn.Do(func() {
					c.log.Warn("kernel capped the socket receive buffer; bursts may be dropped (raise net.core.rmem_max)",
						"requested", want, "got", got)
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
	if host == "" {
		host = "::"
	}
	// SO_REUSEPORT lets any other socket with it share the port, and the
	// kernel would split the exporters between them: a second collector
	// started by mistake would silently take half the traffic, and an
	// ephemeral port (0) could be one another process shares. So the port
	// is first bound alone, which fails if anyone holds it, and the
	// workers' sockets take it over.
	network := "udp"
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	probe, err := net.ListenPacket(network, addr)
	if err != nil && c.cfg.Host == "" {
		// No IPv6 on this host: IPv4 only.
		host, network = "0.0.0.0", "udp4"
		addr = net.JoinHostPort(host, strconv.Itoa(port))
		probe, err = net.ListenPacket(network, addr)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another collector using the port?)", addr, err)
	}
	u := &UDPInput{port: probe.LocalAddr().(*net.UDPAddr).Port}
	probe.Close()
	addr = net.JoinHostPort(host, strconv.Itoa(u.port))
	for range c.cfg.Workers {
		pc, err := lc.ListenPacket(ctx, network, addr)
		if err != nil {
			u.Close()
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
		u.conns = append(u.conns, pc.(*net.UDPConn))
	}
	if prev, f := c.metrics.kernelDrops, kernelDropsFunc(u.port); prev != nil && f != nil {
		c.metrics.kernelDrops = func() uint64 { return prev() + f() }
	} else {
		c.metrics.kernelDrops = f
	}
	return u, nil
}

// Close closes the sockets.
func (u *UDPInput) Close() error {
	for _, c := range u.conns {
		c.Close()
	}
	return nil
}

// Run receives on every socket until ctx ends or the sockets are closed.
func (u *UDPInput) Run(ctx context.Context, c *Collector) error {
	var wg sync.WaitGroup
	for _, conn := range u.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.receive(ctx, conn)
		}()
	}
	go func() {
		<-ctx.Done()
		u.Close() // unblocks the receivers
	}()
	wg.Wait()
	return nil
}

// batchReader is the ReadBatch method of ipv4.PacketConn and ipv6.PacketConn
// (recvmmsg on Linux, one datagram at a time elsewhere).
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

func (c *Collector) receive(ctx context.Context, conn *net.UDPConn) {
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
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
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
			c.Submit(ctx, Packet{Data: m.Buffers[0][:m.N], Source: src, Received: now}, false)
		}
	}
}
