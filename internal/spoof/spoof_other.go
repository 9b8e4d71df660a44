//go:build !linux

package spoof

import (
	"errors"
	"fmt"
	"net/netip"
	"runtime"
)

// Sender sends UDP datagrams from chosen loopback source addresses; it is
// implemented on Linux only.
type Sender struct{}

// New reports that choosing source addresses is not implemented here.
func New() (*Sender, error) {
	return nil, fmt.Errorf("spoof: not implemented on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// Port returns 0.
func (s *Sender) Port() uint16 { return 0 }

// Send fails: see New.
func (s *Sender) Send(src netip.Addr, dst netip.AddrPort, payload []byte) error {
	return errClosed
}

// SendBatch fails: see New.
func (s *Sender) SendBatch(dst netip.AddrPort, ds []Datagram) (int, error) {
	return 0, errClosed
}

// Close does nothing.
func (s *Sender) Close() error { return nil }
