package hotcheck

import (
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/fieldalignment"
	"golang.org/x/tools/go/analysis/passes/inspect"
)

// Align runs fieldalignment over the structs of the hot-path packages.
var Align = &analysis.Analyzer{
	Name: "align",
	Doc: `report structs of the hot-path packages that fieldalignment could make smaller

The packages with //nfkit:hot functions are checked (their non-test files).
Only findings of size count (a struct whose fields, reordered, take fewer
bytes); the order of pointer fields for the garbage collector's scan is not
checked. A struct left unpacked on purpose is listed in alignAllow, with the
reason.`,
	Run:      runAlign,
	Requires: []*analysis.Analyzer{inspect.Analyzer},
}

// alignAllow lists, by package path relative to the module and type name,
// the structs deliberately not packed, and why.
var alignAllow = map[string]string{
	// The decoder's structs wait for the integrator's speed work: the
	// reorderings fieldalignment proposes are in the guards report, to be
	// applied and measured (benchstat) once that work has landed.
	"decode.Packet":               "decoder speed work pending",
	"decode.Flow":                 "generated; its order is the table's (fields/normalized.go); decoder speed work pending",
	"decode.Record":               "decoder speed work pending",
	"decode.Template":             "decoder speed work pending",
	"decode.Element":              "decoder speed work pending",
	"decode.DecodeError":          "exported error type, allocated only on errors; decoder speed work pending",
	"decode.MissingTemplateError": "exported error type, allocated only on errors; decoder speed work pending",
	"decode.stateLine":            "state file lines, not per record",
	// The collector's per-exporter and top-level state: one allocation
	// each, in the same size class packed or not.
	"collector.exporterState": "allocated once per exporter: 128 and 120 bytes are one size class",
	"collector.Collector":     "allocated once: 672 and 664 bytes are one size class",
	// pynetflow's reader, used by nfanalyze, not by the collector's
	// encoder path (pynetflow's hot functions are the writer's).
	"pynetflow.Flow": "the reader's record (nfanalyze), not on the collector's path",
}

// checkedByAlign reports whether the package's structs are checked.
func checkedByAlign(pass *analysis.Pass) bool {
	for _, f := range pass.Files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if c.Text == dirHot || strings.HasPrefix(c.Text, dirHot+" ") {
					return true
				}
			}
		}
	}
	return false
}

func runAlign(pass *analysis.Pass) (any, error) {
	if !checkedByAlign(pass) {
		return nil, nil
	}
	mod := modulePath(pass)
	rel := strings.TrimPrefix(strings.TrimPrefix(pass.Pkg.Path(), mod), "/")
	inner := *pass
	inner.Analyzer = fieldalignment.Analyzer
	inner.Report = func(d analysis.Diagnostic) {
		p := pass.Fset.Position(d.Pos)
		if strings.HasSuffix(p.Filename, "_test.go") || !strings.Contains(d.Message, " has size ") {
			return
		}
		name, _, _ := strings.Cut(d.Message, " ")
		if _, ok := alignAllow[rel+"."+name]; ok {
			return
		}
		d.Message = "struct " + d.Message + "; reorder its fields (fieldalignment's fix), or list it in alignAllow with the reason [align]"
		d.Category = "align"
		pass.Report(d)
	}
	_, err := fieldalignment.Analyzer.Run(&inner)
	return nil, err
}
