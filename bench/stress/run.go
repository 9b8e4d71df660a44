//go:build linux

package main

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nfkit/nfkit/internal/spoof"
)

// legitRun is what the legitimate exporter sent in one phase and what
// reached the output.
type legitRun struct {
	Addr     netip.Addr `json:"addr"`
	Rounds   int        `json:"rounds"`
	Sent     int        `json:"datagrams_sent"`
	Expected int        `json:"flows_expected"`
	Got      int64      `json:"flows_written"`
	Err      string     `json:"error,omitempty"`
	// The collector's counters for this exporter (absent when the metrics
	// lumped it with others).
	Listed     bool               `json:"listed"`
	Received   float64            `json:"packets_received"`
	Decoded    float64            `json:"flows_decoded"`
	Errors     map[string]float64 `json:"decode_errors,omitempty"`
	QueueDrops float64            `json:"queue_drops"`
	Pending    float64            `json:"pending"`
}

func (l *legitRun) ran() bool { return l.Rounds > 0 }

// saveRun is what scenario f saw of a templates save.
type saveRun struct {
	Flag       string        `json:"interval_flag,omitempty"`
	Templates  float64       `json:"templates"`
	RSSBefore  int64         `json:"rss_before"`
	PeakDuring int64         `json:"peak_rss_during"`
	FileSize   int64         `json:"file_size"`
	SavedAt    time.Duration `json:"saved_at_ns"` // since the collector started
	Seen       bool          `json:"seen"`
	WaitedFor  time.Duration `json:"waited_ns"`
}

// result is one scenario's run.
type result struct {
	ID, Title  string
	What       string
	Sources    int
	Args       []string
	Flood      sent
	RSSStart   int64
	PeakFlood  int64 // peak RSS up to the end of the flood
	PeakRSS    int64 // peak of every VmRSS sample and the last VmHWM
	HWM        int64 // last VmHWM read
	PeakStop   int64 // peak RSS from SIGTERM to exit
	Killed     string
	Drain      time.Duration
	Drained    bool
	During     legitRun
	After      legitRun
	AtFlood    *metrics `json:"-"` // after the flood (drained, or the drain wait ran out)
	Final      *metrics `json:"-"` // just before SIGTERM
	Notable    string
	Notes      []string
	Stop       stopResult
	Output     outputCount
	CPU        float64
	GoMem      *goMem
	HeapTop    []string
	Save       *saveRun
	Samples    []sample
	Wall       time.Duration
	Err        string
	LogTail    string
	LogWarn    int
	OutputFile string

	heapProfile string
}

func (r *result) notef(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// runScenario runs one scenario against a fresh collector.
func runScenario(ctx context.Context, o *options, sc *scenario, lg *legit) *result {
	t0 := time.Now()
	r := &result{ID: sc.id, Title: sc.title, What: sc.what, Sources: sc.nsources}
	dir, err := os.MkdirTemp(o.work, "stress-"+sc.id+"-")
	if err != nil {
		r.Err = err.Error()
		return r
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	args := append([]string(nil), sc.args...)
	r.Args = append([]string(nil), sc.args...)
	if sc.templates {
		args = append(args, "--templates", filepath.Join(dir, "templates.json"))
		r.Args = append(r.Args, "--templates", "FILE")
		if o.saveFlag != "" {
			args = append(args, "--"+o.saveFlag, o.saveEvery.String())
			r.Args = append(r.Args, "--"+o.saveFlag, o.saveEvery.String())
		}
	}
	c, err := startCollector(o.nfcollect, o.flags, dir, args, o.maxRSS, o.minAvail)
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer func() {
		if !c.exited() {
			c.stop(o.stopWait)
		}
	}()
	s, err := spoof.New()
	if err != nil {
		r.Err = err.Error()
		return r
	}
	defer s.Close()
	dst := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(c.port))
	time.Sleep(300 * time.Millisecond)
	last, _ := c.mem()
	r.RSSStart = last.RSS
	logf("%s: %s: collector pid %d on 127.0.0.1:%d, RSS %s", sc.id, sc.title, c.pid, c.port, mib(r.RSSStart))

	if sc.prepare != nil {
		if err := sc.prepare(s, dst); err != nil {
			r.Err = err.Error()
			return r
		}
	}
	f := sc.flood(o)
	if f.limit == 0 {
		f.limit = o.duration
		if f.count > 0 && f.rate > 0 {
			f.limit = max(o.duration, 2*time.Duration(float64(f.count)/f.rate*float64(time.Second)))
		}
	}
	expect := f.limit
	if f.count > 0 && f.rate > 0 {
		expect = min(expect, time.Duration(float64(f.count)/f.rate*float64(time.Second)))
	}

	// The legitimate exporter, during the flood: rounds spread over its
	// middle half.
	var wg sync.WaitGroup
	floodDone := make(chan struct{})
	if sc.during {
		r.During = legitRun{Addr: legitDuring}
		wg.Go(func() {
			ls, err := spoof.New()
			if err != nil {
				r.During.Err = err.Error()
				return
			}
			defer ls.Close()
			gap := expect / 2 / time.Duration(o.legitRounds)
			wait := expect / 4
			for range o.legitRounds {
				select {
				case <-time.After(wait):
				case <-floodDone:
				case <-ctx.Done():
					return
				}
				if c.exited() {
					return
				}
				n, err := lg.replay(ls, legitDuring, dst)
				r.During.Sent += n
				r.During.Rounds++
				if err != nil && r.During.Err == "" {
					r.During.Err = err.Error()
				}
				wait = gap
			}
		})
	}
	r.Flood = f.run(ctx, s, dst, c.exited)
	close(floodDone)
	wg.Wait()
	_, r.PeakFlood = c.mem()
	logf("%s: offered %s; peak RSS so far %s", sc.id, r.Flood.describe(sc.nsources), mib(r.PeakFlood))

	if !c.exited() {
		r.Drain, r.Drained = c.waitIdle(o.drainWait)
		r.memoryDetail(o, c)
		if m, err := c.scrape(); err == nil {
			r.AtFlood = m
		} else {
			r.notef("metrics after the flood: %v", err)
		}
	}
	if sc.templates && !c.exited() {
		r.Save = waitSave(o, c, filepath.Join(dir, "templates.json"), r.AtFlood)
	}
	if sc.after && !c.exited() && ctx.Err() == nil {
		r.After = legitRun{Addr: legitAfter}
		for i := range o.legitRounds {
			if i > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			n, err := lg.replay(s, legitAfter, dst)
			r.After.Sent += n
			r.After.Rounds++
			if err != nil && r.After.Err == "" {
				r.After.Err = err.Error()
			}
		}
		c.waitIdle(min(o.drainWait, 10*time.Second))
	}
	if !c.exited() {
		if m, err := c.scrape(); err == nil {
			r.Final = m
		}
		r.CPU, _ = cpuSeconds(c.pid)
	}
	r.Killed = c.killed()
	stopAt := c.since()
	r.Stop = c.stop(o.stopWait)
	r.PeakStop = c.peakSince(stopAt)
	lastMem, peak := c.mem()
	r.HWM = lastMem.HWM
	r.PeakRSS = max(peak, r.HWM)
	if r.Killed == "" {
		r.Killed = c.killed()
	}
	c.mu.Lock()
	r.Samples = append([]sample(nil), c.samples...)
	c.mu.Unlock()
	r.LogTail, r.LogWarn = logSummary(c.logFile)
	r.OutputFile = c.output
	r.Output = countOutput(c.output, legitDuring, legitAfter)
	for _, l := range []*legitRun{&r.During, &r.After} {
		if !l.ran() {
			continue
		}
		l.Expected = l.Rounds * lg.flows
		l.Got = r.Output.From[l.Addr]
		l.fromMetrics(r.Final)
	}
	r.Notable = notable(r)
	r.heapTop(o)
	r.Wall = time.Since(t0)
	logf("%s: peak RSS %s (VmHWM %s), legit during %s, after %s, stopped in %.1fs%s, %s", sc.id, mib(r.PeakRSS), mib(r.HWM),
		share(&r.During), share(&r.After), r.Stop.Took.Seconds(), map[bool]string{true: " (SIGKILL)"}[r.Stop.Killed], r.Notable)
	return r
}

// memoryDetail asks the collector's runtime where its memory is once the
// flood is over and the collector idle (or the drain wait ran out): the
// MemStats lines of /debug/pprof/heap?debug=1, and for -pprof scenarios
// an in-use heap profile.
func (r *result) memoryDetail(o *options, c *collector) {
	if b, err := c.get("/debug/pprof/heap?debug=1", 60*time.Second); err == nil {
		if g, ok := parseGoMem(b); ok {
			r.GoMem = &g
		}
	} else {
		r.notef("heap statistics: %v", err)
	}
	if !o.pprof[r.ID] {
		return
	}
	b, err := c.get("/debug/pprof/heap", 60*time.Second)
	if err != nil {
		r.notef("heap profile: %v", err)
		return
	}
	path := filepath.Join(o.work, "heap-"+r.ID+".pb.gz")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		r.notef("heap profile: %v", err)
		return
	}
	r.heapProfile = path
}

// heapTop reads the top of the in-use heap profile taken after the
// flood (after the collector stopped, so that go tool pprof, which the
// go command may build on first use, does not run beside it).
func (r *result) heapTop(o *options) {
	if r.heapProfile == "" {
		return
	}
	out, err := commandOutput(5*time.Minute, true, o.goBin, "tool", "pprof", "-top", "-sample_index=inuse_space", "-nodecount=8", r.heapProfile)
	if err != nil {
		r.notef("go tool pprof: %v: %s", err, firstLine(out))
		return
	}
	keep := false
	for _, l := range strings.Split(string(out), "\n") {
		l = strings.TrimRight(l, " ")
		if strings.Contains(l, "flat%") {
			keep = true
		}
		if keep && l != "" || strings.HasPrefix(l, "Showing nodes") {
			r.HeapTop = append(r.HeapTop, l)
		}
	}
	where := "it was removed with the scratch directory"
	if o.keep {
		where = "kept in " + r.heapProfile
	}
	r.notef("in-use heap profile taken after the flood (/debug/pprof/heap; %s):", where)
}

// waitSave waits for the collector to write its templates file, and
// reports RSS before and during the save.
func waitSave(o *options, c *collector, path string, m *metrics) *saveRun {
	sv := &saveRun{Flag: o.saveFlag, Templates: m.sum("nfcollect_templates")}
	last, _ := c.mem()
	sv.RSSBefore = last.RSS
	from := c.since()
	start := time.Now()
	var prevSize int64 = -1
	var prevMod time.Time
	if fi, err := os.Stat(path); err == nil {
		prevMod = fi.ModTime()
	}
	for time.Since(start) < o.saveWait && !c.exited() {
		time.Sleep(100 * time.Millisecond)
		fi, err := os.Stat(path)
		if err != nil || !fi.ModTime().After(prevMod) {
			continue
		}
		if _, err := os.Stat(path + ".tmp"); err == nil {
			continue // being written
		}
		if fi.Size() == prevSize {
			sv.Seen = true
			sv.FileSize = fi.Size()
			sv.SavedAt = c.since()
			break
		}
		prevSize = fi.Size()
	}
	if sv.Seen {
		time.Sleep(time.Second) // what it frees after
	}
	sv.WaitedFor = time.Since(start)
	sv.PeakDuring = c.peakSince(from)
	logf("f: %0.f templates, RSS %s before the save, peak %s during; file %s (saved %v)", sv.Templates, mib(sv.RSSBefore), mib(sv.PeakDuring), bytesSI(sv.FileSize), sv.Seen)
	return sv
}

// fromMetrics fills the exporter's own counters.
func (l *legitRun) fromMetrics(m *metrics) {
	if m == nil {
		return
	}
	a := l.Addr.String()
	for _, s := range m.series {
		if s.Labels["exporter"] == a {
			l.Listed = true
			break
		}
	}
	if !l.Listed {
		return
	}
	// Per exporter, nfcollect counts the packets it decoded (packets are
	// counted on arrival without an exporter label); earlier versions
	// named that count nfcollect_packets_received_total.
	l.Received = m.sum("nfcollect_packets_decoded_total", "exporter", a) + m.sum("nfcollect_packets_received_total", "exporter", a)
	l.Decoded = m.sum("nfcollect_flows_decoded_by_exporter_total", "exporter", a)
	l.QueueDrops = m.sum("nfcollect_queue_drops_total", "exporter", a)
	l.Pending = m.sum("nfcollect_pending_packets", "exporter", a)
	l.Errors = m.byLabel("nfcollect_decode_errors_total", "reason", "exporter", a)
}

func share(l *legitRun) string {
	if !l.ran() {
		return "—"
	}
	if l.Expected == 0 {
		return fmt.Sprintf("%d / 0", l.Got)
	}
	return fmt.Sprintf("%d / %d (%.0f%%)", l.Got, l.Expected, 100*float64(l.Got)/float64(l.Expected))
}

// logSummary returns the last lines of the collector's log and how many
// lines are warnings or errors.
func logSummary(path string) (string, int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", 0
	}
	n := strings.Count(string(b), "level=WARN") + strings.Count(string(b), "level=ERROR") +
		strings.Count(string(b), `"level":"WARN"`) + strings.Count(string(b), `"level":"ERROR"`)
	return tail(path, 3), n
}

// notable picks the counters worth a table cell.
func notable(r *result) string {
	fin, fl := r.Final, r.AtFlood
	if fin == nil {
		fin = fl
	}
	if fin == nil {
		return "no metrics (collector gone)"
	}
	var parts []string
	add := func(label string, v float64) {
		if v != 0 {
			parts = append(parts, label+" "+thousands(v))
		}
	}
	add("received", fin.sum("nfcollect_packets_received_total"))
	add("kernel drops", fin.sum("nfcollect_kernel_receive_drops"))
	add("queue drops", fin.sum("nfcollect_queue_drops_total"))
	errs := fin.byLabel("nfcollect_decode_errors_total", "reason")
	for _, k := range sortedKeys(errs) {
		add("errors "+k, errs[k])
	}
	if fl != nil {
		add("templates", fl.sum("nfcollect_templates"))
		add("pending", fl.sum("nfcollect_pending_packets"))
	}
	add("pending dropped", fin.sum("nfcollect_pending_dropped_total"))
	// Counters the fixed collector may add: evictions, queued bytes.
	for _, n := range fin.names() {
		short := strings.TrimPrefix(n, "nfcollect_")
		if strings.Contains(n, "evict") {
			add(strings.TrimSuffix(short, "_total"), fin.sum(n))
		} else if fl != nil && (strings.Contains(n, "queue_bytes") || strings.Contains(n, "queued_bytes") || strings.Contains(n, "pending_bytes")) {
			add(short+" (after flood)", fl.sum(n))
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]float64) []string { return slices.Sorted(maps.Keys(m)) }

// thousands formats an integer-valued float with comma separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(v), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
