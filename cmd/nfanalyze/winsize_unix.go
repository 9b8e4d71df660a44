//go:build unix

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// winsizeCols returns the columns of the terminal f, 0 when unknown.
func winsizeCols(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
