package collector

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/testvec"
)

// readLines reads a collector output file (gzip, zstd or plain) into JSON
// objects.
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	switch {
	case strings.HasSuffix(path, ".gz"):
		zr, err := gzip.NewReader(f)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			t.Fatal(err)
		}
		r = zr
	case strings.HasSuffix(path, ".zst"):
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	var out []map[string]any
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, sc.Text(), err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// flowKey is what the end-to-end tests compare: the identity and counters
// of a flow.
func flowKey(m map[string]any) string {
	get := func(k string) string {
		if v, ok := m[k]; ok {
			return fmt.Sprint(v)
		}
		return "-"
	}
	return strings.Join([]string{get("type"), get("src_addr"), get("dst_addr"), get("src_port"), get("dst_port"),
		get("proto"), get("bytes"), get("packets"), get("icmp_type")}, " ")
}

func keys(ms []map[string]any) []string {
	var out []string
	for _, m := range ms {
		out = append(out, flowKey(m))
	}
	sort.Strings(out)
	return out
}

// tsharkKeys builds the same keys from a capture's tshark expectations,
// an independent decoder's view of the flows.
func tsharkKeys(t *testing.T, capture string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", strings.TrimSuffix(capture, ".pcap")+".tshark.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Packets []struct {
			Version  int              `json:"version"`
			Records  []map[string]any `json:"records"`
			Flowsets []struct {
				Kind    string           `json:"kind"`
				Records []map[string]any `json:"records"`
			} `json:"flowsets"`
			Samples []map[string]any `json:"samples"` // sFlow
		} `json:"packets"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	types := map[int]string{1: "NETFLOW_V1", 5: "NETFLOW_V5", 7: "NETFLOW_V7", 9: "NETFLOW_V9", 10: "IPFIX"}
	first := func(v any) string {
		if a, ok := v.([]any); ok {
			return fmt.Sprint(a[0])
		}
		return fmt.Sprint(v)
	}
	var out []string
	for _, p := range f.Packets {
		out = append(out, sflowTsharkKeys(p.Samples)...)
		recs := p.Records
		for _, fs := range p.Flowsets {
			if fs.Kind == "data" {
				recs = append(recs, fs.Records...)
			}
		}
		for _, r := range recs {
			get := func(names ...string) string {
				for _, n := range names {
					if v, ok := r[n]; ok {
						return first(v)
					}
				}
				return "-"
			}
			icmp := "-"
			if v := get("cflow.icmp_type_code_ipv4"); v != "-" {
				var x int
				fmt.Sscanf(v, "0x%x", &x)
				icmp = fmt.Sprint(x >> 8)
			} else if v := get("cflow.icmp_ipv6_type"); v != "-" {
				icmp = v
			}
			if sec, ok := r["section"].(map[string]any); ok && get("cflow.srcaddr", "cflow.srcaddrv6") == "-" {
				// A sampled packet section: tshark's dissection of its
				// headers gives what the record does not carry.
				sget := func(names ...string) string {
					for _, n := range names {
						if v, ok := sec[n]; ok {
							return fmt.Sprint(v)
						}
					}
					return "-"
				}
				out = append(out, strings.Join([]string{types[p.Version], sget("ip.src", "ipv6.src"), sget("ip.dst", "ipv6.dst"),
					sget("tcp.srcport", "udp.srcport"), sget("tcp.dstport", "udp.dstport"), sget("ip.proto", "ipv6.nxt"),
					get("cflow.octets"), get("cflow.packets"), sget("icmp.type", "icmpv6.type")}, " "))
				continue
			}
			out = append(out, strings.Join([]string{types[p.Version], get("cflow.srcaddr", "cflow.srcaddrv6"),
				get("cflow.dstaddr", "cflow.dstaddrv6"), get("cflow.srcport"), get("cflow.dstport"),
				get("cflow.protocol"), get("cflow.octets"), get("cflow.packets"), icmp}, " "))
		}
	}
	sort.Strings(out)
	return out
}

// sflowTsharkKeys are the keys of an sFlow datagram's samples in tshark's
// view: a flow sample's from its raw packet header record (bytes: the frame
// length, packets 1), a counter sample's its type alone.
func sflowTsharkKeys(samples []map[string]any) []string {
	var out []string
	for _, s := range samples {
		if s["sflow_245.sampletype"] == "2" {
			out = append(out, "SFLOW_5_COUNTERS - - - - - - - -")
			continue
		}
		recs, _ := s["records"].([]any)
		for _, r := range recs {
			rm, _ := r.(map[string]any)
			h, ok := rm["header"].(map[string]any)
			if !ok {
				continue
			}
			get := func(names ...string) string {
				for _, n := range names {
					if v, ok := h[n]; ok {
						return fmt.Sprint(v)
					}
				}
				return "-"
			}
			out = append(out, strings.Join([]string{"SFLOW_5", get("ip.src", "ipv6.src"), get("ip.dst", "ipv6.dst"),
				get("tcp.srcport", "udp.srcport"), get("tcp.dstport", "udp.dstport"), get("ip.proto", "ipv6.nxt"),
				fmt.Sprint(rm["sflow_245.header.frame_length"]), "1", get("icmp.type", "icmpv6.type")}, " "))
		}
	}
	return out
}

func captures(t *testing.T) []string {
	names, _ := filepath.Glob(filepath.Join("..", "testdata", "*.tshark.json"))
	var out []string
	for _, n := range names {
		out = append(out, strings.TrimSuffix(filepath.Base(n), ".tshark.json")+".pcap")
	}
	if len(out) == 0 {
		t.Fatal("no captures in testdata")
	}
	return out
}

func equalKeys(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d flows, want %d", what, len(got), len(want))
	}
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			t.Errorf("%s: flow %d:\n got %s\nwant %s", what, i, got[i], want[i])
			return
		}
	}
}

// fileOut is a JSON lines file output.
func fileOut(t *testing.T, path string) []Output { return fileOutEnc(t, path, JSONLines{}) }

func fileOutEnc(t *testing.T, path string, enc Encoder) []Output {
	t.Helper()
	s, err := NewFileSink(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return []Output{{Name: "file", Encoder: enc, Sink: s}}
}

func rotateOut(t *testing.T, cfg RotateConfig) []Output {
	t.Helper()
	s, err := NewRotateSink(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return []Output{{Name: "rotate", Encoder: JSONLines{}, Sink: s}}
}

// replay reads captures with c, as nfcollect -r does, and closes c.
func replay(t *testing.T, c *Collector, paths ...string) error {
	t.Helper()
	return c.Serve(context.Background(), &CaptureInput{Paths: paths})
}

func newTestCollector(t *testing.T, cfg Config) *Collector {
	t.Helper()
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.StatsInterval == 0 {
		cfg.StatsInterval = -1
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReplayCaptures runs -r on every real-exporter capture and compares
// the flows written with tshark's.
func TestReplayCaptures(t *testing.T) {
	for _, capture := range captures(t) {
		for _, ext := range []string{".gz", ".zst", ".json"} {
			t.Run(capture+ext, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "flows"+ext)
				c := newTestCollector(t, Config{Outputs: fileOut(t, out)})
				if err := replay(t, c, filepath.Join("..", "testdata", capture)); err != nil {
					t.Fatal(err)
				}
				lines := readLines(t, out)
				equalKeys(t, capture, keys(lines), tsharkKeys(t, capture))
				// Real exporters' numbering (softflowd's IPFIX quirk
				// included) is not mistaken for loss or restarts.
				for _, e := range c.metrics.all() {
					if e.seqLost.Load() != 0 || e.seqResets.Load() != 0 {
						t.Errorf("%s: phantom sequence loss %d, resets %d", capture, e.seqLost.Load(), e.seqResets.Load())
					}
				}
				for _, m := range lines {
					if _, ok := m["time_received_ns"]; !ok {
						t.Fatal("line without time_received_ns")
					}
				}
			})
			if testing.Short() {
				break
			}
		}
	}
}

// capturePayloads returns a capture's UDP payloads.
func capturePayloads(t *testing.T, name string) [][]byte { return testvec.Payloads(t, name) }

func pythonVector(t *testing.T, name string) [][]byte { return testvec.Python(t, name) }

// sender sends datagrams from a loopback source address (one per
// simulated exporter), paced and bounded.
type sender struct {
	conn *net.UDPConn
}

func newSender(t *testing.T, from string, to netip.AddrPort) *sender {
	t.Helper()
	conn, err := net.DialUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(from), 0)),
		net.UDPAddrFromAddrPort(to))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &sender{conn}
}

func (s *sender) send(t *testing.T, pkts ...[]byte) {
	t.Helper()
	for i, p := range pkts {
		if _, err := s.conn.Write(p); err != nil {
			t.Fatal(err)
		}
		if i%64 == 63 {
			time.Sleep(time.Millisecond)
		}
	}
}

// live runs a collector on an ephemeral loopback port for fn, then stops
// it as SIGTERM would.
func live(t *testing.T, cfg Config, fn func(addr netip.AddrPort, c *Collector)) *Collector {
	t.Helper()
	cfg.Host = "127.0.0.1"
	cfg.Port = 0
	c := newTestCollector(t, cfg)
	l, err := c.ListenUDP()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Serve(ctx, l) }()
	fn(l.Addr(), c)
	waitIdle(t, c)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return c
}

// waitDecoded waits until the workers have decoded n packets, bounded.
func waitDecoded(t *testing.T, c *Collector, n uint64) {
	t.Helper()
	for range 500 {
		if c.Stats().Decoded >= n {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d packets decoded, want %d", c.Stats().Decoded, n)
}

// waitIdle waits until the packet counter stops moving (the kernel has
// delivered everything sent), bounded.
func waitIdle(t *testing.T, c *Collector) {
	last := uint64(1 << 63)
	for range 100 {
		time.Sleep(20 * time.Millisecond)
		n := c.Stats().Packets
		if n == last {
			return
		}
		last = n
	}
}

// TestLiveCaptures sends every capture's export packets (each from its own
// loopback address, so each is its own exporter) and the Python vectors to
// a live collector and compares the output with tshark's flows.
func TestLiveCaptures(t *testing.T) {
	out := filepath.Join(t.TempDir(), "live.gz")
	var want []string
	c := live(t, Config{Outputs: fileOut(t, out)}, func(addr netip.AddrPort, c *Collector) {
		for i, capture := range captures(t) {
			s := newSender(t, fmt.Sprintf("127.0.1.%d", i+1), addr)
			s.send(t, capturePayloads(t, capture)...)
			want = append(want, tsharkKeys(t, capture)...)
		}
		// The Python vectors, template first.
		s := newSender(t, "127.0.2.1", addr)
		s.send(t, pythonVector(t, "v9_template_2templates_8flows.hex")...)
		s.send(t, pythonVector(t, "v9_data_only_3pkts_12flows_each.hex")...)
	})
	sort.Strings(want)
	lines := readLines(t, out)
	var capLines, pyLines []map[string]any
	for _, m := range lines {
		if m["sampler_address"] == "127.0.2.1" {
			pyLines = append(pyLines, m)
		} else {
			capLines = append(capLines, m)
		}
	}
	equalKeys(t, "live captures", keys(capLines), want)
	if len(pyLines) != 8+36 {
		t.Errorf("python vectors: %d flows, want 44", len(pyLines))
	}
	if s := c.Stats(); s.QueueDrops != 0 || s.Errors != 0 || s.SeqLost != 0 {
		t.Errorf("stats %+v: want no drops, errors or sequence loss (every exporter's numbering, softflowd's long IPFIX stream with its periodic options records included)", s)
	}
}

// Data before its template: packets are held and decoded when the template
// arrives (the Python collector's behaviour; nfcapd and goflow2 drop them).
func TestTemplateLater(t *testing.T) {
	out := filepath.Join(t.TempDir(), "later.json")
	c := live(t, Config{Outputs: fileOut(t, out), Workers: 1}, func(addr netip.AddrPort, c *Collector) {
		s := newSender(t, "127.0.3.1", addr)
		s.send(t, pythonVector(t, "v9_data_only_3pkts_12flows_each.hex")...)
		s.send(t, pythonVector(t, "ipfix_data_only_2sets_3flows.hex")...)
		waitIdle(t, c)
		s.send(t, pythonVector(t, "v9_template_2templates_8flows.hex")...)
		s.send(t, pythonVector(t, "ipfix_templates_5_plus_20flows.hex")...)
	})
	lines := readLines(t, out)
	// v9: 36 held + 8; IPFIX: 3 held + 19 (options records are not flows).
	if len(lines) != 36+8+3+19 {
		t.Errorf("got %d flows, want %d", len(lines), 36+8+3+19)
	}
	var late uint64
	for _, e := range c.metrics.all() {
		late += e.pendingLate.Load()
	}
	if late != 4 {
		t.Errorf("pending decoded = %d, want 4", late)
	}
}

// A restart with --templates decodes data right away.
func TestTemplatesPersist(t *testing.T) {
	dir := t.TempDir()
	tf := filepath.Join(dir, "templates.json")
	live(t, Config{Outputs: fileOut(t, filepath.Join(dir, "a.json")), TemplatesFile: tf, TemplatesSaveInterval: 20 * time.Millisecond},
		func(addr netip.AddrPort, c *Collector) {
			newSender(t, "127.0.4.1", addr).send(t, pythonVector(t, "v9_template_2templates_8flows.hex")...)
			// Saved while running, not only at exit (a crash loses little).
			for i := 0; ; i++ {
				if _, err := os.Stat(tf); err == nil {
					break
				}
				if i == 200 {
					t.Fatal("templates not saved while running")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	if _, err := os.Stat(tf); err != nil {
		t.Fatalf("templates file not written: %v", err)
	}
	out := filepath.Join(dir, "b.json")
	live(t, Config{Outputs: fileOut(t, out), TemplatesFile: tf}, func(addr netip.AddrPort, c *Collector) {
		newSender(t, "127.0.4.1", addr).send(t, pythonVector(t, "v9_data_only_3pkts_12flows_each.hex")...)
	})
	if n := len(readLines(t, out)); n != 36 {
		t.Errorf("after restart: %d flows, want 36", n)
	}
}

// Rotation under traffic: the union of the rotated files is what was sent,
// and no file is left under its temporary name.
func TestRotationUnderTraffic(t *testing.T) {
	dir := t.TempDir()
	pkts := capturePayloads(t, "softflowd-v5.pcap")
	const rounds = 20
	live(t, Config{Outputs: rotateOut(t, RotateConfig{Dir: dir, Interval: time.Hour, Codec: Zstd}), FlushInterval: 10 * time.Millisecond}, func(addr netip.AddrPort, c *Collector) {
		s := newSender(t, "127.0.5.1", addr)
		for range rounds {
			s.send(t, pkts...)
			time.Sleep(5 * time.Millisecond)
			c.Rotate() // as SIGHUP
		}
	})
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	total := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".tmp") || strings.HasPrefix(filepath.Base(f), ".") {
			t.Errorf("temporary file left: %s", f)
			continue
		}
		if !strings.HasSuffix(f, ".json.zst") {
			t.Errorf("unexpected file %s", f)
			continue
		}
		total += len(readLines(t, f))
	}
	if len(files) < 2 {
		t.Errorf("%d files, want several", len(files))
	}
	if want := rounds * len(tsharkKeys(t, "softflowd-v5.pcap")); total != want {
		t.Errorf("rotated files hold %d flows, want %d", total, want)
	}
}

// Malformed packets mixed into a valid stream: every valid flow lands and
// the errors are counted.
func TestMalformedMixed(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mixed.gz")
	good := capturePayloads(t, "softflowd-ipfix.pcap")
	bad := [][]byte{
		{0xff, 0xff, 0xff},                                             // unknown version
		{0, 10, 0, 200, 0, 0},                                          // truncated IPFIX header
		append([]byte{0, 9, 0, 1}, make([]byte, 16)...),                // v9, no sets
		{0, 10, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, // set length 0
		{0, 5, 0, 30, 1, 2},                                            // truncated v5
	}
	c := live(t, Config{Outputs: fileOut(t, out)}, func(addr netip.AddrPort, c *Collector) {
		s := newSender(t, "127.0.6.1", addr)
		for _, p := range good {
			s.send(t, bad...)
			s.send(t, p)
		}
		s.send(t, bad...)
	})
	equalKeys(t, "valid flows", keys(readLines(t, out)), tsharkKeys(t, "softflowd-ipfix.pcap"))
	if s := c.Stats(); s.Errors < uint64(4*(len(good)+1)) {
		t.Errorf("errors counted: %d, want at least %d", s.Errors, 4*(len(good)+1))
	}
	m := string(c.AppendMetrics(nil))
	for _, want := range []string{`reason="unknown_version"`, `reason="truncated"`, `reason="bad_length"`, "nfcollect_packets_decoded_total{exporter=\"127.0.6.1\"}"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// A write error (full disk) is counted and logged; the collector keeps
// receiving and decoding.
func TestWriteErrorKeepsRunning(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	c := live(t, Config{Outputs: fileOut(t, "/dev/full"), FlushInterval: 10 * time.Millisecond}, func(addr netip.AddrPort, c *Collector) {
		newSender(t, "127.0.7.1", addr).send(t, capturePayloads(t, "softflowd-v5.pcap")...)
	})
	if o := c.outputs[0]; o.writeErrors.Load() == 0 || o.writeDropped.Load() == 0 {
		t.Errorf("write errors %d, dropped %d: want both counted", o.writeErrors.Load(), o.writeDropped.Load())
	}
	if c.Stats().Flows == 0 {
		t.Error("nothing decoded")
	}
}

func TestAllowList(t *testing.T) {
	out := filepath.Join(t.TempDir(), "allow.json")
	c := live(t, Config{Outputs: fileOut(t, out), Allow: []netip.Prefix{netip.MustParsePrefix("127.0.8.1/32")}}, func(addr netip.AddrPort, c *Collector) {
		newSender(t, "127.0.8.1", addr).send(t, capturePayloads(t, "softflowd-v5.pcap")...)
		newSender(t, "127.0.8.2", addr).send(t, capturePayloads(t, "softflowd-v1.pcap")...)
	})
	for _, m := range readLines(t, out) {
		if m["sampler_address"] != "127.0.8.1" {
			t.Fatalf("flow from %v passed the allow-list", m["sampler_address"])
		}
	}
	if c.metrics.denied.Load() == 0 {
		t.Error("denied packets not counted")
	}
}

// --format python-netflow on live traffic: one line per export packet,
// the Python collector's layout; packets that waited for their template
// keep their receive time.
func TestLivePythonFormat(t *testing.T) {
	out := filepath.Join(t.TempDir(), "py.gz")
	live(t, Config{Outputs: fileOutEnc(t, out, PythonNetflow{}), Workers: 1}, func(addr netip.AddrPort, c *Collector) {
		s := newSender(t, "127.0.9.1", addr)
		s.send(t, pythonVector(t, "v9_data_only_3pkts_12flows_each.hex")...)
		waitIdle(t, c)
		s.send(t, pythonVector(t, "v9_template_2templates_8flows.hex")...)
		s.send(t, pythonVector(t, "v1_icmp_ping_2flows.hex")...)
		s.send(t, pythonVector(t, "v5_icmp_ping_multicast_3flows.hex")...)
	})
	lines := readLines(t, out)
	flows := 0
	for _, l := range lines {
		if len(l) != 1 {
			t.Fatalf("line with %d keys", len(l))
		}
		for _, v := range l {
			e := v.(map[string]any)
			if c := e["client"].([]any); c[0] != "127.0.9.1" {
				t.Errorf("client %v", c)
			}
			flows += len(e["flows"].([]any))
		}
	}
	if len(lines) != 6 || flows != 36+8+2+3 {
		t.Errorf("%d lines, %d flows; want 6 lines, 49 flows", len(lines), flows)
	}
}

// A packet missing from the stream is reported as loss, in the unit the
// version counts.
func TestSequenceLossDetected(t *testing.T) {
	for _, c := range []struct {
		capture string
		lost    uint64
	}{
		{"softflowd-v9.pcap", 1},    // v9 counts packets
		{"softflowd-ipfix.pcap", 0}, // IPFIX counts records: set below
		{"fprobe-v7.pcap", 0},
	} {
		pkts := capturePayloads(t, c.capture)
		if len(pkts) < 3 {
			continue
		}
		want := c.lost
		if want == 0 {
			// The records of the skipped packet (data and options).
			want = recordsIn(t, pkts[:2])
		}
		out := filepath.Join(t.TempDir(), "loss.json")
		col := live(t, Config{Outputs: fileOut(t, out)}, func(addr netip.AddrPort, col *Collector) {
			s := newSender(t, "127.0.10.1", addr)
			s.send(t, pkts[0])
			s.send(t, pkts[2:]...) // packet 1 lost
		})
		var lost uint64
		for _, e := range col.metrics.all() {
			lost += e.seqLost.Load()
		}
		if lost != want {
			t.Errorf("%s: sequence loss %d, want %d", c.capture, lost, want)
		}
	}
}

// recordsIn decodes pkts in order and returns what the last one counts
// in sequence units (v5/v7 flows, IPFIX data and options records).
func recordsIn(t *testing.T, pkts [][]byte) uint64 {
	var d decode.Decoder
	var p decode.Packet
	for _, pk := range pkts {
		if err := d.Decode(netip.MustParseAddr("127.0.10.1"), pk, &p); err != nil {
			t.Fatal(err)
		}
	}
	if p.Version == 10 {
		return uint64(len(p.Records) + len(p.Options))
	}
	return uint64(p.Count)
}

// A flood of distinct (spoofed) sources cannot grow the per-exporter state
// without bound: past the exporter limit the least recently seen exporters
// give way (counted), every packet is still decoded, and past the metrics
// bound the rest share one "other" series.
func TestExporterBound(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bound.json")
	v5 := capturePayloads(t, "softflowd-v5.pcap")[0]
	c := newTestCollector(t, Config{Outputs: fileOut(t, out), Workers: 1, MetricsExporters: 3, Limits: decode.Limits{MaxExporters: 5}})
	for i := range 50 {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 0, byte(i)}), 2055)
		c.Submit(context.Background(), Packet{Data: v5, Source: src, Received: 1}, true)
	}
	waitDecoded(t, c, 50)
	m := string(c.AppendMetrics(nil))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(c.workers[0].exporters.byAddr); n > 5 {
		t.Errorf("%d exporters kept, want at most 5", n)
	}
	if n := c.metrics.exporterEvictions.Load(); n != 45 {
		t.Errorf("%d evictions, want 45", n)
	}
	if named := strings.Count(m, "nfcollect_packets_decoded_total{exporter="); named != 3+1 {
		t.Errorf("%d exporter series, want 3 + other:\n%s", named, m)
	}
	if !strings.Contains(m, `nfcollect_packets_decoded_total{exporter="other"} 47`) {
		t.Error(`metrics lack the "other" exporter with 47 packets`)
	}
	if n := len(readLines(t, out)); n != 50*30 {
		t.Errorf("%d flows, want %d: every packet is still decoded", n, 50*30)
	}
}

// The analyzer's goldens start from nfcollect output committed in
// analyzer/testdata/collected; it must stay what the collector writes
// today (regenerate with the commands in that folder's README).
func TestAnalyzerInputsCurrent(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "analyzer", "testdata", "collected", "*.jsonl"))
	if len(files) == 0 {
		t.Fatal("found no analyzer/testdata/collected/*.jsonl: the check would pass without checking anything")
	}
	for _, f := range files {
		capture := strings.TrimSuffix(filepath.Base(f), ".jsonl") + ".pcap"
		out := filepath.Join(t.TempDir(), "x.jsonl")
		c := newTestCollector(t, Config{Outputs: fileOut(t, out), Workers: 1})
		if err := replay(t, c, filepath.Join("..", "testdata", capture)); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(out)
		want, _ := os.ReadFile(f)
		if string(got) != string(want) {
			t.Errorf("%s is stale: nfcollect -r testdata/%s writes something else; regenerate it (see its README)", f, capture)
		}
	}
}

// A second collector on a port already in use fails instead of sharing it
// (SO_REUSEPORT would have the kernel split the exporters between them).
func TestPortInUse(t *testing.T) {
	a := newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(t.TempDir(), "a.json")), Host: "127.0.0.1", Port: 0})
	defer a.Close()
	ua, err := a.ListenUDP()
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	b := newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(t.TempDir(), "b.json")), Host: "127.0.0.1", Port: int(ua.Addr().Port())})
	defer b.Close()
	if ub, err := b.ListenUDP(); err == nil {
		ub.Close()
		t.Fatal("a second collector bound the same port")
	} else if !strings.Contains(err.Error(), "another collector") {
		t.Errorf("error %q does not say why", err)
	}
}

// Rotate (SIGHUP) racing or following Close neither blocks nor panics.
func TestRotateAfterClose(t *testing.T) {
	c := newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(t.TempDir(), "x.json"))})
	done := make(chan struct{})
	go func() {
		for range 100 {
			c.Rotate()
		}
		close(done)
	}()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Rotate blocked after Close")
	}
	c.Rotate()
}
