package flowparquet

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/testvec"
)

// otherBytes returns the offsets, in its record, of the bytes of each
// fixed other field of r's template.
func otherBytes(r *decode.Record) []int {
	t := r.Template()
	if t == nil {
		return nil
	}
	var offs []int
	for _, i := range t.OtherFields() {
		f := &t.Fields()[i]
		if f.Offset < 0 || f.Length == decode.VariableLength {
			continue
		}
		for o := int(f.Offset); o < int(f.Offset)+int(f.Length) && o < len(r.Raw()); o++ {
			offs = append(offs, o)
		}
	}
	return offs
}

// A record's other fields read back as its JSON line has them when the
// encoder reuses the text of the template's previous record: each round
// appends the same records with one byte of their other fields changed
// in their packet (then changed back), so that a text kept from bytes
// that changed would show.
func TestOtherFieldsKept(t *testing.T) {
	var want []map[string]any
	const received = 1700000000123456789
	enc, err := NewRowGroupEncoder(Options{RowGroupRows: 1 << 20, blockRows: testBlock})
	if err != nil {
		t.Fatal(err)
	}
	mutated := 0
	for _, name := range []string{"pmacct-ipfix-wide.pcap", "softflowd-v9.pcap", "pmacct-ipfix-pen.pcap", "softflowd-ipfix-biflow.pcap", "softflowd-v5.pcap"} {
		var d decode.Decoder
		var p decode.Packet
		for _, dg := range testvec.Capture(t, name) {
			payload := bytes.Clone(dg.Payload)
			if err := d.Decode(dg.Src.Addr().Unmap(), payload, &p); err != nil || len(p.Records) == 0 {
				continue
			}
			rs := p.Records
			for round := range 6 {
				// Round 0 as received, then a byte changed in each
				// record (a different one each round), the same again
				// (a kept text), then the next.
				var undo []func()
				if round%2 == 1 {
					for i := range rs {
						offs := otherBytes(&rs[i])
						if len(offs) == 0 {
							continue
						}
						raw := rs[i].Raw()
						o := offs[(round/2*7+i)%len(offs)]
						old := raw[o]
						raw[o] ^= 1 << (round % 8)
						undo = append(undo, func() { raw[o] = old })
						mutated++
					}
				}
				for range 2 {
					want = append(want, jsonLines(t, rs, received)...)
					enc.AppendRecords(rs, received)
				}
				for _, u := range undo {
					u()
				}
			}
		}
	}
	if mutated < 100 {
		t.Fatalf("only %d records with fixed other fields changed", mutated)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	groups, err := enc.Finish(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteRowGroups(groups); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readLines(t, buf.Bytes())
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("row %d:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
}

// A template's kept key covers every byte of its fixed other fields, and
// nothing else: a record matches it until one of those bytes changes,
// words near the record's end (read shifted from its last 8 bytes)
// included.
func TestOtherWords(t *testing.T) {
	shifted, checked := 0, 0
	for _, name := range []string{"pmacct-ipfix-wide.pcap", "softflowd-v9.pcap", "pmacct-ipfix-pen.pcap", "softflowd-ipfix-biflow.pcap", "pmacct-v9-wide.pcap"} {
		var d decode.Decoder
		var p decode.Packet
		for _, dg := range testvec.Capture(t, name) {
			if err := d.Decode(dg.Src.Addr().Unmap(), bytes.Clone(dg.Payload), &p); err != nil {
				continue
			}
			for i := range p.Records {
				r := &p.Records[i]
				if r.Template() == nil {
					continue
				}
				var c otherCache
				c.setTemplate(r.Template())
				if !c.fixed {
					continue
				}
				raw := r.Raw()
				if !c.keep(raw, []byte("text")) || !c.match(raw) {
					t.Fatalf("%s: a record does not match its own key", name)
				}
				for _, w := range c.words {
					if w.shift > 0 {
						shifted++
					}
				}
				in := map[int]bool{}
				for _, o := range otherBytes(r) {
					in[o] = true
				}
				for o := range raw {
					raw[o] ^= 0x80
					if c.match(raw) == in[o] {
						t.Fatalf("%s: byte %d of %d (other field: %v) changed, match %v", name, o, len(raw), in[o], !in[o])
					}
					raw[o] ^= 0x80
					checked++
				}
			}
		}
	}
	if shifted == 0 || checked < 1000 {
		t.Errorf("%d words read shifted, %d bytes checked", shifted, checked)
	}
}

// appendIndexes packs indexes as the RLE/bit-packing hybrid does: the
// bit width, then one RLE run or one bit-packed run of groups of 8,
// least significant bit first, the last group padded with zeros.
func TestAppendIndexes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for w := 1; w <= 17; w++ {
		for n := 1; n <= 70; n++ {
			x := make([]uint32, n)
			for i := range x {
				x[i] = rng.Uint32N(1 << w)
			}
			x[rng.IntN(n)] = 1<<w - 1 // the width is w
			if w == 1 && n == 1 {
				x[0] = 1
			}
			got := appendIndexes([]byte{0xee}, x)
			want := []byte{0xee, byte(w)}
			if allEqual(x) {
				want = binary.AppendUvarint(want, uint64(n)<<1)
				for k := 0; k < (w+7)/8; k++ {
					want = append(want, byte(x[0]>>(8*k)))
				}
			} else {
				groups := (n + 7) / 8
				want = binary.AppendUvarint(want, uint64(groups)<<1|1)
				packed := make([]byte, groups*w)
				for i, v := range x {
					for b := range w {
						if v>>b&1 != 0 {
							bit := i*w + b
							packed[bit/8] |= 1 << (bit % 8)
						}
					}
				}
				want = append(want, packed...)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("width %d, %d values %v:\n got %x\nwant %x", w, n, x, got, want)
			}
		}
	}
}

func allEqual(x []uint32) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}
