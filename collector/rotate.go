package collector

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RotateSink writes one file per interval in a directory, named by the
// start of its interval (nfcollect.YYYYMMDDhhmm.json.gz). A file is written
// under a hidden temporary name in the same directory and renamed into
// place, never over an existing file, when its interval ends; a temporary
// file left by a crash is completed at the next start.
type RotateSink struct {
	dir, prefix string
	interval    time.Duration
	codec       Codec
	ext         string // ".json" plus the codec's extension
	log         *slog.Logger

	file  *dataFile // the current temporary file, or nil
	slot  time.Time // start of its interval
	final string    // its name when complete
}

// RotateConfig configures a RotateSink.
type RotateConfig struct {
	Dir      string
	Prefix   string        // file name prefix (default "nfcollect")
	Interval time.Duration // > 0
	Codec    Codec
}

// NewRotateSink prepares dir (creating it), completes the files a previous
// run left unfinished, and checks that files can be created there.
func NewRotateSink(cfg RotateConfig, log *slog.Logger) (*RotateSink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval <= 0 {
		return nil, errors.New("the rotation interval must be positive")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "nfcollect"
	}
	s := &RotateSink{dir: cfg.Dir, prefix: cfg.Prefix, interval: cfg.Interval, codec: cfg.Codec,
		ext: ".json" + cfg.Codec.Ext(), log: log}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return nil, err
	}
	s.recover()
	probe, err := createTemp(s.dir, "."+s.prefix+".probe.", ".tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot create files in %s: %w", s.dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return s, nil
}

// NewFramer returns the compressor of a worker.
func (s *RotateSink) NewFramer() (Framer, error) { return newFramer(s.codec) }

// stamp formats a slot start for file names.
func (s *RotateSink) stamp(t time.Time) string {
	if s.interval < time.Minute {
		return t.UTC().Format("20060102150405")
	}
	return t.UTC().Format("200601021504")
}

// Write appends a chunk to the file of the chunk's interval, completing
// the current file first when that interval has ended.
func (s *RotateSink) Write(c Chunk) error {
	if s.file != nil && !c.Time.Before(s.slot.Add(s.interval)) {
		s.complete()
	}
	if s.file == nil {
		if err := s.open(c.Time.Truncate(s.interval)); err != nil {
			return err
		}
	}
	return s.file.write(c.Data)
}

func (s *RotateSink) open(slot time.Time) error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	base := s.prefix + "." + s.stamp(slot) + s.ext
	f, err := createTemp(s.dir, "."+base+".", ".tmp")
	if err != nil {
		return err
	}
	s.file = &dataFile{path: f.Name(), f: f, log: s.log}
	s.slot, s.final = slot, filepath.Join(s.dir, base)
	return nil
}

// complete closes the current file and renames it into place.
func (s *RotateSink) complete() error {
	f := s.file
	if f == nil {
		return nil
	}
	s.file = nil
	checkErr := f.check() // a deleted directory: put the file back first
	err := f.close()
	if f.size == 0 && checkErr == nil {
		os.Remove(f.path) // nothing was written
		return err
	}
	name, rerr := placeFile(f.path, s.final)
	if rerr != nil {
		return errors.Join(err, rerr)
	}
	if err != nil {
		s.log.Error("output file completed with an error; its content may be short", "file", name, "err", err)
	}
	return syncDir(s.dir)
}

// placeFile renames tmp to final, or to final with a number before its
// extension when final exists, and returns the name used.
func placeFile(tmp, final string) (string, error) {
	dir, base := filepath.Split(final)
	stem, ext := base, ""
	if i := strings.Index(base, ".json"); i >= 0 {
		stem, ext = base[:i], base[i:]
	}
	name := final
	for n := 1; ; n++ {
		err := renameNoReplace(tmp, name)
		if !errors.Is(err, fs.ErrExist) || n > 1000 {
			return name, err
		}
		name = filepath.Join(dir, fmt.Sprintf("%s.%d%s", stem, n, ext))
	}
}

// Rotate completes the current file; the next chunk starts a new one.
func (s *RotateSink) Rotate(time.Time) error { return s.complete() }

// Tick completes the current file when its interval has ended, and
// notices a deleted directory between writes.
func (s *RotateSink) Tick(now time.Time) error {
	if s.file == nil {
		return nil
	}
	if !now.Before(s.slot.Add(s.interval)) {
		return s.complete()
	}
	return s.file.check()
}

// Close completes the current file.
func (s *RotateSink) Close() error { return s.complete() }

// recover completes the temporary files of a previous run that ended
// without completing them (a crash, SIGKILL, power loss): an incomplete
// chunk at the end is cut, and the file is renamed to the name of its
// interval.
func (s *RotateSink) recover() {
	names, _ := filepath.Glob(filepath.Join(s.dir, "."+s.prefix+".*.tmp"))
	for _, tmp := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(tmp), "."), ".tmp")
		fi, err := os.Lstat(tmp)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		var final string
		switch {
		case strings.HasPrefix(base, s.prefix+".probe."):
			os.Remove(tmp)
			continue
		case strings.HasPrefix(base, s.prefix+".current."):
			// Named by earlier versions (.nfcollect.current.*.json.gz.tmp):
			// the interval comes from the file's time.
			ext := base[strings.Index(base, ".json"):]
			final = s.prefix + "." + s.stamp(fi.ModTime().Truncate(s.interval)) + ext
		default:
			i := strings.LastIndexByte(base, '.') // the random part
			if i < 0 {
				continue
			}
			final = base[:i]
		}
		codec := CodecFor(final)
		f, err := os.OpenFile(tmp, os.O_RDWR, 0)
		if err != nil {
			s.log.Error("cannot complete a file left by a previous run", "file", tmp, "err", err)
			continue
		}
		n, err := completeLength(f, fi.Size(), codec)
		if err == nil && n < fi.Size() {
			err = f.Truncate(n)
		}
		f.Close()
		if err != nil {
			s.log.Error("cannot complete a file left by a previous run", "file", tmp, "err", err)
			continue
		}
		if n == 0 {
			os.Remove(tmp)
			continue
		}
		name, err := placeFile(tmp, filepath.Join(s.dir, final))
		if err != nil {
			s.log.Error("cannot complete a file left by a previous run", "file", tmp, "err", err)
			continue
		}
		s.log.Warn("completed a file left unfinished by a previous run", "file", name,
			"bytes_kept", n, "bytes_cut", fi.Size()-n)
	}
	syncDir(s.dir)
}
