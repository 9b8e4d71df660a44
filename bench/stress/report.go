//go:build linux

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// report is the Markdown summary of a run.
type report struct {
	o                  *options
	lg                 *legit
	results            []*result
	wall               time.Duration
	loadStart, loadEnd string
	command            string
}

func (rp *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("### nfcollect under floods: peak memory and a legitimate exporter's flows\n\n")
	bin := "`" + rp.o.nfcollect + "`"
	if rp.o.builtFrom != "" {
		bin = "`" + rp.o.builtFrom + "`"
	}
	w("Binary: %s (%s). Legitimate exporter: `%s` replayed %d× per phase from a new address "+
		"(%s during the flood, %s after it); %d flows per replay (`nfcollect -r` on the capture alone; package decode counts %d).\n\n",
		bin, binaryID(rp.o.nfcollect), rp.lg.path, rp.o.legitRounds, legitDuring, legitAfter, rp.lg.flows, rp.lg.decoded)
	w("| scenario | offered load | peak RSS | legit flows during | legit flows after | notable metrics |\n")
	w("|---|---|--:|--:|--:|---|\n")
	for _, r := range rp.results {
		load := r.Flood.describe(r.Sources)
		peak := mib(r.PeakRSS)
		if r.Killed != "" {
			peak = "≥ " + peak + " (killed)"
		}
		if r.Err != "" {
			peak = "error"
		}
		during, after := share(&r.During), share(&r.After)
		if r.Killed != "" {
			during, after = "n/a (killed)", "n/a (killed)"
		}
		w("| %s. %s | %s | %s | %s | %s | %s |\n", r.ID, r.Title, load, peak, during, after, cell(r.Notable))
	}
	w("\nPeak RSS is the highest of the VmRSS samples (every 100 ms) and the last VmHWM read, from start to exit: it includes what the collector " +
		"allocates for the two /metrics reads and the heap statistics request after the flood, and its shutdown (the details give the peak during the flood alone); ")
	w("legit flows are the JSON lines whose `sampler_address` is the legitimate exporter's, of the flows it sent.\n\n")
	for _, r := range rp.results {
		rp.details(&b, r)
	}
	w("```\n")
	for _, l := range rp.machine() {
		w("%s\n", l)
	}
	w("loadavg-start: %s\nloadavg-end: %s\nwall time: %s\n```\n\n", rp.loadStart, rp.loadEnd, rp.wall.Round(time.Second))
	w("Command:\n\n```sh\n%s\n```\n\n", rp.command)
	w("The machine is shared with other work (see the load average): rates, drop counts and the shares during a flood are noisy; RSS depends on it less.\n")
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// details writes one scenario's notes.
func (rp *report) details(b *strings.Builder, r *result) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("**%s. %s**", r.ID, r.Title)
	if len(r.Args) > 0 {
		w(" (`%s`)", strings.Join(r.Args, " "))
	}
	w("\n\n")
	if r.Err != "" {
		w("- error: %s\n\n", r.Err)
		return
	}
	w("- Flood: %s.\n", r.What)
	w("- RSS: %s at start, %s peak during the flood, %s peak overall (VmHWM %s)", mib(r.RSSStart), mib(r.PeakFlood), mib(r.PeakRSS), mib(r.HWM))
	if r.PeakStop > r.PeakFlood {
		w(", %s peak between SIGTERM and exit", mib(r.PeakStop))
	}
	w(".\n")
	if g := r.GoMem; g != nil {
		w("- Go runtime after the flood: heap in use %s, heap idle %s (released %s), stacks %s, total from the OS %s.\n",
			mib(g.HeapInuse), mib(g.HeapIdle), mib(g.HeapReleased), mib(g.StackInuse), mib(g.Sys))
	}
	if r.Killed != "" {
		w("- **Killed by the harness**: %s.\n", r.Killed)
	}
	w("- Flood stopped by %s", r.Flood.StoppedBy)
	if r.Flood.Errors > 0 {
		w("; %d send errors (first: %s)", r.Flood.Errors, r.Flood.FirstErr)
	}
	if r.Killed == "" {
		if r.Drained {
			w("; the collector went idle %.1f s after it", r.Drain.Seconds())
		} else {
			w("; the collector was still busy %.0f s after it (drain wait ran out)", r.Drain.Seconds())
		}
	}
	w(".\n")
	for _, l := range []*legitRun{&r.During, &r.After} {
		if !l.ran() {
			continue
		}
		w("- Legitimate exporter %s: sent %d datagrams in %d replays, %s flows written", l.Addr, l.Sent, l.Rounds, share(l))
		switch {
		case l.Listed:
			w("; its counters: %s packets received, %s flows decoded", thousands(l.Received), thousands(l.Decoded))
			for _, k := range sortedKeys(l.Errors) {
				w(", %s %s errors", thousands(l.Errors[k]), k)
			}
			if l.QueueDrops > 0 {
				w(", %s queue drops", thousands(l.QueueDrops))
			}
			if l.Pending > 0 {
				w(", %s packets still waiting for a template", thousands(l.Pending))
			}
		case r.Final != nil:
			w("; not in /metrics when it was read before SIGTERM (not decoded yet, or counted under `exporter=\"other\"` beyond the metrics' exporter bound)")
		}
		if l.Err != "" {
			w("; send error: %s", l.Err)
		}
		w(".\n")
	}
	if sv := r.Save; sv != nil {
		if sv.Seen {
			w("- Templates save: %s templates known; RSS %s before the save, peak %s during it; file %s, written %.1f s after start",
				thousands(sv.Templates), mib(sv.RSSBefore), mib(sv.PeakDuring), bytesSI(sv.FileSize), sv.SavedAt.Seconds())
		} else {
			w("- Templates save: %s templates known; no save seen within %.0f s (RSS %s before, peak %s while waiting)",
				thousands(sv.Templates), sv.WaitedFor.Seconds(), mib(sv.RSSBefore), mib(sv.PeakDuring))
		}
		if sv.Flag != "" {
			w(" (`--%s %s`)", sv.Flag, rp.o.saveEvery)
		} else {
			w(" (the binary has no save interval flag: its own 30 s interval)")
		}
		w(".\n")
	}
	if r.ID == "d" && r.AtFlood != nil {
		if p := r.AtFlood.sum("nfcollect_pending_packets"); p > 0 {
			w("- Pending: the metrics say %s packets (%s of datagrams) wait for their template; RSS grew %s over the start, %.0f bytes per pending packet.\n",
				thousands(p), bytesSI(int64(p)*28), mib(r.PeakRSS-r.RSSStart), float64(r.PeakRSS-r.RSSStart)/p)
		}
	}
	if r.ID == "c" && r.GoMem != nil {
		w("- Estimate: the Go heap in use after the flood holds about %s buffers of 64 KiB (heap in use ÷ 64 KiB; one per received datagram not yet decoded), where the --queue help counts about 2 KiB per queued packet.\n",
			thousands(float64(r.GoMem.HeapInuse>>16)))
	}
	if r.Killed != "" {
		w("- Stop: SIGKILL by the watchdog; what it had not written is lost.\n")
	} else {
		w("- Stop: SIGTERM → exit in %.1f s", r.Stop.Took.Seconds())
		if r.Stop.Killed {
			w(", **SIGKILL** after %s", rp.o.stopWait)
		}
		w(", exit code %d; collector CPU %.1f s; %d warning/error log lines.\n", r.Stop.ExitCode, r.CPU, r.LogWarn)
		w("- Output: %s lines, %s", thousands(float64(r.Output.Lines)), bytesSI(r.Output.Bytes))
		if r.Output.Err != "" {
			w(" (read error: %s)", r.Output.Err)
		}
		w(".\n")
	}
	for _, n := range r.Notes {
		w("- %s\n", n)
	}
	if len(r.HeapTop) > 0 {
		w("\n```\n%s\n```\n", strings.Join(r.HeapTop, "\n"))
	}
	w("\n")
}

// machine describes the host and the tools.
func (rp *report) machine() []string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.Lines(string(b)) {
			if strings.HasPrefix(l, "model name") {
				_, m, _ := strings.Cut(l, ":")
				model = strings.TrimSpace(m)
				break
			}
		}
	}
	var uts syscall.Utsname
	syscall.Uname(&uts)
	var rel []byte
	for _, c := range uts.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	rmem, _ := os.ReadFile("/proc/sys/net/core/rmem_max")
	goVer := runtime.Version()
	if out, err := commandOutput(time.Minute, false, rp.o.goBin, "version"); err == nil {
		goVer = strings.TrimSpace(string(out))
	}
	binVer := "?"
	if out, err := commandOutput(time.Minute, false, rp.o.goBin, "version", rp.o.nfcollect); err == nil {
		_, binVer, _ = strings.Cut(strings.TrimSpace(string(out)), ": ")
	}
	return []string{
		"date: " + time.Now().UTC().Format(time.RFC3339),
		fmt.Sprintf("machine: nproc %d (%s), %s RAM, Linux %s, net.core.rmem_max %s", runtime.NumCPU(), model, mib(memTotal()), rel, strings.TrimSpace(string(rmem))),
		"go: " + goVer,
		fmt.Sprintf("nfcollect: %s (built with %s, %s)", rp.o.nfcollect, binVer, binaryID(rp.o.nfcollect)),
		fmt.Sprintf("limits: -max-rss %s, -min-available %s, -duration %s, -stop-wait %s", mib(rp.o.maxRSS), mib(rp.o.minAvail), rp.o.duration, rp.o.stopWait),
	}
}

func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return -1
	}
	var kb int64
	fmt.Sscanf(string(b), "MemTotal: %d kB", &kb)
	return kb << 10
}

// binaryID is the start of the binary's SHA-256 and its size.
func binaryID(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("sha256 %s…, %s", hex.EncodeToString(h.Sum(nil))[:12], bytesSI(n))
}
