package pynetflow

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/nfkit/nfkit/internal/testvec"
)

// lineSeeds returns lines of the format: the writer's goldens and the
// analyzer's python-netflow inputs (good and bad lines).
func lineSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "write", "*.golden"))
	files = append(files,
		filepath.Join(testvec.Root(), "analyzer", "testdata", "python.jsonl"),
		filepath.Join(testvec.Root(), "analyzer", "testdata", "bad.jsonl"))
	var out [][]byte
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
		f.Close()
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
	}
	if len(out) < 10 {
		tb.Fatalf("only %d seed lines", len(out))
	}
	return out
}

// readResult is everything ReadLine reports for a line.
type readResult struct {
	flows   []Flow
	skipped []string
	err     string
}

func readOnce(line []byte) readResult {
	var r Reader
	var res readResult
	skipped, err := r.ReadLine(line, func(f *Flow) { res.flows = append(res.flows, *f) })
	for _, e := range skipped {
		res.skipped = append(res.skipped, e.Error())
	}
	if err != nil {
		res.err = err.Error()
	}
	return res
}

// FuzzReadLine: any line is read without a panic, the same way every time
// (whatever Go's map order), with either a line error and nothing else or
// flows that have both addresses.
func FuzzReadLine(f *testing.F) {
	for _, l := range lineSeeds(f) {
		f.Add(l)
	}
	f.Add([]byte(`{"1.0": {"client": ["::1", 1, 0, 0], "header": {"version": 10}, "flows": [{"sourceIPv6Address": 1, ` +
		`"destinationIPv4Address": 2, "flowStartSysUpTime": 5, "flowEndMicroseconds": [3909000000, 7]}]}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		a := readOnce(line)
		if b := readOnce(line); !reflect.DeepEqual(a, b) {
			t.Fatalf("two reads differ:\n%+v\n%+v", a, b)
		}
		if a.err != "" && (len(a.flows) > 0 || len(a.skipped) > 0) {
			t.Fatalf("line error %q with %d flows and %d record errors", a.err, len(a.flows), len(a.skipped))
		}
		for _, fl := range a.flows {
			if !fl.Src.IsValid() || !fl.Dst.IsValid() {
				t.Fatalf("flow without addresses: %+v", fl)
			}
		}
	})
}
