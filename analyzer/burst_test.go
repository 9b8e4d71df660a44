package analyzer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// outStorage returns the Conn values the output queue has storage for.
func outStorage(q *calQueue[Conn]) int {
	n := q.spareCap + len(q.farVals.v)
	for i := range q.ring {
		n += cap(q.ring[i].vals)
	}
	return n
}

// TestBurstBounded: flows that all start within a few seconds, over and over
// (a burst repeated: the horizon never moves on), keep the pairer's storage
// within a multiple of its cap however many come. Before, the sorted head
// bucket of the output queue kept every connection that ever passed through
// it, emptied buckets' storage piled up, and the expiry queue kept the
// references of every paired flow.
func TestBurstBounded(t *testing.T) {
	const maxBuf = 2000
	r := rand.New(rand.NewPCG(1, 1))
	p := newPairer(int64(15*time.Minute), int64(2*time.Second), maxBuf, nil, func(*Conn) {})
	p.maxYoung = 100
	hosts := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("198.51.100.3")}
	for i := range 300_000 {
		f := Flow{Start: 1e18 + r.Int64N(5e9), Bytes: 100, Packets: 1, Flows: 1, Proto: 6,
			Src: hosts[r.IntN(3)], Dst: hosts[r.IntN(3)], SrcPort: uint16(1024 + r.IntN(300)), DstPort: 443}
		if r.IntN(2) == 0 {
			f.Src, f.Dst, f.SrcPort, f.DstPort = f.Dst, f.Src, f.DstPort, f.SrcPort
		}
		f.End = f.Start + r.Int64N(1e9)
		p.add(&f)
		if i%10_000 == 0 {
			if s := outStorage(p.out); s > 8*maxBuf+1<<13 {
				t.Fatalf("after %d flows: the output queue has storage for %d connections (cap %d)", i, s, maxBuf)
			}
			if n := p.expiry.Len() + p.starts.Len(); n > 4*p.live+2<<16+2 {
				t.Fatalf("after %d flows: %d references in the expiry and start queues for %d pending flows", i, n, p.live)
			}
			if len(p.pSlab.v) > 2*maxBuf+p.maxYoung {
				t.Fatalf("after %d flows: %d pending slots (cap %d)", i, len(p.pSlab.v), maxBuf)
			}
		}
	}
	p.flush()
	if p.ForcedOut == 0 {
		t.Errorf("the cap was never reached: the test does not test it")
	}
}

// TestLateReported: input out of start-time order beyond --window, and a full
// pairing memory, are reported on stderr without -v, with what to raise.
func TestLateReported(t *testing.T) {
	var b bytes.Buffer
	for i := range 3000 {
		start := int64(1_700_000_000+i) * 1e9
		if i%1000 == 999 {
			start -= int64(2 * time.Hour) // beyond the window
		}
		fmt.Fprintf(&b, `{"time_flow_start_ns":%d,"time_flow_end_ns":%d,"bytes":100,"packets":20,"src_addr":"10.0.%d.%d","dst_addr":"192.0.2.1","src_port":1234,"dst_port":443,"proto":6}`+"\n",
			start, start+1e9, i/256, i%256)
	}
	name := filepath.Join(t.TempDir(), "late.jsonl")
	os.WriteFile(name, b.Bytes(), 0o644)
	var out, errb bytes.Buffer
	sum, err := Run(Config{Inputs: []string{name}, Loc: time.UTC}, &out, &errb)
	if err != nil || sum.Late == 0 || !strings.Contains(errb.String(), "connections were printed out of start-time order") ||
		!strings.Contains(errb.String(), "raise --window") {
		t.Errorf("late input: %v, %d late, stderr:\n%s", err, sum.Late, errb.String())
	}
	errb.Reset()
	sum, err = Run(Config{Inputs: []string{name}, Loc: time.UTC, MaxBuffered: 100, Window: 24 * time.Hour}, &out, &errb)
	if err != nil || sum.ForcedOut == 0 || !strings.Contains(errb.String(), "the pairing memory") || !strings.Contains(errb.String(), "raise --memory") {
		t.Errorf("full memory: %v, %d forced out, stderr:\n%s", err, sum.ForcedOut, errb.String())
	}
}
