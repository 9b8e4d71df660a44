package analyzer

import (
	"bufio"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// StatKeys lists the keys --stat accepts, like nfdump -s. "ip", "port" and "as"
// count each flow for both its source and its destination (once if they are equal),
// as nfdump does; "pair" is the unordered address pair.
var StatKeys = []string{"src", "dst", "ip", "pair", "service", "port", "srcport", "dstport", "proto", "exporter", "as", "srcas", "dstas"}

// StatOrders lists the measures --by accepts.
var StatOrders = []string{"bytes", "packets", "flows"}

type statAgg struct{ flows, packets, bytes uint64 }

func (a *statAgg) add(f *Flow) {
	a.flows += f.Flows
	a.packets += f.Packets + f.RevPackets
	a.bytes += f.Bytes + f.RevBytes
}

// addAgg adds the sums of other flows.
func (a *statAgg) addAgg(o statAgg) {
	a.flows += o.flows
	a.packets += o.packets
	a.bytes += o.bytes
}

func (a *statAgg) measure(by string) uint64 {
	switch by {
	case "packets":
		return a.packets
	case "flows":
		return a.flows
	}
	return a.bytes
}

// statKey is the map key of every statistic; unused parts stay zero.
type statKey struct {
	a, b netip.Addr
	n    uint32
	p    uint8
}

type statTable struct {
	agg   *statAgg // set by addAgg: what bump adds
	key   string
	idx   map[statKey]int32
	keys  []statKey
	aggs  []statAgg
	total statAgg
}

func newStatTable(key string) *statTable {
	return &statTable{key: key, idx: make(map[statKey]int32)}
}

func (t *statTable) bump(k statKey, f *Flow) {
	i, ok := t.idx[k]
	if !ok {
		i = int32(len(t.aggs))
		t.idx[k] = i
		t.keys = append(t.keys, k)
		t.aggs = append(t.aggs, statAgg{})
	}
	if t.agg != nil {
		t.aggs[i].addAgg(*t.agg)
		return
	}
	t.aggs[i].add(f)
}

func (t *statTable) add(f *Flow) {
	t.total.add(f)
	t.keysOf(f)
}

// addAgg counts the sums of flows grouped elsewhere (on a ClickHouse
// server) under the keys of f, which has the grouped fields; the total is
// the caller's.
func (t *statTable) addAgg(f *Flow, agg statAgg) {
	t.agg = &agg
	t.keysOf(f)
	t.agg = nil
}

// keysOf bumps the keys of f.
func (t *statTable) keysOf(f *Flow) {
	switch t.key {
	case "src":
		t.bump(statKey{a: f.Src}, f)
	case "dst":
		t.bump(statKey{a: f.Dst}, f)
	case "ip":
		t.bump(statKey{a: f.Src}, f)
		if f.Dst != f.Src {
			t.bump(statKey{a: f.Dst}, f)
		}
	case "pair":
		a, b := f.Src, f.Dst
		if b.Less(a) {
			a, b = b, a
		}
		t.bump(statKey{a: a, b: b}, f)
	case "service":
		if !hasPorts(f.Proto) {
			t.bump(statKey{p: f.Proto, n: 1 << 16}, f)
			break
		}
		port := f.SrcPort
		if dst, _ := serverSide(f); dst {
			port = f.DstPort
		}
		t.bump(statKey{p: f.Proto, n: uint32(port)}, f)
	case "port":
		t.bump(statKey{n: uint32(f.SrcPort)}, f)
		if f.DstPort != f.SrcPort {
			t.bump(statKey{n: uint32(f.DstPort)}, f)
		}
	case "srcport":
		t.bump(statKey{n: uint32(f.SrcPort)}, f)
	case "dstport":
		t.bump(statKey{n: uint32(f.DstPort)}, f)
	case "proto":
		t.bump(statKey{p: f.Proto}, f)
	case "exporter":
		t.bump(statKey{a: f.Exporter}, f)
	case "as":
		t.bump(statKey{n: f.SrcAS}, f)
		if f.DstAS != f.SrcAS {
			t.bump(statKey{n: f.DstAS}, f)
		}
	case "srcas":
		t.bump(statKey{n: f.SrcAS}, f)
	case "dstas":
		t.bump(statKey{n: f.DstAS}, f)
	}
}

func (t *statTable) label(k statKey) string {
	switch t.key {
	case "src", "dst", "ip", "exporter":
		if !k.a.IsValid() {
			return "-"
		}
		return k.a.String()
	case "pair":
		return k.a.String() + " <-> " + k.b.String()
	case "service":
		if k.n == 1<<16 {
			return strings.ToLower(ProtoName(k.p))
		}
		f := Flow{Proto: k.p, DstPort: uint16(k.n), SrcPort: uint16(k.n)}
		return Service(&f)
	case "proto":
		return ProtoName(k.p)
	}
	return strconv.FormatUint(uint64(k.n), 10)
}

// StatRow is one line of a top-N table.
type StatRow struct {
	Rank                  int
	Value                 string
	Name                  string // resolved host name(s), if any; for a pair "name-a <-> name-b"
	Flows, Packets, Bytes uint64

	addrs []netip.Addr // the addresses in Value
	names []string     // their names ("" where unresolved)
}

// display is Value with resolved names, for the table.
func (r *StatRow) display() string {
	if r.Name == "" {
		return r.Value
	}
	parts := make([]string, len(r.addrs))
	for i, a := range r.addrs {
		parts[i] = a.String()
		if r.names[i] != "" {
			parts[i] = r.names[i] + " (" + parts[i] + ")"
		}
	}
	return strings.Join(parts, " <-> ")
}

// top returns the n largest entries by the measure, ties broken by the label.
func (t *statTable) top(n int, by string) []StatRow {
	order := make([]int32, len(t.aggs))
	for i := range order {
		order[i] = int32(i)
	}
	labels := make(map[int32]string)
	label := func(i int32) string {
		s, ok := labels[i]
		if !ok {
			s = t.label(t.keys[i])
			labels[i] = s
		}
		return s
	}
	sort.Slice(order, func(x, y int) bool {
		mx, my := t.aggs[order[x]].measure(by), t.aggs[order[y]].measure(by)
		if mx != my {
			return mx > my
		}
		return label(order[x]) < label(order[y])
	})
	if n > 0 && len(order) > n {
		order = order[:n]
	}
	rows := make([]StatRow, len(order))
	for r, i := range order {
		a := t.aggs[i]
		rows[r] = StatRow{Rank: r + 1, Value: label(i), Flows: a.flows, Packets: a.packets, Bytes: a.bytes}
	}
	return rows
}

func (t *statTable) addrsOf(row int, rows []StatRow) []netip.Addr {
	switch t.key {
	case "src", "dst", "ip", "exporter":
		if a, err := netip.ParseAddr(rows[row].Value); err == nil {
			return []netip.Addr{a}
		}
	case "pair":
		var as []netip.Addr
		for _, s := range strings.Split(rows[row].Value, " <-> ") {
			if a, err := netip.ParseAddr(s); err == nil {
				as = append(as, a)
			}
		}
		return as
	}
	return nil
}

// writeStats prints the top rows of t.
func writeStats(w *bufio.Writer, format string, t *statTable, rows []StatRow, by string, first bool, cols int) {
	tot := t.total
	switch format {
	case "csv":
		if first {
			w.WriteString("stat,rank,value,name,flows,flows_pct,packets,packets_pct,bytes,bytes_pct\n")
		}
		for _, r := range rows {
			b := []byte(t.key + "," + strconv.Itoa(r.Rank) + ",")
			b = appendCSV(b, r.Value)
			b = append(b, ',')
			b = appendCSV(b, r.Name)
			b = fmt.Appendf(b, ",%d,%.2f,%d,%.2f,%d,%.2f\n", r.Flows, pct(r.Flows, tot.flows), r.Packets, pct(r.Packets, tot.packets), r.Bytes, pct(r.Bytes, tot.bytes))
			w.Write(b)
		}
	case "json":
		for _, r := range rows {
			b := []byte(`{"stat":`)
			b = appendJSONString(b, t.key)
			b = fmt.Appendf(b, `,"rank":%d,"value":`, r.Rank)
			b = appendJSONString(b, r.Value)
			if r.Name != "" {
				b = append(b, `,"name":`...)
				b = appendJSONString(b, r.Name)
			}
			b = fmt.Appendf(b, `,"flows":%d,"flows_pct":%.2f,"packets":%d,"packets_pct":%.2f,"bytes":%d,"bytes_pct":%.2f}`+"\n",
				r.Flows, pct(r.Flows, tot.flows), r.Packets, pct(r.Packets, tot.packets), r.Bytes, pct(r.Bytes, tot.bytes))
			w.Write(b)
		}
	default:
		if !first {
			w.WriteString("\n")
		}
		fmt.Fprintf(w, "Top %d %s by %s (of %d flows, %d packets, %s)\n", len(rows), t.key, by, tot.flows, tot.packets, HumanSize(tot.bytes))
		width := len(t.key)
		vals := make([]string, len(rows))
		for i := range rows {
			vals[i] = rows[i].display()
			width = max(width, utf8.RuneCountInString(vals[i]))
		}
		if cols > 0 && 72+width > cols {
			// The compact table of a narrow terminal: numbers in SI units,
			// values cut to what is left ("…").
			width = max(len(t.key), min(width, cols-53))
			fmt.Fprintf(w, "%4s  %s %7s %6s %8s %6s %8s %6s\n", "Rank", padRight(strings.ToUpper(t.key), width), "Flows", "%", "Packets", "%", "Bytes", "%")
			for i, r := range rows {
				v := vals[i]
				if utf8.RuneCountInString(v) > width {
					v = string([]rune(v)[:width-1]) + "…"
				}
				fmt.Fprintf(w, "%4d  %s %7s %5.1f%% %8s %5.1f%% %8s %5.1f%%\n", r.Rank, padRight(v, width),
					appendSI(nil, r.Flows), pct(r.Flows, tot.flows), appendSI(nil, r.Packets), pct(r.Packets, tot.packets), HumanSize(r.Bytes), pct(r.Bytes, tot.bytes))
			}
			return
		}
		fmt.Fprintf(w, "%s\n", strings.TrimRight(fmt.Sprintf("%4s | %s | %s | %s | %s", "Rank", padRight(strings.ToUpper(t.key), width),
			padLeft("Flows", 10)+" "+padRight("(%)", 8), padLeft("Packets", 10)+" "+padRight("(%)", 8), padLeft("Bytes", 9)+" "+padRight("(%)", 8)), " "))
		for i, r := range rows {
			fmt.Fprintf(w, "%4d | %s | %10d (%5.1f%%) | %10d (%5.1f%%) | %9s (%5.1f%%)\n", r.Rank, padRight(vals[i], width),
				r.Flows, pct(r.Flows, tot.flows), r.Packets, pct(r.Packets, tot.packets), HumanSize(r.Bytes), pct(r.Bytes, tot.bytes))
		}
	}
}
