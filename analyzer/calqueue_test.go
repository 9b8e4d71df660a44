package analyzer

import (
	"math/rand/v2"
	"testing"
)

// TestCalQueue checks calQueue against itemHeap (key, then arrival order) on
// random pushes and pops: keys in and out of order, beyond the ring, far in the
// past, equal keys and extreme values; some values filled in place
// (allocRing), and some of those taken out again (cancel).
func TestCalQueue(t *testing.T) {
	for seed := uint64(0); seed < 40; seed++ {
		r := rand.New(rand.NewPCG(seed, 1))
		span := int64(1) << r.IntN(62)
		q := newCalQueue[int](span)
		var ref itemHeap
		var seq uint64
		clock := int64(r.IntN(1 << 30))
		step := span/50 + 1
		if seed%2 == 0 {
			step = span/100000 + 1 // many values per bucket (sorted by radix)
		}
		for op := 0; op < 20000; op++ {
			if r.IntN(100) < 55 || len(ref) == 0 {
				var k int64
				switch r.IntN(20) {
				case 0:
					k = clock + r.Int64N(min(span, 1<<50)*1000+1) // far ahead
				case 1:
					k = clock - r.Int64N(min(span, 1<<50)*1000+1) // far behind
				case 2:
					k = []int64{-1 << 63, 1<<63 - 1, 0, -1}[r.IntN(4)]
				case 3:
					k = clock // equal keys
				case 4: // many equal keys older than the head, all at once
					k = clock - min(span, 1<<50)*10
					for range 30 {
						seq++
						v := int(seq)
						q.push(k, &v)
						ref.push(heapItem{key: k, seq: seq, idx: int32(seq)})
					}
				default:
					k = clock - r.Int64N(span+1)
				}
				clock += r.Int64N(step)
				seq++
				v := int(seq)
				if r.IntN(3) == 0 {
					// Filled in place, and taken out again half the time.
					if p, ok := q.allocRing(k); ok {
						*p = v
						if r.IntN(2) == 0 {
							q.cancel()
						} else {
							ref.push(heapItem{key: k, seq: seq, idx: int32(seq)})
						}
						if q.Len() != len(ref) {
							t.Fatalf("seed %d op %d: Len %d, want %d", seed, op, q.Len(), len(ref))
						}
						continue
					}
				}
				q.push(k, &v)
				ref.push(heapItem{key: k, seq: seq, idx: int32(seq)})
				if q.Len() != len(ref) {
					t.Fatalf("seed %d op %d: Len %d, want %d", seed, op, q.Len(), len(ref))
				}
				continue
			}
			want := ref[0]
			pk, pv, ok := q.peek()
			if !ok || pk != want.key || *pv != int(want.idx) {
				t.Fatalf("seed %d op %d: peek = %d, %d, %v; want %d, %d", seed, op, pk, *pv, ok, want.key, want.idx)
			}
			ref.pop()
			k, v := q.pop()
			if k != want.key || *v != int(want.idx) {
				t.Fatalf("seed %d op %d: pop = %d, %d; want %d, %d", seed, op, k, *v, want.key, want.idx)
			}
		}
		for len(ref) > 0 {
			want := ref.pop()
			k, v := q.pop()
			if k != want.key || *v != int(want.idx) {
				t.Fatalf("seed %d drain: pop = %d, %d; want %d, %d", seed, k, *v, want.key, want.idx)
			}
		}
		if _, _, ok := q.peek(); ok || q.Len() != 0 {
			t.Fatalf("seed %d: not empty after draining", seed)
		}
	}
}

// TestCalQueueWholeRange: keys from both ends of int64 in one head bucket (an
// older key goes into the head bucket) still leave in order; the offset of the
// older key from the bucket's start must not wrap around to a small number.
func TestCalQueueWholeRange(t *testing.T) {
	for _, span := range []int64{1, 1 << 20, int64(15 * 60 * 1e9), 1 << 50} {
		for _, keys := range [][]int64{
			{9223371834348835007, -9223372019652574596},
			{1<<63 - 1, -1 << 63, 0, -1, 1<<63 - 2},
			{1<<62 + 5, -1<<62 - 7, 1 << 62},
		} {
			q := newCalQueue[int](span)
			for i, k := range keys {
				v := i
				q.push(k, &v)
			}
			last := int64(-1 << 63)
			for q.Len() > 0 {
				k, _ := q.pop()
				if k < last {
					t.Fatalf("span %d, keys %v: %d after %d", span, keys, k, last)
				}
				last = k
			}
		}
	}
}
