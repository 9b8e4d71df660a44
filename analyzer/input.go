package analyzer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
)

// ExpandInputs turns the command-line inputs into a list of files: "-" is
// standard input, a directory stands for the regular files under it (sorted,
// hidden files skipped), and a pattern with *, ? or [ is expanded (sorted). No
// inputs means standard input. Files under a directory that are nfcollect
// state files (IsStateFile) are passed over and returned in skipped; a state
// file named by itself is kept. Problems (a pattern that matches nothing, an
// unreadable directory) are returned alongside the files that were found.
func ExpandInputs(args []string) (files, skipped []string, errs []error) {
	if len(args) == 0 {
		return []string{"-"}, nil, nil
	}
	for _, a := range args {
		if a == "-" {
			files = append(files, a)
			continue
		}
		if _, err := os.Stat(a); err != nil && strings.ContainsAny(a, "*?[") {
			m, gerr := filepath.Glob(a)
			if gerr != nil {
				errs = append(errs, fmt.Errorf("%s: %v", a, gerr))
				continue
			}
			if len(m) == 0 {
				errs = append(errs, fmt.Errorf("%s: no file matches", a))
				continue
			}
			sort.Strings(m)
			for _, f := range m {
				// As in the shell, * does not match hidden files.
				if strings.HasPrefix(filepath.Base(f), ".") && !strings.HasPrefix(filepath.Base(a), ".") {
					continue
				}
				files = expandDir(files, &skipped, f, &errs)
			}
			continue
		}
		files = expandDir(files, &skipped, a, &errs)
	}
	return files, skipped, errs
}

// expandDir appends p to files, or the files under it when it is a directory.
func expandDir(files []string, skipped *[]string, p string, errs *[]error) []string {
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return append(files, p) // opening it reports the error
	}
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			*errs = append(*errs, err)
			return nil
		}
		if path != p && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			if IsStateFile(path) {
				*skipped = append(*skipped, path)
			} else {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		*errs = append(*errs, err)
	}
	return files
}

// State files of nfcollect (--templates): JSON lines whose first line is
// {"nfkit_state":2,...}, or, in the legacy format, one JSON document as
// encoding/json indents it, starting with its format and templates.
var (
	stateMagic       = []byte(`{"nfkit_state"`)
	legacyStateMagic = []byte("{\n \"format\": 1,\n \"templates\": [")
)

// IsStateFile reports whether the file at path starts like an nfcollect
// state file (templates and sampling state) rather than flows.
func IsStateFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [64]byte
	n, _ := io.ReadFull(f, b[:])
	return bytes.HasPrefix(b[:n], stateMagic) || bytes.HasPrefix(b[:n], legacyStateMagic)
}

// countingReader counts the bytes read into a shared counter (for the progress bar).
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// lineReader splits input into lines without allocating per line. It reads
// either from r or, for a mapped file, straight from mem.
type lineReader struct {
	r    *bufio.Reader
	err  error // a read error to return after the partial line before it
	long []byte
	line int64 // number of the line last returned (1-based)

	mem     []byte        // the mapped file (r is nil)
	off     int           // next byte of mem
	dropped int           // mem[:dropped] is released (dropMapped) and counted
	counter *atomic.Int64 // bytes read, or nil
}

// memDropChunk is how much of a mapped file is read before the pages behind are
// released from the process's resident set.
const memDropChunk = 4 << 20

var pageMask = os.Getpagesize() - 1

// newMemLineReader reads the lines of a mapped file.
func newMemLineReader(mem []byte, counter *atomic.Int64) *lineReader {
	return &lineReader{mem: mem, counter: counter}
}

// nextMem is next for a mapped file. A line is a slice of the mapping.
func (lr *lineReader) nextMem() ([]byte, error) {
	if lr.off-lr.dropped >= memDropChunk {
		lr.release(lr.off &^ pageMask)
	}
	b := lr.mem[lr.off:]
	if len(b) == 0 {
		lr.release(len(lr.mem))
		return nil, io.EOF
	}
	n := bytes.IndexByte(b, '\n') + 1
	if n == 0 {
		n = len(b) // the last line, without a newline
	} else {
		b = b[:n-1]
	}
	lr.off += n
	lr.line++
	if n > maxLine {
		return nil, errLongLine
	}
	if k := len(b); k > 0 && b[k-1] == '\r' {
		b = b[:k-1]
	}
	return b, nil
}

// rest returns the unread part of a mapped file, or nil when reading a stream.
func (lr *lineReader) rest() []byte {
	if lr.mem == nil {
		return nil
	}
	if lr.off-lr.dropped >= memDropChunk {
		lr.release(lr.off &^ pageMask)
	}
	return lr.mem[lr.off:]
}

// consume takes the next n bytes of a mapped file as one line, read by the
// caller from rest.
func (lr *lineReader) consume(n int) {
	lr.off += n
	lr.line++
}

// release drops mem[:end] from the resident set and counts it as read.
func (lr *lineReader) release(end int) {
	if end <= lr.dropped {
		return
	}
	if end&pageMask == 0 {
		dropMapped(lr.mem[lr.dropped:end])
	}
	if lr.counter != nil {
		lr.counter.Add(int64(end - lr.dropped))
	}
	lr.dropped = end
}

// maxLine bounds a single line; longer lines are skipped as errors.
const maxLine = 64 << 20

var errLongLine = fmt.Errorf("line longer than %d MiB", maxLine>>20)

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<18)}
}

// next returns the next line without its newline. The slice is valid until the
// next call. At the end of input it returns io.EOF; read errors are returned
// with the line number they happened after.
func (lr *lineReader) next() ([]byte, error) {
	if lr.mem != nil {
		return lr.nextMem()
	}
	if lr.err != nil {
		return nil, lr.err
	}
	b, err := lr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		lr.long = append(lr.long[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = lr.r.ReadSlice('\n')
			if len(lr.long)+len(b) > maxLine {
				// discard the rest of the line
				for err == bufio.ErrBufferFull {
					_, err = lr.r.ReadSlice('\n')
				}
				lr.line++
				if err != nil {
					lr.err = err
				}
				return nil, errLongLine
			}
			lr.long = append(lr.long, b...)
		}
		b = lr.long
	}
	if len(b) == 0 && err != nil {
		return nil, err
	}
	lr.line++
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	if err != nil {
		// a partial last line before the end or a read error: hand it out now,
		// return the error next time
		lr.err = err
	}
	return b, nil
}
