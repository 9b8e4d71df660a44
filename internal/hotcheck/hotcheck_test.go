package hotcheck

import (
	"os"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"
)

// TestMain gives the testdata packages (GOPATH style, without a module)
// the module path "m".
func TestMain(m *testing.M) {
	module = "m"
	os.Exit(m.Run())
}

// TestHotcheck runs every rule on a function that breaks it and one that
// keeps it (testdata/src/m/hot), the directives' own checks, and the
// marks of another package's functions (testdata/src/m/caller).
func TestHotcheck(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), Analyzer, "m/hot", "m/caller")
}

// TestLayering: imports of a hot-path package and of decode, generated
// file names and headers.
func TestLayering(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), Layering, "m/decode", "m/flowjson", "m/other")
}

// TestAlign: a wasteful struct that a hot function touches is reported; an
// allow-listed, packed or cold one is not, nor one of another package; a
// stale allow-list entry is.
func TestAlign(t *testing.T) {
	old := alignAllow
	alignAllow = map[string]string{
		"collector.Collector": "allocated once",
		"collector.gone":      "a struct since removed",
	}
	t.Cleanup(func() { alignAllow = old })
	analysistest.Run(t, analysistest.TestData(), Align, "m/collector", "m/other")
}
