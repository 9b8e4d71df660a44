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

// pendTable maps 5-tuples to the chain of pending flows with that tuple (oldest
// first). It is an open-addressing hash table with linear probing; removal
// shifts the following entries back, so there are no tombstones. A slot holds
// the key's hash and the chain, 16 bytes, so that probes stay in few cache
// lines; the key itself is kept with the pending flows (keyOf), and compared
// only when the hash is equal.
type pendTable struct {
	slots []pendSlot // len is a power of two, at most half full
	n     int
	zones map[string]uint32    // IPv6 zone names to ids (from 1)
	keyOf func(int32) *pendKey // the key of a chain's flows, by the head's index
}

type pendSlot struct {
	hash       uint64
	head, tail int32 // pending flows; head is the oldest; head < 0: a free slot
}

// addrWords returns a as two words and its kind (0 invalid, 1 IPv4, 2 IPv6).
func addrWords(a netip.Addr) (hi, lo uint64, kind uint64) {
	b := a.As16()
	hi, lo = binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	switch {
	case a.Is4():
		kind = 1
	case a.Is6():
		kind = 2
	}
	return hi, lo, kind
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

// keys returns the key of f's 5-tuple and of the reversed tuple. Protocols
// without ports (ICMP: the type and code differ between request and reply) are
// keyed by addresses and protocol only.
func (t *pendTable) keys(f *Flow) (k, rev pendKey) {
	sport, dport := f.SrcPort, f.DstPort
	if !hasPorts(f.Proto) {
		sport, dport = 0, 0
	}
	var sk, dk uint64
	k.src0, k.src1, sk = addrWords(f.Src)
	k.dst0, k.dst1, dk = addrWords(f.Dst)
	k.meta = uint64(sport) | uint64(dport)<<16 | uint64(f.Proto)<<32 | sk<<40 | dk<<42
	rev = pendKey{src0: k.dst0, src1: k.dst1, dst0: k.src0, dst1: k.src1,
		meta: uint64(dport) | uint64(sport)<<16 | uint64(f.Proto)<<32 | dk<<40 | sk<<42}
	if sk == 2 || dk == 2 {
		sz, dz := t.zoneID(f.Src), t.zoneID(f.Dst)
		k.zones, rev.zones = sz|dz<<32, dz|sz<<32
	}
	return k, rev
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
	if len(t.slots) == 0 {
		return -1
	}
	mask := len(t.slots) - 1
	for i := int(h) & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.head < 0 {
			return -1
		}
		if s.hash == h && *t.keyOf(s.head) == *k {
			return i
		}
	}
}

// insert adds a chain of the one pending flow idx, whose key (not in the
// table) has hash h, and returns its slot.
func (t *pendTable) insert(h uint64, idx int32) int {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	mask := len(t.slots) - 1
	i := int(h) & mask
	for t.slots[i].head >= 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = pendSlot{hash: h, head: idx, tail: idx}
	t.n++
	return i
}

func (t *pendTable) grow() {
	old := t.slots
	t.slots = make([]pendSlot, max(2*len(old), 1024))
	for i := range t.slots {
		t.slots[i].head = -1
	}
	mask := len(t.slots) - 1
	for _, s := range old {
		if s.head < 0 {
			continue
		}
		i := int(s.hash) & mask
		for t.slots[i].head >= 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}

// remove empties slot i, moving back the entries after it that would no longer
// be found.
func (t *pendTable) remove(i int) {
	mask := len(t.slots) - 1
	t.n--
	for {
		t.slots[i].head = -1
		j := i
		for {
			j = (j + 1) & mask
			if t.slots[j].head < 0 {
				return
			}
			// The entry at j may move to i unless its home lies cyclically in (i, j].
			home := int(t.slots[j].hash) & mask
			if i <= j && (home <= i || home > j) || i > j && home <= i && home > j {
				t.slots[i] = t.slots[j]
				i = j
				break
			}
		}
	}
}
