//go:build !linux

package main

import "net"

// setRcvbuf sets the socket receive buffer.
func setRcvbuf(conn *net.UDPConn, n int) { conn.SetReadBuffer(n) }
