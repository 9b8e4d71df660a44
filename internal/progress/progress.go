// Package progress shows a one-line progress display on a terminal, redrawn
// in place, for the nfkit tools (nfanalyze's reading, nfcollect -r).
//
// The display owns its terminal while it is shown: everything else written
// there (log lines, errors) must go through the writer it provides, which
// clears the progress line first and draws it again after, so that a message
// never shares a line with the progress:
//
//	d := progress.New(os.Stderr, func() string { return fmt.Sprintf("%d flows", n.Load()) }, 250*time.Millisecond)
//	log := slog.New(slog.NewTextHandler(d.Writer(), nil))
//	...
//	d.Stop()
//
// Whether to show a display at all is the caller's decision (typically: only
// when the writer is a terminal); the package writes terminal control codes
// unconditionally.
package progress

import (
	"io"
	"sync"
	"time"
)

// clearLine returns the cursor to the start of the line and erases it.
const clearLine = "\r\x1b[K"

// Display is a progress line on a terminal. Its methods are safe for
// concurrent use.
type Display struct {
	w      io.Writer
	render func() string
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	line    string // the progress line last drawn
	shown   bool   // the progress line is on the terminal
	partial bool   // a message without its final newline is on the terminal
	stopped bool
	buf     []byte
}

// New starts a display on w, a terminal, that draws the line render returns
// every interval, the first time after one interval. render is called from
// the display's own goroutine; its result should fit on one line of the
// terminal and hold no newline.
func New(w io.Writer, render func() string, every time.Duration) *Display {
	d := &Display{w: w, render: render, stop: make(chan struct{}), done: make(chan struct{})}
	go d.loop(every)
	return d
}

func (d *Display) loop(every time.Duration) {
	defer close(d.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			line := d.render()
			d.mu.Lock()
			if !d.stopped {
				d.line = line
				d.draw()
			}
			d.mu.Unlock()
		}
	}
}

// draw writes the progress line over the current line, unless a message is
// half written. d.mu is held.
func (d *Display) draw() {
	if d.partial {
		return
	}
	d.buf = append(append(append(d.buf[:0], '\r'), d.line...), "\x1b[K"...)
	d.w.Write(d.buf)
	d.shown = true
}

// Writer returns a writer for everything else that goes to the display's
// terminal while it is shown: each write clears the progress line first and
// draws it again after (once the message's line is complete). After Stop,
// writes go straight to the terminal.
func (d *Display) Writer() io.Writer { return messageWriter{d} }

type messageWriter struct{ d *Display }

func (m messageWriter) Write(p []byte) (int, error) {
	d := m.d
	if len(p) == 0 {
		return 0, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return d.w.Write(p)
	}
	if d.shown {
		if _, err := io.WriteString(d.w, clearLine); err != nil {
			return 0, err
		}
		d.shown = false
	}
	n, err := d.w.Write(p)
	d.partial = p[len(p)-1] != '\n'
	if err == nil && d.line != "" {
		d.draw()
	}
	return n, err
}

// Stop stops the display and erases the progress line. It returns once the
// display's goroutine has ended; calling it again does nothing.
func (d *Display) Stop() {
	d.once.Do(func() {
		close(d.stop)
		<-d.done
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.shown {
			io.WriteString(d.w, clearLine)
			d.shown = false
		}
		d.stopped = true
	})
}
