package spool

import (
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// A segment file of any content (a damaged disk, a hostile file in the
// directory) is replayed only if whole and checked, else moved aside:
// never a panic, never a wrong batch.
func FuzzSegment(f *testing.F) {
	dir := f.TempDir()
	s, err := Open(dir, 1<<20)
	if err != nil {
		f.Fatal(err)
	}
	s.Put([]byte("a batch of rows"), 3)
	s.Put(nil, 0)
	s.Close()
	seeds, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	for _, p := range seeds {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte("NKSP"))
	f.Fuzz(func(t *testing.T, seg []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "00000000004294967296.seg"), seg, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		got, ok, err := s.Oldest()
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			records, n, sum, herr := parseHeader(seg)
			if herr != nil || int(n) != len(got.Data) || int(records) != got.Records || sum != crcOf(got.Data) {
				t.Fatalf("a segment that fails its checks was replayed: %q", got.Data)
			}
			if err := s.Remove(got.Seq); err != nil {
				t.Fatal(err)
			}
		} else if st := s.Stats(); st.Corrupt != 1 {
			t.Fatalf("refused segment not counted: %+v", st)
		}
		if s.Len() != 0 || s.Bytes() != 0 {
			t.Fatalf("left: %+v", s.Stats())
		}
	})
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
