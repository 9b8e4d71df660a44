// Command benchtable turns `go test -bench` output (several runs of each
// benchmark, e.g. -count 10) into the Markdown tables of the README:
//
//   - BenchmarkCompare/<version>/<impl> (bench/goflow2): per version and
//     implementation, the median ns/flow with benchstat's 95% confidence
//     interval, the min–max spread, flows/s per core, B/op, allocs/op and
//     the ratio of goflow2's median ns/flow to nfkit's, with the
//     Mann-Whitney U-test p-value benchstat would print;
//   - every other benchmark in the input (nfkit's own decode benchmarks):
//     median ns/op, ns/flow where reported, B/op and allocs/op;
//
// headed by the machine the runs were made on (goos/goarch/cpu from the
// benchmark header, and the nproc, go-version, date and loadavg lines that
// scripts/bench.sh writes at the top of the file).
//
//	benchtable [-o table.md] [bench.txt ...]    # stdin when no file is named
package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

func main() {
	out := flag.String("o", "", "write the Markdown to this file instead of stdout")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: benchtable [-o table.md] [bench.txt ...]\n")
		flag.PrintDefaults()
	}
	flag.Parse()

	var rep *report
	var err error
	if flag.NArg() == 0 {
		rep, err = parse(newReport(), os.Stdin, "stdin")
	} else {
		rep = newReport()
		for _, name := range flag.Args() {
			f, ferr := os.Open(name)
			if ferr != nil {
				fatal(ferr)
			}
			rep, err = parse(rep, f, name)
			f.Close()
			if err != nil {
				break
			}
		}
	}
	if err != nil {
		fatal(err)
	}
	if len(rep.order) == 0 {
		fatal(fmt.Errorf("no benchmark results in the input"))
	}

	var w io.Writer = os.Stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			fatal(err)
		}
		w = f
	}
	if err := render(w, rep); err != nil {
		fatal(err)
	}
	if f != nil {
		if err := f.Close(); err != nil {
			fatal(err)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "benchtable:", err)
	os.Exit(1)
}

// series holds every run of one benchmark (full name without the
// GOMAXPROCS suffix, in one package).
type series struct {
	pkg, name  string
	base       string   // base name without "Benchmark", e.g. "Compare"
	parts      []string // positional sub-names, e.g. ["v9", "nfkit"]
	procs      string   // GOMAXPROCS, from the name's suffix
	iters      []int
	units      map[string][]float64 // original units: ns/op, ns/flow, B/op, allocs/op, MB/s
	unitsOrder []string
}

type report struct {
	config map[string]string // first value seen of each file config key
	extra  map[string][]string
	byKey  map[string]*series
	order  []*series
}

func newReport() *report {
	return &report{config: map[string]string{}, extra: map[string][]string{}, byKey: map[string]*series{}}
}

// parse reads benchmark results from r into rep.
func parse(rep *report, r io.Reader, fileName string) (*report, error) {
	br := benchfmt.NewReader(r, fileName)
	for br.Scan() {
		res, ok := br.Result().(*benchfmt.Result)
		if !ok {
			continue // syntax errors (test log lines) and unit metadata
		}
		for _, c := range res.Config {
			if !c.File {
				continue
			}
			v := string(c.Value)
			if old, seen := rep.config[c.Key]; !seen {
				rep.config[c.Key] = v
			} else if old != v && !slices.Contains(rep.extra[c.Key], v) {
				rep.extra[c.Key] = append(rep.extra[c.Key], v)
			}
		}
		base, rawParts := res.Name.Parts()
		var parts []string
		procs := ""
		for _, p := range rawParts {
			s := string(p)
			switch {
			case strings.HasPrefix(s, "-"):
				procs = s[1:]
			default:
				parts = append(parts, strings.TrimPrefix(s, "/"))
			}
		}
		if procs == "" {
			procs = "1" // the testing package omits a "-1" suffix
		}
		pkg := res.GetConfig("pkg")
		name := string(base)
		for _, p := range parts {
			name += "/" + p
		}
		key := pkg + "\x00" + name
		s := rep.byKey[key]
		if s == nil {
			s = &series{pkg: pkg, name: name, base: string(base), parts: parts, procs: procs, units: map[string][]float64{}}
			rep.byKey[key] = s
			rep.order = append(rep.order, s)
		}
		s.iters = append(s.iters, res.Iters)
		for _, v := range res.Values {
			unit, val := v.Unit, v.Value
			if v.OrigUnit != "" {
				unit, val = v.OrigUnit, v.OrigValue
			}
			if _, ok := s.units[unit]; !ok {
				s.unitsOrder = append(s.unitsOrder, unit)
			}
			s.units[unit] = append(s.units[unit], val)
		}
	}
	return rep, br.Err()
}

// stat summarizes one unit of a series the way benchstat does (median and
// its 95% confidence interval, assuming nothing about the distribution),
// plus the minimum and maximum.
type stat struct {
	n                  int
	median, lo, hi     float64 // lo/hi: confidence interval
	min, max           float64
	sample             *benchmath.Sample
	confidenceInterval string // benchstat's "± x%"
}

func (s *series) stat(unit string) (stat, bool) {
	vs := s.units[unit]
	if len(vs) == 0 {
		return stat{}, false
	}
	sample := benchmath.NewSample(slices.Clone(vs), &benchmath.DefaultThresholds)
	sum := benchmath.AssumeNothing.Summary(sample, 0.95)
	return stat{
		n: len(vs), median: sum.Center, lo: sum.Lo, hi: sum.Hi,
		min: sample.Values[0], max: sample.Values[len(sample.Values)-1],
		sample: sample, confidenceInterval: "± " + sum.PctRangeString(),
	}, true
}

// num formats v: whole numbers with thousands separators from 100 up,
// one or two decimals below.
func num(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "?"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func group(s string) string {
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

// count formats a whole-number measurement (B/op, allocs/op).
func count(v float64) string {
	return group(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
}

// rate formats a per-second rate with an SI prefix.
func rate(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2f G", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

// integerish formats B/op and allocs/op: the median, and the range when
// runs differ.
func integerish(st stat, ok bool) string {
	if !ok {
		return "—"
	}
	s := count(st.median)
	if st.min != st.max {
		s += fmt.Sprintf(" (%s–%s)", count(st.min), count(st.max))
	}
	return s
}

var versionOrder = []string{"v5", "v9", "ipfix", "v9-softflowd"}

func rank(list []string, s string) int {
	if i := slices.Index(list, s); i >= 0 {
		return i
	}
	return len(list)
}

func render(w io.Writer, rep *report) error {
	var b strings.Builder
	cfg := func(k string) string {
		v := rep.config[k]
		if v == "" {
			v = "unknown"
		}
		if extra := rep.extra[k]; len(extra) > 0 {
			v += " (also " + strings.Join(extra, ", ") + ")"
		}
		return v
	}

	// Runs per benchmark and GOMAXPROCS, for the header.
	runs, procs := map[int]bool{}, map[string]bool{}
	for _, s := range rep.order {
		runs[len(s.iters)] = true
		procs[s.procs] = true
	}

	fmt.Fprintf(&b, "Machine: %s/%s, %s, %s cores (nproc), GOMAXPROCS %s, %s",
		cfg("goos"), cfg("goarch"), cfg("cpu"), cfg("nproc"), joinKeys(procs), cfg("go-version"))
	if d := rep.config["date"]; d != "" {
		fmt.Fprintf(&b, ", %s", d)
	}
	b.WriteString(".  \n")
	fmt.Fprintf(&b, "Runs per benchmark: %s", joinInts(runs))
	if bt := rep.config["benchtime"]; bt != "" {
		fmt.Fprintf(&b, ", -benchtime %s each", bt)
	}
	if la := rep.config["loadavg"]; la != "" {
		fmt.Fprintf(&b, "; load average before the run: %s", la)
	}
	b.WriteString(".\n\n")

	// The comparison table.
	var cmpRows []*series
	for _, s := range rep.order {
		if s.base == "Compare" && len(s.parts) == 2 {
			cmpRows = append(cmpRows, s)
		}
	}
	slices.SortStableFunc(cmpRows, func(a, c *series) int {
		return cmp.Compare(rank(versionOrder, a.parts[0]), rank(versionOrder, c.parts[0]))
	})
	nfkit := map[string]*series{}
	for _, s := range cmpRows {
		if s.parts[1] == "nfkit" {
			nfkit[s.parts[0]] = s
		}
	}
	if len(cmpRows) > 0 {
		b.WriteString("Decoding the same packets (internal/benchpkt), one core; ns/flow is ns/op ÷ records per packet, B/op and allocs/op are per packet.\n\n")
		b.WriteString("| packet | implementation | ns/flow (median ± 95% CI) | min–max ns/flow | flows/s per core | B/op | allocs/op | goflow2 ÷ nfkit |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|\n")
		for _, s := range cmpRows {
			nf, ok := s.stat("ns/flow")
			if !ok {
				continue
			}
			ratio := "—"
			if ref := nfkit[s.parts[0]]; ref != nil && ref != s {
				if rs, ok := ref.stat("ns/flow"); ok && rs.median > 0 {
					c := benchmath.AssumeNothing.Compare(rs.sample, nf.sample)
					ratio = fmt.Sprintf("%s× (%s)", num(nf.median/rs.median), c)
				}
			} else if ref == s {
				ratio = "1×"
			}
			bop, bok := s.stat("B/op")
			aop, aok := s.stat("allocs/op")
			fmt.Fprintf(&b, "| %s | %s | %s %s | %s–%s | %s | %s | %s | %s |\n",
				s.parts[0], s.parts[1], num(nf.median), nf.confidenceInterval,
				num(nf.min), num(nf.max), rate(1e9/nf.median),
				integerish(bop, bok), integerish(aop, aok), ratio)
		}
		b.WriteString("\n")
	}

	renderCaptures(&b, rep, cmpRows)
	renderTemplates(&b, rep)

	// Every other benchmark.
	var others []*series
	for _, s := range rep.order {
		switch {
		case s.base == "Compare" && len(s.parts) == 2,
			s.base == "Captures" && len(s.parts) == 2,
			s.base == "Templates" && len(s.parts) == 3:
			continue
		}
		others = append(others, s)
	}
	if len(others) > 0 {
		b.WriteString("Other benchmarks in the same run:\n\n")
		b.WriteString("| package | benchmark | ns/op (median ± 95% CI) | min–max ns/op | ns/flow | B/op | allocs/op |\n")
		b.WriteString("|---|---|--:|--:|--:|--:|--:|\n")
		for _, s := range others {
			op, ok := s.stat("ns/op")
			if !ok {
				continue
			}
			flow := "—"
			if nf, ok := s.stat("ns/flow"); ok {
				flow = num(nf.median)
			}
			bop, bok := s.stat("B/op")
			aop, aok := s.stat("allocs/op")
			fmt.Fprintf(&b, "| %s | %s | %s %s | %s–%s | %s | %s | %s |\n",
				shortPkg(s.pkg), s.name, num(op.median), op.confidenceInterval,
				num(op.min), num(op.max), flow, integerish(bop, bok), integerish(aop, aok))
		}
		b.WriteString("\n")
	}

	b.WriteString("Statistics as benchstat computes them: the median of the runs with its 95% confidence interval " +
		"(distribution-free, so ± ∞ with fewer than 6 runs), and for the ratio the Mann-Whitney U-test p-value against nfkit " +
		"(p < 0.05: the difference is significant). " +
		"Absolute times on shared machines drift run to run; compare ratios from one run. " +
		"For benchstat's own view: `go tool benchstat bench/results/bench.txt` (from bench/goflow2), " +
		"or `benchstat old.txt new.txt` to compare two runs.\n")

	_, err := io.WriteString(w, b.String())
	return err
}

func shortPkg(p string) string {
	return strings.TrimPrefix(p, "github.com/nfkit/nfkit/")
}

func joinKeys(m map[string]bool) string {
	if len(m) == 0 {
		return "unknown"
	}
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

func joinInts(m map[int]bool) string {
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	ss := make([]string, len(ks))
	for i, k := range ks {
		ss[i] = strconv.Itoa(k)
	}
	return strings.Join(ss, ", ")
}

// ratioCell is goflow2's median over nfkit's for one unit, with the U-test
// p-value, and the ratio itself (0 when either is missing).
func ratioCell(nfkit, peer *series, unit string) (string, float64) {
	if nfkit == nil || peer == nil {
		return "—", 0
	}
	a, aok := nfkit.stat(unit)
	g, gok := peer.stat(unit)
	if !aok || !gok || a.median <= 0 {
		return "—", 0
	}
	r := g.median / a.median
	return fmt.Sprintf("%s× (%s)", num(r), benchmath.AssumeNothing.Compare(a.sample, g.sample)), r
}

// geomean returns the geometric mean of vs.
func geomean(vs []float64) float64 {
	sum := 0.0
	for _, v := range vs {
		sum += math.Log(v)
	}
	return math.Exp(sum / float64(len(vs)))
}

// renderCaptures writes the table of BenchmarkCaptures/<capture>/<impl>:
// per real capture, nfkit's and goflow2's ns/flow and ns/packet and their
// ratio, then the geometric mean of the ratios beside the synthetic
// packets' (BenchmarkCompare).
func renderCaptures(b *strings.Builder, rep *report, cmpRows []*series) {
	type row struct{ nfkit, goflow2 *series }
	rows := map[string]*row{}
	var names []string
	for _, s := range rep.order {
		if s.base != "Captures" || len(s.parts) != 2 {
			continue
		}
		r := rows[s.parts[0]]
		if r == nil {
			r = &row{}
			rows[s.parts[0]] = r
			names = append(names, s.parts[0])
		}
		switch s.parts[1] {
		case "nfkit":
			r.nfkit = s
		case "goflow2-decoder":
			r.goflow2 = s
		}
	}
	if len(names) == 0 {
		return
	}
	slices.Sort(names)
	b.WriteString("Decoding real exporters' captures (testdata/*.pcap, every packet in capture order, templates and options as the exporter sent them), one core:\n\n")
	b.WriteString("| capture | flows/packet | nfkit ns/flow (median ± 95% CI) | nfkit ns/packet | goflow2 ns/flow | goflow2 ns/packet | goflow2 ÷ nfkit (ns/flow) |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|\n")
	var ratios []float64
	minName, minRatio := "", math.Inf(1)
	for _, name := range names {
		r := rows[name]
		if r.nfkit == nil {
			continue
		}
		nf, ok := r.nfkit.stat("ns/flow")
		if !ok {
			continue
		}
		np, _ := r.nfkit.stat("ns/packet")
		perPacket := "—"
		if nf.median > 0 {
			perPacket = num(np.median / nf.median)
		}
		gf, gp := "—", "—"
		if r.goflow2 != nil {
			if st, ok := r.goflow2.stat("ns/flow"); ok {
				gf = num(st.median)
			}
			if st, ok := r.goflow2.stat("ns/packet"); ok {
				gp = num(st.median)
			}
		}
		cell, ratio := ratioCell(r.nfkit, r.goflow2, "ns/flow")
		if ratio > 0 {
			ratios = append(ratios, ratio)
			if ratio < minRatio {
				minName, minRatio = name, ratio
			}
		} else if r.goflow2 == nil {
			cell = "— (goflow2 has no v1/v7 decoder; sFlow: see BenchmarkSFlow)"
			if strings.Contains(name, "sflow") {
				cell = "— (sFlow: BenchmarkSFlow below)"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s %s | %s | %s | %s | %s |\n",
			name, perPacket, num(nf.median), nf.confidenceInterval, num(np.median), gf, gp, cell)
	}
	b.WriteString("\n")
	if len(ratios) > 0 {
		fmt.Fprintf(b, "**Real captures: nfkit is %s× faster than goflow2's decoder (geometric mean over %d captures), %s× at least (%s).**",
			num(geomean(ratios)), len(ratios), num(minRatio), minName)
		nfkit := map[string]*series{}
		var peers []*series
		for _, s := range cmpRows {
			if s.parts[1] == "nfkit" {
				nfkit[s.parts[0]] = s
			} else if s.parts[1] == "goflow2-decoder" {
				peers = append(peers, s)
			}
		}
		var synth []float64
		for _, p := range peers {
			if _, r := ratioCell(nfkit[p.parts[0]], p, "ns/flow"); r > 0 {
				synth = append(synth, r)
			}
		}
		if len(synth) > 0 {
			fmt.Fprintf(b, " On the synthetic packets of the first table: %s× (geometric mean over %d).", num(geomean(synth)), len(synth))
		}
		b.WriteString("\n\n")
	}
}

// renderTemplates writes the table of BenchmarkTemplates/<capture>/<op>/<impl>.
func renderTemplates(b *strings.Builder, rep *report) {
	type key struct{ capture, op string }
	type row struct{ nfkit, goflow2 *series }
	rows := map[key]*row{}
	var keys []key
	for _, s := range rep.order {
		if s.base != "Templates" || len(s.parts) != 3 {
			continue
		}
		k := key{s.parts[0], s.parts[1]}
		r := rows[k]
		if r == nil {
			r = &row{}
			rows[k] = r
			keys = append(keys, k)
		}
		switch s.parts[2] {
		case "nfkit":
			r.nfkit = s
		case "goflow2-decoder":
			r.goflow2 = s
		}
	}
	if len(keys) == 0 {
		return
	}
	opOrder := []string{"learn", "learn-8", "redefine", "redefine-nocache", "resend"}
	slices.SortStableFunc(keys, func(a, c key) int {
		if n := cmp.Compare(a.capture, c.capture); n != 0 {
			return n
		}
		return cmp.Compare(rank(opOrder, a.op), rank(opOrder, c.op))
	})
	b.WriteString("Templates of the same captures (the template sets of the first packet that has some): learn (new state), learn-8 (new state, the same templates from 8 exporters), redefine (each ID alternately gets two definitions), redefine-nocache (the same without nfkit's cache of replaced templates: every record compiles again; goflow2 runs redefine again), resend (unchanged); per template record, one core:\n\n")
	b.WriteString("| capture | operation | nfkit ns/template | nfkit allocs/template | goflow2 ns/template | goflow2 allocs/template | goflow2 ÷ nfkit |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|\n")
	perTemplate := func(s *series) (string, string) {
		if s == nil {
			return "—", "—"
		}
		nt, ok := s.stat("ns/template")
		if !ok {
			return "—", "—"
		}
		op, _ := s.stat("ns/op")
		al, aok := s.stat("allocs/op")
		allocs := "—"
		if aok && nt.median > 0 {
			allocs = num(al.median / (op.median / nt.median))
		}
		return num(nt.median), allocs
	}
	for _, k := range keys {
		r := rows[k]
		nt, na := perTemplate(r.nfkit)
		gt, ga := perTemplate(r.goflow2)
		cell, _ := ratioCell(r.nfkit, r.goflow2, "ns/template")
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", k.capture, k.op, nt, na, gt, ga, cell)
	}
	b.WriteString("\n")
}
