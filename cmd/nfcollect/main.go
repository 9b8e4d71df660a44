// Command nfcollect receives NetFlow v1/v5/v7/v9 and IPFIX export packets
// over UDP, or reads them from pcap captures, and writes one JSON line per
// flow to compressed files.
//
//	nfcollect -p 9000                      # listen on UDP 9000, write <unix-time>.gz
//	nfcollect -r capture.pcap -o flows.gz  # offline
//	nfcollect -p 2055 --rotate 5m --dir /var/lib/nfcollect/flows
//
// See the README for every flag and the output schema.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nfkit/nfkit/collector"
	"github.com/nfkit/nfkit/flowparquet"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line, parsed.
type options struct {
	cfg       collector.Config
	output    string
	format    string
	rotate    time.Duration
	dir       string
	compress  string
	rowGroup  int
	reads     listFlag
	allow     string
	metrics   string
	pprof     bool
	logFormat string
	cpuprof   string
	user      string
	version   bool
	queueMiB  *int
	tcpPort   int
	tcp       bool
	tcpCfg    collector.TCPConfig
	sflowPort int
	ch        chOptions
	kafka     kafkaOptions
	set       map[string]bool // flags given on the command line
}

// usageError is a bad command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("nfcollect", flag.ContinueOnError)
	c := &o.cfg
	fs.IntVar(&c.Port, "p", 2055, "UDP `port` to listen on")
	fs.IntVar(&c.Port, "port", 2055, "UDP `port` to listen on")
	fs.IntVar(&o.sflowPort, "sflow-port", 0, "also listen on this UDP `port` (sFlow's is 6343); every port takes sFlow v5, NetFlow and IPFIX (default: off)")
	fs.StringVar(&c.Host, "host", "", "listen `address` (default: all IPv4 and IPv6 addresses)")
	fs.IntVar(&o.tcpPort, "tcp-port", 0, "also accept IPFIX over TCP (RFC 7011) on this `port` (e.g. 4739)")
	fs.BoolVar(&o.tcp, "tcp", false, "also accept IPFIX over TCP on the UDP port's number")
	fs.IntVar(&o.tcpCfg.MaxConns, "tcp-max-conns", 1024, "IPFIX over TCP: concurrent exporter `connections` (more are closed at once)")
	fs.DurationVar(&o.tcpCfg.IdleTimeout, "tcp-idle", 30*time.Minute, "IPFIX over TCP: close a connection silent this long")
	fs.StringVar(&o.output, "o", "", "output `file`, appended to (.gz gzip, .zst zstd, else plain; - = JSON lines on stdout; default <unix-time>.gz unless --rotate or --clickhouse)")
	fs.StringVar(&o.output, "file", "", "output `file` (same as -o)")
	fs.BoolVar(&c.Debug, "D", false, "debug: log every packet")
	fs.BoolVar(&c.Debug, "debug", false, "debug: log every packet")
	fs.Var(&o.reads, "r", "read export packets from a pcap or pcapng `capture` instead of the network (repeatable; further arguments are captures too)")
	fs.StringVar(&o.format, "format", "json", "output `format`: json (one object per flow), python-netflow (the Python collector's per-packet lines) or parquet (Apache Parquet files; implied by -o NAME.parquet; --rotate 1m by default)")
	fs.DurationVar(&o.rotate, "rotate", 0, "start a new file every `interval` (e.g. 5m) in --dir, named nfcollect.YYYYMMDDhhmm.json.gz")
	fs.StringVar(&o.dir, "dir", ".", "`directory` of rotated files (created if missing)")
	fs.StringVar(&o.compress, "compress", "gz", "compression of rotated files: gz, zst or none (-o takes it from the file name); Parquet: zstd (default), lz4, snappy, gzip or none")
	fs.IntVar(&o.rowGroup, "row-group", 0, "Parquet: `rows` per row group (default 1048576)")
	fs.IntVar(&c.Workers, "workers", 0, "receive sockets (SO_REUSEPORT) and decode workers (0: number of CPUs)")
	fs.IntVar(&c.RcvBuf, "rcvbuf", 32<<20, "socket receive buffer in `bytes`")
	fs.IntVar(&c.QueueLen, "queue", 65536, "`packets` each decode worker may have waiting (bursts)")
	var queueMiB int
	fs.IntVar(&queueMiB, "queue-mib", 256, "memory, in `MiB`, of the packets waiting in all decode queues")
	fs.StringVar(&o.allow, "allow", "", "comma-separated `CIDR`s or addresses of exporters to accept (default: all)")
	fs.StringVar(&c.TemplatesFile, "templates", "", "`file` to persist templates and sampling state across restarts (keep it outside --dir)")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus /metrics and /healthz on `addr` (a bare port or :port binds 127.0.0.1)")
	fs.BoolVar(&o.pprof, "pprof", false, "also serve Go's /debug/pprof/ on the --metrics address (off: it exposes internals)")
	fs.IntVar(&c.MetricsExporters, "metrics-exporters", 1000, "exporters with metric series of their own (the first seen); the others are summed as exporter=\"other\"")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&c.Renormalize, "renormalize", false, "multiply bytes and packets by the sampling rate (the record then says sampling_rate 1 and original_sampling_rate N)")
	fs.DurationVar(&c.PendingAge, "pending-age", time.Hour, "how long data may wait for its template")
	fs.DurationVar(&c.ExporterIdle, "exporter-idle", 0, "forget (and do not save) the templates of an exporter silent this long (default: 1h or --pending-age, whichever is longer)")
	fs.DurationVar(&c.StatsInterval, "stats-interval", 5*time.Minute, "per-exporter summary log interval (negative: off)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "at exit, decode what is queued for at most this long (the rest is counted as dropped), then write for as long again")
	fs.StringVar(&o.user, "user", "", "after binding the socket and opening the outputs, run as this `user` (and its groups); needs root")
	fs.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile to `file` until exit")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	o.ch.flags(fs)
	o.queueMiB = &queueMiB
	addKafkaFlags(fs, &o.kafka)
	return fs
}

// parse parses the command line: flags may come before and after the
// capture file names.
func parse(args []string, stdout io.Writer) (*options, error) {
	o := &options{set: map[string]bool{}}
	fs := newFlagSet(o)
	fs.SetOutput(io.Discard)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(stdout, fs)
				return nil, flag.ErrHelp
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		o.reads = append(o.reads, fs.Arg(0))
		args = fs.Args()[1:]
	}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	if !o.set["format"] && strings.HasSuffix(o.output, ".parquet") {
		o.format = "parquet"
	}
	if o.format == "parquet" && !o.set["rotate"] && o.output == "" {
		o.rotate = time.Minute // a file is readable once complete: bound what a crash loses
	}
	return o, o.check()
}

// check validates the values and fills the collector's configuration.
func (o *options) check() error {
	c := &o.cfg
	switch {
	case c.Port < 0 || c.Port > 65535:
		return usagef("--port %d: not a port", c.Port)
	case o.tcpPort < 0 || o.tcpPort > 65535:
		return usagef("--tcp-port %d: not a port", o.tcpPort)
	case (o.tcp || o.tcpPort != 0) && len(o.reads) > 0:
		return usagef("--tcp and --tcp-port listen; -r reads captures instead")
	case o.tcpCfg.MaxConns < 1:
		return usagef("--tcp-max-conns %d: must be at least 1", o.tcpCfg.MaxConns)
	case o.tcpCfg.IdleTimeout <= 0:
		return usagef("--tcp-idle %v: must be positive", o.tcpCfg.IdleTimeout)
	case o.sflowPort < 0 || o.sflowPort > 65535:
		return usagef("--sflow-port %d: not a port", o.sflowPort)
	case o.sflowPort != 0 && o.sflowPort == c.Port:
		return usagef("--sflow-port %d: the same as --port (which takes sFlow too)", o.sflowPort)
	case c.Workers < 0:
		return usagef("--workers %d: must be 0 (one per CPU) or more", c.Workers)
	case c.RcvBuf < 0:
		return usagef("--rcvbuf %d: must not be negative", c.RcvBuf)
	case c.QueueLen < 1:
		return usagef("--queue %d: must be at least 1", c.QueueLen)
	case *o.queueMiB < 1:
		return usagef("--queue-mib %d: must be at least 1", *o.queueMiB)
	case o.rotate < 0:
		return usagef("--rotate %v: must be positive", o.rotate)
	case o.set["rotate"] && o.rotate == 0:
		return usagef("--rotate 0: give an interval, e.g. 5m")
	case c.PendingAge <= 0:
		return usagef("--pending-age %v: must be positive", c.PendingAge)
	case c.ExporterIdle < 0:
		return usagef("--exporter-idle %v: must not be negative", c.ExporterIdle)
	case c.ShutdownTimeout <= 0:
		return usagef("--shutdown-timeout %v: must be positive", c.ShutdownTimeout)
	case c.MetricsExporters < 0:
		return usagef("--metrics-exporters %d: must not be negative", c.MetricsExporters)
	case o.format != "parquet" && strings.HasSuffix(o.output, ".parquet"):
		return usagef("-o %s: a .parquet file is written with --format parquet, not %s", o.output, o.format)
	case o.format == "parquet" && o.output == "-":
		return usagef("-o -: Parquet is written to files (-o NAME.parquet or --rotate)")
	case o.set["row-group"] && (o.format != "parquet" || o.rowGroup < 1):
		return usagef("--row-group applies to --format parquet and must be at least 1")
	case o.set["compress"] && o.rotate == 0 && o.format != "parquet":
		return usagef("--compress applies to --rotate; -o takes the compression from the file name (.gz, .zst)")
	case o.set["dir"] && o.rotate == 0:
		return usagef("--dir applies to --rotate")
	case o.pprof && o.metrics == "":
		return usagef("--pprof needs --metrics")
	case o.format != "json" && o.format != "python-netflow" && o.format != "parquet":
		return usagef("--format %q: want json, python-netflow or parquet", o.format)
	case o.logFormat != "text" && o.logFormat != "json":
		return usagef("--log-format %q: want text or json", o.logFormat)
	}
	if err := o.ch.check(o.set); err != nil {
		return err
	}
	if err := o.kafka.check(o.set); err != nil {
		return err
	}
	c.QueueBytes = int64(*o.queueMiB) << 20
	if c.MetricsExporters == 0 {
		c.MetricsExporters = -1 // none named
	}
	if o.format == "parquet" {
		if !o.set["compress"] {
			o.compress = "zstd"
		}
		if _, err := flowparquet.ParseCompression(o.compress); err != nil {
			return usagef("--compress: %v", err)
		}
	} else if o.rotate > 0 {
		if _, err := collector.ParseCodec(o.compress); err != nil {
			return usagef("--compress: %v", err)
		}
	}
	for _, s := range strings.Split(o.allow, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := parseAllow(s)
		if err != nil {
			return usagef("--allow: %v", err)
		}
		c.Allow = append(c.Allow, p)
	}
	return nil
}

// parseAllow parses an --allow entry: a prefix or an address. IPv4-mapped
// IPv6 forms (::ffff:192.0.2.0/120) mean the IPv4 prefix, as exporters are
// matched by their IPv4 address.
func parseAllow(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or an address", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped prefix needs at least 96 bits", s)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: nfcollect [-p port] [--host addr] [-o file | --rotate interval --dir dir] [flags]\n")
	fmt.Fprintf(w, "       nfcollect [-o file] [flags] capture.pcap ...\n\n")
	fmt.Fprintf(w, "Receives NetFlow v1/v5/v7/v9 and IPFIX (or reads them from captures) and writes\n")
	fmt.Fprintf(w, "one JSON line per flow. See the README for the output schema and behaviour.\n\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func version() string {
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "nfcollect " + v + " (" + runtime.Version() + ")"
}

func run(args []string, stdout, stderr *os.File) int {
	o, err := parse(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "nfcollect: %v\nRun nfcollect --help for the flags.\n", err)
		return 2
	}
	if o.version {
		fmt.Fprintln(stdout, version())
		return 0
	}
	if err := o.collect(stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "nfcollect: %v\n", err)
		return 1
	}
	return 0
}

// collect runs the collector the options describe until a signal (or the
// end of the captures).
func (o *options) collect(stdout, stderr *os.File) error {
	cfg := &o.cfg
	// A progress line while reading captures on a terminal; log lines
	// clear it first.
	var (
		shown    atomic.Pointer[collector.Collector] // for the progress line
		capture  *collector.CaptureInput
		logOut   io.Writer = stderr
		progress *progressDisplay
	)
	if len(o.reads) > 0 {
		capture = &collector.CaptureInput{Paths: o.reads}
		if isTerminal(stderr) {
			progress = newProgress(stderr, capture, &shown)
			logOut = progress.Writer()
			defer progress.Stop()
		}
	}
	log := newLogger(logOut, o.logFormat, cfg.Debug)
	cfg.Logger = log

	outputs, err := o.outputs(stdout, log)
	if err != nil {
		return err
	}
	cfg.Outputs = outputs
	if o.cpuprof != "" {
		stopProfile, err := startProfile(o.cpuprof)
		if err != nil {
			return err
		}
		defer stopProfile()
	}
	c, err := collector.New(*cfg)
	if err != nil {
		return err
	}
	shown.Store(c)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.ch.start(ctx, log)
	defer onHangup(c, log)()
	if o.metrics != "" {
		if err := serveMetrics(o.metrics, o.pprof, c, log); err != nil {
			c.Close()
			return fmt.Errorf("--metrics: %w", err)
		}
	}

	var inputs []collector.Input
	closeInputs := func() {
		for _, in := range inputs {
			in.Close()
		}
	}
	if capture != nil {
		inputs = append(inputs, capture)
	} else {
		u, err := c.ListenUDP()
		if err != nil {
			c.Close()
			return err
		}
		inputs = append(inputs, u)
		log.Info("listening", "addr", u.Addr(), "workers", c.Workers(), "output", o.outputNames(), "format", o.format)
		if o.sflowPort != 0 {
			s, err := c.ListenUDPPort(o.sflowPort)
			if err != nil {
				closeInputs()
				c.Close()
				return fmt.Errorf("--sflow-port: %w", err)
			}
			log.Info("listening for sFlow", "addr", s.Addr())
			inputs = append(inputs, s)
		}
		if port := o.tcpPort; port != 0 || o.tcp {
			if port == 0 {
				port = cfg.Port
			}
			t, err := c.ListenTCP(port, o.tcpCfg)
			if err != nil {
				closeInputs()
				c.Close()
				return err
			}
			inputs = append(inputs, t)
			log.Info("listening for IPFIX over TCP", "addr", t.Addr(), "max_conns", o.tcpCfg.MaxConns)
		}
	}
	if o.user != "" {
		if err := dropPrivileges(o.user); err != nil {
			closeInputs()
			c.Close()
			return fmt.Errorf("--user: %w", err)
		}
		log.Info("running as", "user", o.user)
	}
	err = c.Serve(ctx, inputs...)
	s := c.Stats()
	log.Info("stopped", "packets", s.Packets, "flows", s.Flows, "flows_written", s.OutputFlows, "decode_errors", s.Errors,
		"queue_drops", s.QueueDrops, "pending_dropped", s.PendingDrops, "write_errors", s.WriteErrors)
	if err == nil && capture != nil && s.WriteErrors > 0 {
		// Reading a capture loses nothing to speed: lost flows are
		// failed writes, worth an exit status.
		err = fmt.Errorf("%d write errors; flows were lost", s.WriteErrors)
	}
	if cherr := o.ch.report(log); err == nil && capture != nil {
		err = cherr // so are flows ClickHouse never got
	}
	return err
}

// newLogger returns the logger of --log-format on w.
func newLogger(w io.Writer, format string, debug bool) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if debug {
		opts.Level = slog.LevelDebug
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// startProfile writes a CPU profile to path until the returned function is
// called.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// onHangup rotates (or reopens) the outputs on SIGHUP until the returned
// function is called.
func onHangup(c *collector.Collector, log *slog.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			log.Info("SIGHUP: rotating (rotated files) or reopening (-o) the output")
			c.Rotate()
		}
	}()
	return func() { signal.Stop(hup); close(hup) }
}

// outputs builds the outputs the flags ask for: -o (default
// <unix-time>.gz unless --rotate or --clickhouse is given) and --rotate,
// each with the encoder of --format, and --clickhouse.
func (o *options) outputs(stdout io.Writer, log *slog.Logger) ([]collector.Output, error) {
	var enc collector.Encoder = collector.JSONLines{}
	if o.format == "python-netflow" {
		enc = collector.PythonNetflow{}
	}
	if o.format == "parquet" {
		return o.parquetOutputs(log)
	}
	var outs []collector.Output
	if o.output == "" && o.rotate == 0 && o.ch.url == "" && o.kafka.brokers == "" {
		o.output = strconv.FormatInt(time.Now().Unix(), 10) + ".gz"
	}
	switch o.output {
	case "":
	case "-":
		outs = append(outs, collector.Output{Name: "stdout", Encoder: enc, Sink: collector.WriterSink{W: stdout}})
	default:
		s, err := collector.NewFileSink(o.output, log)
		if err != nil {
			return nil, fmt.Errorf("output file: %w", err)
		}
		outs = append(outs, collector.Output{Name: "file", Encoder: enc, Sink: s})
	}
	if o.rotate > 0 {
		codec, _ := collector.ParseCodec(o.compress)
		s, err := collector.NewRotateSink(collector.RotateConfig{Dir: o.dir, Interval: o.rotate, Codec: codec}, log)
		if err != nil {
			return nil, fmt.Errorf("--dir: %w", err)
		}
		outs = append(outs, collector.Output{Name: "rotate", Encoder: enc, Sink: s})
	}
	ch, err := o.ch.output(o.cfg.ShutdownTimeout, log)
	if err != nil {
		return nil, err
	}
	if ch != nil {
		outs = append(outs, *ch)
	}
	if o.kafka.brokers != "" {
		out, err := o.kafka.output(o.cfg.ShutdownTimeout, log)
		if err != nil {
			for _, o := range outs {
				o.Sink.Close()
			}
			return nil, err
		}
		outs = append(outs, out)
	}
	return outs, nil
}

// parquetOutputs builds the Parquet outputs: -o NAME.parquet (one file,
// complete at exit) and --rotate (one file per interval in --dir).
func (o *options) parquetOutputs(log *slog.Logger) ([]collector.Output, error) {
	var outs []collector.Output
	cfg := collector.ParquetConfig{Compression: flowparquet.Compression(o.compress), RowGroupRows: o.rowGroup}
	if o.output != "" {
		c := cfg
		c.Path = o.output
		s, err := collector.NewParquetSink(c, log)
		if err != nil {
			return nil, fmt.Errorf("output file: %w", err)
		}
		if len(o.reads) == 0 {
			log.Warn("a Parquet file is readable only once complete (at exit or SIGHUP): a crash loses all of it; --rotate bounds the loss", "file", o.output)
		}
		outs = append(outs, collector.Output{Name: "file", Encoder: collector.ParquetRows{}, Sink: s})
	}
	if o.rotate > 0 {
		c := cfg
		c.Dir, c.Interval = o.dir, o.rotate
		s, err := collector.NewParquetSink(c, log)
		if err != nil {
			return nil, fmt.Errorf("--dir: %w", err)
		}
		outs = append(outs, collector.Output{Name: "rotate", Encoder: collector.ParquetRows{}, Sink: s})
	}
	return outs, nil
}

func (o *options) outputNames() string {
	var names []string
	if o.output != "" {
		names = append(names, o.output)
	}
	if o.rotate > 0 {
		names = append(names, o.dir+" every "+o.rotate.String())
	}
	if o.ch.ch != nil {
		names = append(names, "clickhouse "+o.ch.ch.Table().Target())
	}
	if o.kafka.brokers != "" {
		names = append(names, "kafka "+o.kafka.brokers+" topic "+o.kafka.topic)
	}
	return strings.Join(names, ", ")
}

// serveMetrics serves /metrics and /healthz (and /debug/pprof/ with
// --pprof). A bare port or ":port" binds loopback only.
func serveMetrics(addr string, withPprof bool, c *collector.Collector, log *slog.Logger) error {
	if _, err := strconv.Atoi(addr); err == nil {
		addr = "127.0.0.1:" + addr
	} else if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		w.Write(c.AppendMetrics(nil))
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	if withPprof {
		mux.HandleFunc("/debug/pprof/", httppprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", httppprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String(), "pprof", withPprof)
	return nil
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
