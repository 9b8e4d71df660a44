// Package rate parses the rates and counts written on the command lines
// of nfreplay and the end-to-end benchmark: 250000, 500k, 1.5M, 2G.
package rate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Max is the largest value Parse accepts.
const Max = 1e12

// Parse parses a number >= 0 with an optional suffix k, M or G (in either
// case) for thousands, millions and billions. Surrounding spaces are
// ignored; NaN, infinities and values above Max are refused.
func Parse(s string) (float64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k', 'K':
			mult, t = 1e3, t[:n-1]
		case 'm', 'M':
			mult, t = 1e6, t[:n-1]
		case 'g', 'G':
			mult, t = 1e9, t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	v *= mult
	if err != nil || !(v >= 0) || math.IsInf(v, 0) || v > Max {
		return 0, fmt.Errorf("bad rate %q (want a number >= 0, optionally with k, M or G)", s)
	}
	return v, nil
}
