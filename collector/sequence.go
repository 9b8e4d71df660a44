package collector

import "github.com/nfkit/nfkit/decode"

// seqState tracks the sequence numbers of one stream: an exporter's domain
// of one version. What a sequence number counts differs: NetFlow v5/v7
// count flows, v9 export packets, IPFIX data records (RFC 7011 §3.1).
// IPFIX exporters disagree on the details, so the stream learns which
// numbering the exporter uses from the numbers themselves:
//   - whether options data records count (RFC 7011 counts every data
//     record; softflowd counts only flows);
//   - whether the number counts the records before the message (RFC 7011)
//     or already includes the message's own (softflowd).
//
// A gap that one of these numberings explains exactly is not loss.
//
// Fields are ordered by size (16 bytes, not 20; checked by hotcheck's align).
type seqState struct {
	last uint32 // sequence number of the previous packet
	// The previous packet's data and options records, and whether its
	// record count is unknown (data held for its template).
	lastData, lastOpts uint32
	valid              bool
	lastUnknown        bool
	numbering          uint8 // the IPFIX numbering the stream follows (see expected)
}

// The IPFIX numberings: bit 0 set when options records are not counted,
// bit 1 set when the number includes the message's own records.
const (
	seqWithOptions  = 0
	seqDataOnly     = 1
	seqInclusive    = 2
	numSeqNumbering = 4
)

// maxGap bounds what is taken as loss; a larger jump (or any backwards
// jump that is not a small reordering) is an exporter restart.
const maxGap = 1 << 24

// seqObs is what one packet says for sequence tracking.
type seqObs struct {
	seq uint32
	// count is what the packet counts: flows (v5/v7), data records
	// (IPFIX); unused for v9, where every packet counts 1.
	count uint32
	// opts are the IPFIX options data records.
	opts    uint32
	version uint16
	// unknown marks an IPFIX packet with data sets held for their
	// template: its record count is not known.
	unknown bool
}

// expected returns the sequence number the packet o should carry under
// numbering n, following the previous packet.
//
//nfkit:hot
func (s *seqState) expected(o *seqObs, n uint8) uint32 {
	if n&seqInclusive != 0 {
		c := o.count
		if n&seqDataOnly == 0 {
			c += o.opts
		}
		return s.last + c
	}
	c := s.lastData
	if n&seqDataOnly == 0 {
		c += s.lastOpts
	}
	return s.last + c
}

// observe records a packet and returns the units lost before it, and
// whether the stream was reset (an exporter restart).
//
//nfkit:hot
func (s *seqState) observe(o seqObs) (lost uint32, reset bool) {
	count := o.count
	if o.version == 9 || o.version == decode.VersionSFlow5 {
		count = 1 // v9 and sFlow number datagrams
	}
	if !s.valid {
		s.valid = true
		s.remember(o, count)
		return 0, false
	}
	var expected uint32
	switch {
	case o.version != 10:
		expected = s.last + s.lastData
	case s.lastUnknown || (o.unknown && s.numbering&seqInclusive != 0):
		// The count needed is unknown: nothing can be said of this gap,
		// but a backwards jump is still a reset or a late packet.
		if d := int32(o.seq - s.last); d >= 0 && d < maxGap {
			s.remember(o, count)
			return 0, false
		}
		expected = s.last
	default:
		expected = s.expected(&o, s.numbering)
		if o.seq != expected {
			for n := range uint8(numSeqNumbering) {
				if n != s.numbering && o.seq == s.expected(&o, n) && !(o.unknown && n&seqInclusive != 0) {
					s.numbering, expected = n, o.seq // the exporter numbers this way
					break
				}
			}
		}
	}
	switch d := int64(int32(o.seq - expected)); {
	case d == 0:
	case d > 0 && d < maxGap:
		lost = uint32(d)
	case d < 0 && d > -64:
		// A reordered (late) packet: neither loss nor reset. Keep the
		// newer position.
		return 0, false
	default:
		reset = true
	}
	s.remember(o, count)
	return lost, reset
}

//nfkit:hot
func (s *seqState) remember(o seqObs, count uint32) {
	s.last, s.lastData, s.lastOpts, s.lastUnknown = o.seq, count, o.opts, o.unknown
}
