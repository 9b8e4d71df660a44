//go:build !amd64 && !arm64

package analyzer

import (
	"encoding/binary"
	"unsafe"
)

// le64 returns the 8 bytes at p+i as a little-endian word; the caller ensures
// that they lie in one slice.
func le64(p unsafe.Pointer, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(p, i)), 8))
}
