package decode

import "testing"

// records divides every set body length by every record length exactly.
func TestRecords(t *testing.T) {
	for d := 1; d <= maxRecordLen; d++ {
		tm := Template{minLen: d, recip: recipOf(d)}
		// Every n for the short records real templates have; for longer
		// ones the multiples and their neighbours (where an error would
		// first show) and a stride through the rest.
		step := 1
		if d > 128 {
			step = 97
		}
		check := func(n int) {
			if got := tm.records(n); got != n/d {
				t.Fatalf("records(%d) with record length %d = %d, want %d", n, d, got, n/d)
			}
		}
		for n := 0; n < 1<<16; n += step {
			check(n)
		}
		for k := 1; k*d < 1<<16; k++ {
			check(k*d - 1)
			check(k * d)
		}
		check(1<<16 - 1)
	}
}
