package collector

import "net/netip"

// seqKey identifies one sequence number stream: an exporter's domain of
// one version.
type seqKey struct {
	addr    netip.Addr
	version uint16
	domain  uint32
}

// seqState tracks one stream. What a sequence number counts differs:
// NetFlow v5/v7 count flows, v9 counts export packets, IPFIX counts data
// records (RFC 7011 §3.1; options data records included).
type seqState struct {
	valid     bool
	last      uint32 // sequence number of the previous packet
	lastCount uint32 // what the previous packet counted
	// inclusive is set for exporters whose sequence number already
	// includes the current packet's records (softflowd's IPFIX): seen
	// consistently, it is not loss.
	inclusive bool
}

// maxGap bounds what is taken as loss; a larger jump (or any backwards
// jump that is not a small reordering) is an exporter restart.
const maxGap = 1 << 24

// observe records a packet with sequence number seq counting count units
// and returns the units lost before it, and whether the stream was reset.
func (s *seqState) observe(version uint16, seq, count uint32) (lost uint32, reset bool) {
	if version == 9 {
		count = 1
	}
	if !s.valid {
		s.valid, s.last, s.lastCount = true, seq, count
		return 0, false
	}
	expected := s.last + s.lastCount
	if s.inclusive {
		expected = s.last + count
	}
	switch d := int64(int32(seq - expected)); {
	case d == 0:
	case version == 10 && seq == s.last+count && !s.inclusive:
		// The sequence number includes this message's records.
		s.inclusive = true
	case version == 10 && s.inclusive && seq == s.last+s.lastCount:
		// RFC behaviour after all: switch back.
		s.inclusive = false
	case d > 0 && d < maxGap:
		lost = uint32(d)
	case d < 0 && d > -64:
		// A reordered (late) packet: neither loss nor reset. Keep the
		// newer position.
		return 0, false
	default:
		reset = true
	}
	s.last, s.lastCount = seq, count
	return lost, reset
}
