//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profile is where a collector's CPU time goes, from perf samples.
type profile struct {
	Kind         string             `json:"kind"`
	Setup        string             `json:"setup"`
	Rate         float64            `json:"offered_flows_per_s"`
	Samples      int                `json:"samples"`
	OtherSamples int                `json:"other_process_samples"` // on core 0, not the collector
	Share        map[string]float64 `json:"share"`                 // category -> fraction of samples
	NsPerFlow    map[string]float64 `json:"ns_per_flow"`           // category -> CPU ns per flow written
	CPUPerFlow   float64            `json:"cpu_ns_per_flow"`
	TopLeaf      []symShare         `json:"top_leaf"`
	Run          *result            `json:"run"`
}

type symShare struct {
	Sym   string  `json:"sym"`
	Share float64 `json:"share"`
}

// categories in the order a sample is attributed: the first whose pattern
// matches any frame of the sample's stack wins. The stacks of the
// collector's stages are disjoint below worker.run / Collector.receive, so
// the order only matters for shared helpers (memmove, the allocator).
var categories = []struct {
	name     string
	patterns []string
}{
	{"compress", []string{"klauspost/compress", "compress/flate", "compress/gzip", "(*gzipFramer).", "(*zstdFramer)."}},
	{"write", []string{"collector.(*output).", "collector.(*dataFile).", "collector.(*FileSink).", "collector.(*RotateSink).", "os.(*File).Write", "ksys_write", "vfs_write"}},
	{"sequence, stats", []string{"collector.(*worker).trackSequence", "collector.(*seqState)", "collector.(*exporterTable)", "collector.(*exporterState)"}},
	{"JSON encode", []string{"nfkit/flowjson.", "collector.JSONLines", "collector.PythonNetflow", "collector.(*worker).emit", "nfkit/pynetflow."}},
	{"decode", []string{"nfkit/decode."}},
	{"receive (recvmmsg, copy, queue)", []string{"collector.(*Collector).receive", "__sys_recvmmsg", "(*Collector).Submit", "(*bufPool)", "ipv4.(*payloadHandler)", "ipv6.(*payloadHandler)"}},
	{"GC, allocation", []string{"runtime.gcBgMarkWorker", "runtime.mallocgc", "runtime.gcAssist", "runtime.bgsweep", "runtime.bgscavenge", "runtime.gcStart"}},
	{"worker loop, queue", []string{"collector.(*worker)"}},
	{"runtime, scheduler", []string{"runtime."}},
}

const otherCategory = "other (kernel, timers, metrics)"

// classify attributes a stack (leaf first) to a category.
func classify(stack []string) string {
	for _, c := range categories {
		for _, f := range stack {
			for _, p := range c.patterns {
				if strings.Contains(f, p) {
					return c.name
				}
			}
		}
	}
	return otherCategory
}

// parsePerfScript reads `perf script` output: a header line per sample
// ("comm tid [cpu] time: period event:"), then one frame per line ("addr
// sym+off (dso)"), then a blank line. Samples of other commands than comm
// (when not empty) are only counted, in foreign.
func parsePerfScript(r io.Reader, comm string) (counts map[string]int, leaves map[string]int, total, foreign int) {
	counts, leaves = map[string]int{}, map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var stack []string
	flush := func() {
		if len(stack) == 0 {
			return
		}
		counts[classify(stack)]++
		leaves[stack[0]]++
		total++
		stack = stack[:0]
	}
	inSample := false
	for sc.Scan() {
		l := sc.Text()
		if strings.TrimSpace(l) == "" {
			flush()
			inSample = false
			continue
		}
		if l[0] != ' ' && l[0] != '\t' {
			flush()
			inSample = comm == "" || strings.HasPrefix(l, comm+" ")
			if !inSample {
				foreign++
			}
			continue
		}
		if !inSample {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		sym := strings.Join(f[1:len(f)-1], " ")
		if len(f) == 2 {
			sym = f[1]
		}
		if i := strings.LastIndex(sym, "+0x"); i > 0 {
			sym = sym[:i]
		}
		stack = append(stack, sym)
	}
	flush()
	return counts, leaves, total, foreign
}

// runProfile runs nfcollect at rate with `perf record -g` attached for
// profileSecs, and splits its CPU time by stage.
func runProfile(ctx context.Context, o *options, s *setup, rate float64, port int) (*profile, error) {
	if _, err := exec.LookPath(o.perf); err != nil {
		return nil, fmt.Errorf("perf not found: %v", err)
	}
	dir := filepath.Join(o.work, "profile-"+s.name)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	mport := port + 1
	waitQuiet(o.quietWait, o.quietCores)
	p, err := startProc(s.args(o, port, mport, dir), "0", filepath.Join(dir, "collector.log"))
	if err != nil {
		return nil, err
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
		return nil, err
	}
	time.Sleep(300 * time.Millisecond)
	pid := p.cmd.Process.Pid
	type sres struct {
		s   sender
		cpu float64
		err error
	}
	ch := make(chan sres, 1)
	dur := o.duration
	if min := time.Duration((o.profileSecs + 1.5) * float64(time.Second)); dur < min {
		dur = min
	}
	go func() {
		s, c, err := runSender(ctx, o, port, rate, dur)
		ch <- sres{s, c, err}
	}()
	time.Sleep(700 * time.Millisecond)
	data := filepath.Join(dir, "perf.data")
	// All of core 0, where the collector is pinned (attaching to the
	// process can miss threads the Go runtime starts later); samples of
	// other processes are set aside by command name.
	perf := exec.CommandContext(ctx, o.perf, "record", "-F", "999", "-g", "-C", "0", "-o", data,
		"--", "sleep", strconv.FormatFloat(o.profileSecs, 'f', 1, 64))
	perf.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	perfOut, perfErr := perf.CombinedOutput()
	sr := <-ch
	r := &result{Setup: s.name, Label: s.label, Output: s.output, Pinned: true, Rate: rate, Sender: sr.s, SenderCPU: sr.cpu}
	r.DrainS = waitIdle(pid, o.drainMax).Seconds()
	r.KernelDrops, _ = udpDrops(port)
	if m, err := scrapeNfcollect(mport); err == nil {
		r.Metrics = m
	}
	stopT, _ := p.stop(2 * time.Minute)
	r.StopS = stopT.Seconds()
	if ps := p.cmd.ProcessState; ps != nil {
		r.CPUUser, r.CPUSys = ps.UserTime().Seconds(), ps.SystemTime().Seconds()
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			r.MaxRSSKiB = ru.Maxrss
		}
	}
	r.Written, _ = s.count(o, dir)
	if r.Sender.Flows > 0 {
		r.WrittenPct = 100 * float64(r.Written) / float64(r.Sender.Flows)
	}
	if perfErr != nil {
		return nil, fmt.Errorf("perf record: %v: %s", perfErr, bytes.TrimSpace(perfOut))
	}
	script := exec.CommandContext(ctx, o.perf, "script", "-i", data)
	out, err := script.Output()
	if err != nil {
		return nil, fmt.Errorf("perf script: %v", err)
	}
	comm := filepath.Base(o.nfcollect)
	if len(comm) > 15 {
		comm = comm[:15]
	}
	counts, leaves, total, foreign := parsePerfScript(bytes.NewReader(out), comm)
	if total == 0 {
		return nil, fmt.Errorf("no samples of %s (%d of other processes)", comm, foreign)
	}
	pr := &profile{Kind: "profile", Setup: s.name, Rate: rate, Samples: total, OtherSamples: foreign, Share: map[string]float64{}, NsPerFlow: map[string]float64{}, Run: r}
	if r.Written > 0 {
		pr.CPUPerFlow = r.cpu() * 1e9 / float64(r.Written)
	}
	for c, n := range counts {
		pr.Share[c] = float64(n) / float64(total)
		pr.NsPerFlow[c] = pr.Share[c] * pr.CPUPerFlow
	}
	type kv struct {
		k string
		v int
	}
	var lv []kv
	for k, v := range leaves {
		lv = append(lv, kv{k, v})
	}
	sort.Slice(lv, func(i, j int) bool { return lv[i].v > lv[j].v })
	for i := 0; i < len(lv) && i < 15; i++ {
		pr.TopLeaf = append(pr.TopLeaf, symShare{lv[i].k, float64(lv[i].v) / float64(total)})
	}
	logf("profile %s at %.0f flows/s: %d samples, %.0f ns CPU per flow written, written %.2f%%", s.name, rate, total, pr.CPUPerFlow, r.WrittenPct)
	return pr, nil
}
