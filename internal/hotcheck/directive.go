package hotcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// The directives, each a comment line of its own.
const (
	dirPrefix = "//nfkit:"
	dirHot    = "//nfkit:hot"
	dirCold   = "//nfkit:cold"
	dirAllow  = "//nfkit:allow"
)

// A mark is what a directive says about a function.
type mark uint8

const (
	unmarked mark = iota
	hot
	cold
)

// markFact records a function's mark for the packages that call it.
type markFact struct{ Mark mark }

func (*markFact) AFact() {}

func (f *markFact) String() string {
	if f.Mark == hot {
		return "hot"
	}
	return "cold"
}

// An allowance is one //nfkit:allow comment: the rules it lifts on its
// own line and the next.
type allowance struct {
	pos   token.Pos
	line  int
	rules []string
	used  bool
}

// directives is what the directives of one package say.
type directives struct {
	marks  map[*types.Func]mark
	hotFns []*ast.FuncDecl
	allows map[string][]*allowance // by file name
}

// readDirectives finds the directives of the package, reports misplaced
// or malformed ones, and exports a fact for every marked function.
func readDirectives(pass *analysis.Pass) *directives {
	ds := &directives{marks: map[*types.Func]mark{}, allows: map[string][]*allowance{}}
	for _, file := range pass.Files {
		docs := map[*ast.Comment]*ast.FuncDecl{}
		for _, decl := range file.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Doc != nil {
				for _, c := range fd.Doc.List {
					docs[c] = fd
				}
			}
		}
		seen := map[*ast.FuncDecl]mark{}
		for _, cg := range file.Comments {
			for _, c := range cg.List {
				if !strings.HasPrefix(c.Text, dirPrefix) {
					continue
				}
				name, arg, _ := strings.Cut(c.Text, " ")
				arg = strings.TrimSpace(arg)
				switch name {
				case dirHot, dirCold:
					fd := docs[c]
					if fd == nil {
						pass.Reportf(c.Pos(), "%s must be a line of a function's doc comment [directive]", name)
						continue
					}
					m := hot
					if name == dirCold {
						m = cold
						if arg == "" {
							pass.Reportf(c.Pos(), "%s needs a reason: why %s is off the hot path [directive]", dirCold, funcName(fd))
						}
					}
					if old, ok := seen[fd]; ok && old != m {
						pass.Reportf(c.Pos(), "%s is marked both %s and %s [directive]", funcName(fd), dirHot, dirCold)
						continue
					}
					seen[fd] = m
					fn, ok := pass.TypesInfo.Defs[fd.Name].(*types.Func)
					if !ok {
						continue
					}
					if _, dup := ds.marks[fn]; !dup {
						ds.marks[fn] = m
						pass.ExportObjectFact(fn, &markFact{Mark: m})
						if m == hot && fd.Body != nil {
							ds.hotFns = append(ds.hotFns, fd)
						}
					}
				case dirAllow:
					ruleList, reason, _ := strings.Cut(arg, " ")
					if ruleList == "" || strings.TrimSpace(reason) == "" {
						pass.Reportf(c.Pos(), "%s needs a rule and a reason: %s RULE[,RULE] why [directive]", dirAllow, dirAllow)
						continue
					}
					a := &allowance{pos: c.Pos(), line: pass.Fset.Position(c.Pos()).Line}
					for _, r := range strings.Split(ruleList, ",") {
						if !knownRule(r) {
							pass.Reportf(c.Pos(), "%s: unknown rule %q [directive]", dirAllow, r)
							continue
						}
						a.rules = append(a.rules, r)
					}
					fname := pass.Fset.Position(c.Pos()).Filename
					ds.allows[fname] = append(ds.allows[fname], a)
				default:
					pass.Reportf(c.Pos(), "unknown directive %s (known: %s, %s, %s) [directive]", name, dirHot, dirCold, dirAllow)
				}
			}
		}
	}
	return ds
}

// allowed reports whether an //nfkit:allow comment on the line of pos or
// the line before lifts rule there, and marks it used.
func (ds *directives) allowed(pass *analysis.Pass, pos token.Pos, rule string) bool {
	p := pass.Fset.Position(pos)
	for _, a := range ds.allows[p.Filename] {
		if a.line != p.Line && a.line != p.Line-1 {
			continue
		}
		for _, r := range a.rules {
			if r == rule {
				a.used = true
				return true
			}
		}
	}
	return false
}

// reportUnused reports //nfkit:allow comments that lifted nothing, so that
// none outlives the code it excused.
func (ds *directives) reportUnused(pass *analysis.Pass) {
	for _, as := range ds.allows {
		for _, a := range as {
			if !a.used && len(a.rules) > 0 {
				pass.Reportf(a.pos, "%s %s lifts nothing here; remove it [directive]", dirAllow, strings.Join(a.rules, ","))
			}
		}
	}
}

// funcName is the name of a function declaration as diagnostics show it:
// f, T.m or (*T).m.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	star := false
	if s, ok := t.(*ast.StarExpr); ok {
		star, t = true, s.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	recv := "?"
	if id, ok := t.(*ast.Ident); ok {
		recv = id.Name
	}
	if star {
		return "(*" + recv + ")." + fd.Name.Name
	}
	return recv + "." + fd.Name.Name
}
