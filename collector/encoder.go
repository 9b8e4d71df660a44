package collector

import (
	"net/netip"
	"time"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
	"github.com/nfkit/nfkit/pynetflow"
)

// Export is one decoded export packet, as encoders see it.
type Export struct {
	Packet   *decode.Packet
	Source   netip.AddrPort
	Received int64 // Unix ns
	// Complete is set when the packet decoded without error and without
	// data waiting for a template. A packet whose data waited is handed
	// to the encoders again, with the records decoded then, once the
	// template comes.
	Complete bool
	// Before is set when this encoder wrote something for an earlier
	// decode of the same packet.
	Before bool
}

// An Encoder turns decoded export packets into the bytes a sink stores.
// Encoders are chosen once, when the collector starts; each output has
// one. AppendPacket is called from the decode workers concurrently, so an
// Encoder must be safe for concurrent use (the ones here keep no state).
type Encoder interface {
	// AppendPacket appends the encoding of one export packet's records
	// (possibly nothing) and returns the extended buffer.
	AppendPacket(b []byte, e *Export) []byte
}

// JSONLines is the nfcollect schema: one JSON object per flow
// (docs/output-schema.md).
type JSONLines struct{}

// AppendPacket appends one line per data record.
//
//nfkit:hot
func (JSONLines) AppendPacket(b []byte, e *Export) []byte {
	if e.Packet.Version == decode.VersionSFlow5 {
		return flowjson.AppendSFlow(b, e.Packet, e.Received)
	}
	return flowjson.AppendRecords(b, e.Packet.Records, e.Received)
}

// PythonNetflow is the file format of the Python netflow library's
// collector: one JSON line per export packet.
type PythonNetflow struct{}

// AppendPacket appends the packet's line: for every packet with flows,
// and, as the Python collector writes a line for every export packet it
// parses, for a packet without flows once it is complete (templates only,
// v9 options data) unless a line was written for it already.
//
//nfkit:hot
func (PythonNetflow) AppendPacket(b []byte, e *Export) []byte {
	if e.Packet.Version == decode.VersionSFlow5 {
		return b // the Python collector has no sFlow
	}
	if pynetflow.FlowCount(e.Packet) == 0 && (!e.Complete || e.Before) {
		return b
	}
	return pynetflow.AppendPacket(b, time.Unix(0, e.Received), e.Source, e.Packet)
}
