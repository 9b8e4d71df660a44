package analyzer

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Filter selects flows. The zero Filter matches everything.
type Filter struct {
	n node
}

// Match reports whether f passes the filter.
func (fl *Filter) Match(f *Flow) bool { return fl.n == nil || fl.n.match(f) }

// uses reports whether the filter looks at the exporter or at AS numbers
// (so that the scanner reads them).
func (fl *Filter) uses() (exporter, as bool) {
	var walk func(node)
	walk = func(n node) {
		switch n := n.(type) {
		case andNode:
			walk(n.a)
			walk(n.b)
		case orNode:
			walk(n.a)
			walk(n.b)
		case notNode:
			walk(n.a)
		case exporterNode:
			exporter = true
		case asNode:
			as = true
		}
	}
	walk(fl.n)
	return exporter, as
}

// timeRange returns the [since, until) range of flow starts that every
// matching flow lies in (0: open), from the time filters the filter ANDs.
func (fl *Filter) timeRange() (since, until int64) {
	var walk func(node)
	walk = func(n node) {
		switch n := n.(type) {
		case andNode:
			walk(n.a)
			walk(n.b)
		case timeNode:
			if n.since != 0 && (since == 0 || n.since > since) {
				since = n.since
			}
			if n.until != 0 && (until == 0 || n.until < until) {
				until = n.until
			}
		}
	}
	walk(fl.n)
	return since, until
}

// And returns a filter matching flows that pass both fl and g.
func (fl Filter) And(g Filter) Filter {
	switch {
	case fl.n == nil:
		return g
	case g.n == nil:
		return fl
	}
	return Filter{andNode{fl.n, g.n}}
}

// FilterError is a syntax error in a filter expression. Pos is the byte offset
// of the offending token in Expr.
type FilterError struct {
	Expr     string
	Pos, Len int
	Msg      string
}

func (e *FilterError) Error() string {
	n := e.Len
	if n < 1 {
		n = 1
	}
	return fmt.Sprintf("filter: %s (column %d)\n  %s\n  %s%s", e.Msg, e.Pos+1, e.Expr,
		strings.Repeat(" ", e.Pos), strings.Repeat("^", n))
}

type node interface{ match(*Flow) bool }

type andNode struct{ a, b node }
type orNode struct{ a, b node }
type notNode struct{ a node }
type anyNode struct{}

func (n andNode) match(f *Flow) bool { return n.a.match(f) && n.b.match(f) }
func (n orNode) match(f *Flow) bool  { return n.a.match(f) || n.b.match(f) }
func (n notNode) match(f *Flow) bool { return !n.a.match(f) }
func (anyNode) match(*Flow) bool     { return true }

// dir says which side of a flow a primitive looks at.
type dir uint8

const (
	dirEither dir = iota // src or dst
	dirSrc
	dirDst
	dirBoth // src and dst
)

func (d dir) test(src, dst bool) bool {
	switch d {
	case dirSrc:
		return src
	case dirDst:
		return dst
	case dirBoth:
		return src && dst
	}
	return src || dst
}

type hostNode struct {
	d dir
	a netip.Addr
}

func (n hostNode) match(f *Flow) bool { return n.d.test(f.Src == n.a, f.Dst == n.a) }

type netNode struct {
	d dir
	p netip.Prefix
}

func (n netNode) match(f *Flow) bool { return n.d.test(n.p.Contains(f.Src), n.p.Contains(f.Dst)) }

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

func (o cmpOp) test(a, b uint64) bool {
	switch o {
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opLe:
		return a <= b
	case opGt:
		return a > b
	case opGe:
		return a >= b
	}
	return a == b
}

type portNode struct {
	d  dir
	op cmpOp
	v  uint64
}

func (n portNode) match(f *Flow) bool {
	if !hasPorts(f.Proto) {
		return false
	}
	return n.d.test(n.op.test(uint64(f.SrcPort), n.v), n.op.test(uint64(f.DstPort), n.v))
}

type asNode struct {
	d  dir
	op cmpOp
	v  uint64
}

func (n asNode) match(f *Flow) bool {
	return n.d.test(n.op.test(uint64(f.SrcAS), n.v), n.op.test(uint64(f.DstAS), n.v))
}

type protoNode uint8

func (n protoNode) match(f *Flow) bool { return f.Proto == uint8(n) }

type exporterNode netip.Addr

func (n exporterNode) match(f *Flow) bool { return f.Exporter == netip.Addr(n) }

type ipVersionNode bool // true: IPv6

func (n ipVersionNode) match(f *Flow) bool { return (f.Src.Is6() && !f.Src.Is4In6()) == bool(n) }

type counterNode struct {
	packets bool
	op      cmpOp
	v       uint64
}

func (n counterNode) match(f *Flow) bool {
	if n.packets {
		return n.op.test(f.Packets, n.v)
	}
	return n.op.test(f.Bytes, n.v)
}

type timeNode struct{ since, until int64 } // [since, until); 0 = open

func (n timeNode) match(f *Flow) bool {
	return (n.since == 0 || f.Start >= n.since) && (n.until == 0 || f.Start < n.until)
}

// Simple filters for the command-line flags.

// HostFilter matches flows from or to a.
func HostFilter(a netip.Addr) Filter { return Filter{hostNode{dirEither, a}} }

// NetFilter matches flows from or to an address in p.
func NetFilter(p netip.Prefix) Filter { return Filter{netNode{dirEither, p.Masked()}} }

// PortFilter matches flows from or to port.
func PortFilter(port uint16) Filter { return Filter{portNode{dirEither, opEq, uint64(port)}} }

// ProtoFilter matches flows of the IP protocol p.
func ProtoFilter(p uint8) Filter { return Filter{protoNode(p)} }

// ExporterFilter matches flows exported by a.
func ExporterFilter(a netip.Addr) Filter { return Filter{exporterNode(a)} }

// TimeFilter matches flows that start in [since, until) (Unix ns, 0 = open).
func TimeFilter(since, until int64) Filter { return Filter{timeNode{since, until}} }

// ParseFilter compiles an nfdump-style filter expression:
//
//	expr  = term { "or" term }          term = factor { "and" factor }
//	factor = "not" factor | "(" expr ")" | primitive
//	primitive = [dir] "host" ADDR | [dir] "net" CIDR | [dir] "port" [cmp] PORT
//	          | [dir] "as" [cmp] N | "proto" NAME|N | tcp | udp | icmp | icmp6 | ...
//	          | "inet" | "inet6" | "exporter" ADDR | "bytes" cmp N[k|m|g]
//	          | "packets" cmp N[k|m|g] | "any"
//	dir = "src" | "dst" | "src or dst" | "src and dst"
//	cmp = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "eq" | "ne" | "lt" | "le" | "gt" | "ge"
//
// "&&", "||" and "!" are accepted for and, or, not. PORT may be a service name.
func ParseFilter(expr string) (Filter, error) {
	p := &filterParser{expr: expr, toks: tokenize(expr)}
	if len(p.toks) == 0 {
		return Filter{}, nil
	}
	n, err := p.parseOr()
	if err != nil {
		return Filter{}, err
	}
	if p.i < len(p.toks) {
		t := p.toks[p.i]
		return Filter{}, p.errAt(t, fmt.Sprintf("unexpected %q (missing \"and\" or \"or\"?)", t.s))
	}
	return Filter{n}, nil
}

type token struct {
	s   string
	pos int
}

func tokenize(s string) []token {
	var ts []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			ts = append(ts, token{s[i : i+1], i})
			i++
		case c == '<' || c == '>' || c == '=' || c == '!':
			j := i + 1
			if j < len(s) && s[j] == '=' {
				j++
			}
			ts = append(ts, token{s[i:j], i})
			i = j
		case c == '&' || c == '|':
			j := i + 1
			if j < len(s) && s[j] == c {
				j++
			}
			ts = append(ts, token{s[i:j], i})
			i = j
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()<>=!&|", rune(s[j])) {
				j++
			}
			ts = append(ts, token{s[i:j], i})
			i = j
		}
	}
	return ts
}

type filterParser struct {
	expr string
	toks []token
	i    int
}

func (p *filterParser) errAt(t token, msg string) error {
	return &FilterError{Expr: p.expr, Pos: t.pos, Len: len(t.s), Msg: msg}
}

func (p *filterParser) errEnd(msg string) error {
	return &FilterError{Expr: p.expr, Pos: len(p.expr), Len: 1, Msg: msg + ", found the end of the expression"}
}

func (p *filterParser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *filterParser) peekIs(words ...string) bool {
	t, ok := p.peek()
	if !ok {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.s, w) {
			return true
		}
	}
	return false
}

func (p *filterParser) next(what string) (token, error) {
	t, ok := p.peek()
	if !ok {
		return t, p.errEnd("expected " + what)
	}
	p.i++
	return t, nil
}

func (p *filterParser) parseOr() (node, error) {
	a, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.peekIs("or", "||") {
		p.i++
		b, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		a = orNode{a, b}
	}
	return a, nil
}

func (p *filterParser) parseAnd() (node, error) {
	a, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.peekIs("and", "&&") {
		p.i++
		b, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		a = andNode{a, b}
	}
	return a, nil
}

func (p *filterParser) parseNot() (node, error) {
	if p.peekIs("not", "!") {
		p.i++
		a, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return notNode{a}, nil
	}
	if p.peekIs("(") {
		open := p.toks[p.i]
		p.i++
		a, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if !p.peekIs(")") {
			if t, ok := p.peek(); ok {
				return nil, p.errAt(t, fmt.Sprintf("expected \")\" to close the \"(\" at column %d, found %q", open.pos+1, t.s))
			}
			return nil, p.errEnd(fmt.Sprintf("expected \")\" to close the \"(\" at column %d", open.pos+1))
		}
		p.i++
		return a, nil
	}
	return p.parsePrimitive()
}

func (p *filterParser) parsePrimitive() (node, error) {
	t, err := p.next("a filter primitive (host, net, port, proto, ...)")
	if err != nil {
		return nil, err
	}
	w := strings.ToLower(t.s)
	d := dirEither
	if w == "src" || w == "dst" {
		d = dirSrc
		if w == "dst" {
			d = dirDst
		}
		if p.peekIs("or", "and") && p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1].s, map[string]string{"src": "dst", "dst": "src"}[w]) {
			if p.peekIs("or") {
				d = dirEither
			} else {
				d = dirBoth
			}
			p.i += 2
		}
		if t, err = p.next("host, net, port or as after \"" + w + "\""); err != nil {
			return nil, err
		}
		w = strings.ToLower(t.s)
		switch w {
		case "host", "net", "port", "as", "ip":
		default:
			return nil, p.errAt(t, fmt.Sprintf("expected host, net, port or as after a direction, found %q", t.s))
		}
	}
	switch w {
	case "host", "ip":
		a, err := p.next("an IP address after \"host\"")
		if err != nil {
			return nil, err
		}
		addr, perr := netip.ParseAddr(a.s)
		if perr != nil {
			return nil, p.errAt(a, fmt.Sprintf("expected an IP address after \"host\", found %q", a.s))
		}
		return hostNode{d, addr.Unmap()}, nil
	case "net":
		a, err := p.next("a network (CIDR) after \"net\"")
		if err != nil {
			return nil, err
		}
		pfx, perr := netip.ParsePrefix(a.s)
		if perr != nil {
			return nil, p.errAt(a, fmt.Sprintf("expected a network like 10.0.0.0/8 after \"net\", found %q", a.s))
		}
		return netNode{d, pfx.Masked()}, nil
	case "port":
		op := p.parseCmp()
		a, err := p.next("a port number after \"port\"")
		if err != nil {
			return nil, err
		}
		v, ok := parsePort(a.s)
		if !ok {
			return nil, p.errAt(a, fmt.Sprintf("expected a port number (0-65535) or service name after \"port\", found %q", a.s))
		}
		return portNode{d, op, uint64(v)}, nil
	case "as":
		op := p.parseCmp()
		a, err := p.next("an AS number after \"as\"")
		if err != nil {
			return nil, err
		}
		v, perr := strconv.ParseUint(a.s, 10, 32)
		if perr != nil {
			return nil, p.errAt(a, fmt.Sprintf("expected an AS number after \"as\", found %q", a.s))
		}
		return asNode{d, op, v}, nil
	case "proto":
		a, err := p.next("a protocol after \"proto\"")
		if err != nil {
			return nil, err
		}
		v, ok := parseProto(a.s)
		if !ok {
			return nil, p.errAt(a, fmt.Sprintf("unknown protocol %q (use a name like tcp or a number)", a.s))
		}
		return protoNode(v), nil
	case "exporter", "router":
		a, err := p.next("an IP address after \"" + w + "\"")
		if err != nil {
			return nil, err
		}
		addr, perr := netip.ParseAddr(a.s)
		if perr != nil {
			return nil, p.errAt(a, fmt.Sprintf("expected an IP address after %q, found %q", w, a.s))
		}
		return exporterNode(addr.Unmap()), nil
	case "bytes", "packets":
		op := p.parseCmp()
		a, err := p.next("a number after \"" + w + "\"")
		if err != nil {
			return nil, err
		}
		v, ok := parseScaled(a.s)
		if !ok {
			return nil, p.errAt(a, fmt.Sprintf("expected a number (optionally with k, m or g) after %q, found %q", w, a.s))
		}
		return counterNode{w == "packets", op, v}, nil
	case "inet", "ipv4":
		return ipVersionNode(false), nil
	case "inet6", "ipv6":
		return ipVersionNode(true), nil
	case "any":
		return anyNode{}, nil
	case "(", ")", "and", "or", "&&", "||":
		return nil, p.errAt(t, fmt.Sprintf("expected a filter primitive (host, net, port, proto, ...), found %q", t.s))
	}
	if v, ok := parseProto(w); ok && !isNumber(w) {
		return protoNode(v), nil
	}
	return nil, p.errAt(t, fmt.Sprintf("unknown filter primitive %q (expected host, net, port, proto, as, exporter, bytes, packets, src, dst, not, or a protocol)", t.s))
}

func (p *filterParser) parseCmp() cmpOp {
	t, ok := p.peek()
	if !ok {
		return opEq
	}
	ops := map[string]cmpOp{"=": opEq, "==": opEq, "eq": opEq, "!=": opNe, "ne": opNe,
		"<": opLt, "lt": opLt, "<=": opLe, "le": opLe, ">": opGt, "gt": opGt, ">=": opGe, "ge": opGe}
	if op, ok := ops[strings.ToLower(t.s)]; ok {
		p.i++
		return op
	}
	return opEq
}

func isNumber(s string) bool {
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// parsePort reads a port number or a service name.
func parsePort(s string) (uint16, bool) {
	if v, err := strconv.ParseUint(s, 10, 16); err == nil {
		return uint16(v), true
	}
	servicesOnce.Do(loadServices)
	best, found := uint32(0), false
	for k, name := range serviceNames {
		if strings.EqualFold(name, s) && (!found || k>>8 < best) {
			best, found = k>>8, true
		}
	}
	return uint16(best), found
}

// parseScaled reads "1500", "10k", "2M", "1g" (powers of 1000 as nfdump does).
func parseScaled(s string) (uint64, bool) {
	mult := uint64(1)
	if n := len(s); n > 1 {
		switch s[n-1] {
		case 'k', 'K':
			mult = 1e3
		case 'm', 'M':
			mult = 1e6
		case 'g', 'G':
			mult = 1e9
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return v * mult, true
}
