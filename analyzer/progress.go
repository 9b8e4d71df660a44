package analyzer

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progress draws a progress bar on a terminal: bytes read of the total input
// size (unknown for standard input) and flows read.
type progress struct {
	w       io.Writer
	counter *atomic.Int64
	flows   *atomic.Int64
	total   int64
	start   time.Time
	done    chan struct{}
	wg      sync.WaitGroup
}

func newProgress(w io.Writer, inputs []string, counter *atomic.Int64, flows *atomic.Int64) *progress {
	if counter == nil {
		counter = new(atomic.Int64)
	}
	p := &progress{w: w, counter: counter, flows: flows, start: time.Now(), done: make(chan struct{})}
	for _, in := range inputs {
		if in == "-" {
			p.total = -1
			break
		}
		if st, err := os.Stat(in); err == nil {
			p.total += st.Size()
		}
	}
	if w != nil {
		p.wg.Add(1)
		go p.loop()
	}
	return p
}

func (p *progress) loop() {
	defer p.wg.Done()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			fmt.Fprint(p.w, "\r\033[K")
			return
		case <-t.C:
			p.draw()
		}
	}
}

func (p *progress) draw() {
	n := p.counter.Load()
	el := time.Since(p.start).Seconds()
	rate := ""
	if el > 0 {
		rate = fmt.Sprintf(" %s/s", HumanSize(uint64(float64(n)/el)))
	}
	flows := p.flows.Load()
	if p.total > 0 {
		frac := min(float64(n)/float64(p.total), 1)
		const width = 30
		fill := int(frac * width)
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %s of %s%s, %d flows\033[K", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
			frac*100, HumanSize(uint64(n)), HumanSize(uint64(p.total)), rate, flows)
		return
	}
	fmt.Fprintf(p.w, "\r%s read%s, %d flows\033[K", HumanSize(uint64(n)), rate, flows)
}

func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
}
