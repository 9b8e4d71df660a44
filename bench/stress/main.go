//go:build linux

// Command stress runs the floods of the nfcollect denial-of-service issue
// against an nfcollect binary and reports, for each, the collector's peak
// resident memory and whether a legitimate exporter that starts during or
// after the flood still gets all its flows written (make stress).
//
//	go run ./bench/stress                                   # builds ./cmd/nfcollect
//	go run ./bench/stress -nfcollect /work/baseline/nfcollect -run a,c
//
// Scenarios (the README's "Floods and memory" describes them):
//
//	a  template flood from 25,000 spoofed sources
//	b  one source, 16 domains × 256 templates × 1024 fields, --workers 1
//	c  65,507-byte datagrams as fast as possible
//	d  1,024,000 28-byte data packets for a template never sent
//	e  garbage at 95k datagrams/s from 200 sources
//	f  --templates with 1.2M templates learned, then a save
//
// Each scenario starts its own collector on 127.0.0.1 (free UDP and metrics
// ports, zstd output in a temporary directory), samples VmRSS of
// /proc/PID/status every 100 ms, sends the flood from spoofed 127/8
// sources (package internal/spoof), replays a real capture from a new
// exporter address during and after the flood, reads /metrics, stops the
// collector with SIGTERM (SIGKILL after -stop-wait, reported) and counts
// the output lines of each legitimate address. A watchdog kills the
// collector (by pid) when its RSS passes -max-rss or the machine runs low on
// memory, and says so. Everything is sent to loopback only, every loop is
// bounded in count and time, temporary directories are removed.
//
// The report (a Markdown table, the command, machine facts and load
// average) goes to stdout and to bench/results/stress.md; the raw results
// (one JSON object per scenario, RSS samples included) to
// bench/results/stress.txt.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type options struct {
	nfcollect   string
	run         []string
	duration    time.Duration
	capture     string
	legitRounds int
	drainWait   time.Duration
	stopWait    time.Duration
	saveWait    time.Duration
	saveEvery   time.Duration
	maxRSS      int64
	minAvail    int64
	out         string
	work        string
	keep        bool
	pprof       map[string]bool
	seed        uint64

	builtFrom string          // what -nfcollect was built from, when the harness built it
	flags     map[string]bool // the binary's flags
	saveFlag  string          // its templates save interval flag, if any
	goBin     string
}

func main() {
	o := &options{pprof: map[string]bool{}}
	var run, pprofList string
	var maxRSSMiB, minAvailMiB int64
	flag.StringVar(&o.nfcollect, "nfcollect", "", "nfcollect binary to measure (default: build ./cmd/nfcollect into a temporary directory)")
	flag.StringVar(&run, "run", "all", "scenarios to run, comma-separated (a,b,c,d,e,f or all)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each flood (d and f are bounded by their packet count; at most 2m)")
	flag.StringVar(&o.capture, "capture", "testdata/softflowd-ipfix.pcap", "capture the legitimate exporter replays")
	flag.IntVar(&o.legitRounds, "legit-rounds", 3, "times the legitimate exporter replays the capture in each phase (1..20)")
	flag.DurationVar(&o.drainWait, "drain-wait", 15*time.Second, "longest wait for the collector to go idle after a flood")
	flag.DurationVar(&o.stopWait, "stop-wait", 20*time.Second, "longest wait for the collector to exit after SIGTERM before SIGKILL")
	flag.DurationVar(&o.saveWait, "save-wait", 90*time.Second, "f: longest wait for the templates file to be written")
	flag.DurationVar(&o.saveEvery, "save-every", 5*time.Second, "f: save interval to set when the binary has a flag for it")
	flag.Int64Var(&maxRSSMiB, "max-rss", 6144, "kill the collector when its RSS passes this many MiB (0: no limit)")
	flag.Int64Var(&minAvailMiB, "min-available", 3072, "kill the collector when the machine's MemAvailable falls below this many MiB (0: never)")
	flag.StringVar(&o.out, "out", "bench/results", "directory of stress.md and stress.txt (empty: stdout only)")
	flag.StringVar(&o.work, "work", "", "scratch directory (default: a new temporary directory, removed at the end)")
	flag.BoolVar(&o.keep, "keep", false, "keep the collectors' output, logs and templates files")
	flag.StringVar(&pprofList, "pprof", "e", "scenarios whose heap profile is taken after the flood (comma-separated; empty: none)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the garbage generator")
	flag.Parse()
	o.maxRSS, o.minAvail = maxRSSMiB<<20, minAvailMiB<<20
	for _, id := range splitList(pprofList) {
		o.pprof[id] = true
	}
	if run == "all" {
		run = "a,b,c,d,e,f"
	}
	for _, id := range splitList(run) {
		if scenarioByID(id) == nil {
			fatal(fmt.Errorf("unknown scenario %q (have a to f)", id))
		}
		o.run = append(o.run, id)
	}
	if o.duration <= 0 || o.duration > 2*time.Minute || o.legitRounds < 1 || o.legitRounds > 20 ||
		o.drainWait <= 0 || o.drainWait > 5*time.Minute || o.stopWait <= 0 || o.stopWait > 5*time.Minute ||
		o.saveWait <= 0 || o.saveWait > 5*time.Minute || flag.NArg() > 0 {
		fatal(errors.New("bad flags: -duration up to 2m, -legit-rounds 1..20, waits up to 5m, no arguments"))
	}
	if runtime.GOOS != "linux" {
		fatal(errors.New("needs Linux (/proc, IP_PKTINFO sources in 127/8)"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := stress(ctx, o); err != nil {
		fatal(err)
	}
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "stress: %v\n", err)
	os.Exit(1)
}

func stress(ctx context.Context, o *options) error {
	start := time.Now()
	loadStart := loadavg()
	if o.work == "" {
		d, err := os.MkdirTemp("", "nfkit-stress-")
		if err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(d)
		}
		o.work = d
	}
	var err error
	if o.goBin, err = exec.LookPath("go"); err != nil {
		o.goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	if o.nfcollect == "" {
		o.nfcollect = filepath.Join(o.work, "nfcollect")
		logf("building ./cmd/nfcollect")
		if out, err := commandOutput(5*time.Minute, true, o.goBin, "build", "-o", o.nfcollect, "./cmd/nfcollect"); err != nil {
			return fmt.Errorf("go build ./cmd/nfcollect (run from the module root): %w: %s", err, out)
		}
		o.builtFrom = "./cmd/nfcollect"
		if rev, err := commandOutput(time.Minute, false, "git", "rev-parse", "--short", "HEAD"); err == nil {
			o.builtFrom += " at " + strings.TrimSpace(string(rev))
			if st, err := commandOutput(time.Minute, false, "git", "status", "--porcelain", "--untracked-files=no"); err == nil && len(st) > 0 {
				o.builtFrom += " with uncommitted changes"
			}
		}
	} else if o.nfcollect, err = filepath.Abs(o.nfcollect); err != nil {
		return err
	}
	if o.flags, err = binaryFlags(o.nfcollect); err != nil {
		return err
	}
	o.saveFlag = saveIntervalFlag(o.flags)
	lg, err := loadLegit(o.nfcollect, o.capture, o.work)
	if err != nil {
		return err
	}
	if lg.flows != lg.decoded {
		logf("warning: %s -r writes %d flows for %s, package decode finds %d", o.nfcollect, lg.flows, o.capture, lg.decoded)
	}
	logf("legitimate exporter: %s, %d datagrams, %d flows per replay", o.capture, len(lg.pkts), lg.flows)

	var results []*result
	for _, id := range o.run {
		if ctx.Err() != nil {
			break
		}
		results = append(results, runScenario(ctx, o, scenarioByID(id), lg))
	}
	rep := &report{
		o: o, lg: lg, results: results, wall: time.Since(start),
		loadStart: loadStart, loadEnd: loadavg(),
		command: commandLine(),
	}
	md := rep.markdown()
	fmt.Print(md)
	if o.out != "" {
		if err := os.MkdirAll(o.out, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(o.out, "stress.md"), []byte(md), 0o644); err != nil {
			return err
		}
		var raw strings.Builder
		for _, r := range results {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			raw.Write(b)
			raw.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(o.out, "stress.txt"), []byte(raw.String()), 0o644); err != nil {
			return err
		}
		logf("wrote %s and %s", filepath.Join(o.out, "stress.md"), filepath.Join(o.out, "stress.txt"))
	}
	return ctx.Err()
}

// commandLine is how this run was started, as a go run command.
func commandLine() string {
	args := []string{"go", "run", "./bench/stress"}
	for _, a := range os.Args[1:] {
		if a == "" || strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		args = append(args, a)
	}
	return strings.Join(args, " ")
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
