package flowparquet

import "unsafe"

// bytes16 returns the bytes of the 16-byte arrays s (their PLAIN
// encoding).
func bytes16(s [][16]byte, _ *[]byte) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice(&s[0][0], 16*len(s))
}

// bytes6 returns the bytes of the 6-byte arrays s (their PLAIN encoding).
func bytes6(s [][6]byte, _ *[]byte) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice(&s[0][0], 6*len(s))
}
