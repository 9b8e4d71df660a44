package collector

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

func setReusePort(fd uintptr) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_REUSEPORT, 1)
}

// setRcvBuf sets the socket receive buffer, past net.core.rmem_max with
// CAP_NET_ADMIN (SO_RCVBUFFORCE), and returns the size granted.
func setRcvBuf(fd uintptr, want int) int {
	if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, unix.SO_RCVBUFFORCE, want) != nil {
		syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, want)
	}
	got, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	if err != nil {
		return want
	}
	return got / 2 // Linux reports twice the usable size
}

// kernelDropsFunc returns a function that sums the drop counters of the
// UDP sockets bound to port (/proc/net/udp and udp6, last column).
func kernelDropsFunc(port int) func() uint64 {
	return func() uint64 { return kernelDrops(port) }
}

func kernelDrops(port int) uint64 {
	var total uint64
	want := fmt.Sprintf(":%04X", port)
	for _, name := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 13 || !strings.HasSuffix(fs[1], want) {
				continue
			}
			if v, err := strconv.ParseUint(fs[len(fs)-1], 10, 64); err == nil {
				total += v
			}
		}
		f.Close()
	}
	return total
}
