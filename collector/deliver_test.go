package collector

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeReceiver records delivered batches; down makes it fail, reject
// refuses batches containing a marker.
type fakeReceiver struct {
	mu      sync.Mutex
	lines   []string
	calls   int
	down    bool
	block   chan struct{} // non-nil: Deliver waits for it (or ctx)
	reject  string
	closed  bool
	perCall []int
}

func (f *fakeReceiver) Deliver(ctx context.Context, b []byte, records int) error {
	f.mu.Lock()
	f.calls++
	block, down, reject := f.block, f.down, f.reject
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if down {
		return errors.New("connection refused")
	}
	if reject != "" && strings.Contains(string(b), reject) {
		return fmt.Errorf("%w: cannot parse", ErrRejected)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != records {
		return fmt.Errorf("batch of %d lines says %d records", len(lines), records)
	}
	f.mu.Lock()
	f.lines = append(f.lines, lines...)
	f.perCall = append(f.perCall, records)
	f.mu.Unlock()
	return nil
}

func (f *fakeReceiver) Close() error { f.closed = true; return nil }

func (f *fakeReceiver) set(fn func(f *fakeReceiver)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

func (f *fakeReceiver) got() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.lines...)
}

// writeRecords writes records from..to-1, one chunk each.
func writeRecords(t *testing.T, s *DeliverySink, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := s.Write(Chunk{Data: []byte(fmt.Sprintf("r%05d\n", i)), Records: 1}); err != nil {
			t.Fatal(err)
		}
	}
}

func wantLines(from, to int) []string {
	var w []string
	for i := from; i < to; i++ {
		w = append(w, fmt.Sprintf("r%05d", i))
	}
	return w
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func checkOrder(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("received %d records, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("record %d is %s, want %s", i, got[i], want[i])
		}
	}
}

func newTestSink(t *testing.T, f *fakeReceiver, cfg DeliveryConfig) *DeliverySink {
	t.Helper()
	cfg.Name = "test"
	if cfg.RetryMin == 0 {
		cfg.RetryMin, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	}
	s, err := NewDeliverySink(f, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDeliveryBatching(t *testing.T) {
	f := &fakeReceiver{}
	s := newTestSink(t, f, DeliveryConfig{BatchRecords: 10, Flush: time.Hour})
	writeRecords(t, s, 0, 95)
	waitFor(t, "9 batches", func() bool { return len(f.got()) == 90 })
	s.Tick(time.Now()) // not old yet: the last 5 wait
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkOrder(t, f.got(), wantLines(0, 95))
	if fmt.Sprint(f.perCall) != "[10 10 10 10 10 10 10 10 10 5]" || !f.closed {
		t.Fatalf("batches %v, closed %v", f.perCall, f.closed)
	}
	st := s.Stats()
	if st.Batches != 10 || st.Records != 95 || st.Bytes != 95*7 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDeliveryFlushByAge(t *testing.T) {
	f := &fakeReceiver{}
	s := newTestSink(t, f, DeliveryConfig{BatchRecords: 1000, Flush: 20 * time.Millisecond})
	defer s.Close()
	writeRecords(t, s, 0, 3)
	time.Sleep(30 * time.Millisecond)
	s.Tick(time.Now())
	waitFor(t, "the aged batch", func() bool { return len(f.got()) == 3 })
}

// The receiver is down: batches fill memory, then the spool; when it is
// back, every record arrives once, in order.
func TestDeliveryOutageSpoolsInOrder(t *testing.T) {
	f := &fakeReceiver{down: true}
	dir := t.TempDir()
	s := newTestSink(t, f, DeliveryConfig{BatchRecords: 10, MemoryBytes: 3 * 70, SpoolDir: dir, SpoolBytes: 1 << 20})
	writeRecords(t, s, 0, 200)
	st := s.Stats()
	if st.MemoryRecords != 30 || st.Spool.Records != 170 || st.Spool.Segments != 17 {
		t.Fatalf("while down: %+v", st)
	}
	waitFor(t, "retries", func() bool { return s.Stats().Retries >= 3 })
	f.set(func(f *fakeReceiver) { f.down = false })
	// New batches written while the spool drains go behind it.
	writeRecords(t, s, 200, 300)
	waitFor(t, "everything", func() bool { return len(f.got()) == 300 })
	checkOrder(t, f.got(), wantLines(0, 300))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	st = s.Stats()
	if st.Spool.Segments != 0 || st.Dropped != 0 || st.Records != 300 || st.Errors < 3 {
		t.Fatalf("after: %+v", st)
	}
}

// Without a spool, what memory cannot hold is dropped, and counted.
func TestDeliveryDropsCounted(t *testing.T) {
	f := &fakeReceiver{down: true}
	s := newTestSink(t, f, DeliveryConfig{BatchRecords: 10, MemoryBytes: 2 * 70, CloseTimeout: 50 * time.Millisecond})
	writeRecords(t, s, 0, 100)
	if st := s.Stats(); st.Dropped != 80 || st.MemoryRecords != 20 {
		t.Fatalf("stats %+v", st)
	}
	s.Close() // the receiver stays down: memory is dropped too
	if st := s.Stats(); st.Dropped != 100 || st.Records != 0 || st.MemoryRecords != 0 {
		t.Fatalf("after close: %+v", st)
	}
}

// Past the spool's bound, batches are dropped and counted; the spooled
// ones arrive.
func TestDeliverySpoolBound(t *testing.T) {
	f := &fakeReceiver{down: true}
	// Segments are 28 header bytes + 70 data bytes.
	s := newTestSink(t, f, DeliveryConfig{BatchRecords: 10, MemoryBytes: 70, SpoolDir: t.TempDir(), SpoolBytes: 5 * 98})
	writeRecords(t, s, 0, 100)
	st := s.Stats()
	if st.MemoryRecords != 10 || st.Spool.Records != 50 || st.Dropped != 40 {
		t.Fatalf("stats %+v", st)
	}
	f.set(func(f *fakeReceiver) { f.down = false })
	waitFor(t, "delivery", func() bool { return len(f.got()) == 60 })
	checkOrder(t, f.got(), wantLines(0, 60))
	s.Close()
}

// Close while the receiver is down spools what memory holds, in front of
// the spool; the next run delivers it all, in order.
func TestDeliveryRestartReplays(t *testing.T) {
	dir := t.TempDir()
	f := &fakeReceiver{down: true}
	s := newTestSink(t, f, DeliveryConfig{BatchRecords: 10, MemoryBytes: 3 * 70, SpoolDir: dir, CloseTimeout: 30 * time.Millisecond})
	writeRecords(t, s, 0, 95) // 9 sealed batches, 5 records in the open one
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Dropped != 0 || st.Spool.Records != 95 {
		t.Fatalf("after close: %+v", st)
	}
	f2 := &fakeReceiver{}
	s2 := newTestSink(t, f2, DeliveryConfig{BatchRecords: 10, SpoolDir: dir})
	writeRecords(t, s2, 95, 120)
	waitFor(t, "replay", func() bool { return len(f2.got()) == 115 })
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	checkOrder(t, f2.got(), wantLines(0, 120))
}

// A crash leaves a temporary segment: the next run removes and counts it
// and replays the whole segments.
func TestDeliveryCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	f := &fakeReceiver{down: true}
	s := newTestSink(t, f, DeliveryConfig{BatchRecords: 10, MemoryBytes: 1, SpoolDir: dir, CloseTimeout: time.Millisecond})
	writeRecords(t, s, 0, 30)
	s.Close()
	os.WriteFile(filepath.Join(dir, ".tmp-99.seg"), []byte("NKSP cut"), 0o644)
	f2 := &fakeReceiver{}
	s2 := newTestSink(t, f2, DeliveryConfig{BatchRecords: 10, SpoolDir: dir})
	waitFor(t, "replay", func() bool { return len(f2.got()) == 30 })
	s2.Close()
	checkOrder(t, f2.got(), wantLines(0, 30))
	if st := s2.Stats(); st.Spool.TempRemoved != 1 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-99.seg")); !os.IsNotExist(err) {
		t.Fatal("leftover not removed")
	}
}

// A batch the receiver refuses is moved aside and counted, not retried;
// the others arrive.
func TestDeliveryRejected(t *testing.T) {
	for _, spooled := range []bool{false, true} {
		t.Run(fmt.Sprint("spooled=", spooled), func(t *testing.T) {
			dir := t.TempDir()
			f := &fakeReceiver{reject: "r00013", down: spooled}
			cfg := DeliveryConfig{BatchRecords: 10, SpoolDir: dir}
			if spooled {
				cfg.MemoryBytes = 1
			}
			s := newTestSink(t, f, cfg)
			writeRecords(t, s, 0, 40)
			f.set(func(f *fakeReceiver) { f.down = false })
			waitFor(t, "delivery", func() bool { return s.Stats().Records+s.Stats().Rejected == 40 })
			s.Close()
			want := append(wantLines(0, 10), wantLines(20, 40)...)
			checkOrder(t, f.got(), want)
			st := s.Stats()
			if st.Rejected != 10 || st.Records != 30 || st.Spool.Rejected != 1 {
				t.Fatalf("stats %+v", st)
			}
			aside, _ := filepath.Glob(filepath.Join(dir, "rejected", "*.seg"))
			reasons, _ := filepath.Glob(filepath.Join(dir, "rejected", "*.reason"))
			if len(aside) != 1 || len(reasons) != 1 {
				t.Fatalf("rejected/: %v %v", aside, reasons)
			}
			b, _ := os.ReadFile(aside[0])
			if !strings.Contains(string(b), "r00013") {
				t.Fatalf("wrong batch aside: %q", b)
			}
			if !spooled && f.calls != 4 {
				t.Fatalf("%d deliveries, want 4 (a rejected batch is not retried)", f.calls)
			}
		})
	}
}

// Write never waits for a receiver that hangs; Close gives up after
// CloseTimeout and spools what is left, the hung batch included.
func TestDeliveryNeverWaits(t *testing.T) {
	dir := t.TempDir()
	f := &fakeReceiver{block: make(chan struct{})}
	s := newTestSink(t, f, DeliveryConfig{BatchRecords: 10, MemoryBytes: 5 * 70, SpoolDir: dir, CloseTimeout: 50 * time.Millisecond})
	start := time.Now()
	writeRecords(t, s, 0, 500)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("writing took %v", d)
	}
	start = time.Now()
	s.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if st := s.Stats(); st.Spool.Records != 500 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
	f2 := &fakeReceiver{}
	s2 := newTestSink(t, f2, DeliveryConfig{SpoolDir: dir})
	waitFor(t, "replay", func() bool { return len(f2.got()) == 500 })
	s2.Close()
	checkOrder(t, f2.got(), wantLines(0, 500))
}

// The collector exposes a delivery sink's metrics with its output's name.
func TestDeliveryMetricsExposed(t *testing.T) {
	f := &fakeReceiver{}
	s := newTestSink(t, f, DeliveryConfig{BatchRecords: 10})
	c, err := New(Config{Workers: 1, Outputs: []Output{{Name: "remote", Encoder: JSONLines{}, Sink: s}}})
	if err != nil {
		t.Fatal(err)
	}
	writeRecords(t, s, 0, 20)
	waitFor(t, "delivery", func() bool { return len(f.got()) == 20 })
	m := string(c.AppendMetrics(nil))
	c.Close()
	for _, want := range []string{
		"# TYPE nfcollect_delivery_batches_total counter",
		`nfcollect_delivery_batches_total{sink="remote"} 2`,
		`nfcollect_delivery_flows_total{sink="remote"} 20`,
		`nfcollect_delivery_dropped_flows_total{sink="remote"} 0`,
		`nfcollect_delivery_spool_bytes{sink="remote"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
