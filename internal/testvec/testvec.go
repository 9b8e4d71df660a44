// Package testvec reads the project's test vectors for tests of any
// package: the python-netflow packets in testdata/python-netflow.
package testvec

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Root returns the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Python returns the packets of testdata/python-netflow/name: one hex
// packet a line, '#' lines are comments.
func Python(tb testing.TB, name string) [][]byte {
	tb.Helper()
	f, err := os.Open(filepath.Join(Root(), "testdata", "python-netflow", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var pkts [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		b, err := hex.DecodeString(line)
		if err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
		pkts = append(pkts, b)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return pkts
}
