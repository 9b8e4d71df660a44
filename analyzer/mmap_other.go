//go:build !linux

package analyzer

import "os"

// mapFile maps files only on Linux; elsewhere files are read.
func mapFile(f *os.File, size int64) []byte { return nil }

func dropMapped(b []byte) {}

func unmapFile(b []byte) {}
