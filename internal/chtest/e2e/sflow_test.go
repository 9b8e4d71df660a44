package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nfkit/nfkit/chrow"
	"github.com/nfkit/nfkit/fields"
	"github.com/nfkit/nfkit/internal/chtest"
	"github.com/nfkit/nfkit/internal/testvec"
)

// createOldTable makes, on both shards, the flows table as nfcollect made
// it before the sFlow columns: every column of chrow.Columns but those of
// fields.SFlowFlowKeys.
func createOldTable(t *testing.T, name string) {
	t.Helper()
	tb := chrow.Table{Database: "nfkit", Name: name, Cluster: chtest.ClusterName}
	var lines []string
	for _, l := range strings.Split(tb.CreateLocal(chrow.Server{Major: 18, Minor: 16}), "\n") {
		if slices.ContainsFunc(fields.SFlowFlowKeys, func(k fields.SFlowKey) bool { return strings.HasPrefix(strings.TrimSpace(l), "`"+k.JSON+"` ") }) {
			continue
		}
		lines = append(lines, l)
	}
	local := strings.Join(lines, "\n")
	if strings.Contains(local, "agent_address") || !strings.Contains(local, "other_values") {
		t.Fatalf("old DDL:\n%s", local)
	}
	for _, s := range cluster.Shards {
		for _, st := range []string{tb.CreateDatabase(), local, tb.CreateDistributed()} {
			if _, err := s.Query(st); err != nil {
				t.Fatalf("%s: %v", st, err)
			}
		}
	}
}

// The sFlow captures through nfcollect into a table made before the sFlow
// columns: --clickhouse-create adds them on both shards (the local and the
// Distributed tables), and every flow sample's row holds, in its sFlow
// columns, what its JSON line says; counter samples are not in the table.
func TestSFlowIntoCluster(t *testing.T) {
	chtest.Skip(t, cluster)
	createOldTable(t, "sflow")
	out := filepath.Join(t.TempDir(), "flows.json")
	args := []string{"-o", out, "--clickhouse", both(), "--clickhouse-cluster", chtest.ClusterName, "--clickhouse-create", "--clickhouse-table", "sflow"}
	for _, c := range []string{"sfprobe-sflow.pcap", "sfprobe-sflow-sampling.pcap"} {
		args = append(args, "-r", filepath.Join(testvec.Root(), "testdata", c))
	}
	log := collect(t, args...)
	if n := strings.Count(log, "column added"); n != 2*2*len(fields.SFlowFlowKeys) {
		t.Errorf("%d columns added, want %d (2 tables on 2 shards)\n%s", n, 2*2*len(fields.SFlowFlowKeys), log)
	}

	// The JSON lines of the flow samples, by record identity.
	f, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]any{}
	counters := 0
	sc := bufio.NewScanner(bytes.NewReader(f))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var j map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&j); err != nil {
			t.Fatal(err)
		}
		if j["type"] == "SFLOW_5_COUNTERS" {
			counters++
			continue
		}
		want[sflowKey(j)] = j
	}
	if len(want) < 100 || counters == 0 {
		t.Fatalf("%d flow samples, %d counter samples in the JSON output", len(want), counters)
	}

	var cols []string
	for _, k := range fields.SFlowFlowKeys {
		if k.Kind == fields.ValueAddr {
			cols = append(cols, fmt.Sprintf("IPv6NumToString(%s) AS %s", k.JSON, k.JSON))
		} else {
			cols = append(cols, k.JSON)
		}
	}
	sql := "SELECT toString(time_received_ns) AS time_received_ns, toString(sequence_num) AS sequence_num, IPv6NumToString(sampler_address) AS sampler_address, toString(type) AS type, " +
		strings.Join(cols, ", ") + " FROM nfkit.sflow FORMAT JSONEachRow"
	var got string
	waitFor(t, "the rows on both shards", 60*time.Second, func() bool {
		got = query(t, sql)
		return strings.Count(got, "\n")+1 >= len(want)
	})
	rows := 0
	for _, line := range strings.Split(got, "\n") {
		var r map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if r["type"] != "SFLOW_5" {
			t.Errorf("row of type %v", r["type"])
		}
		r["agent_address"] = unmapped(t, r["agent_address"].(string))
		r["sampler_address"] = unmapped(t, r["sampler_address"].(string))
		j, ok := want[sflowKey(r)]
		if !ok {
			t.Fatalf("row without a JSON line: %s", line)
		}
		delete(want, sflowKey(r))
		for _, k := range fields.SFlowFlowKeys {
			w, ok := j[k.JSON]
			g := fmt.Sprint(r[k.JSON])
			switch {
			case !ok && k.Kind == fields.ValueList:
				w = "[]"
			case !ok:
				w = "0"
			default:
				w = fmt.Sprint(w)
			}
			if g != w {
				t.Errorf("%s = %s in ClickHouse, %s in the JSON line %v", k.JSON, g, w, j)
			}
		}
		rows++
	}
	if len(want) != 0 {
		t.Errorf("%d flow samples not in ClickHouse", len(want))
	}
	// Both shards' tables have the columns (the rows may all be on one:
	// with every node's URL, whole batches go to the shards in turn).
	for i, s := range cluster.Shards {
		for _, table := range []string{"sflow", "sflow_local"} {
			n := strings.TrimSpace(s.MustQuery(t, "SELECT count() FROM system.columns WHERE database = 'nfkit' AND table = '"+table+"' AND name IN ('agent_address', 'as_path', 'unknown_records')"))
			if n != "3" {
				t.Errorf("shard %d: %s has %s of 3 sFlow columns", i+1, table, n)
			}
		}
	}
	t.Logf("%d flow samples compared; %d counter samples not in the table", rows, counters)
}

// sflowKey identifies a flow sample's record: receive time, exporter,
// datagram and sample sequence numbers, data source.
func sflowKey(j map[string]any) string {
	return fmt.Sprint(j["time_received_ns"], "/", j["sampler_address"], "/", j["agent_address"], "/", j["sequence_num"], "/", j["sample_sequence_num"], "/", j["source_id_index"])
}

func unmapped(t *testing.T, s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return a.Unmap().String()
}
