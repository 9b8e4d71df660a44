// Command nfanalyze reads flows collected by nfcollect (JSON lines or the
// python-netflow format) and answers questions about them: connections with
// both directions paired, top talkers and traffic over time. See
// analyzer/USAGE.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nfkit/nfkit/analyzer"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFatal   = 1 // nothing useful could be done
	exitUsage   = 2 // bad flags or filter
	exitSkipped = 3 // done, but some input was unreadable or skipped
)

func main() {
	tty := terminals{stdin: isTerminal(os.Stdin), stdout: isTerminal(os.Stdout), stderr: isTerminal(os.Stderr)}
	if tty.stdout {
		tty.width = terminalWidth(os.Stdout)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, tty))
}

// terminals says which of the standard files are terminals, and how wide
// standard output's is.
type terminals struct {
	stdin, stdout, stderr bool
	width                 int
}

// terminalWidth returns the columns of the terminal f: from the terminal,
// else $COLUMNS, else 80.
func terminalWidth(f *os.File) int {
	if n := winsizeCols(f); n > 0 {
		return n
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	files                              stringList
	format, output                     string
	packets                            uint64
	matchHost, host, net, port, proto  string
	exporter, since, until, filter     string
	noDNS, verbose, utc                bool
	top                                int
	stat, by                           string
	timeline, window, tolerance, dnsTO time.Duration
	dnsWorkers, maxErrors              int
	progress                           string
	version                            bool
	flows, wide, dryRun                bool
	memory, expire, keep, html         string
	columns, sort, aggregate           string
	limit                              int
	clickhouse, chTable, chPassword    string
}

func newFlagSet(o *options, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("nfanalyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&o.files, "f", "input `file`, directory, glob or - for stdin (repeatable; also as arguments)")
	fs.Var(&o.files, "file", "same as -f")
	fs.StringVar(&o.format, "format", "auto", "input format: auto, json (nfcollect JSON lines) or python-netflow")
	fs.Uint64Var(&o.packets, "p", 10, "hide connections with fewer `packets` (both directions)")
	fs.Uint64Var(&o.packets, "packets", 10, "same as -p")
	fs.StringVar(&o.matchHost, "match-host", "", "only flows from or to this `IP` (as the Python analyzer)")
	fs.BoolVar(&o.noDNS, "n", false, "no reverse DNS lookups")
	fs.BoolVar(&o.noDNS, "no-dns", false, "same as -n")
	fs.BoolVar(&o.verbose, "v", false, "verbose: counts at the end, every input problem")
	fs.BoolVar(&o.verbose, "verbose", false, "same as -v")
	fs.StringVar(&o.host, "host", "", "only flows from or to this `IP`")
	fs.StringVar(&o.net, "net", "", "only flows from or to this network (`CIDR`)")
	fs.StringVar(&o.port, "port", "", "only flows from or to this `port` (number or service name)")
	fs.StringVar(&o.proto, "proto", "", "only this IP `protocol` (tcp, udp, icmp, ... or a number)")
	fs.StringVar(&o.exporter, "exporter", "", "only flows exported by this `IP`")
	fs.StringVar(&o.since, "since", "", "only flows starting at or after `time` (2006-01-02 15:04:05, RFC 3339, Unix seconds, or -1h)")
	fs.StringVar(&o.until, "until", "", "only flows starting before `time`")
	fs.StringVar(&o.filter, "filter", "", "nfdump-style filter `expression`, e.g. 'src net 10.0.0.0/8 and dst port 443'")
	fs.IntVar(&o.top, "top", 0, "statistics: show the top `N` entries per --stat key (default 10 when --stat is given)")
	fs.StringVar(&o.stat, "stat", "", "statistics over `keys` (comma-separated): "+strings.Join(analyzer.StatKeys, ", "))
	fs.StringVar(&o.by, "by", "bytes", "order statistics and timeline bars by bytes, packets or flows")
	fs.DurationVar(&o.timeline, "timeline", 0, "traffic per time bucket of this `interval` (e.g. 5m) with a bar chart")
	fs.StringVar(&o.html, "html", "", "write a self-contained HTML report (traffic over time, top talkers, services, conversations, exporters) to `file`")
	fs.BoolVar(&o.flows, "flows", false, "list flows, one row per flow (like nfdump's listing), instead of connections")
	fs.StringVar(&o.columns, "columns", "", "columns of --flows/--aggregate (comma-separated): "+strings.Join(analyzer.FlowColumns, ", "))
	fs.StringVar(&o.sort, "sort", "", "order of --flows/--aggregate rows: "+strings.Join(analyzer.FlowSortKeys, ", ")+" (times ascending, the rest largest first)")
	fs.IntVar(&o.limit, "limit", 0, "--flows/--aggregate: show at most `N` rows (unsorted flows: stop reading there)")
	fs.IntVar(&o.limit, "c", 0, "same as --limit (nfdump's -c)")
	fs.StringVar(&o.aggregate, "aggregate", "", "merge flows by `keys` (comma-separated, like nfdump -A): "+strings.Join(analyzer.AggregateKeys, ", "))
	fs.StringVar(&o.output, "output", "table", "output format: table, csv or json (JSON lines)")
	fs.StringVar(&o.output, "o", "table", "same as --output")
	fs.BoolVar(&o.wide, "wide", false, "on a terminal too, the full table (else the connection table and timeline bars fit the terminal's width)")
	fs.BoolVar(&o.utc, "utc", false, "show and parse times in UTC instead of the local time zone")
	fs.DurationVar(&o.window, "window", 15*time.Minute, "how far out of start-time order flows may arrive (the pairing window)")
	fs.StringVar(&o.memory, "memory", "256m", "memory `budget` of pairing (pending flows, connections waiting for time order): a size like 256m or 2g")
	fs.DurationVar(&o.tolerance, "tolerance", 2*time.Second, "slack when matching the two directions of a connection in time")
	fs.IntVar(&o.dnsWorkers, "dns-workers", 64, "reverse DNS lookups in flight at most")
	fs.DurationVar(&o.dnsTO, "dns-timeout", 2*time.Second, "timeout of one reverse DNS lookup")
	fs.IntVar(&o.maxErrors, "max-errors", 10, "problems shown per input file (all are counted)")
	fs.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto (on a terminal), always or never")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	fs.StringVar(&o.expire, "expire", "", "remove nfcollect's rotated files in `dir` whose flows are older than --keep (like nfexpire), and exit")
	fs.StringVar(&o.keep, "keep", "", "with --expire: the `age` of flows to keep, e.g. 30d, 2w, 36h")
	fs.BoolVar(&o.dryRun, "dry-run", false, "with --expire: list what would be removed, remove nothing")
	fs.StringVar(&o.clickhouse, "clickhouse", "", "read the flows from ClickHouse at `URL` (nfcollect --clickhouse; e.g. http://127.0.0.1:8123/?database=netflow) instead of files: statistics and the timeline run as SQL on the server")
	fs.StringVar(&o.chTable, "clickhouse-table", "flows", "ClickHouse `table` of flows (the Distributed table of a cluster)")
	fs.StringVar(&o.chPassword, "clickhouse-password-file", "", "read the ClickHouse password from `file` (first line)")
	fs.Usage = func() {} // run prints the usage for --help, and points to it after a flag error
	return fs
}

// usage writes the help text (--help) to w.
func usage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage: nfanalyze [flags] [file|dir|glob|-]...\n\n"+
		"Shows the connections in flows collected by nfcollect (or python-netflow's collector),\n"+
		"or statistics with --stat/--top and --timeline. Reads standard input without files.\n"+
		"Flags may follow the files; \"--\" ends the flags.\n\n"+
		"Exit status: 0 all input read, 1 error (no input readable, bad --output, write error),\n"+
		"2 usage (bad flag or filter), 3 done but some input was skipped.\n\nFlags:\n")
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// version returns the module version the binary was built from, or "devel".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// parseArgs parses flags and positional inputs in any order ("--" ends flags).
func parseArgs(fs *flag.FlagSet, args []string, o *options) error {
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return nil
		}
		// A "--" consumed by Parse makes everything after it positional.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			o.files = append(o.files, rest...)
			return nil
		}
		o.files = append(o.files, rest[0])
		args = rest[1:]
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, tty terminals) int {
	var o options
	fs := newFlagSet(&o, stderr)
	if err := parseArgs(fs, args, &o); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "Run nfanalyze --help for the flags.\n")
		return exitUsage
	}
	if o.version {
		fmt.Fprintf(stdout, "nfanalyze %s\n", version())
		return exitOK
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.expire != "" || o.keep != "" || o.dryRun {
		return expire(&o, stdout, stderr)
	}
	cfg, code := buildConfig(&o, set, stderr, tty)
	if code != exitOK {
		return code
	}
	cfg.Stdin = stdin
	if o.clickhouse != "" {
		return runClickHouse(&o, cfg, stdout, stderr)
	}
	if set["clickhouse-table"] || set["clickhouse-password-file"] {
		fmt.Fprintf(stderr, "nfanalyze: --clickhouse-table and --clickhouse-password-file need --clickhouse\n")
		return exitUsage
	}
	files, skipped, errs := analyzer.ExpandInputs(o.files)
	for _, err := range errs {
		fmt.Fprintf(stderr, "nfanalyze: %v\n", err)
	}
	if o.verbose {
		for _, f := range skipped {
			fmt.Fprintf(stderr, "nfanalyze: %s: an nfcollect state file, not flows: skipped (name it to read it anyway)\n", f)
		}
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "nfanalyze: no input files\n")
		return exitFatal
	}
	if len(files) == 1 && files[0] != "-" {
		if _, err := os.Stat(files[0]); err != nil {
			fmt.Fprintf(stderr, "nfanalyze: file %s does not exist!\n", files[0])
			return exitFatal
		}
	}
	if tty.stdin && slices.Contains(files, "-") {
		fmt.Fprintf(stderr, "nfanalyze: reading flows from standard input (a terminal): end with Ctrl-D, or stop with Ctrl-C and name files (nfanalyze --help)\n")
	}
	cfg.Inputs = files
	// The Go heap beyond the pairing budget is mostly garbage: a soft limit
	// makes the collector take it back before the process grows far past it.
	if cfg.MemoryBudget > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(cfg.MemoryBudget + 96<<20))
	}
	out := stdout
	var report *os.File
	if o.html != "" {
		// Written under a temporary name and renamed when complete, so that
		// a failed run leaves no half page behind.
		var err error
		if report, err = os.CreateTemp(filepath.Dir(o.html), "."+filepath.Base(o.html)+".*.tmp"); err != nil {
			fmt.Fprintf(stderr, "nfanalyze: --html: %v\n", err)
			return exitFatal
		}
		defer os.Remove(report.Name())
		out = report
	}
	sum, err := analyzer.Run(cfg, out, stderr)
	if report != nil {
		if cerr := report.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err == nil {
			os.Chmod(report.Name(), 0o644)
			err = os.Rename(report.Name(), o.html)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "nfanalyze: %v\n", err)
		return exitFatal
	}
	if sum.Files > 0 && sum.FilesFailed == sum.Files {
		return exitFatal
	}
	if sum.Skipped() || len(errs) > 0 {
		return exitSkipped
	}
	return exitOK
}

// expire is --expire DIR --keep AGE: the files removed are listed on
// stdout, the total on stderr.
func expire(o *options, stdout, stderr io.Writer) int {
	if o.expire == "" || o.keep == "" {
		fmt.Fprintf(stderr, "nfanalyze: --expire DIR and --keep AGE go together (--dry-run optional)\n")
		return exitUsage
	}
	if len(o.files) > 0 {
		fmt.Fprintf(stderr, "nfanalyze: --expire takes its directory, no input files (%s)\n", strings.Join(o.files, " "))
		return exitUsage
	}
	age, err := analyzer.ParseAge(o.keep)
	if err != nil {
		fmt.Fprintf(stderr, "nfanalyze: --keep: %v\n", err)
		return exitUsage
	}
	cutoff := time.Now().Add(-age)
	res, err := analyzer.Expire(o.expire, cutoff, o.dryRun)
	for _, f := range res.Removed {
		fmt.Fprintln(stdout, f)
	}
	verb := "removed"
	if o.dryRun {
		verb = "would remove"
	}
	fmt.Fprintf(stderr, "nfanalyze: %s %d rotated files (%s) with flows received before %s; kept %d\n",
		verb, len(res.Removed), analyzer.HumanSize(uint64(res.Bytes)), cutoff.UTC().Format(time.RFC3339), res.Kept)
	if err != nil {
		fmt.Fprintf(stderr, "nfanalyze: --expire: %v\n", err)
		return exitFatal
	}
	return exitOK
}

func usageErr(stderr io.Writer, format string, args ...any) (analyzer.Config, int) {
	fmt.Fprintf(stderr, "nfanalyze: "+format+"\n", args...)
	return analyzer.Config{}, exitUsage
}

// checkFlags refuses flag values that make no sense; set holds the names of
// the flags given.
func checkFlags(o *options, set map[string]bool) error {
	switch {
	case set["top"] && o.top < 1:
		return fmt.Errorf("--top must be at least 1, not %d", o.top)
	case set["timeline"] && o.timeline <= 0:
		return fmt.Errorf("--timeline must be a positive interval (like 5m), not %v", o.timeline)
	case o.window <= 0:
		return fmt.Errorf("--window must be a positive duration (like 15m), not %v", o.window)
	case o.tolerance <= 0:
		return fmt.Errorf("--tolerance must be a positive duration (like 2s), not %v", o.tolerance)
	case o.dnsWorkers < 1 || o.dnsWorkers > maxDNSWorkers:
		return fmt.Errorf("--dns-workers must be from 1 to %d, not %d", maxDNSWorkers, o.dnsWorkers)
	case o.dnsTO <= 0:
		return fmt.Errorf("--dns-timeout must be a positive duration (like 2s), not %v", o.dnsTO)
	case o.maxErrors < 0:
		return fmt.Errorf("--max-errors must be 0 or more, not %d", o.maxErrors)
	case (set["limit"] || set["c"]) && o.limit < 1:
		return fmt.Errorf("--limit must be at least 1, not %d", o.limit)
	case (o.flows || o.aggregate != "") && (o.stat != "" || set["top"] || set["timeline"]):
		return errors.New("--flows and --aggregate cannot be combined with --stat, --top or --timeline")
	case o.html != "" && (o.flows || o.aggregate != "" || o.stat != ""):
		return errors.New("--html cannot be combined with --flows, --aggregate or --stat (it has its own tables; --top sets their length, --timeline the chart's interval)")
	case !o.flows && o.aggregate == "" && (o.columns != "" || o.sort != "" || set["limit"] || set["c"]):
		return errors.New("--columns, --sort and --limit go with --flows or --aggregate")
	case o.clickhouse != "" && (o.flows || o.aggregate != "" || o.html != "" || o.expire != ""):
		return errors.New("--clickhouse answers the connections, --stat/--top and --timeline; --flows, --aggregate, --html and --expire read files")
	}
	return nil
}

// maxDNSWorkers bounds --dns-workers (each is a goroutine with a lookup in flight).
const maxDNSWorkers = 4096

func buildConfig(o *options, set map[string]bool, stderr io.Writer, tty terminals) (analyzer.Config, int) {
	if err := checkFlags(o, set); err != nil {
		return usageErr(stderr, "%v", err)
	}
	cfg := analyzer.Config{
		Format:     o.format,
		MinPackets: o.packets,
		Output:     o.output,
		Top:        o.top,
		By:         o.by,
		Timeline:   o.timeline,
		Window:     o.window,
		Tolerance:  o.tolerance,
		DNSWorkers: o.dnsWorkers,
		DNSTimeout: o.dnsTO,
		Verbose:    o.verbose,
		MaxErrors:  o.maxErrors,
		Unicode:    tty.stdout,
		Loc:        time.Local,
		Width:      tty.width,
		Flows:      o.flows,
		Columns:    o.columns,
		Sort:       o.sort,
		Limit:      o.limit,
	}
	if o.aggregate != "" {
		cfg.Aggregate = strings.Split(o.aggregate, ",")
	}
	if err := analyzer.CheckFlowView(o.columns, o.sort, cfg.Aggregate); err != nil {
		return usageErr(stderr, "%v", err)
	}
	if o.utc {
		cfg.Loc = time.UTC
	}
	if o.wide {
		cfg.Width = 0
	}
	if mem, ok := parseSize(o.memory); !ok || mem < 16<<20 {
		return usageErr(stderr, "--memory must be a size of at least 16m (like 256m or 2g), not %q", o.memory)
	} else {
		cfg.MemoryBudget = mem
	}
	if o.maxErrors == 0 {
		cfg.MaxErrors = -1 // none shown
	}
	if !o.noDNS {
		cfg.Resolver = analyzer.SystemResolver{}
	}
	switch o.progress {
	case "auto":
		if tty.stderr {
			cfg.Progress = stderr
		}
	case "always":
		cfg.Progress = stderr
	case "never":
	default:
		return usageErr(stderr, "--progress must be auto, always or never, not %q", o.progress)
	}
	if o.stat != "" {
		for _, k := range strings.Split(o.stat, ",") {
			cfg.StatKeys = append(cfg.StatKeys, strings.TrimSpace(k))
		}
		if o.top == 0 {
			cfg.Top = 10
		}
	} else if o.top > 0 {
		cfg.StatKeys = []string{"src"}
	}
	var f analyzer.Filter
	if o.matchHost != "" {
		a, err := netip.ParseAddr(o.matchHost)
		if err != nil {
			fmt.Fprintf(stderr, "IP address '%s' is neither IPv4 nor IPv6\n", o.matchHost)
			return analyzer.Config{}, exitUsage
		}
		f = f.And(analyzer.HostFilter(a.Unmap()))
	}
	if o.host != "" {
		a, err := netip.ParseAddr(o.host)
		if err != nil {
			return usageErr(stderr, "--host: %q is not an IP address", o.host)
		}
		f = f.And(analyzer.HostFilter(a.Unmap()))
	}
	if o.net != "" {
		p, err := netip.ParsePrefix(o.net)
		if err != nil {
			return usageErr(stderr, "--net: %q is not a network like 10.0.0.0/8", o.net)
		}
		f = f.And(analyzer.NetFilter(p))
	}
	if o.port != "" {
		pf, err := analyzer.ParseFilter("port " + o.port)
		if err != nil {
			return usageErr(stderr, "--port: %q is not a port number or service name", o.port)
		}
		f = f.And(pf)
	}
	if o.proto != "" {
		pf, err := analyzer.ParseFilter("proto " + o.proto)
		if err != nil {
			return usageErr(stderr, "--proto: unknown protocol %q", o.proto)
		}
		f = f.And(pf)
	}
	if o.exporter != "" {
		a, err := netip.ParseAddr(o.exporter)
		if err != nil {
			return usageErr(stderr, "--exporter: %q is not an IP address", o.exporter)
		}
		f = f.And(analyzer.ExporterFilter(a.Unmap()))
	}
	if o.since != "" || o.until != "" {
		var since, until int64
		var err error
		now := time.Now()
		if o.since != "" {
			if since, err = parseTime(o.since, cfg.Loc, now); err != nil {
				return usageErr(stderr, "--since: %v", err)
			}
		}
		if o.until != "" {
			if until, err = parseTime(o.until, cfg.Loc, now); err != nil {
				return usageErr(stderr, "--until: %v", err)
			}
		}
		if o.since != "" && o.until != "" && since >= until {
			return usageErr(stderr, "--since %s is not before --until %s: no flow can match", o.since, o.until)
		}
		f = f.And(analyzer.TimeFilter(since, until))
		cfg.Since, cfg.Until = since, until
	}
	if o.filter != "" {
		ef, err := analyzer.ParseFilter(o.filter)
		if err != nil {
			fmt.Fprintf(stderr, "nfanalyze: %v\n", err)
			return analyzer.Config{}, exitUsage
		}
		f = f.And(ef)
	}
	cfg.Filter = f
	if o.html != "" {
		cfg.HTML = true
		var parts []string
		for _, fl := range []struct{ name, v string }{{"host", o.host}, {"match-host", o.matchHost}, {"net", o.net}, {"port", o.port},
			{"proto", o.proto}, {"exporter", o.exporter}, {"since", o.since}, {"until", o.until}, {"filter", o.filter}} {
			if fl.v != "" {
				parts = append(parts, "--"+fl.name+" "+strconv.Quote(fl.v))
			}
		}
		cfg.FilterText = strings.Join(parts, " ")
	}
	return cfg, exitOK
}

// parseSize reads a size in bytes with an optional k, m, g or t suffix
// (powers of 1024).
func parseSize(s string) (int64, bool) {
	mult := int64(1)
	if n := len(s); n > 0 {
		if i := strings.IndexByte("kmgt", s[n-1]|0x20); i >= 0 {
			mult = 1 << (10 * (i + 1))
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<62)/mult {
		return 0, false
	}
	return v * mult, true
}

// parseTime reads an absolute time in loc, Unix seconds, or a duration before now ("-2h").
func parseTime(s string, loc *time.Location, now time.Time) (int64, error) {
	if strings.HasPrefix(s, "-") {
		if d, err := time.ParseDuration(s[1:]); err == nil {
			return now.Add(-d).UnixNano(), nil
		}
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "-:") {
		return int64(v * 1e9), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixNano(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("cannot read %q as a time (use 2006-01-02 15:04:05, RFC 3339, Unix seconds or -1h30m)", s)
}

// runClickHouse analyzes the flows of a ClickHouse table.
func runClickHouse(o *options, cfg analyzer.Config, stdout, stderr io.Writer) int {
	if len(o.files) > 0 {
		fmt.Fprintf(stderr, "nfanalyze: --clickhouse reads no files (%s given)\n", strings.Join(o.files, ", "))
		return exitUsage
	}
	ch := &analyzer.ClickHouse{URL: o.clickhouse, Table: o.chTable}
	if o.chPassword != "" {
		b, err := os.ReadFile(o.chPassword)
		if err != nil {
			fmt.Fprintf(stderr, "nfanalyze: --clickhouse-password-file: %v\n", err)
			return exitFatal
		}
		pw, _, _ := strings.Cut(string(b), "\n")
		ch.Password = strings.TrimSuffix(pw, "\r")
	}
	cfg.ClickHouse = ch
	if _, err := analyzer.Run(cfg, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "nfanalyze: %v\n", err)
		return exitFatal
	}
	return exitOK
}
