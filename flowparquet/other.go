package flowparquet

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
)

// otherCaches is the number of templates whose last other-fields text a
// RowGroupEncoder keeps (by template ID modulo otherCaches), so that
// exporters interleaving a few templates keep their texts.
const otherCaches = 4

// An otherCache keeps the other fields' text of the last record of a
// template and the raw bytes it was made from: the next record of that
// template whose other fields hold the same bytes has the same text, and
// takes it without formatting the fields again. Templates usually carry
// other fields that seldom change from record to record (an IP version,
// a forwarding status, a sampler ID).
type otherCache struct {
	t *decode.Template // the template of the words, nil for none
	// words cover the template's other fields in a record, adjacent
	// fields merged, 8 bytes at most each; key holds the values of the
	// record whose text is kept. fixed is false when a field has no fixed
	// offset or length: the template's texts are not cached.
	words []word
	fixed bool
	text  []byte // the kept text, as a PLAIN BYTE_ARRAY value; empty for none
}

// word is up to 8 bytes of a record from off on: n bytes, their value
// little-endian in key. They are read as the 8 bytes at at (off, or less
// near the record's end), shifted right by shift bits.
type word struct {
	off, n    int
	at, shift int
	mask      uint64 // the n bytes' bits
	key       uint64
}

// setTemplate makes c the cache of template t's records, empty.
//
//nfkit:cold once per template change in the cache's slot
func (c *otherCache) setTemplate(t *decode.Template) {
	c.t, c.words, c.fixed, c.text = t, c.words[:0], true, c.text[:0]
	fields := t.Fields()
	end := -1
	for _, i := range t.OtherFields() {
		f := &fields[i]
		if f.Offset < 0 || f.Length == decode.VariableLength {
			c.fixed, c.words = false, c.words[:0]
			return
		}
		off := int(f.Offset)
		if off == end {
			// Adjacent to the previous field: fill its last word first.
			w := &c.words[len(c.words)-1]
			k := min(8-w.n, int(f.Length))
			w.n += k
			off += k
		}
		for fe := int(f.Offset) + int(f.Length); off < fe; off += 8 {
			c.words = append(c.words, word{off: off, n: min(8, fe-off)})
		}
		end = int(f.Offset) + int(f.Length)
	}
	// Records are RecordLen bytes or more.
	n := t.RecordLen()
	if len(c.words) > 0 && n < 8 {
		c.fixed, c.words = false, c.words[:0]
		return
	}
	for i := range c.words {
		w := &c.words[i]
		w.mask = math.MaxUint64 >> (64 - 8*w.n)
		w.at = min(w.off, n-8)
		w.shift = 8 * (w.off - w.at)
	}
}

// match reports whether raw's words hold the kept key.
//
//nfkit:hot
func (c *otherCache) match(raw []byte) bool {
	for i := range c.words {
		w := &c.words[i]
		if w.at+8 > len(raw) || binary.LittleEndian.Uint64(raw[w.at:])>>w.shift&w.mask != w.key {
			return false
		}
	}
	return true
}

// keep makes the text value the one of raw's words, if raw has them.
//
//nfkit:hot
func (c *otherCache) keep(raw []byte, value []byte) bool {
	c.text = c.text[:0]
	for i := range c.words {
		w := &c.words[i]
		if w.at+8 > len(raw) {
			return false
		}
		w.key = binary.LittleEndian.Uint64(raw[w.at:]) >> w.shift & w.mask
	}
	c.text = append(c.text, value...)
	return true
}

// appendOther adds a record's other fields to the block: the kept text of
// its template when the record's other fields hold the bytes it was made
// from, else the text flowjson.AppendOther makes, which is then kept.
//
//nfkit:hot
func (e *RowGroupEncoder) appendOther(r *decode.Record) {
	t := r.Template()
	if t == nil {
		// Not from a template: no other fields.
		e.addOther(emptyOther, -1)
		return
	}
	slot := int(r.TemplateID % otherCaches)
	c := &e.oc[slot]
	// The text is a function of the other fields' bytes when AppendOther
	// takes its per-template path (every normalized value is there).
	usual := t.Has()&^r.Has == 0
	if usual && c.t == t && c.fixed && len(c.text) > 0 && c.match(r.Raw()) {
		if e.n > 0 && slot == e.prevSlot {
			// The previous row's text.
			e.runs[len(e.runs)-1]++
			return
		}
		e.addOther(c.text, slot)
		return
	}
	o := e.openOther()
	e.other = flowjson.AppendOther(e.other, r)
	e.closeOther(o)
	if !usual {
		return
	}
	if c.t != t {
		c.setTemplate(t)
	}
	// The row's value is the last one kept (closeOther drops a repeat).
	if c.fixed && c.keep(r.Raw(), e.other[e.prevOther:]) {
		e.prevSlot = slot
	}
}

// addOther adds a row's other fields, v a PLAIN BYTE_ARRAY value: that of
// cache slot (-1 for none).
//
//nfkit:hot
func (e *RowGroupEncoder) addOther(v []byte, slot int) {
	if e.n > 0 && slot >= 0 && slot == e.prevSlot {
		// The previous row's text.
		e.runs[len(e.runs)-1]++
		return
	}
	o := len(e.other)
	e.other = append(e.other, v...)
	e.endOther(o, slot)
}

// openOther starts a row's other fields (a BYTE_ARRAY value) and returns
// where its text starts.
//
//nfkit:hot
func (e *RowGroupEncoder) openOther() int {
	e.other = append(e.other, 0, 0, 0, 0)
	return len(e.other)
}

// closeOther completes the other fields appended from o on as
// `,"name":value` pairs: an object ("{}" for none), its length before it.
//
//nfkit:hot
func (e *RowGroupEncoder) closeOther(o int) {
	if len(e.other) == o {
		e.other = append(e.other, '{', '}')
	} else {
		e.other[o] = '{'
		e.other = append(e.other, '}')
	}
	binary.LittleEndian.PutUint32(e.other[o-4:], uint32(len(e.other)-o))
	e.endOther(o-4, -1)
}

// endOther completes a row's other-fields value, appended to e.other from
// o on (the text of cache slot, or -1): a value equal to the previous
// row's is dropped and counted in its run, so that e.other holds the
// block's values without their consecutive repeats (e.runs counts the
// rows of each). A block whose rows all have the same value has a
// constant column.
//
//nfkit:hot
func (e *RowGroupEncoder) endOther(o, slot int) {
	if e.n > 0 && bytes.Equal(e.other[e.prevOther:o], e.other[o:]) {
		e.other = e.other[:o]
		e.runs[len(e.runs)-1]++
	} else {
		e.varies = e.varies || e.n > 0
		e.prevOther = o
		e.runs = append(e.runs, 1)
	}
	e.prevSlot = slot
}

// otherPlain returns the PLAIN values of the block's other fields: its
// runs written out.
func (e *RowGroupEncoder) otherPlain() []byte {
	if len(e.runs) == e.n {
		return e.other
	}
	b := e.opage[:0]
	v := e.other
	for _, n := range e.runs {
		w := 4 + int(binary.LittleEndian.Uint32(v))
		for range n {
			b = append(b, v[:w]...)
		}
		v = v[w:]
	}
	e.opage = b
	return b
}
