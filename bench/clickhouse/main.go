// Command clickhouse measures nfcollect writing into a two-shard ClickHouse
// cluster (make bench-clickhouse): for each offered rate, nfreplay sends
// 25-flow NetFlow v9 packets over loopback for a bounded time, nfcollect
// inserts them (--clickhouse, gzip RowBinary, a Distributed table over the
// two local clickhouse-server shards of internal/chtest), and the rows that
// end up in the cluster are counted against the flows sent. The CPU time
// of nfcollect and of the two servers says where the time goes.
//
// Every run is bounded in count and time and sends to 127.0.0.1 only.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nfkit/nfkit/chrow"
	"github.com/nfkit/nfkit/internal/chtest"
	"github.com/nfkit/nfkit/internal/rate"
)

type result struct {
	Rate          string  `json:"rate"`
	Compress      string  `json:"compress"`
	Via           string  `json:"via"`
	Sent          uint64  `json:"flows_sent"`
	SendSeconds   float64 `json:"send_seconds"`
	Decoded       uint64  `json:"flows_decoded"`
	KernelDrops   uint64  `json:"kernel_drops"`
	QueueDrops    uint64  `json:"queue_drops"`
	Delivered     uint64  `json:"flows_delivered"`
	Dropped       uint64  `json:"flows_dropped"`
	Rows          uint64  `json:"rows"`
	Batches       uint64  `json:"batches"`
	InsertSeconds float64 `json:"insert_seconds"`
	DrainSeconds  float64 `json:"drain_seconds"`
	CPUCollector  float64 `json:"cpu_nfcollect_s"`
	CPUServers    float64 `json:"cpu_clickhouse_s"`
	WireBytes     uint64  `json:"delivered_bytes"`
}

func main() {
	rates := flag.String("rates", "100k,500k,1M,2M", "offered flows/s, comma-separated")
	dur := flag.Duration("duration", 4*time.Second, "sending time per rate")
	sources := flag.Int("sources", 4, "exporters (nfreplay --source-addrs)")
	compress := flag.String("compress", "gzip", "nfcollect --clickhouse-compress: gzip or none (comma-separated for both)")
	via := flag.String("via", "local", "local: every node's URL, batches into the shards' tables in turn; distributed: one node's URL, its Distributed table spreads the rows (comma-separated for both)")
	out := flag.String("out", "bench/results", "directory of clickhouse.md and clickhouse.txt")
	flag.Parse()
	if err := run(*rates, *dur, *sources, *compress, *via, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench-clickhouse:", err)
		os.Exit(1)
	}
}

func run(rates string, dur time.Duration, sources int, compress, via, out string) error {
	if dur <= 0 || dur > time.Minute {
		return fmt.Errorf("--duration %v: want (0, 1m]", dur)
	}
	bin, err := os.MkdirTemp("", "nfkit-bench-ch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, c := range []string{"nfcollect", "nfreplay"} {
		if b, err := exec.Command(gobin, "build", "-o", filepath.Join(bin, c), "./cmd/"+c).CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", c, err, b)
		}
	}
	cl, err := chtest.Start(2)
	if err != nil {
		return err
	}
	defer cl.Stop()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	txt, err := os.Create(filepath.Join(out, "clickhouse.txt"))
	if err != nil {
		return err
	}
	defer txt.Close()
	load0 := loadavg()
	var results []result
	for _, v := range strings.Split(via, ",") {
		for _, comp := range strings.Split(compress, ",") {
			for i, r := range strings.Split(rates, ",") {
				flows, err := rate.Parse(r)
				if err != nil {
					return err
				}
				table := fmt.Sprintf("t_%s_%s_%d", v, comp, i)
				tb := chrow.Table{Database: "bench", Name: table, Cluster: chtest.ClusterName}
				for _, sh := range cl.Shards {
					for _, st := range tb.Create(chrow.Server{Major: 18, Minor: 16}) {
						if _, err := sh.Query(st); err != nil {
							return err
						}
					}
				}
				res, err := point(cl, bin, table, r, flows, dur, sources, comp, v)
				if err != nil {
					return fmt.Errorf("%s: %w", r, err)
				}
				b, _ := json.Marshal(res)
				fmt.Fprintf(txt, "%s\n", b)
				fmt.Fprintf(os.Stderr, "%s\n", b)
				results = append(results, res)
			}
		}
	}
	md := markdown(results, dur, sources, load0, loadavg())
	fmt.Print(md)
	return os.WriteFile(filepath.Join(out, "clickhouse.md"), []byte(md), 0o644)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cpuSeconds returns the user+system CPU time of a process and its
// threads.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func serversCPU(cl *chtest.Cluster) float64 {
	var s float64
	for _, sh := range cl.Shards {
		s += cpuSeconds(sh.Pid())
	}
	return s
}

// metrics reads nfcollect's metrics, each summed over its labels.
func metrics(addr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		name := f[0]
		if i := strings.IndexByte(name, '{'); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			m[name] += v
		}
	}
	return m, sc.Err()
}

func point(cl *chtest.Cluster, bin, table, name string, flows float64, dur time.Duration, sources int, comp, via string) (result, error) {
	res := result{Rate: name, Compress: comp, Via: via}
	port, err := freePort("udp")
	if err != nil {
		return res, err
	}
	mport, err := freePort("tcp")
	if err != nil {
		return res, err
	}
	maddr := "127.0.0.1:" + strconv.Itoa(mport)
	urls := cl.Shards[0].URLWith("database", "bench")
	if via == "local" {
		urls += "," + cl.Shards[1].URLWith("database", "bench")
	}
	var logb bytes.Buffer
	nfc := exec.Command(filepath.Join(bin, "nfcollect"), "--host", "127.0.0.1", "-p", strconv.Itoa(port), "--metrics", maddr,
		"--stats-interval", "-1s", "--clickhouse", urls, "--clickhouse-cluster", chtest.ClusterName,
		"--clickhouse-table", table, "--clickhouse-batch", "200000", "--clickhouse-compress", comp, "--clickhouse-memory-mib", "1024")
	nfc.Stdout, nfc.Stderr = &logb, &logb
	nfc.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := nfc.Start(); err != nil {
		return res, err
	}
	done := make(chan error, 1)
	go func() { done <- nfc.Wait() }()
	defer nfc.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := metrics(maddr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("nfcollect did not start:\n%s", logb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cpu0, srv0 := cpuSeconds(nfc.Process.Pid), serversCPU(cl)
	count := uint64(flows*dur.Seconds()/25*1.05) + 1000
	ctx, cancel := context.WithTimeout(context.Background(), dur+30*time.Second)
	defer cancel()
	snd := exec.CommandContext(ctx, filepath.Join(bin, "nfreplay"), "-t", "127.0.0.1:"+strconv.Itoa(port), "--rate", strconv.FormatFloat(flows, 'f', 0, 64),
		"--duration", dur.String(), "--count", strconv.FormatUint(count, 10), "--source-addrs", strconv.Itoa(sources), "--json")
	var sout, serr bytes.Buffer
	snd.Stdout, snd.Stderr = &sout, &serr
	if err := snd.Run(); err != nil {
		return res, fmt.Errorf("nfreplay: %v: %s", err, serr.String())
	}
	var rep struct {
		Flows    uint64  `json:"flows"`
		ElapsedS float64 `json:"elapsed_s"`
	}
	if err := json.Unmarshal(sout.Bytes(), &rep); err != nil {
		return res, fmt.Errorf("nfreplay report: %v", err)
	}
	res.Sent, res.SendSeconds = rep.Flows, rep.ElapsedS
	// Until everything decoded is delivered (or dropped), at most 2 min
	// (nfreplay sends each source's template first: no flow waits).
	sent := time.Now()
	var m map[string]float64
	for limit := time.Now().Add(2 * time.Minute); time.Now().Before(limit); time.Sleep(100 * time.Millisecond) {
		m, err = metrics(maddr)
		if err != nil {
			return res, err
		}
		if m["nfcollect_delivery_memory_flows"]+m["nfcollect_delivery_spool_flows"] == 0 && m["nfcollect_output_queue_bytes"] == 0 &&
			m["nfcollect_delivery_flows_total"]+m["nfcollect_delivery_dropped_flows_total"]+m["nfcollect_delivery_rejected_flows_total"]+
				m["nfcollect_output_queue_dropped_flows_total"] >= m["nfcollect_flows_decoded_total"] {
			break
		}
	}
	res.DrainSeconds = time.Since(sent).Seconds()
	res.CPUCollector = cpuSeconds(nfc.Process.Pid) - cpu0
	res.Decoded = uint64(m["nfcollect_flows_decoded_total"])
	res.KernelDrops = uint64(m["nfcollect_kernel_receive_drops_total"])
	res.QueueDrops = uint64(m["nfcollect_queue_drops_total"])
	res.Delivered = uint64(m["nfcollect_delivery_flows_total"])
	res.Dropped = uint64(m["nfcollect_delivery_dropped_flows_total"] + m["nfcollect_output_queue_dropped_flows_total"])
	res.Batches = uint64(m["nfcollect_delivery_batches_total"])
	res.InsertSeconds = m["nfcollect_delivery_duration_seconds_total"]
	res.WireBytes = uint64(m["nfcollect_delivery_bytes_total"])
	nfc.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		return res, fmt.Errorf("nfcollect did not stop")
	}
	// The Distributed table forwards the other shard's rows shortly after.
	var rows uint64
	for limit := time.Now().Add(60 * time.Second); time.Now().Before(limit); time.Sleep(200 * time.Millisecond) {
		s, err := cl.Shards[0].Query("SELECT count() FROM bench." + table)
		if err != nil {
			return res, err
		}
		rows, _ = strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if rows >= res.Delivered {
			break
		}
	}
	res.Rows = rows
	res.CPUServers = serversCPU(cl) - srv0
	return res, nil
}

func markdown(rs []result, dur time.Duration, sources int, load0, load1 string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| offered flows/s | inserts | wire | flows sent | in the cluster | share | nfcollect CPU s | ClickHouse CPU s (2 shards) | batches | mean insert | drained after |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rs {
		share := 0.0
		if r.Sent > 0 {
			share = 100 * float64(r.Rows) / float64(r.Sent)
		}
		mean := 0.0
		if r.Batches > 0 {
			mean = r.InsertSeconds / float64(r.Batches)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %.1f%% | %.1f | %.1f | %d | %.0f ms | %.1f s |\n", r.Rate, r.Via, r.Compress, r.Sent, r.Rows, share,
			r.CPUCollector, r.CPUServers, r.Batches, mean*1000, r.DrainSeconds)
	}
	fmt.Fprintf(&b, "\n%v of sending per rate, %d exporters, 25-flow NetFlow v9 packets; load average before %s, after %s.\n", dur, sources, load0, load1)
	return b.String()
}
