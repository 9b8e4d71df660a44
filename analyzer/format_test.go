package analyzer

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHumanSizeFloat: HumanSize's integer arithmetic gives what %.2f of the
// float quotient gives, at unit boundaries, at rounding ties and at random.
func TestHumanSizeFloat(t *testing.T) {
	want := func(n uint64) string {
		if n < 1024 {
			return fmt.Sprintf("%dB", n)
		}
		v := float64(n) / 1024
		for _, u := range []string{"K", "M", "G"} {
			if v < 1024 {
				return fmt.Sprintf("%.2f%s", v, u)
			}
			v /= 1024
		}
		return fmt.Sprintf("%.2fT", v)
	}
	r := rand.New(rand.NewPCG(8, 9))
	var ns []uint64
	for shift := 10; shift <= 60; shift += 10 {
		base := uint64(1) << shift
		for _, d := range []uint64{0, 1, 2, base / 200, base / 100, base / 400 * 3} {
			ns = append(ns, base-d, base+d, base*1023+d, base*1024-d)
		}
		for k := uint64(0); k < 2000; k++ { // multiples of 1/200 of the unit: ties
			ns = append(ns, k*base/200, k*base/200+1, k*base/200-1, k*base/400)
		}
	}
	for range 200000 {
		ns = append(ns, r.Uint64()>>r.IntN(64))
	}
	ns = append(ns, 1<<53-1, 1<<53, 1<<64-1)
	for _, n := range ns {
		if got, w := HumanSize(n), want(n); got != w {
			t.Fatalf("HumanSize(%d) = %q, want %q", n, got, w)
		}
	}
}

// TestTimeCache: the cached table timestamps equal time.Time.AppendFormat, also
// across daylight saving changes and zones with odd offsets.
func TestTimeCache(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, name := range []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Africa/Monrovia", "America/St_Johns"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Logf("%s: %v (skipped)", name, err)
			continue
		}
		c := timeCache{loc: loc}
		check := func(ns int64) {
			got := string(c.appendPython(nil, ns))
			want := time.Unix(0, ns).In(loc).Format(pythonTime)
			if got != want {
				t.Fatalf("%s: %d: got %q, want %q", name, ns, got, want)
			}
		}
		// Sweeps over the zone changes of some years, in steps that hit every
		// second around each change, and random times.
		for _, year := range []int{1960, 1972, 2017, 2024} {
			tm := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
			end := tm.AddDate(1, 0, 0)
			for tm.Before(end) {
				_, ze := tm.ZoneBounds()
				if ze.IsZero() || !ze.Before(end) {
					break
				}
				for ns := ze.UnixNano() - 90e9; ns < ze.UnixNano()+90e9; ns += 250e6 {
					check(ns)
				}
				for ns := ze.UnixNano() + 90e9; ns > ze.UnixNano()-90e9; ns -= 250e6 {
					check(ns)
				}
				tm = ze
			}
		}
		for range 20000 {
			check(r.Int64N(4e18) - 1e18)
		}
		for ns := int64(-5e9); ns < 5e9; ns += 1e8 { // around 1970, negative times
			check(ns)
		}
	}
}

// TestAppendService: the allocation-free service names equal Service, and the
// port tables equal ServiceName.
func TestAppendService(t *testing.T) {
	for _, proto := range []uint8{6, 17, 132, 33, 136, 1, 58, 47, 0, 250} {
		for port := 0; port < 1<<16; port++ {
			if got, want := hasServiceName(uint16(port), proto), ServiceName(uint16(port), proto) != ""; got != want {
				t.Fatalf("hasServiceName(%d, %d) = %v, want %v", port, proto, got, want)
			}
			for _, f := range []Flow{{Proto: proto, SrcPort: uint16(port), DstPort: 40000}, {Proto: proto, SrcPort: 443, DstPort: uint16(port)}} {
				want := Service(&f)
				if got := string(appendService(nil, &f, false)); got != want {
					t.Fatalf("appendService(%+v) = %q, want %q", f, got, want)
				}
				if got := string(appendService(nil, &f, true)); got != strings.ToUpper(want) {
					t.Fatalf("appendService(%+v, upper) = %q, want %q", f, got, strings.ToUpper(want))
				}
				if got, want := string(appendServiceCell([]byte("|"), &f, 14)), fmt.Sprintf("|%-14s", strings.ToUpper(want)); got != want {
					t.Fatalf("appendServiceCell(%+v) = %q, want %q", f, got, want)
				}
			}
		}
	}
}

// TestAppendUintPad checks appendUint against strconv and padFrom against
// fmt's %*s and %-*s, with text before the field and capacity to spare or not.
func TestAppendUintPad(t *testing.T) {
	for v := uint64(0); v < 3000; v++ {
		if got, want := string(appendUint([]byte("x"), v)), "x"+strconv.FormatUint(v, 10); got != want {
			t.Fatalf("appendUint(%d) = %q, want %q", v, got, want)
		}
	}
	for _, v := range []uint64{1<<64 - 1, 1e6, 999999} {
		if got, want := string(appendUint(nil, v)), strconv.FormatUint(v, 10); got != want {
			t.Fatalf("appendUint(%d) = %q, want %q", v, got, want)
		}
	}
	for _, text := range []string{"", "a", "abc", "4.25K", "15:27 min", "a long text of 25 bytes.."} {
		for n := 0; n < 40; n++ {
			for _, left := range []bool{false, true} {
				for _, extra := range []int{0, 64} {
					b := append(make([]byte, 0, 3+len(text)+extra), "ab|"...)
					b = padFrom(append(b, text...), 3, n, left)
					want := "ab|" + fmt.Sprintf("%-*s", n, text)
					if left {
						want = "ab|" + fmt.Sprintf("%*s", n, text)
					}
					if string(b) != want {
						t.Fatalf("padFrom(%q, %d, %v) = %q, want %q", text, n, left, b, want)
					}
				}
			}
		}
	}
}

// TestCellLengths checks the lengths the table pads by against the text.
func TestCellLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	var ns []uint64
	for p := uint64(1); p != 0 && p < 1<<63; p *= 10 {
		ns = append(ns, p-1, p, p+1)
	}
	for k := 0; k < 64; k++ {
		ns = append(ns, 1<<k-1, 1<<k, 1<<k+1, 1<<k*1023/1024)
	}
	for range 100000 {
		ns = append(ns, r.Uint64()>>r.IntN(64))
	}
	for _, n := range ns {
		if got, want := decLen(n), len(strconv.FormatUint(n, 10)); got != want {
			t.Fatalf("decLen(%d) = %d, want %d", n, got, want)
		}
		if got, want := humanSizeLen(n), len(HumanSize(n)); got >= 0 && got != want {
			t.Fatalf("humanSizeLen(%d) = %d, want %d (%q)", n, got, want, HumanSize(n))
		} else if got < 0 && n < 1<<53 {
			t.Fatalf("humanSizeLen(%d) unknown", n)
		}
		d := int64(n >> 1)
		if r.IntN(2) == 0 {
			d = int64(n%(100000*1e9)) - 1e9
		}
		if got, want := humanDurationLen(d), len(HumanDuration(d)); got >= 0 && got != want {
			t.Fatalf("humanDurationLen(%d) = %d, want %d (%q)", d, got, want, HumanDuration(d))
		} else if got < 0 && d >= 0 {
			t.Fatalf("humanDurationLen(%d) unknown", d)
		}
	}
}
