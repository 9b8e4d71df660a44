package analyzer

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nfkit/nfkit/chrow"
)

// ClickHouse is a table of flows in ClickHouse (nfcollect --clickhouse) to
// analyze instead of files. Statistics and the timeline run as SQL on the
// server: the filter becomes a WHERE clause, each statistic a GROUP BY
// (with ORDER BY … LIMIT for a top-N of addresses, ports, protocols and AS
// numbers), the timeline a GROUP BY of the start time's bucket; only the
// aggregated rows travel. Connections pair both directions of a flow, in
// memory as with files: the flows are streamed from the server.
//
// The table's present column says which fields the exporter sent, so
// absent and 0 are told apart as in files; records without source or
// destination address (bad lines in files) are left out.
type ClickHouse struct {
	// URL is the HTTP interface, http://host:8123/?database=netflow; the
	// user and password may be in it (userinfo, user=, password=).
	URL      string
	Table    string // default "flows"
	Password string // overrides the URL's
	Timeout  time.Duration
}

// chConn is a parsed ClickHouse.
type chConn struct {
	base           string
	params         url.Values
	user, password string
	auth           bool
	table          string // quoted, qualified
	client         *http.Client
	timeout        time.Duration
}

func (c *ClickHouse) open() (*chConn, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("--clickhouse: bad URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("--clickhouse %s: want http://host:port/ or https://", u.Redacted())
	}
	cn := &chConn{params: u.Query(), client: &http.Client{}, timeout: c.Timeout}
	if cn.timeout <= 0 {
		cn.timeout = 10 * time.Minute
	}
	if u.User != nil {
		cn.user = u.User.Username()
		cn.password, _ = u.User.Password()
		cn.auth = true
	}
	if v := cn.params.Get("user"); v != "" {
		cn.user, cn.auth = v, true
	}
	if v, ok := cn.params["password"]; ok {
		cn.password, cn.auth = v[0], true
	}
	if c.Password != "" {
		cn.password, cn.auth = c.Password, true
	}
	if cn.auth && cn.user == "" {
		cn.user = "default"
	}
	t := chrow.Table{Database: cn.params.Get("database"), Name: c.Table}
	cn.table = t.Target()
	for _, k := range []string{"user", "password", "database", "query"} {
		cn.params.Del(k)
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	cn.base = u.String()
	return cn, nil
}

// query runs sql and calls row for each line of the TabSeparated answer,
// split into fields.
func (cn *chConn) query(sql string, row func(f []string) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), cn.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", cn.base+"?"+cn.params.Encode(), strings.NewReader(sql+"\nFORMAT TabSeparated"))
	if err != nil {
		return err
	}
	if cn.auth {
		req.Header.Set("X-ClickHouse-User", cn.user)
		req.Header.Set("X-ClickHouse-Key", cn.password)
	}
	resp, err := cn.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("clickhouse %s: %v", cn.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("clickhouse %s: HTTP %d: %s", cn.base, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if err := row(strings.Split(sc.Text(), "\t")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("clickhouse %s: reading the answer: %w", cn.base, err)
	}
	return nil
}

// The Flow fields as SQL expressions over the table's columns, as the
// JSON reader makes them (finish, fixTimes): the present column tells
// which fields the exporter sent.
var (
	sqlHasStart = sqlPresent("time_flow_start_ns")
	sqlHasEnd   = sqlPresent("time_flow_end_ns")
	sqlStart    = "if(" + sqlHasStart + ", time_flow_start_ns, if(" + sqlHasEnd + ", time_flow_end_ns, time_received_ns))"
	sqlBytes    = "if(" + sqlPresent("bytes") + ", bytes, out_bytes)"
	sqlPackets  = "if(packets != 0, packets, out_packets)"
	sqlFlows    = "if(flows = 0, 1, flows)"
	sqlDstPort  = "if(" + sqlPresent("icmp_type") + " AND src_port = 0 AND dst_port = 0, bitOr(bitShiftLeft(toUInt16(icmp_type), 8), toUInt16(icmp_code)), dst_port)"
	sqlBiflow   = "(" + sqlPresent("rev_bytes") + " OR " + sqlPresent("rev_packets") + ")"
	sqlSums     = "sum(" + sqlFlows + "), sum(" + sqlPackets + " + rev_packets), sum(" + sqlBytes + " + rev_bytes)"
	// Records without both addresses are bad lines in files.
	sqlHasAddrs = sqlPresent("src_addr") + " AND " + sqlPresent("dst_addr")
)

const (
	sqlZero16 = "toFixedString(unhex('00000000000000000000000000000000'), 16)"
	sqlMapped = "unhex('00000000000000000000FFFF')"
)

// sqlPresent returns the condition that the exporter sent a column.
func sqlPresent(col string) string {
	m, ok := chrow.PresentBit(col)
	if !ok {
		panic("analyzer: no present bit for " + col)
	}
	return "bitAnd(present, " + strconv.FormatUint(m, 10) + ") != 0"
}

// sqlAddr returns a's 16-byte column form as a literal.
func sqlAddr(a netip.Addr) string {
	b := a.As16()
	return "toFixedString(unhex('" + hex.EncodeToString(b[:]) + "'), 16)"
}

// sqlCmp returns the SQL operator of a comparison.
func sqlCmp(o cmpOp) string {
	return [...]string{opEq: "=", opNe: "!=", opLt: "<", opLe: "<=", opGt: ">", opGe: ">="}[o]
}

// sqlDir combines the conditions on the source and the destination.
func sqlDir(d dir, src, dst string) string {
	switch d {
	case dirSrc:
		return src
	case dirDst:
		return dst
	case dirBoth:
		return "(" + src + " AND " + dst + ")"
	}
	return "(" + src + " OR " + dst + ")"
}

// sqlInPrefix returns the condition that the address column col is in p,
// as netip.Prefix.Contains sees the flow's unmapped address.
func sqlInPrefix(col string, p netip.Prefix) string {
	a := p.Addr()
	bits := p.Bits()
	var conds []string
	if a.Is4() {
		bits += 96
		conds = append(conds, "substring("+col+", 1, 12) = "+sqlMapped)
	} else {
		conds = append(conds, "substring("+col+", 1, 12) != "+sqlMapped, col+" != "+sqlZero16)
	}
	b := a.As16()
	if full := bits / 8; full > 0 {
		conds = append(conds, fmt.Sprintf("substring(%s, 1, %d) = unhex('%s')", col, full, hex.EncodeToString(b[:full])))
	}
	if r := bits % 8; r > 0 {
		i := bits / 8
		mask := byte(0xff << (8 - r))
		conds = append(conds, fmt.Sprintf("bitAnd(reinterpretAsUInt8(substring(%s, %d, 1)), %d) = %d", col, i+1, mask, b[i]&mask))
	}
	return "(" + strings.Join(conds, " AND ") + ")"
}

// sqlFilter returns the filter as a SQL condition.
func sqlFilter(n node) string {
	switch n := n.(type) {
	case nil, anyNode:
		return "1"
	case andNode:
		return "(" + sqlFilter(n.a) + " AND " + sqlFilter(n.b) + ")"
	case orNode:
		return "(" + sqlFilter(n.a) + " OR " + sqlFilter(n.b) + ")"
	case notNode:
		return "NOT " + sqlFilter(n.a)
	case hostNode:
		a := sqlAddr(n.a)
		return sqlDir(n.d, "src_addr = "+a, "dst_addr = "+a)
	case netNode:
		return sqlDir(n.d, sqlInPrefix("src_addr", n.p), sqlInPrefix("dst_addr", n.p))
	case portNode:
		v, op := strconv.FormatUint(n.v, 10), sqlCmp(n.op)
		return "(proto IN (6, 17, 132, 33, 136) AND " + sqlDir(n.d, "src_port "+op+" "+v, sqlDstPort+" "+op+" "+v) + ")"
	case asNode:
		v, op := strconv.FormatUint(n.v, 10), sqlCmp(n.op)
		return sqlDir(n.d, "src_as "+op+" "+v, "dst_as "+op+" "+v)
	case protoNode:
		return "proto = " + strconv.Itoa(int(n))
	case exporterNode:
		return "sampler_address = " + sqlAddr(netip.Addr(n))
	case ipVersionNode:
		v6 := "(substring(src_addr, 1, 12) != " + sqlMapped + " AND src_addr != " + sqlZero16 + ")"
		if n {
			return v6
		}
		return "NOT " + v6
	case fieldNode:
		col, ok := sqlFieldCol(n)
		if !ok {
			break
		}
		return col + " " + sqlCmp(n.op) + " " + strconv.FormatUint(n.v, 10)
	case timeNode:
		var c []string
		if n.since != 0 {
			c = append(c, sqlStart+" >= "+strconv.FormatInt(n.since, 10))
		}
		if n.until != 0 {
			c = append(c, sqlStart+" < "+strconv.FormatInt(n.until, 10))
		}
		if len(c) == 0 {
			return "1"
		}
		return "(" + strings.Join(c, " AND ") + ")"
	}
	// A primitive added to the filter language without SQL: refused by
	// checkSQL before any query.
	return "unknown"
}

// sqlFieldCol returns the column of a comparison of one flow field that
// the table has, or false.
func sqlFieldCol(n fieldNode) (string, bool) {
	if n.src != n.dst {
		return "", false
	}
	switch n.src {
	case fieldBytes:
		return sqlBytes, true
	case fieldPackets:
		return sqlPackets, true
	}
	return "", false
}

// checkSQL reports a filter that cannot run on ClickHouse.
func checkSQL(n node) error {
	switch n := n.(type) {
	case andNode:
		return errors.Join(checkSQL(n.a), checkSQL(n.b))
	case orNode:
		return errors.Join(checkSQL(n.a), checkSQL(n.b))
	case notNode:
		return checkSQL(n.a)
	case nil, anyNode, hostNode, netNode, portNode, asNode, protoNode, exporterNode, ipVersionNode, timeNode:
		return nil
	case fieldNode:
		if _, ok := sqlFieldCol(n); ok {
			return nil
		}
		return fmt.Errorf("--clickhouse: this comparison (tos, vlan, in/out if, mask, flowdir, flows, bps/pps/bpp, duration, out bytes/packets) has no SQL yet; bytes and packets do")
	}
	name := "this filter primitive"
	switch n.(type) {
	case flagsNode:
		name = "flags"
	case macNode:
		name = "mac"
	case icmpNode:
		name = "icmp-type/icmp-code"
	case portListNode:
		name = "port in [...]"
	case asListNode:
		name = "as in [...]"
	case ipListNode:
		name = "ip/net in [...]"
	}
	return fmt.Errorf("--clickhouse: %s has no SQL yet; filter files for it", name)
}

// chStat is how a statistic is computed on the server: the expressions it
// groups by (columns of a synthetic Flow, see setField) and whether the
// group is the statistic's key (so ORDER BY … LIMIT may run on the
// server).
type chStat struct {
	cols  []string // SQL expressions
	dests []string // the Flow field each fills
	exact bool     // one group per key of the statistic
}

var chStats = map[string]chStat{
	"src":      {[]string{"hex(src_addr)"}, []string{"src"}, true},
	"dst":      {[]string{"hex(dst_addr)"}, []string{"dst"}, true},
	"ip":       {[]string{"hex(arrayJoin(if(src_addr = dst_addr, [src_addr], [src_addr, dst_addr])))"}, []string{"ip"}, true},
	"pair":     {[]string{"hex(if(src_addr < dst_addr, src_addr, dst_addr))", "hex(if(src_addr < dst_addr, dst_addr, src_addr))"}, []string{"src", "dst"}, true},
	"service":  {[]string{"proto", "src_port", sqlDstPort}, []string{"proto", "srcport", "dstport"}, false},
	"port":     {[]string{"arrayJoin(if(src_port = " + sqlDstPort + ", [src_port], [src_port, " + sqlDstPort + "]))"}, []string{"port"}, true},
	"srcport":  {[]string{"src_port"}, []string{"srcport"}, true},
	"dstport":  {[]string{sqlDstPort}, []string{"dstport"}, true},
	"proto":    {[]string{"proto"}, []string{"proto"}, true},
	"exporter": {[]string{"hex(sampler_address)"}, []string{"exporter"}, true},
	"as":       {[]string{"arrayJoin(if(src_as = dst_as, [src_as], [src_as, dst_as]))"}, []string{"as"}, true},
	"srcas":    {[]string{"src_as"}, []string{"srcas"}, true},
	"dstas":    {[]string{"dst_as"}, []string{"dstas"}, true},
}

// selectGroups returns the SELECT list of a statistic's groups, each
// aliased g0, g1, …, and the GROUP BY list of the aliases.
func selectGroups(cols []string) (sel, group string) {
	var s, g []string
	for i, c := range cols {
		s = append(s, fmt.Sprintf("%s AS g%d", c, i))
		g = append(g, fmt.Sprintf("g%d", i))
	}
	return strings.Join(s, ", "), strings.Join(g, ", ")
}

// parseAddr16 parses a hex FixedString(16) address; all zeros is absent.
func parseAddr16(s string) (netip.Addr, error) {
	var b [16]byte
	if len(s) != 32 {
		return netip.Addr{}, fmt.Errorf("address %q: want 32 hex digits", s)
	}
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return netip.Addr{}, fmt.Errorf("address %q: %v", s, err)
	}
	if b == [16]byte{} {
		return netip.Addr{}, nil
	}
	return netip.AddrFrom16(b).Unmap(), nil
}

// setField sets one field of a synthetic Flow from a grouped value.
func setField(f *Flow, dest, v string) error {
	switch dest {
	case "src", "dst", "ip", "exporter":
		a, err := parseAddr16(v)
		if err != nil {
			return err
		}
		switch dest {
		case "src":
			f.Src = a
		case "dst":
			f.Dst = a
		case "ip":
			f.Src, f.Dst = a, a
		default:
			f.Exporter = a
		}
		return nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return fmt.Errorf("%s %q: %v", dest, v, err)
	}
	switch dest {
	case "proto":
		f.Proto = uint8(n)
	case "srcport":
		f.SrcPort = uint16(n)
	case "dstport":
		f.DstPort = uint16(n)
	case "port":
		f.SrcPort, f.DstPort = uint16(n), uint16(n)
	case "as":
		f.SrcAS, f.DstAS = uint32(n), uint32(n)
	case "srcas":
		f.SrcAS = uint32(n)
	case "dstas":
		f.DstAS = uint32(n)
	}
	return nil
}

func parseAgg(f []string) (statAgg, error) {
	var a statAgg
	var err [3]error
	a.flows, err[0] = strconv.ParseUint(f[0], 10, 64)
	a.packets, err[1] = strconv.ParseUint(f[1], 10, 64)
	a.bytes, err[2] = strconv.ParseUint(f[2], 10, 64)
	if e := errors.Join(err[:]...); e != nil {
		return a, fmt.Errorf("clickhouse: bad sums %q: %v", f, e)
	}
	return a, nil
}

// byColumn is the SQL expression of the --by measure.
func byColumn(by string) string {
	switch by {
	case "packets":
		return "sum(" + sqlPackets + " + rev_packets)"
	case "flows":
		return "sum(" + sqlFlows + ")"
	}
	return "sum(" + sqlBytes + " + rev_bytes)"
}

// readClickHouse runs the analysis on the server.
func (a *run) readClickHouse(connMode bool) error {
	cn, err := a.cfg.ClickHouse.open()
	if err != nil {
		return err
	}
	if err := checkSQL(a.cfg.Filter.n); err != nil {
		return err
	}
	if connMode {
		return a.streamClickHouse(cn)
	}
	where := sqlHasAddrs + " AND " + sqlFilter(a.cfg.Filter.n)
	if err := cn.query("SELECT countIf("+sqlHasAddrs+"), countIf("+where+") FROM "+cn.table, func(f []string) error {
		a.sum.Flows, _ = strconv.ParseInt(f[0], 10, 64)
		a.sum.Matched, _ = strconv.ParseInt(f[1], 10, 64)
		return nil
	}); err != nil {
		return err
	}
	for _, t := range a.stats {
		if err := a.statClickHouse(cn, t, where); err != nil {
			return err
		}
	}
	if a.timeline != nil {
		iv := strconv.FormatInt(a.timeline.interval, 10)
		bucket := "(" + sqlStart + ") - (((" + sqlStart + ") % " + iv + ") + " + iv + ") % " + iv
		err := cn.query("SELECT "+bucket+" AS b, "+sqlSums+" FROM "+cn.table+" WHERE "+where+" GROUP BY b", func(f []string) error {
			if len(f) != 4 {
				return fmt.Errorf("clickhouse: unexpected row %q", f)
			}
			b, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return fmt.Errorf("clickhouse: bad bucket %q", f[0])
			}
			agg, err := parseAgg(f[1:])
			if err != nil {
				return err
			}
			a.timeline.addAgg(b, agg)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// statClickHouse fills one statistic from the server: its total, and its
// groups (the top ones only, ties at the cut included, when the group is
// the key).
func (a *run) statClickHouse(cn *chConn, t *statTable, where string) error {
	st, ok := chStats[t.key]
	if !ok {
		return fmt.Errorf("statistic %q has no SQL", t.key)
	}
	if err := cn.query("SELECT "+sqlSums+" FROM "+cn.table+" WHERE "+where, func(f []string) error {
		agg, err := parseAgg(f)
		t.total = agg
		return err
	}); err != nil {
		return err
	}
	groups, group := selectGroups(st.cols)
	n := len(st.cols)
	sel := "SELECT " + groups + ", " + sqlSums + " FROM " + cn.table + " WHERE " + where + " GROUP BY " + group
	if st.exact && a.cfg.Top > 0 {
		// The measure of the Top-th group; every group that ties with it
		// is fetched, and top breaks the ties as with files.
		var cut string
		err := cn.query("SELECT "+groups+", "+byColumn(a.cfg.By)+" AS m FROM "+cn.table+" WHERE "+where+" GROUP BY "+group+
			" ORDER BY m DESC LIMIT 1 OFFSET "+strconv.Itoa(a.cfg.Top-1), func(f []string) error { cut = f[len(f)-1]; return nil })
		if err != nil {
			return err
		}
		if cut != "" {
			sel += " HAVING " + byColumn(a.cfg.By) + " >= " + cut
		}
	}
	return cn.query(sel, func(f []string) error {
		if len(f) != n+3 {
			return fmt.Errorf("clickhouse: unexpected row %q", f)
		}
		var fl Flow
		for i, d := range st.dests {
			if err := setField(&fl, d, f[i]); err != nil {
				return fmt.Errorf("clickhouse: %v", err)
			}
		}
		agg, err := parseAgg(f[n:])
		if err != nil {
			return err
		}
		t.addAgg(&fl, agg)
		return nil
	})
}

// streamClickHouse reads every flow of the table in the order nfcollect
// received them (packets by receive time, records by their place in the
// packet) and takes each through handle (filter and pairing) as a file's
// would be.
func (a *run) streamClickHouse(cn *chConn) error {
	sql := "SELECT time_flow_start_ns, time_flow_end_ns, time_received_ns, " + sqlBytes + ", " + sqlPackets +
		", rev_bytes, rev_packets, flows, hex(src_addr), hex(dst_addr), hex(sampler_address), src_as, dst_as, src_port, " + sqlDstPort +
		", proto, CAST(type AS Int8), " + sqlHasStart + ", " + sqlHasEnd + ", " + sqlBiflow + " FROM " + cn.table + " WHERE " + sqlHasAddrs + " ORDER BY time_received_ns, sampler_address, observation_domain_id, sequence_num, record_offset"
	return cn.query(sql, func(r []string) error {
		if err := parseFlowRow(r, &a.flow); err != nil {
			return err
		}
		a.handle(&a.flow)
		return a.outErr
	})
}

// parseFlowRow makes a Flow from a row of streamClickHouse's query.
func parseFlowRow(r []string, f *Flow) error {
	if len(r) != 20 {
		return fmt.Errorf("clickhouse: unexpected row %q", r)
	}
	var num [17]uint64
	for _, i := range []int{0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16} {
		v, err := strconv.ParseInt(r[i], 10, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(r[i], 10, 64)
			if uerr != nil {
				return fmt.Errorf("clickhouse: bad number %q", r[i])
			}
			num[i] = u
			continue
		}
		num[i] = uint64(v)
	}
	*f = Flow{Start: int64(num[0]), End: int64(num[1]), Received: int64(num[2]), Bytes: num[3], Packets: num[4],
		RevBytes: num[5], RevPackets: num[6], Flows: num[7], SrcAS: uint32(num[11]), DstAS: uint32(num[12]),
		SrcPort: uint16(num[13]), DstPort: uint16(num[14]), Proto: uint8(num[15]), Version: uint8(num[16])}
	var err [3]error
	f.Src, err[0] = parseAddr16(r[8])
	f.Dst, err[1] = parseAddr16(r[9])
	f.Exporter, err[2] = parseAddr16(r[10])
	if e := errors.Join(err[:]...); e != nil {
		return fmt.Errorf("clickhouse: %v", e)
	}
	if r[17] == "1" {
		f.Flags |= flowHasStart
	}
	if r[18] == "1" {
		f.Flags |= flowHasEnd
	}
	if r[19] == "1" {
		f.Flags |= flowBiflow
	}
	f.fixTimes()
	return nil
}
