// Package collector is not a hot-path package for others to import.
package collector

// Collector is allocated once (allow-listed).
type Collector struct {
	a bool
	b int64
	c bool
}

// seqObs is packed: 16 bytes.
type seqObs struct {
	seq, count uint32
	version    uint16
	unknown    bool
}

// wasteful is not: 24 bytes where 16 would do.
type wasteful struct { // want `struct wasteful has size 24 but the optimal size is 16.*\[align\]`
	a bool
	b int64
	c bool
}

// ptrs is only in a worse order for the garbage collector: not checked.
type ptrs struct {
	n int
	p *int
}

// Handle is hot.
//
//nfkit:hot
func Handle(o *seqObs) { o.seq++ }
