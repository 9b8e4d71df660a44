package analyzer

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nfkit/nfkit/internal/progress"
)

// progressBar counts the bytes read of the total input size (unknown for
// standard input) and the flows read, and shows them on a terminal.
type progressBar struct {
	counter *atomic.Int64
	flows   *atomic.Int64
	total   int64
	start   time.Time
	display *progress.Display // nil: count only, for Config.Counter
}

// newProgressBar counts into counter (a new one when nil) and, when w is not
// nil, shows the progress on it.
func newProgressBar(w io.Writer, inputs []string, counter *atomic.Int64, flows *atomic.Int64) *progressBar {
	if counter == nil {
		counter = new(atomic.Int64)
	}
	p := &progressBar{counter: counter, flows: flows, start: time.Now()}
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
		p.display = progress.New(w, p.render, 250*time.Millisecond)
	}
	return p
}

// render returns the progress line.
func (p *progressBar) render() string {
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
		return fmt.Sprintf("[%s%s] %3.0f%% %s of %s%s, %d flows", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
			frac*100, HumanSize(uint64(n)), HumanSize(uint64(p.total)), rate, flows)
	}
	return fmt.Sprintf("%s read%s, %d flows", HumanSize(uint64(n)), rate, flows)
}

// messages returns the writer for messages while the bar is shown.
func (p *progressBar) messages(stderr io.Writer) io.Writer {
	if p == nil || p.display == nil {
		return stderr
	}
	return p.display.Writer()
}

func (p *progressBar) stop() {
	if p.display != nil {
		p.display.Stop()
	}
}
