package main

import (
	"fmt"
	"strings"

	. "github.com/dave/jennifer/jen"

	"github.com/nfkit/nfkit/fields"
)

// chColumn is one fixed-width column of the ClickHouse row: its name and
// type, its width in RowBinary, and the statement that writes it at
// b[n+off:].
type chColumn struct {
	name, typ, doc string
	width          int
	put            func(off int) Code
}

// chPut returns a statement that stores v (an expression of the given
// width in bytes) little endian at p[off:], p being the row's fixed part
// as an array pointer: constant indexes, no bounds checks.
func chPut(width int, v *Statement) func(off int) Code { return chPutIn("p", width, v) }

// chPutIn is chPut into the array pointer named arr.
func chPutIn(arr string, width int, v *Statement) func(off int) Code {
	return func(off int) Code {
		at := Id(arr).Index(Lit(off), Empty())
		switch width {
		case 1:
			return Id(arr).Index(Lit(off)).Op("=").Byte().Call(v)
		case 2:
			return Qual(binPkg, "LittleEndian").Dot("PutUint16").Call(at, Uint16().Call(v))
		case 4:
			return Qual(binPkg, "LittleEndian").Dot("PutUint32").Call(at, Uint32().Call(v))
		case 8:
			return Qual(binPkg, "LittleEndian").Dot("PutUint64").Call(at, Uint64().Call(v))
		case 16:
			// putAddr((*[16]byte)(p[off:]), v): IPv4 as IPv4-mapped, the
			// zero Addr as 16 zero bytes.
			return Id("putAddr").Call(Parens(Op("*").Index(Lit(16)).Byte()).Parens(at), v)
		}
		panic(fmt.Sprintf("width %d", width))
	}
}

// chUint returns the ClickHouse type and width of an unsigned integer.
func chUint(bits int) (string, int) { return fmt.Sprintf("UInt%d", bits), bits / 8 }

// chColumns returns the fixed-width columns of the ClickHouse row, in
// order: the day, the schema's envelope, the normalized keys and the
// trailer (fields/schema.go, fields/normalized.go).
func chColumns() ([]chColumn, error) {
	cols := []chColumn{{
		name: "date", typ: "Date", width: 2,
		doc: "the day of time_received_ns (UTC): the partition key",
		put: chPut(2, Id("received").Op("/").Lit(int64(86400e9))),
	}}
	key := func(k fields.Key) error {
		src := Id("r").Dot(k.Field)
		if k.Field == "Received" {
			src = Id("received")
		}
		c := chColumn{name: k.JSON, doc: k.Doc}
		switch k.Kind {
		case fields.ValueUint:
			c.typ, c.width = chUint(k.Bits)
		case fields.ValueInt:
			c.typ, c.width = fmt.Sprintf("Int%d", k.Bits), k.Bits/8
		case fields.ValueAddr:
			c.typ, c.width = "FixedString(16)", 16
		case fields.ValueVersion:
			c.typ, c.width = "Enum8("+chVersionEnum()+")", 1
			src = Id("versionCode").Call(src)
		default:
			return fmt.Errorf("key %s: kind %d has no column type", k.JSON, k.Kind)
		}
		c.put = chPut(c.width, src)
		cols = append(cols, c)
		return nil
	}
	for _, k := range fields.Envelope {
		if err := key(k); err != nil {
			return nil, err
		}
	}
	for _, n := range flowBits() {
		if n.JSON == "" {
			continue
		}
		c := chColumn{name: n.JSON, doc: n.Doc}
		v := Id("r").Dot(n.Name)
		switch n.Kind {
		case fields.KindUint:
			c.typ, c.width = chUint(n.Bits)
		case fields.KindTime:
			c.typ, c.width = "Int64", 8
			c.doc += " (0: absent)"
		case fields.KindAddr:
			c.typ, c.width = "FixedString(16)", 16
			c.doc += " (IPv6, or IPv4-mapped IPv6; zeros: absent)"
		case fields.KindMAC:
			// MACNumToString's form: the 48 bits as a number.
			c.typ, c.width = "UInt64", 8
			v = Id("macNum").Call(v)
		default:
			return nil, fmt.Errorf("field %s: kind %d has no column type", n.Name, n.Kind)
		}
		c.put = chPut(c.width, v)
		cols = append(cols, c)
	}
	for _, k := range fields.Trailer {
		if err := key(k); err != nil {
			return nil, err
		}
	}
	cols = append(cols, chColumn{
		name: "present", typ: "UInt64", width: 8,
		doc: "which normalized columns the exporter sent (absent ones hold 0): the bit of each is PresentBit's",
		put: chPut(8, Id("r").Dot("Has").Op("&").Qual(decodePkg, "KeyedFields")),
	})
	cols = append(cols, chColumn{
		name: "record_offset", typ: "UInt32", width: 4,
		doc: "the record's byte offset in its export packet: with the exporter, domain, sequence number and receive time it identifies the record (a duplicate has the same), and it orders the records of a packet",
		put: chPut(4, Id("r").Dot("Offset")),
	})
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.name] {
			return nil, fmt.Errorf("column %s twice", c.name)
		}
		seen[c.name] = true
	}
	return cols, nil
}

// chVersionEnum returns the values of the Enum8 of the "type" column.
func chVersionEnum() string {
	parts := []string{"'UNKNOWN' = 0"}
	for _, v := range fields.Versions {
		parts = append(parts, fmt.Sprintf("'%s' = %d", v.Name, v.Number))
	}
	return strings.Join(parts, ", ")
}

// genClickHouse emits the generated half of package chrow: the column
// table and the writer of a row's fixed-width columns in RowBinary.
func genClickHouse(f *File) error {
	cols, err := chColumns()
	if err != nil {
		return err
	}
	for _, v := range fields.Versions {
		if v.Number > 127 {
			return fmt.Errorf("version %d does not fit Enum8", v.Number)
		}
	}
	size := 0
	for _, c := range cols {
		size += c.width
	}
	f.Comment("fixedSize is the RowBinary size of a row's fixed-width columns.")
	f.Const().Id("fixedSize").Op("=").Lit(size)
	f.Comment("fixedColumns are the fixed-width columns, in row order; the row ends with")
	f.Comment("the template's other fields (otherColumns).")
	f.Var().Id("fixedColumns").Op("=").Index(Op("...")).Id("Column").ValuesFunc(func(g *Group) {
		for _, c := range cols {
			g.Line().Values(Dict{Id("Name"): Lit(c.name), Id("Type"): Lit(c.typ), Id("Doc"): Lit(c.doc)})
		}
		g.Line()
	})
	f.Comment("presentBits are the bits of the present column: the normalized columns, by")
	f.Comment("name, and their decode.FieldSet bit.")
	f.Var().Id("presentBits").Op("=").Map(String()).Qual(decodePkg, "FieldSet").ValuesFunc(func(g *Group) {
		for _, n := range flowBits() {
			if n.JSON != "" {
				g.Line().Lit(n.JSON).Op(":").Qual(decodePkg, "Has"+n.Name)
			}
		}
		g.Line()
	})
	f.Comment("versionCode returns the \"type\" Enum8 value of an export version (0: UNKNOWN).")
	f.Func().Id("versionCode").Params(Id("v").Uint16()).Uint8().Block(
		Switch(Id("v")).BlockFunc(func(g *Group) {
			var cs []Code
			for _, v := range fields.Versions {
				cs = append(cs, Lit(int(v.Number)))
			}
			g.Case(cs...).Block(Return(Uint8().Call(Id("v"))))
		}),
		Return(Lit(0)),
	)
	f.Comment("appendFixed appends the fixed-width columns of r's row in RowBinary (little")
	f.Comment("endian, in fixedColumns order): one growth of b, then stores at constant")
	f.Comment("offsets. received is the receive time, Unix ns.")
	f.Func().Id("appendFixed").Params(Id("b").Index().Byte(), Id("r").Op("*").Qual(decodePkg, "Record"), Id("received").Int64()).Index().Byte().BlockFunc(func(g *Group) {
		g.Id("b").Op("=").Qual("slices", "Grow").Call(Id("b"), Id("fixedSize"))
		g.Id("n").Op(":=").Len(Id("b"))
		g.Id("b").Op("=").Id("b").Index(Empty(), Id("n").Op("+").Id("fixedSize"))
		g.Id("p").Op(":=").Parens(Op("*").Index(Id("fixedSize")).Byte()).Parens(Id("b").Index(Id("n"), Empty()))
		off := 0
		for _, c := range cols {
			g.Add(c.put(off)).Comment(c.name)
			off += c.width
		}
		g.Return(Id("b"))
	})
	return genClickHouseSFlow(f, cols)
}

// chSFlowColumns returns the columns of an sFlow flow sample's keys
// (fields.SFlowFlowKeys), in row order: the fixed-width ones (an address
// as FixedString(16), a number as UInt32), then the lists as
// Array(UInt32). A key written only under a condition (its When) is 0
// when the JSON line leaves it out.
func chSFlowColumns() (fixed []chColumn, lists []fields.SFlowKey, err error) {
	for _, k := range fields.SFlowFlowKeys {
		v := sflowValue(k.Field)
		c := chColumn{name: k.JSON, doc: "sFlow: " + k.Doc}
		switch k.Kind {
		case fields.ValueUint:
			c.typ, c.width = "UInt32", 4
		case fields.ValueAddr:
			c.typ, c.width = "FixedString(16)", 16
		case fields.ValueList:
			lists = append(lists, k)
			continue
		default:
			return nil, nil, fmt.Errorf("sFlow key %s: kind %d has no column type", k.JSON, k.Kind)
		}
		var cond *Statement
		switch {
		case k.When == "" || k.When == "nonzero":
		case strings.HasPrefix(k.When, "nonzero:"):
			cond = Add(sflowValue(strings.TrimPrefix(k.When, "nonzero:"))).Op("!=").Lit(0)
		case strings.HasPrefix(k.When, "has:"):
			cond = Id("s").Dot("Has").Op("&").Qual(decodePkg, strings.TrimPrefix(k.When, "has:")).Op("!=").Lit(0)
		default:
			return nil, nil, fmt.Errorf("sFlow key %s: condition %q", k.JSON, k.When)
		}
		put := chPutIn("q", c.width, v)
		c.put = func(off int) Code {
			if cond == nil {
				return put(off)
			}
			// The fixed part is cleared first: nothing to store otherwise.
			return If(cond).Block(put(off))
		}
		fixed = append(fixed, c)
	}
	return fixed, lists, nil
}

// genClickHouseSFlow emits the sFlow half of the row writer: the columns
// of an sFlow flow sample's keys and appendSFlow.
func genClickHouseSFlow(f *File, fixedCols []chColumn) error {
	cols, lists, err := chSFlowColumns()
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, c := range fixedCols {
		seen[c.name] = true
	}
	size := 0
	for _, c := range cols {
		if seen[c.name] {
			return fmt.Errorf("sFlow column %s is a column already", c.name)
		}
		size += c.width
	}
	f.Comment("sflowFixedSize is the RowBinary size of the fixed-width sFlow columns.")
	f.Const().Id("sflowFixedSize").Op("=").Lit(size)
	f.Comment("sflowColumns are the columns of an sFlow flow sample's keys, in row order,")
	f.Comment("after fixedColumns: the fixed-width ones, then the lists.")
	f.Var().Id("sflowColumns").Op("=").Index(Op("...")).Id("Column").ValuesFunc(func(g *Group) {
		for _, c := range cols {
			g.Line().Values(Dict{Id("Name"): Lit(c.name), Id("Type"): Lit(c.typ), Id("Doc"): Lit(c.doc)})
		}
		for _, k := range lists {
			g.Line().Values(Dict{Id("Name"): Lit(k.JSON), Id("Type"): Lit("Array(UInt32)"), Id("Doc"): Lit("sFlow: " + k.Doc)})
		}
		g.Line()
	})
	f.Comment("appendSFlow appends the sFlow columns of a row: the keys of the flow sample s")
	f.Comment("of datagram p, or zeros and empty lists when s is nil (other records).")
	f.Func().Id("appendSFlow").Params(Id("b").Index().Byte(), Id("p").Op("*").Qual(decodePkg, "Packet"), Id("s").Op("*").Qual(decodePkg, "SFlowSample")).Index().Byte().BlockFunc(func(g *Group) {
		g.Id("b").Op("=").Qual("slices", "Grow").Call(Id("b"), Id("sflowFixedSize").Op("+").Lit(len(lists)))
		g.Id("n").Op(":=").Len(Id("b"))
		g.Id("b").Op("=").Id("b").Index(Empty(), Id("n").Op("+").Id("sflowFixedSize"))
		g.Id("q").Op(":=").Parens(Op("*").Index(Id("sflowFixedSize")).Byte()).Parens(Id("b").Index(Id("n"), Empty()))
		g.Op("*").Id("q").Op("=").Index(Id("sflowFixedSize")).Byte().Values()
		g.If(Id("s").Op("==").Nil()).BlockFunc(func(g *Group) {
			for range lists {
				g.Id("b").Op("=").Append(Id("b"), Lit(0))
			}
			g.Return(Id("b"))
		})
		g.Id("putSFlow").Call(Id("q"), Id("p"), Id("s"))
		for _, k := range lists {
			g.Id("b").Op("=").Id("appendUint32s").Call(Id("b"), sflowValue(k.Field))
		}
		g.Return(Id("b"))
	})
	f.Comment("putSFlow writes the fixed-width sFlow columns of s into the cleared q.")
	f.Func().Id("putSFlow").Params(Id("q").Op("*").Index(Id("sflowFixedSize")).Byte(), Id("p").Op("*").Qual(decodePkg, "Packet"), Id("s").Op("*").Qual(decodePkg, "SFlowSample")).BlockFunc(func(g *Group) {
		off := 0
		for _, c := range cols {
			g.Add(c.put(off)).Comment(c.name)
			off += c.width
		}
	})
	return nil
}
