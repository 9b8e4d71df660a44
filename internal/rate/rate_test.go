package rate

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for in, want := range map[string]float64{
		"0": 0, "250000": 250000, "500k": 5e5, "500K": 5e5, "1.5M": 1.5e6, "2m": 2e6, "2G": 2e9, "0.5g": 5e8,
		" 4M ": 4e6, "1e3": 1000, "1e3k": 1e6, "1000G": 1e12, "0k": 0,
	} {
		got, err := Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %g, %v, want %g", in, got, err, want)
		}
	}
	for _, in := range []string{"", "k", "fast", "-5", "-1k", "1.5.2M", "2T", "NaN", "Inf", "+Inf", "1e400", "1001G", "2e12", "10 k"} {
		if got, err := Parse(in); err == nil || !strings.Contains(err.Error(), "bad rate") {
			t.Errorf("Parse(%q) = %g, %v, want an error", in, got, err)
		}
	}
}
