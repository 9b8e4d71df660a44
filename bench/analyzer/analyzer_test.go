// Package analyzerbench measures nfanalyze end to end on a generated file of flows
// in nfcollect's JSON-lines format, and on the same flows as a Parquet file
// (nfcollect --format parquet; the *Parquet benchmarks).
//
//	go test ./bench/analyzer -run x -bench . -benchtime 1x                         # 200k flows
//	NFANALYZE_BENCH_FLOWS=10000000 go test ./bench/analyzer -run x -bench . -benchtime 1x -timeout 30m
//
// The file is written to a temporary directory at benchmark time and removed
// afterwards, unless NFANALYZE_BENCH_DIR names a directory to keep it in
// (flows-N.jsonl and flows-N.parquet, made once for each N and reused).
// The files are never committed. Each benchmark reports flows/s, the peak Go
// heap while analyzing (sampled) and the process's peak RSS.
package analyzerbench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nfkit/nfkit/analyzer"
	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowparquet"
)

var (
	fileOnce sync.Once
	fileName string
	fileN    int
	fileSize int64
	fileErr  error
	pqName   string // the same flows as Parquet
	pqSize   int64
	dir      string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func flowsWanted() int {
	if s := os.Getenv("NFANALYZE_BENCH_FLOWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err == nil && n > 0 {
			return n
		}
	}
	return 200_000
}

func benchFile(b *testing.B) string {
	fileOnce.Do(func() {
		fileN = flowsWanted()
		if keep := os.Getenv("NFANALYZE_BENCH_DIR"); keep != "" {
			// Kept for later runs (and scripts/bench-nfdump.sh): made
			// once per flow count.
			fileName = filepath.Join(keep, fmt.Sprintf("flows-%d.jsonl", fileN))
			pqName = filepath.Join(keep, fmt.Sprintf("flows-%d.parquet", fileN))
			st, err1 := os.Stat(fileName)
			pst, err2 := os.Stat(pqName)
			if err1 == nil && err2 == nil {
				fileSize, pqSize = st.Size(), pst.Size()
				return
			}
			if fileErr = os.MkdirAll(keep, 0o755); fileErr != nil {
				return
			}
			tmp := pqName + ".tmp"
			if fileSize, pqSize, fileErr = generate(fileName, tmp, fileN, 1); fileErr == nil {
				fileErr = os.Rename(tmp, pqName)
			}
			return
		}
		dir, fileErr = os.MkdirTemp("", "nfanalyze-bench-")
		if fileErr != nil {
			return
		}
		fileName = filepath.Join(dir, "flows.jsonl")
		pqName = filepath.Join(dir, "flows.parquet")
		fileSize, pqSize, fileErr = generate(fileName, pqName, fileN, 1)
	})
	if fileErr != nil {
		b.Fatal(fileErr)
	}
	return fileName
}

// generate writes n flows like nfcollect's: connections of two flows (20% one-way),
// written in export order (by flow end) at 200 flows per second of flow time, so
// the number of flows alive at once does not depend on n. The same flows go to
// pqName as Parquet (without the two non-schema fields of the JSON lines).
func generate(name, pqName string, n int, seed uint64) (int64, int64, error) {
	f, err := os.Create(name)
	if err != nil {
		return 0, 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	pf, err := os.Create(pqName)
	if err != nil {
		return 0, 0, err
	}
	pw, err := flowparquet.NewWriter(pf, flowparquet.Options{})
	if err != nil {
		return 0, 0, err
	}
	var rows []byte
	rec := decode.Record{Version: 10, Exporter: netip.MustParseAddr("192.0.2.1"), TemplateID: 256}
	rec.Has = decode.HasStart | decode.HasEnd | decode.HasBytes | decode.HasPackets | decode.HasSrcAddr | decode.HasDstAddr |
		decode.HasSrcPort | decode.HasDstPort | decode.HasProto | decode.HasEtherType | decode.HasTOS | decode.HasTCPFlags |
		decode.HasInIf | decode.HasOutIf | decode.HasSrcAS | decode.HasDstAS | decode.HasSrcMask | decode.HasDstMask |
		decode.HasNextHop | decode.HasFlowEndReason
	rec.EtherType, rec.TCPFlags, rec.InIf, rec.OutIf, rec.SrcAS, rec.DstAS = 2048, 27, 3, 7, 64500, 15169
	rec.SrcMask, rec.DstMask, rec.NextHop, rec.FlowEndReason = 24, 16, netip.MustParseAddr("192.0.2.254"), 3
	r := rand.New(rand.NewPCG(seed, seed))
	services := []uint16{443, 443, 443, 80, 80, 53, 22, 25, 123, 3389, 8443, 993}
	const base = 1_700_000_000 * int64(time.Second)
	var buf []byte
	line := func(t, start, end int64, src, dst uint32, sp, dp uint16, proto uint8, bytes, pkts uint64) {
		b := buf[:0]
		received := end + int64(r.IntN(1e9))
		rec.Sequence, rec.Start, rec.End, rec.Bytes, rec.Packets = uint32(t), start, end, bytes, pkts
		rec.SrcAddr, rec.DstAddr = netip.AddrFrom4([4]byte{byte(src >> 24), byte(src >> 16), byte(src >> 8), byte(src)}),
			netip.AddrFrom4([4]byte{byte(dst >> 24), byte(dst >> 16), byte(dst >> 8), byte(dst)})
		rec.SrcPort, rec.DstPort, rec.Proto = sp, dp, proto
		rows = flowparquet.AppendRecord(rows, &rec, received)
		if len(rows) >= 1<<20 {
			if _, err := pw.Write(rows); err != nil {
				panic(err)
			}
			rows = rows[:0]
		}
		b = append(b, `{"type":"IPFIX","time_received_ns":`...)
		b = strconv.AppendInt(b, received, 10)
		b = append(b, `,"sampler_address":"192.0.2.1","sequence_num":`...)
		b = strconv.AppendInt(b, t, 10)
		b = append(b, `,"observation_domain_id":0,"template_id":256,"time_flow_start_ns":`...)
		b = strconv.AppendInt(b, start, 10)
		b = append(b, `,"time_flow_end_ns":`...)
		b = strconv.AppendInt(b, end, 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendUint(b, bytes, 10)
		b = append(b, `,"packets":`...)
		b = strconv.AppendUint(b, pkts, 10)
		b = append(b, `,"src_addr":"`...)
		b = appendV4(b, src)
		b = append(b, `","dst_addr":"`...)
		b = appendV4(b, dst)
		b = append(b, `","src_port":`...)
		b = strconv.AppendUint(b, uint64(sp), 10)
		b = append(b, `,"dst_port":`...)
		b = strconv.AppendUint(b, uint64(dp), 10)
		b = append(b, `,"proto":`...)
		b = strconv.AppendUint(b, uint64(proto), 10)
		b = append(b, `,"etype":2048,"ip_tos":0,"tcp_flags":27,"in_if":3,"out_if":7,"src_as":64500,"dst_as":15169,"src_net":24,"dst_net":16,"next_hop":"192.0.2.254","flow_end_reason":3,"flowDirection":0,"ipClassOfService":0}`...)
		b = append(b, '\n')
		buf = b
		w.Write(b)
	}
	clock := base
	for i := 0; i < n; {
		clock += int64(2 * time.Second / 200) // two flows per connection, 200 flows/s
		dur := int64(r.ExpFloat64() * float64(20*time.Second))
		if dur > int64(30*time.Minute) {
			dur = int64(30 * time.Minute)
		}
		end := clock
		start := end - dur
		client := 0x0a000000 | uint32(r.IntN(50000))
		server := 0xc6336400 | uint32(r.IntN(2000))
		sport := uint16(32768 + r.IntN(28000))
		dport := services[r.IntN(len(services))]
		proto := uint8(6)
		if dport == 53 || dport == 123 {
			proto = 17
		}
		pk := uint64(1 + r.IntN(200))
		line(int64(i), start, end, client, server, sport, dport, proto, pk*80, pk)
		i++
		if i < n && r.IntN(5) != 0 {
			rp := uint64(1 + r.IntN(300))
			line(int64(i), start+int64(r.IntN(5e6)), end, server, client, dport, sport, proto, rp*900, rp)
			i++
		}
	}
	if err := w.Flush(); err != nil {
		return 0, 0, err
	}
	if _, err := pw.Write(rows); err != nil {
		return 0, 0, err
	}
	if err := pw.Close(); err != nil {
		return 0, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	pst, err := pf.Stat()
	if err != nil {
		return 0, 0, err
	}
	if err := pf.Close(); err != nil {
		return 0, 0, err
	}
	return st.Size(), pst.Size(), f.Close()
}

func appendV4(b []byte, a uint32) []byte {
	b = strconv.AppendUint(b, uint64(a>>24), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(a>>16&255), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(a>>8&255), 10)
	b = append(b, '.')
	return strconv.AppendUint(b, uint64(a&255), 10)
}

// peakHeap samples the live heap until stop is closed.
func peakHeap(stop chan struct{}) func() uint64 {
	var peak uint64
	done := make(chan struct{})
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { <-done; return peak }
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // Linux reports KiB
}

func benchRun(b *testing.B, cfg analyzer.Config) {
	name := benchFile(b)
	size := fileSize
	if strings.HasSuffix(b.Name(), "Parquet") {
		name, size = pqName, pqSize
	}
	cfg.Inputs = []string{name}
	cfg.Loc = time.UTC
	b.SetBytes(size)
	b.ReportAllocs()
	runtime.GC()
	stop := make(chan struct{})
	peak := peakHeap(stop)
	cpu0 := cpuTime()
	b.ResetTimer()
	var sum analyzer.Summary
	for b.Loop() {
		var err error
		sum, err = analyzer.Run(cfg, io.Discard, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Flows != int64(fileN) || sum.Skipped() {
			b.Fatalf("read %d flows, want %d (skipped: %v)", sum.Flows, fileN, sum.Skipped())
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	close(stop)
	b.ReportMetric(float64(fileN)*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	// Per second of CPU time (user and system) too: on a shared machine it
	// varies less than the wall-clock rate, as time the CPU was taken away
	// is not counted.
	b.ReportMetric(float64(fileN)*float64(b.N)/cpu.Seconds(), "flows/cpu-s")
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(maxRSS())/(1<<20), "maxrss-MiB")
	if len(cfg.Aggregate) > 0 {
		b.ReportMetric(float64(sum.Aggregates), "aggregates")
	}
	b.ReportMetric(0, "ns/op") // per-op time is the whole file; flows/s is the figure
}

// BenchmarkConnections is the default mode: pairing, sorting and the table.
func BenchmarkConnections(b *testing.B) {
	benchRun(b, analyzer.Config{Output: "table"})
}

// BenchmarkConnectionsJSON writes JSON lines instead of the table.
func BenchmarkConnectionsJSON(b *testing.B) {
	benchRun(b, analyzer.Config{Output: "json"})
}

// BenchmarkTopSrc is --top 10 --stat src.
func BenchmarkTopSrc(b *testing.B) {
	benchRun(b, analyzer.Config{StatKeys: []string{"src"}, Top: 10})
}

// The same views on the same flows as a Parquet file.
func BenchmarkConnectionsParquet(b *testing.B) { BenchmarkConnections(b) }
func BenchmarkTopSrcParquet(b *testing.B)      { BenchmarkTopSrc(b) }
func BenchmarkFilteredTimelineParquet(b *testing.B) {
	BenchmarkFilteredTimeline(b)
}

// BenchmarkTimeline is --timeline 1h over every flow.
func BenchmarkTimeline(b *testing.B) {
	benchRun(b, analyzer.Config{Timeline: time.Hour})
}

func BenchmarkTimelineParquet(b *testing.B) { BenchmarkTimeline(b) }

// BenchmarkFilteredTimeline is a selective filter with a timeline: mostly reading.
func BenchmarkFilteredTimeline(b *testing.B) {
	f, err := analyzer.ParseFilter("dst port 22")
	if err != nil {
		b.Fatal(err)
	}
	benchRun(b, analyzer.Config{Filter: f, Timeline: time.Hour})
}

// BenchmarkFlows is --flows: every flow a table row in the default columns.
func BenchmarkFlows(b *testing.B) {
	benchRun(b, analyzer.Config{Flows: true, Output: "table"})
}

// BenchmarkFlowsTop is --flows --sort bytes --limit 20: a bounded heap.
func BenchmarkFlowsTop(b *testing.B) {
	benchRun(b, analyzer.Config{Flows: true, Sort: "bytes", Limit: 20, Output: "table"})
}

// BenchmarkAggregate is --aggregate srcip,dstport: one aggregate per
// distinct key (about 50000 clients times 12 services here, 2000 servers
// times the clients' ports for the replies: the memory grows with the keys).
func BenchmarkAggregate(b *testing.B) {
	benchRun(b, analyzer.Config{Aggregate: []string{"srcip", "dstport"}, Output: "table", Limit: 20})
}

// BenchmarkAggregateNet is --aggregate srcnet/16,proto: few keys.
func BenchmarkAggregateNet(b *testing.B) {
	benchRun(b, analyzer.Config{Aggregate: []string{"srcnet/16", "proto"}, Output: "table"})
}

func Example() {
	fmt.Println("see the package doc for how to run the benchmarks")
	// Output: see the package doc for how to run the benchmarks
}

var (
	monthOnce  sync.Once
	monthDir   string
	monthStart time.Time
	monthSize  int64
	monthErr   error
)

// monthFiles writes a month of hourly rotated files (720, as nfcollect
// --rotate 1h names them), 500 flows each, received through the hour and
// started up to 20 minutes before.
func monthFiles(b *testing.B) string {
	monthOnce.Do(func() {
		if monthDir, monthErr = os.MkdirTemp("", "nfanalyze-month-"); monthErr != nil {
			return
		}
		monthStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		r := rand.New(rand.NewPCG(3, 3))
		var line []byte
		for h := range 720 {
			slot := monthStart.Add(time.Duration(h) * time.Hour)
			var buf []byte
			for i := range 500 {
				recv := slot.Add(time.Duration(i) * time.Hour / 500)
				start := recv.Add(-time.Duration(r.IntN(1200)) * time.Second)
				line = fmt.Appendf(line[:0], `{"type":"IPFIX","time_received_ns":%d,"sampler_address":"192.0.2.1","sequence_num":%d,"observation_domain_id":0,"template_id":256,"time_flow_start_ns":%d,"time_flow_end_ns":%d,"bytes":%d,"packets":%d,"src_addr":"10.0.%d.%d","dst_addr":"198.51.100.%d","src_port":%d,"dst_port":443,"proto":6,"etype":2048,"ip_tos":0,"tcp_flags":27,"in_if":3,"out_if":7,"src_as":64500,"dst_as":15169,"src_net":24,"dst_net":16,"next_hop":"192.0.2.254","flow_end_reason":3}`+"\n",
					recv.UnixNano(), h*500+i, start.UnixNano(), recv.UnixNano(), 80*(1+r.IntN(100)), 1+r.IntN(100), r.IntN(200), r.IntN(256), r.IntN(256), 1024+r.IntN(60000))
				buf = append(buf, line...)
			}
			name := filepath.Join(monthDir, "nfcollect."+slot.Format("200601021504")+".json")
			if monthErr = os.WriteFile(name, buf, 0o644); monthErr != nil {
				return
			}
			monthSize += int64(len(buf))
		}
	})
	if monthErr != nil {
		b.Fatal(monthErr)
	}
	return monthDir
}

// BenchmarkTimeSliceHour is --since/--until of one hour in the middle of a
// month of hourly files: it reports the files opened and the bytes read of
// the month's.
func BenchmarkTimeSliceHour(b *testing.B) {
	dir := monthFiles(b)
	defer func() {
		os.RemoveAll(monthDir)
		monthOnce = sync.Once{}
	}()
	files, _, _ := analyzer.ExpandInputs([]string{dir})
	since := monthStart.Add(360 * time.Hour).UnixNano()
	until := monthStart.Add(361 * time.Hour).UnixNano()
	b.ReportAllocs()
	var sum analyzer.Summary
	var read atomic.Int64
	for b.Loop() {
		read.Store(0)
		var err error
		sum, err = analyzer.Run(analyzer.Config{Inputs: files, Since: since, Until: until, Filter: analyzer.TimeFilter(since, until),
			StatKeys: []string{"src"}, Top: 10, Counter: &read}, io.Discard, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Matched == 0 || sum.Files+sum.FilesPruned != 720 {
			b.Fatalf("matched %d flows, opened %d files, pruned %d", sum.Matched, sum.Files, sum.FilesPruned)
		}
	}
	b.ReportMetric(float64(sum.Files), "files-opened")
	b.ReportMetric(float64(sum.Files+sum.FilesPruned), "files")
	b.ReportMetric(float64(read.Load())/(1<<20), "MiB-read")
	b.ReportMetric(float64(monthSize)/(1<<20), "MiB-total")
	b.ReportMetric(float64(sum.Matched), "flows-matched")
}

var (
	burstOnce sync.Once
	burstName string
	burstN    int
	burstSize int64
	burstErr  error
)

// burstFile writes one softflowd burst (the 71 flows of
// analyzer/testdata/collected/softflowd-v9.jsonl, 104 s of flow starts)
// repeated: every flow starts within those 104 s, so the horizon never moves
// on and nothing expires by time. NFANALYZE_BURST_FLOWS sets the size
// (default 400k flows, past what the budget holds; the README's figures are
// for 8M).
func burstFile(b *testing.B) string {
	burstOnce.Do(func() {
		src, err := os.ReadFile("../../analyzer/testdata/collected/softflowd-v9.jsonl")
		if err != nil {
			burstErr = err
			return
		}
		n := 400_000
		if v, err := strconv.Atoi(os.Getenv("NFANALYZE_BURST_FLOWS")); err == nil && v > 0 {
			n = v
		}
		lines := bytes.Count(src, []byte("\n"))
		if burstDir, burstErr = os.MkdirTemp("", "nfanalyze-burst-"); burstErr != nil {
			return
		}
		burstName = filepath.Join(burstDir, "burst.jsonl")
		f, err := os.Create(burstName)
		if err != nil {
			burstErr = err
			return
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for burstN = 0; burstN < n; burstN += lines {
			w.Write(src)
		}
		if burstErr = w.Flush(); burstErr == nil {
			burstErr = f.Close()
		}
		st, _ := os.Stat(burstName)
		burstSize = st.Size()
	})
	if burstErr != nil {
		b.Fatal(burstErr)
	}
	return burstName
}

var burstDir string

// BenchmarkBurst is the connection view (-p 0) of a repeated burst: the
// pairing buffers fill up to their memory budget (Config.MemoryBudget,
// 256 MiB by default), and the benchmark fails if the Go heap goes beyond it.
func BenchmarkBurst(b *testing.B) {
	name := burstFile(b)
	defer os.RemoveAll(burstDir)
	b.SetBytes(burstSize)
	b.ReportAllocs()
	runtime.GC()
	stop := make(chan struct{})
	peak := peakHeap(stop)
	cpu0 := cpuTime()
	for b.Loop() {
		sum, err := analyzer.Run(analyzer.Config{Inputs: []string{name}, Loc: time.UTC, Output: "table"}, io.Discard, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if sum.Flows != int64(burstN) {
			b.Fatalf("read %d flows, want %d", sum.Flows, burstN)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	close(stop)
	p := peak()
	b.ReportMetric(float64(burstN)*float64(b.N)/cpu.Seconds(), "flows/cpu-s")
	b.ReportMetric(float64(p)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(maxRSS())/(1<<20), "maxrss-MiB")
	if budget := uint64(analyzer.DefaultMemoryBudget); p > budget {
		b.Errorf("peak heap %d MiB is over the memory budget of %d MiB", p>>20, budget>>20)
	}
}
