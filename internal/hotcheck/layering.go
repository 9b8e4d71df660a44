package hotcheck

import (
	"go/ast"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Layering enforces the module's package rules.
var Layering = &analysis.Analyzer{
	Name: "layering",
	Doc: `enforce nfkit's package layering and generated-file rules

A package with //nfkit:hot functions imports nothing under the module's
collector/, analyzer/ or cmd/ (the hot path stays a library). decode imports
only the standard library. A file named *_gen.go carries the "Code generated
... DO NOT EDIT." header (gen writes both; its -check, run by make test,
proves the contents), and only such files carry it.`,
	Run: runLayering,
}

// stdOnly lists the packages (relative to the module) that import only the
// standard library; forbidden, what a hot-path package may not import.
var (
	stdOnly   = []string{"decode"}
	forbidden = []string{"collector", "analyzer", "cmd"}
)

func init() {
	Layering.Flags.StringVar(&module, "module", "", "module path (default: the package's module)")
}

func runLayering(pass *analysis.Pass) (any, error) {
	mod := modulePath(pass)
	if mod == "" {
		return nil, nil
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(pass.Pkg.Path(), mod), "/")
	hotPkg := false
	for _, f := range pass.Files {
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if c.Text == dirHot || strings.HasPrefix(c.Text, dirHot+" ") {
					hotPkg = true
				}
			}
		}
	}
	for _, f := range pass.Files {
		name := pass.Fset.Position(f.Package).Filename
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		gen := strings.HasSuffix(name, "_gen.go")
		switch {
		case gen && !ast.IsGenerated(f):
			pass.Reportf(f.Package, "%s is named as a generated file but has no \"Code generated ... DO NOT EDIT.\" header: a hand edit? Run go generate ./... [generated]", filepath.Base(name))
		case !gen && ast.IsGenerated(f) && inModule(mod, pass.Pkg.Path()) && strings.Contains(generatedLine(f), "by gen "):
			pass.Reportf(f.Package, "%s has gen's header but is not named *_gen.go [generated]", filepath.Base(name))
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if rel != "" && containsPkg(stdOnly, rel) && (inModule(mod, path) || strings.Contains(strings.SplitN(path, "/", 2)[0], ".")) {
				pass.Reportf(imp.Pos(), "package %s imports only the standard library, not %s [layering]", rel, path)
			}
			if hotPkg && inModule(mod, path) {
				prel := strings.TrimPrefix(path, mod+"/")
				for _, fb := range forbidden {
					if (prel == fb || strings.HasPrefix(prel, fb+"/")) && rel != fb && !strings.HasPrefix(rel, fb+"/") {
						pass.Reportf(imp.Pos(), "package %s has //nfkit:hot functions and must not import %s (hot-path packages import nothing from %s) [layering]", pass.Pkg.Path(), path, strings.Join(forbidden, "/, ")+"/")
					}
				}
			}
		}
	}
	return nil, nil
}

func containsPkg(list []string, rel string) bool {
	for _, p := range list {
		if rel == p {
			return true
		}
	}
	return false
}

// generatedLine returns the file's "Code generated" comment line.
func generatedLine(f *ast.File) string {
	for _, cg := range f.Comments {
		if cg.Pos() > f.Package {
			break
		}
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "// Code generated ") {
				return c.Text
			}
		}
	}
	return ""
}
