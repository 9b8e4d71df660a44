package analyzer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The statistics are checked against nfdump 1.7.1: scripts/make-nfdump-expect.sh
// sent testdata/nfdump/flows.jsonl to nfcapd as NetFlow v9 and committed
// `nfdump -s STAT/ORDER -n 10 -N` as testdata/nfdump/STAT-ORDER.txt. This test
// reads those files (nfdump need not be installed) and requires nfanalyze's
// --stat KEY --by ORDER on the same flows to give the same numbers and order.
//
// One difference is by design: for ip, port and as, nfdump counts a flow whose
// source and destination are equal twice under that value (once as source,
// once as destination); nfanalyze counts it once. The test adds those flows'
// counts (computed here from the flow set) to nfanalyze's before comparing.

// nfdumpStats maps nfdump's -s names to nfanalyze's --stat keys.
var nfdumpStats = map[string]string{
	"srcip": "src", "dstip": "dst", "ip": "ip", "srcport": "srcport", "dstport": "dstport",
	"port": "port", "proto": "proto", "srcas": "srcas", "dstas": "dstas", "as": "as",
}

type nfRow struct {
	key                   string
	flows, packets, bytes uint64
}

func (r nfRow) measure(by string) uint64 {
	switch by {
	case "flows":
		return r.flows
	case "packets":
		return r.packets
	}
	return r.bytes
}

// A row of nfdump's statistics: date, time, duration, proto, value, then
// flows(%) packets(%) bytes(%) pps bps bpp, numbers plain (-N).
var nfRowRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \S+\s+\S+\s+\S+\s+(\S+)\s+(\d+)\(\s*[\d.]+\)\s+(\d+)\(\s*[\d.]+\)\s+(\d+)\(\s*[\d.]+\)\s+\d+\s+\d+\s+\d+$`)

func readNfdump(t *testing.T, path string) (rows []nfRow, totalFlows uint64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if m := nfRowRE.FindStringSubmatch(line); m != nil {
			r := nfRow{key: m[1]}
			r.flows, _ = strconv.ParseUint(m[2], 10, 64)
			r.packets, _ = strconv.ParseUint(m[3], 10, 64)
			r.bytes, _ = strconv.ParseUint(m[4], 10, 64)
			rows = append(rows, r)
		}
		fmt.Sscanf(line, "Summary: total flows: %d,", &totalFlows)
	}
	if len(rows) == 0 || totalFlows == 0 {
		t.Fatalf("%s: no statistics rows or summary found", path)
	}
	return rows, totalFlows
}

// nfanalyzeStat runs --stat key --top 0 (every row) and returns the rows by value.
func nfanalyzeStat(t *testing.T, flows, key, by string, filter Filter) map[string]nfRow {
	t.Helper()
	var out, errb bytes.Buffer
	if _, err := Run(Config{Inputs: []string{flows}, StatKeys: []string{key}, By: by, Output: "csv", Filter: filter}, &out, &errb); err != nil || errb.Len() > 0 {
		t.Fatalf("Run: %v %s", err, errb.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]nfRow{}
	for _, rec := range recs[1:] { // stat,rank,value,name,flows,flows_pct,packets,packets_pct,bytes,bytes_pct
		r := nfRow{key: rec[2]}
		r.flows, _ = strconv.ParseUint(rec[4], 10, 64)
		r.packets, _ = strconv.ParseUint(rec[6], 10, 64)
		r.bytes, _ = strconv.ParseUint(rec[8], 10, 64)
		rows[r.key] = r
	}
	return rows
}

// selfCounts returns, for ip, port and as, the counts of the flows whose source
// and destination values are equal, by value as nfanalyze prints it.
func selfCounts(t *testing.T, flows string) map[string]map[string]nfRow {
	t.Helper()
	data, err := os.ReadFile(flows)
	if err != nil {
		t.Fatal(err)
	}
	self := map[string]map[string]nfRow{"ip": {}, "port": {}, "as": {}}
	add := func(stat, key string, pk, by uint64) {
		r := self[stat][key]
		r.flows++
		r.packets += pk
		r.bytes += by
		self[stat][key] = r
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var f struct {
			Src      string `json:"src_addr"`
			Dst      string `json:"dst_addr"`
			SrcPort  int    `json:"src_port"`
			DstPort  int    `json:"dst_port"`
			ICMPType *int   `json:"icmp_type"`
			ICMPCode int    `json:"icmp_code"`
			SrcAS    int    `json:"src_as"`
			DstAS    int    `json:"dst_as"`
			Packets  uint64 `json:"packets"`
			Bytes    uint64 `json:"bytes"`
		}
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatal(err)
		}
		sport, dport := f.SrcPort, f.DstPort
		if f.ICMPType != nil && sport == 0 && dport == 0 {
			dport = *f.ICMPType<<8 | f.ICMPCode
		}
		if f.Src == f.Dst {
			add("ip", f.Src, f.Packets, f.Bytes)
		}
		if sport == dport {
			add("port", strconv.Itoa(sport), f.Packets, f.Bytes)
		}
		if f.SrcAS == f.DstAS {
			add("as", strconv.Itoa(f.SrcAS), f.Packets, f.Bytes)
		}
	}
	return self
}

func TestStatsAgainstNfdump(t *testing.T) {
	dir := filepath.Join("testdata", "nfdump")
	flows := filepath.Join(dir, "flows.jsonl")
	self := selfCounts(t, flows)
	files, _ := filepath.Glob(filepath.Join(dir, "*-*.txt"))
	if len(files) != 30 {
		t.Fatalf("found %d nfdump outputs in %s, want 30 (scripts/make-nfdump-expect.sh makes them)", len(files), dir)
	}
	for _, file := range files {
		stat, by, _ := strings.Cut(strings.TrimSuffix(filepath.Base(file), ".txt"), "-")
		key := nfdumpStats[stat]
		t.Run(stat+"/"+by, func(t *testing.T) {
			want, total := readNfdump(t, file)
			ours := nfanalyzeStat(t, flows, key, by, Filter{})
			// Add nfdump's second count of flows with equal source and destination.
			for k, s := range self[key] {
				r := ours[k]
				r.key = k
				r.flows, r.packets, r.bytes = r.flows+s.flows, r.packets+s.packets, r.bytes+s.bytes
				ours[k] = r
			}
			var sum uint64
			for _, r := range ours {
				sum += r.flows
			}
			if key != "ip" && key != "port" && key != "as" && sum != total {
				t.Errorf("nfanalyze counts %d flows, nfdump %d", sum, total)
			}
			// Every row nfdump shows, with the same numbers.
			for _, w := range want {
				k := w.key
				if key == "proto" {
					n, _ := strconv.ParseUint(k, 10, 8)
					k = ProtoName(uint8(n))
				}
				if got, ok := ours[k]; !ok {
					t.Errorf("%s %s: nfdump has %+v, nfanalyze has no such row", stat, w.key, w)
				} else if got.flows != w.flows || got.packets != w.packets || got.bytes != w.bytes {
					t.Errorf("%s %s: nfanalyze %d flows, %d packets, %d bytes; nfdump %d, %d, %d",
						stat, w.key, got.flows, got.packets, got.bytes, w.flows, w.packets, w.bytes)
				}
			}
			// And in the same order: nfanalyze's top values are nfdump's (rows
			// with equal values may be listed in another order).
			var top []uint64
			for _, r := range ours {
				top = append(top, r.measure(by))
			}
			slices.Sort(top)
			slices.Reverse(top)
			top = top[:min(len(top), len(want))]
			for i, w := range want {
				if top[i] != w.measure(by) {
					t.Errorf("%s by %s: rank %d has %d in nfanalyze, %d (%s) in nfdump", stat, by, i+1, top[i], w.measure(by), w.key)
				}
			}
		})
	}
}

// TestFiltersAgainstNfdump: the flows each filter expression selects (count,
// packets, bytes) are those nfdump selected with the same expression
// (testdata/nfdump/filters.txt).
func TestFiltersAgainstNfdump(t *testing.T) {
	dir := filepath.Join("testdata", "nfdump")
	data, err := os.ReadFile(filepath.Join(dir, "filters.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 20 {
		t.Fatalf("filters.txt has %d lines", len(lines))
	}
	for _, line := range lines {
		expr, summary, ok := strings.Cut(line, "\t")
		var want nfRow
		if _, err := fmt.Sscanf(summary, "Summary: total flows: %d, total bytes: %d, total packets: %d,", &want.flows, &want.bytes, &want.packets); !ok || err != nil {
			t.Fatalf("bad line %q: %v", line, err)
		}
		filter, err := ParseFilter(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		// Every flow counts once under its protocol: the rows add up to the totals.
		var got nfRow
		for _, r := range nfanalyzeStat(t, filepath.Join(dir, "flows.jsonl"), "proto", "bytes", filter) {
			got.flows, got.packets, got.bytes = got.flows+r.flows, got.packets+r.packets, got.bytes+r.bytes
		}
		if got != want {
			t.Errorf("%s: nfanalyze selects %d flows, %d packets, %d bytes; nfdump %d, %d, %d",
				expr, got.flows, got.packets, got.bytes, want.flows, want.packets, want.bytes)
		}
	}
}

// TestAggregateAgainstNfdump: --aggregate KEYS makes the aggregates nfdump
// -A KEYS made of the same flows (testdata/nfdump/agg_KEYS.txt, by
// scripts/make-nfdump-expect.sh): the same key values, first seen, duration,
// packets, bytes, bps, bpp and flows.
func TestAggregateAgainstNfdump(t *testing.T) {
	dir := filepath.Join("testdata", "nfdump")
	files, _ := filepath.Glob(filepath.Join(dir, "agg_*.txt"))
	if len(files) < 7 {
		t.Fatalf("found %d aggregations in %s, want 7 (scripts/make-nfdump-expect.sh makes them)", len(files), dir)
	}
	for _, file := range files {
		keys := strings.NewReplacer("+", ",", "_", "/").Replace(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "agg_"), ".txt"))
		t.Run(keys, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				// date, time, duration, the keys, packets, bytes, bps, bpp, flows
				f := strings.Fields(line)
				start, err := time.Parse("2006-01-02 15:04:05.000", f[0]+" "+f[1])
				if err != nil || len(f) < 9 {
					t.Fatalf("%s: bad line %q", file, line)
				}
				ms, _ := strconv.ParseUint(strings.Replace(f[2], ".", "", 1), 10, 64)
				row := append([]string{strconv.FormatInt(start.UnixMilli(), 10), strconv.FormatUint(ms, 10)}, f[3:]...)
				want = append(want, strings.Join(row, " "))
			}
			var cols []string
			for _, k := range strings.Split(keys, ",") {
				switch {
				case strings.HasPrefix(k, "srcip"):
					cols = append(cols, "srcaddr")
				case strings.HasPrefix(k, "dstip"):
					cols = append(cols, "dstaddr")
				default:
					cols = append(cols, k)
				}
			}
			var out, errb bytes.Buffer
			cfg := Config{Inputs: []string{filepath.Join(dir, "flows.jsonl")}, Aggregate: strings.Split(keys, ","), Output: "csv",
				Columns: "start,duration," + strings.Join(cols, ",") + ",packets,bytes,bps,bpp,flows"}
			// As the script: a prefix key on the flows of its family.
			if strings.Contains(keys, "4/") {
				cfg.Filter, _ = ParseFilter("inet")
			} else if strings.Contains(keys, "6/") {
				cfg.Filter, _ = ParseFilter("inet6")
			}
			if _, err := Run(cfg, &out, &errb); err != nil || errb.Len() > 0 {
				t.Fatalf("Run: %v %s", err, errb.String())
			}
			recs, err := csv.NewReader(&out).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rec := range recs[1:] {
				start, err := time.Parse(time.RFC3339Nano, rec[0])
				if err != nil {
					t.Fatal(err)
				}
				row := append([]string{strconv.FormatInt(start.UnixMilli(), 10), rec[1]}, rec[2:]...)
				got = append(got, strings.Join(row, " "))
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%d aggregates, nfdump %d; first differences:", len(got), len(want))
				for i := 0; i < min(len(got), len(want)); i++ {
					if got[i] != want[i] {
						t.Errorf("nfanalyze %s\n             nfdump    %s", got[i], want[i])
						break
					}
				}
			}
		})
	}
}
