package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progressLine shows a progress line on a terminal; log lines written
// through it clear the line first and redraw it after.
type progressLine struct {
	mu     sync.Mutex
	w      io.Writer
	render func() string
	text   string
	stop   chan struct{}
	done   chan struct{}
}

func newProgressLine(w io.Writer) *progressLine {
	return &progressLine{w: w, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start redraws the line from render every 200 ms until Stop.
func (p *progressLine) Start(render func() string) {
	p.render = render
	go func() {
		defer close(p.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				p.text = p.render()
				fmt.Fprintf(p.w, "\r\x1b[K%s", p.text)
				p.mu.Unlock()
			}
		}
	}()
}

// Write writes a log line on a clean line, then redraws the progress.
func (p *progressLine) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.text != "" {
		io.WriteString(p.w, "\r\x1b[K")
	}
	n, err := p.w.Write(b)
	if p.text != "" {
		io.WriteString(p.w, p.text)
	}
	return n, err
}

// Stop draws the last state and ends the line.
func (p *progressLine) Stop() {
	if p.render == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.mu.Lock()
	fmt.Fprintf(p.w, "\r\x1b[K%s\n", p.render())
	p.text = ""
	p.mu.Unlock()
}
