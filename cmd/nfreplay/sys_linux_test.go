package main

import (
	"net"

	"golang.org/x/sys/unix"
)

// setRcvbuf sets the socket receive buffer, past net.core.rmem_max with
// CAP_NET_ADMIN.
func setRcvbuf(conn *net.UDPConn, n int) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
			unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, n)
		}
	})
}
