package testvec

import "encoding/binary"

// Builders of hand-made export packets for tests.

// U16 and U32 are big-endian fields.
func U16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func U32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// Cat concatenates parts.
func Cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Set is a v9 flowset or an IPFIX set: id, length, body.
func Set(id uint16, body ...[]byte) []byte {
	b := Cat(body...)
	return Cat(U16(id), U16(uint16(len(b)+4)), b)
}

// V9 is a NetFlow v9 packet of the sets: the count is the number of sets,
// uptime 1000 ms, export time 1600000000, the given sequence number and
// source ID.
func V9(seq, source uint32, sets ...[]byte) []byte {
	return Cat(U16(9), U16(uint16(len(sets))), U32(1000), U32(1600000000), U32(seq), U32(source), Cat(sets...))
}

// IPFIX is an IPFIX message of the sets: export time 1600000000, the given
// sequence number and observation domain.
func IPFIX(seq, domain uint32, sets ...[]byte) []byte {
	body := Cat(sets...)
	return Cat(U16(10), U16(uint16(16+len(body))), U32(1600000000), U32(seq), U32(domain), body)
}
