package main

import (
	"fmt"
	"strings"

	. "github.com/dave/jennifer/jen"

	"github.com/nfkit/nfkit/fields"
)

// genSFlowJSON emits flowjson/sflow_gen.go: the writers of the sFlow keys
// of fields/sflow.go. The hand-written half (flowjson/sflow.go) writes the
// records around them.
func genSFlowJSON(f *File) error {
	f.Comment("The versions of sFlow records in decode and in fields must agree.")
	f.Func().Id("_").Params().Block(
		Var().Id("x").Index(Lit(1)).Struct(),
		Id("_").Op("=").Id("x").Index(Qual(decodePkg, "VersionSFlow5").Op("-").Lit(fields.SFlowVersion)),
		Id("_").Op("=").Id("x").Index(Qual(decodePkg, "VersionSFlow5Counters").Op("-").Lit(fields.SFlowCountersVersion)),
	)
	for _, w := range []struct {
		name, typ, doc string
		keys           []fields.SFlowKey
	}{
		{"appendSFlowSample", "SFlowSample", "an sFlow flow sample's keys (fields.SFlowFlowKeys)", fields.SFlowFlowKeys},
		{"appendSFlowCounters", "SFlowCounters", "an sFlow counter sample's keys (fields.SFlowCounterKeys)", fields.SFlowCounterKeys},
	} {
		var err error
		f.Comment(fmt.Sprintf("%s appends %s.", w.name, w.doc))
		hotDirective(f)
		f.Func().Id(w.name).Params(Id("b").Index().Byte(), Id("p").Op("*").Qual(decodePkg, "Packet"), Id("s").Op("*").Qual(decodePkg, w.typ)).Index().Byte().BlockFunc(func(g *Group) {
			for _, k := range w.keys {
				if e := sflowKey(g, k); e != nil && err == nil {
					err = e
				}
			}
			g.Return(Id("b"))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sflowValue is the expression of a key's field.
func sflowValue(field string) *Statement {
	if rest, ok := strings.CutPrefix(field, "Packet."); ok {
		return Id("p").Dot(rest)
	}
	v := Id("s")
	for _, part := range strings.Split(field, ".") {
		v = v.Dot(part)
	}
	return v
}

func sflowKey(g *Group, k fields.SFlowKey) error {
	src := sflowValue(k.Field)
	text := `,"` + k.JSON + `":`
	var val []Code
	switch k.Kind {
	case fields.ValueUint:
		val = append(val, Id("b").Op("=").Qual("strconv", "AppendUint").Call(Id("b"), Uint64().Call(src), Lit(10)))
	case fields.ValueAddr:
		text += `"`
		val = append(val,
			Id("b").Op("=").Add(src).Dot("Unmap").Call().Dot("AppendTo").Call(Id("b")),
			Id("b").Op("=").Append(Id("b"), LitRune('"')))
	case fields.ValueList:
		val = append(val, Id("b").Op("=").Id("appendUintList").Call(Id("b"), src))
	default:
		return fmt.Errorf("sFlow key %s: kind %d cannot be written", k.JSON, k.Kind)
	}
	stmts := append([]Code{Id("b").Op("=").Append(Id("b"), Lit(text).Op("..."))}, val...)
	switch {
	case k.When == "":
		for _, st := range stmts {
			g.Add(st)
		}
	case k.When == "nonzero":
		g.If(Add(src).Op("!=").Lit(0)).Block(stmts...)
	case strings.HasPrefix(k.When, "nonzero:"):
		g.If(Add(sflowValue(strings.TrimPrefix(k.When, "nonzero:"))).Op("!=").Lit(0)).Block(stmts...)
	case strings.HasPrefix(k.When, "has:"):
		g.If(Id("s").Dot("Has").Op("&").Qual(decodePkg, strings.TrimPrefix(k.When, "has:")).Op("!=").Lit(0)).Block(stmts...)
	default:
		return fmt.Errorf("sFlow key %s: condition %q", k.JSON, k.When)
	}
	return nil
}
