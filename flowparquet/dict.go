package flowparquet

import (
	"encoding/binary"
	"math/bits"
)

// maxDict bounds the entries of an address column's dictionary in a row
// group (a 2 MiB dictionary page); past it the column's pages are PLAIN.
const maxDict = 1 << 17

// minSlots is the size of a dictionary's hash table at the start of a
// row group; it doubles as the dictionary grows, keeping at most half of
// its slots used.
const minSlots = 1 << 10

// An addrDict is the dictionary of an address column in a row group.
// Addresses are dictionary-encoded because flows repeat them, and because
// PLAIN 16-byte IPv4-mapped addresses, which share their first 13 bytes
// or so row after row, make zstd's fast matcher take a short match per
// row (several times slower than on the other columns).
type addrDict struct {
	vals  [][16]byte // the entries, in order of appearance
	slots []uint32   // hash table: index+1 of an entry, 0 for none
	shift uint       // 64 - log2(len(slots))
	max   int        // entries at most
	full  bool       // the dictionary overflowed: PLAIN pages from then on
}

// reset empties the dictionary for a row group of at most max entries.
func (d *addrDict) reset(max int) {
	if cap(d.slots) < minSlots {
		d.slots = make([]uint32, minSlots)
	}
	d.slots = d.slots[:minSlots]
	clear(d.slots)
	d.shift = uint(64 - bits.Len(minSlots-1))
	d.vals = d.vals[:0]
	d.max = max
	d.full = false
}

// grow doubles the hash table and puts the entries back in it.
//
//nfkit:cold once per doubling of a dictionary
func (d *addrDict) grow() {
	n := 2 * len(d.slots)
	if cap(d.slots) < n {
		d.slots = make([]uint32, n)
	}
	d.slots = d.slots[:n]
	clear(d.slots)
	d.shift--
	mask := uint64(n - 1)
	for i := range d.vals {
		p := addrHash(d.vals[i][:]) >> d.shift
		for d.slots[p] != 0 {
			p = (p + 1) & mask
		}
		d.slots[p] = uint32(i + 1)
	}
}

// addrHash hashes a 16-byte value: multiplicatively, so that the top
// bits of the product, which index the table, depend on every bit of the
// value (an IPv4-mapped address varies in its last bytes, the top of lo).
//
//nfkit:hot
func addrHash(v []byte) uint64 {
	hi, lo := binary.LittleEndian.Uint64(v), binary.LittleEndian.Uint64(v[8:])
	return (hi*0x9e3779b97f4a7c15 ^ lo) * 0xff51afd7ed558ccd
}

// indexes sets x[i] to the index of the i-th 16-byte value of b (len(x)
// of them), adding the values that are new, and reports false if the
// dictionary overflowed. constant says that the values are all equal.
//
//nfkit:hot
func (d *addrDict) indexes(b []byte, constant bool, x []uint32) bool {
	if constant {
		i, ok := d.index(b[:16])
		if !ok {
			return false
		}
		for j := range x {
			x[j] = i
		}
		return true
	}
	for j := range x {
		i, ok := d.index(b[16*j : 16*j+16])
		if !ok {
			return false
		}
		x[j] = i
	}
	return true
}

// index returns the index of the value v (16 bytes), adding it if it is
// new, or false if the dictionary is full.
//
//nfkit:hot
func (d *addrDict) index(v []byte) (uint32, bool) {
	hi, lo := binary.LittleEndian.Uint64(v), binary.LittleEndian.Uint64(v[8:])
	mask := uint64(len(d.slots) - 1)
	for p := addrHash(v) >> d.shift; ; p = (p + 1) & mask {
		s := d.slots[p]
		if s == 0 {
			if len(d.vals) == d.max {
				return 0, false
			}
			d.vals = append(d.vals, [16]byte(v))
			d.slots[p] = uint32(len(d.vals))
			if 2*len(d.vals) > len(d.slots) {
				d.grow()
			}
			return uint32(len(d.vals) - 1), true
		}
		e := &d.vals[s-1]
		if binary.LittleEndian.Uint64(e[:8]) == hi && binary.LittleEndian.Uint64(e[8:]) == lo {
			return s - 1, true
		}
	}
}

// appendIndexes appends the RLE_DICTIONARY data of the indexes x: their
// bit width, then one RLE run (constant) or one bit-packed run.
//
//nfkit:hot
func appendIndexes(b []byte, x []uint32, constant bool) []byte {
	var m uint32
	for _, v := range x {
		m |= v
	}
	w := max(1, bits.Len32(m))
	b = append(b, byte(w))
	if constant {
		b = binary.AppendUvarint(b, uint64(len(x))<<1)
		for k := 0; k < (w+7)/8; k++ {
			b = append(b, byte(x[0]>>(8*k)))
		}
		return b
	}
	groups := (len(x) + 7) / 8
	b = binary.AppendUvarint(b, uint64(groups)<<1|1)
	var acc uint64
	nb := 0
	for _, v := range x {
		acc |= uint64(v) << nb
		nb += w
		for nb >= 8 {
			b = append(b, byte(acc))
			acc >>= 8
			nb -= 8
		}
	}
	// Pad the last group of 8 values with zeros.
	for pad := groups*8 - len(x); pad > 0; pad-- {
		nb += w
		for nb >= 8 {
			b = append(b, byte(acc))
			acc >>= 8
			nb -= 8
		}
	}
	if nb > 0 {
		b = append(b, byte(acc))
	}
	return b
}
