package analyzer

import (
	"fmt"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Filter selects flows. The zero Filter matches everything.
type Filter struct {
	n node
}

// Match reports whether f passes the filter.
func (fl *Filter) Match(f *Flow) bool { return fl.n == nil || fl.n.match(f) }

// needs returns the optional scanner actions (optionalActs) whose values the
// filter looks at, as bits by action.
func (fl *Filter) needs() uint64 {
	var acts uint64
	eachLeaf(fl.n, func(n node) {
		switch n := n.(type) {
		case exporterNode:
			acts |= 1 << actExporter
		case asNode:
			acts |= 1<<actSrcAS | 1<<actDstAS
		case asListNode:
			acts |= 1<<actSrcAS | 1<<actDstAS
		case fieldNode:
			acts |= n.acts()
		case icmpNode:
			acts |= n.acts()
		case flagsNode:
			acts |= 1 << actTCPFlags
		case macNode:
			acts |= 1<<actSrcMAC | 1<<actDstMAC
		}
	})
	return acts
}

// eachLeaf calls fn for every node of the tree n that is not an and, or or
// not node (n itself when it is none of them, nil included).
func eachLeaf(n node, fn func(node)) {
	switch n := n.(type) {
	case andNode:
		eachLeaf(n.a, fn)
		eachLeaf(n.b, fn)
	case orNode:
		eachLeaf(n.a, fn)
		eachLeaf(n.b, fn)
	case notNode:
		eachLeaf(n.a, fn)
	default:
		fn(n)
	}
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

// ParseFilter compiles an nfdump-style filter expression (analyzer/USAGE.md
// has the table of nfdump's primitives):
//
//	expr  = term { "or" term }          term = factor { "and" factor }
//	factor = "not" factor | "(" expr ")" | primitive
//	primitive = [dir] ("host"|"ip") ADDR | [dir] ("host"|"ip") "in" "[" ADDR|CIDR ... "]"
//	          | [dir] "net" CIDR | [dir] "net" ADDR MASK
//	          | [dir] "port" [cmp] PORT | [dir] "port" "in" "[" PORT ... "]"
//	          | [dir] "as" [cmp] N | [dir] "as" "in" "[" N ... "]"
//	          | [dir] "vlan" [cmp] N | [dir] "mask" [cmp] N | ["src"] "tos" [cmp] N
//	          | ["in"|"out"] "if" [cmp] N | ["in"|"out"] [dir] "mac" MAC
//	          | "proto" NAME|N | tcp | udp | icmp | icmp6 | ... | "inet" | "inet6"
//	          | "flags" LETTERS | "flags" cmp N | "icmp-type" N | "icmp-code" N
//	          | ["in"|"out"] ("bytes"|"packets") [cmp] N[k|m|g] | "flows" [cmp] N
//	          | ("bps"|"pps"|"bpp"|"duration") [cmp] N[k|m|g]
//	          | "router" ["ip"] ADDR | "exporter" ADDR | "flowdir" ("ingress"|"egress"|0|1) | "any"
//	dir = "src" | "dst" | "src or dst" | "src and dst"
//	cmp = "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "eq" | "ne" | "lt" | "le" | "gt" | "ge"
//
// "&&", "||" and "!" are accepted for and, or, not; list items are separated
// by spaces or commas. PORT may be a service name; CIDR may be shortened as
// nfdump allows (10.0/16). Keywords are case-insensitive. An error is a
// *FilterError pointing at the token.
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
		case c == '(' || c == ')' || c == '[' || c == ']' || c == ',':
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
			for j < len(s) && !strings.ContainsRune(" \t\n\r()[],<>=!&|", rune(s[j])) {
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

// peekAt reports whether the token k places ahead is w.
func (p *filterParser) peekAt(k int, w string) bool {
	return p.i+k < len(p.toks) && strings.EqualFold(p.toks[p.i+k].s, w)
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
		return negate(a), nil
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

// negate returns the negation of n, pushed down to the primitives (De
// Morgan), where a "flags" primitive of letters becomes its "none of"
// form, as nfdump 1.7.1 reads it (see flagsNode). For every other
// primitive this is the plain logical negation.
func negate(n node) node {
	switch n := n.(type) {
	case andNode:
		return orNode{negate(n.a), negate(n.b)}
	case orNode:
		return andNode{negate(n.a), negate(n.b)}
	case notNode:
		return n.a
	case flagsNode:
		if !n.cmp {
			n.none = !n.none
			return n
		}
	}
	return notNode{n}
}

// unsupported are nfdump's primitives that nfanalyze does not have, and why.
var unsupported = map[string]string{
	"geo":         "needs a geo location database, which nfanalyze does not use",
	"tunip":       "tunnel addresses are not in nfcollect's records",
	"tun":         "tunnel fields are not in nfcollect's records",
	"engine-type": "the engine type and id are not read (nfcollect writes them within observation_domain_id)",
	"engine-id":   "the engine type and id are not read (nfcollect writes them within observation_domain_id)",
	"sysid":       "an nfdump collector's internal exporter number has no counterpart",
	"ident":       "an nfdump file's ident string has no counterpart",
	"count":       "record numbers of nfdump's files have no counterpart",
	"mpls":        "MPLS labels are not among nfcollect's normalized fields",
	"next":        "next hop and next AS are not read by nfanalyze",
	"bgpnext":     "the BGP next hop is not read by nfanalyze",
	"prev":        "the previous (adjacent) AS is not in nfcollect's records",
	"payload":     "payload is not part of the flow records nfcollect writes",
	"client":      "nprobe latencies are not among nfcollect's normalized fields",
	"server":      "nprobe latencies are not among nfcollect's normalized fields",
	"asa":         "Cisco ASA (NSEL) events are not among nfcollect's normalized fields",
	"nat":         "NAT (NEL) events are not among nfcollect's normalized fields",
	"xip":         "NAT-translated addresses are not among nfcollect's normalized fields",
	"xnet":        "NAT-translated addresses are not among nfcollect's normalized fields",
	"xport":       "NAT-translated ports are not among nfcollect's normalized fields",
	"nip":         "NAT addresses are not among nfcollect's normalized fields",
	"nport":       "NAT ports are not among nfcollect's normalized fields",
	"ingress":     "ASA ACL and VRF fields are not among nfcollect's normalized fields",
	"egress":      "ASA ACL fields are not among nfcollect's normalized fields",
	"pblock":      "NAT port blocks are not among nfcollect's normalized fields",
	"observation": "observation domain and point ids are not read by nfanalyze",
	"pf":          "OpenBSD pflog fields are not in nfcollect's records",
	"@include":    "filter files are not supported: give the expression itself",
}

// direction words at the start of a primitive.
type qual struct {
	d     dir  // dirEither unless src/dst given
	side  bool // src or dst given
	inout int  // 0, 1 in, 2 out
	tok   token
}

func (p *filterParser) parseQual() (qual, error) {
	var q qual
	q.d = dirEither
	if t, ok := p.peek(); ok {
		q.tok = t
	}
	if p.peekIs("in", "out") {
		q.inout = 1
		if p.peekIs("out") {
			q.inout = 2
		}
		p.i++
	}
	if p.peekIs("src", "dst") {
		w := strings.ToLower(p.toks[p.i].s)
		p.i++
		q.side = true
		q.d = dirSrc
		if w == "dst" {
			q.d = dirDst
		}
		other := map[string]string{"src": "dst", "dst": "src"}[w]
		if p.peekIs("or", "and") && p.peekAt(1, other) {
			q.d = dirEither
			if p.peekIs("and") {
				q.d = dirBoth
			}
			p.i += 2
		}
	}
	return q, nil
}

func (p *filterParser) parsePrimitive() (node, error) {
	q, err := p.parseQual()
	if err != nil {
		return nil, err
	}
	qualified := q.side || q.inout != 0
	what := "a filter primitive (host, net, port, proto, ...)"
	if qualified {
		what = "host, net, port, as, vlan, mask, tos, if, mac, bytes or packets after \"" + q.tok.s + "\""
	}
	t, err := p.next(what)
	if err != nil {
		return nil, err
	}
	w := strings.ToLower(t.s)
	// Which qualifiers each keyword takes.
	switch w {
	case "host", "ip", "net", "port", "as", "vlan", "mask", "tos":
		if q.inout != 0 {
			return nil, p.errAt(q.tok, fmt.Sprintf("%q does not take \"in\" or \"out\" (only if, mac, bytes and packets do)", w))
		}
	case "if", "bytes", "packets":
		if q.side {
			return nil, p.errAt(q.tok, fmt.Sprintf("%q does not take \"src\" or \"dst\"", w))
		}
	case "mac":
	default:
		if qualified {
			return nil, p.errAt(t, fmt.Sprintf("expected host, net, port, as, vlan, mask, tos, if, mac, bytes or packets after a direction, found %q", t.s))
		}
	}
	d := q.d
	switch w {
	case "host", "ip":
		if p.peekIs("in") {
			p.i++
			items, err := p.parseList("addresses or networks")
			if err != nil {
				return nil, err
			}
			var n ipListNode
			n.d = d
			for _, it := range items {
				pfx, ok := parseNet(it.s)
				if !ok {
					a, perr := netip.ParseAddr(it.s)
					if perr != nil {
						return nil, p.errAt(it, fmt.Sprintf("expected an IP address or network in the list, found %q", it.s))
					}
					a = a.Unmap()
					pfx = netip.PrefixFrom(a, a.BitLen())
				}
				n.pfx = append(n.pfx, pfx)
			}
			return n, nil
		}
		a, err := p.next("an IP address after \"" + w + "\"")
		if err != nil {
			return nil, err
		}
		addr, perr := netip.ParseAddr(a.s)
		if perr != nil {
			return nil, p.errAt(a, fmt.Sprintf("expected an IP address after %q, found %q (host names are not looked up)", w, a.s))
		}
		return hostNode{d, addr.Unmap()}, nil
	case "net":
		a, err := p.next("a network (CIDR) after \"net\"")
		if err != nil {
			return nil, err
		}
		pfx, ok := parseNet(a.s)
		if !ok {
			// nfdump's other form: net 10.0.0.0 255.255.0.0
			addr, perr := netip.ParseAddr(a.s)
			if m, mok := p.peek(); perr == nil && mok && addr.Is4() {
				if bitsN, ok := maskBits(m.s); ok {
					p.i++
					return netNode{d, netip.PrefixFrom(addr, bitsN).Masked()}, nil
				} else if _, isAddr := netip.ParseAddr(m.s); isAddr == nil {
					return nil, p.errAt(m, fmt.Sprintf("expected a netmask like 255.255.255.0, found %q", m.s))
				}
			}
			return nil, p.errAt(a, fmt.Sprintf("expected a network like 10.0.0.0/8 (or 10.0/16, or 10.0.0.0 255.0.0.0) after \"net\", found %q", a.s))
		}
		return netNode{d, pfx}, nil
	case "port":
		if p.peekIs("in") {
			p.i++
			items, err := p.parseList("ports")
			if err != nil {
				return nil, err
			}
			n := portListNode{d: d}
			for _, it := range items {
				v, ok := parsePort(it.s)
				if !ok {
					return nil, p.errAt(it, fmt.Sprintf("expected a port number (0-65535) or service name in the list, found %q", it.s))
				}
				n.ports = append(n.ports, v)
			}
			slices.Sort(n.ports)
			return n, nil
		}
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
		if p.peekIs("in") {
			p.i++
			items, err := p.parseList("AS numbers")
			if err != nil {
				return nil, err
			}
			n := asListNode{d: d}
			for _, it := range items {
				v, perr := strconv.ParseUint(it.s, 10, 32)
				if perr != nil {
					return nil, p.errAt(it, fmt.Sprintf("expected an AS number in the list, found %q", it.s))
				}
				n.ases = append(n.ases, uint32(v))
			}
			slices.Sort(n.ases)
			return n, nil
		}
		op, v, err := p.parseNumber(w, 1<<32-1, false)
		if err != nil {
			return nil, err
		}
		return asNode{d, op, v}, nil
	case "vlan", "mask":
		max := uint64(4095)
		src, dst := fieldSrcVLAN, fieldDstVLAN
		if w == "mask" {
			max, src, dst = 128, fieldSrcMask, fieldDstMask
		}
		op, v, err := p.parseNumber(w, max, false)
		if err != nil {
			return nil, err
		}
		return fieldNode{d: d, src: src, dst: dst, op: op, v: v}, nil
	case "tos":
		if q.side && d != dirSrc {
			return nil, p.errAt(q.tok, "only the source TOS (ip_tos) is in nfcollect's records: use \"tos\" or \"src tos\"")
		}
		op, v, err := p.parseNumber(w, 255, false)
		if err != nil {
			return nil, err
		}
		return one(fieldTOS, op, v), nil
	case "if":
		op, v, err := p.parseNumber("if", 1<<32-1, false)
		if err != nil {
			return nil, err
		}
		n := fieldNode{d: dirEither, src: fieldInIf, dst: fieldOutIf, op: op, v: v}
		switch q.inout {
		case 1:
			n.d = dirSrc
		case 2:
			n.d = dirDst
		}
		return n, nil
	case "mac":
		a, err := p.next("a MAC address after \"mac\"")
		if err != nil {
			return nil, err
		}
		m, ok := parseMAC(a.s)
		if !ok {
			return nil, p.errAt(a, fmt.Sprintf("expected a MAC address like 00:11:22:33:44:55 after \"mac\", found %q", a.s))
		}
		if d == dirBoth {
			return andNode{macNode{dirSrc, m}, macNode{dirDst, m}}, nil
		}
		return macNode{d, m}, nil
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
		if w == "router" && p.peekIs("ip") {
			p.i++
		}
		a, err := p.next("an IP address after \"" + w + "\"")
		if err != nil {
			return nil, err
		}
		addr, perr := netip.ParseAddr(a.s)
		if perr != nil {
			return nil, p.errAt(a, fmt.Sprintf("expected an IP address after %q, found %q", w, a.s))
		}
		return exporterNode(addr.Unmap()), nil
	case "bytes", "packets", "flows", "bps", "pps", "bpp", "duration":
		op, v, err := p.parseNumber(w, 1<<64-1, w != "duration")
		if err != nil {
			return nil, err
		}
		fd := map[string]field{"bytes": fieldBytes, "packets": fieldPackets, "flows": fieldFlows, "bps": fieldBPS,
			"pps": fieldPPS, "bpp": fieldBPP, "duration": fieldDuration}[w]
		if q.inout == 2 {
			fd = map[string]field{"bytes": fieldOutBytes, "packets": fieldOutPackets}[w]
		}
		return one(fd, op, v), nil
	case "flags":
		if op, ok := p.cmpNext(); ok {
			a, err := p.next("a number after \"flags " + op.tok + "\"")
			if err != nil {
				return nil, err
			}
			v, perr := strconv.ParseUint(a.s, 10, 8)
			if perr != nil || v > 63 {
				return nil, p.errAt(a, fmt.Sprintf("expected TCP flags as a number from 0 to 63, found %q", a.s))
			}
			return flagsNode{cmp: true, op: op.op, value: v}, nil
		}
		a, err := p.next("TCP flags (letters of FSRPAUX) after \"flags\"")
		if err != nil {
			return nil, err
		}
		if v, perr := strconv.ParseUint(a.s, 10, 8); perr == nil {
			if v > 63 {
				return nil, p.errAt(a, fmt.Sprintf("expected TCP flags as a number from 0 to 63, found %q", a.s))
			}
			return flagsNode{cmp: true, op: opEq, value: v}, nil
		}
		var mask uint16
		for k := 0; k < len(a.s); k++ {
			bit := strings.IndexByte("FSRPAU", a.s[k])
			switch {
			case a.s[k] == 'X':
				mask = 63
			case bit < 0 || len(a.s) > 7:
				return nil, p.errAt(a, fmt.Sprintf("expected TCP flags: letters of F (FIN), S (SYN), R (RST), P (PSH), A (ACK), U (URG), X (all), found %q", a.s))
			default:
				mask |= 1 << bit
			}
		}
		return flagsNode{mask: mask}, nil
	case "icmp-type", "icmp-code":
		op, v, err := p.parseNumber(w, 255, false)
		if err != nil {
			return nil, err
		}
		fd := fieldICMPType
		if w == "icmp-code" {
			fd = fieldICMPCode
		}
		return icmpNode{one(fd, op, v)}, nil
	case "flowdir":
		a, err := p.next("ingress or egress after \"flowdir\"")
		if err != nil {
			return nil, err
		}
		v := map[string]uint64{"ingress": 0, "0": 0, "egress": 1, "1": 1}
		dv, ok := v[strings.ToLower(a.s)]
		if !ok {
			return nil, p.errAt(a, fmt.Sprintf("expected ingress, egress, 0 or 1 after \"flowdir\", found %q", a.s))
		}
		return one(fieldDirection, opEq, dv), nil
	case "inet", "ipv4":
		return ipVersionNode(false), nil
	case "inet6", "ipv6":
		return ipVersionNode(true), nil
	case "any":
		return anyNode{}, nil
	case "(", ")", "[", "]", ",", "and", "or", "&&", "||":
		return nil, p.errAt(t, fmt.Sprintf("expected %s, found %q", what, t.s))
	}
	if why, ok := unsupported[w]; ok {
		return nil, p.errAt(t, fmt.Sprintf("nfdump's %q is not supported: %s", t.s, why))
	}
	if v, ok := parseProto(w); ok && !isNumber(w) {
		return protoNode(v), nil
	}
	return nil, p.errAt(t, fmt.Sprintf("unknown filter primitive %q (expected host, net, port, proto, as, flags, bytes, packets, bps, duration, src, dst, not, or a protocol)", t.s))
}

// parseList reads "[" item ... "]" (items separated by spaces or commas) and
// returns the items.
func (p *filterParser) parseList(what string) ([]token, error) {
	open, err := p.next("\"[\" to start a list of " + what)
	if err != nil {
		return nil, err
	}
	if open.s != "[" {
		return nil, p.errAt(open, fmt.Sprintf("expected \"[\" to start a list of %s, found %q", what, open.s))
	}
	var items []token
	for {
		t, ok := p.peek()
		if !ok {
			return nil, p.errEnd(fmt.Sprintf("expected \"]\" to close the list at column %d", open.pos+1))
		}
		p.i++
		switch t.s {
		case "]":
			if len(items) == 0 {
				return nil, p.errAt(t, "an empty list matches nothing: give at least one of "+what)
			}
			return items, nil
		case ",":
			continue
		case "[", "(", ")":
			return nil, p.errAt(t, fmt.Sprintf("unexpected %q in a list of %s", t.s, what))
		}
		items = append(items, t)
	}
}

type cmpTok struct {
	op  cmpOp
	tok string
}

// cmpNext reads a comparison operator if one comes next.
func (p *filterParser) cmpNext() (cmpTok, bool) {
	t, ok := p.peek()
	if !ok {
		return cmpTok{}, false
	}
	op, ok := cmpOps[strings.ToLower(t.s)]
	if ok {
		p.i++
	}
	return cmpTok{op, t.s}, ok
}

var cmpOps = map[string]cmpOp{"=": opEq, "==": opEq, "eq": opEq, "!=": opNe, "ne": opNe,
	"<": opLt, "lt": opLt, "<=": opLe, "le": opLe, ">": opGt, "gt": opGt, ">=": opGe, "ge": opGe}

func (p *filterParser) parseCmp() cmpOp {
	op, _ := p.cmpNext()
	return op.op
}

// parseNumber reads [cmp] N, N at most max; with scaled, N may end in k, m
// or g (powers of 1000).
func (p *filterParser) parseNumber(w string, max uint64, scaled bool) (cmpOp, uint64, error) {
	op := p.parseCmp()
	a, err := p.next("a number after \"" + w + "\"")
	if err != nil {
		return 0, 0, err
	}
	var v uint64
	ok := false
	if scaled {
		v, ok = parseScaled(a.s)
	} else {
		var perr error
		v, perr = strconv.ParseUint(a.s, 10, 64)
		ok = perr == nil
	}
	if !ok || v > max {
		msg := fmt.Sprintf("expected a number from 0 to %d after %q, found %q", max, w, a.s)
		if scaled {
			msg = fmt.Sprintf("expected a number (optionally with k, m or g) after %q, found %q", w, a.s)
		}
		return 0, 0, p.errAt(a, msg)
	}
	return op, v, nil
}

// parseNet reads a network in CIDR notation, also nfdump's shortened IPv4
// form with fewer than four octets (10.0/16 is 10.0.0.0/16).
func parseNet(s string) (netip.Prefix, bool) {
	addr, bitsS, ok := strings.Cut(s, "/")
	if !ok {
		return netip.Prefix{}, false
	}
	if !strings.Contains(addr, ":") {
		if n := strings.Count(addr, "."); n < 3 && addr != "" {
			addr += strings.Repeat(".0", 3-n)
		}
	}
	pfx, err := netip.ParsePrefix(addr + "/" + bitsS)
	if err != nil {
		return netip.Prefix{}, false
	}
	if pfx.Addr().Is4In6() {
		pfx = netip.PrefixFrom(pfx.Addr().Unmap(), max(pfx.Bits()-96, 0))
	}
	return pfx.Masked(), true
}

// maskBits reads a dotted IPv4 netmask (255.255.0.0) as a prefix length.
func maskBits(s string) (int, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, false
	}
	b := a.As4()
	m := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := bits.LeadingZeros32(^m)
	if m<<n != 0 {
		return 0, false // not contiguous
	}
	return n, true
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
