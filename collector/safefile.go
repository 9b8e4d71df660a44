package collector

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// fileMode is the mode of every file nfcollect creates (less the umask).
const fileMode = 0o644

// createTemp creates a new file in dir named prefix + random + suffix,
// exclusively and without following a symbolic link, open for reading and
// writing: a name planted in advance (a link to another file) makes it
// fail, never write elsewhere.
func createTemp(dir, prefix, suffix string) (*os.File, error) {
	var rnd [8]byte
	for range 100 {
		rand.Read(rnd[:])
		name := filepath.Join(dir, prefix+hex.EncodeToString(rnd[:])+suffix)
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, fileMode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("cannot create a temporary file in " + dir)
}

// syncDir makes a rename or a new file in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		return nil // directories that cannot be synced (some filesystems)
	}
	return err
}

// renameNoReplace renames oldpath to newpath unless newpath exists, in
// which case it fails with an error matching fs.ErrExist: a completed file
// is never replaced.
func renameNoReplace(oldpath, newpath string) error {
	err := renameat2NoReplace(oldpath, newpath)
	if err == nil || errors.Is(err, fs.ErrExist) || !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	// No atomic no-replace rename here: a hard link fails on an existing
	// name, then the old name goes.
	if err := os.Link(oldpath, newpath); err != nil {
		return err
	}
	return os.Remove(oldpath)
}

// writeFileAtomic writes path through a new temporary file in its
// directory (see createTemp), synced and renamed over path, then syncs the
// directory: path holds either the old or the new content, whatever
// happens.
func writeFileAtomic(path string, write func(w io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := createTemp(dir, "."+base+".", ".tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 1<<20)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}
