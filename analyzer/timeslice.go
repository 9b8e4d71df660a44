package analyzer

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Time-sliced reading of rotated files: nfcollect names a rotated file by
// the start of its interval (nfcollect.YYYYMMDDhhmm[ss][.N].json.gz, UTC),
// and -o's default name is the Unix time it was started (1700000000.gz).
// The flows in a file were received from that time on, and before the next
// file of the same directory began. A flow starts before it is received, so
// a file whose successor began before --since (less the tolerance, for the
// exporter's clock) holds no flow that starts at or after --since; and a
// file that began more than --window after --until holds none that starts
// before it (a flow received later than that is late beyond the window, as
// for pairing). Such files are not opened.

// fileStamp returns the time (Unix ns) a rotated file's name says its
// interval began, or false when the name says none.
func fileStamp(path string) (int64, bool) {
	base := filepath.Base(path)
	parts := strings.Split(base, ".")
	for i, p := range parts {
		if !allDigits(p) {
			continue
		}
		switch len(p) {
		case 12, 14: // YYYYMMDDhhmm[ss], nfcollect --rotate
			layout := "200601021504"
			if len(p) == 14 {
				layout = "20060102150405"
			}
			t, err := time.ParseInLocation(layout, p, time.UTC)
			if err == nil && i > 0 {
				return t.UnixNano(), true
			}
		case 10: // Unix seconds, nfcollect -o's default name, first in the name
			if i == 0 {
				v, err := strconv.ParseInt(p, 10, 64)
				if err == nil {
					return v * 1e9, true
				}
			}
		}
	}
	return 0, false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pruneByTime returns the files that can hold flows starting in [since,
// until) (0: open), keeping their order, and the number left out. Files
// whose names carry no time are kept.
func pruneByTime(files []string, since, until int64, window, tol time.Duration) (kept []string, pruned int) {
	if since == 0 && until == 0 {
		return files, 0
	}
	// The stamps of each directory's files, sorted, to find a file's successor.
	stamps := map[string][]int64{}
	for _, f := range files {
		if s, ok := fileStamp(f); ok {
			d := filepath.Dir(f)
			stamps[d] = append(stamps[d], s)
		}
	}
	for _, s := range stamps {
		slices.Sort(s)
	}
	for _, f := range files {
		s, ok := fileStamp(f)
		if !ok {
			kept = append(kept, f)
			continue
		}
		if until != 0 && s > until && s-until > int64(window) {
			pruned++
			continue
		}
		if since != 0 {
			ds := stamps[filepath.Dir(f)]
			i, _ := slices.BinarySearch(ds, s+1) // the first later stamp
			if i < len(ds) && ds[i] <= since-int64(tol) {
				pruned++
				continue
			}
		}
		kept = append(kept, f)
	}
	return kept, pruned
}
