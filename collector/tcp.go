package collector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// TCPConfig bounds IPFIX over TCP sessions. Zero fields take the defaults.
type TCPConfig struct {
	// MaxConns bounds the concurrent exporter connections (default
	// 1024); connections beyond it are closed at once and counted.
	MaxConns int
	// IdleTimeout closes a connection that sends nothing for this long
	// (default 30 minutes: exporters send at least their templates
	// periodically, and a silent session only holds a descriptor).
	IdleTimeout time.Duration
}

func (c TCPConfig) withDefaults() TCPConfig {
	if c.MaxConns <= 0 {
		c.MaxConns = 1024
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	return c
}

// TCPInput receives IPFIX over TCP (RFC 7011 §10.4): each connection is a
// transport session whose messages are framed by the length in their
// header, and whose templates are its own (a reconnect starts clean).
// Messages are queued waiting for room, so that a slow pipeline slows the
// exporter down through TCP's flow control instead of buffering without
// bound; a framing error closes the connection.
type TCPInput struct {
	ln  net.Listener
	cfg TCPConfig

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup

	nextSession atomic.Uint64

	accepted, refused, closedIdle atomic.Uint64
	active                        atomic.Int64
	messages, bytes               atomic.Uint64
	framingErrors                 atomic.Uint64
	lastWarn                      atomic.Int64
}

// ListenTCP listens for IPFIX over TCP on the collector's host and the
// given port (0: any free port).
func (c *Collector) ListenTCP(port int, cfg TCPConfig) (*TCPInput, error) {
	addr := net.JoinHostPort(c.cfg.Host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ipfix over tcp: %w", err)
	}
	t := &TCPInput{ln: ln, cfg: cfg.withDefaults(), conns: make(map[net.Conn]struct{})}
	c.addTCP(t)
	return t, nil
}

// Addr returns the listening address.
func (t *TCPInput) Addr() netip.AddrPort {
	return t.ln.Addr().(*net.TCPAddr).AddrPort()
}

// Run accepts connections until ctx ends or the input is closed.
func (t *TCPInput) Run(ctx context.Context, c *Collector) error {
	stop := context.AfterFunc(ctx, func() { t.Close() })
	defer stop()
	for {
		conn, err := t.ln.Accept()
		if err != nil {
			t.wg.Wait()
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("ipfix over tcp: %w", err)
		}
		if src := conn.RemoteAddr().(*net.TCPAddr).AddrPort(); !c.allowed(src.Addr().Unmap()) {
			c.metrics.denied.Add(1)
			conn.Close()
			continue
		}
		t.mu.Lock()
		if len(t.conns) >= t.cfg.MaxConns {
			t.mu.Unlock()
			t.refused.Add(1)
			t.warn(c, "ipfix over tcp: connection refused, --tcp-max-conns reached", "exporter", conn.RemoteAddr().String(), "max", t.cfg.MaxConns)
			conn.Close()
			continue
		}
		t.conns[conn] = struct{}{}
		t.mu.Unlock()
		t.accepted.Add(1)
		t.active.Add(1)
		t.wg.Add(1)
		go t.serve(ctx, c, conn)
	}
}

// serve reads the messages of one connection and submits them as one
// session.
func (t *TCPInput) serve(ctx context.Context, c *Collector, conn net.Conn) {
	defer t.wg.Done()
	src := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	session := t.nextSession.Add(1)
	defer func() {
		conn.Close()
		t.mu.Lock()
		delete(t.conns, conn)
		t.mu.Unlock()
		t.active.Add(-1)
		// The session's templates and waiting packets go with it. Queued
		// after its messages, so they are decoded first.
		c.Submit(context.WithoutCancel(ctx), Packet{Source: src, Received: time.Now().UnixNano(), Session: session, End: true}, true)
	}()
	buf := make([]byte, 0, 64<<10)
	var hdr [ipfixHeaderLen]byte
	for {
		conn.SetReadDeadline(time.Now().Add(t.cfg.IdleTimeout))
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			t.ended(c, src, err, true)
			return
		}
		version := binary.BigEndian.Uint16(hdr[0:])
		length := int(binary.BigEndian.Uint16(hdr[2:]))
		if version != 10 || length < ipfixHeaderLen {
			t.framingErrors.Add(1)
			t.warn(c, "ipfix over tcp: not an IPFIX message header; connection closed",
				"exporter", src.String(), "version", version, "length", length)
			return
		}
		buf = append(buf[:0], hdr[:]...)
		buf = buf[:length]
		if _, err := io.ReadFull(conn, buf[ipfixHeaderLen:]); err != nil {
			t.ended(c, src, err, false)
			return
		}
		t.messages.Add(1)
		t.bytes.Add(uint64(length))
		// Waiting for room is the back-pressure: while the queue is full
		// nothing more is read from this connection.
		if !c.Submit(ctx, Packet{Data: buf, Source: src, Received: time.Now().UnixNano(), Session: session}, true) {
			return // shutting down
		}
	}
}

// ipfixHeaderLen is the length of an IPFIX message header.
const ipfixHeaderLen = 16

// ended accounts for the end of a connection: a clean close between
// messages, an idle timeout, or a message cut short.
func (t *TCPInput) ended(c *Collector, src netip.AddrPort, err error, between bool) {
	var ne net.Error
	switch {
	case between && errors.Is(err, io.EOF):
	case errors.As(err, &ne) && ne.Timeout():
		t.closedIdle.Add(1)
	case errors.Is(err, net.ErrClosed):
	default:
		t.framingErrors.Add(1)
		t.warn(c, "ipfix over tcp: connection ended inside a message", "exporter", src.String(), "err", err)
	}
}

// warn logs at most once a second.
func (t *TCPInput) warn(c *Collector, msg string, args ...any) {
	now := time.Now().UnixNano()
	last := t.lastWarn.Load()
	if now-last < int64(time.Second) || !t.lastWarn.CompareAndSwap(last, now) {
		return
	}
	c.log.Warn(msg, args...)
}

// Close stops accepting and closes every connection.
func (t *TCPInput) Close() error {
	err := t.ln.Close()
	t.mu.Lock()
	for conn := range t.conns {
		conn.Close()
	}
	t.mu.Unlock()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// addTCP registers a TCP input for the metrics.
func (c *Collector) addTCP(t *TCPInput) {
	c.tcpMu.Lock()
	c.tcpInputs = append(c.tcpInputs, t)
	c.tcpMu.Unlock()
}

// appendTCPMetrics writes the metrics of the TCP inputs, if any.
func (c *Collector) appendTCPMetrics(p *promWriter) {
	c.tcpMu.Lock()
	ins := c.tcpInputs
	c.tcpMu.Unlock()
	if len(ins) == 0 {
		return
	}
	var accepted, refused, idle, msgs, bytes, framing uint64
	var active int64
	for _, t := range ins {
		accepted += t.accepted.Load()
		refused += t.refused.Load()
		idle += t.closedIdle.Load()
		msgs += t.messages.Load()
		bytes += t.bytes.Load()
		framing += t.framingErrors.Load()
		active += t.active.Load()
	}
	p.one("nfcollect_tcp_connections", "gauge", "IPFIX over TCP connections open.", uint64(max(active, 0)))
	p.one("nfcollect_tcp_connections_accepted_total", "counter", "IPFIX over TCP connections accepted.", accepted)
	p.one("nfcollect_tcp_connections_refused_total", "counter", "IPFIX over TCP connections closed at once because --tcp-max-conns were open.", refused)
	p.one("nfcollect_tcp_connections_idle_closed_total", "counter", "IPFIX over TCP connections closed after --tcp-idle without data.", idle)
	p.one("nfcollect_tcp_messages_total", "counter", "IPFIX messages received over TCP.", msgs)
	p.one("nfcollect_tcp_bytes_total", "counter", "IPFIX message bytes received over TCP.", bytes)
	p.one("nfcollect_tcp_framing_errors_total", "counter", "IPFIX over TCP connections closed on a bad message header or a message cut short.", framing)
}
