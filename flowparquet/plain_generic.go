//go:build !(amd64 || arm64 || 386 || riscv64 || loong64 || ppc64le || mips64le || mipsle || wasm)

package flowparquet

import "encoding/binary"

// bytes64 returns the PLAIN encoding of s, in scratch.
func bytes64(s []uint64, scratch *[]byte) []byte {
	b := (*scratch)[:0]
	for _, v := range s {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	*scratch = b
	return b
}

// bytes32 returns the PLAIN encoding of s, in scratch.
func bytes32(s []uint32, scratch *[]byte) []byte {
	b := (*scratch)[:0]
	for _, v := range s {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	*scratch = b
	return b
}
