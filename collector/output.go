package collector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// codec is the output compression, chosen by the file name.
type codec int

const (
	codecPlain codec = iota
	codecGzip
	codecZstd
)

func codecFor(name string) codec {
	switch {
	case strings.HasSuffix(name, ".gz"):
		return codecGzip
	case strings.HasSuffix(name, ".zst"):
		return codecZstd
	}
	return codecPlain
}

func (c codec) ext() string {
	switch c {
	case codecGzip:
		return ".gz"
	case codecZstd:
		return ".zst"
	}
	return ""
}

// compressor turns a chunk of JSON lines into one self-contained gzip
// member or zstd frame. Concatenated members and frames form a valid file,
// so workers compress in parallel and the writer only appends. One per
// worker; not safe for concurrent use.
type compressor struct {
	codec codec
	buf   bytes.Buffer
	gz    *gzip.Writer
	zs    *zstd.Encoder
}

func newCompressor(c codec) (*compressor, error) {
	z := &compressor{codec: c}
	var err error
	switch c {
	case codecGzip:
		z.gz, err = gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	case codecZstd:
		z.zs, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	}
	return z, err
}

// compress returns the compressed form of src. The result is valid until
// the next call.
func (z *compressor) compress(src []byte) []byte {
	switch z.codec {
	case codecGzip:
		z.buf.Reset()
		z.gz.Reset(&z.buf)
		z.gz.Write(src) // writes to a bytes.Buffer cannot fail
		z.gz.Close()
		return z.buf.Bytes()
	case codecZstd:
		return z.zs.EncodeAll(src, z.buf.AvailableBuffer()[:0])
	}
	return src
}

// chunk is a piece of output ready to be written.
type chunk struct {
	data  []byte
	flows int
	done  func() // returns data's buffer to its owner
}

// sink writes chunks to the output: a single file, stdout, or files rotated
// every interval. A rotated file is written under a temporary name and
// renamed when complete, so readers never see half a file.
type sink struct {
	log      *slog.Logger
	m        *metrics
	codec    codec
	path     string // single file ("-" for stdout) when dir == ""
	dir      string
	prefix   string
	interval time.Duration
	stdout   io.Writer

	mu       sync.Mutex
	f        *os.File
	w        io.Writer
	tmpName  string
	final    string
	slot     time.Time
	lastWarn time.Time
}

// rotatedExt is the file name suffix of rotated files.
func (s *sink) rotatedExt() string { return ".json" + s.codec.ext() }

func (s *sink) open(now time.Time) error {
	if s.dir == "" {
		if s.path == "-" {
			s.w = s.stdout
			return nil
		}
		f, err := os.OpenFile(s.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		s.f, s.w = f, f
		return nil
	}
	s.slot = now.Truncate(s.interval)
	layout := "200601021504"
	if s.interval < time.Minute {
		layout = "20060102150405"
	}
	s.final = filepath.Join(s.dir, s.prefix+"."+s.slot.UTC().Format(layout)+s.rotatedExt())
	f, err := os.CreateTemp(s.dir, "."+s.prefix+".current.*"+s.rotatedExt()+".tmp")
	if err != nil {
		return err
	}
	s.f, s.w, s.tmpName = f, f, f.Name()
	return nil
}

// closeFile completes the current file: sync, close, rename into place.
func (s *sink) closeFile() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil // not a regular file (a pipe, /dev/null): nothing to sync
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f, s.w = nil, nil
	if s.tmpName != "" {
		name := s.final
		if _, statErr := os.Stat(name); statErr == nil {
			// A restart within the same slot: do not overwrite.
			name = strings.TrimSuffix(name, s.rotatedExt()) + "." + fmt.Sprint(time.Now().UnixNano()) + s.rotatedExt()
		}
		if rerr := os.Rename(s.tmpName, name); err == nil {
			err = rerr
		}
		s.tmpName = ""
	}
	return err
}

// write appends a chunk, rotating first when its slot has passed.
func (s *sink) write(c chunk, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir != "" && s.w != nil && now.Sub(s.slot) >= s.interval {
		s.rotateLocked(now)
	}
	if s.w == nil {
		if err := s.open(now); err != nil {
			s.fail(err, c.flows)
			return
		}
	}
	if _, err := s.w.Write(c.data); err != nil {
		s.fail(err, c.flows)
		return
	}
	s.m.outputBytes.Add(uint64(len(c.data)))
	s.m.outputFlows.Add(uint64(c.flows))
}

// fail counts and logs (at most once a second) a write error. The
// collector keeps receiving; the next chunk tries again.
func (s *sink) fail(err error, flows int) {
	s.m.writeErrors.Add(1)
	s.m.writeDropped.Add(uint64(flows))
	if time.Since(s.lastWarn) >= time.Second {
		s.lastWarn = time.Now()
		s.log.Error("output write failed; flows lost", "err", err, "flows", flows,
			"write_errors_total", s.m.writeErrors.Load(), "dropped_flows_total", s.m.writeDropped.Load())
	}
	if s.f != nil {
		// Reopen on the next write (a full disk may have been cleared).
		s.f.Close()
		s.f, s.w = nil, nil
		if s.tmpName != "" {
			os.Rename(s.tmpName, s.final)
			s.tmpName = ""
		}
	}
}

// rotate completes the current file (SIGHUP, interval).
func (s *sink) rotate(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotateLocked(now)
}

func (s *sink) rotateLocked(now time.Time) {
	if s.dir == "" {
		return
	}
	if err := s.closeFile(); err != nil {
		s.log.Error("completing output file failed", "err", err, "file", s.final)
		s.m.writeErrors.Add(1)
	}
	s.m.rotations.Add(1)
}

// close completes the output.
func (s *sink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil && s.dir == "" && s.path != "-" {
		// Nothing was ever written: still create the (empty) file the
		// user named, as the Python collector does.
		if err := s.open(time.Now()); err != nil {
			return err
		}
	}
	return s.closeFile()
}
