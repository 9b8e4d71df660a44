// Package hotcheck holds nfkit's static guards (go/analysis passes), run
// by `make test` through the vet tool internal/cmd/nfkitvet:
//
//   - Analyzer (hotcheck) checks the functions marked //nfkit:hot, the
//     ones that run per packet or per record, for what allocates or
//     escapes on paths that the allocation tests may never feed;
//   - Layering keeps the hot-path packages free of collector, analyzer
//     and cmd imports, decode on the standard library alone, and the
//     generated files recognisable as such;
//   - Align runs fieldalignment over the structs that hot functions
//     touch, with an allow-list of the structs left unpacked on purpose.
//
// A function is marked by a line of its doc comment:
//
//	// decodeData decodes the records of one data set ...
//	//
//	//nfkit:hot
//	func (d *Decoder) decodeData(...)
//
// A hot function may call, within the module, only functions marked
// //nfkit:hot (checked in turn) or //nfkit:cold (off the hot path: a
// reason must follow the directive, e.g. "//nfkit:cold once per
// template"). A single deliberate exception is lifted by
// "//nfkit:allow RULE reason" on the line of the finding or the line
// before; an allowance that lifts nothing is reported.
package hotcheck

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/typeutil"
)

// The rules of Analyzer, named in every finding.
const (
	ruleFmt      = "fmt"      // any use of package fmt
	ruleReflect  = "reflect"  // any use of package reflect
	ruleErrors   = "errors"   // errors.New, errors.Join, fmt.Errorf: an error made per call
	ruleIface    = "iface"    // a non-pointer value converted to an interface
	ruleClosure  = "closure"  // a function literal capturing variables, a method value
	ruleAppend   = "append"   // append to a slice not reached from the parameters
	ruleMapWrite = "mapwrite" // an assignment to a map element
	ruleDefer    = "defer"    // a defer statement
	ruleGo       = "go"       // a go statement
	ruleConcat   = "concat"   // string concatenation
	ruleConvert  = "convert"  // a []byte/[]rune ↔ string conversion that copies
	ruleMake     = "make"     // make: a new slice, map or channel
	ruleString   = "string"   // a call that returns a new string: String, Error, strconv.Itoa, …
	ruleCallee   = "callee"   // a call of an unmarked function of the module
)

var rules = []string{ruleFmt, ruleReflect, ruleErrors, ruleIface, ruleClosure, ruleAppend,
	ruleMapWrite, ruleDefer, ruleGo, ruleConcat, ruleConvert, ruleMake, ruleString, ruleCallee}

func knownRule(r string) bool { return slices.Contains(rules, r) }

// Analyzer checks the functions marked //nfkit:hot.
var Analyzer = &analysis.Analyzer{
	Name: "hotcheck",
	Doc: `check that functions marked //nfkit:hot neither allocate nor escape

A function whose doc comment has the line //nfkit:hot runs per packet or per
record. hotcheck reports in it: uses of fmt and reflect; errors made per call
(errors.New, errors.Join, fmt.Errorf) instead of prepared ones; non-pointer
values converted to interfaces; function literals capturing variables and
method values; append
to a slice not reached from the parameters or receiver (the reused state);
map writes; defer and go statements; string concatenation; []byte/string
conversions that copy; make; calls that return a new string (String and Error
methods, strconv.Itoa, strings.Join, …); and calls of functions of the module that are
marked neither //nfkit:hot nor //nfkit:cold. "//nfkit:allow RULE reason" lifts
one rule on its line and the next.`,
	Run:       run,
	FactTypes: []analysis.Fact{new(markFact)},
}

// module overrides the module path (for tests, whose packages have none).
var module string

func init() {
	Analyzer.Flags.StringVar(&module, "module", "", "module path whose functions must be marked (default: the package's module)")
}

func modulePath(pass *analysis.Pass) string {
	if module != "" {
		return module
	}
	if pass.Module != nil {
		return pass.Module.Path
	}
	return ""
}

func inModule(mod, path string) bool {
	return mod != "" && (path == mod || strings.HasPrefix(path, mod+"/"))
}

func run(pass *analysis.Pass) (any, error) {
	ds := readDirectives(pass)
	for _, fd := range ds.hotFns {
		c := &checker{pass: pass, ds: ds, fd: fd, name: funcName(fd), mod: modulePath(pass)}
		c.check()
	}
	ds.reportUnused(pass)
	return nil, nil
}

// checker checks one hot function.
type checker struct {
	pass  *analysis.Pass
	ds    *directives
	fd    *ast.FuncDecl
	name  string
	mod   string
	owned map[*types.Var]bool
	sigs  []*types.Signature // of the enclosing function and literals
	// callees are the unmarked callees reported, each once.
	callees map[*types.Func]bool
}

func (c *checker) report(pos token.Pos, rule, format string, args ...any) {
	if c.ds.allowed(c.pass, pos, rule) {
		return
	}
	args = append([]any{c.name}, args...)
	args = append(args, rule)
	c.pass.Reportf(pos, "hot function %s: "+format+" [%s]", args...)
}

func (c *checker) check() {
	info := c.pass.TypesInfo
	c.owned = ownedVars(info, c.fd)
	sig, _ := info.TypeOf(c.fd.Name).(*types.Signature)
	if sig == nil {
		if fn, ok := info.Defs[c.fd.Name].(*types.Func); ok {
			sig = fn.Type().(*types.Signature)
		}
	}
	c.sigs = []*types.Signature{sig}
	var stack []ast.Node
	ast.Inspect(c.fd.Body, func(n ast.Node) bool {
		if n == nil {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if _, ok := top.(*ast.FuncLit); ok {
				c.sigs = c.sigs[:len(c.sigs)-1]
			}
			return false
		}
		var parent ast.Node
		if len(stack) > 0 {
			parent = stack[len(stack)-1]
		}
		stack = append(stack, n)
		c.node(n, parent)
		return true
	})
}

func (c *checker) node(n, parent ast.Node) {
	info := c.pass.TypesInfo
	switch n := n.(type) {
	case *ast.SelectorExpr:
		c.selector(n)
		c.methodValue(n, parent)
	case *ast.CallExpr:
		c.call(n, parent)
	case *ast.FuncLit:
		c.funcLit(n)
		sig, _ := info.TypeOf(n).(*types.Signature)
		c.sigs = append(c.sigs, sig)
	case *ast.DeferStmt:
		c.report(n.Pos(), ruleDefer, "defer")
	case *ast.GoStmt:
		c.report(n.Pos(), ruleGo, "starts a goroutine")
	case *ast.AssignStmt:
		for _, l := range n.Lhs {
			c.mapWrite(l)
		}
		if n.Tok == token.ADD_ASSIGN && isString(info.TypeOf(n.Lhs[0])) {
			c.report(n.Pos(), ruleConcat, "concatenates strings (+=)")
		}
		if n.Tok == token.ASSIGN && len(n.Lhs) == len(n.Rhs) {
			for i, l := range n.Lhs {
				c.toIface(n.Rhs[i], info.TypeOf(l), "assigned")
			}
		}
	case *ast.IncDecStmt:
		c.mapWrite(n.X)
	case *ast.BinaryExpr:
		if n.Op == token.ADD && isString(info.TypeOf(n)) && info.Types[n].Value == nil {
			if _, inner := parent.(*ast.BinaryExpr); !inner || parent.(*ast.BinaryExpr).Op != token.ADD {
				c.report(n.Pos(), ruleConcat, "concatenates strings")
			}
		}
	case *ast.ReturnStmt:
		sig := c.sigs[len(c.sigs)-1]
		if sig != nil && len(n.Results) == sig.Results().Len() {
			for i, r := range n.Results {
				c.toIface(r, sig.Results().At(i).Type(), "returned")
			}
		}
	case *ast.CompositeLit:
		c.compositeLit(n)
	case *ast.SendStmt:
		if ch, ok := under(info.TypeOf(n.Chan)).(*types.Chan); ok {
			c.toIface(n.Value, ch.Elem(), "sent")
		}
	case *ast.ValueSpec:
		if n.Type != nil {
			t := info.TypeOf(n.Type)
			for _, v := range n.Values {
				c.toIface(v, t, "assigned")
			}
		}
	}
}

// selector reports uses of fmt, reflect and the error constructors.
func (c *checker) selector(sel *ast.SelectorExpr) {
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return
	}
	pn, ok := c.pass.TypesInfo.Uses[id].(*types.PkgName)
	if !ok {
		return
	}
	name := pn.Imported().Path() + "." + sel.Sel.Name
	switch {
	case name == "fmt.Errorf", name == "errors.New", name == "errors.Join":
		c.report(sel.Pos(), ruleErrors, "makes an error per call (%s); return a prepared sentinel or error value", name)
	case pn.Imported().Path() == "fmt":
		c.report(sel.Pos(), ruleFmt, "uses %s", name)
	case pn.Imported().Path() == "reflect":
		c.report(sel.Pos(), ruleReflect, "uses %s", name)
	}
}

func (c *checker) call(call *ast.CallExpr, parent ast.Node) {
	info := c.pass.TypesInfo
	tv := info.Types[call.Fun]
	switch {
	case tv.IsType():
		if len(call.Args) == 1 {
			c.conversion(call, parent)
		}
		return
	case tv.IsBuiltin():
		id, _ := ast.Unparen(call.Fun).(*ast.Ident)
		if id == nil {
			return
		}
		switch id.Name {
		case "append":
			if len(call.Args) > 0 && !c.isOwned(call.Args[0]) {
				c.report(call.Pos(), ruleAppend, "appends to %s, which is not reached from the parameters or the receiver (reused state): a new slice allocates", exprString(call.Args[0]))
			}
		case "make":
			c.report(call.Pos(), ruleMake, "make allocates; reuse a buffer of the caller's state")
		}
		return
	}
	if sig, ok := under(tv.Type).(*types.Signature); ok {
		c.args(call, sig)
	}
	c.newString(call)
	fn := typeutil.StaticCallee(info, call)
	if fn == nil {
		return
	}
	fn = fn.Origin()
	if fn.Pkg() == nil || !(fn.Pkg() == c.pass.Pkg || inModule(c.mod, fn.Pkg().Path())) {
		return
	}
	if m, ok := c.ds.marks[fn]; ok && m != unmarked {
		return
	}
	var f markFact
	if c.pass.ImportObjectFact(fn, &f) {
		return
	}
	if c.callees[fn] {
		return
	}
	if c.callees == nil {
		c.callees = map[*types.Func]bool{}
	}
	c.callees[fn] = true
	c.report(call.Pos(), ruleCallee, "calls %s, which is marked neither %s nor %s", calleeName(fn), dirHot, dirCold)
}

// stringMakers are the functions of the standard library that return a
// new string or slice on every call (the Append forms write into a
// caller's buffer instead).
var stringMakers = map[string]bool{
	"strconv.Itoa": true, "strconv.FormatInt": true, "strconv.FormatUint": true,
	"strconv.FormatFloat": true, "strconv.Quote": true, "strconv.QuoteToASCII": true,
	"strconv.QuoteRune": true, "strings.Join": true, "strings.Repeat": true,
	"strings.Replace": true, "strings.ReplaceAll": true, "strings.ToLower": true,
	"strings.ToUpper": true, "strings.Split": true, "strings.SplitN": true,
	"strings.Fields": true, "bytes.Split": true, "bytes.Fields": true,
	"bytes.Clone": true, "strings.Clone": true, "encoding/hex.EncodeToString": true,
}

// newString reports calls that return a new string: String and Error
// methods (but strings.Builder's), and the standard functions listed in
// stringMakers.
func (c *checker) newString(call *ast.CallExpr) {
	info := c.pass.TypesInfo
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return
	}
	if s, ok := info.Selections[sel]; ok && s.Kind() == types.MethodVal {
		name := sel.Sel.Name
		sig, _ := s.Type().(*types.Signature)
		if (name == "String" || name == "Error") && sig != nil && sig.Params().Len() == 0 &&
			sig.Results().Len() == 1 && isString(sig.Results().At(0).Type()) {
			if n, ok := types.Unalias(derefType(s.Recv())).(*types.Named); ok && n.Obj().Pkg() != nil &&
				n.Obj().Pkg().Path() == "strings" && n.Obj().Name() == "Builder" {
				return
			}
			c.report(call.Pos(), ruleString, "%s makes a new string; append into the caller's buffer instead", exprString(call))
		}
		return
	}
	fn, ok := info.Uses[sel.Sel].(*types.Func)
	if !ok || fn.Pkg() == nil {
		return
	}
	if name := fn.Pkg().Path() + "." + fn.Name(); stringMakers[name] {
		c.report(call.Pos(), ruleString, "%s makes a new string or slice per call; use an Append form into the caller's buffer", name)
	}
}

func derefType(t types.Type) types.Type {
	if p, ok := t.(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}

// args reports arguments converted to interface parameters.
func (c *checker) args(call *ast.CallExpr, sig *types.Signature) {
	params := sig.Params()
	for i, a := range call.Args {
		var t types.Type
		switch {
		case sig.Variadic() && i >= params.Len()-1:
			last := params.At(params.Len() - 1).Type()
			if call.Ellipsis.IsValid() {
				t = last
			} else if s, ok := last.(*types.Slice); ok {
				t = s.Elem()
			}
		case i < params.Len():
			t = params.At(i).Type()
		}
		if t != nil {
			c.toIface(a, t, "passed")
		}
	}
}

// conversion checks an explicit conversion T(x).
func (c *checker) conversion(call *ast.CallExpr, parent ast.Node) {
	info := c.pass.TypesInfo
	to, arg := info.TypeOf(call), call.Args[0]
	from := info.TypeOf(arg)
	if to == nil || from == nil {
		return
	}
	if types.IsInterface(to) {
		c.toIface(arg, to, "converted")
		return
	}
	if info.Types[arg].Value != nil {
		return // a constant: converted at compile time
	}
	copies := isString(to) && (isByteOrRuneSlice(from) || isInteger(from)) ||
		isByteOrRuneSlice(to) && isString(from)
	if !copies || noCopyContext(info, call, parent) {
		return
	}
	c.report(call.Pos(), ruleConvert, "converts %s to %s, which copies", from, to)
}

// noCopyContext reports whether the compiler converts a []byte to string
// without copying where conv appears: a map index, a comparison, a range.
func noCopyContext(info *types.Info, conv *ast.CallExpr, parent ast.Node) bool {
	switch p := parent.(type) {
	case *ast.IndexExpr:
		_, isMap := under(info.TypeOf(p.X)).(*types.Map)
		return isMap && p.Index == conv
	case *ast.BinaryExpr:
		switch p.Op {
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
			return true
		}
	case *ast.RangeStmt:
		return p.X == conv
	}
	return false
}

// toIface reports e when it is a non-pointer value that becomes an
// interface of type to.
func (c *checker) toIface(e ast.Expr, to types.Type, how string) {
	info := c.pass.TypesInfo
	if to == nil || !types.IsInterface(to) {
		return
	}
	tv, ok := info.Types[e]
	if !ok || tv.Type == nil || types.IsInterface(tv.Type) || tv.Value != nil || tv.IsNil() {
		return
	}
	if _, isTP := tv.Type.(*types.TypeParam); isTP {
		return
	}
	if pointerShaped(tv.Type) || c.pass.TypesSizes.Sizeof(tv.Type) <= 1 {
		return // stored in the interface word, or a static value
	}
	c.report(e.Pos(), ruleIface, "%s %s (%s) as %s: a non-pointer value in an interface allocates", how, exprString(e), tv.Type, to)
}

// pointerShaped reports whether values of t are stored directly in an
// interface's data word.
func pointerShaped(t types.Type) bool {
	switch u := under(t).(type) {
	case *types.Pointer, *types.Map, *types.Chan, *types.Signature:
		return true
	case *types.Basic:
		return u.Kind() == types.UnsafePointer
	case *types.Struct:
		return u.NumFields() == 1 && pointerShaped(u.Field(0).Type())
	case *types.Array:
		return u.Len() == 1 && pointerShaped(u.Elem())
	}
	return false
}

func (c *checker) compositeLit(lit *ast.CompositeLit) {
	info := c.pass.TypesInfo
	switch u := under(info.TypeOf(lit)).(type) {
	case *types.Struct:
		for i, el := range lit.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok {
					if v, ok := info.Uses[id].(*types.Var); ok {
						c.toIface(kv.Value, v.Type(), "stored")
					}
				}
			} else if i < u.NumFields() {
				c.toIface(el, u.Field(i).Type(), "stored")
			}
		}
	case *types.Slice, *types.Array, *types.Map:
		var key, elem types.Type
		switch u := u.(type) {
		case *types.Slice:
			elem = u.Elem()
		case *types.Array:
			elem = u.Elem()
		case *types.Map:
			key, elem = u.Key(), u.Elem()
		}
		for _, el := range lit.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				if key != nil {
					c.toIface(kv.Key, key, "stored")
				}
				el = kv.Value
			}
			c.toIface(el, elem, "stored")
		}
	}
}

// methodValue reports a method value (x.M not called): a closure bound to
// x, which allocates when it escapes.
func (c *checker) methodValue(sel *ast.SelectorExpr, parent ast.Node) {
	s, ok := c.pass.TypesInfo.Selections[sel]
	if !ok || s.Kind() != types.MethodVal {
		return
	}
	if call, ok := parent.(*ast.CallExpr); ok && ast.Unparen(call.Fun) == sel {
		return
	}
	if p, ok := parent.(*ast.ParenExpr); ok && p.X == sel {
		return // (x.M)(…): the call is checked from the parenthesis up
	}
	c.report(sel.Pos(), ruleClosure, "method value %s binds its receiver in a closure", exprString(sel))
}

// funcLit reports a function literal that captures variables of the
// function around it.
func (c *checker) funcLit(lit *ast.FuncLit) {
	info := c.pass.TypesInfo
	var captured []string
	seen := map[types.Object]bool{}
	ast.Inspect(lit.Body, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return true
		}
		v, ok := info.Uses[id].(*types.Var)
		if !ok || v.IsField() || seen[v] {
			return true
		}
		if v.Pos() >= c.fd.Pos() && v.Pos() < c.fd.End() && (v.Pos() < lit.Pos() || v.Pos() >= lit.End()) {
			seen[v] = true
			captured = append(captured, v.Name())
		}
		return true
	})
	if len(captured) > 0 {
		c.report(lit.Pos(), ruleClosure, "function literal captures %s", strings.Join(captured, ", "))
	}
}

func (c *checker) mapWrite(e ast.Expr) {
	ix, ok := ast.Unparen(e).(*ast.IndexExpr)
	if !ok {
		return
	}
	if _, isMap := under(c.pass.TypesInfo.TypeOf(ix.X)).(*types.Map); isMap {
		c.report(e.Pos(), ruleMapWrite, "writes map %s, which may grow", exprString(ix.X))
	}
}

func under(t types.Type) types.Type {
	if t == nil {
		return nil
	}
	return t.Underlying()
}

func isString(t types.Type) bool {
	b, ok := under(t).(*types.Basic)
	return ok && b.Info()&types.IsString != 0
}

func isInteger(t types.Type) bool {
	b, ok := under(t).(*types.Basic)
	return ok && b.Info()&types.IsInteger != 0
}

func isByteOrRuneSlice(t types.Type) bool {
	s, ok := under(t).(*types.Slice)
	if !ok {
		return false
	}
	b, ok := under(s.Elem()).(*types.Basic)
	return ok && (b.Kind() == types.Byte || b.Kind() == types.Rune)
}

func calleeName(fn *types.Func) string {
	sig := fn.Type().(*types.Signature)
	if recv := sig.Recv(); recv != nil {
		t := recv.Type()
		star := ""
		if p, ok := t.(*types.Pointer); ok {
			star, t = "*", p.Elem()
		}
		if n, ok := t.(*types.Named); ok {
			if star != "" {
				return "(*" + n.Obj().Name() + ")." + fn.Name()
			}
			return n.Obj().Name() + "." + fn.Name()
		}
	}
	return fn.Pkg().Name() + "." + fn.Name()
}

// exprString renders a short expression for a message.
func exprString(e ast.Expr) string {
	s := types.ExprString(e)
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}
