package hotcheck

import (
	"go/ast"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/fieldalignment"
	"golang.org/x/tools/go/analysis/passes/inspect"
)

// Align runs fieldalignment over the structs that hot functions touch.
var Align = &analysis.Analyzer{
	Name: "align",
	Doc: `report structs touched by hot functions that fieldalignment could make smaller

The struct types of a package that its //nfkit:hot functions touch (as
receiver, parameter, result, variable, composite literal or through a field
or method selection) are checked. Only findings of size count (a struct
whose fields, reordered, take fewer bytes); the order of pointer fields for
the garbage collector's scan is not checked. A struct left unpacked on
purpose is listed in alignAllow, with the reason.`,
	Run:      runAlign,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
}

// alignAllow lists, by package path relative to the module and type name,
// the structs deliberately not packed, and why.
var alignAllow = map[string]string{
	// The decoder's structs that fieldalignment could shorten only within
	// their allocation size class.
	"decode.Flow":        "generated in the table's order, which keeps the fields written together close; by alignment (8 bytes shorter) decoding softflowd's IPFIX captures measured up to 4.8% slower (benchstat, n=6)",
	"decode.Packet":      "packed or not, the same size class",
	"decode.Element":     "packed or not, the same size class",
	"decode.DecodeError": "exported error type, allocated only on errors; packed or not, the same size class",
	// The collector's per-exporter and top-level state: one allocation
	// each, in the same size class packed or not.
	"collector.exporterState": "allocated once per exporter: 128 and 120 bytes are one size class",
	"collector.Collector":     "allocated once: 672 and 664 bytes are one size class",
	// The Parquet row: its field order is the files' column order.
	"flowparquet.Row": "field order is the Parquet column order of the schema table; used by readers (GenericReader), not on the write path",
}

// hotStructs returns the names of the package's named struct types that
// its hot functions touch: every type of an expression, variable or
// receiver in their declarations and bodies, with pointers, slices,
// arrays and maps looked through.
func hotStructs(pass *analysis.Pass) map[string]bool {
	names := map[string]bool{}
	var add func(t types.Type)
	add = func(t types.Type) {
		for {
			switch u := t.(type) {
			case *types.Pointer:
				t = u.Elem()
				continue
			case *types.Slice:
				t = u.Elem()
				continue
			case *types.Array:
				t = u.Elem()
				continue
			case *types.Map:
				add(u.Key())
				t = u.Elem()
				continue
			}
			break
		}
		n, ok := types.Unalias(t).(*types.Named)
		if !ok || n.Obj().Pkg() != pass.Pkg || names[n.Obj().Name()] {
			return
		}
		if _, ok := n.Underlying().(*types.Struct); ok {
			names[n.Obj().Name()] = true
		}
	}
	for _, f := range pass.Files {
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || !isHot(fd) {
				continue
			}
			ast.Inspect(fd, func(n ast.Node) bool {
				switch n := n.(type) {
				case ast.Expr:
					if t := pass.TypesInfo.TypeOf(n); t != nil {
						add(t)
					}
				}
				return true
			})
		}
	}
	return names
}

// isHot reports whether a function's doc comment has the //nfkit:hot line.
func isHot(fd *ast.FuncDecl) bool {
	if fd.Doc == nil {
		return false
	}
	for _, c := range fd.Doc.List {
		if c.Text == dirHot {
			return true
		}
	}
	return false
}

func runAlign(pass *analysis.Pass) (any, error) {
	hot := hotStructs(pass)
	if len(hot) == 0 {
		return nil, nil
	}
	mod := modulePath(pass)
	rel := strings.TrimPrefix(strings.TrimPrefix(pass.Pkg.Path(), mod), "/")
	allowed := map[string]bool{}
	inner := *pass
	inner.Analyzer = fieldalignment.Analyzer
	inner.Report = func(d analysis.Diagnostic) {
		p := pass.Fset.Position(d.Pos)
		if strings.HasSuffix(p.Filename, "_test.go") || !strings.Contains(d.Message, " has size ") {
			return
		}
		name, _, _ := strings.Cut(d.Message, " ")
		if _, ok := alignAllow[rel+"."+name]; ok {
			allowed[rel+"."+name] = true
			return
		}
		if !hot[name] {
			return
		}
		d.Message = "struct " + d.Message + "; reorder its fields (fieldalignment's fix), or list it in alignAllow with the reason [align]"
		d.Category = "align"
		pass.Report(d)
	}
	if _, err := fieldalignment.Analyzer.Run(&inner); err != nil {
		return nil, err
	}
	// An entry of alignAllow that lifted nothing is stale: the struct
	// was packed, renamed or removed.
	for key := range alignAllow {
		if pkg, name, _ := strings.Cut(key, "."); pkg == rel && !allowed[key] {
			pass.Reportf(pass.Files[0].Package, "alignAllow lists %s, which fieldalignment no longer reports: remove the entry [align]", name)
		}
	}
	return nil, nil
}
