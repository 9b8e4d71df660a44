//go:build !unix

package main

import "os"

// winsizeCols returns 0: the terminal's size is not asked for here.
func winsizeCols(*os.File) int { return 0 }
