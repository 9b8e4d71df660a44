// Package collector is not a hot-path package for others to import.
package collector // want `alignAllow lists gone, which fieldalignment no longer reports: remove the entry \[align\]`

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

// coldWaste is as wasteful, but no hot function touches it: not checked.
type coldWaste struct {
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
func Handle(o *seqObs) {
	o.seq++
	var w []wasteful
	_ = w
	c := &Collector{}
	_ = ptrs{n: int(c.b)}
}

// Cold is not hot.
func Cold() { _ = coldWaste{} }
