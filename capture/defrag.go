package capture

import (
	"bytes"
	"math/bits"
	"net/netip"
	"time"
)

// Bounds of IP reassembly.
const (
	// FragmentTimeout is how long (in capture time, from its first
	// fragment) a datagram may wait for its missing fragments; Linux
	// waits as long (net.ipv4.ipfrag_time).
	FragmentTimeout = 30 * time.Second
	// MaxFragmented is how many datagrams may be in reassembly at a
	// time; the oldest is dropped to make room.
	MaxFragmented = 1024
	// MaxFragmentedBytes bounds the memory of datagrams in reassembly;
	// the oldest are dropped to stay under it.
	MaxFragmentedBytes = 16 << 20

	maxDatagramLen = 65535 // an IP payload: IPv4 total length, IPv6 payload length
	fragUnits      = (maxDatagramLen + 7) / 8
	maxFreeBufs    = 8
)

// fragKey identifies the fragments of one datagram (RFC 791, RFC 8200).
type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

// fragBuf is a datagram in reassembly.
type fragBuf struct {
	key   fragKey
	first time.Time // capture time of its first fragment
	data  []byte    // payload bytes so far; len is the highest end seen
	have  [(fragUnits + 63) / 64]uint64
	units int // 8-byte units of data received
	total int // payload length once the last fragment is in, -1 before
	frags int // fragments received
}

// has reports how many of the units [u0, u1) have been received.
func (f *fragBuf) has(u0, u1 int) int {
	n := 0
	for u := u0; u < u1; {
		w, bit := u/64, u%64
		k := min(64-bit, u1-u)
		mask := (uint64(1)<<k - 1) << bit
		if k == 64 {
			mask = ^uint64(0)
		}
		n += bits.OnesCount64(f.have[w] & mask)
		u += k
	}
	return n
}

// set marks the units [u0, u1) received.
func (f *fragBuf) set(u0, u1 int) {
	for u := u0; u < u1; {
		w, bit := u/64, u%64
		k := min(64-bit, u1-u)
		mask := (uint64(1)<<k - 1) << bit
		if k == 64 {
			mask = ^uint64(0)
		}
		f.have[w] |= mask
		u += k
	}
}

// defrag reassembles IPv4 and IPv6 fragments within MaxFragmented
// datagrams and MaxFragmentedBytes.
type defrag struct {
	m     map[fragKey]*fragBuf
	order []*fragBuf // in order of first fragment, oldest first
	bytes int        // capacity of the data of the datagrams in m
	free  []*fragBuf
	done  *fragBuf // the datagram last returned, recycled by release
}

// add takes a fragment of payload data at byte offset off; more is the
// more-fragments flag. When it completes its datagram, add returns the
// datagram's payload (valid until release) and how many fragments it was
// made of; otherwise nil and 0. Fragments dropped are counted in st.
func (d *defrag) add(k fragKey, off int, more bool, data []byte, now time.Time, st *Stats) ([]byte, int) {
	end := off + len(data)
	if len(data) == 0 || end > maxDatagramLen || (more && len(data)%8 != 0) {
		st.FragmentsDropped++
		return nil, 0
	}
	d.expire(now, st)
	f := d.m[k]
	if f == nil {
		for len(d.order) >= MaxFragmented {
			d.drop(d.order[0], st)
		}
		f = d.get()
		f.key, f.first, f.total = k, now, -1
		if d.m == nil {
			d.m = make(map[fragKey]*fragBuf)
		}
		d.m[k] = f
		d.order = append(d.order, f)
		d.bytes += cap(f.data)
	}
	f.frags++
	if !more {
		if (f.total >= 0 && f.total != end) || len(f.data) > end {
			d.drop(f, st) // two different ends
			return nil, 0
		}
		f.total = end
	} else if f.total >= 0 && end > f.total {
		d.drop(f, st) // data past the end
		return nil, 0
	}
	u0, u1 := off/8, (end+7)/8
	if n := f.has(u0, u1); n > 0 {
		if n == u1-u0 && end <= len(f.data) && bytes.Equal(f.data[off:end], data) {
			// The same fragment again (a capture on two interfaces,
			// a retransmission): ignore it.
			f.frags--
			st.FragmentsDropped++
			return nil, 0
		}
		d.drop(f, st) // overlapping fragments (RFC 5722): drop them all
		return nil, 0
	}
	if end > cap(f.data) {
		nb := make([]byte, end, max(end, min(2*cap(f.data), maxDatagramLen)))
		copy(nb, f.data)
		d.bytes += cap(nb) - cap(f.data)
		f.data = nb
	}
	for d.bytes > MaxFragmentedBytes && len(d.order) > 1 {
		victim := d.order[0]
		if victim == f {
			victim = d.order[1]
		}
		d.drop(victim, st)
	}
	if end > len(f.data) {
		f.data = f.data[:end]
	}
	copy(f.data[off:], data)
	f.set(u0, u1)
	f.units += u1 - u0
	if f.total < 0 || f.units < (f.total+7)/8 {
		return nil, 0
	}
	d.remove(f)
	d.done = f
	return f.data[:f.total], f.frags
}

// expire drops the datagrams that have waited longer than
// FragmentTimeout.
func (d *defrag) expire(now time.Time, st *Stats) {
	for len(d.order) > 0 && now.Sub(d.order[0].first) > FragmentTimeout {
		d.drop(d.order[0], st)
	}
}

// drop discards an incomplete datagram.
func (d *defrag) drop(f *fragBuf, st *Stats) {
	st.FragmentsDropped += f.frags
	d.remove(f)
	d.put(f)
}

// remove takes f out of the datagrams in reassembly.
func (d *defrag) remove(f *fragBuf) {
	delete(d.m, f.key)
	for i, g := range d.order {
		if g == f {
			d.order = append(d.order[:i], d.order[i+1:]...)
			break
		}
	}
	d.bytes -= cap(f.data)
}

// release recycles the datagram last returned by add.
func (d *defrag) release() {
	if d.done != nil {
		d.put(d.done)
		d.done = nil
	}
}

// flush drops every datagram in reassembly and returns how many
// fragments they held.
func (d *defrag) flush() int {
	var st Stats
	for len(d.order) > 0 {
		d.drop(d.order[0], &st)
	}
	return st.FragmentsDropped
}

func (d *defrag) get() *fragBuf {
	if n := len(d.free); n > 0 {
		f := d.free[n-1]
		d.free = d.free[:n-1]
		return f
	}
	return new(fragBuf)
}

func (d *defrag) put(f *fragBuf) {
	if len(d.free) >= maxFreeBufs {
		return
	}
	data := f.data[:0]
	*f = fragBuf{data: data}
	d.free = append(d.free, f)
}
