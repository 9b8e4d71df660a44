package analyzer

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestPendTable checks insert, find and remove against a map, with hashes
// drawn from a few values so that entries collide, cluster and wrap around.
func TestPendTable(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var tab pendTable
	keyAt := map[int32]*pendKey{} // by the op that inserted it
	tab.keyOf = func(i int32) *pendKey { return keyAt[i] }
	ref := map[pendKey]int32{}
	hashOf := map[pendKey]uint64{}
	var keys []pendKey
	for op := 0; op < 200000; op++ {
		k := pendKey{meta: uint64(r.IntN(3000))}
		h, ok := hashOf[k]
		if !ok {
			h = uint64(r.IntN(40)) + uint64(r.IntN(2))*uint64(1<<10-20) // near the start and the end of the table
			hashOf[k] = h
			keys = append(keys, k)
		}
		i := tab.find(&k, h)
		v, in := ref[k]
		if (i >= 0) != in || in && tab.heads[i] != v {
			t.Fatalf("op %d: find(%v) = %d, want present %v (%d)", op, k, i, in, v)
		}
		switch {
		case !in && len(ref) < 400:
			keyAt[int32(op)] = &k
			tab.insert(h, int32(op))
			ref[k] = int32(op)
		case in:
			tab.remove(i)
			delete(ref, k)
		}
		if tab.n != len(ref) {
			t.Fatalf("op %d: %d entries, want %d", op, tab.n, len(ref))
		}
	}
	for _, k := range keys {
		i := tab.find(&k, hashOf[k])
		if _, in := ref[k]; (i >= 0) != in {
			t.Fatalf("find(%v) = %d, want present %v", k, i, in)
		}
	}
}

// TestPendKey: keys differ exactly when the 5-tuples (with zones) differ.
func TestPendKey(t *testing.T) {
	var tab pendTable
	addrs := []netip.Addr{{}, netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("::ffff:10.0.0.1"),
		netip.MustParseAddr("::"), netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("fe80::1"),
		netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("fe80::1%eth1")}
	seen := map[pendKey]string{}
	for _, a := range addrs {
		for _, b := range addrs {
			for _, proto := range []uint8{6, 1} {
				f := Flow{Src: a, Dst: b, SrcPort: 1, DstPort: 2, Proto: proto}
				var k, rev, rk, unused pendKey
				tab.keys(&f, &k, &rev)
				desc := a.String() + " " + b.String() + " " + ProtoName(proto)
				if d, ok := seen[k]; ok {
					t.Errorf("%s and %s have the same key", d, desc)
				}
				seen[k] = desc
				if tab.keys(&Flow{Src: b, Dst: a, SrcPort: 2, DstPort: 1, Proto: proto}, &rk, &unused); rk != rev || !rk.eq(&rev) {
					t.Errorf("%s: reversed key differs from the reverse flow's key", desc)
				}
			}
		}
	}
}
