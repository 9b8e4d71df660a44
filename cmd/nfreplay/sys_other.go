//go:build !linux

package main

import (
	"net"
	"time"
)

// setSndbuf sets the socket send buffer.
func setSndbuf(conn *net.UDPConn, n int) { conn.SetWriteBuffer(n) }

// nanosleep sleeps.
func nanosleep(d time.Duration) { time.Sleep(d) }
