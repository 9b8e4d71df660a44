//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// memStatus is what /proc/PID/status says about a process's memory, in
// bytes.
type memStatus struct {
	RSS int64 // VmRSS: resident now
	HWM int64 // VmHWM: the most ever resident
}

// parseStatus reads VmRSS and VmHWM from the contents of /proc/PID/status
// ("VmRSS:\t  123456 kB").
func parseStatus(b []byte) (memStatus, error) {
	var m memStatus
	var haveRSS, haveHWM bool
	for line := range bytes.Lines(b) {
		var dst *int64
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			dst, haveRSS = &m.RSS, true
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			dst, haveHWM = &m.HWM, true
		default:
			continue
		}
		f := strings.Fields(string(line[6:]))
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("unexpected status line %q", bytes.TrimSpace(line))
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || v < 0 {
			return m, fmt.Errorf("unexpected status line %q", bytes.TrimSpace(line))
		}
		*dst = v << 10
	}
	if !haveRSS || !haveHWM {
		return m, errors.New("no VmRSS/VmHWM lines (not a live process?)")
	}
	return m, nil
}

// memAvailable is MemAvailable of /proc/meminfo in bytes (-1 if unknown).
func memAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("MemAvailable:")); ok {
			f := strings.Fields(string(rest))
			if len(f) == 2 {
				if v, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return v << 10
				}
			}
		}
	}
	return -1
}

// cpuSeconds is the user+system CPU time of pid from /proc/PID/stat.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("bad /proc stat")
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat")
	}
	return float64(u+s) / 100, nil // USER_HZ is 100 on Linux
}

// sample is one RSS reading.
type sample struct {
	At  time.Duration // since the collector started
	RSS int64
}

// collector is a running nfcollect process, sampled every 100 ms.
type collector struct {
	cmd     *exec.Cmd
	pid     int
	port    int // UDP
	mport   int // --metrics
	dir     string
	output  string
	logFile string
	start   time.Time
	done    chan struct{}
	waitErr error

	mu       sync.Mutex
	samples  []sample
	last     memStatus
	peak     int64  // max VmRSS sampled
	killedBy string // why the watchdog killed it, if it did
}

// startCollector starts bin listening on 127.0.0.1 (free UDP and metrics
// ports) writing zstd JSON lines into dir, and waits until it receives.
// The watchdog kills it when its RSS passes maxRSS or the machine's
// available memory falls below minAvail.
func startCollector(bin string, flags map[string]bool, dir string, extra []string, maxRSS, minAvail int64) (*collector, error) {
	port, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	mport, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	c := &collector{
		port: port, mport: mport, dir: dir,
		output:  filepath.Join(dir, "flows.zst"),
		logFile: filepath.Join(dir, "nfcollect.log"),
		done:    make(chan struct{}),
	}
	args := []string{"--host", "127.0.0.1", "-p", strconv.Itoa(port), "-o", c.output,
		"--metrics", "127.0.0.1:" + strconv.Itoa(mport)}
	if flags["stats-interval"] {
		args = append(args, "--stats-interval", "-1s")
	}
	if flags["pprof"] {
		// Later versions serve /debug/pprof/ (the heap statistics) only
		// when asked.
		args = append(args, "--pprof")
	}
	args = append(args, extra...)
	c.cmd = exec.Command(bin, args...)
	lf, err := os.Create(c.logFile)
	if err != nil {
		return nil, err
	}
	c.cmd.Stdout, c.cmd.Stderr = lf, lf
	// The collector dies with this program, whatever happens to it.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	c.pid = c.cmd.Process.Pid
	c.start = time.Now()
	go func() {
		c.waitErr = c.cmd.Wait()
		lf.Close()
		close(c.done)
	}()
	go c.sampleLoop(maxRSS, minAvail)
	if err := c.waitReady(15 * time.Second); err != nil {
		c.kill("did not start")
		return nil, fmt.Errorf("%s %s: %w (log: %s)", bin, strings.Join(args, " "), err, tail(c.logFile, 5))
	}
	return c, nil
}

// freePort returns a loopback port that was free a moment ago.
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits for /healthz and for the UDP socket.
func (c *collector) waitReady(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := http.Client{Timeout: time.Second}
	for {
		select {
		case <-c.done:
			return fmt.Errorf("exited: %v", c.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %v", limit)
		}
		time.Sleep(50 * time.Millisecond)
		resp, err := client.Get(c.url("/healthz"))
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && udpBound(c.port) {
			return nil
		}
	}
}

// udpBound reports whether a UDP socket is bound to port (/proc/net/udp).
func udpBound(port int) bool {
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return false
	}
	want := fmt.Sprintf(":%04X", port)
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		if len(f) > 2 && strings.HasSuffix(f[1], want) {
			return true
		}
	}
	return false
}

func (c *collector) url(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(c.mport) + path
}

func (c *collector) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// sampleLoop reads /proc/PID/status every 100 ms until the process exits,
// and kills it (by pid) when it takes too much of the machine's memory.
func (c *collector) sampleLoop(maxRSS, minAvail int64) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	path := fmt.Sprintf("/proc/%d/status", c.pid)
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		m, err := parseStatus(b)
		if err != nil {
			continue // a zombie has no Vm lines
		}
		c.mu.Lock()
		c.last = m
		c.peak = max(c.peak, m.RSS)
		c.samples = append(c.samples, sample{time.Since(c.start), m.RSS})
		c.mu.Unlock()
		switch avail := memAvailable(); {
		case maxRSS > 0 && m.RSS > maxRSS:
			c.kill(fmt.Sprintf("RSS %s passed the -max-rss limit %s", mib(m.RSS), mib(maxRSS)))
		case minAvail > 0 && avail >= 0 && avail < minAvail:
			c.kill(fmt.Sprintf("the machine's available memory fell to %s (below -min-available %s) at RSS %s", mib(avail), mib(minAvail), mib(m.RSS)))
		}
	}
}

// kill sends SIGKILL to the collector (its pid only) and notes why.
func (c *collector) kill(why string) {
	c.mu.Lock()
	if c.killedBy == "" {
		c.killedBy = why
	}
	c.mu.Unlock()
	c.cmd.Process.Signal(syscall.SIGKILL)
}

// killed returns why the watchdog killed the collector ("" if it did not).
func (c *collector) killed() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killedBy
}

// mem returns the last sample and the peak VmRSS so far.
func (c *collector) mem() (last memStatus, peak int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.peak
}

// peakSince returns the highest RSS sampled at or after t.
func (c *collector) peakSince(t time.Duration) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var p int64
	for _, s := range c.samples {
		if s.At >= t {
			p = max(p, s.RSS)
		}
	}
	return p
}

func (c *collector) since() time.Duration { return time.Since(c.start) }

// waitIdle waits until the collector used under 5% of a core for two
// half-second intervals in a row (it has decoded what it received), at
// most limit. It reports how long it waited and whether it went idle.
func (c *collector) waitIdle(limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	prev, err := cpuSeconds(c.pid)
	if err != nil {
		return 0, false
	}
	quiet := 0
	for time.Since(start) < limit && !c.exited() {
		time.Sleep(500 * time.Millisecond)
		cur, err := cpuSeconds(c.pid)
		if err != nil {
			break
		}
		if cur-prev < 0.025 {
			quiet++
			if quiet == 2 {
				return time.Since(start), true
			}
		} else {
			quiet = 0
		}
		prev = cur
	}
	return time.Since(start), false
}

// stopResult is how the collector ended.
type stopResult struct {
	Took     time.Duration
	Killed   bool // SIGKILL after the SIGTERM wait
	ExitCode int
	Err      string
}

// stop sends SIGTERM and waits up to limit, then SIGKILL.
func (c *collector) stop(limit time.Duration) stopResult {
	var r stopResult
	t := time.Now()
	if !c.exited() {
		c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(limit):
			r.Killed = true
			c.cmd.Process.Signal(syscall.SIGKILL)
			<-c.done
		}
	}
	r.Took = time.Since(t)
	r.ExitCode = c.cmd.ProcessState.ExitCode()
	if c.waitErr != nil {
		r.Err = c.waitErr.Error()
	}
	return r
}

// commandOutput runs a helper to completion (go build, go tool pprof,
// nfcollect -r or -h) and returns its output (with stderr when combined);
// it is killed (its pid only) after limit.
func commandOutput(limit time.Duration, combined bool, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	if combined {
		return cmd.CombinedOutput()
	}
	return cmd.Output()
}

// tail returns the last n lines of a file, joined with " | ".
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// flagRE matches a flag in the -h output of a Go flag set.
var flagRE = regexp.MustCompile(`(?m)^\s+-{1,2}([A-Za-z0-9][A-Za-z0-9_.-]*)`)

// binaryFlags returns the flag names that bin's -h lists.
func binaryFlags(bin string) (map[string]bool, error) {
	out, _ := commandOutput(time.Minute, true, bin, "-h")
	names := flagNames(out)
	if !names["metrics"] || !names["o"] {
		return nil, fmt.Errorf("%s -h lists no -o and --metrics flags: is it nfcollect? (%q)", bin, firstLine(out))
	}
	return names, nil
}

// flagNames returns the flags listed in a Go flag set's usage text.
func flagNames(usage []byte) map[string]bool {
	names := map[string]bool{}
	for _, m := range flagRE.FindAllSubmatch(usage, -1) {
		names[string(m[1])] = true
	}
	return names
}

// saveIntervalFlag returns the flag that sets the templates save interval
// in a binary that has one ("" if none): a flag naming "save", or
// "templates" with "interval" or "every".
func saveIntervalFlag(flags map[string]bool) string {
	var found []string
	for f := range flags {
		if strings.Contains(f, "save") || strings.Contains(f, "templates") && (strings.Contains(f, "interval") || strings.Contains(f, "every")) {
			found = append(found, f)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}

func mib(b int64) string {
	if b < 0 {
		return "?"
	}
	if b >= 10<<30 {
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	}
	return fmt.Sprintf("%d MiB", (b+1<<19)>>20)
}
