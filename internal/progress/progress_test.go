package progress

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// terminal records what is written to it, safe for concurrent use.
type terminal struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.Write(p)
}

func (t *terminal) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}

// screen returns the lines a terminal shows after out: '\r' moves to the
// start of the line, ESC [ K erases to its end, '\n' starts a new line. The
// last line is returned too, also when empty.
func screen(out string) []string {
	var lines []string
	var cur []byte
	col := 0
	for i := 0; i < len(out); i++ {
		switch c := out[i]; {
		case c == '\r':
			col = 0
		case c == '\n':
			lines = append(lines, string(cur))
			cur, col = cur[:0:0], 0
		case strings.HasPrefix(out[i:], "\x1b[K"):
			cur = cur[:col]
			i += 2
		default:
			if col < len(cur) {
				cur[col] = c
			} else {
				cur = append(cur, c)
			}
			col++
		}
	}
	return append(lines, string(cur))
}

// waitFor waits until the terminal shows s (at most 10 s).
func waitFor(t *testing.T, term *terminal, s string) {
	t.Helper()
	for start := time.Now(); !strings.Contains(term.String(), s); time.Sleep(time.Millisecond) {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the display never drew %q: %q", s, term.String())
		}
	}
}

// TestMessageOnCleanLine: a log line written while the progress line is shown
// starts on a line of its own (the progress line is erased first) and the
// progress line is drawn again after it; Stop erases it.
func TestMessageOnCleanLine(t *testing.T) {
	var term terminal
	d := New(&term, func() string { return "[=====     ] 26.3% 1.2G of 4.5G" }, time.Millisecond)
	waitFor(t, &term, "26.3%")
	fmt.Fprintf(d.Writer(), "time=2024-01-01 level=WARN msg=%q\n", "bad line")
	waitFor(t, &term, "msg=\"bad line\"\n\r[=====")
	d.Stop()
	out := term.String()
	i := strings.Index(out, "time=")
	if !strings.HasSuffix(out[:i], "\r\x1b[K") {
		t.Errorf("the log line follows %q, want the progress line erased first", out[max(0, i-40):i])
	}
	got := screen(out)
	want := []string{`time=2024-01-01 level=WARN msg="bad line"`, ""}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("the terminal shows %q, want %q (the progress line erased by Stop)", got, want)
	}
	// After Stop, messages go straight through.
	before := len(term.String())
	fmt.Fprintf(d.Writer(), "later\n")
	if got := term.String()[before:]; got != "later\n" {
		t.Errorf("after Stop, a message was written as %q", got)
	}
	d.Stop() // again: nothing happens
}

// TestPartialMessage: a message written in pieces is not split by a redraw.
func TestPartialMessage(t *testing.T) {
	var term terminal
	d := New(&term, func() string { return "50%" }, time.Millisecond)
	waitFor(t, &term, "50%")
	w := d.Writer()
	w.Write([]byte("one "))
	time.Sleep(20 * time.Millisecond) // many ticks
	w.Write([]byte("message\n"))
	d.Stop()
	if got := screen(term.String()); len(got) != 2 || got[0] != "one message" || got[1] != "" {
		t.Errorf("the terminal shows %q, want the message whole", got)
	}
}

// TestNothingShown: a display stopped before its first draw writes nothing,
// and messages before it go through unchanged.
func TestNothingShown(t *testing.T) {
	var term terminal
	d := New(&term, func() string { return "x" }, time.Hour)
	d.Writer().Write([]byte("a message\n"))
	d.Stop()
	if got := term.String(); got != "a message\n" {
		t.Errorf("wrote %q, want only the message", got)
	}
}

// TestConcurrentMessages: messages from many goroutines while the line is
// redrawn every millisecond each end up whole on a line of their own.
func TestConcurrentMessages(t *testing.T) {
	var term terminal
	n := 0
	var mu sync.Mutex
	d := New(&term, func() string { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("tick %d", n) }, time.Millisecond)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(d.Writer(), "goroutine %d message %d\n", g, i)
				if i%50 == 0 {
					time.Sleep(2 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	d.Stop()
	lines := screen(term.String())
	if len(lines) != 8*200+1 || lines[len(lines)-1] != "" {
		t.Fatalf("%d lines on the terminal, want %d and the progress line erased", len(lines), 8*200+1)
	}
	for _, l := range lines[:len(lines)-1] {
		var g, i int
		if k, err := fmt.Sscanf(l, "goroutine %d message %d", &g, &i); k != 2 || err != nil || l != fmt.Sprintf("goroutine %d message %d", g, i) {
			t.Fatalf("line %q is not a whole message", l)
		}
	}
}
