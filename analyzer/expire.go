package analyzer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Retention of rotated output (nfanalyze --expire DIR --keep AGE), like
// nfdump's nfexpire: nfcollect's rotated files whose flows were all received
// before a cutoff are removed. A file's flows were received before the next
// file of its directory began (nfcollect starts a file per interval, named
// by the interval's start), and before the file was last modified; a file
// goes when either of those lies at or before the cutoff. Only files named
// as nfcollect names rotated files are looked at.

// rotatedName matches nfcollect's rotated file names:
// PREFIX.YYYYMMDDhhmm[ss][.N].json[.gz|.zst].
var rotatedName = regexp.MustCompile(`^[^.].*\.(\d{12}|\d{14})(\.\d+)?\.json(\.gz|\.zst)?$`)

// ExpireResult is what Expire removed (or would remove).
type ExpireResult struct {
	Removed []string
	Bytes   int64
	Kept    int // rotated files kept
}

// Expire removes the rotated files under dir (and its subdirectories, hidden
// ones skipped) whose flows were all received before cutoff; with dryRun it
// only lists them. Errors removing a file are collected and the rest goes on.
func Expire(dir string, cutoff time.Time, dryRun bool) (ExpireResult, error) {
	var res ExpireResult
	st, err := os.Stat(dir)
	if err != nil {
		return res, err
	}
	if !st.IsDir() {
		return res, fmt.Errorf("%s is not a directory", dir)
	}
	type file struct {
		path  string
		stamp int64
		size  int64
		mtime int64
	}
	byDir := map[string][]file{}
	var errs []error
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !rotatedName.MatchString(d.Name()) {
			return nil
		}
		s, ok := fileStamp(path)
		if !ok {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		byDir[filepath.Dir(path)] = append(byDir[filepath.Dir(path)], file{path, s, info.Size(), info.ModTime().UnixNano()})
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	dirs := make([]string, 0, len(byDir))
	for d := range byDir {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	cut := cutoff.UnixNano()
	for _, d := range dirs {
		files := byDir[d]
		slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.path, b.path) })
		var stamps []int64
		for _, f := range files {
			stamps = append(stamps, f.stamp)
		}
		slices.Sort(stamps)
		for _, f := range files {
			i, _ := slices.BinarySearch(stamps, f.stamp+1) // the next interval's start
			if (i == len(stamps) || stamps[i] > cut) && f.mtime > cut {
				res.Kept++
				continue
			}
			if !dryRun {
				if err := os.Remove(f.path); err != nil {
					errs = append(errs, err)
					res.Kept++
					continue
				}
			}
			res.Removed = append(res.Removed, f.path)
			res.Bytes += f.size
		}
	}
	return res, errors.Join(errs...)
}

// ParseAge reads a retention age: a Go duration ("36h") or a whole number
// of days or weeks ("30d", "2w").
func ParseAge(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseUint(n, 10, 32)
			if err != nil || v == 0 {
				break
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not an age like 30d, 2w or 36h", s)
	}
	return d, nil
}
