//go:build linux

package main

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// calibrate times a fixed integer workload on core 0 (where pinned
// collectors run) and returns how long it took. On a virtual machine the
// host can slow a core down without anything showing in /proc/stat; a
// point measured while the core was slow is run again.
func calibrate() time.Duration {
	done := make(chan time.Duration)
	go func() {
		// The thread stays locked: when the goroutine ends, the runtime
		// retires it, so its pinned affinity cannot leak to the threads
		// that later fork the collectors.
		runtime.LockOSThread()
		var set unix.CPUSet
		set.Set(0)
		unix.SchedSetaffinity(0, &set)
		best := time.Duration(1 << 62)
		for range 3 {
			t := time.Now()
			calibSink = spin(5_000_000)
			best = min(best, time.Since(t))
		}
		done <- best
	}()
	return <-done
}

var calibSink uint64

// spin is a dependency chain the compiler cannot shorten.
func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}
