package main

import (
	"fmt"
	"strings"
	"testing"
)

// sampleInput is bench.sh-style output: the machine lines, then two
// packages' benchmarks, with test log noise in between.
func sampleInput() string {
	var b strings.Builder
	b.WriteString("nproc: 2\ngo-version: go1.26.8\nbenchtime: 1s\n")
	b.WriteString("goos: linux\ngoarch: amd64\npkg: github.com/nfkit/nfkit/bench/goflow2\ncpu: AMD EPYC\n")
	for i := range 6 {
		d := float64(i)
		fmt.Fprintf(&b, "BenchmarkCompare/v9/nfkit-2   \t 1000000\t %.0f ns/op\t 700 MB/s\t %.2f ns/flow\t 0 B/op\t 0 allocs/op\n", 1250+d*25, 50+d)
		fmt.Fprintf(&b, "BenchmarkCompare/v9/goflow2-decoder-2 \t 50000\t %.0f ns/op\t 40 MB/s\t %.1f ns/flow\t 25816 B/op\t 536 allocs/op\n", 25000+d*250, 1000+d*10)
	}
	b.WriteString("PASS\nok  \tgithub.com/nfkit/nfkit/bench/goflow2\t12.3s\n")
	b.WriteString("goos: linux\ngoarch: amd64\npkg: github.com/nfkit/nfkit/decode\ncpu: AMD EPYC\n")
	for range 6 {
		b.WriteString("BenchmarkDecode/v5-2 \t 1000000\t 700.0 ns/op\t 23.3 ns/flow\t 0 B/op\t 0 allocs/op\n")
	}
	b.WriteString("PASS\n")
	return b.String()
}

func TestRender(t *testing.T) {
	rep, err := parse(newReport(), strings.NewReader(sampleInput()), "sample")
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := render(&out, rep); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"Machine: linux/amd64, AMD EPYC, 2 cores (nproc), GOMAXPROCS 2, go1.26.8",
		"Runs per benchmark: 6, -benchtime 1s each",
		// median of 50..55 is 52.5; of 1000..1050, 1025: ratio 19.5.
		"| v9 | nfkit | 52.5 ± ",
		"| 50.0–55.0 | 19.05 M | 0 | 0 | 1× |",
		"| v9 | goflow2-decoder | 1,025 ± ",
		"| 25,816 | 536 | 19.5× (p=0.002 n=6) |",
		"| decode | Decode/v5 | 700 ± 0% | 700–700 | 23.3 | 0 | 0 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}
