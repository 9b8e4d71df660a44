package chrow

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"unsafe"
)

// putAddr stores a's 16-byte form (IPv4 as IPv4-mapped IPv6, the zero Addr
// as zeros), network byte order, in p.
//
// netip.Addr.As16 costs as much as the rest of a row's columns together
// (it builds the array byte by byte through a temporary), so when the
// layout of netip.Addr is the one checked at init (its 128-bit address as
// two uint64s, high first, at offset 0) the two halves are read directly;
// otherwise As16 is used.
func putAddr(p *[16]byte, a netip.Addr) {
	if !addrLayoutOK {
		*p = a.As16()
		return
	}
	h := (*[2]uint64)(unsafe.Pointer(&a))
	binary.LittleEndian.PutUint64(p[:8], bits.ReverseBytes64(h[0]))
	binary.LittleEndian.PutUint64(p[8:], bits.ReverseBytes64(h[1]))
}

// addrLayoutOK reports whether netip.Addr starts with its address as
// {hi, lo uint64}, checked on addresses of every kind.
var addrLayoutOK = func() bool {
	if unsafe.Sizeof(netip.Addr{}) < 16 {
		return false
	}
	for _, s := range []string{"2001:db8:0102:0304:0506:0708:090a:0b0c", "192.0.2.1", "::ffff:10.1.2.3", "fe80::1%eth0", "::"} {
		a := netip.MustParseAddr(s)
		h := (*[2]uint64)(unsafe.Pointer(&a))
		want := a.As16()
		if h[0] != binary.BigEndian.Uint64(want[:8]) || h[1] != binary.BigEndian.Uint64(want[8:]) {
			return false
		}
	}
	var z netip.Addr
	h := (*[2]uint64)(unsafe.Pointer(&z))
	return h[0] == 0 && h[1] == 0
}()
