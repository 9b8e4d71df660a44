package analyzer

import (
	"os"
	"syscall"
	"unsafe"
)

// mapFile maps size bytes of the regular file f read-only, for reading lines
// straight from the page cache instead of copying them out with read(). It
// returns nil when the file cannot or should not be mapped (the caller then
// reads it); 32-bit systems never map.
func mapFile(f *os.File, size int64) []byte {
	if unsafe.Sizeof(uintptr(0)) < 8 || size <= 0 || size != int64(int(size)) {
		return nil
	}
	b, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil
	}
	syscall.Madvise(b, syscall.MADV_SEQUENTIAL)
	return b
}

// dropMapped tells the kernel that b (page aligned, part of a mapping) will not
// be read again, so that its pages leave the process's resident set (they stay
// in the page cache).
func dropMapped(b []byte) { syscall.Madvise(b, syscall.MADV_DONTNEED) }

func unmapFile(b []byte) { syscall.Munmap(b) }
