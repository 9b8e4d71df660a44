package flowjson

import (
	"math/bits"
	"net/netip"

	"github.com/nfkit/nfkit/decode"
)

// Number and address formatting for the generated AppendFlow. The put
// functions write into b at n, which must have room (AppendFlow grows b once
// for the largest possible output), and return the new end.

const digits2 = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decimalLen returns the number of decimal digits of v.
//
//nfkit:hot
func decimalLen(v uint64) int {
	t := (bits.Len64(v|1) * 1233) >> 12 // ⌊log10(2^len)⌋, an estimate of ⌊log10 v⌋+1
	if t < len(pow10) && v < pow10[t] {
		return max(t, 1)
	}
	return t + 1
}

// putUint writes v in decimal.
//
//nfkit:hot
func putUint(b []byte, n int, v uint64) int {
	if v < 10 {
		b[n] = '0' + byte(v)
		return n + 1
	}
	if v < 100 {
		b[n], b[n+1] = digits2[v*2], digits2[v*2+1]
		return n + 2
	}
	end := n + decimalLen(v)
	i := end
	for v >= 100 {
		q := v / 100
		r := (v - q*100) * 2
		i -= 2
		b[i], b[i+1] = digits2[r], digits2[r+1]
		v = q
	}
	if v >= 10 {
		r := v * 2
		b[i-2], b[i-1] = digits2[r], digits2[r+1]
	} else {
		b[i-1] = '0' + byte(v)
	}
	return end
}

// putInt writes v in decimal.
//
//nfkit:hot
func putInt(b []byte, n int, v int64) int {
	if v < 0 {
		b[n] = '-'
		return putUint(b, n+1, uint64(-v))
	}
	return putUint(b, n, uint64(v))
}

// putAddr writes a as a JSON string: IPv4 dotted quad, IPv6 as
// netip.Addr.String.
//
//nfkit:hot
func putAddr(b []byte, n int, a netip.Addr) int {
	b[n] = '"'
	n++
	if a.Is4() {
		q := a.As4()
		for i, o := range q {
			if i > 0 {
				b[n] = '.'
				n++
			}
			n = putUint(b, n, uint64(o))
		}
	} else {
		n = len(a.AppendTo(b[:n]))
	}
	b[n] = '"'
	return n + 1
}

// putMAC writes m as a JSON string aa:bb:cc:dd:ee:ff.
//
//nfkit:hot
func putMAC(b []byte, n int, m decode.MAC) int {
	const hexDigits = "0123456789abcdef"
	b[n] = '"'
	n++
	for i, c := range m {
		if i > 0 {
			b[n] = ':'
			n++
		}
		b[n], b[n+1] = hexDigits[c>>4], hexDigits[c&0xF]
		n += 2
	}
	b[n] = '"'
	return n + 1
}
