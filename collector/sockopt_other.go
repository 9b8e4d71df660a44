//go:build !linux

package collector

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func setReusePort(fd uintptr) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
}

// setRcvBuf sets the socket receive buffer and returns the size granted.
func setRcvBuf(fd uintptr, want int) int {
	syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, want)
	got, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	if err != nil {
		return want
	}
	return got
}

// kernelDropsFunc returns nil: the kernel's drop counters are not
// available here.
func kernelDropsFunc(port int) func() uint64 { return nil }
