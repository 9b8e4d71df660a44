package spoof

import (
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// pktinfoSpace is the size of one IP_PKTINFO control message.
var pktinfoSpace = unix.CmsgSpace(unix.SizeofInet4Pktinfo)

// specDstOff is the offset of ipi_spec_dst (the source address to use) in
// an IP_PKTINFO control message.
var specDstOff = unix.CmsgLen(0) + int(unsafe.Offsetof(unix.Inet4Pktinfo{}.Spec_dst))

// Sender sends UDP datagrams from chosen loopback source addresses. It
// is not safe for concurrent use; use one Sender per goroutine.
type Sender struct {
	conn *net.UDPConn
	pc   *ipv4.PacketConn
	port uint16

	oob   []byte // one IP_PKTINFO message per batch slot
	msgs  []ipv4.Message
	bufs  [][]byte // backing for msgs[i].Buffers
	dst   netip.AddrPort
	dstUA *net.UDPAddr
}

// New opens an unconnected UDP socket bound to 0.0.0.0 and an ephemeral
// port.
func New() (*Sender, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero})
	if err != nil {
		return nil, fmt.Errorf("spoof: %w", err)
	}
	s := &Sender{
		conn: conn,
		pc:   ipv4.NewPacketConn(conn),
		port: uint16(conn.LocalAddr().(*net.UDPAddr).Port),
		oob:  make([]byte, MaxBatch*pktinfoSpace),
		msgs: make([]ipv4.Message, MaxBatch),
		bufs: make([][]byte, MaxBatch),
	}
	for i := range MaxBatch {
		m := s.oob[i*pktinfoSpace : (i+1)*pktinfoSpace]
		h := (*unix.Cmsghdr)(unsafe.Pointer(&m[0]))
		h.Level = unix.IPPROTO_IP
		h.Type = unix.IP_PKTINFO
		h.SetLen(unix.CmsgLen(unix.SizeofInet4Pktinfo))
		s.msgs[i].OOB = m
		s.msgs[i].Buffers = s.bufs[i : i+1]
	}
	return s, nil
}

// Port returns the source port of every datagram the Sender sends.
func (s *Sender) Port() uint16 { return s.port }

// Send sends payload as one UDP datagram from src to dst. src must be an
// address of this host (any of 127.0.0.0/8 on Linux) and dst an IPv4
// address and port. The payload may be at most 65,507 bytes.
func (s *Sender) Send(src netip.Addr, dst netip.AddrPort, payload []byte) error {
	if s.conn == nil {
		return errClosed
	}
	if err := checkAddrs(src, dst); err != nil {
		return err
	}
	oob := s.oob[:pktinfoSpace]
	a := src.As4()
	copy(oob[specDstOff:], a[:])
	if _, _, err := s.conn.WriteMsgUDPAddrPort(payload, oob, dst); err != nil {
		return fmt.Errorf("spoof: send from %v to %v: %w", src, dst, err)
	}
	return nil
}

// SendBatch sends the datagrams to dst with as few system calls as it can
// (sendmmsg, MaxBatch datagrams per call) and returns how many were sent;
// on an error the datagrams from the returned index on were not sent.
func (s *Sender) SendBatch(dst netip.AddrPort, ds []Datagram) (int, error) {
	if s.conn == nil {
		return 0, errClosed
	}
	if len(ds) == 0 {
		return 0, nil
	}
	if err := checkAddrs(ds[0].Src, dst); err != nil {
		return 0, err
	}
	if dst != s.dst || s.dstUA == nil {
		s.dst = dst
		s.dstUA = net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port()))
	}
	sent := 0
	for sent < len(ds) {
		n := min(len(ds)-sent, MaxBatch)
		for i := range n {
			d := &ds[sent+i]
			if !d.Src.Is4() {
				return sent, checkAddrs(d.Src, dst)
			}
			a := d.Src.As4()
			copy(s.msgs[i].OOB[specDstOff:], a[:])
			s.bufs[i] = d.Payload
			s.msgs[i].Addr = s.dstUA
		}
		k, err := s.pc.WriteBatch(s.msgs[:n], 0)
		for i := range n {
			s.bufs[i] = nil // do not keep the caller's payloads
		}
		sent += max(k, 0)
		if err != nil {
			return sent, fmt.Errorf("spoof: send from %v to %v: %w", ds[sent].Src, dst, err)
		}
	}
	return sent, nil
}

// Close closes the socket.
func (s *Sender) Close() error {
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
