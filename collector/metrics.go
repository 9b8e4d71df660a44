package collector

import (
	"errors"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
)

// reason is a decode error class, a label of nfcollect_decode_errors_total.
type reason int

const (
	reasonTruncated reason = iota
	reasonLength
	reasonTemplate
	reasonVersion
	reasonLimit
	reasonOther
	numReasons
)

var reasonNames = [numReasons]string{"truncated", "bad_length", "malformed_template", "unknown_version", "limit", "other"}

func classify(err error) reason {
	switch {
	case errors.Is(err, decode.ErrTruncated):
		return reasonTruncated
	case errors.Is(err, decode.ErrLength):
		return reasonLength
	case errors.Is(err, decode.ErrTemplate):
		return reasonTemplate
	case errors.Is(err, decode.ErrVersion):
		return reasonVersion
	case errors.Is(err, decode.ErrLimit):
		return reasonLimit
	}
	return reasonOther
}

// budget is a decode.Limits budget that, when full, makes the decoder
// evict templates: the label of nfcollect_template_evictions_total.
type budget int

const (
	budgetTemplates      budget = iota // the exporter's MaxTemplates
	budgetExporterFields               // the exporter's MaxExporterFields
	budgetTotalFields                  // the decoder's MaxTotalFields
	numBudgets
)

var budgetNames = [numBudgets]string{"exporter_templates", "exporter_fields", "total_fields"}

// exporterStats are the counters of one exporter. Its worker updates them
// with atomic adds; the metrics handler reads them.
type exporterStats struct {
	addr         netip.Addr
	named        bool // has series of its own (else it is in "other")
	packets      atomic.Uint64
	bytes        atomic.Uint64
	flows        atomic.Uint64
	errors       [numReasons]atomic.Uint64
	seqLost      atomic.Uint64 // packets (v9) or records (v5/v7/IPFIX) lost per sequence numbers
	seqResets    atomic.Uint64
	pending      atomic.Int64  // packets waiting for a template
	pendingDrops atomic.Uint64 // pending packets dropped (age, size or count bound)
	pendingLate  atomic.Uint64 // pending packets decoded once their template came
	templates    atomic.Int64
}

// add adds o's counters (not its gauges) to s.
func (s *exporterStats) add(o *exporterStats) {
	s.packets.Add(o.packets.Load())
	s.bytes.Add(o.bytes.Load())
	s.flows.Add(o.flows.Load())
	for r := range numReasons {
		s.errors[r].Add(o.errors[r].Load())
	}
	s.seqLost.Add(o.seqLost.Load())
	s.seqResets.Add(o.seqResets.Load())
	s.pendingDrops.Add(o.pendingDrops.Load())
	s.pendingLate.Add(o.pendingLate.Load())
}

// metrics holds the counters that are not a worker's or an output's.
type metrics struct {
	mu        sync.Mutex
	exporters map[netip.Addr]*exporterStats
	// At most maxNamed exporters have series of their own, the first
	// seen; the others, and the counts of exporters no longer kept
	// (folded), are summed as exporter="other", so the metrics page stays
	// small under a flood of sources.
	maxNamed int
	named    int
	folded   exporterStats

	flowsByVersion    [12]atomic.Uint64         // by versionSlot
	exporterEvictions atomic.Uint64             // exporters whose state a worker forgot for a new one
	decoderEvictions  atomic.Uint64             // exporters whose templates the decoder forgot
	templateEvictions [numBudgets]atomic.Uint64 // templates the decoder forgot for new ones, by full budget
	denied            atomic.Uint64             // packets from exporters outside --allow
	templateSaves     atomic.Uint64
	templateSaveErrs  atomic.Uint64
	kernelDrops       func() uint64
}

func newMetrics(maxNamed int) *metrics {
	return &metrics{exporters: make(map[netip.Addr]*exporterStats), maxNamed: maxNamed}
}

// register returns new stats for addr (its worker keeps them).
//
//nfkit:cold once per new exporter
func (m *metrics) register(addr netip.Addr) *exporterStats {
	s := &exporterStats{addr: addr}
	m.mu.Lock()
	if old := m.exporters[addr]; old != nil {
		m.drop(old)
	}
	if m.named < m.maxNamed {
		s.named = true
		m.named++
	}
	m.exporters[addr] = s
	m.mu.Unlock()
	return s
}

// unregister folds the counters of an exporter no longer kept into
// "other".
func (m *metrics) unregister(s *exporterStats) {
	m.mu.Lock()
	if m.exporters[s.addr] == s {
		m.drop(s)
	}
	m.mu.Unlock()
}

func (m *metrics) drop(s *exporterStats) {
	m.folded.add(s)
	delete(m.exporters, s.addr)
	if s.named {
		m.named--
	}
}

// snapshot returns the named exporters sorted by address, and the "other"
// totals: the unnamed exporters and the folded counts.
func (m *metrics) snapshot() (named []*exporterStats, other *exporterStats) {
	other = new(exporterStats)
	m.mu.Lock()
	other.add(&m.folded)
	for _, s := range m.exporters {
		if s.named {
			named = append(named, s)
			continue
		}
		other.add(s)
		other.pending.Add(s.pending.Load())
		other.templates.Add(s.templates.Load())
	}
	m.mu.Unlock()
	sort.Slice(named, func(i, j int) bool { return named[i].addr.Less(named[j].addr) })
	return named, other
}

// all returns every exporter's stats and the folded counts.
func (m *metrics) all() []*exporterStats {
	folded := new(exporterStats)
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*exporterStats, 0, len(m.exporters)+1)
	for _, s := range m.exporters {
		out = append(out, s)
	}
	folded.add(&m.folded)
	return append(out, folded)
}

// A MetricsSink is a Sink that reports metrics of its own (a delivery
// sink's batches, retries, spool); the collector exposes them with the
// label sink="<output name>".
type MetricsSink interface {
	Sink
	SinkMetrics() []SinkMetric
}

// SinkMetric is one sample a MetricsSink reports.
type SinkMetric struct {
	Name, Type, Help string // Type: "counter" or "gauge"
	Value            float64
}

// promWriter writes the Prometheus text exposition format (0.0.4).
type promWriter struct{ b []byte }

func (p *promWriter) help(name, typ, text string) {
	p.b = append(p.b, "# HELP "...)
	p.b = append(p.b, name...)
	p.b = append(p.b, ' ')
	p.b = append(p.b, text...)
	p.b = append(p.b, "\n# TYPE "...)
	p.b = append(p.b, name...)
	p.b = append(p.b, ' ')
	p.b = append(p.b, typ...)
	p.b = append(p.b, '\n')
}

func (p *promWriter) sample(name, labels string, v uint64) {
	p.series(name, labels)
	p.b = strconv.AppendUint(p.b, v, 10)
	p.b = append(p.b, '\n')
}

func (p *promWriter) float(name, labels string, v float64) {
	p.series(name, labels)
	p.b = strconv.AppendFloat(p.b, v, 'g', -1, 64)
	p.b = append(p.b, '\n')
}

// series writes a sample's name and labels, up to its value.
func (p *promWriter) series(name, labels string) {
	p.b = append(p.b, name...)
	if labels != "" {
		p.b = append(p.b, '{')
		p.b = append(p.b, labels...)
		p.b = append(p.b, '}')
	}
	p.b = append(p.b, ' ')
}

// one writes a metric with a single unlabelled sample.
func (p *promWriter) one(name, typ, text string, v uint64) {
	p.help(name, typ, text)
	p.sample(name, "", v)
}

// AppendMetrics appends the Prometheus text exposition of the metrics.
func (c *Collector) AppendMetrics(b []byte) []byte {
	p := &promWriter{b: b}
	m := c.metrics
	var received, receivedBytes, queueDrops, shutdownDrops uint64
	var pendingBytes int64
	for _, w := range c.workers {
		received += w.received.Load()
		receivedBytes += w.receivedBytes.Load()
		queueDrops += w.queueDrops.Load()
		shutdownDrops += w.shutdownDrops.Load()
	}
	pendingBytes = c.pendingBytes.Load()
	p.help("nfcollect_build_info", "gauge", "Version of nfcollect and of the Go toolchain that built it.")
	p.sample("nfcollect_build_info", `version="`+buildVersion()+`",goversion="`+goVersion()+`"`, 1)
	p.one("nfcollect_packets_received_total", "counter", "Export packets received (counted when queued for decoding, before any drop).", received)
	p.one("nfcollect_bytes_received_total", "counter", "Export packet bytes received.", receivedBytes)
	p.one("nfcollect_queue_drops_total", "counter", "Packets dropped because the decode queue was full (in packets or bytes).", queueDrops)
	p.one("nfcollect_queue_bytes", "gauge", "Memory held by packets waiting to be decoded.", uint64(max(c.queuedBytes.Load(), 0)))
	p.one("nfcollect_shutdown_dropped_packets_total", "counter", "Packets still queued when shutdown ran out of time (--shutdown-timeout).", shutdownDrops)
	p.one("nfcollect_denied_packets_total", "counter", "Packets from sources outside --allow.", m.denied.Load())
	if m.kernelDrops != nil {
		p.one("nfcollect_kernel_receive_drops_total", "counter", "Datagrams the kernel dropped on the collector's sockets (full receive buffer).", m.kernelDrops())
	}
	c.appendTCPMetrics(p)

	named, other := m.snapshot()
	exp := named
	if other.packets.Load() != 0 || other.pending.Load() != 0 || other.templates.Load() != 0 {
		exp = append(exp, other)
	}
	lbl := func(s *exporterStats) string {
		if !s.named {
			return `exporter="other"`
		}
		return `exporter="` + s.addr.String() + `"`
	}
	perExporter := func(name, typ, text string, get func(*exporterStats) uint64) {
		p.help(name, typ, text)
		for _, s := range exp {
			p.sample(name, lbl(s), get(s))
		}
	}
	perExporter("nfcollect_packets_decoded_total", "counter", "Export packets taken from the queue and decoded (with or without errors).", func(s *exporterStats) uint64 { return s.packets.Load() })
	perExporter("nfcollect_bytes_decoded_total", "counter", "Export packet bytes decoded.", func(s *exporterStats) uint64 { return s.bytes.Load() })
	perExporter("nfcollect_flows_decoded_by_exporter_total", "counter", "Flows decoded.", func(s *exporterStats) uint64 { return s.flows.Load() })
	p.help("nfcollect_decode_errors_total", "counter", "Packets with decode errors, by reason.")
	for _, s := range exp {
		for r := range numReasons {
			if v := s.errors[r].Load(); v != 0 {
				p.sample("nfcollect_decode_errors_total", lbl(s)+`,reason="`+reasonNames[r]+`"`, v)
			}
		}
	}
	perExporter("nfcollect_sequence_lost_total", "counter", "Export packets (v9) or flows (v5, v7, IPFIX) missing per sequence numbers.", func(s *exporterStats) uint64 { return s.seqLost.Load() })
	perExporter("nfcollect_sequence_resets_total", "counter", "Sequence number resets (exporter restarts).", func(s *exporterStats) uint64 { return s.seqResets.Load() })
	perExporter("nfcollect_pending_packets", "gauge", "Packets waiting for their template.", func(s *exporterStats) uint64 { return uint64(max(s.pending.Load(), 0)) })
	perExporter("nfcollect_pending_dropped_total", "counter", "Packets that waited for a template in vain (age, size or count bound, eviction, shutdown).", func(s *exporterStats) uint64 { return s.pendingDrops.Load() })
	perExporter("nfcollect_pending_decoded_total", "counter", "Packets decoded after their template arrived.", func(s *exporterStats) uint64 { return s.pendingLate.Load() })
	perExporter("nfcollect_templates", "gauge", "Templates known.", func(s *exporterStats) uint64 { return uint64(max(s.templates.Load(), 0)) })
	p.one("nfcollect_pending_bytes", "gauge", "Memory held by packets waiting for their template (bytes and bookkeeping).", uint64(max(pendingBytes, 0)))
	m.mu.Lock()
	exporters := len(m.exporters)
	m.mu.Unlock()
	p.one("nfcollect_exporters", "gauge", "Exporters whose state the workers keep.", uint64(exporters))
	p.one("nfcollect_exporter_evictions_total", "counter", "Exporters whose state was forgotten to make room for a new exporter (least recently seen, template-only sources first).", m.exporterEvictions.Load())
	p.one("nfcollect_decoder_exporter_evictions_total", "counter", "Exporters whose templates the decoder forgot to make room for a new exporter.", m.decoderEvictions.Load())
	p.help("nfcollect_template_evictions_total", "counter", "Templates the decoder forgot to make room for new ones, by the budget that was full (the exporter's templates or fields, or all exporters' fields).")
	for b := range numBudgets {
		p.sample("nfcollect_template_evictions_total", `budget="`+budgetNames[b]+`"`, m.templateEvictions[b].Load())
	}
	p.help("nfcollect_flows_decoded_total", "counter", "Flows decoded, by NetFlow version.")
	for _, v := range []uint16{1, 5, 7, 9, 10, decode.VersionSFlow5} {
		p.sample("nfcollect_flows_decoded_total", `type="`+flowjson.VersionName(v)+`"`, m.flowsByVersion[versionSlot(v)].Load())
	}
	if c.cfg.TemplatesFile != "" {
		p.one("nfcollect_template_saves_total", "counter", "Saves of the templates file.", m.templateSaves.Load())
		p.one("nfcollect_template_save_errors_total", "counter", "Failed saves of the templates file.", m.templateSaveErrs.Load())
	}

	perOutput := func(name, typ, text string, get func(*output) uint64) {
		p.help(name, typ, text)
		for _, o := range c.outputs {
			p.sample(name, `sink="`+o.Name+`"`, get(o))
		}
	}
	perOutput("nfcollect_output_flows_total", "counter", "Flows written by the sink.", func(o *output) uint64 { return o.written.Load() })
	perOutput("nfcollect_output_bytes_total", "counter", "Bytes written by the sink (compressed).", func(o *output) uint64 { return o.writtenBytes.Load() })
	perOutput("nfcollect_write_errors_total", "counter", "Failed writes of the sink.", func(o *output) uint64 { return o.writeErrors.Load() })
	perOutput("nfcollect_write_dropped_flows_total", "counter", "Flows lost to failed writes.", func(o *output) uint64 { return o.writeDropped.Load() })
	perOutput("nfcollect_output_queue_dropped_flows_total", "counter", "Flows dropped because the sink's queue was full or shutdown ran out of time.", func(o *output) uint64 { return o.queueDropped.Load() })
	perOutput("nfcollect_output_queue_bytes", "gauge", "Bytes waiting for the sink.", func(o *output) uint64 { return uint64(max(o.queued.Load(), 0)) })
	perOutput("nfcollect_rotations_total", "counter", "Rotations of the sink's output (interval, SIGHUP).", func(o *output) uint64 { return o.rotations.Load() })
	c.appendSinkMetrics(p)
	p.b = appendRuntimeMetrics(p.b)
	return p.b
}

// appendSinkMetrics writes the metrics of the sinks that report their own,
// each name once with a sample per sink.
func (c *Collector) appendSinkMetrics(p *promWriter) {
	type sample struct {
		sink string
		m    SinkMetric
	}
	var names []string
	byName := map[string][]sample{}
	for _, o := range c.outputs {
		ms, ok := o.Sink.(MetricsSink)
		if !ok {
			continue
		}
		for _, m := range ms.SinkMetrics() {
			if _, seen := byName[m.Name]; !seen {
				names = append(names, m.Name)
			}
			byName[m.Name] = append(byName[m.Name], sample{o.Name, m})
		}
	}
	for _, name := range names {
		ss := byName[name]
		p.help(name, ss[0].m.Type, ss[0].m.Help)
		for _, s := range ss {
			p.float(name, `sink="`+s.sink+`"`, s.m.Value)
		}
	}
}
