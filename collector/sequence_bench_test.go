package collector

import "testing"

// BenchmarkObserve measures sequence tracking per packet: a v9 stream and
// an IPFIX stream of 25-record packets, in lockstep, as a worker sees them.
func BenchmarkObserve(b *testing.B) {
	var st [2]seqStream
	st[0].version, st[1].version = 9, 10
	var seq9, seq10 uint32
	lost := uint32(0)
	b.ReportAllocs()
	for b.Loop() {
		l, _ := st[0].state.observe(seqObs{version: 9, seq: seq9, count: 25})
		lost += l
		l, _ = st[1].state.observe(seqObs{version: 10, seq: seq10, count: 25, opts: 1})
		lost += l
		seq9++
		seq10 += 26
	}
	if lost != 0 {
		b.Fatalf("%d lost in a gapless stream", lost)
	}
}
