package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func batch(i int) []byte { return []byte(fmt.Sprintf("batch %d %s", i, strings.Repeat("x", i))) }

func mustOpen(t *testing.T, dir string, max int64) *Spool {
	t.Helper()
	s, err := Open(dir, max)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// drain takes every segment in order, removing each.
func drain(t *testing.T, s *Spool) (got []string, records int) {
	t.Helper()
	for {
		seg, ok, err := s.Oldest()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return got, records
		}
		got = append(got, string(seg.Data))
		records += seg.Records
		if err := s.Remove(seg.Seq); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOrderAndAccounting(t *testing.T) {
	s := mustOpen(t, t.TempDir(), 1<<20)
	var want []string
	for i := range 50 {
		if err := s.Put(batch(i), i); err != nil {
			t.Fatal(err)
		}
		want = append(want, string(batch(i)))
	}
	if s.Len() != 50 || s.Records() != 49*50/2 {
		t.Fatalf("Len %d Records %d", s.Len(), s.Records())
	}
	var size int64
	for _, b := range want {
		size += int64(headerSize + len(b))
	}
	if s.Bytes() != size {
		t.Fatalf("Bytes %d, want %d", s.Bytes(), size)
	}
	got, records := drain(t, s)
	if fmt.Sprint(got) != fmt.Sprint(want) || records != 49*50/2 {
		t.Fatalf("replayed %q (%d records)", got, records)
	}
	if s.Bytes() != 0 || s.Len() != 0 || s.Records() != 0 {
		t.Fatalf("after drain: %+v", s.Stats())
	}
}

func TestBound(t *testing.T) {
	s := mustOpen(t, t.TempDir(), 3*(headerSize+100))
	b := bytes.Repeat([]byte{'a'}, 100)
	for i := range 3 {
		if err := s.Put(b, 1); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	err := s.Put(b, 1)
	if !errors.Is(err, ErrFull) {
		t.Fatalf("4th put: %v, want ErrFull", err)
	}
	if s.Len() != 3 || s.Bytes() != 3*(headerSize+100) {
		t.Fatalf("a refused put changed the spool: %+v", s.Stats())
	}
	if err := s.Put(make([]byte, 10<<10), 1); !errors.Is(err, ErrFull) {
		t.Fatalf("oversized batch: %v", err)
	}
	seg, _, _ := s.Oldest()
	s.Remove(seg.Seq)
	if err := s.Put(b, 1); err != nil {
		t.Fatalf("put after room was made: %v", err)
	}
}

func TestRestartKeepsOrder(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		s.Put(batch(i), 1)
	}
	seg, _, _ := s.Oldest()
	s.Remove(seg.Seq)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpen(t, dir, 1<<20)
	if s.Len() != 9 || s.Records() != 9 {
		t.Fatalf("reopened: %+v", s.Stats())
	}
	for i := 10; i < 15; i++ {
		s.Put(batch(i), 1)
	}
	got, _ := drain(t, s)
	var want []string
	for i := 1; i < 15; i++ {
		want = append(want, string(batch(i)))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after restart: %q", got)
	}
}

func TestPrepend(t *testing.T) {
	s := mustOpen(t, t.TempDir(), 1<<20)
	s.Put(batch(3), 1)
	s.Put(batch(4), 1)
	// older batches, prepended newest first
	s.Prepend(batch(2), 1)
	s.Prepend(batch(1), 1)
	got, _ := drain(t, s)
	want := []string{string(batch(1)), string(batch(2)), string(batch(3)), string(batch(4))}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q", got)
	}
	// Prepend into an empty spool is a Put.
	s.Prepend(batch(5), 1)
	s.Put(batch(6), 1)
	got, _ = drain(t, s)
	if fmt.Sprint(got) != fmt.Sprint([]string{string(batch(5)), string(batch(6))}) {
		t.Fatalf("got %q", got)
	}
}

func TestCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 1<<20)
	s.Put(batch(1), 1)
	s.Put(batch(2), 2)
	s.Close()
	// A crash in the middle of a Put leaves a temporary file; a crash
	// during a disk failure may leave a cut segment.
	os.WriteFile(filepath.Join(dir, tmpPrefix+"7"+segExt), []byte("NKSP partial"), 0o644)
	cut := filepath.Join(dir, fmt.Sprintf("%020d%s", firstSeq+2, segExt))
	full, _ := os.ReadFile(filepath.Join(dir, fmt.Sprintf("%020d%s", firstSeq+1, segExt)))
	os.WriteFile(cut, full[:len(full)-3], 0o644)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not ours"), 0o644)

	s = mustOpen(t, dir, 1<<20)
	st := s.Stats()
	if st.TempRemoved != 1 || st.Corrupt != 1 || st.Segments != 2 || st.Records != 3 {
		t.Fatalf("stats after reopen: %+v", st)
	}
	if _, err := os.Stat(filepath.Join(dir, tmpPrefix+"7"+segExt)); !os.IsNotExist(err) {
		t.Fatalf("temporary file left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, asideDir, filepath.Base(cut))); err != nil {
		t.Fatalf("cut segment not moved aside: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README")); err != nil {
		t.Fatalf("a foreign file was touched: %v", err)
	}
	// New segments go after the highest sequence number seen.
	s.Put(batch(3), 1)
	got, _ := drain(t, s)
	if fmt.Sprint(got) != fmt.Sprint([]string{string(batch(1)), string(batch(2)), string(batch(3))}) {
		t.Fatalf("got %q", got)
	}
}

func TestCorruptDataMovedAside(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 1<<20)
	s.Put(batch(1), 1)
	s.Put(batch(2), 1)
	// Flip a data byte of the first segment: same length, bad checksum.
	p := filepath.Join(dir, fmt.Sprintf("%020d%s", firstSeq, segExt))
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 0xff
	os.WriteFile(p, b, 0o644)
	seg, ok, err := s.Oldest()
	if err != nil || !ok || string(seg.Data) != string(batch(2)) {
		t.Fatalf("Oldest = %q %v %v, want the second batch", seg.Data, ok, err)
	}
	if st := s.Stats(); st.Corrupt != 1 || st.Segments != 1 || st.Bytes != int64(headerSize+len(batch(2))) {
		t.Fatalf("stats: %+v", st)
	}
	reason, err := os.ReadFile(filepath.Join(dir, asideDir, filepath.Base(p)+".reason"))
	if err != nil || !strings.Contains(string(reason), "checksum") {
		t.Fatalf("reason %q, %v", reason, err)
	}
}

func TestMoveAside(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 1<<20)
	s.Put(batch(1), 1)
	s.Put(batch(2), 1)
	seg, _, _ := s.Oldest()
	if err := s.MoveAside(seg.Seq, "ClickHouse: Cannot parse input"); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Rejected != 1 || st.Segments != 1 {
		t.Fatalf("stats: %+v", st)
	}
	b, err := os.ReadFile(filepath.Join(dir, asideDir, s.name(seg.Seq)))
	if err != nil || !bytes.HasSuffix(b, batch(1)) {
		t.Fatalf("moved segment: %q %v", b, err)
	}
	got, _ := drain(t, s)
	if fmt.Sprint(got) != fmt.Sprint([]string{string(batch(2))}) {
		t.Fatalf("got %q", got)
	}
	// A reopened spool does not replay what was moved aside.
	s.Close()
	s = mustOpen(t, dir, 1<<20)
	if s.Len() != 0 {
		t.Fatalf("reopened: %+v", s.Stats())
	}
}

func TestAsideBounded(t *testing.T) {
	dir := t.TempDir()
	s := mustOpen(t, dir, 2*(headerSize+100))
	b := bytes.Repeat([]byte{'r'}, 100)
	for range 3 {
		if err := s.Put(b, 1); err != nil {
			t.Fatal(err)
		}
		seg, _, _ := s.Oldest()
		if err := s.MoveAside(seg.Seq, "bad"); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.AsideDropped == 0 {
		t.Fatalf("rejected/ grew past the bound: %+v", st)
	}
	if n := asideBytes(filepath.Join(dir, asideDir)); n > 2*(headerSize+100) {
		t.Fatalf("rejected/ holds %d bytes", n)
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	mustOpen(t, dir, 1<<20)
	if _, err := Open(dir, 1<<20); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open: %v", err)
	}
}

func TestConcurrentPuts(t *testing.T) {
	s := mustOpen(t, t.TempDir(), 1<<20)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				s.Put(batch(g*100+i), 1)
			}
		}()
	}
	wg.Wait()
	got, n := drain(t, s)
	if len(got) != 80 || n != 80 {
		t.Fatalf("%d segments, %d records", len(got), n)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.TempDir(), 0); err == nil {
		t.Fatal("zero bound accepted")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Open(f, 1<<20); err == nil {
		t.Fatal("a file accepted as spool directory")
	}
}
