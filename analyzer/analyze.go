package analyzer

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/nfkit/nfkit/pynetflow"
)

// Config is everything nfanalyze can be asked to do.
type Config struct {
	Inputs []string  // files as given by ExpandInputs; "-" is Stdin
	Stdin  io.Reader // standard input (os.Stdin when nil)
	Format string    // "auto" (default), "json" or "python-netflow"

	Filter     Filter // flows to analyze
	MinPackets uint64 // connections with fewer packets are not shown
	// The time range of --since/--until (Unix ns, 0: open), also in Filter:
	// rotated files whose names' times lie outside it are not opened.
	Since, Until int64

	Output string         // "table" (default), "csv" or "json"
	Loc    *time.Location // time zone of table output (time.Local when nil)

	// Name resolution: nil Resolver means none.
	Resolver   Resolver
	DNSWorkers int
	DNSTimeout time.Duration

	// Statistics instead of connections.
	StatKeys []string // e.g. "src", "pair"; see StatKeys
	Top      int      // rows per statistic (0: all)
	By       string   // "bytes" (default), "packets" or "flows"
	Timeline time.Duration
	Unicode  bool // bar chart with block characters (on a terminal)
	Width    int  // fit tables and bars to this many columns (a terminal's); 0: the full layout

	// The flow view (instead of connections and statistics): one row per
	// flow, or per aggregate of flows with Aggregate keys (AggregateKeys).
	Flows     bool
	Columns   string   // comma-separated FlowColumns ("": the default)
	Sort      string   // FlowSortKeys ("": input order; aggregates: bytes)
	Limit     int      // rows at most (0: all); unsorted flows: reading stops there
	Aggregate []string // e.g. "srcip", "dstport", "srcnet/24"

	// The HTML report (instead of the rest) to stdout: the timeline at
	// Timeline (0: chosen from the time range), Top rows per table (0: 10).
	HTML       bool
	FilterText string // the filters as the user gave them, shown in the report

	// Pairing.
	Window      time.Duration // how far out of start-time order input may be (0: 15m)
	Tolerance   time.Duration // slack when matching the two directions in time (0: 2s)
	MaxBuffered int           // hard cap of flows held per stage (0: from MemoryBudget)
	// MemoryBudget bounds the memory of pairing (pending flows and
	// connections waiting for start order), in bytes (0: DefaultMemoryBudget).
	MemoryBudget int64

	// ClickHouse, when set, is read instead of Inputs (see ClickHouse).
	ClickHouse *ClickHouse

	Verbose   bool
	MaxErrors int           // messages per file about bad lines (0: 10; negative: none)
	Progress  io.Writer     // progress bar destination (a terminal), or nil
	Counter   *atomic.Int64 // bytes read, for a caller's own progress display
}

// DefaultMemoryBudget is the memory of pairing without Config.MemoryBudget.
const DefaultMemoryBudget = 256 << 20

// Summary counts what Run read and produced.
type Summary struct {
	Files                      int
	FilesPruned                int   // files not opened: their names' times lie outside Since/Until
	FilesFailed                int   // files of which nothing could be read (missing, unreadable, all damaged)
	FilesPartial               int   // files read only in part (damaged parts skipped, cut short, read errors)
	Damaged                    int64 // damaged stretches and cut members of compressed files
	Lines, SkippedLines        int64
	SkippedRecords             int64 // bad flow records inside good python-netflow lines
	Flows, Matched             int64
	Connections, Pairs, OneWay int64
	BelowMinPackets            int64
	Late                       int64 // connections printed out of start-time order
	ForcedOneWays, ForcedOut   int64 // pairing's memory budget was full: pending flows and connections let out early
	MaxBuffered                int   // what the budget allows per pairing stage
	Aggregates                 int64 // --aggregate: the distinct keys
	DNSLookups, DNSFailures    int64
	DNSUnreachable             bool
}

// Skipped reports whether any input was lost: unreadable or damaged files,
// bad lines or records.
func (s *Summary) Skipped() bool {
	return s.FilesFailed > 0 || s.FilesPartial > 0 || s.Damaged > 0 || s.SkippedLines > 0 || s.SkippedRecords > 0
}

// Run analyzes the inputs and writes the result to stdout and messages to
// stderr. It returns an error only when it could not do its job at all (bad
// configuration, output errors); damaged input is reported and counted instead.
func Run(cfg Config, stdout, stderr io.Writer) (Summary, error) {
	a := &run{cfg: cfg, stderr: stderr}
	return a.run(stdout)
}

type run struct {
	cfg    Config
	stderr io.Writer // messages; while a progress bar is shown, its writer
	sum    Summary

	scanner lineScanner
	py      pynetflow.Reader
	flow    Flow

	stats     []*statTable
	timeline  *timeline
	flowView  *flowView
	html      *htmlReport
	pairer    *pairer
	out       *connWriter
	outErr    error        // output error seen by the reading goroutine
	printErr  error        // output error of the printing goroutine
	flowsSeen atomic.Int64 // Summary.Flows, published for the progress bar
	stop      bool         // nothing more is wanted (--limit reached): reading ends
	stopFile  bool         // nothing more is wanted from this file (received after --until): its reading ends
	recvEnd   int64        // with --until: flows received after this end a rotated file's reading
	inRotated bool         // the file being read is a rotated file (its name has a time)
	// parquetSkipped counts the rows of Parquet row groups skipped by
	// their time statistics.
	parquetSkipped int64
	pq             *pqFile       // the fast Parquet reader's state, reused from file to file
	pqag           *pqAggregator // its counts by column batches
	names          *Names
	conns          chan Conn
	printed        chan struct{}
}

func (a *run) run(stdout io.Writer) (Summary, error) {
	if err := a.cfg.check(); err != nil {
		return a.sum, err
	}
	w := bufio.NewWriterSize(stdout, 1<<16)
	if a.cfg.Resolver != nil {
		a.names = NewNames(a.cfg.Resolver, a.cfg.DNSWorkers, a.cfg.DNSTimeout)
		defer a.names.Close()
	}
	for _, k := range a.cfg.StatKeys {
		a.stats = append(a.stats, newStatTable(k))
	}
	if a.cfg.HTML {
		a.html = newHTMLReport(a.cfg.Timeline)
		a.stats, a.cfg.Flows, a.cfg.Aggregate = nil, false, nil
	} else if a.cfg.Timeline > 0 {
		a.timeline = newTimeline(a.cfg.Timeline)
	}
	if a.cfg.Flows || len(a.cfg.Aggregate) > 0 {
		var err error
		if a.flowView, err = newFlowView(&a.cfg, w); err != nil {
			return a.sum, err
		}
	}
	connMode := len(a.stats) == 0 && a.timeline == nil && a.flowView == nil && a.html == nil
	if connMode {
		if err := a.startConnections(w); err != nil {
			return a.sum, err
		}
	}
	var err error
	if a.cfg.ClickHouse != nil {
		err = a.readClickHouse(connMode)
	} else {
		a.readOnlyUsed(connMode)
		a.cfg.Inputs, a.sum.FilesPruned = pruneByTime(a.cfg.Inputs, a.cfg.Since, a.cfg.Until, a.cfg.Window, a.cfg.Tolerance)
		if a.cfg.Until != 0 {
			// A rotated file holds its flows in the order received: once
			// flows come that were received two windows after --until, no
			// flow that starts before it follows.
			a.recvEnd = a.cfg.Until + 2*int64(a.cfg.Window)
		}
		a.readAll()
	}
	if err != nil {
		if connMode {
			a.endConnections()
		}
		w.Flush()
		return a.sum, err
	}
	switch {
	case connMode:
		a.endConnections()
	case a.flowView != nil:
		a.sum.Aggregates = int64(len(a.flowView.aggRecs))
		err = a.flowView.finish()
	case a.html != nil:
		var names func(*statTable, []StatRow)
		if a.names != nil {
			names = a.nameRows
		}
		d := a.html.data(&a.cfg, names)
		err = a.html.write(w, &d, a.cfg.Loc)
	default:
		err = a.writeCounts(w)
	}
	if ferr := w.Flush(); ferr != nil && a.outErr == nil {
		a.outErr = ferr
	}
	if err != nil {
		return a.sum, err
	}
	if a.names != nil {
		a.sum.DNSLookups = a.names.Lookups.Load()
		a.sum.DNSFailures = a.names.Failures.Load()
		a.sum.DNSUnreachable = a.names.Unreachable()
	}
	a.report()
	return a.sum, a.outErr
}

// check fills in the defaults of cfg and checks its values.
func (cfg *Config) check() error {
	cfg.Format = cmp.Or(cfg.Format, "auto")
	cfg.Output = cmp.Or(cfg.Output, "table")
	cfg.By = cmp.Or(cfg.By, "bytes")
	cfg.Window = cmp.Or(cfg.Window, 15*time.Minute)
	cfg.Tolerance = cmp.Or(cfg.Tolerance, 2*time.Second)
	cfg.MaxErrors = cmp.Or(cfg.MaxErrors, 10)
	cfg.DNSWorkers = max(cfg.DNSWorkers, 0)
	cfg.DNSWorkers = cmp.Or(cfg.DNSWorkers, 64)
	if cfg.DNSTimeout <= 0 {
		cfg.DNSTimeout = 2 * time.Second
	}
	if cfg.Loc == nil {
		cfg.Loc = time.Local
	}
	if cfg.Stdin == nil {
		cfg.Stdin = os.Stdin
	}
	if len(cfg.Inputs) == 0 {
		cfg.Inputs = []string{"-"}
	}
	switch {
	case !slices.Contains([]string{"auto", "json", "python-netflow"}, cfg.Format):
		return fmt.Errorf("unknown input format %q (want auto, json or python-netflow)", cfg.Format)
	case !slices.Contains([]string{"table", "csv", "json"}, cfg.Output):
		return fmt.Errorf("unknown output format %q (want table, csv or json)", cfg.Output)
	case !slices.Contains(StatOrders, cfg.By):
		return fmt.Errorf("unknown order %q (want bytes, packets or flows)", cfg.By)
	case cfg.Timeline < 0:
		return errors.New("--timeline interval must be positive")
	case cfg.Window < 0 || cfg.Tolerance < 0:
		return errors.New("the pairing window and tolerance must be positive")
	}
	for _, k := range cfg.StatKeys {
		if !slices.Contains(StatKeys, k) {
			return fmt.Errorf("unknown statistic %q (want one of %s)", k, strings.Join(StatKeys, ", "))
		}
	}
	return nil
}

// startConnections sets up the connection view: the pairer, and the writer
// of connections, in a goroutine of its own when names are resolved (so that
// reading goes on while they resolve).
func (a *run) startConnections(w *bufio.Writer) error {
	var names func(netip.Addr) string
	if a.names != nil {
		names = a.names.Name
	}
	var err error
	if a.out, err = newConnWriter(w, a.cfg.Output, a.cfg.Loc, names, a.cfg.Width); err != nil {
		return err
	}
	if a.names != nil {
		a.conns = make(chan Conn, 8192)
		a.printed = make(chan struct{})
		go func() {
			defer close(a.printed)
			for c := range a.conns {
				if a.printErr == nil {
					a.printErr = a.out.write(&c)
				}
			}
		}()
	}
	minPackets := a.cfg.MinPackets
	keep := func(c *Conn) bool {
		if c.A.Flags&flowMatched == 0 && (!c.HasB || c.B.Flags&flowMatched == 0) {
			return false
		}
		if c.Packets() < minPackets {
			a.sum.BelowMinPackets++
			return false
		}
		if a.names != nil {
			a.names.Prefetch(c.A.Src)
			a.names.Prefetch(c.A.Dst)
		}
		return true
	}
	maxBuf := a.cfg.MaxBuffered
	if maxBuf <= 0 {
		maxBuf = bufferedFor(cmp.Or(a.cfg.MemoryBudget, DefaultMemoryBudget))
	}
	a.pairer = newPairer(int64(a.cfg.Window), int64(a.cfg.Tolerance), maxBuf, keep, a.emit)
	return nil
}

// readOnlyUsed makes the scanner skip what this run does not use: the
// exporter, AS numbers and the other optional fields unless printed,
// filtered on or counted, and the version always.
func (a *run) readOnlyUsed(connMode bool) {
	cfg := &a.cfg
	need := cfg.Filter.needs()
	if a.flowView != nil {
		need |= a.flowView.acts()
	}
	if connMode && cfg.Output != "table" || slices.Contains(cfg.StatKeys, "exporter") || a.html != nil {
		need |= 1 << actExporter
	}
	if slices.ContainsFunc(cfg.StatKeys, func(k string) bool { return strings.HasSuffix(k, "as") }) {
		need |= 1<<actSrcAS | 1<<actDstAS
	}
	a.scanner.skip = optionalActs &^ need
}

// readAll reads every input, with a progress bar when asked for one; what
// goes to stderr meanwhile goes through the bar's writer.
func (a *run) readAll() {
	var prog *progressBar
	if a.cfg.Progress != nil || a.cfg.Counter != nil {
		prog = newProgressBar(a.cfg.Progress, a.cfg.Inputs, a.cfg.Counter, &a.flowsSeen)
		stderr := a.stderr
		a.stderr = prog.messages(stderr)
		defer func() {
			prog.stop()
			a.stderr = stderr
		}()
	}
	for _, name := range a.cfg.Inputs {
		a.readInput(name, prog)
		if a.outErr != nil || a.stop {
			break
		}
	}
}

// endConnections lets the last connections out and waits for them to be
// written.
func (a *run) endConnections() {
	a.pairer.flush()
	a.sum.Pairs, a.sum.OneWay, a.sum.Late = a.pairer.Pairs, a.pairer.OneWays, a.pairer.Late
	a.sum.ForcedOneWays, a.sum.ForcedOut, a.sum.MaxBuffered = a.pairer.ForcedOneWays, a.pairer.ForcedOut, a.pairer.maxBuf
	if a.conns != nil {
		close(a.conns)
		<-a.printed
		a.outErr = a.printErr
	}
	if err := a.out.flush(); err != nil && a.outErr == nil {
		a.outErr = err
	}
}

// writeCounts writes the statistics, then the timeline.
func (a *run) writeCounts(w *bufio.Writer) error {
	for i, t := range a.stats {
		rows := t.top(a.cfg.Top, a.cfg.By)
		if a.names != nil {
			a.nameRows(t, rows)
		}
		writeStats(w, a.cfg.Output, t, rows, a.cfg.By, i == 0, a.cfg.Width)
	}
	if a.timeline != nil {
		if len(a.stats) > 0 && a.cfg.Output == "table" {
			w.WriteString("\n")
		}
		return a.timeline.write(w, a.cfg.Output, a.cfg.By, a.cfg.Loc, a.cfg.Unicode, a.cfg.Width)
	}
	return nil
}

// nameRows resolves the addresses of the rows shown (all at once, then
// waiting for each).
func (a *run) nameRows(t *statTable, rows []StatRow) {
	for i := range rows {
		rows[i].addrs = t.addrsOf(i, rows)
		for _, ad := range rows[i].addrs {
			a.names.Prefetch(ad)
		}
	}
	for i := range rows {
		r := &rows[i]
		r.names = make([]string, len(r.addrs))
		parts := make([]string, len(r.addrs))
		resolved := false
		for k, ad := range r.addrs {
			r.names[k] = a.names.Name(ad)
			parts[k] = r.names[k]
			if parts[k] == "" {
				parts[k] = ad.String()
			} else {
				resolved = true
			}
		}
		if resolved {
			r.Name = strings.Join(parts, " <-> ")
		}
	}
}

func (a *run) emit(c *Conn) {
	a.sum.Connections++
	if a.conns != nil {
		a.conns <- *c
		return
	}
	if a.outErr == nil {
		a.outErr = a.out.write(c)
	}
}

// report prints the closing notes on stderr.
func (a *run) report() {
	s := &a.sum
	if s.BelowMinPackets > 0 {
		fmt.Fprintf(a.stderr, "%d connections skipped, because they had less than %d packets (this value can be set with the -p flag).\n",
			s.BelowMinPackets, a.cfg.MinPackets)
	}
	if s.ForcedOneWays > 0 || s.ForcedOut > 0 {
		fmt.Fprintf(a.stderr, "the pairing memory (--memory %s: %d flows per stage) was full: %d pending flows left unpaired before their time (their reverse may have come later) and %d connections were printed before their time; raise --memory\n",
			HumanSize(uint64(cmp.Or(a.cfg.MemoryBudget, DefaultMemoryBudget))), s.MaxBuffered, s.ForcedOneWays, s.ForcedOut)
	}
	if s.Late > 0 {
		fmt.Fprintf(a.stderr, "%d connections were printed out of start-time order: the input is more than --window (%v) out of order%s; raise --window\n",
			s.Late, a.cfg.Window, map[bool]string{true: ", or the pairing memory was full", false: ""}[s.ForcedOut > 0])
	}
	if s.DNSUnreachable {
		fmt.Fprintf(a.stderr, "name resolution stopped after %d lookups timed out in a row; the remaining addresses are shown unresolved (use -n to skip it)\n", maxTimeoutsInRow)
	}
	if a.cfg.Verbose {
		if a.cfg.ClickHouse != nil {
			fmt.Fprintf(a.stderr, "ClickHouse: %d flows with both addresses in the table, %d matched the filter\n", s.Flows, s.Matched)
		} else {
			fmt.Fprintf(a.stderr, "read %d files (%d failed), %d lines, %d flows, %d matched the filter\n",
				s.Files, s.FilesFailed, s.Lines, s.Flows, s.Matched)
		}
		if s.FilesPruned > 0 {
			fmt.Fprintf(a.stderr, "%d files not opened: the times in their names lie outside --since/--until\n", s.FilesPruned)
		}
		if a.pairer != nil {
			fmt.Fprintf(a.stderr, "%d connections shown: %d pairs and biflows, %d one-way flows before filtering; %d connections out of time order\n",
				s.Connections, s.Pairs, s.OneWay, s.Late)
		}
		if a.names != nil {
			fmt.Fprintf(a.stderr, "%d name lookups, %d without answer\n", s.DNSLookups, s.DNSFailures)
		}
	}
	if s.Skipped() {
		fmt.Fprintf(a.stderr, "skipped: %d bad lines, %d bad records, %d damaged or cut-off parts of compressed files; files: %d unreadable, %d read only in part\n",
			s.SkippedLines, s.SkippedRecords, s.Damaged, s.FilesFailed, s.FilesPartial)
	}
}

// inputState reports problems of one input.
type inputState struct {
	a      *run
	name   string
	shown  int
	lr     *lineReader
	broken bool // part of the input could not be read
}

func (in *inputState) msg(line int64, format string, args ...any) {
	in.shown++
	if limit := max(in.a.cfg.MaxErrors, 0); in.shown > limit && !in.a.cfg.Verbose {
		if in.shown == limit+1 {
			fmt.Fprintf(in.a.stderr, "%s: further problems in this file are counted but not shown (-v shows all)\n", in.name)
		}
		return
	}
	if line > 0 {
		fmt.Fprintf(in.a.stderr, "%s:%d: %s\n", in.name, line, fmt.Sprintf(format, args...))
	} else {
		fmt.Fprintf(in.a.stderr, "%s: %s\n", in.name, fmt.Sprintf(format, args...))
	}
}

// readInput reads one input: a file, or standard input ("-").
func (a *run) readInput(name string, prog *progressBar) {
	a.sum.Files++
	_, a.inRotated = fileStamp(name)
	in := &inputState{a: a, name: name}
	var raw io.Reader
	if name == "-" {
		raw = a.cfg.Stdin
		in.name = "<stdin>"
	} else {
		f, err := os.Open(name)
		if err != nil {
			a.sum.FilesFailed++
			fmt.Fprintf(a.stderr, "%v\n", err)
			return
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			a.sum.FilesFailed++
			fmt.Fprintf(a.stderr, "%s: is a directory\n", name)
			return
		}
		raw = f
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && isParquet(f) {
			a.readParquet(in, f, st.Size())
			a.account(in)
			return
		}
		if mem := mapRegular(f); mem != nil {
			defer unmapFile(mem)
			var counter *atomic.Int64
			if prog != nil {
				counter = prog.counter
			}
			in.lr = newMemLineReader(mem, counter)
			if a.readMapped(in) {
				in.broken = true
				in.msg(0, "after line %d: the file shrank while it was read; the rest of the file is skipped", in.lr.line)
			}
			a.account(in)
			return
		}
	}
	if prog != nil {
		raw = countingReader{raw, prog.counter}
	}
	// The compression is told from what the first read brought (at least 4
	// bytes), so that a slow pipe is not waited on.
	br := bufio.NewReaderSize(raw, sniffLen)
	br.Peek(len(zstdMagic))
	head, _ := br.Peek(br.Buffered())
	var r io.Reader = br
	if c := sniff(head); c != codecPlain {
		cr := newChunkReader(br, c, func(m string) { in.msg(0, "%s", m) })
		defer func() {
			cr.Close()
			a.sum.Damaged += int64(cr.Damaged)
			if cr.Damaged > 0 {
				in.broken = true
			}
			a.account(in)
		}()
		r = cr
	} else {
		defer a.account(in)
	}
	in.lr = newLineReader(r)
	a.readLines(in)
}

// account counts an input that could be read only in part, or not at all.
func (a *run) account(in *inputState) {
	switch {
	case !in.broken:
	case in.lr.line == 0:
		a.sum.FilesFailed++
	default:
		a.sum.FilesPartial++
	}
}

// mapRegular maps f if it is a regular file that is not compressed, else
// returns nil.
func mapRegular(f *os.File) []byte {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil
	}
	mem := mapFile(f, st.Size())
	if mem == nil {
		return nil
	}
	if sniff(mem[:min(len(mem), sniffLen)]) != codecPlain {
		unmapFile(mem)
		return nil
	}
	return mem
}

// readMapped reads the lines of a mapped file. It reports whether reading
// faulted because the file shrank under the mapping (it is read as far as it
// could be).
func (a *run) readMapped(in *inputState) (faulted bool) {
	mem := in.lr.mem
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(interface{ Addr() uintptr })
			base := uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
			if !ok || e.Addr() < base || e.Addr()-base >= uintptr(len(mem)) {
				panic(r)
			}
			faulted = true
		}
	}()
	a.readLines(in)
	return false
}

// fusedMax bounds how far ahead a line is read in place.
const fusedMax = 64 << 10

func (a *run) readLines(in *inputState) {
	fused := a.cfg.Format != "python-netflow"
	a.stopFile = false
	defer func() { a.stopFile = false }()
	for !a.stop && !a.stopFile {
		if rest := in.lr.rest(); fused && len(rest) > 0 {
			// A line as nfcollect writes it is read in place, its end found as
			// it is read rather than by a search for the newline first. The
			// fast path looks at most 64 KiB ahead: longer lines, and damaged
			// ones (an unterminated string), go the usual way.
			if len(rest) > fusedMax {
				rest = rest[:fusedMax]
			}
			if n, ok := a.scanner.scanPrefix(rest, &a.flow); ok && (n == len(rest) && n < fusedMax || n < len(rest) && rest[n] == '\n') {
				in.lr.consume(min(n+1, len(rest)))
				a.sum.Lines++
				a.handle(&a.flow)
				continue
			}
		}
		line, err := in.lr.next()
		if err == io.EOF {
			return
		}
		if err == errLongLine {
			a.sum.Lines++
			a.sum.SkippedLines++
			in.msg(in.lr.line, "%v, skipped", err)
			continue
		}
		if err != nil {
			in.broken = true
			in.msg(0, "after line %d: %v; the rest of the file is skipped", in.lr.line, err)
			return
		}
		a.sum.Lines++
		a.line(in, line)
	}
}

// line handles one input line.
func (a *run) line(in *inputState, line []byte) {
	if len(line) == 0 || isBlank(line) {
		return
	}
	py := a.cfg.Format == "python-netflow" || a.cfg.Format == "auto" && isPythonLine(line)
	if !py {
		if err := a.scanner.scan(line, &a.flow); err != nil {
			if isNotIP(err, line) {
				return
			}
			a.sum.SkippedLines++
			in.msg(in.lr.line, "%v, line skipped", err)
			return
		}
		a.handle(&a.flow)
		return
	}
	recErrs, err := a.py.ReadLine(line, a.handlePy)
	if err != nil {
		a.sum.SkippedLines++
		in.msg(in.lr.line, "%v, line skipped", err)
		return
	}
	for _, e := range recErrs {
		a.sum.SkippedRecords++
		in.msg(in.lr.line, "%v, record skipped", e)
	}
}

// handlePy takes a flow of a python-netflow line through handle.
func (a *run) handlePy(p *pynetflow.Flow) {
	f := &a.flow
	*f = Flow{Start: p.Start, End: p.End, Received: p.Received, Bytes: p.Bytes, Packets: p.Packets,
		RevBytes: p.RevBytes, RevPackets: p.RevPackets, Flows: p.Flows, Src: p.Src, Dst: p.Dst, Exporter: p.Exporter,
		SrcAS: p.SrcAS, DstAS: p.DstAS, SrcPort: p.SrcPort, DstPort: p.DstPort, Proto: p.Proto, Version: p.Version}
	if p.HasStart {
		f.Flags |= flowHasStart
	}
	if p.HasEnd {
		f.Flags |= flowHasEnd
	}
	if p.Biflow {
		f.Flags |= flowBiflow
	}
	f.fixTimes()
	a.handle(f)
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// handle takes one flow through filter, statistics and pairing.
func (a *run) handle(f *Flow) {
	if a.recvEnd != 0 && f.Received > a.recvEnd && a.inRotated {
		a.stopFile = true
	}
	a.sum.Flows++
	if a.sum.Flows&4095 == 0 {
		a.flowsSeen.Store(a.sum.Flows)
	}
	if f.Src.Is4In6() {
		f.Src = f.Src.Unmap()
	}
	if f.Dst.Is4In6() {
		f.Dst = f.Dst.Unmap()
	}
	match := a.cfg.Filter.Match(f)
	if match {
		a.sum.Matched++
		f.Flags |= flowMatched
	}
	if a.pairer != nil {
		// Non-matching flows still pair, so a connection shows when either direction matches.
		a.pairer.add(f)
		return
	}
	if !match {
		return
	}
	if a.flowView != nil {
		a.flowView.add(f)
		if a.flowView.done {
			a.stop = true
		}
		return
	}
	if a.html != nil {
		a.html.add(f)
		return
	}
	for _, t := range a.stats {
		t.add(f)
	}
	if a.timeline != nil {
		a.timeline.add(f)
	}
}
