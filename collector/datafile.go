package collector

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
)

// dataFile is an output file being appended to. Before each write it checks
// that the file is still the one at its path, and recovers when it is not:
// a file deleted while open (or whose directory was removed) is recreated
// with what was written so far; a file moved away (logrotate) is left where
// it went and, for a single output file, a new one is started. A write that
// fails (a full disk) is truncated back, so that the file always ends with
// a whole chunk and a later write after it stays readable.
type dataFile struct {
	path  string // where the file is expected
	f     *os.File
	plain bool // not a regular file (a pipe, a device): appended to blindly
	log   *slog.Logger
	// size is what the file held after the last complete write.
	size int64
}

// openAppend opens (creating it) the file at path for appending, and cuts
// an incomplete chunk at its end (left by a crash or a full disk before this
// run) so that what is appended stays readable.
func openAppend(path string, codec Codec, log *slog.Logger) (*dataFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, fileMode)
	if err != nil {
		return nil, err
	}
	d := &dataFile{path: path, f: f, log: log}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		d.plain = true
		return d, nil
	}
	d.size = fi.Size()
	if d.size > 0 {
		n, err := completeLength(f, d.size, codec)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("checking the end of %s: %w", path, err)
		}
		if n < d.size {
			if err := f.Truncate(n); err != nil {
				f.Close()
				return nil, fmt.Errorf("cutting an incomplete chunk at the end of %s: %w", path, err)
			}
			log.Warn("cut an incomplete chunk at the end of the output file (a crash or a full disk before)",
				"file", path, "bytes_kept", n, "bytes_cut", d.size-n)
			d.size = n
		}
	}
	return d, nil
}

// write appends b whole, or fails and leaves the file as it was.
func (d *dataFile) write(b []byte) error {
	if d.plain {
		_, err := d.f.Write(b)
		return err
	}
	if err := d.check(); err != nil {
		return err
	}
	// The file may have been truncated or appended to by someone else
	// (logrotate copytruncate): what is there now is the base.
	if fi, err := d.f.Stat(); err == nil {
		d.size = fi.Size()
	}
	_, err := d.f.Write(b)
	if err != nil {
		if terr := d.f.Truncate(d.size); terr != nil {
			return fmt.Errorf("%w (and cutting the partial chunk failed: %v)", err, terr)
		}
		return err
	}
	d.size += int64(len(b))
	return nil
}

// check makes sure the open file is the file at d.path; see dataFile.
func (d *dataFile) check() error {
	if d.plain {
		return nil
	}
	fi, err := d.f.Stat()
	if err != nil {
		return err
	}
	if pi, err := os.Stat(d.path); err == nil && os.SameFile(fi, pi) {
		return nil
	}
	if linkCount(fi) > 0 {
		// Moved away, not deleted: the data is safe where it went.
		d.log.Warn("output file was moved while open; starting a new one at its name", "file", d.path)
		return d.reopen()
	}
	return d.recreate()
}

// reopen starts a new file at d.path (after the old one was moved).
func (d *dataFile) reopen() error {
	if err := os.MkdirAll(filepath.Dir(d.path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, fileMode)
	if err != nil {
		return err
	}
	d.f.Close()
	d.f, d.size = f, 0
	if fi, err := f.Stat(); err == nil {
		d.size = fi.Size()
	}
	return nil
}

// recreate puts the content of the open, deleted file back at d.path,
// recreating its directory.
func (d *dataFile) recreate() error {
	dir := filepath.Dir(d.path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("output directory %s was removed and cannot be recreated: %w", dir, err)
		}
		d.log.Warn("output directory was removed while in use; recreated it", "dir", dir)
	}
	// Someone may have started a new file at the name meanwhile: append
	// to it rather than replace it.
	f, err := os.OpenFile(d.path, os.O_RDWR|os.O_CREATE|os.O_APPEND|syscall.O_NOFOLLOW, fileMode)
	if err != nil {
		return err
	}
	base, _ := f.Seek(0, io.SeekEnd)
	n, err := io.Copy(f, io.NewSectionReader(d.f, 0, d.size))
	if err != nil {
		f.Truncate(base)
		f.Close()
		return fmt.Errorf("restoring the deleted output file %s: %w", d.path, err)
	}
	d.log.Warn("output file was deleted while open; recreated it with what was written", "file", d.path, "bytes", n)
	d.f.Close()
	d.f, d.size = f, base+n
	return nil
}

// close syncs and closes the file.
func (d *dataFile) close() error {
	err := d.f.Sync()
	if d.plain || errors.Is(err, syscall.EINVAL) {
		err = nil // not a regular file: nothing to sync
	}
	if cerr := d.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// linkCount returns the number of names a file has (0 once deleted).
func linkCount(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}
