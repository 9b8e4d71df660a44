// Command nfcollect receives NetFlow v1/v5/v7/v9 and IPFIX export packets
// over UDP, or reads them from pcap captures, and writes one JSON line per
// flow to compressed files.
//
//	nfcollect -p 9000                      # listen on UDP 9000, write <unix-time>.gz
//	nfcollect -r capture.pcap -o flows.gz  # offline
//	nfcollect -p 2055 --rotate 5m --dir /var/lib/nfcollect
//
// See the README for every flag and the output schema.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nfkit/nfkit/collector"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr *os.File) int {
	fs := flag.NewFlagSet("nfcollect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg       collector.Config
		reads     listFlag
		allow     string
		metrics   string
		logFormat string
		compress  string
		cpuprof   string
	)
	fs.IntVar(&cfg.Port, "p", 2055, "UDP `port` to listen on")
	fs.IntVar(&cfg.Port, "port", 2055, "UDP `port` to listen on")
	fs.StringVar(&cfg.Host, "host", "", "listen `address` (default: all IPv4 and IPv6 addresses)")
	fs.StringVar(&cfg.Output, "o", "", "output `file` (.gz gzip, .zst zstd, else plain; - = JSON lines on stdout; default <unix-time>.gz)")
	fs.StringVar(&cfg.Output, "file", "", "output `file` (same as -o)")
	fs.BoolVar(&cfg.Debug, "D", false, "debug: log every packet")
	fs.BoolVar(&cfg.Debug, "debug", false, "debug: log every packet")
	fs.Var(&reads, "r", "read export packets from a pcap or pcapng `capture` instead of the network (repeatable)")
	fs.StringVar(&cfg.Format, "format", collector.FormatJSON, "output `format`: json (one object per flow) or python-netflow (the Python collector's per-packet lines)")
	fs.DurationVar(&cfg.Rotate, "rotate", 0, "start a new file every `interval` (e.g. 5m), named nfcollect.YYYYMMDDhhmm.json.gz in --dir")
	fs.StringVar(&cfg.Dir, "dir", ".", "`directory` of rotated files")
	fs.StringVar(&compress, "compress", "gz", "compression of rotated files: gz, zst or none")
	fs.IntVar(&cfg.Workers, "workers", 0, "receive sockets (SO_REUSEPORT) and decode workers (default: number of CPUs)")
	fs.IntVar(&cfg.RcvBuf, "rcvbuf", 32<<20, "socket receive buffer in `bytes`")
	fs.IntVar(&cfg.QueueLen, "queue", 65536, "`packets` each decode worker may have waiting (bursts; about 2 KiB each while queued)")
	fs.StringVar(&allow, "allow", "", "comma-separated `CIDR`s of exporters to accept (default: all)")
	fs.StringVar(&cfg.TemplatesFile, "templates", "", "`file` to persist templates and sampling state across restarts")
	fs.StringVar(&metrics, "metrics", "", "serve Prometheus /metrics and /healthz on `addr` (a bare port binds 127.0.0.1)")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&cfg.Renormalize, "renormalize", false, "multiply bytes and packets by the sampling rate")
	fs.DurationVar(&cfg.PendingAge, "pending-age", time.Hour, "how long data may wait for its template")
	fs.DurationVar(&cfg.StatsInterval, "stats-interval", 5*time.Minute, "per-exporter summary log interval (negative: off)")
	fs.StringVar(&cpuprof, "cpuprofile", "", "write a CPU profile to `file` until exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nfcollect [-p port] [--host addr] [-o file] [-r capture.pcap] [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	reads = append(reads, fs.Args()...)

	level := slog.LevelInfo
	if cfg.Debug {
		level = slog.LevelDebug
	}
	var h slog.Handler
	switch logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		fmt.Fprintf(stderr, "nfcollect: unknown --log-format %q (want text or json)\n", logFormat)
		return 2
	}
	log := slog.New(h)
	cfg.Logger = log
	cfg.Stdout = stdout

	if allow != "" {
		for _, s := range strings.Split(allow, ",") {
			s = strings.TrimSpace(s)
			p, err := netip.ParsePrefix(s)
			if err != nil {
				a, aerr := netip.ParseAddr(s)
				if aerr != nil {
					fmt.Fprintf(stderr, "nfcollect: --allow: %q is not a CIDR or address\n", s)
					return 2
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			cfg.Allow = append(cfg.Allow, p.Masked())
		}
	}
	if cfg.Rotate > 0 {
		cfg.Codec = compress
		if cfg.Output != "" {
			fmt.Fprintln(stderr, "nfcollect: use either -o or --rotate with --dir")
			return 2
		}
	} else if cfg.Output == "" {
		cfg.Output = strconv.FormatInt(time.Now().Unix(), 10) + ".gz"
	}

	if cpuprof != "" {
		f, err := os.Create(cpuprof)
		if err != nil {
			fmt.Fprintf(stderr, "nfcollect: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "nfcollect: %v\n", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}

	c, err := collector.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "nfcollect: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		for range hup {
			log.Info("SIGHUP: rotating output")
			c.Rotate()
		}
	}()

	if metrics != "" {
		if err := serveMetrics(metrics, c, log); err != nil {
			fmt.Fprintf(stderr, "nfcollect: --metrics: %v\n", err)
			c.Close()
			return 1
		}
	}

	if len(reads) > 0 {
		var progress *os.File
		if fi, err := stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			progress = stderr
		}
		var rerr error
		if progress != nil {
			rerr = c.Replay(ctx, reads, progress)
		} else {
			rerr = c.Replay(ctx, reads, nil)
		}
		cerr := c.Close()
		s := c.Stats()
		log.Info("done", "packets", s.Packets, "flows", s.Flows, "decode_errors", s.Errors,
			"pending_dropped", s.PendingDrops, "output", cfg.Output)
		if err := errors.Join(rerr, cerr); err != nil {
			fmt.Fprintf(stderr, "nfcollect: %v\n", err)
			return 1
		}
		return 0
	}

	l, err := c.Listen()
	if err != nil {
		fmt.Fprintf(stderr, "nfcollect: %v\n", err)
		c.Close()
		return 1
	}
	log.Info("listening", "addr", l.Addr(), "workers", cfg.Workers, "output", outputName(cfg), "format", cfg.Format)
	if err := c.Serve(ctx, l); err != nil {
		fmt.Fprintf(stderr, "nfcollect: %v\n", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

func outputName(cfg collector.Config) string {
	if cfg.Rotate > 0 {
		return cfg.Dir
	}
	return cfg.Output
}

// serveMetrics serves /metrics and /healthz. A bare port or ":port" binds
// loopback only.
func serveMetrics(addr string, c *collector.Collector, log *slog.Logger) error {
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
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server stopped", "err", err)
		}
	}()
	log.Info("serving metrics", "addr", ln.Addr().String())
	return nil
}
