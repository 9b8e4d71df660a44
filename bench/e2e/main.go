//go:build linux

// Command e2e is the end-to-end collector benchmark that scripts/bench-e2e.sh
// (make bench-e2e) runs: for each collector setup and offered rate it
// starts the collector on a loopback port, sends 25-flow NetFlow v9
// packets with nfreplay for a bounded time, waits for the collector to go
// idle, reads its counters, stops it with SIGTERM, and counts the flows
// that reached its output. It writes the raw results (one JSON line per
// run) and a Markdown table side by side with nfcapd and goflow2.
//
// On this 2-core machine the sender is pinned to core 1 and the collector
// to core 0 (taskset), or left free to use both cores ("2 cores" rows:
// the sender's core is shared). Each run records the load average and the
// CPU time that neither process used ("other CPU"), and a point is run
// again (up to -attempts) when other work on the machine may have spoiled
// it; the best attempt is reported.
//
// Everything is sent to 127.0.0.1 only; every run is bounded in count and
// time, and only processes this program started are signalled.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"

	"github.com/nfkit/nfkit/internal/rate"
)

// flowsPerPacket is the data packet of nfreplay's built-in set
// (internal/benchpkt.V9Records).
const flowsPerPacket = 25

type options struct {
	nfcollect, nfreplay, nfcapd, nfdump, goflow2 string
	rates                                        []float64
	rateNames                                    []string
	bursts                                       []point
	long                                         []point
	collectors                                   []string
	duration                                     time.Duration
	sources                                      int
	attempts                                     int
	noisyCPU                                     float64
	drainMax                                     time.Duration
	quietWait                                    time.Duration
	quietCores                                   float64
	out                                          string
	work                                         string
	port                                         int
	profileRate                                  float64
	profileSecs                                  float64
	perf                                         string
	commands                                     string
}

func main() {
	o := &options{}
	var rates, collectors, bursts, long string
	flag.StringVar(&o.nfcollect, "nfcollect", "nfcollect", "nfcollect binary")
	flag.StringVar(&o.nfreplay, "nfreplay", "nfreplay", "nfreplay binary")
	flag.StringVar(&o.nfcapd, "nfcapd", "nfcapd", "nfcapd binary (Debian nfdump)")
	flag.StringVar(&o.nfdump, "nfdump", "nfdump", "nfdump binary")
	flag.StringVar(&o.goflow2, "goflow2", "goflow2", "goflow2 binary")
	flag.StringVar(&rates, "rates", "100k,500k,1M,2M,4M", "offered rates in flows/s")
	flag.StringVar(&collectors, "collectors", strings.Join(defaultSetups, ","), "collector setups to run (all: "+strings.Join(allSetups(), ",")+")")
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "sending time per run")
	flag.StringVar(&bursts, "bursts", "4M:250ms,4M:500ms,4M:1s", "bursts RATE:DURATION, comma-separated, run for nfcollect and nfcapd (empty: none)")
	flag.StringVar(&long, "sustained", "1M:20s,2M:20s", "longer runs RATE:DURATION for nfcollect and nfcapd, to tell a sustained rate from one the queue carries for a few seconds (empty: none)")
	flag.IntVar(&o.sources, "sources", 4, "exporters (nfreplay --source-addrs)")
	flag.IntVar(&o.attempts, "attempts", 2, "runs of a point at most, when other work on the machine spoiled it")
	flag.Float64Var(&o.noisyCPU, "noisy-cpu", 0.5, "other CPU seconds during a run above which a lossy point is run again")
	flag.DurationVar(&o.drainMax, "drain", 20*time.Second, "longest wait for a collector to go idle after the sender stopped")
	flag.DurationVar(&o.quietWait, "quiet-wait", 90*time.Second, "before each point, wait up to this long for the machine to be idle")
	flag.Float64Var(&o.quietCores, "quiet-cores", 0.15, "the machine counts as idle below this many busy cores")
	flag.StringVar(&o.out, "out", "bench/results", "results directory (e2e.md, e2e.txt)")
	flag.StringVar(&o.work, "work", "", "scratch directory for collector output (default: a temporary directory)")
	flag.IntVar(&o.port, "port", 29055, "first loopback UDP port to use")
	o.profileRate = 1e6
	flag.Func("profile-rate", "offered rate (flows/s) of the perf profile runs (default 1M; 0: no profile)", func(s string) error {
		v, err := rate.Parse(s)
		o.profileRate = v
		return err
	})
	flag.Float64Var(&o.profileSecs, "profile-secs", 3, "seconds of perf record")
	flag.StringVar(&o.perf, "perf", "perf", "perf binary")
	flag.StringVar(&o.commands, "commands", "", "the command line to print in e2e.md")
	flag.Parse()
	for _, r := range strings.Split(rates, ",") {
		v, err := rate.Parse(r)
		if err == nil && v == 0 {
			err = fmt.Errorf("bad rate %q (want a number above 0)", r)
		}
		if err != nil {
			fatal(err)
		}
		o.rates = append(o.rates, v)
		o.rateNames = append(o.rateNames, strings.TrimSpace(r))
	}
	o.bursts = parsePoints(bursts, true)
	o.long = parsePoints(long, false)
	for _, c := range strings.Split(collectors, ",") {
		c = strings.TrimSpace(c)
		if setupByName(c) == nil {
			fatal(fmt.Errorf("unknown collector setup %q (have %s)", c, strings.Join(allSetups(), ", ")))
		}
		o.collectors = append(o.collectors, c)
	}
	if o.sources < 1 || o.sources > 250 || o.duration <= 0 || o.duration > 5*time.Minute || o.attempts < 1 {
		fatal(errors.New("bad -sources, -duration (0..5m) or -attempts"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := benchmark(ctx, o); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
	os.Exit(1)
}

// parsePoints parses RATE:DURATION,... (durations up to 2 minutes).
func parsePoints(list string, burst bool) []point {
	var pts []point
	for _, b := range strings.Split(list, ",") {
		if strings.TrimSpace(b) == "" {
			continue
		}
		rs, ds, ok := strings.Cut(strings.TrimSpace(b), ":")
		v, err := rate.Parse(rs)
		d, derr := time.ParseDuration(ds)
		if !ok || err != nil || v == 0 || derr != nil || d <= 0 || d > 2*time.Minute {
			fatal(fmt.Errorf("bad point %q (want RATE:DURATION up to 2m, e.g. 4M:500ms)", b))
		}
		pts = append(pts, point{rate: v, name: strings.TrimSpace(b), dur: d, burst: burst})
	}
	return pts
}

// point is one offered load: a rate for a duration.
type point struct {
	rate  float64
	name  string
	dur   time.Duration
	burst bool
}

// setup is one collector configuration.
type setup struct {
	name    string // key for -collectors
	label   string // table row
	output  string // what it writes
	pinned  bool   // taskset -c 0 (else free on both cores)
	args    func(o *options, port, mport int, dir string) []string
	outFile func(dir string) string
	count   func(o *options, dir string) (uint64, error)
	metrics bool // nfcollect's /metrics
	gfMet   bool // goflow2's /metrics
}

func nfcollectSetup(name, ext, codec string, pinned bool) *setup {
	cores := "1 core"
	if !pinned {
		cores = "2 cores"
	}
	return &setup{
		name: name, label: "nfcollect (" + cores + ")", output: "JSON lines, " + codec, pinned: pinned,
		args: func(o *options, port, mport int, dir string) []string {
			return []string{o.nfcollect, "--host", "127.0.0.1", "-p", strconv.Itoa(port), "-o", filepath.Join(dir, "flows"+ext),
				"--metrics", "127.0.0.1:" + strconv.Itoa(mport), "--stats-interval", "-1s"}
		},
		outFile: func(dir string) string { return filepath.Join(dir, "flows"+ext) },
		count:   func(o *options, dir string) (uint64, error) { return countLines(filepath.Join(dir, "flows"+ext)) },
		metrics: true,
	}
}

// parquetSetup makes an nfcollect setup write one Parquet file (-o
// flows.parquet, complete at exit) and count its rows.
func parquetSetup(s *setup) *setup {
	s.output = "Parquet, zstd"
	s.count = func(o *options, dir string) (uint64, error) {
		f, err := os.Open(filepath.Join(dir, "flows.parquet"))
		if err != nil {
			return 0, err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return 0, err
		}
		pf, err := parquet.OpenFile(f, fi.Size())
		if err != nil {
			return 0, err
		}
		return uint64(pf.NumRows()), nil
	}
	return s
}

func nfcapdSetup(name string, lz4 bool) *setup {
	s := &setup{
		name: name, label: "nfcapd (nfdump " + "%NFDUMP%" + ")", output: "nfcapd binary", pinned: true,
		args: func(o *options, port, mport int, dir string) []string {
			a := []string{o.nfcapd, "-b", "127.0.0.1", "-p", strconv.Itoa(port), "-w", dir, "-t", "3600", "-B", strconv.Itoa(32 << 20)}
			if lz4 {
				a = append(a, lz4Flag(o.nfcapd))
			}
			return a
		},
		outFile: func(dir string) string { return dir },
		count:   func(o *options, dir string) (uint64, error) { return countNfcapd(o.nfdump, dir) },
	}
	if lz4 {
		s.output = "nfcapd binary, LZ4"
	}
	return s
}

var setups = []*setup{
	nfcollectSetup("nfcollect-gz", ".gz", "gzip", true),
	nfcollectSetup("nfcollect-zst", ".zst", "zstd", true),
	nfcollectSetup("nfcollect-gz-2core", ".gz", "gzip", false),
	nfcollectSetup("nfcollect-zst-2core", ".zst", "zstd", false),
	parquetSetup(nfcollectSetup("nfcollect-parquet", ".parquet", "zstd", true)),
	parquetSetup(nfcollectSetup("nfcollect-parquet-2core", ".parquet", "zstd", false)),
	nfcapdSetup("nfcapd", false),
	nfcapdSetup("nfcapd-lz4", true),
	goflow2Setup("goflow2-json", "json", true),
	goflow2Setup("goflow2-bin", "bin", true),
	goflow2Setup("goflow2-json-2core", "json", false),
	goflow2Setup("goflow2-bin-2core", "bin", false),
}

// defaultSetups are run unless -collectors says otherwise.
var defaultSetups = []string{
	"nfcollect-gz", "nfcollect-zst", "nfcollect-gz-2core", "nfcollect-zst-2core",
	"nfcollect-parquet", "nfcollect-parquet-2core", "nfcapd", "nfcapd-lz4", "goflow2-json", "goflow2-bin", "goflow2-json-2core", "goflow2-bin-2core",
}

func allSetups() []string {
	var n []string
	for _, s := range setups {
		n = append(n, s.name)
	}
	return n
}

// goflow2Setup writes JSON lines or length-delimited protobuf (no
// separator) to a file.
func goflow2Setup(name, format string, pinned bool) *setup {
	label, output := "goflow2 v2.2.6", "JSON lines (file)"
	file := "flows.json"
	if format == "bin" {
		output, file = "protobuf (file)", "flows.pb"
	}
	if !pinned {
		label += " (2 cores)"
	}
	return &setup{
		name: name, label: label, output: output, pinned: pinned,
		args: func(o *options, port, mport int, dir string) []string {
			a := []string{o.goflow2, "-listen", "netflow://127.0.0.1:" + strconv.Itoa(port), "-format", format,
				"-transport.file", filepath.Join(dir, file), "-addr", "127.0.0.1:" + strconv.Itoa(mport), "-loglevel", "warn"}
			if format == "bin" {
				a = append(a, "-transport.file.sep", "")
			}
			return a
		},
		outFile: func(dir string) string { return filepath.Join(dir, file) },
		count: func(o *options, dir string) (uint64, error) {
			if format == "bin" {
				return countDelimited(filepath.Join(dir, file))
			}
			return countLines(filepath.Join(dir, file))
		},
		gfMet: true,
	}
}

func setupByName(name string) *setup {
	for _, s := range setups {
		if s.name == name {
			return s
		}
	}
	return nil
}

// lz4Flag is nfcapd's LZ4 option: -y up to nfdump 1.7.1, -z=lz4 after.
func lz4Flag(nfcapd string) string {
	out, _ := exec.Command(nfcapd, "-h").CombinedOutput()
	if bytes.Contains(out, []byte("-z=lz4")) || bytes.Contains(out, []byte("lz4:")) {
		return "-z=lz4"
	}
	return "-y"
}

// result is one run (one attempt at one point).
type result struct {
	Setup     string  `json:"setup"`
	Label     string  `json:"label"`
	Output    string  `json:"output"`
	Pinned    bool    `json:"collector_pinned"`
	Rate      float64 `json:"offered_flows_per_s"`
	RateName  string  `json:"rate"`
	DurationS float64 `json:"duration_s"`
	Burst     bool    `json:"burst,omitempty"`
	Attempt   int     `json:"attempt"`
	QuietWait float64 `json:"quiet_wait_s"` // waited for the machine to be idle
	Quiet     bool    `json:"quiet"`        // it was, when the run started
	CalibMs   float64 `json:"calib_ms"`     // a fixed workload on core 0 before the run (host speed)
	CPUs      string  `json:"cpus_allowed"` // the collector's affinity
	LoadAvg   string  `json:"loadavg"`
	OtherCPU  float64 `json:"other_cpu_s"` // busy CPU time used by neither the sender nor the collector
	BusyCPU   float64 `json:"machine_busy_cpu_s"`
	SoftIRQ   float64 `json:"machine_softirq_s"`
	WindowS   float64 `json:"window_s"`
	Sender    sender  `json:"sender"`
	SenderCPU float64 `json:"sender_cpu_s"`

	Written      uint64  `json:"flows_written"`
	WrittenPct   float64 `json:"written_pct"`
	OutputBytes  int64   `json:"output_bytes"`
	KernelDrops  uint64  `json:"kernel_drops"`
	RcvBuf       int64   `json:"rcvbuf"`
	DrainS       float64 `json:"drain_s"`
	StopS        float64 `json:"stop_s"`
	CPUUser      float64 `json:"cpu_user_s"`
	CPUSys       float64 `json:"cpu_sys_s"`
	MaxRSSKiB    int64   `json:"max_rss_kib"`
	ExitCode     int     `json:"exit_code"`
	Error        string  `json:"error,omitempty"`
	Metrics      *nfcMet `json:"nfcollect_metrics,omitempty"`
	GoflowPkts   uint64  `json:"goflow2_packets,omitempty"`
	CountSeconds float64 `json:"count_s"`
}

type sender struct {
	Packets    uint64  `json:"packets"`
	Flows      uint64  `json:"flows"`
	ElapsedS   float64 `json:"elapsed_s"`
	FlowsPerS  float64 `json:"flows_per_s"`
	MaxLagMs   float64 `json:"max_lag_ms"`
	SlippedMs  float64 `json:"slipped_ms"`
	SendErrors uint64  `json:"send_errors"`
	StoppedBy  string  `json:"stopped_by"`
}

// nfcMet are nfcollect's counters just before it was stopped.
type nfcMet struct {
	Packets     uint64 `json:"packets_received"`
	Flows       uint64 `json:"flows_decoded"`
	QueueDrops  uint64 `json:"queue_drops"`
	KernelDrops uint64 `json:"kernel_drops"`
	SeqLost     uint64 `json:"sequence_lost"`
	OutFlows    uint64 `json:"output_flows"`
	OutBytes    uint64 `json:"output_bytes"`
	WriteErrors uint64 `json:"write_errors"`
	DecodeErrs  uint64 `json:"decode_errors"`
}

func (r *result) lossy() bool { return r.Written < r.Sender.Flows }

func (r *result) cpu() float64 { return r.CPUUser + r.CPUSys }

// better reports whether attempt a is the one to keep over b.
func better(a, b *result) bool {
	if a.Error != "" || b.Error != "" {
		return b.Error != "" && a.Error == ""
	}
	return a.WrittenPct > b.WrittenPct
}

func benchmark(ctx context.Context, o *options) error {
	start := time.Now()
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if o.work == "" {
		d, err := os.MkdirTemp("", "nfkit-e2e-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		o.work = d
	}
	raw, err := os.Create(filepath.Join(o.out, "e2e.txt"))
	if err != nil {
		return err
	}
	defer raw.Close()
	mach := machine(o)
	for _, l := range mach {
		fmt.Fprintln(raw, l)
	}
	nfdumpVer := versionOf(o.nfcapd, "-V")

	var kept []*result
	port := o.port
	fastest := math.Inf(1) // calibration, ms
	for _, name := range o.collectors {
		s := setupByName(name)
		var points []point
		for i, rate := range o.rates {
			points = append(points, point{rate: rate, name: o.rateNames[i], dur: o.duration})
		}
		if !strings.HasPrefix(s.name, "goflow2") { // far below the burst rates
			points = append(points, o.bursts...)
			points = append(points, o.long...)
		}
		for _, pt := range points {
			rate := pt.rate
			var best *result
			for attempt := 1; attempt <= o.attempts; attempt++ {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				port += 2
				r := runPoint(ctx, o, s, pt, attempt, port)
				r.Label = strings.ReplaceAll(r.Label, "%NFDUMP%", nfdumpVer)
				b, _ := json.Marshal(r)
				fmt.Fprintf(raw, "%s\n", b)
				logf("%-20s %6s attempt %d (quiet wait %.0fs, calib %.1fms): offered %9.0f flows/s, written %6.2f%%, kernel drops %d, cpu %.2fs, rss %d MiB, drain %.1fs, other cpu %.2fs, load %s %s",
					s.name, r.RateName, attempt, r.QuietWait, r.CalibMs, r.Sender.FlowsPerS, r.WrittenPct, r.KernelDrops, r.cpu(), r.MaxRSSKiB>>10, r.DrainS, r.OtherCPU, r.LoadAvg, r.Error)
				if best == nil || better(r, best) {
					best = r
				}
				// Run a point again only when it lost flows and something
				// else may be to blame: other work on the machine, or a
				// sender that did not reach the offered rate.
				fastest = min(fastest, r.CalibMs)
				slow := r.CalibMs > 1.1*fastest
				noisy := r.OtherCPU > o.noisyCPU || r.Sender.FlowsPerS < 0.97*rate || r.Error != "" || slow
				if !(best.lossy() && noisy) {
					break
				}
			}
			kept = append(kept, best)
		}
	}
	var prof []*profile
	if o.profileRate > 0 {
		for _, name := range []string{"nfcollect-gz", "nfcollect-zst"} {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			port += 2
			p, err := runProfile(ctx, o, setupByName(name), o.profileRate, port)
			if err != nil {
				logf("profile %s: %v", name, err)
				continue
			}
			b, _ := json.Marshal(p)
			fmt.Fprintf(raw, "%s\n", b)
			prof = append(prof, p)
		}
	}
	wall := time.Since(start)
	fmt.Fprintf(raw, "wall: %s\n", wall.Round(time.Second))
	md := markdown(o, mach, kept, prof, wall)
	if err := os.WriteFile(filepath.Join(o.out, "e2e.md"), []byte(md), 0o644); err != nil {
		return err
	}
	logf("wrote %s and %s in %s", filepath.Join(o.out, "e2e.md"), filepath.Join(o.out, "e2e.txt"), wall.Round(time.Second))
	return nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func machine(o *options) []string {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	var uts syscall.Utsname
	syscall.Uname(&uts)
	kernel := utsString(uts.Release[:])
	rmem, _ := os.ReadFile("/proc/sys/net/core/rmem_max")
	return []string{
		"date: " + time.Now().UTC().Format(time.RFC3339),
		fmt.Sprintf("machine: %d cores (%s), %s, Linux %s, net.core.rmem_max %s", runtime.NumCPU(), model, memTotal(), kernel, strings.TrimSpace(string(rmem))),
		"go: " + runtime.Version(),
		"nfcapd: " + versionOf(o.nfcapd, "-V"),
		"goflow2: v2.2.6 (go install github.com/netsampler/goflow2/v2/cmd/goflow2@v2.2.6)",
		fmt.Sprintf("load: 25-flow NetFlow v9 packets (1400 bytes, internal/benchpkt.V9) from %d exporters (127.0.0.1-%d), %s per point", o.sources, o.sources, o.duration),
		"loadavg-start: " + loadavg(),
	}
}

func utsString(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "? GiB"
	}
	var kb int64
	fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
	return fmt.Sprintf("%d GiB", (kb+512<<10)>>20)
}

// versionOf returns what a tool says after "Version:" (nfcapd -V), or
// its first line.
func versionOf(bin, flag string) string {
	out, err := exec.Command(bin, flag).CombinedOutput()
	if err != nil && len(out) == 0 {
		return "unavailable"
	}
	s, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if _, v, ok := strings.Cut(s, "Version:"); ok {
		s = v
	}
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// proc is a started collector.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(argv []string, pin string, logFile string) (*proc, error) {
	if pin != "" {
		argv = append([]string{"taskset", "-c", pin}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	lf, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	// The collector dies with this program, whatever happens to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM and waits up to limit, then SIGKILL.
func (p *proc) stop(limit time.Duration) (time.Duration, error) {
	t := time.Now()
	select {
	case <-p.done:
		return 0, fmt.Errorf("exited early: %v", p.err)
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return time.Since(t), nil
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		return time.Since(t), fmt.Errorf("did not stop within %v of SIGTERM: killed", limit)
	}
}

// cpuTicks is the process's user+system time in clock ticks.
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("bad stat")
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st, nil
}

// machineCPU returns the busy (not idle, not iowait) and softirq ticks of
// all CPUs from /proc/stat.
func machineCPU() (busy, softirq int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var total int64
	for i, x := range f[1:] {
		v, _ := strconv.ParseInt(x, 10, 64)
		if i >= 8 { // guest time is already in user
			break
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			total -= v
		}
		if i == 6 {
			softirq = v
		}
	}
	return total, softirq
}

const clkTck = 100.0

// udpSockets returns the summed drop counter of the UDP sockets bound to
// port (/proc/net/udp and udp6, last column).
func udpDrops(port int) (drops uint64, n int) {
	want := fmt.Sprintf(":%04X", port)
	for _, name := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		d, k := parseUDPDrops(b, want)
		drops += d
		n += k
	}
	return drops, n
}

func parseUDPDrops(b []byte, want string) (drops uint64, n int) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 13 || !strings.HasSuffix(f[1], want) {
			continue
		}
		v, err := strconv.ParseUint(f[len(f)-1], 10, 64)
		if err == nil {
			drops += v
			n++
		}
	}
	return drops, n
}

// rcvbuf is the receive buffer (bytes, as the kernel accounts it) of the
// first socket bound to port, from ss.
func rcvbuf(port int) int64 {
	out, err := exec.Command("ss", "-uanmH", fmt.Sprintf("sport = :%d", port)).Output()
	if err != nil {
		return 0
	}
	s := string(out)
	i := strings.Index(s, ",rb")
	if i < 0 {
		return 0
	}
	s = s[i+3:]
	j := strings.IndexAny(s, ",)")
	if j < 0 {
		return 0
	}
	v, _ := strconv.ParseInt(s[:j], 10, 64)
	return v
}

// waitListening waits until a UDP socket is bound to port.
func waitListening(port int, p *proc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("collector exited: %v", p.err)
		default:
		}
		if _, n := udpDrops(port); n > 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("nothing listening on port %d after %v", port, limit)
}

// cpusAllowed is a process's Cpus_allowed_list.
func cpusAllowed(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// waitQuiet waits until the machine's busy CPU over half a second is below
// cores (other work finished), or limit passed.
func waitQuiet(limit time.Duration, cores float64) (time.Duration, bool) {
	t := time.Now()
	for {
		b0, _ := machineCPU()
		time.Sleep(500 * time.Millisecond)
		b1, _ := machineCPU()
		if float64(b1-b0)/clkTck/0.5 <= cores {
			return time.Since(t), true
		}
		if time.Since(t) >= limit {
			return time.Since(t), false
		}
	}
}

// waitIdle waits until the process uses (almost) no CPU: the collector has
// worked off what it received.
func waitIdle(pid int, limit time.Duration) time.Duration {
	t := time.Now()
	prev, err := cpuTicks(pid)
	if err != nil {
		return 0
	}
	quiet := 0
	for time.Since(t) < limit {
		time.Sleep(200 * time.Millisecond)
		cur, err := cpuTicks(pid)
		if err != nil {
			break
		}
		if cur-prev <= 2 { // <= 10% of a core
			if quiet++; quiet == 2 {
				return time.Since(t) - 400*time.Millisecond
			}
		} else {
			quiet = 0
		}
		prev = cur
	}
	return time.Since(t)
}

func runSender(ctx context.Context, o *options, port int, rate float64, dur time.Duration) (sender, float64, error) {
	count := uint64(rate*dur.Seconds()/flowsPerPacket*1.05) + 1000
	cmd := exec.CommandContext(ctx, "taskset", "-c", "1", o.nfreplay, "-t", "127.0.0.1:"+strconv.Itoa(port),
		"--rate", strconv.FormatFloat(rate, 'f', 0, 64), "--duration", dur.String(), "--count", strconv.FormatUint(count, 10),
		"--source-addrs", strconv.Itoa(o.sources), "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	var s sender
	cpu := 0.0
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime().Seconds() + cmd.ProcessState.SystemTime().Seconds()
	}
	if jerr := json.Unmarshal(stdout.Bytes(), &s); jerr != nil {
		return s, cpu, fmt.Errorf("nfreplay: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		return s, cpu, fmt.Errorf("nfreplay: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return s, cpu, nil
}

func runPoint(ctx context.Context, o *options, s *setup, pt point, attempt, port int) *result {
	r := &result{Setup: s.name, Label: s.label, Output: s.output, Pinned: s.pinned, Rate: pt.rate, RateName: pt.name,
		Attempt: attempt, DurationS: pt.dur.Seconds(), Burst: pt.burst}
	dir := filepath.Join(o.work, fmt.Sprintf("%s-%s-%d", s.name, strings.ReplaceAll(pt.name, ":", "-"), attempt))
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.Error = err.Error()
		return r
	}
	defer os.RemoveAll(dir)
	mport := port + 1
	pin := ""
	if s.pinned {
		pin = "0"
	}
	w, quiet := waitQuiet(o.quietWait, o.quietCores)
	r.QuietWait, r.Quiet = w.Seconds(), quiet
	r.CalibMs = float64(calibrate()) / 1e6
	r.LoadAvg = loadavg()
	p, err := startProc(s.args(o, port, mport, dir), pin, filepath.Join(dir, "..", s.name+".log"))
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	}()
	if err := waitListening(port, p, 10*time.Second); err != nil {
		r.Error = err.Error()
		return r
	}
	time.Sleep(300 * time.Millisecond) // let it settle (goflow2 starts its workers after binding)
	pid := p.cmd.Process.Pid
	r.CPUs = cpusAllowed(pid)
	if want := map[bool]string{true: "0", false: fmt.Sprintf("0-%d", runtime.NumCPU()-1)}[s.pinned]; r.CPUs != want {
		r.Error = fmt.Sprintf("collector may run on CPUs %q, want %q", r.CPUs, want)
	}
	busy0, soft0 := machineCPU()
	c0, _ := cpuTicks(pid)
	t0 := time.Now()
	snd, sndCPU, err := runSender(ctx, o, port, pt.rate, pt.dur)
	r.Sender, r.SenderCPU = snd, sndCPU
	if err != nil {
		r.Error = err.Error()
	}
	r.DrainS = waitIdle(pid, o.drainMax).Seconds()
	r.WindowS = time.Since(t0).Seconds()
	busy1, soft1 := machineCPU()
	c1, _ := cpuTicks(pid)
	r.BusyCPU, r.SoftIRQ = float64(busy1-busy0)/clkTck, float64(soft1-soft0)/clkTck
	r.OtherCPU = math.Max(0, float64((busy1-busy0)-(soft1-soft0)-(c1-c0))/clkTck-sndCPU)
	r.KernelDrops, _ = udpDrops(port)
	r.RcvBuf = rcvbuf(port)
	if s.metrics {
		if m, err := scrapeNfcollect(mport); err == nil {
			r.Metrics = m
		} else if r.Error == "" {
			r.Error = "metrics: " + err.Error()
		}
	}
	if s.gfMet {
		r.GoflowPkts = scrapeGoflow(mport)
	}
	stopT, err := p.stop(2 * time.Minute)
	r.StopS = stopT.Seconds()
	if err != nil && r.Error == "" {
		r.Error = err.Error()
	}
	if ps := p.cmd.ProcessState; ps != nil {
		r.CPUUser = ps.UserTime().Seconds()
		r.CPUSys = ps.SystemTime().Seconds()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSSKiB = ru.Maxrss
		}
		r.ExitCode = ps.ExitCode()
	}
	ct := time.Now()
	n, err := s.count(o, dir)
	r.CountSeconds = time.Since(ct).Seconds()
	if err != nil && r.Error == "" {
		r.Error = "count: " + err.Error()
	}
	r.Written = n
	if r.Sender.Flows > 0 {
		r.WrittenPct = 100 * float64(n) / float64(r.Sender.Flows)
	}
	r.OutputBytes = duSize(s.outFile(dir))
	return r
}

func duSize(path string) int64 {
	var n int64
	filepath.Walk(path, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func httpGet(url string) ([]byte, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// scrapeNfcollect sums nfcollect's counters over exporters.
func scrapeNfcollect(mport int) (*nfcMet, error) {
	b, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
	if err != nil {
		return nil, err
	}
	return parseNfcollectMetrics(b), nil
}

func parseNfcollectMetrics(b []byte) *nfcMet {
	m := &nfcMet{}
	for _, l := range strings.Split(string(b), "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		name, val, ok := metricLine(l)
		if !ok {
			continue
		}
		switch name {
		case "nfcollect_packets_received_total":
			m.Packets += val
		case "nfcollect_flows_decoded_total":
			m.Flows += val
		case "nfcollect_queue_drops_total":
			m.QueueDrops += val
		case "nfcollect_kernel_receive_drops":
			m.KernelDrops += val
		case "nfcollect_sequence_lost_total":
			m.SeqLost += val
		case "nfcollect_output_flows_total":
			m.OutFlows += val
		case "nfcollect_output_bytes_total":
			m.OutBytes += val
		case "nfcollect_write_errors_total":
			m.WriteErrors += val
		case "nfcollect_decode_errors_total":
			m.DecodeErrs += val
		}
	}
	return m
}

// metricLine splits a Prometheus sample line into its name and value.
func metricLine(l string) (string, uint64, bool) {
	sp := strings.LastIndexByte(l, ' ')
	if sp < 0 {
		return "", 0, false
	}
	name := l[:sp]
	if i := strings.IndexByte(name, '{'); i >= 0 {
		name = name[:i]
	}
	v, err := strconv.ParseFloat(l[sp+1:], 64)
	if err != nil {
		return "", 0, false
	}
	return name, uint64(v), true
}

// scrapeGoflow returns goflow2's received packet count.
func scrapeGoflow(mport int) uint64 {
	b, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
	if err != nil {
		return 0
	}
	var n uint64
	for _, l := range strings.Split(string(b), "\n") {
		if name, v, ok := metricLine(l); ok && name == "goflow2_flow_traffic_packets_total" {
			n += v
		}
	}
	return n
}

// countLines decompresses (by extension) and counts the lines of a file.
func countLines(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<20)
	switch {
	case strings.HasSuffix(path, ".gz"):
		zr, err := gzip.NewReader(r)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		r = zr
	case strings.HasSuffix(path, ".zst"):
		zr, err := zstd.NewReader(r)
		if err != nil {
			return 0, err
		}
		defer zr.Close()
		r = zr
	}
	buf := make([]byte, 1<<20)
	var n uint64
	for {
		k, err := r.Read(buf)
		n += uint64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// countDelimited counts the messages of a varint-length-delimited
// protobuf stream.
func countDelimited(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var n uint64
	for {
		size, err := binary.ReadUvarint(r)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if _, err := r.Discard(int(size)); err != nil {
			return n, fmt.Errorf("message %d truncated: %w", n, err)
		}
		n++
	}
}

// countNfcapd reads the flow count of the files nfcapd wrote to dir from
// their statistics record (nfdump -I).
func countNfcapd(nfdump, dir string) (uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var total uint64
	found := false
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "nfcapd.") || strings.Contains(e.Name(), "current") {
			continue
		}
		found = true
		out, err := exec.Command(nfdump, "-r", filepath.Join(dir, e.Name()), "-I").Output()
		if err != nil {
			return total, fmt.Errorf("nfdump -I %s: %v", e.Name(), err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(l, "Flows: "); ok {
				n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
				total += n
			}
		}
	}
	if !found {
		return 0, errors.New("no nfcapd file")
	}
	return total, nil
}
