//go:build amd64 || arm64

package analyzer

import "unsafe"

// le64 returns the 8 bytes at p+i as a little-endian word; the caller ensures
// that they lie in one slice. These architectures load unaligned little-endian
// words directly, without the bounds checks of slicing.
func le64(p unsafe.Pointer, i int) uint64 { return *(*uint64)(unsafe.Add(p, i)) }
