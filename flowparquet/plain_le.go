//go:build amd64 || arm64 || 386 || riscv64 || loong64 || ppc64le || mips64le || mipsle || wasm

package flowparquet

import "unsafe"

// bytes64 returns the PLAIN encoding of s: its memory, on these
// little-endian machines.
func bytes64(s []uint64, _ *[]byte) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 8*len(s))
}

// bytes32 returns the PLAIN encoding of s: its memory, on these
// little-endian machines.
func bytes32(s []uint32, _ *[]byte) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}
