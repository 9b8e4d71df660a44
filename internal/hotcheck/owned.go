package hotcheck

import (
	"go/ast"
	"go/token"
	"go/types"
)

// ownedVars returns the variables of fd that hold state the caller owns
// and reuses: the receiver, the parameters and results, and the locals
// every assignment of which is reached from them (s := d.buf[:0],
// r := &p.Records[i], b = appendBody(b, r)).
func ownedVars(info *types.Info, fd *ast.FuncDecl) map[*types.Var]bool {
	owned := map[*types.Var]bool{}
	for _, fl := range []*ast.FieldList{fd.Recv, fd.Type.Params, fd.Type.Results} {
		if fl == nil {
			continue
		}
		for _, f := range fl.List {
			for _, n := range f.Names {
				if v, ok := info.Defs[n].(*types.Var); ok {
					owned[v] = true
				}
			}
		}
	}
	// The sources assigned to each local: the root variable of each
	// right-hand side (nil when it has none).
	sources := map[*types.Var][]*types.Var{}
	assign := func(lhs ast.Expr, rhs ast.Expr) {
		id, ok := ast.Unparen(lhs).(*ast.Ident)
		if !ok {
			return
		}
		v, ok := info.ObjectOf(id).(*types.Var)
		if !ok || owned[v] && info.Defs[id] == nil && isParam(fd, v) {
			return
		}
		var root *types.Var
		if rhs != nil {
			root = rootVar(info, rhs)
		}
		sources[v] = append(sources[v], root)
	}
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			// A literal's parameters hold what the hot function passes
			// it: its own state, or the literal captures (reported).
			for _, f := range n.Type.Params.List {
				for _, name := range f.Names {
					if v, ok := info.Defs[name].(*types.Var); ok {
						owned[v] = true
					}
				}
			}
			return true
		case *ast.AssignStmt:
			if n.Tok != token.ASSIGN && n.Tok != token.DEFINE {
				return true
			}
			for i, l := range n.Lhs {
				var r ast.Expr
				if len(n.Lhs) == len(n.Rhs) {
					r = n.Rhs[i]
				}
				assign(l, r)
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if i < len(n.Values) && len(n.Names) == len(n.Values) {
					assign(name, n.Values[i])
				}
			}
		case *ast.RangeStmt:
			if n.Key != nil {
				assign(n.Key, nil)
			}
			if n.Value != nil {
				assign(n.Value, n.X)
			}
		}
		return true
	})
	for changed := true; changed; {
		changed = false
		for v, srcs := range sources {
			if owned[v] {
				continue
			}
			ok, some := true, false
			for _, s := range srcs {
				switch {
				case s == v:
				case s != nil && owned[s]:
					some = true
				default:
					ok = false
				}
			}
			if ok && some {
				owned[v] = true
				changed = true
			}
		}
	}
	return owned
}

func isParam(fd *ast.FuncDecl, v *types.Var) bool {
	return v.Pos() >= fd.Type.Pos() && v.Pos() < fd.Type.End() ||
		fd.Recv != nil && v.Pos() >= fd.Recv.Pos() && v.Pos() < fd.Recv.End()
}

// rootVar returns the variable an expression's value is reached from, or
// nil: x for x, x.f, x[i], x[i:j], *x, &x.f, append(x, …), T(x), and
// f(x, …) when f returns x's type (a buffer passed through).
func rootVar(info *types.Info, e ast.Expr) *types.Var {
	for {
		switch x := e.(type) {
		case *ast.ParenExpr:
			e = x.X
		case *ast.Ident:
			v, _ := info.ObjectOf(x).(*types.Var)
			if v != nil && v.Parent() == v.Pkg().Scope() {
				return nil // a package variable is nobody's reused state
			}
			return v
		case *ast.SelectorExpr:
			if sel, ok := info.Selections[x]; !ok || sel.Kind() != types.FieldVal {
				return nil
			}
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.SliceExpr:
			e = x.X
		case *ast.StarExpr:
			e = x.X
		case *ast.TypeAssertExpr:
			e = x.X
		case *ast.UnaryExpr:
			if x.Op != token.AND {
				return nil
			}
			e = x.X
		case *ast.CallExpr:
			if len(x.Args) == 0 {
				return nil
			}
			tv := info.Types[x.Fun]
			switch {
			case tv.IsType():
			case tv.IsBuiltin():
				if id, ok := ast.Unparen(x.Fun).(*ast.Ident); !ok || id.Name != "append" {
					return nil
				}
			default:
				if !types.Identical(info.TypeOf(x), info.TypeOf(x.Args[0])) {
					return nil
				}
			}
			e = x.Args[0]
		default:
			return nil
		}
	}
}

// isOwned reports whether e is reached from the function's owned state.
func (c *checker) isOwned(e ast.Expr) bool {
	v := rootVar(c.pass.TypesInfo, e)
	return v != nil && c.owned[v]
}
