package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/chtest"
	"github.com/nfkit/nfkit/internal/testvec"
)

var (
	loadOnce sync.Once
	loaded   string // the JSON output of the captures also in table "views"
)

// loadViews runs every capture through nfcollect into a JSON file and the
// table "views" of the cluster, once, and waits for every row.
func loadViews(t *testing.T) string {
	loadOnce.Do(func() {
		out := filepath.Join(sharedDir(t), "views.json.gz")
		args := []string{"-o", out, "--clickhouse", both(), "--clickhouse-cluster", chtest.ClusterName, "--clickhouse-create", "--clickhouse-table", "views"}
		// In the order of their times, so that the file's order is the
		// flows' (pairing takes flows in the order it reads them).
		for _, c := range capturesByTime(t) {
			args = append(args, "-r", c)
		}
		collect(t, args...)
		want := total(jsonSums(t, out))
		waitFor(t, "the rows", 60*time.Second, func() bool { return total(chSums(t, "views")) >= want })
		loaded = out
	})
	if loaded == "" {
		t.Fatal("loading the captures failed")
	}
	return loaded
}

// sharedDir is a directory that outlives the test that makes it (the
// load is shared).
func sharedDir(t *testing.T) string {
	return cluster.Dir
}

func analyze(t *testing.T, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "nfanalyze"), append([]string{"-n", "--utc"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("nfanalyze %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

// Every view answers the same on ClickHouse as on the JSON file of the
// same flows.
func TestViewsMatchFiles(t *testing.T) {
	chtest.Skip(t, cluster)
	file := loadViews(t)
	allStats := "src,dst,ip,pair,service,port,srcport,dstport,proto,exporter,as,srcas,dstas"
	views := [][]string{
		{},
		{"-p", "0", "-o", "csv"},
		{"-p", "1", "-o", "json", "--proto", "tcp"},
		{"--stat", allStats},
		{"--stat", allStats, "--top", "3", "--by", "packets"},
		{"--stat", allStats, "--top", "1000", "--by", "flows", "-o", "csv"},
		{"--stat", "src,dstport", "--top", "2", "-o", "json"},
		{"--timeline", "24h"},
		{"--timeline", "10s", "-o", "csv", "--by", "packets", "--until", "2024-03-02"},
		{"--stat", "pair,service", "--timeline", "5m", "--until", "2024-03-02"},
		{"--stat", allStats, "--host", "198.51.100.80"},
		{"--stat", "src,dst", "--net", "2001:db8::/32"},
		{"--stat", "src,dst", "--net", "198.51.100.0/25"},
		{"--stat", "srcport,dstport", "--port", "53"},
		{"--stat", "service", "--port", "https"},
		{"--stat", "src", "--proto", "icmp"},
		{"--stat", "src", "--exporter", "127.0.0.1"},
		{"--stat", "src", "--match-host", "192.0.2.10"},
		{"--stat", "proto", "--since", "2024-03-01 12:00:10", "--until", "2024-03-01 12:01:00"},
		{"--timeline", "1m", "--since", "2024-03-01 12:00:00", "--until", "2024-03-01 13:00:00"},
		{"--stat", "src,proto", "--filter", "src net 192.0.2.0/24 and dst port > 1000 or bytes > 10k"},
		{"--stat", "dst", "--filter", "not tcp and not udp"},
		{"--stat", "dst", "--filter", "inet6 and packets >= 3"},
		{"--stat", "dst", "--filter", "inet and (src port < 1024 or dst port <= 1024)"},
		{"--stat", "src", "--filter", "src as 0 and dst as != 65000"},
		{"--stat", "src", "--filter", "src and dst net 0.0.0.0/0"},
		{"--stat", "src", "--filter", "src host 198.51.100.22 or dst host 2001:db8:2::80"},
		{"-p", "1", "--filter", "port 22"},
		{"-p", "1", "--since", "2024-03-01 12:00:30"},
	}
	for _, v := range views {
		name := strings.Join(v, " ")
		if name == "" {
			name = "connections"
		}
		t.Run(name, func(t *testing.T) {
			want, wantErr := analyze(t, append(v, file)...)
			got, gotErr := analyze(t, append(v, "--clickhouse", chURL(0), "--clickhouse-table", "views")...)
			if got != want {
				t.Errorf("ClickHouse:\n%s\nfile:\n%s", got, want)
			}
			if len(want) < 20 {
				t.Errorf("the view shows nothing: %q", want)
			}
			if gotErr != wantErr {
				t.Errorf("messages differ: ClickHouse %q, file %q", gotErr, wantErr)
			}
		})
	}
}

// capturesByTime returns the captures of testdata/ ordered by the time of
// their first packet.
func capturesByTime(t *testing.T) []string {
	names := captures(t)
	first := map[string]int64{}
	for _, n := range names {
		if d := testvec.Capture(t, filepath.Base(n)); len(d) > 0 {
			first[n] = d[0].Time.UnixNano()
		}
	}
	sort.SliceStable(names, func(i, j int) bool { return first[names[i]] < first[names[j]] })
	return names
}
