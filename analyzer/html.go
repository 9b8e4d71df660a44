package analyzer

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"time"
)

// The HTML report (--html FILE): one self-contained page (styles, script and
// SVG charts inline, nothing fetched when it is opened) with the traffic
// over time stacked by protocol, the top talkers, destinations, services,
// conversations and exporters, and the filter and time range it was made
// from. The charts are SVG written here, in Go: no JavaScript library to
// vendor, the page reads the same without script and prints as it shows;
// the little script there is sorts the tables by a click on a column.
// The numbers are those of --top and --timeline on the same input (the same
// code counts them), also embedded as JSON for tools and tests.

// htmlTop are the tables of the report: statistic key and title.
var htmlTop = []struct{ key, title string }{
	{"src", "Top talkers (sources)"},
	{"dst", "Top destinations"},
	{"service", "Top services"},
	{"pair", "Top conversations"},
	{"exporter", "Exporters"},
}

// protoGroups are the stacks of the traffic chart.
var protoGroups = []struct {
	name, color string
}{{"TCP", "#1f77b4"}, {"UDP", "#ff7f0e"}, {"ICMP", "#2ca02c"}, {"other", "#9467bd"}}

func protoGroup(p uint8) int {
	switch p {
	case 6:
		return 0
	case 17:
		return 1
	case 1, 58:
		return 2
	}
	return 3
}

// htmlReport gathers what the report shows.
type htmlReport struct {
	tables   []*statTable
	total    statAgg
	first    int64 // flow starts seen
	last     int64
	interval int64                 // of the timeline
	auto     bool                  // the interval is chosen at the end
	buckets  map[int64]*[4]statAgg // by bucket start, by protocol group
}

// htmlBaseMax bounds the buckets gathered before the interval is chosen:
// past it they are merged into hours.
const htmlBaseMax = 100_000

func newHTMLReport(interval time.Duration) *htmlReport {
	r := &htmlReport{interval: int64(interval), buckets: map[int64]*[4]statAgg{}}
	if interval <= 0 {
		r.interval, r.auto = int64(time.Minute), true
	}
	for _, t := range htmlTop {
		r.tables = append(r.tables, newStatTable(t.key))
	}
	return r
}

func bucketOf(t, interval int64) int64 { return t - ((t%interval)+interval)%interval }

func (r *htmlReport) add(f *Flow) {
	for _, t := range r.tables {
		t.add(f)
	}
	if r.total.flows == 0 {
		r.first, r.last = f.Start, f.Start
	}
	r.first, r.last = min(r.first, f.Start), max(r.last, f.Start)
	r.total.add(f)
	b := bucketOf(f.Start, r.interval)
	a := r.buckets[b]
	if a == nil {
		a = new([4]statAgg)
		r.buckets[b] = a
		if r.auto && len(r.buckets) > htmlBaseMax && r.interval < int64(time.Hour) {
			r.coarsen(int64(time.Hour))
			a = r.buckets[bucketOf(f.Start, r.interval)]
		}
	}
	a[protoGroup(f.Proto)].add(f)
}

// coarsen merges the buckets into buckets of interval (a multiple of the
// current one; both aligned to the Unix epoch, so that the sums are those
// counted at that interval directly).
func (r *htmlReport) coarsen(interval int64) {
	if interval == r.interval {
		return
	}
	m := make(map[int64]*[4]statAgg, len(r.buckets)/int(interval/r.interval)+1)
	for b, a := range r.buckets {
		nb := bucketOf(b, interval)
		t := m[nb]
		if t == nil {
			t = new([4]statAgg)
			m[nb] = t
		}
		for g := range a {
			t[g].flows += a[g].flows
			t[g].packets += a[g].packets
			t[g].bytes += a[g].bytes
		}
	}
	r.buckets, r.interval = m, interval
}

// autoIntervals are the intervals the report chooses from: the smallest that
// makes at most 150 bars.
var autoIntervals = []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

// HTMLData is the report's numbers, embedded in the page as JSON
// (script#nfanalyze-data).
type HTMLData struct {
	Filter     string       `json:"filter"`
	Inputs     []string     `json:"inputs"`
	First      string       `json:"first,omitempty"`
	Last       string       `json:"last,omitempty"`
	Flows      uint64       `json:"flows"`
	Packets    uint64       `json:"packets"`
	Bytes      uint64       `json:"bytes"`
	IntervalNS int64        `json:"interval_ns"`
	Timeline   []HTMLBucket `json:"timeline"`
	Tables     []HTMLTable  `json:"tables"`
	Protocols  []string     `json:"protocols"`
	Generated  string       `json:"generated"`
}

// HTMLBucket is one bar of the traffic chart: per protocol group (Protocols).
type HTMLBucket struct {
	TimeNS  int64    `json:"time_ns"`
	Flows   []uint64 `json:"flows"`
	Packets []uint64 `json:"packets"`
	Bytes   []uint64 `json:"bytes"`
}

// HTMLTable is a top-N table.
type HTMLTable struct {
	Key   string    `json:"key"`
	Title string    `json:"title"`
	Rows  []StatRow `json:"rows"`
}

func (r *htmlReport) data(cfg *Config, names func(*statTable, []StatRow)) HTMLData {
	d := HTMLData{Filter: cfg.FilterText, Inputs: cfg.Inputs, Flows: r.total.flows, Packets: r.total.packets, Bytes: r.total.bytes,
		Generated: time.Now().UTC().Format(time.RFC3339)}
	for _, g := range protoGroups {
		d.Protocols = append(d.Protocols, g.name)
	}
	if r.total.flows > 0 {
		d.First = time.Unix(0, r.first).In(cfg.Loc).Format("2006-01-02 15:04:05 MST")
		d.Last = time.Unix(0, r.last).In(cfg.Loc).Format("2006-01-02 15:04:05 MST")
	}
	if r.auto && len(r.buckets) > 0 {
		span := bucketOf(r.last, r.interval) - bucketOf(r.first, r.interval)
		for _, iv := range autoIntervals {
			if int64(iv) >= r.interval && (span/int64(iv)+1 <= 150 || iv == autoIntervals[len(autoIntervals)-1]) {
				r.coarsen(int64(iv))
				break
			}
		}
	}
	d.IntervalNS = r.interval
	if len(r.buckets) > 0 {
		lo, hi := bucketOf(r.first, r.interval), bucketOf(r.last, r.interval)
		for b := lo; b <= hi && (b-lo)/r.interval < maxBuckets; b += r.interval {
			hb := HTMLBucket{TimeNS: b, Flows: make([]uint64, 4), Packets: make([]uint64, 4), Bytes: make([]uint64, 4)}
			if a := r.buckets[b]; a != nil {
				for g := range a {
					hb.Flows[g], hb.Packets[g], hb.Bytes[g] = a[g].flows, a[g].packets, a[g].bytes
				}
			}
			d.Timeline = append(d.Timeline, hb)
		}
	}
	for i, t := range r.tables {
		rows := t.top(cmp0(cfg.Top, 10), "bytes")
		if names != nil {
			names(t, rows)
		}
		d.Tables = append(d.Tables, HTMLTable{Key: htmlTop[i].key, Title: htmlTop[i].title, Rows: rows})
	}
	return d
}

func cmp0(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// write writes the page.
func (r *htmlReport) write(w *bufio.Writer, d *HTMLData, loc *time.Location) error {
	esc := html.EscapeString
	title := "nfanalyze report"
	if d.First != "" {
		title += ": " + d.First + " to " + d.Last
	}
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width\">\n<title>%s</title>\n<style>%s</style></head>\n<body>\n", esc(title), htmlCSS)
	fmt.Fprintf(w, "<h1>nfanalyze report</h1>\n<table class=\"meta\">\n")
	filter := d.Filter
	if filter == "" {
		filter = "(none: every flow)"
	}
	meta := [][2]string{
		{"Flows", fmt.Sprintf("%d flows, %d packets, %s (%d bytes)", d.Flows, d.Packets, HumanSize(d.Bytes), d.Bytes)},
		{"Time range", fmt.Sprintf("%s to %s (flow starts)", cmpStr(d.First, "-"), cmpStr(d.Last, "-"))},
		{"Filter", filter},
		{"Input", strings.Join(d.Inputs, ", ")},
		{"Made", d.Generated + " by nfanalyze"},
	}
	for _, m := range meta {
		fmt.Fprintf(w, "<tr><th>%s</th><td>%s</td></tr>\n", esc(m[0]), esc(m[1]))
	}
	fmt.Fprintf(w, "</table>\n")
	iv := time.Duration(d.IntervalNS)
	for _, measure := range []string{"bytes", "packets"} {
		fmt.Fprintf(w, "<h2>Traffic over time: %s per %v, by protocol</h2>\n", measure, iv)
		writeChart(w, d, measure, loc)
	}
	for _, t := range d.Tables {
		writeTopTable(w, &t, d)
	}
	// The numbers for tools (and the tests); "</" cannot occur in it: json
	// escapes < > &.
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "<script type=\"application/json\" id=\"nfanalyze-data\">%s</script>\n<script>%s</script>\n</body></html>\n", data, htmlJS)
	return nil
}

func cmpStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeChart draws a stacked bar chart of the timeline as SVG.
func writeChart(w *bufio.Writer, d *HTMLData, measure string, loc *time.Location) {
	const width, height, left, bottom, top = 960, 260, 70, 40, 10
	pick := func(b *HTMLBucket) []uint64 {
		if measure == "packets" {
			return b.Packets
		}
		return b.Bytes
	}
	var peak uint64
	for i := range d.Timeline {
		var s uint64
		for _, v := range pick(&d.Timeline[i]) {
			s += v
		}
		peak = max(peak, s)
	}
	fmt.Fprintf(w, "<svg class=\"chart\" data-measure=\"%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s over time\">\n", measure, width, height, width, height, measure)
	plotW, plotH := float64(width-left-10), float64(height-top-bottom)
	fmt.Fprintf(w, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", left, height-bottom, width-10, height-bottom)
	fmt.Fprintf(w, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n", left, top, left, height-bottom)
	label := func(v uint64) string {
		if measure == "bytes" {
			return HumanSize(v)
		}
		return string(appendSI(nil, v))
	}
	for _, frac := range []float64{0, 0.5, 1} {
		y := float64(height-bottom) - frac*plotH
		fmt.Fprintf(w, "<text x=\"%d\" y=\"%.1f\" class=\"ylab\">%s</text>\n", left-6, y+4, label(uint64(frac*float64(peak))))
	}
	n := len(d.Timeline)
	if n > 0 && peak > 0 {
		bw := plotW / float64(n)
		for i := range d.Timeline {
			b := &d.Timeline[i]
			x := float64(left) + float64(i)*bw
			y := float64(height - bottom)
			t := time.Unix(0, b.TimeNS).In(loc).Format("2006-01-02 15:04")
			for g, v := range pick(b) {
				if v == 0 {
					continue
				}
				h := float64(v) / float64(peak) * plotH
				y -= h
				fmt.Fprintf(w, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"><title>%s %s: %s %s</title></rect>\n",
					x, y, max(bw-1, 0.5), h, protoGroups[g].color, t, protoGroups[g].name, label(v), measure)
			}
		}
		for k, i := range []int{0, n / 2, n - 1} {
			x := float64(left) + (float64(i)+0.5)*bw
			anchor := []string{"start", "middle", "end"}[k]
			fmt.Fprintf(w, "<text x=\"%.1f\" y=\"%d\" class=\"xlab\" text-anchor=\"%s\">%s</text>\n", x, height-bottom+16, anchor,
				time.Unix(0, d.Timeline[i].TimeNS).In(loc).Format("01-02 15:04"))
		}
	}
	fmt.Fprintf(w, "</svg>\n<p class=\"legend\">")
	for _, g := range protoGroups {
		fmt.Fprintf(w, "<span><i style=\"background:%s\"></i>%s</span> ", g.color, g.name)
	}
	fmt.Fprintf(w, "</p>\n")
}

// writeTopTable writes a top-N table with a bar of each row's bytes.
func writeTopTable(w *bufio.Writer, t *HTMLTable, d *HTMLData) {
	esc := html.EscapeString
	fmt.Fprintf(w, "<h2>%s</h2>\n<table class=\"top sortable\" data-key=\"%s\">\n<thead><tr><th data-type=\"num\">Rank</th><th>%s</th><th data-type=\"num\">Flows</th><th data-type=\"num\">Packets</th><th data-type=\"num\">Bytes</th><th data-type=\"num\">%% of bytes</th></tr></thead>\n<tbody>\n",
		esc(t.Title), esc(t.Key), esc(strings.ToUpper(t.Key[:1])+t.Key[1:]))
	var peak uint64
	for _, r := range t.Rows {
		peak = max(peak, r.Bytes)
	}
	for _, r := range t.Rows {
		v := r.Value
		if r.Name != "" {
			v = r.display()
		}
		w1 := 0.0
		if peak > 0 {
			w1 = float64(r.Bytes) / float64(peak) * 100
		}
		fmt.Fprintf(w, "<tr><td data-v=\"%d\">%d</td><td>%s</td><td data-v=\"%d\">%d</td><td data-v=\"%d\">%d</td><td data-v=\"%d\">%s</td><td data-v=\"%.4f\"><span class=\"bar\" style=\"width:%.1f%%\"></span>%.1f%%</td></tr>\n",
			r.Rank, r.Rank, esc(v), r.Flows, r.Flows, r.Packets, r.Packets, r.Bytes, HumanSize(r.Bytes), pct(r.Bytes, d.Bytes), w1, pct(r.Bytes, d.Bytes))
	}
	if len(t.Rows) == 0 {
		fmt.Fprintf(w, "<tr><td colspan=\"6\">no flows</td></tr>\n")
	}
	fmt.Fprintf(w, "</tbody></table>\n")
}

const htmlCSS = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1000px;color:#222;background:#fff}
h1{font-size:1.6em;margin:0 0 .5em}h2{font-size:1.15em;margin:1.6em 0 .4em}
table{border-collapse:collapse}th,td{padding:3px 8px;text-align:left}
table.meta th{color:#555;font-weight:600;padding-left:0}
table.top{width:100%}table.top th{border-bottom:2px solid #888;cursor:pointer;user-select:none}
table.top td{border-bottom:1px solid #ddd}table.top td:nth-child(n+3){text-align:right;font-variant-numeric:tabular-nums}
table.top td:first-child,table.top th:first-child{text-align:right;width:3em}table.top th:nth-child(n+3){text-align:right}
th.asc::after{content:" \25B2"}th.desc::after{content:" \25BC"}
.bar{display:inline-block;height:.7em;background:#1f77b4;margin-right:.4em;vertical-align:middle;max-width:6em}
svg.chart{max-width:100%;height:auto}svg .axis{stroke:#888}svg text{font-size:11px;fill:#444}
svg .ylab{text-anchor:end}
.legend span{margin-right:1.2em}.legend i{display:inline-block;width:.9em;height:.9em;margin-right:.3em;vertical-align:-1px}
@media print{body{max-width:none;margin:0}h2{break-after:avoid}table,svg{break-inside:avoid}table.top th{cursor:auto}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}`

// htmlJS sorts a table by a click on its header (numbers by data-v), and
// marks the page as ready.
const htmlJS = `document.querySelectorAll("table.sortable").forEach(function(t){
var ths=t.tHead.rows[0].cells;
Array.prototype.forEach.call(ths,function(th,i){th.addEventListener("click",function(){
var asc=!th.classList.contains("asc");Array.prototype.forEach.call(ths,function(h){h.classList.remove("asc","desc")});
th.classList.add(asc?"asc":"desc");var num=th.dataset.type==="num";var rows=Array.prototype.slice.call(t.tBodies[0].rows);
rows.sort(function(a,b){var x=a.cells[i],y=b.cells[i];var c=num?(parseFloat(x.dataset.v)-parseFloat(y.dataset.v)):x.textContent.localeCompare(y.textContent);return asc?c:-c});
rows.forEach(function(r){t.tBodies[0].appendChild(r)})})})});
document.body.setAttribute("data-ready","1");`
