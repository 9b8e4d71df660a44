package collector

import (
	"strconv"

	"github.com/nfkit/nfkit/decode"
)

// flowType is the output "type" of each NetFlow version.
func flowType(version uint16) string {
	switch version {
	case 1:
		return `"NETFLOW_V1"`
	case 5:
		return `"NETFLOW_V5"`
	case 7:
		return `"NETFLOW_V7"`
	case 9:
		return `"NETFLOW_V9"`
	case 10:
		return `"IPFIX"`
	}
	return `"UNKNOWN"`
}

const paddingOctets = 210

// AppendFlowJSON appends one flow as a JSON object and a newline
// (docs/output-schema.md): the record's context, its normalized fields and
// every other field of its template under the field's table name. It does
// not allocate when b has room.
func AppendFlowJSON(b []byte, r *decode.Record, receivedNs int64) []byte {
	b = appendPrefix(b, r, receivedNs)
	return appendFlowBody(b, r)
}

// appendPrefix appends the start of a flow line up to the template id,
// which is the same for every record of a packet.
func appendPrefix(b []byte, r *decode.Record, receivedNs int64) []byte {
	b = append(b, `{"type":`...)
	b = append(b, flowType(r.Version)...)
	b = append(b, `,"time_received_ns":`...)
	b = strconv.AppendInt(b, receivedNs, 10)
	b = append(b, `,"sampler_address":"`...)
	b = r.Exporter.Unmap().AppendTo(b)
	b = append(b, `","sequence_num":`...)
	b = strconv.AppendUint(b, uint64(r.Sequence), 10)
	b = append(b, `,"observation_domain_id":`...)
	b = strconv.AppendUint(b, uint64(r.Domain), 10)
	return append(b, `,"template_id":`...)
}

// appendFlowBody appends the rest of a flow line after its prefix.
func appendFlowBody(b []byte, r *decode.Record) []byte {
	b = strconv.AppendUint(b, uint64(r.TemplateID), 10)
	b = r.Flow.AppendJSON(b)
	if r.SamplingRate != 0 {
		b = append(b, `,"sampling_rate":`...)
		b = strconv.AppendUint(b, r.SamplingRate, 10)
	}
	t := r.Template()
	if t.Has()&^r.Has == 0 {
		// The usual case: the fields to add are known per template.
		for _, i := range t.ExtraFields() {
			if f, ok := r.FieldAt(i); ok {
				b = appendField(b, f)
			}
		}
		return append(b, '}', '\n')
	}
	// Some normalized value was dropped (a time that could not be made
	// absolute): write every field whose value is not in a key.
	emitted := r.Has & decode.JSONFields
	it := r.Iter()
	for it.Next() {
		f := it.Field()
		if f.Target&emitted != 0 || (f.PEN == 0 && f.ID == paddingOctets && !f.Scope) {
			continue
		}
		b = appendField(b, f)
	}
	return append(b, '}', '\n')
}

func appendField(b []byte, f decode.Field) []byte {
	b = append(b, ',', '"')
	b = append(b, f.Element.Name...)
	b = append(b, '"', ':')
	return f.AppendJSON(b)
}

// renormalize multiplies the in-direction and other counters by the
// flow's sampling rate (--renormalize).
func renormalize(r *decode.Record) {
	n := r.SamplingRate
	if n <= 1 {
		return
	}
	r.Bytes *= n
	r.Packets *= n
	r.OutBytes *= n
	r.OutPackets *= n
	r.RevBytes *= n
	r.RevPackets *= n
}
