// Command nfreplay sends NetFlow/IPFIX export packets to a collector over
// loopback, at a given rate or as fast as it can, for a bounded count or
// time, and reports what it sent. It is the load generator of the
// end-to-end benchmark (scripts/bench-e2e.sh).
//
//	nfreplay -t 127.0.0.1:2055 --rate 1M --duration 4s          # built-in 25-flow v9 packets
//	nfreplay -t 127.0.0.1:2055 -r capture.pcap --count 100000   # a capture's export packets
//	nfreplay -t 127.0.0.1:2055 --rate 500k --duration 2s --source-addrs 4 --json
//
// The built-in set is internal/benchpkt.V9 (the decoder benchmarks'
// packet): a template packet first, then 25-flow data packets, the template
// again after every --template-every data packets. With -r, each exporter
// of the capture is replayed from its own local address, its packets
// cycled in capture order. Unless --verbatim, every packet's export time is
// set to now and its sequence number counts per source and domain as a
// live exporter's would, so the collector's sequence-loss counter measures
// loss.
//
// --source-addrs N sends from N local addresses 127.0.0.1, 127.0.0.2, ...
// (N distinct exporters; with -r, N copies of each capture exporter).
// Packets leave in batches of --batch through sendmmsg, one source per
// batch, round robin. The pacer schedules flows (--rate) or packets
// (--pps) on an absolute clock, sleeping with nanosleep and spinning the
// last 150 µs, so the achieved rate matches the requested one.
//
// Only loopback targets (127.0.0.0/8, ::1) are accepted, and every run is
// bounded: --count packets and/or --duration, never longer than an hour.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/nfkit/nfkit/internal/rate"
)

const (
	maxRunTime = time.Hour // no run lasts longer, whatever the flags
	maxSources = 1 << 16
	maxBatch   = 1024
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, nil))
}

// config is the parsed command line.
type config struct {
	capture       string
	target        netip.AddrPort
	rate          float64 // flows/s
	pps           float64 // packets/s
	count         uint64
	duration      time.Duration
	sources       int
	batch         int
	templateEvery int
	verbatim      bool
	json          bool
	sndbuf        int
}

// rateValue parses rates like 250000, 500k, 1.5M, 2G.
type rateValue struct{ v *float64 }

func (r rateValue) String() string {
	if r.v == nil {
		return "0"
	}
	return strconv.FormatFloat(*r.v, 'g', -1, 64)
}

func (r rateValue) Set(s string) error {
	v, err := rate.Parse(s)
	if err != nil {
		return err
	}
	*r.v = v
	return nil
}

// countValue parses counts like 100000, 100k, 2M.
type countValue struct{ v *uint64 }

func (c countValue) String() string {
	if c.v == nil {
		return "0"
	}
	return strconv.FormatUint(*c.v, 10)
}

func (c countValue) Set(s string) error {
	v, err := rate.Parse(s)
	if err != nil || v != float64(uint64(v)) {
		return fmt.Errorf("bad count %q (want a whole number, optionally with k, M or G)", s)
	}
	*c.v = uint64(v)
	return nil
}

// parseArgs parses and checks the command line.
func parseArgs(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("nfreplay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	var target string
	fs.StringVar(&cfg.capture, "r", "", "replay the export packets of a pcap or pcapng `capture` (default: built-in 25-flow NetFlow v9 packets)")
	fs.StringVar(&target, "t", "127.0.0.1:2055", "collector `address:port` (loopback only)")
	fs.StringVar(&target, "target", "127.0.0.1:2055", "same as -t")
	fs.Var(rateValue{&cfg.rate}, "rate", "flows per second, e.g. 500k or 2M (0: as fast as possible)")
	fs.Var(rateValue{&cfg.pps}, "pps", "packets per second instead of --rate")
	fs.Var(countValue{&cfg.count}, "count", "packets to send, e.g. 100k (templates included)")
	fs.Var(countValue{&cfg.count}, "n", "same as --count")
	fs.DurationVar(&cfg.duration, "duration", 0, "stop after this long, e.g. 4s")
	fs.DurationVar(&cfg.duration, "d", 0, "same as --duration")
	fs.IntVar(&cfg.sources, "source-addrs", 1, "send from `N` local addresses 127.0.0.1... (distinct exporters)")
	fs.IntVar(&cfg.batch, "batch", 32, "packets per sendmmsg call")
	fs.IntVar(&cfg.templateEvery, "template-every", 1000, "built-in set: re-send the template after this many data packets per source (0: only first)")
	fs.BoolVar(&cfg.verbatim, "verbatim", false, "send packets unmodified (no export time or sequence number rewriting)")
	fs.BoolVar(&cfg.json, "json", false, "print the report as one JSON line")
	fs.IntVar(&cfg.sndbuf, "sndbuf", 4<<20, "socket send buffer in `bytes`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nfreplay [-r capture.pcap] [-t 127.0.0.1:port] [--rate flows/s | --pps packets/s] (--count N | --duration D) [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	ap, err := resolveTarget(target)
	if err != nil {
		return nil, err
	}
	cfg.target = ap
	switch {
	case cfg.duration < 0:
		return nil, errors.New("--duration must be positive")
	case cfg.count == 0 && cfg.duration == 0:
		return nil, errors.New("unbounded: give --count packets and/or --duration")
	case cfg.duration > maxRunTime:
		return nil, fmt.Errorf("--duration %v exceeds the %v limit", cfg.duration, maxRunTime)
	case cfg.rate > 0 && cfg.pps > 0:
		return nil, errors.New("give --rate (flows/s) or --pps (packets/s), not both")
	case cfg.sources < 1 || cfg.sources > maxSources:
		return nil, fmt.Errorf("--source-addrs must be 1..%d", maxSources)
	case cfg.batch < 1 || cfg.batch > maxBatch:
		return nil, fmt.Errorf("--batch must be 1..%d", maxBatch)
	case cfg.templateEvery < 0:
		return nil, errors.New("--template-every must be >= 0")
	}
	if ap.Addr().Is6() && cfg.sources > 1 {
		return nil, errors.New("--source-addrs > 1 needs an IPv4 target (IPv6 loopback has one address)")
	}
	return cfg, nil
}

// resolveTarget parses host:port and accepts loopback addresses only.
func resolveTarget(s string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("-t %q: %w", s, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return netip.AddrPort{}, fmt.Errorf("-t %q: bad port", s)
	}
	var addr netip.Addr
	if host == "localhost" {
		addr = netip.MustParseAddr("127.0.0.1")
	} else if addr, err = netip.ParseAddr(host); err != nil {
		return netip.AddrPort{}, fmt.Errorf("-t %q: want a loopback IP address (127.0.0.0/8 or ::1)", s)
	}
	addr = addr.Unmap()
	if !addr.IsLoopback() || addr.Zone() != "" {
		return netip.AddrPort{}, fmt.Errorf("-t %q: only loopback targets (127.0.0.0/8, ::1) are allowed", s)
	}
	return netip.AddrPortFrom(addr, uint16(p)), nil
}

// sourceAddr is the i-th local address: 127.0.0.1 + i.
func sourceAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte((1 + i) >> 16), byte((1 + i) >> 8), byte(1 + i)})
}

// source is one local exporter: a connected UDP socket and its cursor.
type source struct {
	conn *net.UDPConn
	w    *ipv4.PacketConn // WriteBatch = sendmmsg; works for IPv6 sockets too
	cur  *cursor
}

// report is what a run sent.
type report struct {
	Target          string  `json:"target"`
	Source          string  `json:"source"` // "generated-v9" or the capture path
	Sources         int     `json:"sources"`
	Packets         uint64  `json:"packets"`
	TemplatePackets uint64  `json:"template_packets"`
	Flows           uint64  `json:"flows"`
	Bytes           uint64  `json:"bytes"`
	Batches         uint64  `json:"batches"`
	SendErrors      uint64  `json:"send_errors"`
	ElapsedS        float64 `json:"elapsed_s"`
	PacketsPerS     float64 `json:"packets_per_s"`
	FlowsPerS       float64 `json:"flows_per_s"`
	MbitPerS        float64 `json:"mbit_per_s"`
	RequestedFlowsS float64 `json:"requested_flows_per_s"`
	RequestedPPS    float64 `json:"requested_packets_per_s"`
	MaxLagMs        float64 `json:"max_lag_ms"`
	SlippedMs       float64 `json:"slipped_ms"`
	StoppedBy       string  `json:"stopped_by"` // count, duration, signal
	FirstError      string  `json:"first_error,omitempty"`
}

// run is main with its streams; stop, if not nil, ends the run early when
// closed (tests), as SIGINT/SIGTERM do.
func run(args []string, stdout, stderr io.Writer, stop <-chan struct{}) int {
	cfg, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "nfreplay: %v\n", err)
		return 2
	}
	streams, name, err := loadStreams(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "nfreplay: %v\n", err)
		return 1
	}
	srcs, err := openSources(cfg, streams)
	if err != nil {
		fmt.Fprintf(stderr, "nfreplay: %v\n", err)
		return 1
	}
	defer func() {
		for _, s := range srcs {
			s.conn.Close()
		}
	}()

	var stopped atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-sig:
		case <-stop:
		case <-done:
			return
		}
		stopped.Store(true)
	}()

	r := send(cfg, srcs, &stopped)
	r.Source = name
	if cfg.json {
		b, _ := json.Marshal(r)
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printReport(stdout, r)
	}
	if r.SendErrors > 0 {
		fmt.Fprintf(stderr, "nfreplay: %d packets not sent (first error: %s)\n", r.SendErrors, r.FirstError)
		return 1
	}
	return 0
}

// loadStreams returns one stream per exporter to replay.
func loadStreams(cfg *config, stderr io.Writer) ([]*stream, string, error) {
	if cfg.capture == "" {
		return []*stream{generated(cfg.templateEvery)}, "generated-v9", nil
	}
	c, err := readCapture(cfg.capture)
	if err != nil {
		return nil, "", err
	}
	if c.truncated != nil {
		fmt.Fprintf(stderr, "nfreplay: %v (replaying the packets before it)\n", c.truncated)
	}
	total := 0
	for _, s := range c.streams {
		total += s.flows()
	}
	if total == 0 && cfg.rate > 0 {
		return nil, "", fmt.Errorf("%s has no flows to pace by: use --pps", cfg.capture)
	}
	return c.streams, cfg.capture, nil
}

// openSources binds one connected UDP socket per (copy, exporter) on
// consecutive loopback addresses.
func openSources(cfg *config, streams []*stream) ([]*source, error) {
	n := cfg.sources * len(streams)
	if n > maxSources {
		return nil, fmt.Errorf("%d sources (%d exporters x %d) exceed %d", n, len(streams), cfg.sources, maxSources)
	}
	if cfg.target.Addr().Is6() && n > 1 {
		return nil, fmt.Errorf("the capture has %d exporters; replaying them to an IPv6 target needs distinct addresses: use a 127.0.0.x target", len(streams))
	}
	raddr := net.UDPAddrFromAddrPort(cfg.target)
	var srcs []*source
	for i := range n {
		var laddr *net.UDPAddr
		if cfg.target.Addr().Is4() {
			laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(sourceAddr(i), 0))
		} else {
			laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.IPv6Loopback(), 0))
		}
		conn, err := net.DialUDP("udp", laddr, raddr)
		if err != nil {
			for _, s := range srcs {
				s.conn.Close()
			}
			return nil, fmt.Errorf("source %s: %w", laddr, err)
		}
		setSndbuf(conn, cfg.sndbuf)
		srcs = append(srcs, &source{conn: conn, w: ipv4.NewPacketConn(conn), cur: newCursor(streams[i%len(streams)], cfg.verbatim)})
	}
	return srcs, nil
}

// send runs the load loop: batches round robin over the sources, paced,
// until the count, the duration (or maxRunTime) or a signal ends it.
func send(cfg *config, srcs []*source, stopped *atomic.Bool) report {
	r := report{
		Target:          cfg.target.String(),
		Sources:         len(srcs),
		RequestedFlowsS: cfg.rate,
		RequestedPPS:    cfg.pps,
	}
	maxLen := 0
	for _, s := range srcs {
		maxLen = max(maxLen, s.cur.s.maxLen())
	}
	msgs := make([]ipv4.Message, cfg.batch)
	bufs := make([][]byte, cfg.batch)
	for i := range msgs {
		bufs[i] = make([]byte, maxLen)
		msgs[i].Buffers = [][]byte{nil}
	}
	limit := cfg.duration
	if limit <= 0 || limit > maxRunTime {
		limit = maxRunTime
	}
	pc := newPacer(cfg.rate)
	if cfg.pps > 0 {
		pc = newPacer(cfg.pps)
	}
	start := time.Now()
	deadline := start.Add(limit)
	pc.begin(start)
	flowsOf := make([]int, cfg.batch)
	tplOf := make([]bool, cfg.batch)
	var last time.Time
	for i := 0; ; i++ {
		if stopped.Load() {
			r.StoppedBy = "signal"
			break
		}
		k := uint64(cfg.batch)
		if cfg.count > 0 {
			if r.Packets+r.SendErrors >= cfg.count {
				r.StoppedBy = "count"
				break
			}
			k = min(k, cfg.count-r.Packets-r.SendErrors)
		}
		src := srcs[i%len(srcs)]
		secs := uint32(time.Now().Unix())
		var units uint64
		for j := range k {
			p := src.cur.next()
			msgs[j].Buffers[0] = src.cur.fill(bufs[j], p, secs)
			flowsOf[j], tplOf[j] = p.flows, p.template
			if cfg.pps > 0 {
				units++
			} else {
				units += uint64(p.flows)
			}
		}
		pc.wait(units)
		if now := time.Now(); !now.Before(deadline) {
			// This batch is due now: the schedule of what was sent ends
			// here.
			r.StoppedBy = "duration"
			last = now
			break
		}
		for off := 0; off < int(k); {
			n, err := src.w.WriteBatch(msgs[off:k], 0)
			for j := off; j < off+n; j++ {
				r.Packets++
				r.Flows += uint64(flowsOf[j])
				r.Bytes += uint64(len(msgs[j].Buffers[0]))
				if tplOf[j] {
					r.TemplatePackets++
				}
			}
			off += n
			if err != nil {
				// The error belongs to msgs[off] (ECONNREFUSED when nothing
				// listens, ENOBUFS): skip it, count it.
				if r.FirstError == "" {
					r.FirstError = err.Error()
				}
				r.SendErrors++
				off++
			} else if n == 0 {
				break
			}
		}
		r.Batches++
		last = time.Now()
	}
	if r.StoppedBy == "count" {
		pc.finish() // the last batch's share of the schedule
		last = time.Now()
	}
	end := last
	if end.Before(start) {
		end = start
	}
	elapsed := end.Sub(start)
	r.ElapsedS = elapsed.Seconds()
	if s := elapsed.Seconds(); s > 0 {
		r.PacketsPerS = float64(r.Packets) / s
		r.FlowsPerS = float64(r.Flows) / s
		r.MbitPerS = float64(r.Bytes) * 8 / s / 1e6
	}
	r.MaxLagMs = float64(pc.maxLag) / 1e6
	r.SlippedMs = float64(pc.slipped) / 1e6
	return r
}

func printReport(w io.Writer, r report) {
	req := "as fast as possible"
	switch {
	case r.RequestedFlowsS > 0:
		req = fmt.Sprintf("requested %.0f flows/s", r.RequestedFlowsS)
	case r.RequestedPPS > 0:
		req = fmt.Sprintf("requested %.0f packets/s", r.RequestedPPS)
	}
	fmt.Fprintf(w, "nfreplay: sent %d packets (%d templates), %d flows, %d bytes to %s from %d source(s) (%s)\n",
		r.Packets, r.TemplatePackets, r.Flows, r.Bytes, r.Target, r.Sources, r.Source)
	fmt.Fprintf(w, "nfreplay: %.3f s: %.0f packets/s, %.0f flows/s, %.1f Mbit/s (%s); stopped by %s\n",
		r.ElapsedS, r.PacketsPerS, r.FlowsPerS, r.MbitPerS, req, r.StoppedBy)
	fmt.Fprintf(w, "nfreplay: %d batches, max lag %.3f ms, schedule slipped %.3f ms, send errors %d\n",
		r.Batches, r.MaxLagMs, r.SlippedMs, r.SendErrors)
}
