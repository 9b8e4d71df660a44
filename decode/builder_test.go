package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/nfkit/nfkit/internal/testvec"
)

// Test-only packet builders. Every helper appends big-endian fields with
// encoding/binary's Append functions.

var be = binary.BigEndian

func u8(v uint8) []byte   { return []byte{v} }
func u16(v uint16) []byte { return be.AppendUint16(nil, v) }
func u32(v uint32) []byte { return be.AppendUint32(nil, v) }
func u64(v uint64) []byte { return be.AppendUint64(nil, v) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// fs is a template field for the builders.
type fs struct {
	id     uint16
	length uint16
	pen    uint32
}

// set wraps a set body with its header.
func set(id uint16, body ...[]byte) []byte {
	b := cat(body...)
	return cat(u16(id), u16(uint16(len(b)+4)), b)
}

// ipfixTemplate is an IPFIX template record; scope > 0 makes it an options
// template record.
func ipfixTemplate(id uint16, scope int, fields ...fs) []byte {
	b := cat(u16(id), u16(uint16(len(fields))))
	if scope > 0 {
		b = append(b, u16(uint16(scope))...)
	}
	for _, f := range fields {
		if f.pen != 0 {
			b = cat(b, u16(f.id|0x8000), u16(f.length), u32(f.pen))
		} else {
			b = cat(b, u16(f.id), u16(f.length))
		}
	}
	return b
}

// ipfixPacket builds an IPFIX message from sets.
func ipfixPacket(exportTime, seq, domain uint32, sets ...[]byte) []byte {
	body := cat(sets...)
	return cat(u16(10), u16(uint16(16+len(body))), u32(exportTime), u32(seq), u32(domain), body)
}

// v9Template is a v9 template record.
func v9Template(id uint16, fields ...fs) []byte {
	b := cat(u16(id), u16(uint16(len(fields))))
	for _, f := range fields {
		b = cat(b, u16(f.id), u16(f.length))
	}
	return b
}

// v9OptionsTemplate is a v9 options template record (no padding).
func v9OptionsTemplate(id uint16, scope []fs, opts []fs) []byte {
	b := cat(u16(id), u16(uint16(4*len(scope))), u16(uint16(4*len(opts))))
	for _, f := range append(append([]fs(nil), scope...), opts...) {
		b = cat(b, u16(f.id), u16(f.length))
	}
	return b
}

// v9Packet builds a v9 packet; count is the header's record count.
func v9Packet(uptime, secs, seq, source uint32, count uint16, sets ...[]byte) []byte {
	return cat(u16(9), u16(count), u32(uptime), u32(secs), u32(seq), u32(source), cat(sets...))
}

// loadHex reads a python-netflow test vector.
func loadHex(tb testing.TB, name string) [][]byte { return testvec.Python(tb, name) }

var (
	loopback  = netip.MustParseAddr("127.0.0.1")
	exporter2 = netip.MustParseAddr("192.0.2.2")
)

// fieldUint returns the unsigned value of raw field (pen, id) of r.
func fieldUint(tb testing.TB, r *Record, pen uint32, id uint16) uint64 {
	tb.Helper()
	f, ok := r.Lookup(pen, id)
	if !ok {
		tb.Fatalf("record has no field (%d, %d)", pen, id)
	}
	v, ok := f.Uint()
	if !ok {
		tb.Fatalf("field (%d, %d) is not an integer: %x", pen, id, f.Value)
	}
	return v
}

func check[T comparable](tb testing.TB, what string, got, want T) {
	tb.Helper()
	if got != want {
		tb.Errorf("%s = %v, want %v", what, got, want)
	}
}
