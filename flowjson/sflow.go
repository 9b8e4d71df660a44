package flowjson

import (
	"strconv"

	"github.com/nfkit/nfkit/decode"
)

// AppendSFlow appends the records of a decoded sFlow v5 datagram (p.Version
// decode.VersionSFlow5): one line per flow sample, its envelope, normalized
// and trailer keys as AppendRecord writes them and then the sample's sFlow
// keys; then one line per counter sample, type SFLOW_5_COUNTERS, with the
// per-packet envelope keys and the counters (docs/output-schema.md, "sFlow
// v5").
//
//nfkit:hot
func AppendSFlow(b []byte, p *decode.Packet, received int64) []byte {
	for i := range p.Records {
		r := &p.Records[i]
		b = appendPacketKeys(b, r, received)
		b = appendRecordKeys(b, r)
		if i < len(p.SFlow) {
			b = appendSFlowSample(b, p, &p.SFlow[i])
		}
		b = append(b, '}', '\n')
	}
	for i := range p.Counters {
		c := &p.Counters[i]
		b = append(b, `{"type":`...)
		b = appendVersion(b, decode.VersionSFlow5Counters)
		b = append(b, `,"time_received_ns":`...)
		b = strconv.AppendInt(b, received, 10)
		b = append(b, `,"sampler_address":"`...)
		b = c.Exporter.Unmap().AppendTo(b)
		b = append(b, `","sequence_num":`...)
		b = strconv.AppendUint(b, uint64(p.Sequence), 10)
		b = append(b, `,"observation_domain_id":`...)
		b = strconv.AppendUint(b, uint64(p.Domain), 10)
		b = appendSFlowCounters(b, p, c)
		b = append(b, '}', '\n')
	}
	return b
}

// AppendSFlowSample appends `,"key":value` for the sFlow keys of flow
// sample i of p (a decode.VersionSFlow5 packet), as AppendSFlow writes them
// after the record's other keys: for encoders that keep them apart.
//
//nfkit:hot
func AppendSFlowSample(b []byte, p *decode.Packet, i int) []byte {
	if i < 0 || i >= len(p.SFlow) {
		return b
	}
	return appendSFlowSample(b, p, &p.SFlow[i])
}

// appendUintList appends v as a JSON array of numbers.
//
//nfkit:hot
func appendUintList(b []byte, v []uint32) []byte {
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(x), 10)
	}
	return append(b, ']')
}
