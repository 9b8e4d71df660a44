package main

import (
	"fmt"

	. "github.com/dave/jennifer/jen"

	"github.com/nfkit/nfkit/fields"
)

const decodePkg = modPath + "/decode"

// genFlowJSON emits the generated half of package flowjson: the writers of
// the schema's envelope, normalized and trailer keys. The hand-written half
// (flowjson/encode.go) adds the template's other fields.
func genFlowJSON(f *File) error {
	bits := flowBits()
	maxLen := 0
	for _, n := range bits {
		if n.JSON == "" {
			continue
		}
		maxLen += len(n.JSON) + 4
		switch n.Kind {
		case fields.KindAddr:
			maxLen += 2 + 45
		case fields.KindMAC:
			maxLen += 2 + 17
		default:
			maxLen += 20
		}
	}
	f.Comment("flowMax bounds the bytes AppendFlow writes.")
	f.Const().Id("flowMax").Op("=").Lit(maxLen)
	f.Comment("AppendFlow appends `,\"key\":value` for every present normalized field that is a")
	f.Comment("key of the schema (docs/output-schema.md): integers as numbers, addresses and")
	f.Comment("MACs as strings. Keys are written as constant word stores (the comment beside")
	f.Comment("each names the key) and values with the put helpers, after growing b once: no")
	f.Comment("per-field append or memmove.")
	hotDirective(f)
	f.Func().Id("AppendFlow").Params(Id("b").Index().Byte(), Id("f").Op("*").Qual(decodePkg, "Flow")).Index().Byte().BlockFunc(func(g *Group) {
		g.Id("b").Op("=").Qual("slices", "Grow").Call(Id("b"), Id("flowMax"))
		g.Id("n").Op(":=").Len(Id("b"))
		g.Id("b").Op("=").Id("b").Index(Empty(), Cap(Id("b")))
		g.Id("h").Op(":=").Id("f").Dot("Has")
		for _, n := range bits {
			if n.JSON == "" {
				continue
			}
			body := putConst(`,"` + n.JSON + `":`)
			v := Id("f").Dot(n.Name)
			switch n.Kind {
			case fields.KindUint:
				body = append(body, Id("n").Op("=").Id("putUint").Call(Id("b"), Id("n"), Uint64().Call(v)))
			case fields.KindTime:
				body = append(body, Id("n").Op("=").Id("putInt").Call(Id("b"), Id("n"), v))
			case fields.KindAddr:
				body = append(body, Id("n").Op("=").Id("putAddr").Call(Id("b"), Id("n"), v))
			case fields.KindMAC:
				body = append(body, Id("n").Op("=").Id("putMAC").Call(Id("b"), Id("n"), v))
			default:
				return
			}
			g.If(Id("h").Op("&").Qual(decodePkg, "Has"+n.Name).Op("!=").Lit(0)).Block(body...)
		}
		g.Return(Id("b").Index(Empty(), Id("n")))
	})

	f.Comment("VersionName returns the \"type\" value of an export version (NETFLOW_V9, IPFIX, …),")
	f.Comment("or UNKNOWN.")
	hotDirective(f)
	f.Func().Id("VersionName").Params(Id("v").Uint16()).String().Block(
		Switch(Id("v")).BlockFunc(func(g *Group) {
			for _, v := range fields.Versions {
				g.Case(Lit(int(v.Number))).Block(Return(Lit(v.Name)))
			}
		}),
		Return(Lit("UNKNOWN")),
	)
	f.Comment("appendVersion appends the \"type\" value of an export version, quoted.")
	hotDirective(f)
	f.Func().Id("appendVersion").Params(Id("b").Index().Byte(), Id("v").Uint16()).Index().Byte().Block(
		Id("b").Op("=").Append(Id("b"), LitRune('"')),
		Id("b").Op("=").Append(Id("b"), Id("VersionName").Call(Id("v")).Op("...")),
		Return(Append(Id("b"), LitRune('"'))),
	)

	var packet, record []fields.Key
	for i, k := range fields.Envelope {
		if k.Packet && len(record) == 0 {
			packet = append(packet, k)
			continue
		}
		if k.Packet {
			return fmt.Errorf("envelope key %s: per-packet keys must come first", k.JSON)
		}
		record = append(record, fields.Envelope[i])
	}
	if len(packet) == 0 || !packet[0].Always {
		return fmt.Errorf("the first envelope key must be per-packet and always present")
	}
	f.Comment("appendPacketKeys appends the opening brace and the envelope keys whose values")
	f.Comment("are the same for every record of an export packet.")
	hotDirective(f)
	f.Func().Id("appendPacketKeys").Params(Id("b").Index().Byte(), Id("r").Op("*").Qual(decodePkg, "Record"), Id("received").Int64()).Index().Byte().BlockFunc(func(g *Group) {
		for i, k := range packet {
			sep := ","
			if i == 0 {
				sep = "{"
			}
			if err := appendKey(g, k, sep); err != nil {
				panic(err)
			}
		}
		g.Return(Id("b"))
	})
	f.Comment("appendRecordKeys appends the rest of the envelope, the normalized keys and the")
	f.Comment("trailer keys of a record.")
	hotDirective(f)
	f.Func().Id("appendRecordKeys").Params(Id("b").Index().Byte(), Id("r").Op("*").Qual(decodePkg, "Record")).Index().Byte().BlockFunc(func(g *Group) {
		for _, k := range record {
			if err := appendKey(g, k, ","); err != nil {
				panic(err)
			}
		}
		g.Id("b").Op("=").Id("AppendFlow").Call(Id("b"), Op("&").Id("r").Dot("Flow"))
		for _, k := range fields.Trailer {
			if err := appendKey(g, k, ","); err != nil {
				panic(err)
			}
		}
		g.Return(Id("b"))
	})
	return nil
}

// appendKey emits the statements that append one envelope or trailer key
// and its value, behind a test for zero unless the key is always present.
func appendKey(g *Group, k fields.Key, sep string) error {
	src := Id("r").Dot(k.Field)
	if k.Field == "Received" {
		src = Id("received")
	}
	var val []Code
	text := sep + `"` + k.JSON + `":`
	switch k.Kind {
	case fields.ValueUint:
		val = append(val, Id("b").Op("=").Qual("strconv", "AppendUint").Call(Id("b"), Uint64().Call(src), Lit(10)))
	case fields.ValueInt:
		val = append(val, Id("b").Op("=").Qual("strconv", "AppendInt").Call(Id("b"), Int64().Call(src), Lit(10)))
	case fields.ValueAddr:
		text += `"`
		val = append(val,
			Id("b").Op("=").Add(src).Dot("Unmap").Call().Dot("AppendTo").Call(Id("b")),
			Id("b").Op("=").Append(Id("b"), LitRune('"')))
	case fields.ValueVersion:
		val = append(val, Id("b").Op("=").Id("appendVersion").Call(Id("b"), src))
	default:
		return fmt.Errorf("key %s: kind %d cannot be written", k.JSON, k.Kind)
	}
	stmts := append([]Code{Id("b").Op("=").Append(Id("b"), Lit(text).Op("..."))}, val...)
	if k.Always {
		for _, st := range stmts {
			g.Add(st)
		}
		return nil
	}
	g.If(Add(src).Op("!=").Lit(0)).Block(stmts...)
	return nil
}

// putConst returns statements that store the constant s at b[n:] with
// little-endian word stores and advance n. The first store carries s as
// its comment, so that the key text can be found in the generated code.
func putConst(s string) []Code {
	var out []Code
	off := 0
	at := func() *Statement {
		if off == 0 {
			return Id("b").Index(Id("n"), Empty())
		}
		return Id("b").Index(Id("n").Op("+").Lit(off), Empty())
	}
	for off < len(s) {
		rest := len(s) - off
		var w int
		var fn string
		switch {
		case rest >= 8:
			w, fn = 8, "PutUint64"
		case rest >= 4:
			w, fn = 4, "PutUint32"
		case rest >= 2:
			w, fn = 2, "PutUint16"
		default:
			w = 1
		}
		var st *Statement
		if w == 1 {
			at := Id("b").Index(Id("n"))
			if off > 0 {
				at = Id("b").Index(Id("n").Op("+").Lit(off))
			}
			st = at.Op("=").LitRune(rune(s[off]))
		} else {
			var v uint64
			for i := w - 1; i >= 0; i-- {
				v = v<<8 | uint64(s[off+i])
			}
			st = Qual(binPkg, "LittleEndian").Dot(fn).Call(at(), Id(fmt.Sprintf("%#x", v)))
		}
		if off == 0 {
			st.Comment(s)
		}
		out = append(out, st)
		off += w
	}
	return append(out, Id("n").Op("+=").Lit(len(s)))
}
