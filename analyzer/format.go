package analyzer

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// HumanSize formats a byte count as the Python analyzer did: "512B", "4.25K",
// "4.25M", "1.50G" (base 1024), and "T" beyond.
func HumanSize(n uint64) string { return string(appendHumanSize(nil, n)) }

// appendHumanSize appends HumanSize(n) to b.
func appendHumanSize(b []byte, n uint64) []byte {
	if n < 1024 {
		b = appendUint(b, n)
		return append(b, 'B')
	}
	if n < 1<<53 {
		q, unit := humanSizeHundredths(n)
		b = appendUint(b, q/100)
		b = append(b, '.', byte('0'+q/10%10), byte('0'+q%10))
		return append(b, unit)
	}
	v := float64(n) / 1024
	for _, u := range [...]byte{'K', 'M', 'G'} {
		if v < 1024 {
			b = strconv.AppendFloat(b, v, 'f', 2, 64) // as fmt's %.2f
			return append(b, u)
		}
		v /= 1024
	}
	b = strconv.AppendFloat(b, v, 'f', 2, 64)
	return append(b, 'T')
}

// humanSizeHundredths returns n (1024 <= n < 1<<53) in hundredths of its
// unit, rounded, and the unit. n/1024^k is exact in a float64, and %.2f rounds
// its exact value to nearest, ties to even: the same in integers, without
// formatting a float.
func humanSizeHundredths(n uint64) (q uint64, unit byte) {
	unit, shift := byte('K'), 10
	for _, u := range [...]byte{'M', 'G', 'T'} {
		if n < 1<<(shift+10) {
			break
		}
		unit, shift = u, shift+10
	}
	q, r := n*100>>shift, n*100&(1<<shift-1)
	if half := uint64(1) << (shift - 1); r > half || r == half && q&1 == 1 {
		q++
	}
	return q, unit
}

// humanSizeLen returns len(HumanSize(n)), or -1 when it does not tell.
func humanSizeLen(n uint64) int {
	switch {
	case n < 1024:
		return decLen(n) + 1
	case n < 1<<53:
		q, _ := humanSizeHundredths(n)
		return decLen(q/100) + 4
	}
	return -1
}

// humanDurationLen returns len(HumanDuration(ns)), or -1 when it does not tell.
func humanDurationLen(ns int64) int {
	switch s := ns / int64(time.Second); {
	case s < 0:
		return -1
	case s < 60:
		return decLen(uint64(s)) + 4 // "42 sec"
	case s > 3600:
		return decLen(uint64(s/3600)) + 12 // "2:03.09 hours"
	}
	return 9 // "15:27 min"
}

// decLen returns the number of decimal digits of v.
func decLen(v uint64) int {
	l := (bits.Len64(v) * 1233) >> 12 // about log10(v)
	if l < len(pow10u) && v >= pow10u[l] {
		l++
	}
	return max(l, 1)
}

var pow10u = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
	1e15, 1e16, 1e17, 1e18, 1e19}

// padLeftFor starts a right-aligned cell of width w (at most 16) for text of l
// bytes: it writes the spaces before it, as two words, and returns b ending
// after them, for the text to be appended. With l < 0 (not known) or l >= w
// it returns b as it is.
func padLeftFor(b []byte, w, l int) []byte {
	if l < 0 || l >= w || w > 16 {
		return b
	}
	n := len(b)
	b = slices.Grow(b, 16)[:n+16]
	binary.LittleEndian.PutUint64(b[n:], 0x2020202020202020)
	binary.LittleEndian.PutUint64(b[n+8:], 0x2020202020202020)
	return b[:n+w-l]
}

// padRightTo ends a left-aligned cell that started at start with spaces up
// to width w (at most 24), written as three words.
func padRightTo(b []byte, start, w int) []byte {
	n := len(b)
	if n-start >= w || w > 24 {
		return padFrom(b, start, w, false)
	}
	b = slices.Grow(b, 24)[:n+24]
	binary.LittleEndian.PutUint64(b[n:], 0x2020202020202020)
	binary.LittleEndian.PutUint64(b[n+8:], 0x2020202020202020)
	binary.LittleEndian.PutUint64(b[n+16:], 0x2020202020202020)
	return b[:start+w]
}

// HumanDuration formats a duration as the Python analyzer did: "42 sec",
// "15:27 min", "2:03.09 hours" (h:mm.ss).
func HumanDuration(ns int64) string { return string(appendHumanDuration(nil, ns)) }

// appendHumanDuration appends HumanDuration(ns) to b.
func appendHumanDuration(b []byte, ns int64) []byte {
	s := ns / int64(time.Second)
	switch {
	case s < 60:
		if s >= 0 {
			b = appendUint(b, uint64(s))
		} else {
			b = strconv.AppendInt(b, s, 10)
		}
		return append(b, ' ', 's', 'e', 'c')
	case s > 3600:
		b = strconv.AppendInt(b, s/3600, 10)
		b = append(b, ':')
		b = append2(b, s%3600/60)
		b = append(b, '.')
		b = append2(b, s%60)
		return append(b, " hours"...)
	}
	b = append2(b, s/60)
	b = append(b, ':')
	b = append2(b, s%60)
	return append(b, " min"...)
}

// append2 appends v >= 0 with at least two digits, as %02d.
func append2(b []byte, v int64) []byte {
	if v < 10 {
		return append(b, '0', byte('0'+v))
	}
	return appendUint(b, uint64(v))
}

// appendUint is strconv.AppendUint(b, v, 10), faster for v < 1000: the digits
// are stored as one word from a table.
func appendUint(b []byte, v uint64) []byte {
	if v >= 1000 {
		return strconv.AppendUint(b, v, 10)
	}
	n := len(b)
	b = slices.Grow(b, 4)[:n+4]
	binary.LittleEndian.PutUint32(b[n:], smallWord[v])
	return b[:n+int(smallWord[v]>>24)]
}

// smallWord holds the decimal digits of each v < 1000 (little endian) with
// their count in the top byte.
var smallWord = func() (t [1000]uint32) {
	for v := range t {
		s := strconv.Itoa(v)
		var w [4]byte
		copy(w[:], s)
		w[3] = byte(len(s))
		t[v] = binary.LittleEndian.Uint32(w[:])
	}
	return t
}()

// padFrom pads what was appended to b since start to width n: with spaces on the
// left (right-aligned) when left is true, else on the right. It moves and
// writes the few bytes one at a time: the text was just written byte by byte,
// and copying it in wider moves (memmove) would stall on reading it back.
func padFrom(b []byte, start, n int, left bool) []byte {
	l := len(b) - start
	if l >= n {
		return b
	}
	k := n - l
	b = slices.Grow(b, k)[:start+n]
	pad := start + l // where the spaces go
	if left {
		for j := l - 1; j >= 0; j-- {
			b[start+k+j] = b[start+j]
		}
		pad = start
	}
	for j := pad; j < pad+k; j++ {
		b[j] = ' '
	}
	return b
}

// appendAddr appends a's text as a.AppendTo does, with a faster way for IPv4.
func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.Is4() {
		return a.AppendTo(b)
	}
	v := a.As4()
	// Written in place, each octet's digits as one 4-byte word (the fourth
	// byte is overwritten or cut off): bytes gathered elsewhere and then
	// copied would be read back wider than written, which stalls.
	n := len(b)
	b = slices.Grow(b, 16)[:n+16]
	for k, o := range v {
		if k > 0 {
			b[n] = '.'
			n++
		}
		binary.LittleEndian.PutUint32(b[n:], smallWord[o])
		n += int(smallWord[o] >> 24)
	}
	return b[:n]
}

// timeCache formats times in pythonTime's layout without going through
// time.Time.AppendFormat for every row: the text up to the minute is kept for
// the Unix seconds [lo, hi) that share it (one minute in one zone offset).
type timeCache struct {
	loc *time.Location
	// appendMillis's cache: the date text of [dayLo, dayHi) and its midnight.
	dayLo, dayHi, dayBase int64
	date                  []byte
	lo, hi                int64 // valid range of Unix seconds; empty when lo == hi
	secAtLo               int64 // the seconds field at lo
	prefix                []byte
}

// appendPython appends the time ns (Unix nanoseconds) as pythonTime in c.loc.
func (c *timeCache) appendPython(b []byte, ns int64) []byte {
	sec := ns / 1e9
	if ns%1e9 < 0 {
		sec--
	}
	if sec < c.lo || sec >= c.hi {
		t := time.Unix(sec, 0).In(c.loc)
		c.prefix = t.AppendFormat(c.prefix[:0], "2006-01-02 15:04.")
		c.lo = sec - int64(t.Second())
		c.secAtLo = 0
		c.hi = c.lo + 60
		// A zone change inside the minute ends the range early.
		if zs, ze := t.ZoneBounds(); !zs.IsZero() || !ze.IsZero() {
			if !zs.IsZero() && zs.Unix() > c.lo {
				c.secAtLo = zs.Unix() - c.lo
				c.lo = zs.Unix()
			}
			if !ze.IsZero() && ze.Unix() < c.hi {
				c.hi = ze.Unix()
			}
		}
	}
	b = append(b, c.prefix...)
	return append2(b, c.secAtLo+sec-c.lo)
}

// appendMillis appends the time ns as "2006-01-02 15:04:05.000" in c.loc.
// It keeps the date of a day (in one zone offset) and computes the time of
// day, so that times that jump back and forth (flows listed in the order
// they ended) do not go through time.Time.AppendFormat each.
func (c *timeCache) appendMillis(b []byte, ns int64) []byte {
	sec, rem := ns/1e9, ns%1e9
	if rem < 0 {
		sec--
		rem += 1e9
	}
	ms := rem / 1e6
	if sec < c.dayLo || sec >= c.dayHi {
		t := time.Unix(sec, 0).In(c.loc)
		c.date = t.AppendFormat(c.date[:0], "2006-01-02 ")
		c.dayLo = sec - int64(t.Hour()*3600+t.Minute()*60+t.Second())
		c.dayHi = c.dayLo + 86400
		// A zone change in the day ends the range there.
		if zs, ze := t.ZoneBounds(); !zs.IsZero() || !ze.IsZero() {
			if !zs.IsZero() && zs.Unix() > c.dayLo {
				c.dayBase = c.dayLo
				c.dayLo = zs.Unix()
			} else {
				c.dayBase = c.dayLo
			}
			if !ze.IsZero() && ze.Unix() < c.dayHi {
				c.dayHi = ze.Unix()
			}
		} else {
			c.dayBase = c.dayLo
		}
	}
	b = append(b, c.date...)
	s := sec - c.dayBase // seconds since midnight (the day's first zone)
	b = append2(b, s/3600)
	b = append(b, ':')
	b = append2(b, s/60%60)
	b = append(b, ':')
	b = append2(b, s%60)
	return append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

// pythonTime is the Python analyzer's timestamp layout (note the dot before seconds).
const pythonTime = "2006-01-02 15:04.05"

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// needsCSVQuote reports whether a CSV field must be quoted.
func needsCSVQuote[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
			return true
		}
	}
	return false
}

// appendCSV appends one CSV field, quoting when needed.
func appendCSV(b []byte, s string) []byte {
	if !needsCSVQuote(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func rfc3339(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

func appendRFC3339(b []byte, ns int64) []byte {
	return time.Unix(0, ns).UTC().AppendFormat(b, time.RFC3339Nano)
}

func pct(part, total uint64) float64 {
	if total == 0 {
		return 0
	}
	return float64(part) * 100 / float64(total)
}
