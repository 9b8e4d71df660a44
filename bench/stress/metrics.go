//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// series is one sample of the Prometheus text format.
type series struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// metrics is a scrape of nfcollect's /metrics.
type metrics struct {
	series []series
}

// parseMetrics parses the Prometheus text exposition format (version
// 0.0.4): comment lines are skipped, and so is any line it cannot read.
func parseMetrics(b []byte) *metrics {
	m := &metrics{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s, ok := parseSeries(line)
		if ok {
			m.series = append(m.series, s)
		}
	}
	return m
}

func parseSeries(line string) (series, bool) {
	var s series
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return s, false
	}
	s.Name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		end := strings.LastIndexByte(rest, '}')
		if end < 0 {
			return s, false
		}
		s.Labels = parseLabels(rest[1:end])
		rest = rest[end+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 1 {
		return s, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, false
	}
	s.Value = v
	return s, true
}

// parseLabels parses k="v",k2="v2" (with \" and \\ escapes).
func parseLabels(s string) map[string]string {
	l := map[string]string{}
	for s != "" {
		k, rest, ok := strings.Cut(s, "=")
		if !ok || len(rest) == 0 || rest[0] != '"' {
			break
		}
		var v strings.Builder
		i := 1
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
			}
			v.WriteByte(rest[i])
		}
		l[strings.TrimSpace(k)] = v.String()
		s = strings.TrimLeft(rest[min(i+1, len(rest)):], ", ")
	}
	return l
}

// sum adds the series of a name whose labels include every pair of match
// (k, v, k, v, …).
func (m *metrics) sum(name string, match ...string) float64 {
	if m == nil {
		return 0
	}
	var t float64
	for _, s := range m.series {
		if s.Name == name && labelsMatch(s.Labels, match) {
			t += s.Value
		}
	}
	return t
}

func labelsMatch(l map[string]string, match []string) bool {
	for i := 0; i+1 < len(match); i += 2 {
		if l[match[i]] != match[i+1] {
			return false
		}
	}
	return true
}

// byLabel sums a metric by the values of one label.
func (m *metrics) byLabel(name, label string, match ...string) map[string]float64 {
	out := map[string]float64{}
	if m == nil {
		return out
	}
	for _, s := range m.series {
		if s.Name == name && labelsMatch(s.Labels, match) {
			out[s.Labels[label]] += s.Value
		}
	}
	return out
}

// names returns every metric name scraped, sorted.
func (m *metrics) names() []string {
	seen := map[string]bool{}
	if m != nil {
		for _, s := range m.series {
			seen[s.Name] = true
		}
	}
	var n []string
	for k := range seen {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// scrape reads /metrics.
func (c *collector) scrape() (*metrics, error) {
	b, err := c.get("/metrics", 20*time.Second)
	if err != nil {
		return nil, err
	}
	return parseMetrics(b), nil
}

// get fetches a path of the collector's metrics server.
func (c *collector) get(path string, timeout time.Duration) ([]byte, error) {
	client := http.Client{Timeout: timeout}
	resp, err := client.Get(c.url(path))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<30))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return b, nil
}

// goMem is the runtime's own account of its memory, from the
// "# Name = value" lines that /debug/pprof/heap?debug=1 ends with.
type goMem struct {
	HeapInuse, HeapIdle, HeapReleased, Sys, StackInuse int64
	NumGC                                              int64
}

func parseGoMem(b []byte) (goMem, bool) {
	var g goMem
	fields := map[string]*int64{
		"HeapInuse": &g.HeapInuse, "HeapIdle": &g.HeapIdle, "HeapReleased": &g.HeapReleased,
		"Sys": &g.Sys, "StackInuse": &g.StackInuse, "NumGC": &g.NumGC,
	}
	found := 0
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("# "))
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(string(rest), " = ")
		if p := fields[k]; ok && p != nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				*p = n
				found++
			}
		}
	}
	return g, found >= 2
}
