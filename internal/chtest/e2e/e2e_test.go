package e2e

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/nfkit/nfkit/internal/benchpkt"
	"github.com/nfkit/nfkit/internal/chtest"
	"github.com/nfkit/nfkit/internal/testvec"
)

var (
	cluster *chtest.Cluster
	bin     string // directory of the nfcollect and nfanalyze binaries
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nfkit-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	code := func() int {
		defer os.RemoveAll(dir)
		if (chtest.Binary() != "" || chtest.Required()) && !chtest.NoTests() {
			gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
			for _, cmd := range []string{"nfcollect", "nfanalyze", "nfreplay"} {
				out, err := exec.Command(gobin, "build", "-o", filepath.Join(dir, cmd), filepath.Join(testvec.Root(), "cmd", cmd)).CombinedOutput()
				if err != nil {
					fmt.Fprintf(os.Stderr, "building %s: %v\n%s", cmd, err, out)
					return 1
				}
			}
		}
		return chtest.Main(m, &cluster)
	}()
	os.Exit(code)
}

// chURL returns the URL of shard i with the test database.
func chURL(i int) string { return cluster.Shards[i].URLWith("database", "nfkit") }

// both returns the URLs of both shards, comma-separated.
func both() string { return chURL(0) + "," + chURL(1) }

// query runs sql on shard 0 and returns its trimmed answer.
func query(t *testing.T, sql string) string {
	t.Helper()
	return strings.TrimSpace(cluster.Shards[0].MustQuery(t, sql))
}

// collect runs nfcollect to completion (reading captures).
func collect(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "nfcollect"), append(args, "--stats-interval", "-1s")...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("nfcollect %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// daemon is a running nfcollect.
type daemon struct {
	cmd     *exec.Cmd
	port    int
	metrics string
	log     *os.File
	done    chan error
}

func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start starts nfcollect listening on a free UDP port, metrics on a free
// TCP port.
func start(t *testing.T, args ...string) *daemon {
	t.Helper()
	d := &daemon{port: freePort(t, "udp"), done: make(chan error, 1)}
	d.metrics = fmt.Sprintf("127.0.0.1:%d", freePort(t, "tcp"))
	var err error
	d.log, err = os.CreateTemp(t.TempDir(), "nfcollect-log")
	if err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--host", "127.0.0.1", "-p", strconv.Itoa(d.port), "--metrics", d.metrics, "--workers", "1", "--stats-interval", "-1s"}, args...)
	d.cmd = exec.Command(filepath.Join(bin, "nfcollect"), args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() { d.cmd.Process.Kill() })
	waitFor(t, "nfcollect's metrics", 30*time.Second, func() bool { _, err := d.metric("nfcollect_packets_received_total"); return err == nil })
	return d
}

// stop sends SIGTERM and waits for the exit.
func (d *daemon) stop(t *testing.T) string {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("nfcollect: %v\n%s", err, d.logText())
		}
	case <-time.After(60 * time.Second):
		d.cmd.Process.Kill()
		t.Fatalf("nfcollect did not stop\n%s", d.logText())
	}
	return d.logText()
}

func (d *daemon) logText() string {
	b, _ := os.ReadFile(d.log.Name())
	return string(b)
}

// metric returns the sum of a metric's samples.
func (d *daemon) metric(name string) (float64, error) {
	resp, err := http.Get("http://" + d.metrics + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sum, found := 0.0, false
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, name) {
			continue
		}
		rest := l[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(l)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, err
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("no metric %s", name)
	}
	return sum, nil
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendV5 sends n NetFlow v5 packets of benchpkt.V5Records flows each,
// sequence numbers first, first+1, …, paced so that the socket keeps up.
func sendV5(t *testing.T, port int, first, n int) {
	t.Helper()
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pkt := benchpkt.V5()
	for i := range n {
		binary.BigEndian.PutUint32(pkt[16:], uint32(first+i))
		if _, err := c.Write(pkt); err != nil {
			t.Fatal(err)
		}
		if i%20 == 19 {
			time.Sleep(time.Millisecond)
		}
	}
}

// exporterSums are the flows, bytes and packets of each exporter.
type exporterSums map[string][3]uint64

func (s exporterSums) String() string {
	var keys []string
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %v\n", k, s[k])
	}
	return b.String()
}

// jsonSums reads nfcollect's JSON output (gzip members).
func jsonSums(t *testing.T, path string) exporterSums {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sums := exporterSums{}
	dec := json.NewDecoder(zr)
	for {
		var rec struct {
			Type     string `json:"type"`
			Exporter string `json:"sampler_address"`
			Bytes    uint64 `json:"bytes"`
			Packets  uint64 `json:"packets"`
		}
		if err := dec.Decode(&rec); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if rec.Type == "SFLOW_5_COUNTERS" {
			continue // counter samples are not flows: the flow table has none
		}
		s := sums[rec.Exporter]
		s[0]++
		s[1] += rec.Bytes
		s[2] += rec.Packets
		sums[rec.Exporter] = s
	}
	return sums
}

// chSums reads the same sums from a table.
func chSums(t *testing.T, table string) exporterSums {
	t.Helper()
	out := query(t, "SELECT IPv6NumToString(sampler_address), count(), sum(bytes), sum(packets) FROM nfkit."+table+" GROUP BY sampler_address FORMAT TabSeparated")
	sums := exporterSums{}
	for _, l := range strings.Split(out, "\n") {
		if l == "" {
			continue
		}
		f := strings.Split(l, "\t")
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			t.Fatal(err)
		}
		var s [3]uint64
		for i := range 3 {
			s[i], _ = strconv.ParseUint(f[i+1], 10, 64)
		}
		sums[a.Unmap().String()] = s
	}
	return sums
}

func total(s exporterSums) uint64 {
	var n uint64
	for _, v := range s {
		n += v[0]
	}
	return n
}

// captures returns every capture of testdata/.
func captures(t *testing.T) []string {
	names, _ := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "*.pcap"))
	if len(names) == 0 {
		t.Fatal("no captures")
	}
	return names
}

// Every capture through nfcollect into the cluster: per exporter, the
// rows, bytes and packets equal the JSON output's, and both shards hold
// rows.
func TestCapturesIntoCluster(t *testing.T) {
	chtest.Skip(t, cluster)
	out := filepath.Join(t.TempDir(), "flows.json.gz")
	// One node's URL: the inserts go through its Distributed table, which
	// spreads the rows over the shards (rand()). (With every node's URL,
	// whole batches go to the shards in turn: see the views' test.)
	createTable(t, "caps")
	args := []string{"-o", out, "--clickhouse", chURL(0), "--clickhouse-cluster", chtest.ClusterName, "--clickhouse-table", "caps"}
	for _, c := range captures(t) {
		args = append(args, "-r", c)
	}
	collect(t, args...)
	want := jsonSums(t, out)
	if total(want) < 1000 {
		t.Fatalf("only %d flows in the JSON output", total(want))
	}
	// Inserts into a Distributed table reach the other shard shortly after.
	var got exporterSums
	waitFor(t, "the rows on both shards", 60*time.Second, func() bool {
		got = chSums(t, "caps")
		return total(got) >= total(want)
	})
	if got.String() != want.String() {
		t.Fatalf("ClickHouse per exporter:\n%s\nJSON:\n%s", got, want)
	}
	for i, s := range cluster.Shards {
		n := strings.TrimSpace(s.MustQuery(t, "SELECT count() FROM nfkit.caps_local"))
		if n == "0" || n == strconv.FormatUint(total(want), 10) {
			t.Errorf("shard %d holds %s of %d rows", i+1, n, total(want))
		}
	}
	t.Logf("%d flows of %d exporters", total(want), len(want))
}

// Four exporters over UDP (nfreplay), every node's URL: whole batches go
// to the shards in turn; per exporter, the rows, bytes and packets equal
// the JSON output's, and both shards hold rows.
func TestExportersIntoCluster(t *testing.T) {
	chtest.Skip(t, cluster)
	out := filepath.Join(t.TempDir(), "f.json.gz")
	d := start(t, "-o", out, "--clickhouse", both(), "--clickhouse-cluster", chtest.ClusterName, "--clickhouse-create",
		"--clickhouse-table", "exporters", "--clickhouse-batch", "2000")
	rep, err := exec.Command(filepath.Join(bin, "nfreplay"), "-t", fmt.Sprintf("127.0.0.1:%d", d.port), "--source-addrs", "4",
		"--rate", "50k", "-n", "800", "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("nfreplay: %v\n%s", err, rep)
	}
	var sent struct{ Flows float64 }
	json.Unmarshal(rep, &sent)
	waitFor(t, "the flows", 30*time.Second, func() bool { v, _ := d.metric("nfcollect_flows_decoded_total"); return v >= sent.Flows })
	d.stop(t)
	want := jsonSums(t, out)
	if len(want) != 4 || float64(total(want)) != sent.Flows {
		t.Fatalf("JSON output: %d exporters, %d flows of %v sent", len(want), total(want), sent.Flows)
	}
	got := chSums(t, "exporters")
	if got.String() != want.String() {
		t.Fatalf("ClickHouse per exporter:\n%s\nJSON:\n%s", got, want)
	}
	for i, s := range cluster.Shards {
		n := strings.TrimSpace(s.MustQuery(t, "SELECT count() FROM nfkit.exporters_local"))
		if n == "0" || n == strconv.FormatUint(total(want), 10) {
			t.Errorf("shard %d holds %s of %d rows", i+1, n, total(want))
		}
	}
}
