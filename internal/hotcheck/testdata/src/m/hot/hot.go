// Package hot has, for every rule, a hot function that breaks it and one
// that keeps it.
package hot

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

var errBad = errors.New("bad") // prepared once: fine

type rec struct {
	n   int
	buf []byte
	m   map[int]int
}

type pkt struct{ recs []rec }

// Rule fmt.

//nfkit:hot
func fmtBad(n int) string { // want fmtBad:"hot"
	return fmt.Sprintf("%d", n) // want `hot function fmtBad: uses fmt.Sprintf \[fmt\]` `passed n \(int\) as any`
}

//nfkit:hot
func fmtGood(b []byte, n int) []byte { // want fmtGood:"hot"
	return strconv.AppendInt(b, int64(n), 10)
}

// Rule reflect.

//nfkit:hot
func reflectBad(p *pkt) int { // want reflectBad:"hot"
	return reflect.ValueOf(p).Elem().NumField() // want `uses reflect.ValueOf \[reflect\]`
}

//nfkit:hot
func reflectGood(p *pkt) int { return len(p.recs) } // want reflectGood:"hot"

// Rule errors.

//nfkit:hot
func errorsBad(n int) error { // want errorsBad:"hot"
	if n < 0 {
		return errors.New("negative") // want `makes an error per call \(errors.New\); return a prepared sentinel or error value \[errors\]`
	}
	return fmt.Errorf("n=%d", n) // want `makes an error per call \(fmt.Errorf\).*\[errors\]` `passed n \(int\) as any`
}

//nfkit:hot
func errorsGood(n int) error { // want errorsGood:"hot"
	if n < 0 {
		return errBad
	}
	if errors.Is(errBad, errBad) {
		return nil
	}
	return nil
}

// Rule iface.

// sink takes anything.
//
//nfkit:cold test helper
func sink(v any) {} // want sink:"cold"

type big struct{ a, b int64 }

//nfkit:hot
func ifaceBad(n int, s big) any { // want ifaceBad:"hot"
	sink(n)       // want `passed n \(int\) as any: a non-pointer value in an interface allocates \[iface\]`
	var x any = s // want `assigned s \(m/hot.big\) as any.*\[iface\]`
	_ = []any{n}  // want `stored n \(int\) as any.*\[iface\]`
	sink(any(s))  // want `converted s \(m/hot.big\) as any.*\[iface\]`
	_ = x
	return s // want `returned s \(m/hot.big\) as any.*\[iface\]`
}

//nfkit:hot
func ifaceGood(p *pkt, b bool) any { // want ifaceGood:"hot"
	sink(p)      // a pointer is the interface's data word
	sink(42)     // a constant is static data
	sink(b)      // a one-byte value is static data
	sink(errBad) // already an interface
	sink(nil)
	return p
}

// Rule closure.

//nfkit:hot
func closureBad(p *pkt, n int) int { // want closureBad:"hot"
	f := func() int { return n + len(p.recs) } // want `function literal captures n, p \[closure\]`
	return f()
}

//nfkit:hot
func closureGood(p *pkt, n int) int { // want closureGood:"hot"
	f := func(q *pkt, k int) int { return k + len(q.recs) }
	return f(p, n)
}

// Rule append.

var global []int

//nfkit:hot
func appendBad(n int) []int { // want appendBad:"hot"
	var fresh []int
	fresh = append(fresh, n)   // want `appends to fresh, which is not reached from the parameters or the receiver.*\[append\]`
	global = append(global, n) // want `appends to global.*\[append\]`
	return fresh
}

//nfkit:hot
func appendGood(p *pkt, b []byte, n int) []byte { // want appendGood:"hot"
	p.recs = append(p.recs, rec{n: n})
	r := &p.recs[len(p.recs)-1]
	r.buf = append(r.buf[:0], b...)
	s := p.recs[:0]
	s = append(s, rec{})
	out := appendGood2(b, n)
	out = append(out, '\n')
	for i := range p.recs {
		q := &p.recs[i]
		q.buf = append(q.buf, 0)
	}
	_ = s
	return out
}

//nfkit:hot
func appendGood2(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) } // want appendGood2:"hot"

// Rule mapwrite.

//nfkit:hot
func mapBad(r *rec, k int) { // want mapBad:"hot"
	r.m[k] = 1 // want `writes map r.m, which may grow \[mapwrite\]`
	r.m[k]++   // want `writes map r.m.*\[mapwrite\]`
}

//nfkit:hot
func mapGood(r *rec, k int) int { // want mapGood:"hot"
	delete(r.m, k)
	return r.m[k+1]
}

// Rules defer and go.

//nfkit:hot
func deferBad(r *rec) { // want deferBad:"hot"
	defer func() {}() // want `defer \[defer\]`
	go func() {}()    // want `starts a goroutine \[go\]`
}

//nfkit:hot
func deferGood(r *rec) { r.n++ } // want deferGood:"hot"

// Rule concat.

//nfkit:hot
func concatBad(a, b string) string { // want concatBad:"hot"
	a += b             // want `concatenates strings \(\+=\) \[concat\]`
	return a + b + "!" // want `concatenates strings \[concat\]`
}

//nfkit:hot
func concatGood(b []byte, a string) []byte { // want concatGood:"hot"
	const c = "x" + "y" // constant: no allocation
	b = append(b, a...)
	return append(b, c...)
}

// Rule convert.

//nfkit:hot
func convertBad(b []byte, s string) (string, []byte) { // want convertBad:"hot"
	return string(b), []byte(s) // want `converts \[\]byte to string, which copies \[convert\]` `converts string to \[\]byte.*\[convert\]`
}

//nfkit:hot
func convertGood(r *rec, b []byte) bool { // want convertGood:"hot"
	m := map[string]int(nil)
	_ = m[string(b)]         // map index: no copy
	for range []byte("ab") { // constant
	}
	return string(b) == "x" // comparison: no copy
}

// Rule make.

//nfkit:hot
func makeBad(n int) []int { // want makeBad:"hot"
	return make([]int, n) // want `make allocates.*\[make\]`
}

//nfkit:hot
func makeGood(p *pkt) []rec { return p.recs[:0] } // want makeGood:"hot"

// Rule callee.

func unmarked() int { return 1 }

// coldHelper runs once per template.
//
//nfkit:cold once per template
func coldHelper() int { return len(fmt.Sprint(1)) } // want coldHelper:"cold"

//nfkit:hot
func calleeBad() int { // want calleeBad:"hot"
	return unmarked() // want `calls hot.unmarked, which is marked neither //nfkit:hot nor //nfkit:cold \[callee\]`
}

//nfkit:hot
func calleeGood() int { // want calleeGood:"hot"
	return coldHelper() + reflectGood(nil) + len(strconv.AppendInt(nil, 1, 10))
}

// Methods are named with their receiver.

//nfkit:hot
func (p *pkt) methodBad() string { // want methodBad:"hot"
	return fmt.Sprint(len(p.recs)) // want `hot function \(\*pkt\).methodBad: uses fmt.Sprint \[fmt\]` `passed len\(p.recs\) \(int\) as any`
}

// Allowances.

//nfkit:hot
func allowed(p *pkt, n int) { // want allowed:"hot"
	//nfkit:allow iface debug logging only, off by default
	sink(n)
	sink(n) //nfkit:allow iface,fmt same line
	//nfkit:allow make nothing here to lift // want `//nfkit:allow make lifts nothing here; remove it \[directive\]`
	p.recs = p.recs[:0]
}

// A literal's parameters are the literal's caller's state.
//
//nfkit:hot
func literalParams(b []byte, n int) []byte { // want literalParams:"hot"
	put := func(b []byte, c byte) []byte { return append(b, c) }
	return put(b, byte(n))
}

// Method values bind their receiver in a closure; calls do not.
//
//nfkit:hot
func methodValueBad(p *pkt) func() string { // want methodValueBad:"hot"
	return p.methodBad // want `method value p.methodBad binds its receiver in a closure \[closure\]`
}

//nfkit:hot
func methodValueGood(p *pkt) string { // want methodValueGood:"hot"
	_ = (*pkt).methodBad(p) // a method expression is a plain function
	_ = (p.methodBad)()
	return p.methodBad()
}

// Rule string.

type addr struct{ a, b uint64 }

// String is for logs.
//
//nfkit:cold logs only
func (a addr) String() string { return "" } // want String:"cold"

//nfkit:hot
func stringBad(a addr, err error, n int) int { // want stringBad:"hot"
	s := a.String()       // want `a.String\(\) makes a new string.*\[string\]`
	s2 := err.Error()     // want `err.Error\(\) makes a new string.*\[string\]`
	s3 := strconv.Itoa(n) // want `strconv.Itoa makes a new string or slice per call.*\[string\]`
	return len(s) + len(s2) + len(s3)
}

//nfkit:hot
func stringGood(b []byte, sb *strings.Builder, n int) []byte { // want stringGood:"hot"
	_ = sb.String() // strings.Builder's String does not copy
	return strconv.AppendInt(b, int64(n), 10)
}
