package analyzer

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestExpire(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 2, 6, 30, 0, 0, time.UTC)
	names := []string{}
	for h := 0; h < 100; h++ { // hourly files, the newest 00:00 today... back 99 hours
		slot := now.Truncate(time.Hour).Add(-time.Duration(h) * time.Hour)
		names = append(names, "nfcollect."+slot.Format("200601021504")+".json.gz")
	}
	names = append(names, "nfcollect.202611250000.1.json.zst", "notes.txt", "1700000000.gz", ".nfcollect.202611250000.json.gz.x.tmp",
		"nfcollect.templates.json", "sub/nfcollect.202611200000.json")
	for _, n := range names {
		p := filepath.Join(dir, n)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("data\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The lone file in sub/ is its directory's newest: only its modification
	// time says when its last flow came; .../sub2's file was written now.
	old := time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)
	os.Chtimes(filepath.Join(dir, "sub/nfcollect.202611200000.json"), old, old)
	os.MkdirAll(filepath.Join(dir, "sub2"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub2/nfcollect.202611200000.json"), nil, 0o644)
	names = append(names, "sub2/nfcollect.202611200000.json")
	cutoff := now.Add(-72 * time.Hour) // 2026-11-29 06:30
	dry, err := Expire(dir, cutoff, true)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Expire(dir, cutoff, false)
	if err != nil || !slices.Equal(dry.Removed, res.Removed) {
		t.Fatalf("Expire: %v; dry run listed %d files, the run removed %d", err, len(dry.Removed), len(res.Removed))
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, n := range names {
		p := filepath.Join(dir, n)
		_, statErr := os.Stat(p)
		gone := os.IsNotExist(statErr)
		s, rotated := fileStamp(p)
		// Removed: rotated files whose next hour began at or before the cutoff
		// (the 05:00 file of Nov 29 holds flows up to 06:00 < 06:30: it goes;
		// 06:00 stays), and sub/'s by its modification time.
		want := rotated && filepath.Base(filepath.Dir(p)) != "sub2" && n[0] != '.' && n != "1700000000.gz" &&
			time.Unix(0, s).Add(time.Hour).Compare(cutoff) <= 0
		if gone != want {
			t.Errorf("%s: removed %v, want %v", n, gone, want)
		}
	}
	if len(res.Removed) != 100-72-1+2 || res.Bytes != int64(5*len(res.Removed)) {
		t.Errorf("removed %d files (%d bytes); %d left", len(res.Removed), res.Bytes, len(left))
	}
	if _, err := Expire(filepath.Join(dir, "notes.txt"), cutoff, false); err == nil {
		t.Errorf("Expire on a file: no error")
	}
	for s, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour} {
		if got, err := ParseAge(s); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "0d", "-1h", "x", "1.5d"} {
		if _, err := ParseAge(s); err == nil {
			t.Errorf("ParseAge(%q): no error", s)
		}
	}
}
