package main

import (
	. "github.com/dave/jennifer/jen"

	"github.com/nfkit/nfkit/fields"
)

// schemaColumn is one key of the record schema, as the analyzer names it.
type schemaColumn struct {
	name, key string
	// max is the largest value of a number key (0 for the others).
	max uint64
}

// maxOf returns the largest value of an integer of the given bits, signed
// or not.
func maxOf(bits int, signed bool) uint64 {
	if signed {
		bits--
	}
	return 1<<bits - 1
}

// schemaColumns returns every key of the record schema in output order:
// the envelope, the keyed normalized fields, the trailer.
func schemaColumns() []schemaColumn {
	var cols []schemaColumn
	key := func(k fields.Key) schemaColumn {
		c := schemaColumn{name: k.Name, key: k.JSON}
		switch k.Kind {
		case fields.ValueUint:
			c.max = maxOf(k.Bits, false)
		case fields.ValueInt:
			c.max = maxOf(k.Bits, true)
		}
		return c
	}
	for _, k := range fields.Envelope {
		cols = append(cols, key(k))
	}
	for _, n := range fields.Flow {
		if n.JSON == "" {
			continue
		}
		c := schemaColumn{name: n.Name, key: n.JSON}
		switch n.Kind {
		case fields.KindUint:
			c.max = maxOf(n.Bits, false)
		case fields.KindTime:
			c.max = maxOf(64, true)
		}
		cols = append(cols, c)
	}
	for _, k := range fields.Trailer {
		cols = append(cols, key(k))
	}
	return cols
}

// genAnalyzerKeys emits the analyzer's key table: a column per schema key,
// the lookup from key text to column, and the version names.
func genAnalyzerKeys(f *File) error {
	cols := schemaColumns()
	f.Comment("column is a key of the record schema (docs/output-schema.md).")
	f.Type().Id("column").Uint8()
	f.Const().DefsFunc(func(g *Group) {
		g.Id("colNone").Id("column").Op("=").Iota().Comment("not a key of the schema")
		for _, c := range cols {
			g.Id("col" + c.name).Comment(c.key)
		}
		g.Id("numColumns")
	})
	f.Comment("columnKeys are the keys of the columns.")
	f.Var().Id("columnKeys").Op("=").Index(Id("numColumns")).String().Values(DictFunc(func(d Dict) {
		for _, c := range cols {
			d[Id("col"+c.name)] = Lit(c.key)
		}
	}))
	f.Comment("columnMax is the largest value of each number column (times are Unix ns in an")
	f.Comment("int64); 0 for the others.")
	f.Var().Id("columnMax").Op("=").Index(Id("numColumns")).Uint64().Values(DictFunc(func(d Dict) {
		for _, c := range cols {
			if c.max != 0 {
				d[Id("col"+c.name)] = Lit(c.max)
			}
		}
	}))
	f.Comment("columnOf returns the column of a key, or colNone.")
	f.Func().Id("columnOf").Params(Id("key").Index().Byte()).Id("column").Block(
		Switch(String().Call(Id("key"))).BlockFunc(func(g *Group) {
			for _, c := range cols {
				g.Case(Lit(c.key)).Block(Return(Id("col" + c.name)))
			}
		}),
		Return(Id("colNone")),
	)
	f.Comment("versionOf returns the NetFlow version of a \"type\" value, or 0.")
	f.Func().Id("versionOf").Params(Id("s").Index().Byte()).Uint8().Block(
		Switch(String().Call(Id("s"))).BlockFunc(func(g *Group) {
			for _, v := range fields.Versions {
				g.Case(Lit(v.Name)).Block(Return(Lit(int(v.Number))))
			}
		}),
		Return(Lit(0)),
	)
	return nil
}
