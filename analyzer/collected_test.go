package analyzer

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCollectedGolden runs nfanalyze on what nfcollect made of the captures of
// real exporters (testdata/*.pcap at the repository root: softflowd, pmacct and
// fprobe, NetFlow v1, v5, v7, v9 and IPFIX, biflows, sampling, absolute and
// uptime-relative times). testdata/collected/README.md says how the .jsonl files
// were made; go test ./analyzer -run TestCollectedGolden -update rewrites the
// goldens.
func TestCollectedGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "collected", "*.jsonl"))
	if err != nil || len(files) < 10 {
		t.Fatalf("found %d collected files (%v)", len(files), err)
	}
	var at2024 []string // all but fprobe's, whose times come from its wall clock
	for _, f := range files {
		if !strings.Contains(f, "fprobe") {
			at2024 = append(at2024, f)
		}
	}
	cases := []struct {
		name string
		cfg  Config
	}{
		{"stats", Config{Inputs: files, StatKeys: []string{"service", "src", "dst", "proto", "exporter"}, Top: 5}},
		{"timeline", Config{Inputs: at2024, Timeline: 15 * time.Second, By: "flows"}},
		{"biflow_json", Config{Inputs: []string{filepath.Join("testdata", "collected", "softflowd-ipfix-biflow.jsonl")}, Output: "json"}},
		{"v9_csv", Config{Inputs: []string{filepath.Join("testdata", "collected", "softflowd-v9.jsonl")}, Output: "csv"}},
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		// Every connection (-p 0), with the counts of pairs and one-way flows.
		cases = append(cases, struct {
			name string
			cfg  Config
		}{name, Config{Inputs: []string{f}, Verbose: true}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := runGolden(t, c.cfg)
			checkGolden(t, filepath.Join("collected", c.name), got)
		})
	}
}
