package collector

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Faults of the disk and of the process: a full disk, a removed
// directory, a crash. Nothing already written may be lost, and what is
// counted as written must be what the files hold.

// smallDisk mounts a tmpfs of size bytes (root only) and returns its path.
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a filler file until the filesystem of dir is full, and
// returns its path (remove it to free the space).
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatal(err)
		}
	}
}

// countRecords reads an output file whole (every member or frame) and
// returns its lines; any damage is an error.
func countRecords(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	switch CodecFor(strings.TrimSuffix(path, ".tmp")) {
	case Gzip:
		zr, err := gzip.NewReader(f)
		if err == io.EOF {
			return 0
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r = zr
	case Zstd:
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s is damaged after %d bytes: %v", path, len(b), err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		t.Fatalf("%s ends in the middle of a line", path)
	}
	return bytes.Count(b, []byte{'\n'})
}

// chunkOf returns n records' worth of JSON lines as one framed chunk.
func chunkOf(t *testing.T, codec Codec, n, seq int) Chunk {
	t.Helper()
	var b []byte
	for i := range n {
		// Numbers that do not compress away, so the disk fills.
		b = fmt.Appendf(b, `{"type":"IPFIX","sequence_num":%d,"bytes":%d}`+"\n", seq*n+i, (seq*n+i)*2654435761%1000003)
	}
	if fr, _ := newFramer(codec); fr != nil {
		b = append([]byte(nil), fr.Frame(b)...)
	}
	return Chunk{Data: b, Records: n, Time: time.Now()}
}

// A full disk with a single output file: a failed write is cut back, so
// the file stays readable to the end, and appending resumes once space is
// freed. What was reported written is exactly what the file holds.
func TestFullDiskSingleFile(t *testing.T) {
	for _, codec := range []Codec{Gzip, Zstd, Plain} {
		t.Run(fmt.Sprint(codec), func(t *testing.T) {
			dir := smallDisk(t, 256<<10)
			path := filepath.Join(dir, "flows.json"+codec.Ext())
			s, err := NewFileSink(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			filler := ""
			written, failed := 0, 0
			for i := range 400 {
				if i == 20 {
					filler = fill(t, dir)
				}
				if i == 300 {
					os.Remove(filler) // space comes back
				}
				c := chunkOf(t, codec, 50, i)
				if err := s.Write(c); err != nil {
					failed++
					continue
				}
				written += c.Records
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if failed == 0 {
				t.Fatal("the disk never filled")
			}
			got := countRecords(t, path)
			if got != written {
				t.Errorf("file holds %d records, %d reported written (%d writes failed)", got, written, failed)
			}
			t.Logf("%d of 400 chunk writes failed on the full disk; the file holds and reads all %d records reported written", failed, got)
		})
	}
}

// A full disk with rotated files: a failed write neither completes nor
// replaces a file; every completed file is whole, and their records are
// exactly those reported written.
func TestFullDiskRotate(t *testing.T) {
	dir := smallDisk(t, 256<<10)
	out := filepath.Join(dir, "flows")
	s, err := NewRotateSink(RotateConfig{Dir: out, Interval: time.Second, Codec: Gzip}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	filler := ""
	written, failed := 0, 0
	for i := range 400 {
		if i == 30 {
			filler = fill(t, dir)
		}
		if i == 300 {
			os.Remove(filler)
		}
		c := chunkOf(t, Gzip, 50, i)
		c.Time = base.Add(time.Duration(i/10) * time.Second) // a new file every 10 chunks
		if err := s.Write(c); err != nil {
			failed++
			continue
		}
		written += c.Records
	}
	if err := s.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	if failed == 0 {
		t.Fatal("the disk never filled")
	}
	files, _ := os.ReadDir(out)
	got := 0
	for _, f := range files {
		if strings.HasPrefix(f.Name(), ".") {
			t.Errorf("temporary file left: %s", f.Name())
			continue
		}
		got += countRecords(t, filepath.Join(out, f.Name()))
	}
	if got != written {
		t.Errorf("files hold %d records, %d reported written (%d writes failed)", got, written, failed)
	}
	t.Logf("%d of 400 chunk writes failed on the full disk; %d files hold and read all %d records reported written", failed, len(files), got)
}

// The output directory removed while running is recreated, with what was
// written before; nothing written is lost.
func TestOutputDirRemoved(t *testing.T) {
	t.Run("rotate", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "flows")
		s, err := NewRotateSink(RotateConfig{Dir: dir, Interval: time.Hour, Codec: Zstd}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if i == 5 {
				os.RemoveAll(dir)
			}
			if err := s.Write(chunkOf(t, Zstd, 10, i)); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, "nfcollect.*.json.zst"))
		if len(files) != 1 {
			t.Fatalf("files %v, want one", files)
		}
		if n := countRecords(t, files[0]); n != 100 {
			t.Errorf("%d records, want 100", n)
		}
	})
	t.Run("file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "out")
		os.Mkdir(dir, 0o755)
		path := filepath.Join(dir, "flows.gz")
		s, err := NewFileSink(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 10 {
			if i == 5 {
				os.RemoveAll(dir)
			}
			if err := s.Write(chunkOf(t, Gzip, 10, i)); err != nil {
				t.Fatalf("write %d: %v", i, err)
			}
		}
		s.Close()
		if n := countRecords(t, path); n != 100 {
			t.Errorf("%d records, want 100", n)
		}
	})
}

// SIGHUP (Rotate) with a single output file reopens its name, so that
// logrotate's move-and-signal works: records before it are in the moved
// file, records after it in the new one.
func TestFileSinkReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.gz")
	moved := filepath.Join(dir, "flows.1.gz")
	s, err := NewFileSink(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Write(chunkOf(t, Gzip, 10, 0))
	os.Rename(path, moved)
	if err := s.Rotate(time.Now()); err != nil {
		t.Fatal(err)
	}
	s.Write(chunkOf(t, Gzip, 7, 1))
	s.Close()
	if a, b := countRecords(t, moved), countRecords(t, path); a != 10 || b != 7 {
		t.Errorf("moved file %d records, new file %d; want 10 and 7", a, b)
	}
}

// A file moved away between writes (without SIGHUP) is noticed: writing
// goes on in a new file at the name, and the moved file keeps its records.
func TestFileSinkMovedAway(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.json")
	s, _ := NewFileSink(path, nil)
	s.Write(chunkOf(t, Plain, 3, 0))
	os.Rename(path, path+".old")
	s.Write(chunkOf(t, Plain, 4, 1))
	s.Close()
	if a, b := countRecords(t, path+".old"), countRecords(t, path); a != 3 || b != 4 {
		t.Errorf("moved %d, new %d; want 3 and 4", a, b)
	}
}

// A crash (SIGKILL, power loss) leaves the hidden temporary file of the
// current interval, possibly ending in the middle of a chunk: the next
// start completes it under its interval's name, cut to its last whole
// chunk.
func TestRotateRecoversLeftovers(t *testing.T) {
	for _, codec := range []Codec{Gzip, Zstd, Plain} {
		t.Run(fmt.Sprint(codec), func(t *testing.T) {
			dir := t.TempDir()
			var data []byte
			for i := range 3 {
				data = append(data, chunkOf(t, codec, 20, i).Data...)
			}
			partial := chunkOf(t, codec, 20, 3).Data
			data = append(data, partial[:len(partial)/2]...)
			want := 60
			if codec == Plain {
				want = bytes.Count(data, []byte{'\n'}) // whole lines are kept
			}
			tmp := filepath.Join(dir, ".nfcollect.202612011200.json"+codec.Ext()+".0123456789abcdef.tmp")
			os.WriteFile(tmp, data, 0o644)
			// And one named by an earlier version.
			old := filepath.Join(dir, ".nfcollect.current.123456.json"+codec.Ext()+".tmp")
			os.WriteFile(old, chunkOf(t, codec, 5, 9).Data, 0o644)

			if _, err := NewRotateSink(RotateConfig{Dir: dir, Interval: 5 * time.Minute, Codec: codec}, nil); err != nil {
				t.Fatal(err)
			}
			final := filepath.Join(dir, "nfcollect.202612011200.json"+codec.Ext())
			if n := countRecords(t, final); n != want {
				t.Errorf("recovered file holds %d records, want %d", n, want)
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".*"))
			if len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
			all, _ := filepath.Glob(filepath.Join(dir, "nfcollect.*"))
			if len(all) != 2 {
				t.Errorf("files %v, want the two recovered ones", all)
			}
		})
	}
}

// A completed file is never replaced: a second file of the same interval
// (a restart, SIGHUP) gets a name of its own.
func TestRotateNeverReplaces(t *testing.T) {
	dir := t.TempDir()
	when := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		s, err := NewRotateSink(RotateConfig{Dir: dir, Interval: time.Hour}, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := chunkOf(t, Plain, 5+i, i)
		c.Time = when
		s.Write(c)
		s.Close()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "nfcollect.*"))
	total := 0
	for _, f := range files {
		total += countRecords(t, f)
	}
	if len(files) != 3 || total != 5+6+7 {
		t.Errorf("files %v hold %d records, want 3 files with 18", files, total)
	}
}

// A single output file that a crash left ending in the middle of a chunk
// is cut back to its last whole chunk before appending, so what follows
// stays readable.
func TestFileSinkCutsIncompleteEnd(t *testing.T) {
	for _, codec := range []Codec{Gzip, Zstd} {
		path := filepath.Join(t.TempDir(), "flows.json"+codec.Ext())
		whole := chunkOf(t, codec, 10, 0).Data
		partial := chunkOf(t, codec, 10, 1).Data
		os.WriteFile(path, append(append([]byte(nil), whole...), partial[:len(partial)-7]...), 0o644)
		s, err := NewFileSink(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Write(chunkOf(t, codec, 4, 2))
		s.Close()
		if n := countRecords(t, path); n != 14 {
			t.Errorf("%v: %d records, want 14", codec, n)
		}
	}
}

// Every file nfcollect creates has the same mode, 0644 less the umask.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	f, _ := NewFileSink(filepath.Join(dir, "single.gz"), nil)
	f.Write(chunkOf(t, Gzip, 1, 0))
	f.Close()
	r, _ := NewRotateSink(RotateConfig{Dir: filepath.Join(dir, "rot"), Interval: time.Hour}, nil)
	r.Write(chunkOf(t, Plain, 1, 0))
	r.Close()
	rotated, _ := filepath.Glob(filepath.Join(dir, "rot", "nfcollect.*"))
	for _, p := range append(rotated, filepath.Join(dir, "single.gz")) {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", p, fi.Mode().Perm())
		}
	}
}

// An output that cannot be created is an error at start, not a stream of
// dropped chunks.
func TestOutputCheckedAtStart(t *testing.T) {
	if _, err := NewFileSink("/nonexistent/dir/x.gz", nil); err == nil {
		t.Error("NewFileSink in a missing directory: no error")
	}
	if os.Getuid() != 0 {
		dir := t.TempDir()
		os.Chmod(dir, 0o555)
		if _, err := NewRotateSink(RotateConfig{Dir: dir, Interval: time.Hour}, nil); err == nil {
			t.Error("NewRotateSink in a read-only directory: no error")
		}
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := NewRotateSink(RotateConfig{Dir: filepath.Join(file, "sub"), Interval: time.Hour}, nil); err == nil {
		t.Error("NewRotateSink under a regular file: no error")
	}
}

// The templates file is written through a new temporary file that a
// planted symbolic link cannot redirect.
func TestTemplatesFileNoFollow(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o644)
	tf := filepath.Join(dir, "templates.json")
	os.Symlink(victim, tf+".tmp") // what earlier versions wrote through
	c := newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(dir, "x.json")), TemplatesFile: tf, Workers: 1})
	c.Submit(context.Background(), Packet{Data: pythonVector(t, "v9_template_2templates_8flows.hex")[0],
		Source: netip.MustParseAddrPort("192.0.2.1:2055"), Received: time.Now().UnixNano()}, true)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the symlink's target was overwritten: %q", b)
	}
	if fi, err := os.Lstat(tf); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("templates file not written as a regular file: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".templates.json.*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
