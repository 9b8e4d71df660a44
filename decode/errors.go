package decode

import (
	"errors"
	"net/netip"
	"strconv"
)

// Sentinel errors. Inner code returns them bare; the entry points wrap them
// once in a *DecodeError (or return a *MissingTemplateError) that names the
// exporter, version, set and offset. Match them with errors.Is.
var (
	// ErrTruncated: the packet ends before a header, set or record that it
	// announces, or a variable-length field runs past the end of its set.
	ErrTruncated = errors.New("truncated")
	// ErrVersion: the version field is not 1, 5, 7, 9 or 10 (or the 32-bit 5 of sFlow v5).
	ErrVersion = errors.New("unsupported NetFlow/IPFIX version")
	// ErrLength: a header or set length is impossible (shorter than its own
	// header, past the end of the packet, or disagreeing with the packet).
	ErrLength = errors.New("bad length")
	// ErrTemplate: a template or options template record is malformed
	// (zero fields, zero total length, bad scope count, a field past the
	// set, a record longer than any packet).
	ErrTemplate = errors.New("malformed template")
	// ErrUnknownTemplate: a data set refers to a template the exporter has
	// not sent (yet). Returned inside a *MissingTemplateError.
	ErrUnknownTemplate = errors.New("unknown template")
	// ErrLimit: a template has more fields than a budget of Limits allows
	// (it is not learned), or a packet holds more records than
	// Limits.MaxRecords (the rest are not decoded).
	ErrLimit = errors.New("limit exceeded")
	// ErrFormat: a field of an sFlow datagram has a value its format does
	// not allow (an agent address type other than IPv4 or IPv6).
	ErrFormat = errors.New("malformed datagram")
	// ErrState: an entry of saved decoder state (ReadState) is malformed.
	// Returned inside a *StateError.
	ErrState = errors.New("malformed state entry")
)

// DecodeError describes where decoding failed. Err is one of the sentinel
// errors.
type DecodeError struct {
	Version    uint16
	Exporter   netip.Addr // zero for the stateless v1/v5/v7 entry points
	SetID      uint16     // set / flowset id, 0 when not in a set
	TemplateID uint16     // template concerned, 0 when none
	Offset     int        // byte offset in the packet
	Err        error
	// Detail names what is wrong, when Err alone does not say (sFlow:
	// "sample length past the end of the datagram", …); "" otherwise.
	Detail string
}

func (e *DecodeError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "decode "...)
	b = appendVersion(b, e.Version)
	if e.Exporter.IsValid() {
		b = append(b, " from "...)
		b = e.Exporter.AppendTo(b)
	}
	if e.SetID != 0 {
		b = append(b, " set "...)
		b = strconv.AppendUint(b, uint64(e.SetID), 10)
	}
	if e.TemplateID != 0 {
		b = append(b, " template "...)
		b = strconv.AppendUint(b, uint64(e.TemplateID), 10)
	}
	b = append(b, " at offset "...)
	b = strconv.AppendInt(b, int64(e.Offset), 10)
	b = append(b, ": "...)
	b = append(b, e.Err.Error()...)
	if e.Detail != "" {
		b = append(b, " ("...)
		b = append(b, e.Detail...)
		b = append(b, ')')
	}
	return string(b)
}

func (e *DecodeError) Unwrap() error { return e.Err }

func appendVersion(b []byte, v uint16) []byte {
	switch v {
	case 9:
		return append(b, "NetFlow v9"...)
	case 10:
		return append(b, "IPFIX"...)
	case VersionSFlow5, VersionSFlow5Counters:
		return append(b, "sFlow v5"...)
	default:
		b = append(b, "NetFlow v"...)
		return strconv.AppendUint(b, uint64(v), 10)
	}
}

// MissingTemplateError reports data sets whose template the exporter has not
// sent yet. Everything else in the packet was decoded. Once the template
// arrives, Decoder.Retry decodes exactly the sets listed in Sets from the
// same bytes.
type MissingTemplateError struct {
	Version    uint16
	TemplateID uint16 // the first missing template
	Domain     uint32 // source ID (v9) or observation domain (IPFIX)
	Exporter   netip.Addr
	Count      int // number of data sets that could not be decoded
	// Sets has bit i set when the i-th set of the packet (counting from 0,
	// all set kinds) was not decoded. Sets past the 63rd share bit 63.
	Sets uint64
	// Err is a further, non-retryable error that stopped the walk of the
	// packet after these sets, or nil.
	Err error
}

func (e *MissingTemplateError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "decode "...)
	b = appendVersion(b, e.Version)
	b = append(b, " from "...)
	b = e.Exporter.AppendTo(b)
	b = append(b, ": unknown template "...)
	b = strconv.AppendUint(b, uint64(e.TemplateID), 10)
	b = append(b, " in domain "...)
	b = strconv.AppendUint(b, uint64(e.Domain), 10)
	if e.Count > 1 {
		b = append(b, " ("...)
		b = strconv.AppendInt(b, int64(e.Count), 10)
		b = append(b, " data sets waiting)"...)
	}
	if e.Err != nil {
		b = append(b, "; then: "...)
		b = append(b, e.Err.Error()...)
	}
	return string(b)
}

// Unwrap returns ErrUnknownTemplate and, when set, Err.
func (e *MissingTemplateError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrUnknownTemplate, e.Err}
	}
	return []error{ErrUnknownTemplate}
}
