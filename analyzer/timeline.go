package analyzer

import (
	"bufio"
	"fmt"
	"strings"
	"time"
)

// maxBuckets bounds the timeline; a smaller interval over a longer range is an error.
const maxBuckets = 100000

type timeline struct {
	interval int64
	buckets  map[int64]*statAgg
	lo, hi   int64
}

func newTimeline(interval time.Duration) *timeline {
	return &timeline{interval: int64(interval), buckets: map[int64]*statAgg{}}
}

// add counts f in the bucket of its start time.
func (t *timeline) add(f *Flow) {
	b := f.Start - ((f.Start%t.interval)+t.interval)%t.interval
	t.bucket(b).add(f)
}

// addAgg counts the sums of flows grouped elsewhere (a ClickHouse server)
// in bucket b.
func (t *timeline) addAgg(b int64, agg statAgg) { t.bucket(b).addAgg(agg) }

// bucket returns the sums of bucket b, made if new.
func (t *timeline) bucket(b int64) *statAgg {
	a := t.buckets[b]
	if a == nil {
		a = &statAgg{}
		t.buckets[b] = a
		if len(t.buckets) == 1 || b < t.lo {
			t.lo = b
		}
		if len(t.buckets) == 1 || b > t.hi {
			t.hi = b
		}
	}
	return a
}

func (t *timeline) write(w *bufio.Writer, format, by string, loc *time.Location, unicode bool, cols int) error {
	if len(t.buckets) == 0 {
		return nil
	}
	n := (t.hi-t.lo)/t.interval + 1
	if n > maxBuckets {
		return fmt.Errorf("--timeline %v over %v makes %d buckets (at most %d): use a larger interval",
			time.Duration(t.interval), time.Duration(t.hi-t.lo), n, maxBuckets)
	}
	var peak uint64
	for _, a := range t.buckets {
		peak = max(peak, a.measure(by))
	}
	layout := "2006-01-02 15:04:05"
	switch format {
	case "csv":
		w.WriteString("time,time_ns,flows,packets,bytes\n")
	case "table":
		fmt.Fprintf(w, "%-19s | %10s | %12s | %9s | %s per %v\n", "Time", "Flows", "Packets", "Bytes", by, time.Duration(t.interval))
	}
	// The bar takes what the terminal leaves after the numbers (62 columns
	// and a space), 50 when piped.
	width := 50
	if cols > 0 {
		width = max(10, cols-63)
	}
	for b := t.lo; b <= t.hi; b += t.interval {
		var a statAgg
		if p := t.buckets[b]; p != nil {
			a = *p
		}
		switch format {
		case "csv":
			fmt.Fprintf(w, "%s,%d,%d,%d,%d\n", rfc3339(b), b, a.flows, a.packets, a.bytes)
		case "json":
			fmt.Fprintf(w, `{"time":"%s","time_ns":%d,"flows":%d,"packets":%d,"bytes":%d}`+"\n", rfc3339(b), b, a.flows, a.packets, a.bytes)
		default:
			ts := time.Unix(0, b).In(loc).Format(layout)
			fmt.Fprintf(w, "%s | %10d | %12d | %9s | %s\n", ts, a.flows, a.packets, HumanSize(a.bytes), bar(a.measure(by), peak, width, unicode))
		}
	}
	return nil
}

// bar draws v/peak of width cells, with eighth blocks in unicode mode.
func bar(v, peak uint64, width int, unicode bool) string {
	if peak == 0 || v == 0 {
		return ""
	}
	eighths := int((v*uint64(width)*8 + peak - 1) / peak) // round up: any traffic shows
	if !unicode {
		return strings.Repeat("#", (eighths+7)/8)
	}
	s := strings.Repeat("█", eighths/8)
	if r := eighths % 8; r > 0 {
		s += string([]rune("▏▎▍▌▋▊▉")[r-1])
	}
	return s
}
