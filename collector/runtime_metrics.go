package collector

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"time"
)

// The standard go_* and process_* metrics (the names the Prometheus Go
// client uses), read from runtime/metrics and, on Linux, /proc/self.

var startTime = time.Now()

// buildVersion is the main module's version ("devel" in a checkout).
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func goVersion() string { return runtime.Version() }

var runtimeSamples = []struct {
	key, name, typ, help string
}{
	{"/sched/goroutines:goroutines", "go_goroutines", "gauge", "Number of goroutines that currently exist."},
	{"/memory/classes/heap/objects:bytes", "go_memstats_heap_alloc_bytes", "gauge", "Bytes of allocated heap objects."},
	{"/memory/classes/total:bytes", "go_memstats_sys_bytes", "gauge", "Bytes of memory obtained from the OS."},
	{"/gc/cycles/total:gc-cycles", "go_gc_cycles_total", "counter", "Completed GC cycles."},
	{"/gc/heap/allocs:bytes", "go_memstats_alloc_bytes_total", "counter", "Bytes allocated in the heap, in total."},
	{"/sched/gomaxprocs:threads", "go_sched_gomaxprocs_threads", "gauge", "GOMAXPROCS."},
}

func appendRuntimeMetrics(b []byte) []byte {
	p := &promWriter{b: b}
	s := make([]rtmetrics.Sample, len(runtimeSamples))
	for i, r := range runtimeSamples {
		s[i].Name = r.key
	}
	rtmetrics.Read(s)
	for i, r := range runtimeSamples {
		if s[i].Value.Kind() != rtmetrics.KindUint64 {
			continue
		}
		p.one(r.name, r.typ, r.help, s[i].Value.Uint64())
	}
	p.help("go_info", "gauge", "Information about the Go environment.")
	p.sample("go_info", `version="`+goVersion()+`"`, 1)

	p.help("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.")
	p.float("process_start_time_seconds", "", float64(startTime.UnixNano())/1e9)
	if stat, err := os.ReadFile("/proc/self/stat"); err == nil {
		// Fields after the command name (which may hold spaces).
		if i := bytes.LastIndexByte(stat, ')'); i > 0 {
			f := strings.Fields(string(stat[i+1:]))
			// utime, stime (fields 14, 15), vsize 23, rss 24 (in pages), counted from 1 with pid and comm.
			if len(f) > 22 {
				const ticks = 100 // USER_HZ
				ut, _ := strconv.ParseUint(f[11], 10, 64)
				st, _ := strconv.ParseUint(f[12], 10, 64)
				vsize, _ := strconv.ParseUint(f[20], 10, 64)
				rss, _ := strconv.ParseUint(f[21], 10, 64)
				p.help("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.")
				p.float("process_cpu_seconds_total", "", float64(ut+st)/ticks)
				p.one("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.", vsize)
				p.one("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", rss*uint64(os.Getpagesize()))
			}
		}
	}
	if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
		p.one("process_open_fds", "gauge", "Number of open file descriptors.", uint64(len(fds)))
	}
	return p.b
}
