package flowparquet

import (
	"encoding/binary"
	"math"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
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
// row (several times slower than on the other columns). putRecord looks
// an address up as it stores the record (put), so that the block holds
// its 4-byte index, not the address: the block's flush then only packs
// the indexes, and the statistics come from the dictionary's entries.
type addrDict struct {
	vals [][2]uint64 // the entries, big-endian halves, in order of appearance
	max  int         // entries at most
	// Two hash tables: v4 for the IPv4-mapped entries, its slots the
	// address<<32 | index+1 (one load finds an entry), slots for the
	// others, index+1. 0 is an empty slot.
	v4     []uint64
	slots  []uint32
	shift4 uint // 64 - log2(len(v4))
	shift  uint // 64 - log2(len(slots))
	n4     int  // entries in v4
	seed   uint64
	// full says the dictionary overflowed: addresses are stored as they
	// are from row fullAt of the block on (0 in the blocks after), and
	// the pages are PLAIN from then on.
	full   bool
	fullAt int
}

// reset empties the dictionary for a row group of at most max entries.
func (d *addrDict) reset(max int) {
	if cap(d.slots) < minSlots {
		d.slots = make([]uint32, minSlots)
	}
	if cap(d.v4) < minSlots {
		d.v4 = make([]uint64, minSlots)
	}
	d.slots, d.v4 = d.slots[:minSlots], d.v4[:minSlots]
	clear(d.slots)
	clear(d.v4)
	d.shift = uint(64 - bits.Len(minSlots-1))
	d.shift4 = d.shift
	d.vals, d.n4 = d.vals[:0], 0
	d.max = max
	d.full, d.fullAt = false, 0
	if d.seed == 0 {
		d.seed = rand.Uint64() | 1
	}
}

// grow doubles the hash table of the entries that are not IPv4-mapped and
// puts them back in it.
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
	for i, v := range d.vals {
		if isMapped(v[0], v[1]) {
			continue
		}
		p := d.hash(v[0], v[1]) >> d.shift
		for d.slots[p] != 0 {
			p = (p + 1) & mask
		}
		d.slots[p] = uint32(i + 1)
	}
}

// grow4 doubles the hash table of the IPv4-mapped entries.
//
//nfkit:cold once per doubling of a dictionary
func (d *addrDict) grow4() {
	n := 2 * len(d.v4)
	if cap(d.v4) < n {
		d.v4 = make([]uint64, n)
	}
	d.v4 = d.v4[:n]
	clear(d.v4)
	d.shift4--
	mask := uint64(n - 1)
	for i, v := range d.vals {
		if !isMapped(v[0], v[1]) {
			continue
		}
		a := uint32(v[1])
		p := d.hash4(a) >> d.shift4
		for d.v4[p] != 0 {
			p = (p + 1) & mask
		}
		d.v4[p] = uint64(a)<<32 | uint64(i+1)
	}
}

// isMapped reports whether the address (hi, lo) is IPv4-mapped.
//
//nfkit:hot
func isMapped(hi, lo uint64) bool { return hi == 0 && lo>>32 == 0xffff }

// hash4 hashes an IPv4 address, as hash does.
//
//nfkit:hot
func (d *addrDict) hash4(a uint32) uint64 { return (uint64(a) ^ d.seed) * 0xff51afd7ed558ccd }

// hash hashes an address given as big-endian halves: multiplicatively, so
// that the top bits of the product, which index the table, depend on
// every bit of the value (an IPv4-mapped address varies in its low bits),
// and with the dictionary's random seed, so that no one sends addresses
// chosen to fall in one run of slots (each one then a search of the run).
//
//nfkit:hot
func (d *addrDict) hash(hi, lo uint64) uint64 {
	return (hi*0x9e3779b97f4a7c15 ^ lo ^ d.seed) * 0xff51afd7ed558ccd
}

// put stores address a of block row i: its index at *x while the
// dictionary has room, else the address at *v (IPv4 mapped into IPv6);
// it returns a's family, 4 or 6.
//
//nfkit:hot
func (d *addrDict) put(x *uint32, v *[16]byte, i int, a netip.Addr) uint32 {
	var hi, lo uint64
	fam := uint32(6)
	if a.Is4() {
		b := a.As4()
		ip := binary.BigEndian.Uint32(b[:])
		hi, lo, fam = 0, 0xffff<<32|uint64(ip), 4
		if !d.full {
			// Found here, index4 adding it if it is not.
			mask := uint64(len(d.v4) - 1)
			for p := d.hash4(ip) >> d.shift4 & mask; ; p = (p + 1) & mask {
				s := d.v4[p]
				if s == 0 {
					break
				}
				if uint32(s>>32) == ip {
					*x = uint32(s) - 1
					return fam
				}
			}
		}
	} else {
		b := a.As16()
		hi, lo = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	}
	if !d.full {
		if k, ok := d.index(hi, lo); ok {
			*x = k
			return fam
		}
		d.full, d.fullAt = true, i
	}
	binary.BigEndian.PutUint64(v[:8], hi)
	binary.BigEndian.PutUint64(v[8:], lo)
	return fam
}

// indexes sets x[i] to the index of the i-th 16-byte value of b (len(x)
// of them), adding the values that are new, and reports false if the
// dictionary overflowed. constant says that the values are all equal.
//
//nfkit:hot
func (d *addrDict) indexes(b []byte, constant bool, x []uint32) bool {
	if constant {
		i, ok := d.index(binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:]))
		if !ok {
			return false
		}
		for j := range x {
			x[j] = i
		}
		return true
	}
	for j := range x {
		v := b[16*j : 16*j+16]
		i, ok := d.index(binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:]))
		if !ok {
			return false
		}
		x[j] = i
	}
	return true
}

// index returns the index of the address (hi, lo), adding it if it is
// new, or false if the dictionary is full.
//
//nfkit:hot
func (d *addrDict) index(hi, lo uint64) (uint32, bool) {
	if isMapped(hi, lo) {
		return d.index4(uint32(lo))
	}
	mask := uint64(len(d.slots) - 1)
	for p := d.hash(hi, lo) >> d.shift; ; p = (p + 1) & mask {
		s := d.slots[p]
		if s == 0 {
			if len(d.vals) == d.max {
				return 0, false
			}
			d.vals = append(d.vals, [2]uint64{hi, lo})
			d.slots[p] = uint32(len(d.vals))
			if 2*(len(d.vals)-d.n4) > len(d.slots) {
				d.grow()
			}
			return uint32(len(d.vals) - 1), true
		}
		if e := &d.vals[s-1]; e[0] == hi && e[1] == lo {
			return s - 1, true
		}
	}
}

// index4 is index for the IPv4-mapped address of a.
//
//nfkit:hot
func (d *addrDict) index4(a uint32) (uint32, bool) {
	mask := uint64(len(d.v4) - 1)
	for p := d.hash4(a) >> d.shift4; ; p = (p + 1) & mask {
		s := d.v4[p]
		if s == 0 {
			if len(d.vals) == d.max {
				return 0, false
			}
			d.vals = append(d.vals, [2]uint64{0, 0xffff<<32 | uint64(a)})
			d.v4[p] = uint64(a)<<32 | uint64(len(d.vals))
			if d.n4++; 2*d.n4 > len(d.v4) {
				d.grow4()
			}
			return uint32(len(d.vals) - 1), true
		}
		if uint32(s>>32) == a {
			return uint32(s) - 1, true
		}
	}
}

// values appends the addresses of the indexes x (those below len(d.vals);
// zeros for the others) to b, 16 bytes each.
func (d *addrDict) values(b []byte, x []uint32) []byte {
	for _, k := range x {
		var hi, lo uint64
		if int(k) < len(d.vals) {
			hi, lo = d.vals[k][0], d.vals[k][1]
		}
		b = binary.BigEndian.AppendUint64(b, hi)
		b = binary.BigEndian.AppendUint64(b, lo)
	}
	return b
}

// page appends the dictionary's PLAIN page body to b.
func (d *addrDict) page(b []byte) []byte {
	for _, v := range d.vals {
		b = binary.BigEndian.AppendUint64(b, v[0])
		b = binary.BigEndian.AppendUint64(b, v[1])
	}
	return b
}

// span returns the least and greatest entries.
func (d *addrDict) span() (lo, hi [2]uint64) {
	lo = [2]uint64{math.MaxUint64, math.MaxUint64}
	for _, v := range d.vals {
		if less(v, lo) {
			lo = v
		}
		if less(hi, v) {
			hi = v
		}
	}
	return lo, hi
}

// appendIndexes appends the RLE_DICTIONARY data of the indexes x: their
// bit width, then one RLE run (all equal) or one bit-packed run.
//
//nfkit:hot
func appendIndexes(b []byte, x []uint32) []byte {
	var m, diff uint32
	x0 := x[0]
	for _, v := range x {
		m |= v
		diff |= v ^ x0
	}
	w := max(1, bits.Len32(m))
	b = append(b, byte(w))
	if diff == 0 {
		b = binary.AppendUvarint(b, uint64(len(x))<<1)
		for k := 0; k < (w+7)/8; k++ {
			b = append(b, byte(x0>>(8*k)))
		}
		return b
	}
	groups := (len(x) + 7) / 8
	b = binary.AppendUvarint(b, uint64(groups)<<1|1)
	end := len(b) + groups*w // a group of 8 values takes w bytes
	if w <= 8 {
		// A group in one word, stored whole: its w bytes, then zeros
		// that the next group overwrites.
		b = slices.Grow(b, groups*w+8)
		o := len(b)
		b = b[:end+8]
		for len(x) >= 8 {
			g := uint64(x[0]) | uint64(x[1])<<w | uint64(x[2])<<(2*w) | uint64(x[3])<<(3*w) |
				uint64(x[4])<<(4*w) | uint64(x[5])<<(5*w) | uint64(x[6])<<(6*w) | uint64(x[7])<<(7*w)
			binary.LittleEndian.PutUint64(b[o:], g)
			o += w
			x = x[8:]
		}
		var g uint64
		for i, v := range x {
			g |= uint64(v) << (i * w)
		}
		binary.LittleEndian.PutUint64(b[o:], g)
		return b[:end]
	}
	var acc uint64
	nb := 0
	for _, v := range x {
		acc |= uint64(v) << nb
		nb += w
		if nb >= 32 {
			b = binary.LittleEndian.AppendUint32(b, uint32(acc))
			acc >>= 32
			nb -= 32
		}
	}
	for ; nb > 0; nb -= 8 {
		b = append(b, byte(acc))
		acc >>= 8
	}
	// The last group's missing values are zeros.
	for len(b) < end {
		b = append(b, 0)
	}
	return b
}
