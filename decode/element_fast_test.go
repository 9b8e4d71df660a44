package decode

import (
	"fmt"
	"strconv"
	"testing"
	"unsafe"
)

// The table fast path of compile agrees with opFor and the element
// lookups for every id it covers, at every wire length.
func TestFastInfo(t *testing.T) {
	if len(fastInfo) != len(ianaByID) || len(v9ByID) != len(ianaByID) {
		t.Fatalf("tables of %d, %d and %d ids", len(fastInfo), len(ianaByID), len(v9ByID))
	}
	lengths := []uint16{0, 65535, 1000}
	for l := uint16(1); l <= 64; l++ {
		lengths = append(lengths, l)
	}
	for id := range fastInfo {
		fi := fastInfo[id]
		for _, l := range lengths {
			op, tgt, prio := opFor(0, uint16(id), l)
			var got opcode
			var gtgt, gprio uint8
			if fi.src != 0 && int(l) < len(fastSrc{}.op) {
				s := fastSrcs[fi.src-1]
				got, gtgt, gprio = s.op[l], s.tgt, s.prio
			}
			if got != op || op != opNone && (gtgt != tgt || gprio != prio) {
				t.Fatalf("id %d length %d: table %d %d %d, opFor %d %d %d", id, l, got, gtgt, gprio, op, tgt, prio)
			}
		}
		if want := v9Distinct(uint16(id)); want != (fi.flags&fastV9Distinct != 0) {
			t.Errorf("id %d: v9Distinct %v", id, want)
		}
		for _, v := range []uint16{9, 10} {
			for _, scope := range []bool{false, true} {
				if v == 9 && scope {
					continue // not on the fast path
				}
				tbl := ianaByID
				if v == 9 {
					tbl = v9ByID
				}
				if e := knownElement(v, 0, uint16(id), scope); e != tbl[id] {
					t.Errorf("v%d id %d: knownElement %v, table %v", v, id, e, tbl[id])
				}
			}
		}
	}
}

// A template holds one TemplateField per field: it stays 24 bytes.
func TestTemplateFieldSize(t *testing.T) {
	if n := unsafe.Sizeof(TemplateField{}); n != 24 {
		t.Errorf("TemplateField is %d bytes", n)
	}
}

// Unknown elements get synthesized names, one element each.
func TestSynthesizedElements(t *testing.T) {
	tm, err := compile(10, 0, 256, []fieldSpec{{pen: 43874, id: 1, length: 8}, {id: 8, length: 4}, {id: 60000, length: 2}, {pen: 43874, id: 1, length: 8}}, 0, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"pen43874_1", "sourceIPv4Address", "field_60000", "pen43874_1"}
	for i, f := range tm.Fields() {
		if f.Element.Name != want[i] || f.Element.Known() != (i == 1) || f.Element.ID != f.ID {
			t.Errorf("field %d: %+v", i, *f.Element)
		}
	}
	if tm.fields[0].Element != tm.fields[3].Element || tm.fields[0].Element.PEN != 43874 {
		t.Error("one unknown element twice in a template: two elements, or without its PEN")
	}
	again, err := compile(10, 0, 257, []fieldSpec{{pen: 43874, id: 1, length: 4}, {id: 60000, length: 2}}, 0, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.fields[0].Element != tm.fields[0].Element || again.fields[1].Element != tm.fields[2].Element {
		t.Error("an unknown element is made again for each template")
	}
	v9, err := compile(9, 0, 256, []fieldSpec{{id: 77, length: 4, scope: true}, {id: 1, length: 4, scope: true}, {id: 1, length: 4}}, 2, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := v9.fields[0].Element.Name; n != "scope77" || v9.fields[1].Element.Name != "scopeSystem" || v9.fields[2].Element.Name != "IN_BYTES" {
		t.Errorf("v9 scope names %q %q %q", n, v9.fields[1].Element.Name, v9.fields[2].Element.Name)
	}
	// An unknown v9 id as a scope field and as a field: two elements.
	both, err := compile(9, 0, 258, []fieldSpec{{id: 60001, length: 4, scope: true}, {id: 60001, length: 4}}, 1, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, m := both.fields[0].Element.Name, both.fields[1].Element.Name; n != "scope60001" || m != "field_60001" {
		t.Errorf("v9 id 60001 as a scope field and a field: %q and %q", n, m)
	}
}

// Decoders in several goroutines make and share unknown elements at once
// (go test -race checks the table's accesses).
func TestSynthesizedConcurrent(t *testing.T) {
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			for n := range 200 {
				id := uint16(40000 + (n*7+g)%300)
				tm, err := compile(10, 0, 256, []fieldSpec{{pen: 9, id: id, length: 4}, {id: id, length: 2}}, 0, false, nil)
				if err != nil {
					done <- err
					return
				}
				if a, b := tm.fields[0].Element.Name, tm.fields[1].Element.Name; a != "pen9_"+strconv.Itoa(int(id)) || b != "field_"+strconv.Itoa(int(id)) {
					done <- fmt.Errorf("id %d: %q, %q", id, a, b)
					return
				}
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// Unknown elements are shared through a bounded table: a flood of distinct
// ids (far more than its entries) replaces entries, and every field still
// gets the element of its own id.
func TestSynthesizedFlood(t *testing.T) {
	const ids = 4 * len(synthTable)
	specs := make([]fieldSpec, 64)
	for n := 0; n < ids; n += len(specs) {
		for i := range specs {
			specs[i] = fieldSpec{pen: uint32(1 + (n+i)%7), id: uint16(n + i), length: 4}
		}
		tm, err := compile(10, 0, 256, specs, 0, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range tm.Fields() {
			want := "pen" + strconv.Itoa(int(specs[i].pen)) + "_" + strconv.Itoa(int(specs[i].id))
			if f.Element.PEN != specs[i].pen || f.Element.ID != specs[i].id || f.Element.Name != want || f.Element.Known() {
				t.Fatalf("field %d: %+v, want %s", i, *f.Element, want)
			}
		}
	}
}

// Every template block, with the 8-byte header the allocator puts before
// objects of more than 512 bytes that hold pointers, fits the size class
// it was made for: growing a block past it costs every template of its
// size the next class (and the GC the bytes).
func TestTemplateBlockSizes(t *testing.T) {
	classes := [len(blockSizes)]uintptr{704, 896, 1024, 1152, 1280, 1536, 1792, 2304, 3072}
	for i, n := range blockSizes {
		if n+8 > classes[i] {
			t.Errorf("block %d: %d bytes (+8), over the %d-byte size class", i, n, classes[i])
		}
	}
}

// Templates beyond the blocks' room: definitions longer than the block
// holds (enterprise numbers on every field), many unknown elements (their
// names beyond the stack buffer), more fields than the largest block, and
// more other fields than the block has room for.
func TestTemplateBeyondBlocks(t *testing.T) {
	for _, n := range []int{1, 4, 5, 9, 17, 45, 64, 65, 300} {
		var specs []fieldSpec
		var def []byte
		def = append(def, 1, 0, byte(n>>8), byte(n))
		for i := range n {
			s := fieldSpec{pen: 40000 + uint32(i), id: uint16(1 + i), length: 4}
			specs = append(specs, s)
			def = append(def, byte(s.id>>8)|0x80, byte(s.id), 0, 4, 0, 0, byte(s.pen>>8), byte(s.pen))
		}
		tm, err := compile(10, 7, 256, specs, 0, false, def)
		if err != nil {
			t.Fatalf("%d fields: %v", n, err)
		}
		if string(tm.def) != string(def) || len(tm.fields) != n || len(tm.other) != n || tm.RecordLen() != 4*n {
			t.Fatalf("%d fields: def %d bytes, %d fields, %d other, record %d", n, len(tm.def), len(tm.fields), len(tm.other), tm.RecordLen())
		}
		for i, f := range tm.fields {
			if want := "pen" + strconv.Itoa(40000+i) + "_" + strconv.Itoa(1+i); f.Element.Name != want || f.Offset != int32(4*i) || tm.other[i] != i {
				t.Fatalf("%d fields: field %d %q at %d", n, i, f.Element.Name, f.Offset)
			}
		}
	}
}
