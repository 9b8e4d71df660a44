package pynetflow

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// The values of a line as Python's json.dumps writes them (separators ", "
// and ": ", ensure_ascii): integers of any size, floats as repr() gives
// them, str with its escapes, and the str() of bytes.

// pyMaxDigits is the longest integer Python (3.11 and later, by default)
// converts to or from decimal text, so the longest its json.dumps writes and
// its json.loads reads (sys.int_info.default_max_str_digits).
const pyMaxDigits = 4300

// pyMaxDigitBytes is the longest big-endian integer, in bytes without
// leading zeros, that can have pyMaxDigits digits or fewer: any longer one
// is at least 2^14288, more than 10^4300.
const pyMaxDigitBytes = 1786

// longUint is the length from which appendBigUint leaves the division of
// limbs on the stack, quadratic in the length, to math/big.
const longUint = 512

// appendBigUint appends v, a big-endian unsigned integer of any length
// (Python's int.from_bytes(v, "big")), in decimal. An integer of more than
// pyMaxDigits digits, which Python can neither write nor read as a JSON
// number, is written as a string of its hex digits, "0x…". It does not
// allocate for v up to longUint bytes or beyond pyMaxDigitBytes.
//
//nfkit:hot
func appendBigUint(b []byte, v []byte) []byte {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) <= 8 {
		return strconv.AppendUint(b, beUint64(v), 10)
	}
	if len(v) <= 16 {
		hi := beUint64(v[:len(v)-8])
		lo := beUint64(v[len(v)-8:])
		// At most three base-10¹⁹ digits.
		const base = 1e19
		var d [3]uint64
		n := 0
		for hi != 0 || lo != 0 {
			var r uint64
			hi, r = hi/base, hi%base
			lo, r = bits.Div64(r, lo, base)
			d[n] = r
			n++
		}
		b = strconv.AppendUint(b, d[n-1], 10)
		for i := n - 2; i >= 0; i-- {
			b = appendPadded(b, d[i], 19)
		}
		return b
	}
	switch {
	case len(v) <= longUint:
		return appendLongUint(b, v)
	case len(v) > pyMaxDigitBytes:
		return appendHexString(b, v)
	}
	start := len(b)
	if b = new(big.Int).SetBytes(v).Append(b, 10); len(b)-start <= pyMaxDigits {
		return b
	}
	return appendHexString(b[:start], v)
}

// appendHexString appends v, a big-endian unsigned integer without leading
// zero bytes, as a JSON string of Python's hex(): "0x" and lower-case
// digits without leading zeros.
//
//nfkit:hot
func appendHexString(b []byte, v []byte) []byte {
	const hexd = "0123456789abcdef"
	b = append(b, `"0x`...)
	if v[0] < 0x10 {
		b = append(b, hexd[v[0]])
		v = v[1:]
	}
	for _, c := range v {
		b = append(b, hexd[c>>4], hexd[c&0xF])
	}
	return append(b, '"')
}

// appendPadded appends x in decimal, zero-padded to width digits.
//
//nfkit:hot
func appendPadded(b []byte, x uint64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendUint(buf[:0], x, 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendLongUint appends a big-endian unsigned integer of 17 to longUint
// bytes (without leading zero bytes) in decimal: repeated division by 10⁹
// of a copy of its 32-bit limbs, the base-10⁹ digits written last first and
// reversed at the end.
//
//nfkit:hot
func appendLongUint(b []byte, v []byte) []byte {
	var stack [longUint / 4]uint32
	nl := (len(v) + 3) / 4
	limbs := stack[:nl]
	// limbs[0] is the most significant.
	for i := range limbs {
		limbs[i] = 0
	}
	for i, c := range v {
		pos := len(v) - 1 - i // byte position from the least significant
		limbs[nl-1-pos/4] |= uint32(c) << (8 * (pos % 4))
	}
	start := len(b)
	for len(limbs) > 0 {
		var rem uint64
		for i, l := range limbs {
			cur := rem<<32 | uint64(l)
			limbs[i] = uint32(cur / 1e9)
			rem = cur % 1e9
		}
		for len(limbs) > 0 && limbs[0] == 0 {
			limbs = limbs[1:]
		}
		// Nine digits, least significant first; the last group without
		// its leading zeros.
		for k := 0; k < 9; k++ {
			if len(limbs) == 0 && rem == 0 && k > 0 {
				break
			}
			b = append(b, byte('0'+rem%10))
			rem /= 10
		}
	}
	for i, j := start, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

// appendIPv6 appends a as Python's ipaddress compresses it (up to Python
// 3.12): lower-case hex groups, the longest run of two or more zero groups
// (the first of equal runs) replaced by "::", no dotted IPv4 form.
//
//nfkit:hot
func appendIPv6(b []byte, a [16]byte) []byte {
	var g [8]uint16
	for i := range g {
		g[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	best, bestLen, cur, curLen := -1, 0, -1, 0
	for i, x := range g {
		if x != 0 {
			cur, curLen = -1, 0
			continue
		}
		if cur < 0 {
			cur = i
		}
		curLen++
		if curLen > bestLen {
			best, bestLen = cur, curLen
		}
	}
	if bestLen < 2 {
		best = -1
	}
	for i := 0; i < 8; i++ {
		if i == best {
			b = append(b, ':', ':')
			i += bestLen - 1
			continue
		}
		if i > 0 && i != best+bestLen {
			b = append(b, ':')
		}
		b = strconv.AppendUint(b, uint64(g[i]), 16)
	}
	return b
}

// appendFloat appends f as Python's float repr (which json.dumps uses):
// the shortest round-tripping digits, in positional form for decimal
// exponents -4 < e < 16 (always with a fractional part) and as d.ddde±XX
// otherwise; NaN and infinities as json.dumps writes them.
//
//nfkit:hot
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±dd
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	var digits [24]byte
	nd := 0
	i := 0
	for ; s[i] != 'e'; i++ {
		if s[i] != '.' {
			digits[nd] = s[i]
			nd++
		}
	}
	exp := 0
	neg := s[i+1] == '-'
	for _, c := range s[i+2:] {
		exp = exp*10 + int(c-'0')
	}
	if neg {
		exp = -exp
	}
	d := digits[:nd]
	decpt := exp + 1 // the value is 0.d × 10^decpt
	switch {
	case decpt <= -4 || decpt > 16:
		b = append(b, d[0])
		if nd > 1 {
			b = append(b, '.')
			b = append(b, d[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	case decpt <= 0:
		b = append(b, '0', '.')
		for range -decpt {
			b = append(b, '0')
		}
		return append(b, d...)
	case decpt >= nd:
		b = append(b, d...)
		for range decpt - nd {
			b = append(b, '0')
		}
		return append(b, '.', '0')
	default:
		b = append(b, d[:decpt]...)
		b = append(b, '.')
		return append(b, d[decpt:]...)
	}
}

// appendString appends s (valid UTF-8) as json.dumps writes a str with
// ensure_ascii: short escapes for \" \\ \b \f \n \r \t, \u00XX for other
// control characters and DEL, \uXXXX (surrogate pairs beyond the BMP) for
// everything outside ASCII.
//
//nfkit:hot
func appendString(b []byte, s []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			b = appendEscapedASCII(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		i += n
		if r >= 0x10000 {
			r -= 0x10000
			b = appendU(b, 0xD800+r>>10)
			b = appendU(b, 0xDC00+r&0x3FF)
		} else {
			b = appendU(b, r)
		}
	}
	return append(b, '"')
}

// appendKey appends a key from our tables, which are ASCII, as a JSON
// string body (without quotes).
//
//nfkit:hot
func appendKey(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b = append(b, s[:i]...)
			for ; i < len(s); i++ {
				b = appendEscapedASCII(b, s[i])
			}
			return b
		}
	}
	return append(b, s...)
}

// appendEscapedASCII appends the ASCII character c as json.dumps does.
// (A byte ≥ 0x80 in a key would be written as \u00XX.)
//
//nfkit:hot
func appendEscapedASCII(b []byte, c byte) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(b, '\\', c)
	case c == '\b':
		return append(b, '\\', 'b')
	case c == '\f':
		return append(b, '\\', 'f')
	case c == '\n':
		return append(b, '\\', 'n')
	case c == '\r':
		return append(b, '\\', 'r')
	case c == '\t':
		return append(b, '\\', 't')
	case c < 0x20 || c >= 0x7f:
		return appendU(b, rune(c))
	}
	return append(b, c)
}

// appendU appends the JSON escape \uXXXX (lower-case hex, as Python).
//
//nfkit:hot
func appendU(b []byte, r rune) []byte {
	const hexd = "0123456789abcdef"
	return append(b, '\\', 'u', hexd[r>>12&0xF], hexd[r>>8&0xF], hexd[r>>4&0xF], hexd[r&0xF])
}

// appendBytesRepr appends str(v) of Python bytes v as a JSON string:
// what python-netflow stores for a string field that is not UTF-8, e.g.
// "b'\\xff\\xfe'".
//
//nfkit:hot
func appendBytesRepr(b []byte, v []byte) []byte {
	const hexd = "0123456789abcdef"
	quote := byte('\'')
	hasSingle, hasDouble := false, false
	for _, c := range v {
		hasSingle = hasSingle || c == '\''
		hasDouble = hasDouble || c == '"'
	}
	if hasSingle && !hasDouble {
		quote = '"'
	}
	// The repr is ASCII; its characters are escaped for JSON on the way.
	esc := func(b []byte, c byte) []byte {
		if c == '"' || c == '\\' {
			return append(b, '\\', c)
		}
		return append(b, c)
	}
	b = append(b, '"', 'b')
	b = esc(b, quote)
	for _, c := range v {
		switch {
		case c == quote || c == '\\':
			b = esc(b, '\\')
			b = esc(b, c)
		case c == '\t':
			b = esc(b, '\\')
			b = append(b, 't')
		case c == '\n':
			b = esc(b, '\\')
			b = append(b, 'n')
		case c == '\r':
			b = esc(b, '\\')
			b = append(b, 'r')
		case c < 0x20 || c >= 0x7f:
			b = esc(b, '\\')
			b = append(b, 'x', hexd[c>>4], hexd[c&0xF])
		default:
			b = esc(b, c)
		}
	}
	b = esc(b, quote)
	return append(b, '"')
}
