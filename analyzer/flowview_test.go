package analyzer

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// randomFlowFile writes n random flows (IPv4 and IPv6, a few equal values so
// that ties occur) to a file and returns its name and the flows as read by
// encoding/json.
func randomFlowFile(t *testing.T, n int, seed uint64) (string, []map[string]any) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 9))
	var buf bytes.Buffer
	var recs []map[string]any
	for i := range n {
		src := fmt.Sprintf("10.%d.%d.%d", r.IntN(3), r.IntN(4), r.IntN(256))
		dst := fmt.Sprintf("192.0.%d.%d", r.IntN(4), r.IntN(256))
		if r.IntN(5) == 0 {
			src = fmt.Sprintf("2001:db8:%x::%x", r.IntN(3), r.IntN(1000))
			dst = fmt.Sprintf("2001:db8:ff::%x", r.IntN(1000))
		}
		start := int64(1_700_000_000_000+r.IntN(3600_000)) * 1e6
		end := start + int64(r.IntN(5))*int64(r.IntN(60_000))*1e6
		rec := map[string]any{"time_flow_start_ns": start, "time_flow_end_ns": end, "bytes": 40 * (1 + r.IntN(50)),
			"packets": 1 + r.IntN(10), "src_addr": src, "dst_addr": dst, "src_port": 1024 + r.IntN(5), "dst_port": []int{22, 53, 443}[r.IntN(3)],
			"proto": []int{6, 17}[r.IntN(2)], "tcp_flags": r.IntN(64), "sampler_address": "192.0.2.1", "in_if": r.IntN(3)}
		line, _ := json.Marshal(rec)
		buf.Write(line)
		buf.WriteByte('\n')
		rec["i"] = i
		recs = append(recs, rec)
	}
	name := filepath.Join(t.TempDir(), "flows.jsonl")
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return name, recs
}

func runCSV(t *testing.T, cfg Config) ([][]string, Summary) {
	t.Helper()
	var out, errb bytes.Buffer
	cfg.Output = "csv"
	sum, err := Run(cfg, &out, &errb)
	if err != nil || errb.Len() > 0 {
		t.Fatalf("Run: %v %s", err, errb.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs, sum
}

// TestFlowsSortLimit: --sort K --limit N lists the first N of all flows
// sorted by K (of equal values, in input order); without --sort, --limit N
// lists the first N flows and stops reading.
func TestFlowsSortLimit(t *testing.T) {
	name, _ := randomFlowFile(t, 3000, 1)
	cols := "start,end,duration,src,dst,flows,packets,bytes,bps,pps,bpp"
	all, _ := runCSV(t, Config{Inputs: []string{name}, Flows: true, Columns: cols})
	if len(all) != 3001 {
		t.Fatalf("%d rows, want 3000 and a header", len(all))
	}
	head, rows := all[0], all[1:]
	col := func(k string) int { return slices.Index(head, k) }
	num := func(row []string, k string) int64 {
		if k == "start" || k == "end" {
			tm, err := time.Parse(time.RFC3339Nano, row[col(k)])
			if err != nil {
				t.Fatal(err)
			}
			return -tm.UnixNano()
		}
		if k == "duration" {
			k = "duration_ms"
		}
		v, err := strconv.ParseInt(row[col(k)], 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		return v
	}
	for _, key := range FlowSortKeys {
		want := slices.Clone(rows)
		slices.SortStableFunc(want, func(a, b []string) int { return cmp.Compare(num(b, key), num(a, key)) })
		for _, limit := range []int{0, 1, 7, 2999, 5000} {
			got, _ := runCSV(t, Config{Inputs: []string{name}, Flows: true, Columns: cols, Sort: key, Limit: limit})
			w := want
			if limit > 0 && limit < len(w) {
				w = w[:limit]
			}
			if !slices.EqualFunc(got[1:], w, slices.Equal) {
				t.Errorf("--sort %s --limit %d: %d rows differ from the sorted list's first (%d rows)", key, limit, len(got)-1, len(w))
			}
		}
	}
	got, sum := runCSV(t, Config{Inputs: []string{name}, Flows: true, Columns: cols, Limit: 5})
	if !slices.EqualFunc(got[1:], rows[:5], slices.Equal) {
		t.Errorf("--limit 5 without --sort: not the first five flows")
	}
	if sum.Lines > 100 {
		t.Errorf("--limit 5 read %d lines: reading should stop after the sixth matching flow", sum.Lines)
	}
}

// TestFlowsSortCap: --sort without --limit holds at most maxRows flows and
// then stops with an error that says what to do.
func TestFlowsSortCap(t *testing.T) {
	var out bytes.Buffer
	cfg := Config{Sort: "bytes", Output: "csv", Loc: time.UTC}
	v, err := newFlowView(&cfg, bufio.NewWriter(&out))
	if err != nil {
		t.Fatal(err)
	}
	v.maxRows = 10
	for i := range 11 {
		v.add(&Flow{Bytes: uint64(i), Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2")})
	}
	if !v.done || v.err == nil || !strings.Contains(v.err.Error(), "--limit") {
		t.Fatalf("after 11 flows with a cap of 10: done %v, err %v", v.done, v.err)
	}
}

// TestAggregateBrute: --aggregate gives what a map in the test gives, for
// several key sets, with the counters, first and last times.
func TestAggregateBrute(t *testing.T) {
	name, recs := randomFlowFile(t, 4000, 2)
	for _, keys := range [][]string{{"srcip"}, {"srcnet/16", "dstport"}, {"srcnet/8", "srcnet6/40", "proto"}, {"dstnet/24", "dstnet6/48", "srcport", "proto"},
		{"inif"}, {"exporter", "proto"}} {
		t.Run(strings.Join(keys, ","), func(t *testing.T) {
			type agg struct {
				flows, packets, bytes int64
				first, last           int64
			}
			want := map[string]*agg{}
			for _, rec := range recs {
				var parts []string
				for _, k := range keys {
					switch k {
					case "srcip":
						parts = append(parts, netip.MustParseAddr(rec["src_addr"].(string)).String())
					case "srcport":
						parts = append(parts, fmt.Sprint(rec["src_port"]))
					case "dstport":
						parts = append(parts, fmt.Sprint(rec["dst_port"]))
					case "proto":
						parts = append(parts, fmt.Sprint(rec["proto"]))
					case "inif":
						parts = append(parts, fmt.Sprint(rec["in_if"]))
					case "exporter":
						parts = append(parts, rec["sampler_address"].(string))
					default: // prefixes: the address side once, at its family's length
						side := k[:3]
						if slices.IndexFunc(keys, func(x string) bool { return strings.HasPrefix(x, side) }) != slices.Index(keys, k) {
							continue // the side's other prefix key
						}
						a := netip.MustParseAddr(rec[side+"_addr"].(string))
						bits := a.BitLen()
						for _, x := range keys {
							if n, ok := strings.CutPrefix(x, side+"net/"); ok && a.Is4() {
								bits, _ = strconv.Atoi(n)
							}
							if n, ok := strings.CutPrefix(x, side+"net6/"); ok && a.Is6() {
								bits, _ = strconv.Atoi(n)
							}
						}
						p, _ := a.Prefix(bits)
						parts = append(parts, p.String())
					}
				}
				key := strings.Join(parts, " ")
				g := want[key]
				if g == nil {
					g = &agg{first: rec["time_flow_start_ns"].(int64), last: rec["time_flow_end_ns"].(int64)}
					want[key] = g
				}
				g.flows++
				g.packets += int64(rec["packets"].(int))
				g.bytes += int64(rec["bytes"].(int))
				g.first = min(g.first, rec["time_flow_start_ns"].(int64))
				g.last = max(g.last, rec["time_flow_end_ns"].(int64))
			}
			got, _ := runCSV(t, Config{Inputs: []string{name}, Aggregate: keys})
			// --limit picks the first rows of the whole order (by a heap when
			// they are few), for every sort order.
			for _, sort := range FlowSortKeys {
				all, _ := runCSV(t, Config{Inputs: []string{name}, Aggregate: keys, Sort: sort})
				for _, limit := range []int{1, 3, 50} {
					lim, _ := runCSV(t, Config{Inputs: []string{name}, Aggregate: keys, Sort: sort, Limit: limit})
					if n := min(limit+1, len(all)); !slices.EqualFunc(lim, all[:n], slices.Equal) {
						t.Errorf("--sort %s --limit %d: not the first rows of the whole order", sort, limit)
					}
				}
			}
			head := got[0]
			if len(got)-1 != len(want) {
				t.Fatalf("%d aggregates, want %d", len(got)-1, len(want))
			}
			// The key columns come after start and duration_ms, then flows...
			nk := slices.Index(head, "flows") - 2
			prevBytes := int64(1 << 62)
			for _, row := range got[1:] {
				key := strings.Join(row[2:2+nk], " ")
				w := want[key]
				if w == nil {
					t.Fatalf("aggregate %q is not one of the test's (header %v)", key, head)
				}
				start, _ := time.Parse(time.RFC3339Nano, row[0])
				dur, _ := strconv.ParseInt(row[1], 10, 64)
				fl, _ := strconv.ParseInt(row[2+nk], 10, 64)
				pk, _ := strconv.ParseInt(row[3+nk], 10, 64)
				by, _ := strconv.ParseInt(row[4+nk], 10, 64)
				if fl != w.flows || pk != w.packets || by != w.bytes || start.UnixNano() != w.first || dur != (w.last-w.first)/1e6 {
					t.Errorf("%s: flows %d packets %d bytes %d start %d duration %d; want %+v", key, fl, pk, by, start.UnixNano(), dur, *w)
				}
				if by > prevBytes {
					t.Errorf("aggregates not ordered by bytes: %d after %d", by, prevBytes)
				}
				prevBytes = by
			}
		})
	}
}

// TestFlowsFormats: the table's header and a row, CSV and JSON of one flow.
func TestFlowsFormats(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f.jsonl")
	line := `{"sampler_address":"192.0.2.1","time_flow_start_ns":1509232621123000000,"time_flow_end_ns":1509232623623000000,"bytes":4465152,"packets":120,"src_addr":"192.0.2.10","dst_addr":"2001:db8::7","src_port":51000,"dst_port":22,"proto":6,"tcp_flags":27,"in_if":3,"src_mac":"00:00:5e:00:53:01"}` + "\n" +
		`{"time_flow_start_ns":1509232621000000000,"time_flow_end_ns":1509232621000000000,"bytes":84,"packets":1,"src_addr":"192.0.2.10","dst_addr":"192.0.2.1","proto":1,"icmp_type":8,"icmp_code":0}` + "\n"
	os.WriteFile(name, []byte(line), 0o644)
	run := func(output, cols string) string {
		var out, errb bytes.Buffer
		if _, err := Run(Config{Inputs: []string{name}, Flows: true, Output: output, Columns: cols, Loc: time.UTC}, &out, &errb); err != nil || errb.Len() > 0 {
			t.Fatalf("Run: %v %s", err, errb.String())
		}
		return out.String()
	}
	want := "" +
		"Date first seen          Duration Proto  Src IP Addr:Port      Dst IP Addr:Port      Flags  Packets    Bytes     bps   Bpp\n" +
		"2017-10-28 23:17:01.123     2.500 TCP    192.0.2.10:51000      [2001:db8::7]:22      .AP.SF     120    4.26M   14.2M 37209\n" +
		"2017-10-28 23:17:01.000     0.000 ICMP   192.0.2.10            192.0.2.1:8.0         ......       1      84B       0    84\n"
	if got := run("table", ""); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if got := run("csv", "start,src,exporter,in,srcmac,flags"); got != "start,src_addr,src_port,exporter,in_if,src_mac,tcp_flags\n"+
		"2017-10-28T23:17:01.123Z,192.0.2.10,51000,192.0.2.1,3,00:00:5e:00:53:01,27\n2017-10-28T23:17:01Z,192.0.2.10,0,,0,00:00:00:00:00:00,0\n" {
		t.Errorf("csv:\n%s", got)
	}
	got := run("json", "start,duration,src,dst,bytes,bps,service")
	for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("json line %s: %v", l, err)
		}
	}
	if !strings.HasPrefix(got, `{"start":"2017-10-28T23:17:01.123Z","duration_ms":2500,"src_addr":"192.0.2.10","src_port":51000,"dst_addr":"2001:db8::7","dst_port":22,"bytes":4465152,"bps":14288486,"service":"ssh"}`) {
		t.Errorf("json:\n%s", got)
	}
}

// TestFlowsZeroAllocs: a flow row is written without allocating.
func TestFlowsZeroAllocs(t *testing.T) {
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	for _, format := range []string{"table", "csv", "json"} {
		cols, _ := parseFlowColumns(strings.Join(FlowColumns, ","))
		fw, _ := newFlowWriter(w, format, cols, time.UTC)
		f := filterFlows()[0]
		fw.write(&f)
		fw.flush()
		n := testing.AllocsPerRun(1000, func() {
			fw.buf = fw.buf[:0]
			fw.write(&f)
		})
		if n != 0 {
			t.Errorf("%s: %v allocations per row", format, n)
		}
	}
}

// TestAppendMillis: the day cache writes what time.Format writes, across
// zone changes, in times that jump back and forth.
func TestAppendMillis(t *testing.T) {
	locs := []*time.Location{time.UTC, time.FixedZone("x", -(3*3600 + 1800))}
	for _, name := range []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata"} {
		if l, err := time.LoadLocation(name); err == nil {
			locs = append(locs, l)
		}
	}
	r := rand.New(rand.NewPCG(5, 5))
	for _, loc := range locs {
		c := timeCache{loc: loc}
		// Around the 2026 DST changes, and anywhere.
		for i := 0; i < 200000; i++ {
			var ns int64
			switch i % 3 {
			case 0:
				ns = time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC).UnixNano() + r.Int64N(int64(48*time.Hour)) - int64(24*time.Hour)
			case 1:
				ns = time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC).UnixNano() + r.Int64N(int64(48*time.Hour)) - int64(24*time.Hour)
			default:
				ns = r.Int64N(4e18) - 1e18
			}
			got := string(c.appendMillis(nil, ns))
			if want := time.Unix(0, ns).In(loc).Format("2006-01-02 15:04:05.000"); got != want {
				t.Fatalf("%v: %d: %s, want %s", loc, ns, got, want)
			}
		}
	}
}
