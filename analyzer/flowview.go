package analyzer

import (
	"bufio"
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The flow view (--flows): one row per flow, in chosen columns, in input
// order or sorted, and the aggregation (--aggregate): flows merged by a key,
// shown in the same columns.

// flowCol is a column of the flow view.
type flowCol uint8

const (
	fcStart flowCol = iota
	fcEnd
	fcDuration
	fcProto
	fcSrc // address:port
	fcDst
	fcSrcAddr
	fcDstAddr
	fcSrcPort
	fcDstPort
	fcSrcNet // address/prefix length (aggregation by srcnet)
	fcDstNet
	fcService
	fcFlows
	fcPackets
	fcBytes
	fcBPS
	fcPPS
	fcBPP
	fcFlags
	fcTOS
	fcExporter
	fcInIf
	fcOutIf
	fcSrcAS
	fcDstAS
	fcSrcVLAN
	fcDstVLAN
	fcSrcMAC
	fcDstMAC
	fcSrcMask
	fcDstMask
	fcDirection
	numFlowCols
)

// flowColInfo describes a column: its names (the first is canonical), its
// table title and width (right-aligned when right), its CSV/JSON keys, and
// the optional fields it needs scanned.
type flowColInfo struct {
	names []string
	title string
	width int
	right bool
	keys  []string
	acts  uint64
}

var flowCols = [numFlowCols]flowColInfo{
	fcStart:     {[]string{"start", "first", "tstart"}, "Date first seen", 23, false, []string{"start"}, 0},
	fcEnd:       {[]string{"end", "last", "tend"}, "Date last seen", 23, false, []string{"end"}, 0},
	fcDuration:  {[]string{"duration", "td"}, "Duration", 9, true, []string{"duration_ms"}, 0},
	fcProto:     {[]string{"proto", "pr"}, "Proto", 6, false, []string{"proto"}, 0},
	fcSrc:       {[]string{"src", "sap"}, "Src IP Addr:Port", 21, false, []string{"src_addr", "src_port"}, 0},
	fcDst:       {[]string{"dst", "dap"}, "Dst IP Addr:Port", 21, false, []string{"dst_addr", "dst_port"}, 0},
	fcSrcAddr:   {[]string{"srcaddr", "srcip", "sa"}, "Src IP Addr", 15, false, []string{"src_addr"}, 0},
	fcDstAddr:   {[]string{"dstaddr", "dstip", "da"}, "Dst IP Addr", 15, false, []string{"dst_addr"}, 0},
	fcSrcPort:   {[]string{"srcport", "sport", "sp"}, "Src Pt", 6, true, []string{"src_port"}, 0},
	fcDstPort:   {[]string{"dstport", "dport", "dp"}, "Dst Pt", 6, true, []string{"dst_port"}, 0},
	fcSrcNet:    {[]string{"srcnet", "sn"}, "Src Net", 18, false, []string{"src_net"}, 0},
	fcDstNet:    {[]string{"dstnet", "dn"}, "Dst Net", 18, false, []string{"dst_net"}, 0},
	fcService:   {[]string{"service"}, "Service", 14, false, []string{"service"}, 0},
	fcFlows:     {[]string{"flows", "fl"}, "Flows", 6, true, []string{"flows"}, 0},
	fcPackets:   {[]string{"packets", "pkt"}, "Packets", 7, true, []string{"packets"}, 0},
	fcBytes:     {[]string{"bytes", "byt"}, "Bytes", 8, true, []string{"bytes"}, 0},
	fcBPS:       {[]string{"bps"}, "bps", 7, true, []string{"bps"}, 0},
	fcPPS:       {[]string{"pps"}, "pps", 7, true, []string{"pps"}, 0},
	fcBPP:       {[]string{"bpp"}, "Bpp", 5, true, []string{"bpp"}, 0},
	fcFlags:     {[]string{"flags", "flg"}, "Flags", 6, false, []string{"tcp_flags"}, 1 << actTCPFlags},
	fcTOS:       {[]string{"tos"}, "Tos", 3, true, []string{"tos"}, 1 << actTOS},
	fcExporter:  {[]string{"exporter", "router", "ra"}, "Exporter", 15, false, []string{"exporter"}, 1 << actExporter},
	fcInIf:      {[]string{"in", "inif"}, "In", 5, true, []string{"in_if"}, 1 << actInIf},
	fcOutIf:     {[]string{"out", "outif"}, "Out", 5, true, []string{"out_if"}, 1 << actOutIf},
	fcSrcAS:     {[]string{"srcas", "sas"}, "Src AS", 10, true, []string{"src_as"}, 1 << actSrcAS},
	fcDstAS:     {[]string{"dstas", "das"}, "Dst AS", 10, true, []string{"dst_as"}, 1 << actDstAS},
	fcSrcVLAN:   {[]string{"srcvlan", "svln"}, "SVlan", 5, true, []string{"src_vlan"}, 1 << actSrcVLAN},
	fcDstVLAN:   {[]string{"dstvlan", "dvln"}, "DVlan", 5, true, []string{"dst_vlan"}, 1 << actDstVLAN},
	fcSrcMAC:    {[]string{"srcmac", "smac"}, "Src MAC", 17, false, []string{"src_mac"}, 1 << actSrcMAC},
	fcDstMAC:    {[]string{"dstmac", "dmac"}, "Dst MAC", 17, false, []string{"dst_mac"}, 1 << actDstMAC},
	fcSrcMask:   {[]string{"srcmask", "smk"}, "SMask", 5, true, []string{"src_mask"}, 1 << actSrcMask},
	fcDstMask:   {[]string{"dstmask", "dmk"}, "DMask", 5, true, []string{"dst_mask"}, 1 << actDstMask},
	fcDirection: {[]string{"dir", "direction"}, "Dir", 3, true, []string{"direction"}, 1 << actDirection},
}

// FlowColumns lists the column names of --columns.
var FlowColumns = func() []string {
	var s []string
	for _, c := range flowCols {
		s = append(s, c.names[0])
	}
	return s
}()

// defaultFlowColumns are the flow view's columns without --columns.
const defaultFlowColumns = "start,duration,proto,src,dst,flags,packets,bytes,bps,bpp"

// parseFlowColumns reads a comma-separated list of column names.
func parseFlowColumns(s string) ([]flowCol, error) {
	var cols []flowCol
	for _, name := range strings.Split(s, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		found := false
		for c := range flowCols {
			if slices.Contains(flowCols[c].names, name) {
				cols = append(cols, flowCol(c))
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown column %q (want one of %s)", name, strings.Join(FlowColumns, ", "))
		}
	}
	return cols, nil
}

// FlowSortKeys are the orders of --sort: times ascending, the rest
// descending (the largest first).
var FlowSortKeys = []string{"start", "end", "duration", "flows", "packets", "bytes", "bps", "pps", "bpp"}

// sortValue returns f's value of a sort key, negated for the ascending ones
// so that larger always sorts first.
func sortValue(f *Flow, key string) int64 {
	switch key {
	case "start":
		return -f.Start
	case "end":
		return -f.End
	case "duration":
		return f.End - f.Start
	case "flows":
		return clampInt(f.Flows)
	case "packets":
		return clampInt(f.Packets)
	case "bps":
		return clampInt(rate(f.Bytes, 8000, f))
	case "pps":
		return clampInt(rate(f.Packets, 1000, f))
	case "bpp":
		return clampInt(fieldBPP.value(f))
	}
	return clampInt(f.Bytes)
}

func clampInt(v uint64) int64 { return int64(min(v, 1<<63-1)) }

// aggSpec is the key of --aggregate: which fields a flow is merged by, and
// the prefix lengths of the address keys.
type aggSpec struct {
	fields         uint32 // aggField bits
	src4, src6     int    // prefix lengths of srcnet / srcnet6 (0: whole address)
	dst4, dst6     int
	srcNet, dstNet bool // an address key is a prefix (shown as address/length)
	names          []string
	cols           []flowCol // the key's columns
}

const (
	aggSrc = 1 << iota
	aggDst
	aggSrcPort
	aggDstPort
	aggProto
	aggSrcAS
	aggDstAS
	aggExporter
	aggInIf
	aggOutIf
	aggTOS
	aggSrcVLAN
	aggDstVLAN
)

// AggregateKeys lists the keys of --aggregate; srcnet/N and dstnet/N mask
// IPv4 addresses to N bits, srcnet6/N and dstnet6/N IPv6 addresses.
var AggregateKeys = []string{"srcip", "dstip", "srcnet/N", "dstnet/N", "srcnet6/N", "dstnet6/N", "srcport", "dstport",
	"proto", "srcas", "dstas", "exporter", "inif", "outif", "tos", "srcvlan", "dstvlan"}

// parseAggregate reads the keys of --aggregate.
func parseAggregate(keys []string) (*aggSpec, error) {
	sp := &aggSpec{src4: 32, src6: 128, dst4: 32, dst6: 128}
	cols := map[flowCol]bool{}
	var order []flowCol
	add := func(c flowCol) {
		if !cols[c] {
			cols[c] = true
			order = append(order, c)
		}
	}
	for _, k := range keys {
		k = strings.ToLower(strings.TrimSpace(k))
		name, bitsS, hasBits := strings.Cut(k, "/")
		nbits := -1
		if hasBits {
			n, err := strconv.Atoi(bitsS)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("aggregation key %q: the prefix length must be a number", k)
			}
			nbits = n
		}
		simple := map[string]uint32{"srcip": aggSrc, "dstip": aggDst, "srcport": aggSrcPort, "dstport": aggDstPort,
			"proto": aggProto, "srcas": aggSrcAS, "dstas": aggDstAS, "exporter": aggExporter, "inif": aggInIf,
			"outif": aggOutIf, "tos": aggTOS, "srcvlan": aggSrcVLAN, "dstvlan": aggDstVLAN}
		if bit, ok := simple[name]; ok && !hasBits {
			sp.fields |= bit
			add(map[uint32]flowCol{aggSrc: fcSrcAddr, aggDst: fcDstAddr, aggSrcPort: fcSrcPort, aggDstPort: fcDstPort,
				aggProto: fcProto, aggSrcAS: fcSrcAS, aggDstAS: fcDstAS, aggExporter: fcExporter, aggInIf: fcInIf,
				aggOutIf: fcOutIf, aggTOS: fcTOS, aggSrcVLAN: fcSrcVLAN, aggDstVLAN: fcDstVLAN}[bit])
			sp.names = append(sp.names, name)
			continue
		}
		v6 := strings.HasSuffix(name, "6")
		base := strings.TrimSuffix(strings.TrimSuffix(name, "6"), "4")
		base = strings.Replace(base, "ip", "net", 1) // nfdump's srcip4/24
		if (base != "srcnet" && base != "dstnet") || !hasBits {
			return nil, fmt.Errorf("unknown aggregation key %q (want %s)", k, strings.Join(AggregateKeys, ", "))
		}
		if max := map[bool]int{false: 32, true: 128}[v6]; nbits > max {
			return nil, fmt.Errorf("aggregation key %q: an IPv%s prefix length is at most %d", k, map[bool]string{false: "4", true: "6"}[v6], max)
		}
		if base == "srcnet" {
			sp.fields |= aggSrc
			sp.srcNet = true
			if v6 {
				sp.src6 = nbits
			} else {
				sp.src4 = nbits
			}
			add(fcSrcNet)
		} else {
			sp.fields |= aggDst
			sp.dstNet = true
			if v6 {
				sp.dst6 = nbits
			} else {
				sp.dst4 = nbits
			}
			add(fcDstNet)
		}
		sp.names = append(sp.names, k)
	}
	if sp.fields == 0 {
		return nil, errors.New("--aggregate needs at least one key")
	}
	// An address that is both a whole-address key and a prefix key shows as the prefix.
	order = slices.DeleteFunc(order, func(c flowCol) bool {
		return c == fcSrcAddr && sp.srcNet || c == fcDstAddr && sp.dstNet
	})
	sp.cols = order
	return sp, nil
}

// aggKey is what flows are merged by; fields not in the key are zero. It
// holds no pointers (addresses as 16 bytes and a family bit), so that the
// map of aggregates is not scanned by the garbage collector and hashes as
// plain memory.
type aggKey struct {
	src, dst, exporter        [16]byte
	srcAS, dstAS, inIf, outIf uint32
	sport, dport              uint16
	srcVLAN, dstVLAN          uint16
	proto, tos                uint8
	fam                       uint8 // famSrc4, famDst4, famExp4, famExp: the families
	_                         uint8
}

const (
	famSrc4 = 1 << iota
	famDst4
	famExp4
	famExp // the exporter is known
)

// aggRec is an aggregate's counters.
type aggRec struct {
	start, end            int64
	flows, packets, bytes uint64
	revPackets, revBytes  uint64
	tcpFlags              uint16
}

// masked returns a masked to the prefix length for its family.
func masked(a netip.Addr, bits4, bits6 int) netip.Addr {
	bits := bits4
	if !a.Is4() {
		bits = bits6
	}
	if bits >= a.BitLen() {
		return a
	}
	p, _ := a.Prefix(bits)
	return p.Addr()
}

func (sp *aggSpec) key(f *Flow, k *aggKey) {
	*k = aggKey{}
	fl := sp.fields
	if fl&aggSrc != 0 {
		a := masked(f.Src, sp.src4, sp.src6)
		k.src = a.As16()
		if a.Is4() {
			k.fam |= famSrc4
		}
	}
	if fl&aggDst != 0 {
		a := masked(f.Dst, sp.dst4, sp.dst6)
		k.dst = a.As16()
		if a.Is4() {
			k.fam |= famDst4
		}
	}
	if fl&aggSrcPort != 0 {
		k.sport = f.SrcPort
	}
	if fl&aggDstPort != 0 {
		k.dport = f.DstPort
	}
	if fl&aggProto != 0 {
		k.proto = f.Proto
	}
	if fl&(aggSrcAS|aggDstAS|aggExporter|aggInIf|aggOutIf|aggTOS|aggSrcVLAN|aggDstVLAN) != 0 {
		if fl&aggSrcAS != 0 {
			k.srcAS = f.SrcAS
		}
		if fl&aggDstAS != 0 {
			k.dstAS = f.DstAS
		}
		if fl&aggExporter != 0 && f.Exporter.IsValid() {
			k.exporter = f.Exporter.As16()
			k.fam |= famExp
			if f.Exporter.Is4() {
				k.fam |= famExp4
			}
		}
		if fl&aggInIf != 0 {
			k.inIf = f.InIf
		}
		if fl&aggOutIf != 0 {
			k.outIf = f.OutIf
		}
		if fl&aggTOS != 0 {
			k.tos = f.TOS
		}
		if fl&aggSrcVLAN != 0 {
			k.srcVLAN = f.SrcVLAN
		}
		if fl&aggDstVLAN != 0 {
			k.dstVLAN = f.DstVLAN
		}
	}
}

// addrOf returns the address of a key's 16 bytes.
func addrOf(b [16]byte, v4 bool) netip.Addr {
	a := netip.AddrFrom16(b)
	if v4 {
		return a.Unmap()
	}
	return a
}

// flow returns the aggregate of key k and counters r as a Flow, for the
// writer and the sort.
func (sp *aggSpec) flow(k *aggKey, r *aggRec) Flow {
	f := Flow{Start: r.start, End: r.end, Flows: r.flows, Packets: r.packets, Bytes: r.bytes,
		RevPackets: r.revPackets, RevBytes: r.revBytes, TCPFlags: r.tcpFlags,
		SrcAS: k.srcAS, DstAS: k.dstAS, SrcPort: k.sport, DstPort: k.dport, Proto: k.proto, TOS: k.tos,
		InIf: k.inIf, OutIf: k.outIf, SrcVLAN: k.srcVLAN, DstVLAN: k.dstVLAN}
	if sp.fields&aggSrc != 0 {
		f.Src = addrOf(k.src, k.fam&famSrc4 != 0)
		if sp.srcNet {
			f.SrcMask = uint8(min(map[bool]int{true: sp.src4, false: sp.src6}[f.Src.Is4()], f.Src.BitLen()))
		}
	}
	if sp.fields&aggDst != 0 {
		f.Dst = addrOf(k.dst, k.fam&famDst4 != 0)
		if sp.dstNet {
			f.DstMask = uint8(min(map[bool]int{true: sp.dst4, false: sp.dst6}[f.Dst.Is4()], f.Dst.BitLen()))
		}
	}
	if k.fam&famExp != 0 {
		f.Exporter = addrOf(k.exporter, k.fam&famExp4 != 0)
	}
	return f
}

// acts returns the optional fields the key needs scanned.
func (sp *aggSpec) acts() uint64 {
	var a uint64
	for bit, act := range map[uint32]uint64{aggSrcAS: 1 << actSrcAS, aggDstAS: 1 << actDstAS, aggExporter: 1 << actExporter,
		aggInIf: 1 << actInIf, aggOutIf: 1 << actOutIf, aggTOS: 1 << actTOS, aggSrcVLAN: 1 << actSrcVLAN, aggDstVLAN: 1 << actDstVLAN} {
		if sp.fields&bit != 0 {
			a |= act
		}
	}
	return a
}

// flowView gathers and writes the flow view or the aggregation.
type flowView struct {
	cols    []flowCol
	format  string
	sort    string // "" keeps the input order (flows only)
	limit   int    // rows at most (0: all)
	maxRows int    // flows held for sorting at most

	agg     *aggSpec
	index   map[aggKey]int32
	aggRecs []aggRec
	recs    []Flow // flows held for sorting (a heap when limited), or the aggregates at the end
	seq     []int64
	n       int64 // flows seen (for the order of equal sort values)

	th   *topHeap
	out  *flowWriter
	done bool // the limit was reached (unsorted flows): reading can stop
	err  error
}

// maxSortFlows bounds the flows --sort holds without --limit (about 200 bytes each).
const maxSortFlows = 4 << 20

func newFlowView(cfg *Config, w *bufio.Writer) (*flowView, error) {
	v := &flowView{format: cfg.Output, sort: cfg.Sort, limit: cfg.Limit, maxRows: maxSortFlows}
	if len(cfg.Aggregate) > 0 {
		sp, err := parseAggregate(cfg.Aggregate)
		if err != nil {
			return nil, err
		}
		v.agg = sp
		v.index = map[aggKey]int32{}
		v.sort = cmp.Or(v.sort, "bytes")
		v.cols = append(append([]flowCol{fcStart, fcDuration}, sp.cols...), fcFlows, fcPackets, fcBytes, fcBPS, fcPPS, fcBPP)
	} else {
		v.cols, _ = parseFlowColumns(defaultFlowColumns)
	}
	if cfg.Columns != "" {
		cols, err := parseFlowColumns(cfg.Columns)
		if err != nil {
			return nil, err
		}
		v.cols = cols
	}
	if v.sort != "" && !slices.Contains(FlowSortKeys, v.sort) {
		return nil, fmt.Errorf("unknown sort order %q (want one of %s)", v.sort, strings.Join(FlowSortKeys, ", "))
	}
	var err error
	v.out, err = newFlowWriter(w, cfg.Output, v.cols, cfg.Loc)
	return v, err
}

// acts returns the optional fields the view needs scanned.
func (v *flowView) acts() uint64 {
	var a uint64
	for _, c := range v.cols {
		a |= flowCols[c].acts
	}
	if v.agg != nil {
		a |= v.agg.acts()
	}
	return a
}

// add takes one matched flow.
func (v *flowView) add(f *Flow) {
	v.n++
	switch {
	case v.agg != nil:
		v.aggregate(f)
	case v.sort == "":
		if v.limit > 0 && v.n > int64(v.limit) {
			v.done = true
			return
		}
		if v.err == nil {
			v.err = v.out.write(f)
		}
	case v.limit > 0:
		v.keepTop(f)
	default:
		if len(v.recs) >= v.maxRows {
			if v.err == nil {
				v.err = fmt.Errorf("--sort without --limit holds every flow, and more than %d matched: give --limit N (the N first in that order) or a narrower filter", v.maxRows)
			}
			v.done = true
			return
		}
		v.recs = append(v.recs, *f)
		v.seq = append(v.seq, v.n)
	}
}

func (v *flowView) aggregate(f *Flow) {
	var k aggKey
	v.agg.key(f, &k)
	i, ok := v.index[k]
	if !ok {
		i = int32(len(v.aggRecs))
		v.index[k] = i
		v.aggRecs = append(v.aggRecs, aggRec{start: f.Start, end: f.End})
	}
	r := &v.aggRecs[i]
	r.flows += f.Flows
	r.packets += f.Packets
	r.bytes += f.Bytes
	r.revPackets += f.RevPackets
	r.revBytes += f.RevBytes
	r.start = min(r.start, f.Start)
	r.end = max(r.end, f.End)
	r.tcpFlags |= f.TCPFlags
}

// topHeap keeps the limit largest flows by the sort key: a min-heap whose
// root is the first to go.
type topHeap struct {
	v    *flowView
	vals []int64
}

func (h *topHeap) Len() int { return len(h.v.recs) }
func (h *topHeap) Less(i, j int) bool {
	if h.vals[i] != h.vals[j] {
		return h.vals[i] < h.vals[j]
	}
	return h.v.seq[i] > h.v.seq[j] // of equal values, the later one goes first
}
func (h *topHeap) Swap(i, j int) {
	r, s := h.v.recs, h.v.seq
	r[i], r[j] = r[j], r[i]
	s[i], s[j] = s[j], s[i]
	h.vals[i], h.vals[j] = h.vals[j], h.vals[i]
}
func (h *topHeap) Push(any) {}
func (h *topHeap) Pop() any { return nil }

func (v *flowView) keepTop(f *Flow) {
	h := v.heap()
	val := sortValue(f, v.sort)
	if len(v.recs) < v.limit {
		v.recs = append(v.recs, *f)
		v.seq = append(v.seq, v.n)
		h.vals = append(h.vals, val)
		heap.Fix(h, len(v.recs)-1)
		return
	}
	if val <= h.vals[0] { // not larger than the smallest kept (ties: the earlier stays)
		return
	}
	v.recs[0], v.seq[0], h.vals[0] = *f, v.n, val
	heap.Fix(h, 0)
}

func (v *flowView) heap() *topHeap {
	if v.th == nil {
		v.th = &topHeap{v: v}
	}
	return v.th
}

// finish sorts what was held and writes it.
func (v *flowView) finish() error {
	switch {
	case v.agg != nil:
		// The aggregates become Flows only as they are written.
		keys := make([]aggKey, len(v.aggRecs))
		for k, i := range v.index {
			keys[i] = k
		}
		v.index = nil
		vals := make([]int64, len(v.aggRecs))
		for i := range v.aggRecs {
			r := &v.aggRecs[i]
			f := Flow{Start: r.start, End: r.end, Flows: r.flows, Packets: r.packets, Bytes: r.bytes}
			vals[i] = sortValue(&f, v.sort)
		}
		for _, i := range v.order(vals) {
			if v.err != nil {
				break
			}
			f := v.agg.flow(&keys[i], &v.aggRecs[i])
			v.err = v.out.write(&f)
		}
	case v.sort != "":
		vals := make([]int64, len(v.recs))
		for i := range v.recs {
			vals[i] = sortValue(&v.recs[i], v.sort)
		}
		for _, i := range v.order(vals) {
			if v.err != nil {
				break
			}
			v.err = v.out.write(&v.recs[i])
		}
	}
	if err := v.out.flush(); err != nil && v.err == nil {
		v.err = err
	}
	return v.err
}

// order returns the indexes of the rows by their values, largest first (of
// equal values, the first seen first), cut to the limit. With a limit much
// smaller than the rows, the first ones are picked out with a heap of the
// limit's size rather than by sorting everything.
func (v *flowView) order(vals []int64) []int32 {
	// before reports whether row a comes before row b.
	before := func(a, b int32) bool {
		if vals[a] != vals[b] {
			return vals[a] > vals[b]
		}
		if v.seq != nil {
			return v.seq[a] < v.seq[b]
		}
		return a < b
	}
	var idx []int32
	if k := v.limit; k > 0 && len(vals) > 4*k {
		// A heap whose root is the row that goes last of those kept.
		h := make([]int32, 0, k)
		down := func(i int) {
			for {
				l := 2*i + 1
				if l >= len(h) {
					return
				}
				m := l
				if r := l + 1; r < len(h) && before(h[l], h[r]) {
					m = r
				}
				if !before(h[i], h[m]) {
					return
				}
				h[i], h[m] = h[m], h[i]
				i = m
			}
		}
		for i := range vals {
			r := int32(i)
			if len(h) < k {
				h = append(h, r)
				for j := len(h) - 1; j > 0; {
					p := (j - 1) / 2
					if !before(h[p], h[j]) {
						break
					}
					h[p], h[j] = h[j], h[p]
					j = p
				}
				continue
			}
			if before(r, h[0]) {
				h[0] = r
				down(0)
			}
		}
		idx = h
	} else {
		idx = make([]int32, len(vals))
		for i := range idx {
			idx[i] = int32(i)
		}
	}
	slices.SortFunc(idx, func(a, b int32) int {
		switch {
		case before(a, b):
			return -1
		case before(b, a):
			return 1
		}
		return 0
	})
	if v.limit > 0 && len(idx) > v.limit {
		idx = idx[:v.limit]
	}
	return idx
}

// flowWriter writes rows of flows in the chosen columns.
type flowWriter struct {
	w      *bufio.Writer
	format string
	cols   []flowCol
	times  timeCache
	header bool
	buf    []byte
}

func newFlowWriter(w *bufio.Writer, format string, cols []flowCol, loc *time.Location) (*flowWriter, error) {
	if !slices.Contains([]string{"table", "csv", "json"}, format) {
		return nil, fmt.Errorf("unknown output format %q (want table, csv or json)", format)
	}
	return &flowWriter{w: w, format: format, cols: cols, times: timeCache{loc: loc}}, nil
}

func (fw *flowWriter) writeHeader() {
	b := fw.buf
	switch fw.format {
	case "table":
		for i, c := range fw.cols {
			if i > 0 {
				b = append(b, ' ')
			}
			info := &flowCols[c]
			start := len(b)
			b = append(b, info.title...)
			if i < len(fw.cols)-1 || info.right {
				b = padFrom(b, start, info.width, info.right)
			}
		}
		b = append(b, '\n')
	case "csv":
		n := 0
		for _, c := range fw.cols {
			for _, k := range flowCols[c].keys {
				if n > 0 {
					b = append(b, ',')
				}
				b = append(b, k...)
				n++
			}
		}
		b = append(b, '\n')
	}
	fw.buf = b
}

// write formats f.
func (fw *flowWriter) write(f *Flow) error {
	if !fw.header {
		fw.header = true
		fw.writeHeader()
	}
	switch fw.format {
	case "table":
		fw.buf = fw.tableRow(fw.buf, f)
	case "csv":
		fw.buf = fw.csvRow(fw.buf, f)
	default:
		fw.buf = fw.jsonRow(fw.buf, f)
	}
	if len(fw.buf) >= connFlushAt {
		return fw.flush()
	}
	return nil
}

func (fw *flowWriter) flush() error {
	if !fw.header && fw.format != "json" {
		fw.header = true
		fw.writeHeader()
	}
	if len(fw.buf) == 0 {
		return nil
	}
	_, err := fw.w.Write(fw.buf)
	fw.buf = fw.buf[:0]
	return err
}

func (fw *flowWriter) tableRow(b []byte, f *Flow) []byte {
	last := len(fw.cols) - 1
	for i, c := range fw.cols {
		if i > 0 {
			b = append(b, ' ')
		}
		info := &flowCols[c]
		start := len(b)
		switch c {
		case fcPackets, fcFlows, fcBPS, fcPPS:
			// A right-aligned number whose length is known gets its
			// spaces first (padFrom then has nothing to move).
			v := fw.number(c, f)
			if v < 100000 {
				b = padLeftFor(b, info.width, decLen(v))
			}
			b = appendSI(b, v)
			b = padFrom(b, start, info.width, true)
			continue
		case fcDuration, fcBytes:
			b = padLeftFor(b, info.width, fw.textLen(c, f))
		}
		switch c {
		case fcStart:
			b = fw.times.appendMillis(b, f.Start)
		case fcEnd:
			b = fw.times.appendMillis(b, f.End)
		case fcDuration:
			b = appendMillisDuration(b, f.End-f.Start)
		case fcProto:
			b = appendProtoName(b, f.Proto, true)
		case fcSrc:
			b = appendAddrPort(b, f.Src, f.SrcPort, f, false)
		case fcDst:
			b = appendAddrPort(b, f.Dst, f.DstPort, f, true)
		case fcService:
			b = appendServiceCell(b, f, info.width)
		case fcBytes:
			b = appendHumanSize(b, f.Bytes)
		case fcFlags:
			b = appendTCPFlags(b, f)
		default:
			b = fw.plain(b, c, f)
		}
		switch {
		case info.right:
			b = padFrom(b, start, info.width, true)
		case i < last:
			b = padRightTo(b, start, info.width)
		}
	}
	return append(b, '\n')
}

// textLen returns the length of a right-aligned column's text in the
// table, or -1 when it does not tell.
func (fw *flowWriter) textLen(c flowCol, f *Flow) int {
	switch c {
	case fcDuration:
		return decLen(uint64(max(f.End-f.Start, 0))/1e9) + 4
	case fcBytes:
		return humanSizeLen(f.Bytes)
	}
	return -1
}

// number returns a numeric column's value.
func (fw *flowWriter) number(c flowCol, f *Flow) uint64 {
	switch c {
	case fcFlows:
		return f.Flows
	case fcPackets:
		return f.Packets
	case fcBytes:
		return f.Bytes
	case fcBPS:
		return rate(f.Bytes, 8000, f)
	case fcPPS:
		return rate(f.Packets, 1000, f)
	case fcBPP:
		return fieldBPP.value(f)
	case fcSrcPort:
		return uint64(f.SrcPort)
	case fcDstPort:
		return uint64(f.DstPort)
	case fcTOS:
		return uint64(f.TOS)
	case fcInIf:
		return uint64(f.InIf)
	case fcOutIf:
		return uint64(f.OutIf)
	case fcSrcAS:
		return uint64(f.SrcAS)
	case fcDstAS:
		return uint64(f.DstAS)
	case fcSrcVLAN:
		return uint64(f.SrcVLAN)
	case fcDstVLAN:
		return uint64(f.DstVLAN)
	case fcSrcMask:
		return uint64(f.SrcMask)
	case fcDstMask:
		return uint64(f.DstMask)
	case fcDirection:
		return uint64(f.Direction)
	case fcProto:
		return uint64(f.Proto)
	case fcFlags:
		return uint64(f.TCPFlags)
	case fcDuration:
		return uint64(f.End-f.Start) / 1e6
	}
	return 0
}

// plain appends the text of the columns that read the same in every format.
func (fw *flowWriter) plain(b []byte, c flowCol, f *Flow) []byte {
	switch c {
	case fcSrcAddr:
		return appendAddr(b, f.Src)
	case fcDstAddr:
		return appendAddr(b, f.Dst)
	case fcSrcNet:
		return appendNet(b, f.Src, f.SrcMask)
	case fcDstNet:
		return appendNet(b, f.Dst, f.DstMask)
	case fcExporter:
		if !f.Exporter.IsValid() {
			return b
		}
		return appendAddr(b, f.Exporter)
	case fcSrcMAC:
		return appendMAC(b, f.SrcMAC)
	case fcDstMAC:
		return appendMAC(b, f.DstMAC)
	case fcService:
		return appendService(b, f, false)
	}
	return appendUint(b, fw.number(c, f))
}

func (fw *flowWriter) csvRow(b []byte, f *Flow) []byte {
	for i, c := range fw.cols {
		if i > 0 {
			b = append(b, ',')
		}
		switch c {
		case fcStart:
			b = appendRFC3339(b, f.Start)
		case fcEnd:
			b = appendRFC3339(b, f.End)
		case fcSrc:
			b = append(appendAddr(b, f.Src), ',')
			b = appendUint(b, uint64(f.SrcPort))
		case fcDst:
			b = append(appendAddr(b, f.Dst), ',')
			b = appendUint(b, uint64(f.DstPort))
		default:
			b = fw.plain(b, c, f)
		}
	}
	return append(b, '\n')
}

func (fw *flowWriter) jsonRow(b []byte, f *Flow) []byte {
	b = append(b, '{')
	for i, c := range fw.cols {
		if i > 0 {
			b = append(b, ',')
		}
		keys := flowCols[c].keys
		b = append(append(append(b, '"'), keys[0]...), '"', ':')
		switch c {
		case fcStart:
			b = append(appendRFC3339(append(b, '"'), f.Start), '"')
		case fcEnd:
			b = append(appendRFC3339(append(b, '"'), f.End), '"')
		case fcSrc, fcDst:
			a, p := f.Src, f.SrcPort
			if c == fcDst {
				a, p = f.Dst, f.DstPort
			}
			b = append(appendAddr(append(b, '"'), a), '"', ',', '"')
			b = append(append(b, keys[1]...), '"', ':')
			b = appendUint(b, uint64(p))
		case fcSrcAddr, fcDstAddr, fcSrcNet, fcDstNet, fcExporter, fcSrcMAC, fcDstMAC, fcService:
			b = append(fw.plain(append(b, '"'), c, f), '"')
		default:
			b = fw.plain(b, c, f)
		}
	}
	return append(b, '}', '\n')
}

// appendAddrPort appends "addr:port" ("[v6]:port"), the address alone for
// protocols without ports, and an ICMP flow's destination as "addr:type.code".
func appendAddrPort(b []byte, a netip.Addr, port uint16, f *Flow, dst bool) []byte {
	v6 := !a.Is4()
	icmp := f.Proto == 1 || f.Proto == 58
	withPort := hasPorts(f.Proto) || icmp && dst
	if v6 && withPort {
		b = append(b, '[')
	}
	b = appendAddr(b, a)
	if !withPort {
		return b
	}
	if v6 {
		b = append(b, ']')
	}
	b = append(b, ':')
	if icmp {
		b = appendUint(b, uint64(port>>8))
		return appendUint(append(b, '.'), uint64(port&0xff))
	}
	return appendUint(b, uint64(port))
}

func appendNet(b []byte, a netip.Addr, bits uint8) []byte {
	b = appendAddr(b, a)
	if bits == 0 && !a.IsValid() {
		return b
	}
	return appendUint(append(b, '/'), uint64(min(int(bits), a.BitLen())))
}

func appendMAC(b []byte, m uint64) []byte {
	const hex = "0123456789abcdef"
	for i := 5; i >= 0; i-- {
		o := byte(m >> (8 * i))
		b = append(b, hex[o>>4], hex[o&15])
		if i > 0 {
			b = append(b, ':')
		}
	}
	return b
}

// appendTCPFlags appends nfdump's flags text (UAPRSF, a dot for each flag
// not set) for TCP, dots otherwise.
func appendTCPFlags(b []byte, f *Flow) []byte {
	const letters = "UAPRSF"
	for i := 0; i < 6; i++ {
		if f.Proto == 6 && f.TCPFlags&(1<<(5-i)) != 0 {
			b = append(b, letters[i])
		} else {
			b = append(b, '.')
		}
	}
	return b
}

// appendSI appends v as is below 100000, else with one decimal and k, M, G,
// T (powers of 1000).
func appendSI(b []byte, v uint64) []byte {
	if v < 100000 {
		return appendUint(b, v)
	}
	d, unit := v, byte('k')
	for _, u := range []byte("kMGTPE") {
		unit = u
		if d/1000 < 1000 || u == 'E' {
			break
		}
		d /= 1000
	}
	// d is v in units of 1000 below unit; one decimal, rounded down.
	b = appendUint(b, d/1000)
	b = append(b, '.', byte('0'+d/100%10))
	return append(b, unit)
}

// appendMillisDuration appends a duration in seconds with milliseconds
// ("12.345"), as nfdump shows it.
func appendMillisDuration(b []byte, ns int64) []byte {
	ms := max(ns, 0) / 1e6
	b = appendUint(b, uint64(ms/1000))
	r := ms % 1000
	return append(b, '.', byte('0'+r/100), byte('0'+r/10%10), byte('0'+r%10))
}

// CheckFlowView reports what is wrong with the flow view's settings: an
// unknown column, sort order or aggregation key.
func CheckFlowView(columns, sort string, aggregate []string) error {
	if columns != "" {
		if _, err := parseFlowColumns(columns); err != nil {
			return fmt.Errorf("--columns: %v", err)
		}
	}
	if sort != "" && !slices.Contains(FlowSortKeys, sort) {
		return fmt.Errorf("--sort: unknown order %q (want one of %s)", sort, strings.Join(FlowSortKeys, ", "))
	}
	if len(aggregate) > 0 {
		if _, err := parseAggregate(aggregate); err != nil {
			return fmt.Errorf("--aggregate: %v", err)
		}
	}
	return nil
}
