// Command deadcheck reports the module's dead code: functions and methods
// of non-test files that no main program and no exported API reaches.
//
//	go run ./internal/cmd/deadcheck [packages]   (default ./...)
//
// It is golang.org/x/tools/cmd/deadcode's analysis (Rapid Type Analysis
// over the SSA form, golang.org/x/tools/go/callgraph/rta) with more roots:
// besides every main package, every exported function and every exported
// method of an exported type of the module's other packages is a root,
// because exported API stays even when nothing in the module calls it.
// So what it reports is neither reachable from a program nor API, nor a
// helper of API: code to delete, or to move into a _test.go file when
// only tests use it. Generated files and marker methods (empty methods
// that seal an interface) are left out, as deadcode does. It prints one
// line per function, in the compiler's format, and exits 1 when there is
// any. With -cache FILE it records the inputs of a clean run there and
// skips the analysis while they stay the same (make test passes .bin/).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"golang.org/x/tools/go/callgraph/rta"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
	"golang.org/x/tools/go/ssa/ssautil"
)

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: deadcheck [packages]")
		flag.PrintDefaults()
	}
	cache := flag.String("cache", "", "file that records the inputs of the last clean run; an unchanged module is not analyzed again")
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	var sum string
	if *cache != "" {
		var err error
		if sum, err = inputSum(patterns); err != nil {
			fmt.Fprintln(os.Stderr, "deadcheck:", err)
			os.Exit(2)
		}
		if old, err := os.ReadFile(*cache); err == nil && string(old) == sum {
			return // the same inputs were clean
		}
	}
	dead, err := deadFuncs("", patterns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deadcheck:", err)
		os.Exit(2)
	}
	for _, d := range dead {
		fmt.Println(d)
	}
	if len(dead) > 0 {
		fmt.Fprintf(os.Stderr, "deadcheck: %d unreachable functions that are not exported API: delete them, or move them to a _test.go file when only tests use them\n", len(dead))
		os.Exit(1)
	}
	if *cache != "" {
		if err := os.MkdirAll(filepath.Dir(*cache), 0o755); err == nil {
			os.WriteFile(*cache, []byte(sum), 0o644)
		}
	}
}

// inputSum hashes what the analysis depends on: the module's non-test Go
// files (found from the module root, without nested modules and testdata),
// go.mod and go.sum (the dependencies' versions), the toolchain and the
// build environment, and the patterns.
func inputSum(patterns []string) (string, error) {
	root, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		up := filepath.Dir(root)
		if up == root {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		root = up
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version(), os.Getenv("GOOS"), os.Getenv("GOARCH"), os.Getenv("GOFLAGS"), os.Getenv("CGO_ENABLED"), strings.Join(patterns, " "))
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			if path != root {
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir // another module
				}
			}
			return nil
		}
		if !(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) && path != filepath.Join(root, "go.mod") && path != filepath.Join(root, "go.sum") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)) + "\n", nil
}

// deadFuncs loads the packages (from dir, "" for the working directory)
// and returns "file:line:col: unreachable func: pkg.name" for each dead
// function of their modules, sorted, with file names relative to dir.
func deadFuncs(dir string, patterns []string) ([]string, error) {
	cfg := &packages.Config{Mode: packages.LoadAllSyntax | packages.NeedModule, Dir: dir}
	initial, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, err
	}
	if len(initial) == 0 {
		return nil, fmt.Errorf("no packages in %s", strings.Join(patterns, " "))
	}
	if packages.PrintErrors(initial) > 0 {
		return nil, fmt.Errorf("packages contain errors")
	}
	modules := map[string]bool{}
	for _, p := range initial {
		if p.Module != nil {
			modules[p.Module.Path] = true
		}
	}
	inModule := func(p *packages.Package) bool { return p.Module != nil && modules[p.Module.Path] }

	prog, _ := ssautil.AllPackages(initial, ssa.InstantiateGenerics)
	var (
		roots     []*ssa.Function
		candidate []*ssa.Function
		marker    = map[*ssa.Function]bool{}
	)
	addRoot := func(fn *ssa.Function) {
		if fn != nil {
			roots = append(roots, fn)
		}
	}
	packages.Visit(initial, nil, func(p *packages.Package) {
		if !inModule(p) {
			return
		}
		isMain := p.Name == "main"
		sp := prog.Package(p.Types)
		if sp != nil {
			addRoot(sp.Func("init"))
			if isMain {
				addRoot(sp.Func("main"))
			}
		}
		ifaceMethods := map[string]bool{}
		scope := p.Types.Scope()
		for _, name := range scope.Names() {
			tn, ok := scope.Lookup(name).(*types.TypeName)
			if !ok {
				continue
			}
			if it, ok := tn.Type().Underlying().(*types.Interface); ok {
				for i := range it.NumMethods() {
					ifaceMethods[it.Method(i).Name()] = true
				}
			}
			// Exported methods of exported types are API.
			if isMain || !tn.Exported() || tn.IsAlias() {
				continue
			}
			if named, ok := tn.Type().(*types.Named); ok && named.TypeParams() == nil {
				for i := range named.NumMethods() {
					if m := named.Method(i); m.Exported() {
						addRoot(prog.FuncValue(m))
					}
				}
			}
		}
		for _, f := range p.Syntax {
			if ast.IsGenerated(f) {
				continue
			}
			for _, decl := range f.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok {
					continue
				}
				obj, ok := p.TypesInfo.Defs[fd.Name].(*types.Func)
				if !ok {
					continue
				}
				sig := obj.Type().(*types.Signature)
				if sig.TypeParams() != nil || sig.RecvTypeParams() != nil {
					continue // generic: instantiated where used
				}
				fn := prog.FuncValue(obj)
				if fn == nil {
					continue
				}
				if !isMain && fd.Recv == nil && obj.Exported() {
					addRoot(fn)
					continue
				}
				if fd.Recv != nil && fd.Body != nil && len(fd.Body.List) == 0 && ifaceMethods[obj.Name()] {
					marker[fn] = true
				}
				candidate = append(candidate, fn)
			}
		}
	})
	prog.Build()
	res := rta.Analyze(roots, false)
	fset := prog.Fset
	live := map[token.Position]bool{}
	for fn := range res.Reachable {
		if fn.Pos().IsValid() {
			live[fset.Position(fn.Pos())] = true
		}
	}
	for _, fn := range roots {
		live[fset.Position(fn.Pos())] = true
	}
	var out []string
	for _, fn := range candidate {
		pos := fset.Position(fn.Pos())
		if live[pos] || marker[fn] {
			continue
		}
		name := fn.Name()
		if recv := fn.Signature.Recv(); recv != nil {
			t := recv.Type()
			if p, ok := t.(*types.Pointer); ok {
				t = p.Elem()
			}
			if n, ok := t.(*types.Named); ok {
				name = n.Obj().Name() + "." + name
			}
		}
		base := dir
		if base == "" {
			base, _ = os.Getwd()
		}
		if rel, err := filepath.Rel(base, pos.Filename); err == nil && !strings.HasPrefix(rel, "..") {
			pos.Filename = filepath.ToSlash(rel)
		}
		out = append(out, fmt.Sprintf("%s: unreachable func: %s.%s", pos, fn.Pkg.Pkg.Name(), name))
	}
	sort.Strings(out)
	return out, nil
}
