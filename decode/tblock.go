package decode

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
}

// The block of a size class of N fields: N fields, min(N, numTargets)
// steps, room for N other fields (N/2 beyond 8) and a definition of up to 6+4N bytes
// (an IPFIX options template record without enterprise numbers). A
// template with more other fields or enterprise numbers allocates those
// slices on their own.
type (
	block4 struct {
		blockHead
		f [4]TemplateField
		s [4]step
		o [4]int
		d [6 + 4*4]byte
	}
	block8 struct {
		blockHead
		f [8]TemplateField
		s [8]step
		o [8]int
		d [6 + 4*8]byte
	}
	block12 struct {
		blockHead
		f [12]TemplateField
		s [12]step
		o [6]int
		d [6 + 4*12]byte
	}
	block16 struct {
		blockHead
		f [16]TemplateField
		s [16]step
		o [8]int
		d [6 + 4*16]byte
	}
	block20 struct {
		blockHead
		f [20]TemplateField
		s [20]step
		o [10]int
		d [6 + 4*20]byte
	}
	block24 struct {
		blockHead
		f [24]TemplateField
		s [24]step
		o [12]int
		d [6 + 4*24]byte
	}
	block32 struct {
		blockHead
		f [32]TemplateField
		s [32]step
		o [16]int
		d [6 + 4*32]byte
	}
	block48 struct {
		blockHead
		f [48]TemplateField
		s [numTargets]step
		o [24]int
		d [6 + 4*48]byte
	}
	block64 struct {
		blockHead
		f [64]TemplateField
		s [numTargets]step
		o [32]int
		d [6 + 4*64]byte
	}
)

// newTemplate allocates a template of n fields whose definition is ndef
// bytes long, with t.fields of length n and t.steps, t.other, t.def and
// t.classes empty, each with the capacity compile needs.
func newTemplate(n, ndef int) *Template {
	var (
		h *blockHead
		f []TemplateField
		s []step
		o []int
		d []byte
	)
	switch {
	case n <= 4:
		b := new(block4)
		h, f, s, o, d = &b.blockHead, b.f[:], b.s[:], b.o[:], b.d[:]
	case n <= 8:
		b := new(block8)
		h, f, s, o, d = &b.blockHead, b.f[:], b.s[:], b.o[:], b.d[:]
	case n <= 12:
		b := new(block12)
		h, f, s, o, d = &b.blockHead, b.f[:], b.s[:], b.o[:], b.d[:]
	case n <= 16:
		b := new(block16)
		h, f, s, o, d = &b.blockHead, b.f[:], b.s[:], b.o[:], b.d[:]
	case n <= 20:
		b := new(block20)
		h, f, s, o, d = &b.blockHead, b.f[:], b.s[:], b.o[:], b.d[:]
	case n <= 24:
		b := new(block24)
		h, f, s, o, d = &b.blockHead, b.f[:], b.s[:], b.o[:], b.d[:]
	case n <= 32:
		b := new(block32)
		h, f, s, o, d = &b.blockHead, b.f[:], b.s[:], b.o[:], b.d[:]
	case n <= 48:
		b := new(block48)
		h, f, s, o, d = &b.blockHead, b.f[:], b.s[:], b.o[:], b.d[:]
	case n <= 64:
		b := new(block64)
		h, f, s, o, d = &b.blockHead, b.f[:], b.s[:], b.o[:], b.d[:]
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
	return t
}
