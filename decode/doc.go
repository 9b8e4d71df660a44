// Package decode decodes NetFlow v1, v5, v7, v9 (RFC 3954) and IPFIX
// (RFC 7011) export packets, and sFlow v5 datagrams ([DecodeSFlow]), into
// records without heap allocations in the steady state.
//
// A [Decoder] keeps the templates, options templates and sampling state of
// every exporter, keyed by (exporter address, source ID / observation
// domain, template ID). Each template is compiled once, when it arrives,
// into a list of generated decode steps (or, for common layouts, a
// generated straight-line reader), so decoding a record is a straight run
// with no per-field lookups.
//
//	var d decode.Decoder
//	var p decode.Packet
//	err := d.Decode(exporterAddr, payload, &p)
//	for i := range p.Records {
//		r := &p.Records[i]
//		_ = r.SrcAddr // normalized fields: r.Has says which are present
//		for f := range r.Fields() {
//			_ = f.Element.Name // every field, with its raw bytes
//		}
//	}
//
// Records alias the packet bytes passed to Decode (for Record.Raw and
// Record.Fields); the normalized fields are copies. A Decoder and a Packet
// are reused from packet to packet; neither is safe for concurrent use.
//
// The state is bounded by [Limits]: a full budget evicts the least recently
// used exporter or template (exporters whose data was decoded last longest)
// rather than refusing a newcomer. [Decoder.SetTime] gives the clock for
// activity times, [Decoder.ExpireIdle] forgets idle exporters,
// [Record.ApplicationName] names a flow's applicationId from the names the
// exporter announced in options data (RFC 6759), and
// [Decoder.WriteState] and [ReadState] save and restore the state as a
// stream of JSON lines.
//
// Errors are typed: errors.Is(err, ErrTruncated), ErrLength, ErrTemplate,
// ErrVersion, ErrLimit, ErrUnknownTemplate. Each data set is read with the
// template in force where it stands in the packet (a redefinition later in
// the packet applies to the sets after it); a data set before its
// template's first definition in the same packet is read once the packet
// is walked, and the records stay in packet order. Data that arrives before
// its template yields a *MissingTemplateError that names the exporter,
// domain and template; [Decoder.Retry] decodes the same bytes once it has
// come.
//
// To add a field type:
//  1. add a row to the tables in fields/ (fields/iana.go, vendor.go, v9.go,
//     or a vendor data file, fields/data/juniper.tsv, ntop.tsv);
//  2. to normalize it into Flow, add it to a row of fields.Flow
//     (fields/normalized.go) or add a row;
//  3. run go generate ./... and commit the generated files (decode/*_gen.go,
//     flowjson/flow_gen.go, flowpb/flow_gen.go, chrow/row_gen.go,
//     analyzer/schema_gen.go, docs/output-schema.md); a new keyed field
//     also needs its FlowMessage field in gen/flowpb.go (gen says so);
//  4. add a hand-built test packet with the field to handbuilt_test.go
//     (builders in builder_test.go) and check its value.
package decode

//go:generate go run ../gen
