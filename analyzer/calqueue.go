package analyzer

import (
	"math/bits"
	"slices"
	"unsafe"
)

// calQueue is a priority queue of values ordered by an int64 key (a time) and,
// among equal keys, by arrival: the order of itemHeap with a sequence number,
// but made for the pairer's pattern, where values arrive somewhat out of key
// order and leave in key order once the key is older than a moving threshold.
//
// It is a calendar queue: a ring of buckets, each covering 1<<shift of the key,
// from the head bucket (the one holding the smallest key) on. A push appends the
// value to its bucket (O(1), and values of one bucket lie together in memory);
// the head bucket is sorted once when it becomes the head, and pops read it in
// order. Values beyond the ring's reach go to a binary heap (far) and move into
// the ring when the head comes close; values older than the head bucket go into
// the head bucket, in order.
//
// A pointer returned by pop or peek is valid until the next call of a method.
type calQueue[T any] struct {
	shift uint
	ring  []calBucket[T]
	head  int64 // bucket number (key >> shift) of the head bucket
	ringN int   // values in ring buckets
	seq   uint64

	far     itemHeap // values whose bucket is >= head + len(ring)
	farVals slab[T]  // the values of far and late
	// Values that come for the head bucket once it is sorted (its time
	// stands still: a burst of flows that all start within it). Inserting
	// them into its sorted entries would move every later entry, and its
	// storage would grow with every value that ever passed through; in this
	// heap they cost O(log n) and their storage is reused as they leave.
	late itemHeap

	// Storage of emptied buckets, handed to the next bucket that fills, so that
	// memory follows the buckets in use rather than the ring's size.
	spareVals [][]T
	spareEnts [][]calEnt
	spareCap  int // the values the spare storage holds; kept to about what the queue holds

	lastBk *calBucket[T] // the bucket add added to last (for cancel)

	sortBuf, radixBuf []uint64 // sortBucket's scratch
	touched           byte     // what touch read, so that the reads stay
}

type calBucket[T any] struct {
	vals   []T
	ents   []calEnt // arrival order; once sorted (head bucket), (key, pos) order from next on
	next   int
	sorted bool
}

type calEnt struct {
	key int64
	pos int32 // index in vals
}

const calRing = 1 << 10

// newCalQueue returns a queue whose ring covers at least twice span.
func newCalQueue[T any](span int64) *calQueue[T] {
	var shift uint
	if w := span / (calRing / 2); w > 1 {
		shift = uint(bits.Len64(uint64(w - 1)))
	}
	return &calQueue[T]{shift: min(shift, 62), ring: make([]calBucket[T], calRing)}
}

// Len returns the number of values held.
func (q *calQueue[T]) Len() int { return q.ringN + len(q.far) + len(q.late) }

func (q *calQueue[T]) bucket(b int64) *calBucket[T] { return &q.ring[b&(calRing-1)] }

// inRing reports whether bucket b (>= head) lies in the ring.
func (q *calQueue[T]) inRing(b int64) bool { return uint64(b-q.head) < calRing }

// push adds a copy of *v with key k.
func (q *calQueue[T]) push(k int64, v *T) { *q.alloc(k) = *v }

// alloc adds a zero value with key k and returns it to be filled in, valid
// until the next call of a method. (Filling a value in place saves copying it
// right after it was written, which stalls when the copy moves wider words
// than the writes did.)
func (q *calQueue[T]) alloc(k int64) *T {
	b := k >> q.shift
	if q.Len() == 0 {
		q.clear(q.bucket(q.head))
		q.head = b
	}
	q.seq++
	if b < q.head {
		b = q.head // older than the head bucket: it goes first, in order
	}
	if !q.inRing(b) {
		i := q.farVals.alloc()
		q.far.push(heapItem{key: k, seq: q.seq, idx: i})
		v := &q.farVals.v[i]
		var zero T
		*v = zero
		return v
	}
	if q.goesLate(b) {
		i := q.farVals.alloc()
		q.late.push(heapItem{key: k, seq: q.seq, idx: i})
		v := &q.farVals.v[i]
		var zero T
		*v = zero
		return v
	}
	return q.add(q.bucket(b), k)
}

// goesLate reports whether a value for ring bucket b (>= head) goes to the
// late heap: when b is the sorted head bucket, or when it is the head bucket
// and late values are waiting (which came before it, and may have its key:
// among equal keys the order of arrival must hold).
func (q *calQueue[T]) goesLate(b int64) bool {
	return q.bucket(b).sorted || b == q.head && len(q.late) > 0
}

// allocRing is alloc for a key that goes into the ring, and ok false (nothing
// added) for one that would go beyond it. Until the next call of a method,
// cancel takes the value out again.
func (q *calQueue[T]) allocRing(k int64) (v *T, ok bool) {
	if q.Len() > 0 {
		b := max(k>>q.shift, q.head)
		if !q.inRing(b) || q.goesLate(b) {
			return nil, false // beyond the ring, or late (cancel could not find it)
		}
	}
	return q.alloc(k), true
}

// cancel removes the value that allocRing just added.
func (q *calQueue[T]) cancel() {
	bk := q.lastBk
	pos := int32(len(bk.vals) - 1)
	bk.vals = bk.vals[:pos]
	for i := len(bk.ents) - 1; i >= bk.next; i-- {
		if bk.ents[i].pos == pos {
			bk.ents = slices.Delete(bk.ents, i, i+1)
			break
		}
	}
	q.ringN--
}

// add appends a zero value with key k to bucket bk and returns it.
func (q *calQueue[T]) add(bk *calBucket[T], k int64) *T {
	if bk.vals == nil {
		if n := len(q.spareVals); n > 0 {
			bk.vals, q.spareVals = q.spareVals[n-1], q.spareVals[:n-1]
			bk.ents, q.spareEnts = q.spareEnts[n-1], q.spareEnts[:n-1]
			q.spareCap -= cap(bk.vals)
		}
	}
	pos := int32(len(bk.vals))
	var zero T
	bk.vals = append(bk.vals, zero)
	e := calEnt{key: k, pos: pos}
	if bk.sorted {
		// After every value with a key <= k: the newest comes last among equals.
		lo, hi := bk.next, len(bk.ents)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if bk.ents[m].key <= k {
				lo = m + 1
			} else {
				hi = m
			}
		}
		bk.ents = slices.Insert(bk.ents, lo, e)
	} else {
		bk.ents = append(bk.ents, e)
	}
	q.ringN++
	q.lastBk = bk
	return &bk.vals[pos]
}

// clear empties bucket bk and keeps its storage for reuse.
func (q *calQueue[T]) clear(bk *calBucket[T]) {
	if bk.vals != nil {
		// Storage beyond what the queue holds is let go: buckets ahead of
		// the head that grow on their own (a burst) would otherwise leave
		// ever more of it here.
		if q.spareCap+cap(bk.vals) <= max(q.Len()/2, 4096) {
			q.spareVals = append(q.spareVals, bk.vals[:0])
			q.spareEnts = append(q.spareEnts, bk.ents[:0])
			q.spareCap += cap(bk.vals)
		}
	}
	*bk = calBucket[T]{}
}

// headBucket returns the head bucket, sorted and not empty, or nil when the
// queue is empty.
func (q *calQueue[T]) headBucket() *calBucket[T] {
	for {
		bk := q.bucket(q.head)
		if bk.sorted {
			if bk.next < len(bk.ents) {
				return bk
			}
			q.clear(bk)
		} else if len(bk.ents) > 0 {
			q.sortBucket(bk)
			q.touch(bk)
			return bk
		}
		// The head bucket is empty: move on.
		if q.ringN == 0 {
			if len(q.far) == 0 {
				return nil
			}
			q.head = q.far[0].key >> q.shift
		} else {
			q.head++
		}
		for len(q.far) > 0 && q.inRing(q.far[0].key>>q.shift) {
			it := q.far.pop()
			v := q.farVals.v[it.idx]
			q.farVals.release(it.idx)
			*q.add(q.bucket(it.key>>q.shift), it.key) = v
		}
	}
}

// touch reads the bucket's values from start to end, so that the memory
// arrives in cache in one sequential sweep (which hardware prefetches) rather
// than one cache miss at a time as pops read it in key order.
func (q *calQueue[T]) touch(bk *calBucket[T]) {
	const line = 64
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(bk.vals))), len(bk.vals)*int(unsafe.Sizeof(*new(T))))
	var x byte
	for i := 0; i < len(b); i += line {
		x += b[i]
	}
	q.touched += x
}

// sortBucket sorts the head bucket's entries by key, then arrival.
func (q *calQueue[T]) sortBucket(bk *calBucket[T]) {
	bk.sorted = true
	// Mostly, the keys are within the bucket, and key offset and position fit
	// in one uint64 that sorts faster than the pair.
	base := q.head << q.shift
	packed := q.sortBuf[:0]
	ok := q.shift <= 40 && len(bk.ents) < 1<<23
	for i := 0; ok && i < len(bk.ents); i++ {
		e := bk.ents[i]
		// A key below base (one older than the head bucket, put in it) must
		// not wrap around into a small offset.
		off := uint64(e.key - base)
		ok = e.key >= base && off < 1<<40
		packed = append(packed, off<<24|uint64(e.pos))
	}
	if !ok {
		slices.SortFunc(bk.ents, func(a, b calEnt) int {
			if a.key != b.key {
				if a.key < b.key {
					return -1
				}
				return 1
			}
			return int(a.pos - b.pos)
		})
		return
	}
	q.sortBuf = packed
	switch {
	case slices.IsSorted(packed):
		// Values often arrive in key order.
	case len(packed) < 48:
		slices.Sort(packed)
	default:
		// Values arrive in position order, so a stable sort by the offset alone
		// (LSD radix, a byte at a time, without a branch per value) is enough.
		if cap(q.radixBuf) < len(packed) {
			q.radixBuf = make([]uint64, len(packed))
		}
		packed = radixSort(packed, q.radixBuf[:len(packed)], 24, 24+int(q.shift))
	}
	for i, p := range packed {
		bk.ents[i] = calEnt{key: base + int64(p>>24), pos: int32(p & (1<<24 - 1))}
	}
}

// peek returns the smallest key and its value, or ok false when empty.
func (q *calQueue[T]) peek() (k int64, v *T, ok bool) {
	bk := q.headBucket()
	if q.lateFirst(bk) {
		it := q.late[0]
		return it.key, &q.farVals.v[it.idx], true
	}
	if bk == nil {
		return 0, nil, false
	}
	e := bk.ents[bk.next]
	return e.key, &bk.vals[e.pos], true
}

// lateFirst reports whether the late heap's first value comes before the
// head bucket's (bk, nil when the ring and far are empty). A late value
// came after the bucket's values of its key.
func (q *calQueue[T]) lateFirst(bk *calBucket[T]) bool {
	return len(q.late) > 0 && (bk == nil || q.late[0].key < bk.ents[bk.next].key)
}

// pop removes the value with the smallest key (the oldest among equals) and
// returns it; the queue must not be empty.
func (q *calQueue[T]) pop() (int64, *T) {
	bk := q.headBucket()
	if q.lateFirst(bk) {
		it := q.late.pop()
		// The slot is reused only by a later alloc, after the caller is done.
		q.farVals.release(it.idx)
		return it.key, &q.farVals.v[it.idx]
	}
	e := bk.ents[bk.next]
	bk.next++
	q.ringN--
	return e.key, &bk.vals[e.pos]
}

// radixSort sorts a stably by bits [lo, hi) of its values, using tmp (as long
// as a) for scratch; it returns whichever of the two holds the result.
func radixSort(a, tmp []uint64, lo, hi int) []uint64 {
	for shift := lo; shift < hi; shift += 8 {
		var count [256]int
		for _, v := range a {
			count[byte(v>>shift)]++
		}
		if count[byte(a[0]>>shift)] == len(a) {
			continue // all alike in this byte
		}
		sum := 0
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, v := range a {
			d := byte(v >> shift)
			tmp[count[d]] = v
			count[d]++
		}
		a, tmp = tmp, a
	}
	return a
}
