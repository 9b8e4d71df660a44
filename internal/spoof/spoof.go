// Package spoof sends UDP datagrams to a loopback collector from any
// source address in 127.0.0.0/8, through one ordinary UDP socket, so that
// tests and load generators can play thousands of exporters from one
// process without raw sockets.
//
// On Linux every address of 127.0.0.0/8 is local (the "local
// 127.0.0.0/8 dev lo" route), and a UDP socket may pick the source address
// of each datagram it sends among the local addresses with an IP_PKTINFO
// control message (ipi_spec_dst; ip(7)). The socket is bound to
// 0.0.0.0 and an ephemeral port, and is never connected, so the kernel
// checks each requested source only for being local. The source port is
// the socket's for every datagram (see Sender.Port): collectors key
// exporters by address, not port.
//
//	s, err := spoof.New()
//	if err != nil { ... }
//	defer s.Close()
//	err = s.Send(netip.MustParseAddr("127.1.2.3"), collectorAddr, payload)
//
// On systems other than Linux New returns an error that wraps
// errors.ErrUnsupported.
package spoof

import (
	"errors"
	"fmt"
	"net/netip"
)

// MaxBatch is the most datagrams SendBatch hands the kernel in one
// sendmmsg call; longer batches take several calls.
const MaxBatch = 64

// Datagram is one datagram of a batch: the source address it is sent
// from and its UDP payload.
type Datagram struct {
	Src     netip.Addr
	Payload []byte
}

// checkAddrs rejects what one IPv4 socket cannot send.
func checkAddrs(src netip.Addr, dst netip.AddrPort) error {
	if !src.Is4() {
		return fmt.Errorf("spoof: source %v is not an IPv4 address", src)
	}
	if !dst.Addr().Unmap().Is4() || dst.Port() == 0 {
		return fmt.Errorf("spoof: destination %v is not an IPv4 address and port", dst)
	}
	return nil
}

// errClosed is returned by a Sender after Close.
var errClosed = errors.New("spoof: sender closed")
