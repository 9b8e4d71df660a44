package analyzer

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var reportInput = filepath.Join("testdata", "nfdump", "flows.jsonl")

// htmlReportOf runs the report on the test flows and returns the page and
// its embedded numbers.
func htmlReportOf(t *testing.T) (string, HTMLData) {
	t.Helper()
	var out, errb bytes.Buffer
	if _, err := Run(Config{Inputs: []string{reportInput}, HTML: true, Loc: time.UTC, FilterText: `--filter "any"`}, &out, &errb); err != nil || errb.Len() > 0 {
		t.Fatalf("Run: %v %s", err, errb.String())
	}
	page := out.String()
	m := regexp.MustCompile(`<script type="application/json" id="nfanalyze-data">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no embedded data in the report")
	}
	var d HTMLData
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatal(err)
	}
	return page, d
}

// TestHTMLReport: the report's numbers are those of --top and --timeline on
// the same input, and the page fetches nothing.
func TestHTMLReport(t *testing.T) {
	page, d := htmlReportOf(t)
	if d.Flows != 400 || len(d.Tables) != len(htmlTop) || len(d.Timeline) < 10 {
		t.Fatalf("report: %d flows, %d tables, %d buckets", d.Flows, len(d.Tables), len(d.Timeline))
	}
	for _, tb := range d.Tables {
		var out, errb bytes.Buffer
		Run(Config{Inputs: []string{reportInput}, StatKeys: []string{tb.Key}, Top: 10, Output: "csv"}, &out, &errb)
		recs, _ := csv.NewReader(&out).ReadAll()
		if len(recs)-1 != len(tb.Rows) {
			t.Errorf("%s: %d rows, --top has %d", tb.Key, len(tb.Rows), len(recs)-1)
			continue
		}
		for i, r := range tb.Rows {
			rec := recs[i+1] // stat,rank,value,name,flows,flows_pct,packets,packets_pct,bytes,bytes_pct
			if rec[2] != r.Value || rec[4] != fmt.Sprint(r.Flows) || rec[6] != fmt.Sprint(r.Packets) || rec[8] != fmt.Sprint(r.Bytes) {
				t.Errorf("%s row %d: %+v; --top: %v", tb.Key, i+1, r, rec)
			}
			// And the page shows them.
			if !strings.Contains(page, fmt.Sprintf(`<td data-v="%d">%d</td><td data-v="%d">%d</td><td data-v="%d">`, r.Flows, r.Flows, r.Packets, r.Packets, r.Bytes)) {
				t.Errorf("%s row %d: the numbers are not in the page", tb.Key, i+1)
			}
		}
	}
	var out, errb bytes.Buffer
	Run(Config{Inputs: []string{reportInput}, Timeline: time.Duration(d.IntervalNS), Output: "csv"}, &out, &errb)
	recs, _ := csv.NewReader(&out).ReadAll()
	if len(recs)-1 != len(d.Timeline) {
		t.Fatalf("%d buckets, --timeline %v has %d", len(d.Timeline), time.Duration(d.IntervalNS), len(recs)-1)
	}
	for i, b := range d.Timeline {
		var fl, pk, by uint64
		for g := range b.Flows {
			fl, pk, by = fl+b.Flows[g], pk+b.Packets[g], by+b.Bytes[g]
		}
		rec := recs[i+1] // time,time_ns,flows,packets,bytes
		if rec[1] != fmt.Sprint(b.TimeNS) || rec[2] != fmt.Sprint(fl) || rec[3] != fmt.Sprint(pk) || rec[4] != fmt.Sprint(by) {
			t.Errorf("bucket %d: %d %d %d %d; --timeline: %v", i, b.TimeNS, fl, pk, by, rec)
		}
	}
	// Self-contained: nothing to fetch.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=|url\(|@import|https?://`).FindString(page); m != "" {
		t.Errorf("the page refers to something outside it: %q", m)
	}
	if !strings.Contains(page, `--filter &#34;any&#34;`) || !strings.Contains(page, "2017-10-28 23:00:03 UTC") {
		t.Errorf("the filter or the time range is not in the page")
	}
}

// TestHTMLCoarsen: buckets merged into a larger interval are those counted
// at that interval directly.
func TestHTMLCoarsen(t *testing.T) {
	r := newHTMLReport(0)
	direct := newTimeline(time.Hour)
	for i := range 5000 {
		f := Flow{Start: int64(1_700_000_000+i*97) * 1e9, Bytes: uint64(i), Packets: 1, Flows: 1, Proto: uint8(i % 20)}
		r.add(&f)
		direct.add(&f)
	}
	r.coarsen(int64(time.Hour))
	for b, a := range direct.buckets {
		var sum statAgg
		for _, g := range r.buckets[b] {
			sum.flows, sum.packets, sum.bytes = sum.flows+g.flows, sum.packets+g.packets, sum.bytes+g.bytes
		}
		if sum != *a {
			t.Errorf("bucket %d: %+v, counted at an hour %+v", b, sum, *a)
		}
	}
}

// TestHTMLChromium renders the report in headless Chromium (Debian's
// chromium; .ci/run installs it): the script ran, the charts are drawn (bars
// in the DOM, the chart colours in the screenshot), and the tables show the
// numbers of the data. NFANALYZE_SCREENSHOT=file keeps the screenshot
// (docs/report.png is made so).
func TestHTMLChromium(t *testing.T) {
	bin := ""
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		msg := "TestHTMLChromium SKIPPED: no chromium in PATH, the HTML report is not checked in a browser (apt-get install chromium)"
		fmt.Fprintln(os.Stderr, msg)
		t.Skip(msg)
	}
	page, d := htmlReportOf(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	os.WriteFile(file, []byte(page), 0o644)
	shot := filepath.Join(dir, "report.png")
	if s := os.Getenv("NFANALYZE_SCREENSHOT"); s != "" {
		shot, _ = filepath.Abs(s)
	}
	chrome := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=" + filepath.Join(dir, "profile")}, args...)
		cmd := exec.CommandContext(ctx, bin, append(args, "file://"+file)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s: %v\n%s", bin, err, errb.String())
		}
		return out.Bytes()
	}
	dom := string(chrome("--dump-dom"))
	if !strings.Contains(dom, `data-ready="1"`) {
		t.Errorf("the page's script did not run in the browser")
	}
	if n := strings.Count(dom, "<rect "); n < 2*len(d.Timeline) {
		t.Errorf("%d bars in the rendered charts for %d buckets", n, len(d.Timeline))
	}
	top := d.Tables[0].Rows[0]
	if !strings.Contains(dom, fmt.Sprintf(`<td>%s</td><td data-v="%d">%d</td>`, top.Value, top.Flows, top.Flows)) {
		t.Errorf("the rendered table does not show the top talker %+v", top)
	}
	chrome("--window-size=1100,1900", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot: %v", err)
	}
	// Every protocol's colour is in the picture: the bars were drawn.
	want := map[color.RGBA]string{}
	for _, g := range protoGroups {
		v, _ := strconv.ParseUint(g.color[1:], 16, 32)
		want[color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}] = g.name
	}
	found := map[string]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			if name, ok := want[c]; ok {
				found[name]++
			}
		}
	}
	for _, g := range protoGroups {
		if found[g.name] < 100 {
			t.Errorf("the screenshot has %d pixels of %s's colour %s: its bars were not drawn", found[g.name], g.name, g.color)
		}
	}
}
