package collector

import (
	"errors"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/nfkit/nfkit/decode"
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

// exporterStats are the counters of one exporter. Workers update them with
// atomic adds; the metrics handler reads them.
type exporterStats struct {
	addr          netip.Addr
	packets       atomic.Uint64
	bytes         atomic.Uint64
	flows         atomic.Uint64
	errors        [numReasons]atomic.Uint64
	queueDrops    atomic.Uint64 // packets dropped because the decode queue was full
	seqLost       atomic.Uint64 // packets (v9) or records (v5/v7/IPFIX) lost per sequence numbers
	seqResets     atomic.Uint64
	pending       atomic.Int64  // packets waiting for a template
	pendingDrops  atomic.Uint64 // pending packets dropped (age, size or count bound)
	pendingLate   atomic.Uint64 // pending packets decoded once their template came
	templates     atomic.Int64
	deniedPackets atomic.Uint64
}

// metrics holds every counter of a collector.
type metrics struct {
	mu        sync.Mutex
	exporters map[netip.Addr]*exporterStats
	// Beyond maxExporters distinct sources (a spoofing flood), the rest
	// share one entry labelled "other", so memory stays bounded.
	maxExporters int
	other        *exporterStats

	flowsByVersion [11]atomic.Uint64
	writeErrors    atomic.Uint64
	writeDropped   atomic.Uint64 // flows lost to write errors
	outputBytes    atomic.Uint64
	outputFlows    atomic.Uint64
	rotations      atomic.Uint64
	denied         atomic.Uint64 // packets from exporters outside --allow
	kernelDrops    func() uint64
}

func newMetrics(maxExporters int) *metrics {
	return &metrics{exporters: make(map[netip.Addr]*exporterStats), maxExporters: maxExporters, other: &exporterStats{}}
}

// exporter returns the stats of addr, creating them once.
func (m *metrics) exporter(addr netip.Addr) *exporterStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.exporters[addr]
	if s == nil {
		if len(m.exporters) >= m.maxExporters {
			return m.other
		}
		s = &exporterStats{addr: addr}
		m.exporters[addr] = s
	}
	return s
}

func (m *metrics) snapshot() []*exporterStats {
	m.mu.Lock()
	out := make([]*exporterStats, 0, len(m.exporters))
	for _, s := range m.exporters {
		out = append(out, s)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].addr.Less(out[j].addr) })
	if m.other.packets.Load() != 0 {
		out = append(out, m.other)
	}
	return out
}

// appendPrometheus writes the metrics in the Prometheus text exposition
// format (version 0.0.4).
func (m *metrics) appendPrometheus(b []byte) []byte {
	help := func(name, typ, text string) {
		b = append(b, "# HELP "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, text...)
		b = append(b, "\n# TYPE "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, typ...)
		b = append(b, '\n')
	}
	sample := func(name, labels string, v uint64) {
		b = append(b, name...)
		if labels != "" {
			b = append(b, '{')
			b = append(b, labels...)
			b = append(b, '}')
		}
		b = append(b, ' ')
		b = strconv.AppendUint(b, v, 10)
		b = append(b, '\n')
	}
	exp := m.snapshot()
	lbl := func(s *exporterStats) string {
		if !s.addr.IsValid() {
			return `exporter="other"`
		}
		return `exporter="` + s.addr.String() + `"`
	}
	perExporter := func(name, typ, text string, get func(*exporterStats) uint64) {
		help(name, typ, text)
		for _, s := range exp {
			sample(name, lbl(s), get(s))
		}
	}
	perExporter("nfcollect_packets_received_total", "counter", "Export packets received.", func(s *exporterStats) uint64 { return s.packets.Load() })
	perExporter("nfcollect_bytes_received_total", "counter", "Export packet bytes received.", func(s *exporterStats) uint64 { return s.bytes.Load() })
	perExporter("nfcollect_flows_decoded_by_exporter_total", "counter", "Flows decoded.", func(s *exporterStats) uint64 { return s.flows.Load() })
	help("nfcollect_decode_errors_total", "counter", "Packets with decode errors, by reason.")
	for _, s := range exp {
		for r := range numReasons {
			if v := s.errors[r].Load(); v != 0 {
				sample("nfcollect_decode_errors_total", lbl(s)+`,reason="`+reasonNames[r]+`"`, v)
			}
		}
	}
	perExporter("nfcollect_queue_drops_total", "counter", "Packets dropped because the decode queue was full.", func(s *exporterStats) uint64 { return s.queueDrops.Load() })
	perExporter("nfcollect_sequence_lost_total", "counter", "Export packets (v9) or flows (v5, v7, IPFIX) missing per sequence numbers.", func(s *exporterStats) uint64 { return s.seqLost.Load() })
	perExporter("nfcollect_sequence_resets_total", "counter", "Sequence number resets (exporter restarts).", func(s *exporterStats) uint64 { return s.seqResets.Load() })
	perExporter("nfcollect_pending_packets", "gauge", "Packets waiting for their template.", func(s *exporterStats) uint64 { return uint64(max(s.pending.Load(), 0)) })
	perExporter("nfcollect_pending_dropped_total", "counter", "Packets that waited for a template in vain (age, size or count bound).", func(s *exporterStats) uint64 { return s.pendingDrops.Load() })
	perExporter("nfcollect_pending_decoded_total", "counter", "Packets decoded after their template arrived.", func(s *exporterStats) uint64 { return s.pendingLate.Load() })
	perExporter("nfcollect_templates", "gauge", "Templates known.", func(s *exporterStats) uint64 { return uint64(max(s.templates.Load(), 0)) })
	help("nfcollect_flows_decoded_total", "counter", "Flows decoded, by NetFlow version.")
	for _, v := range []int{1, 5, 7, 9, 10} {
		sample("nfcollect_flows_decoded_total", `type=`+flowType(uint16(v)), m.flowsByVersion[v].Load())
	}
	help("nfcollect_denied_packets_total", "counter", "Packets from sources outside --allow.")
	sample("nfcollect_denied_packets_total", "", m.denied.Load())
	help("nfcollect_write_errors_total", "counter", "Output write errors.")
	sample("nfcollect_write_errors_total", "", m.writeErrors.Load())
	help("nfcollect_write_dropped_flows_total", "counter", "Flows lost to output write errors.")
	sample("nfcollect_write_dropped_flows_total", "", m.writeDropped.Load())
	help("nfcollect_output_bytes_total", "counter", "Bytes written to output files (compressed).")
	sample("nfcollect_output_bytes_total", "", m.outputBytes.Load())
	help("nfcollect_output_flows_total", "counter", "Flows written to output files.")
	sample("nfcollect_output_flows_total", "", m.outputFlows.Load())
	help("nfcollect_rotations_total", "counter", "Output file rotations.")
	sample("nfcollect_rotations_total", "", m.rotations.Load())
	if m.kernelDrops != nil {
		help("nfcollect_kernel_receive_drops", "counter", "Datagrams the kernel dropped on the collector's sockets (full receive buffer).")
		sample("nfcollect_kernel_receive_drops", "", m.kernelDrops())
	}
	return b
}
