package main

import (
	"fmt"
	"sort"

	. "github.com/dave/jennifer/jen"

	"github.com/nfkit/nfkit/fields"
)

// An opDef is one generated decode step: read a field of one length into one
// normalized Flow field.
type opDef struct {
	name   string
	target int // index in fields.Flow
	n      fields.Normalized
	length int
	conv   string // decode timeConv constant, for KindTime
}

// targetIndex is the index in fields.Flow of the normalized field name.
func targetIndex(name string) int {
	for i, n := range fields.Flow {
		if n.Name == name {
			return i
		}
	}
	panic("gen: no normalized field " + name)
}

// absolute says whether o reads an absolute time, which its step converts
// to Unix ns as it reads it (no conversion is left for finish, and its
// opConv is convNone). Times relative to the packet (sysUptime, µs before
// the export, durations) depend on the packet's header or the exporter's
// state and are converted by finish, once per set.
func (o *opDef) absolute() bool {
	switch o.conv {
	case "convSeconds", "convMillis", "convNTPMicros", "convNTPNanos", "convTimeval":
		return true
	}
	return false
}

// A srcDef maps an element to the ops that read it, by wire length.
type srcDef struct {
	pen    uint32
	id     uint16
	target int
	prio   int
	ops    map[int]*opDef
}

type opSet struct {
	ops  []*opDef // in opcode order, starting at 1
	srcs []*srcDef
	byID map[[2]uint32]*srcDef
}

var timeConv = map[fields.TimeForm]map[int]string{
	fields.SysUptimeMs:    {4: "convUptime"},
	fields.Seconds:        {4: "convSeconds"},
	fields.Milliseconds:   {8: "convMillis"},
	fields.Microseconds:   {8: "convNTPMicros", 16: "convTimeval"},
	fields.Nanoseconds:    {8: "convNTPNanos"},
	fields.DeltaMicros:    {4: "convDeltaMicros"},
	fields.DurationMs:     {4: "convDurationMillis"},
	fields.DurationMicros: {4: "convDurationMicros"},
}

// convOrder fixes the values of decode's timeConv constants; the generated
// code guards them at compile time.
var convOrder = []string{"convNone", "convUptime", "convSeconds", "convMillis", "convNTPMicros",
	"convTimeval", "convNTPNanos", "convDeltaMicros", "convDurationMillis", "convDurationMicros"}

func buildOps(table []fields.Normalized) (*opSet, error) {
	s := &opSet{byID: map[[2]uint32]*srcDef{}}
	byName := map[string]*opDef{}
	get := func(ti int, n fields.Normalized, l int, variant, conv string) *opDef {
		name := fmt.Sprintf("op%s%s%d", n.Name, variant, l)
		if o, ok := byName[name]; ok {
			return o
		}
		o := &opDef{name: name, target: ti, n: n, length: l, conv: conv}
		byName[name] = o
		s.ops = append(s.ops, o)
		return o
	}
	for ti, n := range table {
		for prio, src := range n.From {
			k := [2]uint32{src.PEN, uint32(src.ID)}
			if _, dup := s.byID[k]; dup {
				return nil, fmt.Errorf("element (%d, %d) feeds two normalized fields", src.PEN, src.ID)
			}
			sd := &srcDef{pen: src.PEN, id: src.ID, target: ti, prio: prio, ops: map[int]*opDef{}}
			switch n.Kind {
			case fields.KindUint:
				for l := 1; l <= n.Bits/8; l++ {
					sd.ops[l] = get(ti, n, l, "", "")
				}
			case fields.KindAddr:
				sd.ops[4] = get(ti, n, 4, "", "")
				sd.ops[16] = get(ti, n, 16, "", "")
			case fields.KindMAC:
				sd.ops[6] = get(ti, n, 6, "", "")
			case fields.KindICMP:
				sd.ops[2] = get(ti, n, 2, "", "")
			case fields.KindTime:
				forms, ok := timeConv[src.Form]
				if !ok {
					return nil, fmt.Errorf("%s: source %d has no time form", n.Name, src.ID)
				}
				for l, conv := range forms {
					sd.ops[l] = get(ti, n, l, conv[4:], conv)
				}
			}
			s.byID[k] = sd
			s.srcs = append(s.srcs, sd)
		}
	}
	// Deterministic opcode order: by target, then name.
	sort.SliceStable(s.ops, func(i, j int) bool {
		if s.ops[i].target != s.ops[j].target {
			return s.ops[i].target < s.ops[j].target
		}
		return s.ops[i].name < s.ops[j].name
	})
	return s, nil
}

// hasBits is the FieldSet expression an op sets.
func hasBits(o *opDef) Code {
	if o.n.Kind == fields.KindICMP {
		return Id("HasICMPType").Op("|").Id("HasICMPCode")
	}
	return Id("Has" + o.n.Name)
}

// emit returns the statements that read o's field at offset off(0) of b
// into f. off(d) renders the offset plus d.
func emit(o *opDef, off func(d int) *Statement) Code { return emitFrom("b", o, off) }

// emitFrom is emit reading from the byte slice named buf.
func emitFrom(buf string, o *opDef, off func(d int) *Statement) Code {
	// b[off:off+n] costs one bounds check and proves the length to
	// BigEndian.UintN, which then needs none.
	be := func(bits int) *Statement {
		return Qual(binPkg, "BigEndian").Dot(fmt.Sprintf("Uint%d", bits)).Call(Id(buf).Index(off(0), off(bits/8)))
	}
	field := Id("f").Dot(o.n.Name)
	switch o.n.Kind {
	case fields.KindUint:
		var v *Statement
		switch o.length {
		case 1:
			v = Id(buf).Index(off(0))
		case 2, 4, 8:
			v = be(o.length * 8)
		default:
			v = Id("beUint").Call(Id(buf).Index(off(0), off(o.length)))
		}
		return field.Op("=").Id(fmt.Sprintf("uint%d", o.n.Bits)).Call(v)
	case fields.KindAddr:
		fn := "AddrFrom4"
		if o.length == 16 {
			fn = "AddrFrom16"
		}
		return field.Op("=").Qual(netip, fn).Call(Index(Lit(o.length)).Byte().Call(Id(buf).Index(off(0), off(o.length))))
	case fields.KindMAC:
		return field.Op("=").Id("MAC").Call(Id(buf).Index(off(0), off(6)))
	case fields.KindICMP:
		return Block(
			Id("v").Op(":=").Add(be(16)),
			Id("f").Dot("ICMPType").Op("=").Uint8().Call(Id("v").Op(">>").Lit(8)),
			Id("f").Dot("ICMPCode").Op("=").Uint8().Call(Id("v")),
		)
	case fields.KindTime:
		switch o.conv {
		case "convSeconds":
			return field.Op("=").Int64().Call(be(32)).Op("*").Lit(int(1e9))
		case "convMillis":
			return field.Op("=").Int64().Call(be(64)).Op("*").Lit(int(1e6))
		case "convNTPMicros", "convNTPNanos":
			return field.Op("=").Id("ntpToUnixNano").Call(be(64))
		case "convTimeval":
			// struct timeval: 8-byte seconds, 8-byte microseconds (pmacct).
			return field.Op("=").Int64().Call(be(64)).Op("*").Lit(int(1e9)).Op("+").
				Int64().Call(Qual(binPkg, "BigEndian").Dot("Uint64").Call(Id(buf).Index(off(8), off(16)))).Op("*").Lit(1000)
		}
		switch o.length {
		case 4:
			return field.Op("=").Int64().Call(be(32))
		case 8:
			return field.Op("=").Int64().Call(be(64))
		}
	}
	panic("unreachable: " + o.name)
}

func genOps(f *File, s *opSet) error {
	f.Comment("opcode is a generated decode step: read one field of one length into one")
	f.Comment("normalized Flow field.")
	f.Type().Id("opcode").Uint16()
	f.Const().DefsFunc(func(g *Group) {
		g.Id("opNone").Id("opcode").Op("=").Iota()
		for _, o := range s.ops {
			g.Id(o.name)
		}
		g.Id("opCount")
	})
	f.Comment("numTargets is the number of normalized fields steps can feed.")
	f.Const().Id("numTargets").Op("=").Lit(len(fields.Flow))
	f.Comment("The index of each normalized field among the step targets.")
	f.Const().DefsFunc(func(g *Group) {
		for i, n := range fields.Flow {
			g.Id(fmt.Sprintf("target%s", n.Name)).Op("=").Lit(i)
		}
	})
	f.Comment("Compile-time guard: an \"invalid array index\" error means decode's timeConv")
	f.Comment("constants changed; run go generate.")
	f.Func().Id("_").Params().BlockFunc(func(g *Group) {
		g.Var().Id("x").Index(Lit(1)).Struct()
		for i, c := range convOrder {
			g.Id("_").Op("=").Id("x").Index(Id(c).Op("-").Lit(i))
		}
	})
	f.Comment("opFor returns the step that reads element (pen, id) of the given wire")
	f.Comment("length, the index of the normalized field it feeds, and its priority")
	f.Comment("there (lower wins). opNone means the element is not normalized.")
	f.Func().Id("opFor").Params(Id("pen").Uint32(), Id("id").Uint16(), Id("length").Uint16()).
		Params(Id("op").Id("opcode"), Id("target").Uint8(), Id("prio").Uint8()).BlockFunc(func(g *Group) {
		srcs := append([]*srcDef(nil), s.srcs...)
		sort.Slice(srcs, func(i, j int) bool {
			if srcs[i].pen != srcs[j].pen {
				return srcs[i].pen < srcs[j].pen
			}
			return srcs[i].id < srcs[j].id
		})
		g.Switch(Uint64().Call(Id("pen")).Op("<<").Lit(16).Op("|").Uint64().Call(Id("id"))).BlockFunc(func(g *Group) {
			for _, sd := range srcs {
				ls := make([]int, 0, len(sd.ops))
				for l := range sd.ops {
					ls = append(ls, l)
				}
				sort.Ints(ls)
				g.Case(Lit(uint64(sd.pen)<<16 | uint64(sd.id))).Block(
					Switch(Id("length")).BlockFunc(func(g *Group) {
						for _, l := range ls {
							g.Case(Lit(l)).Block(Return(Id(sd.ops[l].name), Lit(sd.target), Lit(sd.prio)))
						}
					}),
				)
			}
		})
		g.Return(Id("opNone"), Lit(0), Lit(0))
	})
	f.Comment("opHas is the set of Flow fields each step sets.")
	f.Var().Id("opHas").Op("=").Index(Id("opCount")).Id("FieldSet").ValuesFunc(func(g *Group) {
		for _, o := range s.ops {
			g.Line().Id(o.name).Op(":").Add(hasBits(o))
		}
		g.Line()
	})
	f.Comment("opTarget is the index of the normalized field each step feeds.")
	f.Var().Id("opTarget").Op("=").Index(Id("opCount")).Uint8().ValuesFunc(func(g *Group) {
		for _, o := range s.ops {
			g.Line().Id(o.name).Op(":").Lit(o.target)
		}
		g.Line()
	})
	f.Comment("opConv is the time conversion finish applies after each time step")
	f.Comment("(convNone for absolute times, which the step converts itself).")
	f.Var().Id("opConv").Op("=").Index(Id("opCount")).Id("timeConv").ValuesFunc(func(g *Group) {
		for _, o := range s.ops {
			if o.conv != "" && !o.absolute() {
				g.Line().Id(o.name).Op(":").Id(o.conv)
			}
		}
		g.Line()
	})
	f.Comment("opLen is the wire length each step reads.")
	f.Var().Id("opLen").Op("=").Index(Id("opCount")).Uint8().ValuesFunc(func(g *Group) {
		for _, o := range s.ops {
			g.Line().Id(o.name).Op(":").Lit(o.length)
		}
		g.Line()
	})
	f.Comment("readSteps runs a compiled template's steps over one record b. Every step's")
	f.Comment("offset plus length is within b (checked when the template was compiled).")
	hotDirective(f)
	f.Func().Id("readSteps").Params(Id("b").Index().Byte(), Id("steps").Index().Id("step"), Id("f").Op("*").Id("Flow")).Block(
		For(List(Id("_"), Id("s")).Op(":=").Range().Id("steps")).Block(
			Id("off").Op(":=").Int().Call(Id("s").Dot("off")),
			Switch(Id("s").Dot("op")).BlockFunc(func(g *Group) {
				for _, o := range s.ops {
					g.Case(Id(o.name)).Block(emit(o, func(d int) *Statement {
						if d == 0 {
							return Id("off")
						}
						return Id("off").Op("+").Lit(d)
					}))
				}
			}),
		),
	)
	f.Comment("readStepsVar is readSteps for a record with variable-length fields: step i's")
	f.Comment("offset is relative to base[seg[i]], the end of the variable-length field")
	f.Comment("before it (base[0] is 0). The record was bounds-checked by recordLen.")
	hotDirective(f)
	f.Func().Id("readStepsVar").Params(Id("b").Index().Byte(), Id("steps").Index().Id("step"), Id("seg").Index().Uint8(), Id("base").Op("*").Index(Id("maxVarSegs").Op("+").Lit(1)).Int(), Id("f").Op("*").Id("Flow")).Block(
		For(List(Id("i"), Id("s")).Op(":=").Range().Id("steps")).Block(
			Id("off").Op(":=").Int().Call(Id("s").Dot("off")).Op("+").Id("base").Index(Id("seg").Index(Id("i"))),
			Switch(Id("s").Dot("op")).BlockFunc(func(g *Group) {
				for _, o := range s.ops {
					g.Case(Id(o.name)).Block(emit(o, func(d int) *Statement {
						if d == 0 {
							return Id("off")
						}
						return Id("off").Op("+").Lit(d)
					}))
				}
			}),
		),
	)
	return nil
}

// genShapes emits a straight-line reader for every shape in fields.Shapes.
func genShapes(f *File, s *opSet) error {
	type shapeOut struct {
		key, fn string
	}
	var outs []shapeOut
	names := map[string]bool{}
	for _, sh := range fields.Shapes {
		if names[sh.Name] {
			return fmt.Errorf("shape %s twice", sh.Name)
		}
		names[sh.Name] = true
		type pick struct {
			off  int
			op   *opDef
			prio int
		}
		best := map[int]pick{}
		off, key := 0, ""
		for _, fs := range sh.Fields {
			if fs.Len == 0xFFFF {
				return fmt.Errorf("shape %s: variable-length field", sh.Name)
			}
			key += fmt.Sprintf("%d.%d.%d,", fs.PEN, fs.ID, fs.Len)
			if sd, ok := s.byID[[2]uint32{fs.PEN, uint32(fs.ID)}]; ok {
				if o, ok := sd.ops[int(fs.Len)]; ok {
					if p, ok := best[sd.target]; !ok || sd.prio < p.prio {
						best[sd.target] = pick{off, o, sd.prio}
					}
				}
			}
			off += int(fs.Len)
		}
		picks := make([]pick, 0, len(best))
		for _, p := range best {
			picks = append(picks, p)
		}
		sort.Slice(picks, func(i, j int) bool { return picks[i].off < picks[j].off })
		// A shape with an IP version field and no EtherType field derives
		// the EtherType as it reads (decode's Template.deriveEther).
		_, hasVersion := best[targetIndex("IPVersion")]
		_, hasEther := best[targetIndex("EtherType")]
		derive := hasVersion && !hasEther
		fn := "read" + sh.Name
		f.Commentf("%s reads a record of the %s layout (%s): %d bytes.", fn, sh.Name, sh.Source, off)
		hotDirective(f)
		f.Func().Id(fn).Params(Id("b").Index().Byte(), Id("f").Op("*").Id("Flow")).BlockFunc(func(g *Group) {
			g.Id("_").Op("=").Id("b").Index(Lit(off - 1)).Comment("bounds check hint to compiler; see golang.org/issue/14808")
			for _, p := range picks {
				base := p.off
				g.Add(emit(p.op, func(d int) *Statement { return Lit(base + d) }))
			}
			if derive {
				g.Id("deriveFromVersion").Call(Id("f"))
			}
		})
		f.Commentf("%sSet reads the records recs of a data set body b of %s records,", fn, sh.Name)
		f.Comment("making each slot ready and stamping it as readClassed does, in one loop")
		f.Comment("that calls nothing in the usual case.")
		hotDirective(f)
		f.Func().Id(fn+"Set").Params(Id("b").Index().Byte(), Id("recs").Index().Id("Record"), Id("set").Op("*").Id("setEnv"), Id("base").Int()).BlockFunc(func(g *Group) {
			g.Id("t").Op(":=").Id("set").Dot("t")
			g.For(List(Id("i"), Id("o")).Op(":=").List(Lit(0), Lit(0)), Id("i").Op("<").Len(Id("recs")), List(Id("i"), Id("o")).Op("=").List(Id("i").Op("+").Lit(1), Id("o").Op("+").Lit(off))).BlockFunc(func(g *Group) {
				g.List(Id("r"), Id("rb")).Op(":=").List(Op("&").Id("recs").Index(Id("i")), Id("b").Index(Id("o").Op(":").Id("o").Op("+").Lit(off).Op(":").Id("o").Op("+").Lit(off)))
				g.If(Id("r").Dot("tmpl").Op("!=").Id("t").Op("&&").Id("r").Dot("Has").Op("&^").Id("t").Dot("has").Op("!=").Lit(0)).Block(
					Id("r").Dot("Flow").Dot("reset").Call(Id("r").Dot("Has").Op("&^").Id("t").Dot("has")),
				)
				g.Id("f").Op(":=").Op("&").Id("r").Dot("Flow")
				g.Id("f").Dot("Has").Op("=").Id("t").Dot("has")
				for _, p := range picks {
					base := p.off
					g.Add(emitFrom("rb", p.op, func(d int) *Statement { return Lit(base + d) }))
				}
				if derive {
					g.Id("deriveFromVersion").Call(Id("f"))
				}
				g.Id("set").Dot("stamp").Call(Id("r"), Id("base").Op("+").Id("o"), Id("rb"))
			})
		})
		f.Commentf("layout%s is the field layout of the %s shape.", sh.Name, sh.Name)
		f.Var().Id("layout" + sh.Name).Op("=").Index().Id("fieldSpec").ValuesFunc(func(g *Group) {
			for _, fs := range sh.Fields {
				g.Values(Dict{Id("pen"): Lit(int(fs.PEN)), Id("id"): Lit(int(fs.ID)), Id("length"): Lit(int(fs.Len))})
			}
		})
		outs = append(outs, shapeOut{key, fn})
	}
	if err := genClasses(f, s); err != nil {
		return err
	}
	f.Comment("shapeReaders maps a template's layout key (see layoutKey) to its")
	f.Comment("straight-line reader.")
	f.Var().Id("shapeReaders").Op("=").Map(String()).Func().Params(Index().Byte(), Op("*").Id("Flow")).ValuesFunc(func(g *Group) {
		for _, o := range outs {
			g.Line().Lit(o.key).Op(":").Id(o.fn)
		}
		g.Line()
	})
	f.Comment("shapeSetReaders maps a layout key to the reader of a data set of such")
	f.Comment("records (see shapeReaders).")
	f.Var().Id("shapeSetReaders").Op("=").Map(String()).Func().Params(Index().Byte(), Index().Id("Record"), Op("*").Id("setEnv"), Int()).ValuesFunc(func(g *Group) {
		for _, o := range outs {
			g.Line().Lit(o.key).Op(":").Id(o.fn + "Set")
		}
		g.Line()
	})
	return nil
}

// genClasses emits an offset-driven straight-line reader for every class
// in fields.Classes, and the class table, largest first.
func genClasses(f *File, s *opSet) error {
	maxN := 0
	type classOut struct {
		name  string
		specs []fields.FieldSpec
	}
	var outs []classOut
	outOps := map[string][]*opDef{}
	for _, c := range fields.Classes {
		specs := append([]fields.FieldSpec(nil), c.Fields...)
		sort.Slice(specs, func(i, j int) bool {
			a, b := specs[i], specs[j]
			if a.PEN != b.PEN {
				return a.PEN < b.PEN
			}
			if a.ID != b.ID {
				return a.ID < b.ID
			}
			return a.Len < b.Len
		})
		targets := map[int]bool{}
		var ops []*opDef
		for _, fs := range specs {
			sd, ok := s.byID[[2]uint32{fs.PEN, uint32(fs.ID)}]
			if !ok || sd.ops[int(fs.Len)] == nil {
				return fmt.Errorf("class %s: (%d, %d) of length %d is not normalized", c.Name, fs.PEN, fs.ID, fs.Len)
			}
			if targets[sd.target] {
				return fmt.Errorf("class %s: two fields feed %s", c.Name, sd.ops[int(fs.Len)].n.Name)
			}
			targets[sd.target] = true
			ops = append(ops, sd.ops[int(fs.Len)])
		}
		maxN = max(maxN, len(specs))
		fn := "readClass" + c.Name
		f.Commentf("%s reads the %s field set (%s) from per-template offsets.", fn, c.Name, c.Source)
		hotDirective(f)
		f.Func().Id(fn).Params(Id("b").Index().Byte(), Id("o").Op("*").Id("classOffsets"), Id("f").Op("*").Id("Flow")).BlockFunc(func(g *Group) {
			for i, o := range ops {
				g.Add(emit(o, classOffset(i)))
			}
		})
		outs = append(outs, classOut{fn, specs})
		outOps[fn] = ops
	}
	sort.SliceStable(outs, func(i, j int) bool { return len(outs[i].specs) > len(outs[j].specs) })
	// readClasses: every class body in one function, chosen by a switch
	// on the class's index in classes.
	f.Comment("readClasses runs the class readers of cs on b, each class's body")
	f.Comment("inlined under a switch on its index in classes (classUse.kind): one")
	f.Comment("function, so that b and f stay in registers from one class to the next.")
	hotDirective(f)
	f.Func().Id("readClasses").Params(Id("b").Index().Byte(), Id("cs").Index().Id("classUse"), Id("f").Op("*").Id("Flow")).BlockFunc(func(g *Group) {
		g.For(Id("i").Op(":=").Range().Id("cs")).BlockFunc(func(g *Group) {
			g.Id("o").Op(":=").Op("&").Id("cs").Index(Id("i")).Dot("offs")
			g.Switch(Id("cs").Index(Id("i")).Dot("kind")).BlockFunc(func(g *Group) {
				for k, out := range outs {
					ops := outOps[out.name]
					g.Case(Lit(k)).BlockFunc(func(g *Group) {
						for i, o := range ops {
							g.Add(emit(o, classOffset(i)))
						}
					})
				}
			})
		})
	})
	f.Comment("maxClassFields is the size of the largest class.")
	f.Const().Id("maxClassFields").Op("=").Lit(maxN)
	f.Comment("classes lists the class readers, largest first; fields are sorted by")
	f.Comment("(PEN, ID, length) and o[i] is the offset of fields[i].")
	f.Var().Id("classes").Op("=").Index().Id("classDef").ValuesFunc(func(g *Group) {
		for _, o := range outs {
			g.Line().Values(Dict{
				Id("read"): Id(o.name),
				Id("fields"): Index().Id("fieldSpec").ValuesFunc(func(g *Group) {
					for _, fs := range o.specs {
						g.Values(Dict{Id("pen"): Lit(int(fs.PEN)), Id("id"): Lit(int(fs.ID)), Id("length"): Lit(int(fs.Len))})
					}
				}),
			})
		}
		g.Line()
	})
	return nil
}

// classOffset returns the offset expression of a class reader's i-th
// field, d bytes on: int(o[i]) + d, o being the template's classOffsets.
func classOffset(i int) func(d int) *Statement {
	return func(d int) *Statement {
		st := Int().Call(Id("o").Index(Lit(i)))
		if d != 0 {
			st = st.Op("+").Lit(d)
		}
		return st
	}
}
