package main

import (
	"fmt"
	"strings"

	. "github.com/dave/jennifer/jen"

	"github.com/nfkit/nfkit/fields"
)

const parquetPkg = "github.com/parquet-go/parquet-go"

// pqColumn is one column of the Parquet files: a key of the record
// schema, or the family of an address key.
type pqColumn struct {
	ident   string     // Go suffix of the column's constant (colX)
	name    string     // column name
	typ     string     // flowparquet column type constant
	width   int        // bytes in the row's fixed part
	off     int        // offset in the row's fixed part
	present *Statement // condition of presence, nil for always
	value   *Statement // the value, from r (and received)
	doc     string
	family  bool // the family of the address column before it
}

// pqRowHeader is the row's header: the presence bits (8 bytes) and the
// length of the other fields' JSON text (4 bytes).
const pqRowHeader = 12

// pqColumns returns the columns in file order: the envelope, the keyed
// normalized fields, the trailer (each address followed by its family),
// then the other fields' JSON text (not in the list).
func pqColumns() ([]pqColumn, error) {
	var cols []pqColumn
	add := func(c pqColumn) {
		if c.typ == "typeAddr" {
			cols = append(cols, c)
			cols = append(cols, pqColumn{ident: c.ident + "Family", name: c.name + "_family", typ: "typeUint8",
				width: 1, family: true, doc: "the address family of " + c.name + ": 4 or 6, 0 when absent"})
			return
		}
		cols = append(cols, c)
	}
	key := func(k fields.Key) (pqColumn, error) {
		src := Id("r").Dot(k.Field)
		if k.Field == "Received" {
			src = Id("received")
		}
		c := pqColumn{ident: k.Name, name: k.JSON, doc: k.Doc, value: src}
		if !k.Always {
			c.present = Add(src).Op("!=").Lit(0)
		}
		switch k.Kind {
		case fields.ValueUint:
			c.typ, c.width = fmt.Sprintf("typeUint%d", k.Bits), k.Bits/8
		case fields.ValueInt:
			if k.Bits != 64 || !strings.HasSuffix(k.JSON, "_ns") {
				return c, fmt.Errorf("key %s: only 64-bit Unix ns times are signed", k.JSON)
			}
			c.typ, c.width = "typeTime", 8
		case fields.ValueAddr:
			c.typ, c.width = "typeAddr", 16
			c.present = Add(src).Dot("IsValid").Call()
		case fields.ValueVersion:
			c.typ, c.width = "typeVersion", 2
		default:
			return c, fmt.Errorf("key %s: kind %d has no column type", k.JSON, k.Kind)
		}
		return c, nil
	}
	for _, k := range fields.Envelope {
		c, err := key(k)
		if err != nil {
			return nil, err
		}
		add(c)
	}
	for _, n := range flowBits() {
		if n.JSON == "" {
			continue
		}
		has := Id("h").Op("&").Qual(decodePkg, "Has"+n.Name).Op("!=").Lit(0)
		c := pqColumn{ident: n.Name, name: n.JSON, doc: n.Doc, present: has, value: Id("r").Dot(n.Name)}
		switch n.Kind {
		case fields.KindUint:
			c.typ, c.width = fmt.Sprintf("typeUint%d", n.Bits), n.Bits/8
		case fields.KindTime:
			c.typ, c.width = "typeTime", 8
		case fields.KindAddr:
			c.typ, c.width = "typeAddr", 16
			c.present = has.Op("&&").Id("r").Dot(n.Name).Dot("IsValid").Call()
		case fields.KindMAC:
			c.typ, c.width = "typeMAC", 6
		default:
			return nil, fmt.Errorf("field %s: kind %d has no column type", n.JSON, n.Kind)
		}
		add(c)
	}
	for _, k := range fields.Trailer {
		c, err := key(k)
		if err != nil {
			return nil, err
		}
		add(c)
	}
	off := pqRowHeader
	for i := range cols {
		cols[i].off = off
		off += cols[i].width
	}
	if len(cols) > 64 {
		return nil, fmt.Errorf("%d columns: the row's presence bits hold 64", len(cols))
	}
	return cols, nil
}

// genFlowParquet emits the generated half of package flowparquet: the
// column table, the row encoder the collector's workers run, the
// transposer that turns rows into PLAIN column values, and the Row type
// that parquet-go readers (and the schema) use.
func genFlowParquet(f *File) error {
	cols, err := pqColumns()
	if err != nil {
		return err
	}
	rowFixed := cols[len(cols)-1].off + cols[len(cols)-1].width
	f.Comment("The columns, in file order; then the presence bits and the other fields' JSON text.")
	f.Const().DefsFunc(func(g *Group) {
		for i, c := range cols {
			g.Id("col" + c.ident).Op("=").Lit(i)
		}
		g.Id("colPresent").Op("=").Lit(len(cols))
		g.Id("colOther").Op("=").Lit(len(cols) + 1)
		g.Comment("numColumns is the number of columns.")
		g.Id("numColumns").Op("=").Lit(len(cols) + 2)
		g.Comment("rowFixed is the size of a row's fixed part: the presence bits, the length of")
		g.Comment("the other fields' text, then each column's value at its offset.")
		g.Id("rowFixed").Op("=").Lit(rowFixed)
	})
	f.Comment("The bits of Row.Present (the present column): Has<Field> is set when the")
	f.Comment("record had the column's key.")
	f.Const().DefsFunc(func(g *Group) {
		for _, c := range cols {
			g.Id("Has" + c.ident).Uint64().Op("=").Lit(1).Op("<<").Id("col" + c.ident)
		}
	})
	f.Comment("columns describes the columns, in file order.")
	f.Var().Id("columns").Op("=").Index(Id("numColumns")).Id("columnSpec").ValuesFunc(func(g *Group) {
		for _, c := range cols {
			g.Values(Dict{
				Id("Name"): Lit(c.name),
				Id("Type"): Id(c.typ),
				Id("Doc"):  Lit(c.doc),
			})
		}
		g.Values(Dict{
			Id("Name"): Lit("present"),
			Id("Type"): Id("typeUint64"),
			Id("Doc"):  Lit("which keys the record had: bit k (1<<k) for column k, counted from 0 in file order; the columns of the others hold 0"),
		})
		g.Values(Dict{
			Id("Name"): Lit("other_fields"),
			Id("Type"): Id("typeJSON"),
			Id("Doc"):  Lit("the template's other fields, as a JSON object typed as in the JSON lines ({} when there are none)"),
		})
	})

	le := func(fn string) *Statement { return Qual(binPkg, "LittleEndian").Dot(fn) }
	at := func(c pqColumn) *Statement { return Id("p").Index(Lit(c.off), Empty()) }
	f.Comment("appendFixed appends the fixed part of r's row, its other-fields length 0.")
	hotDirective(f)
	f.Func().Id("appendFixed").Params(Id("b").Index().Byte(), Id("r").Op("*").Qual(decodePkg, "Record"), Id("received").Int64()).Index().Byte().BlockFunc(func(g *Group) {
		g.Id("b").Op("=").Qual("slices", "Grow").Call(Id("b"), Id("rowFixed"))
		g.Id("n").Op(":=").Len(Id("b"))
		g.Id("b").Op("=").Id("b").Index(Empty(), Id("n").Op("+").Id("rowFixed"))
		g.Id("p").Op(":=").Id("b").Index(Id("n"), Empty())
		g.Clear(Id("p"))
		g.Id("h").Op(":=").Id("r").Dot("Has")
		g.Var().Id("has").Uint64()
		for i, c := range cols {
			if c.family {
				continue
			}
			bit := Lit(1).Op("<<").Id("col" + c.ident)
			var put []Code
			switch c.typ {
			case "typeAddr":
				fam := cols[i+1]
				bit = bit.Op("|").Lit(1).Op("<<").Id("col" + fam.ident)
				put = append(put, Id("p").Index(Lit(fam.off)).Op("=").Id("putAddr").Call(at(c), c.value))
			case "typeMAC":
				put = append(put, Copy(at(c), c.value.Clone().Index(Op(":"))))
			case "typeVersion":
				put = append(put, le("PutUint16").Call(at(c), c.value))
			case "typeTime":
				put = append(put, le("PutUint64").Call(at(c), Uint64().Call(c.value)))
			case "typeUint8":
				put = append(put, Id("p").Index(Lit(c.off)).Op("=").Uint8().Call(c.value))
			case "typeUint16":
				put = append(put, le("PutUint16").Call(at(c), Uint16().Call(c.value)))
			case "typeUint32":
				put = append(put, le("PutUint32").Call(at(c), Uint32().Call(c.value)))
			case "typeUint64":
				put = append(put, le("PutUint64").Call(at(c), Uint64().Call(c.value)))
			default:
				return
			}
			put = append([]Code{Id("has").Op("|=").Add(bit)}, put...)
			put[0].(*Statement).Comment(c.name)
			if c.present == nil {
				for _, st := range put {
					g.Add(st)
				}
				continue
			}
			g.If(c.present).Block(put...)
		}
		g.Add(le("PutUint64").Call(Id("p"), Id("has")))
		g.Return(Id("b"))
	})

	f.Comment("Row is one row of the files, as parquet-go's GenericReader reads it")
	f.Comment("(and the source of the files' schema): every column is REQUIRED, 0")
	f.Comment("when the record did not have the key; Present says which keys it had.")
	f.Type().Id("Row").StructFunc(func(g *Group) {
		for _, c := range cols {
			var t *Statement
			tag := c.name
			switch c.typ {
			case "typeAddr":
				t = Index(Lit(16)).Byte()
			case "typeMAC":
				t = Index(Lit(6)).Byte()
			case "typeVersion":
				t, tag = String(), tag+",dict"
			case "typeTime":
				t, tag = Int64(), tag+",timestamp(nanosecond)"
			case "typeUint8":
				t = Uint8()
			case "typeUint16":
				t = Uint16()
			case "typeUint32":
				t = Uint32()
			case "typeUint64":
				t = Uint64()
			}
			g.Id(c.ident).Add(t).Tag(map[string]string{"parquet": tag}).Comment(c.doc)
		}
		g.Id("Present").Uint64().Tag(map[string]string{"parquet": "present"}).Comment("bit k set: the record had column k (in file order)")
		g.Id("Other").Index().Byte().Tag(map[string]string{"parquet": "other_fields,json"}).Comment("the template's other fields, a JSON object")
	})

	// The block: a column of blockRows values per field, typed.
	field := func(c pqColumn) string { return "c" + c.ident }
	elem := func(typ string) *Statement {
		switch typ {
		case "typeAddr":
			return Index(Lit(16)).Byte()
		case "typeMAC":
			return Index(Lit(6)).Byte()
		case "typeVersion":
			return Uint16()
		case "typeTime", "typeUint64":
			return Uint64()
		}
		return Uint32()
	}
	f.Comment("block holds the values of up to blockRows rows, a typed array per")
	f.Comment("column: its memory is the column's PLAIN encoding on little-endian")
	f.Comment("machines (INT32 for the integers up to 32 bits, INT64 for the others")
	f.Comment("and the times, the bytes of the fixed-size arrays). The type column")
	f.Comment("holds the versions, which the encoder maps to its dictionary.")
	f.Comment("Each array is followed by a cache line of padding: the arrays' sizes")
	f.Comment("are multiples of 4 KiB, and without it the values of a row would all")
	f.Comment("map to the same set of the L1 cache, which holds a handful of lines")
	f.Comment("per set (putRecord ran 10 times slower).")
	f.Comment("An address column has an array of dictionary indexes besides its")
	f.Comment("values: putRecord stores the index of an address while the column's")
	f.Comment("dictionary has room, the address itself after.")
	f.Type().Id("block").StructFunc(func(g *Group) {
		for _, c := range cols {
			g.Id(field(c)).Index(Id("blockRows")).Add(elem(c.typ)).Comment(c.name)
			g.Id("_").Index(Lit(64)).Byte()
			if c.typ == "typeAddr" {
				g.Id(field(c) + "Idx").Index(Id("blockRows")).Uint32().Comment(c.name + ": dictionary indexes")
				g.Id("_").Index(Lit(64)).Byte()
			}
		}
		g.Id("cPresent").Index(Id("blockRows")).Uint64().Comment("present")
	})

	var addrCols []pqColumn
	for _, c := range cols {
		if c.typ == "typeAddr" {
			addrCols = append(addrCols, c)
		}
	}
	f.Comment("numAddr is the number of address columns.")
	f.Const().Id("numAddr").Op("=").Lit(len(addrCols))
	f.Comment("addrColumns are the address columns, in file order: addrColumns[j] has")
	f.Comment("the j-th dictionary of putRecord.")
	f.Var().Id("addrColumns").Op("=").Index(Id("numAddr")).Int().ValuesFunc(func(g *Group) {
		for _, c := range addrCols {
			g.Id("col" + c.ident)
		}
	})
	f.Comment("indexes returns the dictionary indexes of the first n rows of address")
	f.Comment("column k.")
	f.Func().Params(Id("b").Op("*").Id("block")).Id("indexes").Params(Id("k"), Id("n").Int()).Index().Uint32().Block(
		Switch(Id("k")).BlockFunc(func(g *Group) {
			for _, c := range addrCols {
				g.Case(Id("col" + c.ident)).Block(Return(Id("b").Dot(field(c)+"Idx").Index(Empty(), Id("n"))))
			}
		}),
		Return(Nil()),
	)

	f.Comment("plain returns the PLAIN encoding of the first n values of column k")
	f.Comment("(not the type and other-fields columns): the block's memory, or a copy")
	f.Comment("in scratch on big-endian machines.")
	f.Func().Params(Id("b").Op("*").Id("block")).Id("plain").Params(Id("k"), Id("n").Int(), Id("scratch").Op("*").Index().Byte()).Index().Byte().Block(
		Switch(Id("k")).BlockFunc(func(g *Group) {
			for _, c := range append(cols, pqColumn{ident: "Present", typ: "typeUint64"}) {
				var fn string
				switch c.typ {
				case "typeAddr":
					fn = "bytes16"
				case "typeMAC":
					fn = "bytes6"
				case "typeVersion":
					continue
				case "typeTime", "typeUint64":
					fn = "bytes64"
				default:
					fn = "bytes32"
				}
				g.Case(Id("col" + c.ident)).Block(Return(Id(fn).Call(Id("b").Dot(field(c)).Index(Empty(), Id("n")), Id("scratch"))))
			}
		}),
		Return(Nil()),
	)

	f.Comment("putRow stores row i's values, from its fixed part p (rowFixed bytes),")
	f.Comment("in the block.")
	hotDirective(f)
	f.Func().Id("putRow").Params(Id("b").Op("*").Id("block"), Id("i").Int(), Id("p").Index().Byte()).BlockFunc(func(g *Group) {
		g.If(Uint().Call(Id("i")).Op(">=").Id("blockRows")).Block(Panic(Lit("flowparquet: row outside the block")))
		g.Id("_").Op("=").Id("p").Index(Id("rowFixed").Op("-").Lit(1))
		for _, c := range cols {
			dst := Id("b").Dot(field(c)).Index(Id("i"))
			switch c.typ {
			case "typeAddr", "typeMAC":
				g.Add(dst).Op("=").Index(Lit(c.width)).Byte().Call(Id("p").Index(Lit(c.off), Lit(c.off+c.width)))
			case "typeVersion":
				g.Add(dst).Op("=").Add(le("Uint16").Call(at(c)))
			case "typeTime", "typeUint64":
				g.Add(dst).Op("=").Add(le("Uint64").Call(at(c)))
			case "typeUint8":
				g.Add(dst).Op("=").Uint32().Call(Id("p").Index(Lit(c.off)))
			case "typeUint16":
				g.Add(dst).Op("=").Uint32().Call(le("Uint16").Call(at(c)))
			case "typeUint32":
				g.Add(dst).Op("=").Add(le("Uint32").Call(at(c)))
			}
		}
		g.Id("b").Dot("cPresent").Index(Id("i")).Op("=").Add(le("Uint64").Call(Id("p")))
	})

	f.Comment("putRecord stores r's values in the block at row i, as putRow does from")
	f.Comment("r's row, but for the addresses, which go through the dictionaries d, and")
	f.Comment("for the absent keys: their values are left as they were, and")
	f.Comment("the encoder zeroes them when it reads the block (a key seldom present")
	f.Comment("costs no store per row).")
	hotDirective(f)
	f.Func().Id("putRecord").Params(Id("b").Op("*").Id("block"), Id("d").Op("*").Index(Id("numAddr")).Id("addrDict"), Id("i").Int(), Id("r").Op("*").Qual(decodePkg, "Record"), Id("received").Int64()).BlockFunc(func(g *Group) {
		g.If(Uint().Call(Id("i")).Op(">=").Id("blockRows")).Block(Panic(Lit("flowparquet: row outside the block")))
		g.Id("h").Op(":=").Id("r").Dot("Has")
		g.Var().Id("has").Uint64()
		for i, c := range cols {
			if c.family {
				continue
			}
			dst := Id("b").Dot(field(c)).Index(Id("i"))
			bit := Lit(1).Op("<<").Id("col" + c.ident)
			var put []Code
			switch c.typ {
			case "typeAddr":
				fam := cols[i+1]
				bit = bit.Op("|").Lit(1).Op("<<").Id("col" + fam.ident)
				j := 0
				for _, a := range addrCols {
					if a.ident == c.ident {
						break
					}
					j++
				}
				put = append(put, Id("b").Dot(field(fam)).Index(Id("i")).Op("=").Id("d").Index(Lit(j)).Dot("put").Call(
					Op("&").Id("b").Dot(field(c)+"Idx").Index(Id("i")), Op("&").Add(dst.Clone()), Id("i"), c.value))
			case "typeMAC":
				put = append(put, dst.Clone().Op("=").Index(Lit(6)).Byte().Call(c.value))
			case "typeVersion":
				put = append(put, dst.Clone().Op("=").Add(c.value))
			case "typeTime", "typeUint64":
				put = append(put, dst.Clone().Op("=").Uint64().Call(c.value))
			case "typeUint8", "typeUint16", "typeUint32":
				put = append(put, dst.Clone().Op("=").Uint32().Call(c.value))
			default:
				return
			}
			put = append([]Code{Id("has").Op("|=").Add(bit)}, put...)
			put[0].(*Statement).Comment(c.name)
			if c.present == nil {
				for _, st := range put {
					g.Add(st)
				}
				continue
			}
			g.If(c.present).Block(put...)
		}
		g.Id("b").Dot("cPresent").Index(Id("i")).Op("=").Id("has")
	})

	f.Comment("versionNames are the \"type\" values, by versionName.")
	f.Var().Id("versionNames").Op("=").Index(Op("...")).String().ValuesFunc(func(g *Group) {
		for _, v := range fields.Versions {
			g.Lit(v.Name)
		}
		g.Lit("UNKNOWN")
	})
	f.Comment("versionName returns the \"type\" value of an export version, as flowjson")
	f.Comment("writes it.")
	hotDirective(f)
	f.Func().Id("versionName").Params(Id("v").Uint16()).String().Block(
		Switch(Id("v")).BlockFunc(func(g *Group) {
			for i, v := range fields.Versions {
				g.Case(Lit(int(v.Number))).Block(Return(Id("versionNames").Index(Lit(i))))
			}
		}),
		Return(Id("versionNames").Index(Lit(len(fields.Versions)))),
	)
	return nil
}
