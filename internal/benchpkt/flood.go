package benchpkt

import "math/rand/v2"

// Flood packets: what the stress harness (bench/stress) and the
// collector's flood tests send from many spoofed sources. Each builder
// appends to b, so a send loop can reuse one buffer.

// MaxDatagram is the largest UDP payload over IPv4: 65,535 bytes less the
// 20-byte IPv4 and 8-byte UDP headers.
const MaxDatagram = 65507

// Header and set lengths.
const (
	V9HeaderLen    = 20 // RFC 3954 §5.1
	IPFIXHeaderLen = 16 // RFC 7011 §3.1
	SetHeaderLen   = 4
)

// TinyFields is a 2-field, 8-byte template (IN_BYTES, IN_PKTS; IPFIX
// octetDeltaCount, packetDeltaCount): the smallest useful record.
var TinyFields = []Field{{1, 4}, {2, 4}}

func appendHeader(b []byte, version, count uint16, seq, domain uint32) []byte {
	b = be.AppendUint16(b, version)
	if version == 9 {
		b = be.AppendUint16(b, count)
		b = be.AppendUint32(b, uptimeMs)
		b = be.AppendUint32(b, exportSecs)
	} else {
		b = be.AppendUint16(b, 0) // message length, set by finish
		b = be.AppendUint32(b, exportSecs)
	}
	b = be.AppendUint32(b, seq)
	return be.AppendUint32(b, domain)
}

// finish sets an IPFIX message's length; start is where its header begins.
func finish(b []byte, version uint16, start int) []byte {
	if version == 10 {
		be.PutUint16(b[start+2:], uint16(len(b)-start))
	}
	return b
}

// templateLen is the bytes of one template record of fields.
func templateLen(fields []Field) int { return 4 + 4*len(fields) }

// TemplatesFit returns how many template records of fields fit in one
// template packet of at most maxLen bytes (version 9 or 10).
func TemplatesFit(version uint16, fields []Field, maxLen int) int {
	hdr := V9HeaderLen
	if version == 10 {
		hdr = IPFIXHeaderLen
	}
	return max(0, (min(maxLen, MaxDatagram)-hdr-SetHeaderLen)/templateLen(fields))
}

// AppendTemplatePacket appends a NetFlow v9 (version 9) or IPFIX (version
// 10) export packet with one template set defining n templates of fields,
// with ids firstID, firstID+1, …, in observation domain (v9 source ID)
// domain. The packet must fit a datagram: n at most TemplatesFit(version,
// fields, MaxDatagram).
func AppendTemplatePacket(b []byte, version uint16, domain, seq uint32, firstID uint16, n int, fields []Field) []byte {
	start := len(b)
	b = appendHeader(b, version, uint16(n), seq, domain)
	set := len(b)
	b = append(b, 0, 0, 0, 0)
	for i := range n {
		b = be.AppendUint16(b, firstID+uint16(i))
		b = be.AppendUint16(b, uint16(len(fields)))
		for _, f := range fields {
			b = be.AppendUint16(b, f.ID)
			b = be.AppendUint16(b, f.Len)
		}
	}
	setID := uint16(0)
	if version == 10 {
		setID = 2
	}
	be.PutUint16(b[set:], setID)
	be.PutUint16(b[set+2:], uint16(len(b)-set))
	return finish(b, version, start)
}

// AppendOptionsTemplatePacket appends a NetFlow v9 (version 9) or IPFIX
// (version 10) export packet with one options template set defining
// options template tid: scope fields, then option fields (RFC 3954 §6.1,
// RFC 7011 §3.4.2.2). Its data records are options data, which a
// collector applies (sampling rates, init times) but does not write as
// flows.
func AppendOptionsTemplatePacket(b []byte, version uint16, domain, seq uint32, tid uint16, scope, fields []Field) []byte {
	start := len(b)
	b = appendHeader(b, version, 1, seq, domain)
	set := len(b)
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint16(b, tid)
	if version == 10 {
		b = be.AppendUint16(b, uint16(len(scope)+len(fields)))
		b = be.AppendUint16(b, uint16(len(scope)))
	} else {
		b = be.AppendUint16(b, uint16(4*len(scope)))
		b = be.AppendUint16(b, uint16(4*len(fields)))
	}
	for _, f := range append(append([]Field(nil), scope...), fields...) {
		b = be.AppendUint16(b, f.ID)
		b = be.AppendUint16(b, f.Len)
	}
	for (len(b)-set)%4 != 0 {
		b = append(b, 0)
	}
	setID := uint16(1)
	if version == 10 {
		setID = 3
	}
	be.PutUint16(b[set:], setID)
	be.PutUint16(b[set+2:], uint16(len(b)-set))
	return finish(b, version, start)
}

// AppendDataPacket appends a NetFlow v9 (version 9) or IPFIX (version 10)
// export packet with one data set for template tid holding records copies
// of record. The set is not padded: padding to 4 bytes is a SHOULD (RFC
// 3954 §5.3, RFC 7011 §3.3.1), so make records×len(record) a multiple of 4
// for a conforming packet, or not, to fill a datagram exactly. With a
// 4-byte record (v9) or an 8-byte one (IPFIX) and one record the packet is
// 28 bytes.
func AppendDataPacket(b []byte, version uint16, domain, seq uint32, tid uint16, records int, record []byte) []byte {
	start := len(b)
	b = appendHeader(b, version, uint16(records), seq, domain)
	b = be.AppendUint16(b, tid)
	b = be.AppendUint16(b, uint16(SetHeaderLen+records*len(record)))
	for range records {
		b = append(b, record...)
	}
	return finish(b, version, start)
}

// Garbage is a kind of malformed datagram.
type Garbage int

const (
	// GarbageRandom is 1 to 1400 random bytes.
	GarbageRandom Garbage = iota
	// GarbageVersion is a version number no decoder knows (not 1, 5, 7,
	// 9 or 10) followed by 18 to 1400 random bytes.
	GarbageVersion
	// GarbageTruncated is a v1, v5, v7, v9 or IPFIX header cut short:
	// the version and 0 to header-3 more random bytes.
	GarbageTruncated
	numGarbage
)

// AppendGarbage appends one malformed datagram of the given kind, or of a
// kind chosen by r when kind is out of range.
func AppendGarbage(b []byte, r *rand.Rand, kind Garbage) []byte {
	if kind < 0 || kind >= numGarbage {
		kind = Garbage(r.IntN(int(numGarbage)))
	}
	random := func(b []byte, n int) []byte {
		for range n {
			b = append(b, byte(r.Uint32()))
		}
		return b
	}
	switch kind {
	case GarbageVersion:
		v := uint16(r.Uint32())
		for v == 1 || v == 5 || v == 7 || v == 9 || v == 10 {
			v = uint16(r.Uint32())
		}
		return random(be.AppendUint16(b, v), 18+r.IntN(1383))
	case GarbageTruncated:
		hdrs := [...]struct{ version, len int }{{1, 16}, {5, 24}, {7, 24}, {9, V9HeaderLen}, {10, IPFIXHeaderLen}}
		h := hdrs[r.IntN(len(hdrs))]
		return random(be.AppendUint16(b, uint16(h.version)), r.IntN(h.len-2))
	}
	return random(b, 1+r.IntN(1400))
}
