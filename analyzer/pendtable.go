package analyzer

import (
	"encoding/binary"
	"net/netip"
)

// pendKey is a flow's 5-tuple as plain integers, so that it hashes and compares
// as a few words: the addresses as 16 bytes each, ports, protocol and address
// families in meta, and the ids of IPv6 zones (rare) in zones.
type pendKey struct {
	src0, src1, dst0, dst1 uint64
	meta                   uint64
	zones                  uint64
}

// pendTable maps 5-tuples to the chain of pending flows with that tuple (in
// the order they went pending). It is an open-addressing hash table with
// linear probing; removal shifts the following entries back, so there are no
// tombstones. A probe reads only tags, a byte per slot from the hash's top
// bits, so that the probes of a missing key (the first flow of every
// connection looks for its reverse in vain) stay in one cache line of a small
// array; the slot's hash and chain head are read when the tag matches, and the
// key itself, kept with the pending flows (keyOf), when the hash does.
type pendTable struct {
	tags   []uint8  // 0: a free slot; len is a power of two, at most half used
	hashes []uint32 // the low half of each slot's hash (its home is hash & mask)
	heads  []int32  // each slot's chain: its oldest pending flow
	n      int
	zones  map[string]uint32    // IPv6 zone names to ids (from 1)
	keyOf  func(int32) *pendKey // the key of a chain's flows, by the head's index
}

// tagOf returns the tag of hash h: never 0.
func tagOf(h uint64) uint8 {
	if t := uint8(h >> 56); t != 0 {
		return t
	}
	return 1
}

// addrWords returns a as two words and its kind (0 invalid, 1 IPv4, 2 IPv6).
// IPv4 goes through As4, whose result stays in a register: As16 makes the
// bytes on the stack and reads them back wider than written, which stalls.
func addrWords(a netip.Addr) (hi, lo uint64, kind uint64) {
	if a.Is4() {
		b := a.As4()
		return 0, uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3]), 1
	}
	if !a.Is6() {
		return 0, 0, 0
	}
	b := a.As16()
	return binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:]), 2
}

func (t *pendTable) zoneID(a netip.Addr) uint64 {
	z := a.Zone()
	if z == "" {
		return 0
	}
	id, ok := t.zones[z]
	if !ok {
		if t.zones == nil {
			t.zones = make(map[string]uint32)
		}
		id = uint32(len(t.zones) + 1)
		t.zones[z] = id
	}
	return uint64(id)
}

// keys sets k to the key of f's 5-tuple and rev to that of the reversed
// tuple. Protocols without ports (ICMP: the type and code differ between
// request and reply) are keyed by addresses and protocol only. (The keys are
// written in place, word by word: returned by value, they were copied at once
// in wider moves than they were written with, which stalls.)
func (t *pendTable) keys(f *Flow, k, rev *pendKey) {
	sport, dport := f.SrcPort, f.DstPort
	if !hasPorts(f.Proto) {
		sport, dport = 0, 0
	}
	s0, s1, sk := addrWords(f.Src)
	d0, d1, dk := addrWords(f.Dst)
	var zones, rzones uint64
	if sk == 2 || dk == 2 {
		sz, dz := t.zoneID(f.Src), t.zoneID(f.Dst)
		zones, rzones = sz|dz<<32, dz|sz<<32
	}
	k.src0, k.src1, k.dst0, k.dst1, k.zones = s0, s1, d0, d1, zones
	k.meta = uint64(sport) | uint64(dport)<<16 | uint64(f.Proto)<<32 | sk<<40 | dk<<42
	rev.src0, rev.src1, rev.dst0, rev.dst1, rev.zones = d0, d1, s0, s1, rzones
	rev.meta = uint64(dport) | uint64(sport)<<16 | uint64(f.Proto)<<32 | dk<<40 | sk<<42
}

// eq reports whether k and o are equal, comparing word by word.
func (k *pendKey) eq(o *pendKey) bool {
	return k.src0 == o.src0 && k.src1 == o.src1 && k.dst0 == o.dst0 && k.dst1 == o.dst1 &&
		k.meta == o.meta && k.zones == o.zones
}

func (k *pendKey) hash() uint64 {
	h := k.src1*0x9E3779B97F4A7C15 ^ k.dst1*0xC2B2AE3D27D4EB4F ^ k.meta*0x165667B19E3779F9
	h ^= (k.src0 + k.dst0*0x27D4EB2F165667C5 + k.zones*0x85EBCA77C2B2AE63) * 0xFF51AFD7ED558CCD
	h ^= h >> 32
	h *= 0xC4CEB9FE1A85EC53
	h ^= h >> 29
	return h
}

// find returns the slot of key k (with hash h), or -1.
func (t *pendTable) find(k *pendKey, h uint64) int {
	if len(t.tags) == 0 {
		return -1
	}
	mask := len(t.tags) - 1
	tag := tagOf(h)
	for i := int(h) & mask; ; i = (i + 1) & mask {
		switch t.tags[i] {
		case 0:
			return -1
		case tag:
			if t.hashes[i] == uint32(h) && t.keyOf(t.heads[i]).eq(k) {
				return i
			}
		}
	}
}

// insert adds a chain of the one pending flow idx, whose key (not in the
// table) has hash h, and returns its slot.
func (t *pendTable) insert(h uint64, idx int32) int {
	if 2*(t.n+1) > len(t.tags) {
		t.grow()
	}
	mask := len(t.tags) - 1
	i := int(h) & mask
	for t.tags[i] != 0 {
		i = (i + 1) & mask
	}
	t.tags[i], t.hashes[i], t.heads[i] = tagOf(h), uint32(h), idx
	t.n++
	return i
}

func (t *pendTable) grow() {
	tags, hashes, heads := t.tags, t.hashes, t.heads
	n := max(2*len(tags), 1024)
	t.tags, t.hashes, t.heads = make([]uint8, n), make([]uint32, n), make([]int32, n)
	mask := n - 1
	for j, tag := range tags {
		if tag == 0 {
			continue
		}
		i := int(hashes[j]) & mask
		for t.tags[i] != 0 {
			i = (i + 1) & mask
		}
		t.tags[i], t.hashes[i], t.heads[i] = tag, hashes[j], heads[j]
	}
}

// remove empties slot i, moving back the entries after it that would no longer
// be found.
func (t *pendTable) remove(i int) {
	mask := len(t.tags) - 1
	t.n--
	for {
		t.tags[i] = 0
		j := i
		for {
			j = (j + 1) & mask
			if t.tags[j] == 0 {
				return
			}
			// The entry at j may move to i unless its home lies cyclically in (i, j].
			home := int(t.hashes[j]) & mask
			if i <= j && (home <= i || home > j) || i > j && home <= i && home > j {
				t.tags[i], t.hashes[i], t.heads[i] = t.tags[j], t.hashes[j], t.heads[j]
				i = j
				break
			}
		}
	}
}
