package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/nfkit/nfkit/collector"
	"github.com/nfkit/nfkit/internal/progress"
)

// progressDisplay is the progress line of -r on a terminal.
type progressDisplay = progress.Display

// newProgress shows the capture being read, how far, and the flows
// decoded so far (from c once the collector exists).
func newProgress(w io.Writer, in *collector.CaptureInput, c *atomic.Pointer[collector.Collector]) *progress.Display {
	start := time.Now()
	return progress.New(w, func() string {
		file, done, size := in.Progress()
		pct := 100.0
		if size > 0 {
			pct = 100 * float64(done) / float64(size)
		}
		var flows uint64
		if c := c.Load(); c != nil {
			flows = c.Stats().Flows
		}
		return fmt.Sprintf("%s: %5.1f%%  %.1f/%.1f MB  %d flows  %s", file, pct,
			float64(done)/1e6, float64(size)/1e6, flows, time.Since(start).Round(time.Second))
	}, 200*time.Millisecond)
}
