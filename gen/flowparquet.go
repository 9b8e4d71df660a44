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
// column table, the row encoder the collector's workers run and the
// row decoder that fills the writer's column batches.
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

	f.Comment("Row is one row of the files, as the column writer reads it: every")
	f.Comment("column is REQUIRED, 0 when the record did not have the key; Present")
	f.Comment("says which keys it had.")
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

	f.Comment("set sets the row from a row's fixed part p and its other fields' JSON")
	f.Comment("text o (\"{}\" when there are none).")
	hotDirective(f)
	f.Func().Params(Id("w").Op("*").Id("Row")).Id("set").Params(Id("p"), Id("o").Index().Byte()).BlockFunc(func(g *Group) {
		g.Id("_").Op("=").Id("p").Index(Id("rowFixed").Op("-").Lit(1))
		g.Id("w").Dot("Present").Op("=").Add(le("Uint64").Call(Id("p")))
		for _, c := range cols {
			var v *Statement
			switch c.typ {
			case "typeAddr":
				v = Index(Lit(16)).Byte().Call(Id("p").Index(Lit(c.off), Lit(c.off+16)))
			case "typeMAC":
				v = Index(Lit(6)).Byte().Call(Id("p").Index(Lit(c.off), Lit(c.off+6)))
			case "typeVersion":
				v = Id("versionName").Call(le("Uint16").Call(at(c)))
			case "typeTime":
				v = Int64().Call(le("Uint64").Call(at(c)))
			case "typeUint64":
				v = le("Uint64").Call(at(c))
			case "typeUint8":
				v = Id("p").Index(Lit(c.off))
			case "typeUint16":
				v = le("Uint16").Call(at(c))
			case "typeUint32":
				v = le("Uint32").Call(at(c))
			}
			g.Id("w").Dot(c.ident).Op("=").Add(v)
		}
		g.Id("w").Dot("Other").Op("=").Id("o")
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
