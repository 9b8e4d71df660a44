package decode

import "unsafe"

// A compiled template and the slices compile fills for it (fields, steps,
// other fields, definition, class uses) come from one allocation, sized
// for the field count: a block type per size class up to 64 fields, which
// covers the templates of real exporters. Larger templates allocate each
// slice on its own. The slices are subslices of the block, so the block
// lives as long as any of them.

// blockHead is the part of every block that does not depend on the size.
type blockHead struct {
	t       Template
	classes [maxClassUses]classUse
	vars    [2]varField
}

// The block of a size class of N fields: N fields, min(N, numTargets)
// steps and their segments (stepSeg), room for about N/2 other fields (less
// where the size class is tight), two variable-length fields and a definition of up to 6+4N+N/2 bytes
// (an IPFIX options template record with an enterprise number every eighth
// field). A template with more allocates those slices on their own. The
// sizes are chosen to fill the allocator's size classes (blockSizes,
// TestTemplateBlockSizes): every byte allocated is a byte the GC scans.
type (
	block4 struct {
		blockHead
		f [4]TemplateField
		o [4]int
		s [4]step
		g [4]uint8
		d [6 + 4*4 + 4/2]byte
	}
	block8 struct {
		blockHead
		f [8]TemplateField
		o [8]int
		s [8]step
		g [8]uint8
		d [6 + 4*8 + 8/2]byte
	}
	block12 struct {
		blockHead
		f [12]TemplateField
		o [6]int
		s [12]step
		g [12]uint8
		d [6 + 4*12 + 12/2]byte
	}
	block16 struct {
		blockHead
		f [16]TemplateField
		o [8]int
		s [16]step
		g [16]uint8
		d [6 + 4*16 + 16/2]byte
	}
	block20 struct {
		blockHead
		f [20]TemplateField
		o [6]int
		s [20]step
		g [20]uint8
		d [6 + 4*20 + 20/2]byte
	}
	block24 struct {
		blockHead
		f [24]TemplateField
		o [12]int
		s [24]step
		g [24]uint8
		d [6 + 4*24 + 24/2]byte
	}
	block32 struct {
		blockHead
		f [32]TemplateField
		o [16]int
		s [32]step
		g [32]uint8
		d [6 + 4*32 + 32/2]byte
	}
	block44 struct {
		blockHead
		f [44]TemplateField
		o [22]int
		s [numTargets]step
		g [numTargets]uint8
		d [6 + 4*44 + 44/2]byte
	}
	block64 struct {
		blockHead
		f [64]TemplateField
		o [32]int
		s [numTargets]step
		g [numTargets]uint8
		d [6 + 4*64 + 64/2]byte
	}
)

// blockSizes are the sizes of the blocks, for TestTemplateBlockSizes.
var blockSizes = [...]uintptr{
	unsafe.Sizeof(block4{}), unsafe.Sizeof(block8{}), unsafe.Sizeof(block12{}), unsafe.Sizeof(block16{}),
	unsafe.Sizeof(block20{}), unsafe.Sizeof(block24{}), unsafe.Sizeof(block32{}), unsafe.Sizeof(block44{}),
	unsafe.Sizeof(block64{}),
}

// newTemplate allocates a template of n fields whose definition is ndef
// bytes long, with t.fields of length n and t.steps, t.other, t.def and
// t.classes empty, each with the capacity compile needs.
func newTemplate(n, ndef int) *Template {
	var (
		h *blockHead
		f []TemplateField
		s []step
		g []uint8
		o []int
		d []byte
	)
	switch {
	case n <= 4:
		b := new(block4)
		h, f, s, g, o, d = &b.blockHead, b.f[:], b.s[:], b.g[:], b.o[:], b.d[:]
	case n <= 8:
		b := new(block8)
		h, f, s, g, o, d = &b.blockHead, b.f[:], b.s[:], b.g[:], b.o[:], b.d[:]
	case n <= 12:
		b := new(block12)
		h, f, s, g, o, d = &b.blockHead, b.f[:], b.s[:], b.g[:], b.o[:], b.d[:]
	case n <= 16:
		b := new(block16)
		h, f, s, g, o, d = &b.blockHead, b.f[:], b.s[:], b.g[:], b.o[:], b.d[:]
	case n <= 20:
		b := new(block20)
		h, f, s, g, o, d = &b.blockHead, b.f[:], b.s[:], b.g[:], b.o[:], b.d[:]
	case n <= 24:
		b := new(block24)
		h, f, s, g, o, d = &b.blockHead, b.f[:], b.s[:], b.g[:], b.o[:], b.d[:]
	case n <= 32:
		b := new(block32)
		h, f, s, g, o, d = &b.blockHead, b.f[:], b.s[:], b.g[:], b.o[:], b.d[:]
	case n <= 44:
		b := new(block44)
		h, f, s, g, o, d = &b.blockHead, b.f[:], b.s[:], b.g[:], b.o[:], b.d[:]
	case n <= 64:
		b := new(block64)
		h, f, s, g, o, d = &b.blockHead, b.f[:], b.s[:], b.g[:], b.o[:], b.d[:]
	default:
		h = new(blockHead)
		f = make([]TemplateField, n)
		s = make([]step, min(n, numTargets))
		o = make([]int, n)
	}
	if ndef > len(d) {
		d = make([]byte, ndef)
	}
	t := &h.t
	t.fields = f[:n:n]
	t.steps = s[:0:len(s)]
	t.other = o[:0:min(n, len(o))]
	t.def = d[:0:ndef]
	t.classes = h.classes[:0:maxClassUses]
	// Room for layoutVars; compile drops it for fixed-length templates.
	t.vars, t.stepSeg = h.vars[:0:len(h.vars)], g[:0:len(g)]
	return t
}
