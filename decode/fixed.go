package decode

import (
	"encoding/binary"
	"net/netip"
	"slices"
)

// Fixed layouts of NetFlow v1, v5 and v7 (Cisco's NetFlow export datagram
// formats). Their records are read through built-in templates of v9 field
// types, so Record.Fields works for them as for v9.
const (
	v1HeaderLen = 16
	v1RecordLen = 48
	v5HeaderLen = 24
	v5RecordLen = 48
	v7HeaderLen = 24
	v7RecordLen = 52
)

var (
	templateV1 = mustFixed(1, layoutNetFlowV1, v1RecordLen)
	templateV5 = mustFixed(5, layoutNetFlowV5, v5RecordLen)
	templateV7 = mustFixed(7, layoutNetFlowV7, v7RecordLen)
)

func mustFixed(version uint16, layout []fieldSpec, recLen int) *Template {
	t, err := compile(version, 0, 0, layout, 0, false, nil)
	if err != nil || t.minLen != recLen || t.shapeSet == nil {
		panic("decode: bad built-in layout for NetFlow v" + string(rune('0'+version)))
	}
	return t
}

// DecodeV1 decodes a NetFlow v1 packet. It needs no state.
//
//nfkit:hot
func DecodeV1(pkt []byte, out *Packet) error { return decodeFixedVersion(1, pkt, out) }

// DecodeV5 decodes a NetFlow v5 packet. It needs no state.
//
//nfkit:hot
func DecodeV5(pkt []byte, out *Packet) error { return decodeFixedVersion(5, pkt, out) }

// DecodeV7 decodes a NetFlow v7 packet. It needs no state.
//
//nfkit:hot
func DecodeV7(pkt []byte, out *Packet) error { return decodeFixedVersion(7, pkt, out) }

//nfkit:hot
func decodeFixedVersion(v uint16, pkt []byte, out *Packet) error {
	if len(pkt) < 2 {
		out.reset(v)
		return &DecodeError{Version: v, Err: ErrTruncated}
	}
	if binary.BigEndian.Uint16(pkt) != v {
		out.reset(binary.BigEndian.Uint16(pkt))
		return &DecodeError{Version: out.Version, Err: ErrVersion}
	}
	return decodeFixed(netip.Addr{}, pkt, out)
}

// decodeFixed decodes a v1, v5 or v7 packet. Records beyond the header's
// count are ignored; a packet shorter than its count announces yields the
// whole records present and ErrTruncated.
//
//nfkit:hot
func decodeFixed(addr netip.Addr, pkt []byte, out *Packet) error {
	version := binary.BigEndian.Uint16(pkt)
	out.reset(version)
	// avail, the whole records in the packet (when it holds a header),
	// divides by a constant, which the compiler turns into a
	// multiplication.
	hdrLen, recLen, t, avail := v5HeaderLen, v5RecordLen, templateV5, (len(pkt)-v5HeaderLen)/v5RecordLen
	switch version {
	case 1:
		hdrLen, recLen, t, avail = v1HeaderLen, v1RecordLen, templateV1, (len(pkt)-v1HeaderLen)/v1RecordLen
	case 7:
		hdrLen, recLen, t, avail = v7HeaderLen, v7RecordLen, templateV7, (len(pkt)-v7HeaderLen)/v7RecordLen
	}
	if len(pkt) < hdrLen {
		return &DecodeError{Version: version, Exporter: addr, Err: ErrTruncated}
	}
	out.Count = binary.BigEndian.Uint16(pkt[2:])
	out.SysUptime = binary.BigEndian.Uint32(pkt[4:])
	out.ExportTime = int64(binary.BigEndian.Uint32(pkt[8:]))*1e9 + int64(binary.BigEndian.Uint32(pkt[12:]))
	var rate uint64
	if version != 1 {
		out.Sequence = binary.BigEndian.Uint32(pkt[16:])
	}
	if version == 5 {
		out.EngineType, out.EngineID = pkt[20], pkt[21]
		out.Domain = uint32(pkt[20])<<8 | uint32(pkt[21])
		s := binary.BigEndian.Uint16(pkt[22:])
		out.SamplingMode, out.SamplingInterval = uint8(s>>14), s&0x3FFF
		rate = uint64(out.SamplingInterval)
	}
	n := int(out.Count)
	var err error
	if n > avail {
		n = avail
		err = &DecodeError{Version: version, Exporter: addr, Offset: hdrLen + n*recLen, Err: ErrTruncated}
	}
	if n <= 0 {
		return err
	}
	// Size the records once; the shape's set reader fills and stamps the
	// slots in a loop that calls nothing, then one loop adds what v1/v5/v7
	// records take from their header. The built-in templates are shared
	// by every exporter, so the exporter and domain are set here.
	start := len(out.Records)
	out.Records = slices.Grow(out.Records, n)[:start+n]
	recs := out.Records[start:]
	// The readers are called directly, so that set stays on the stack
	// (a call through t.shapeSet would move it to the heap).
	// Field by field: a composite literal is built in a temporary and
	// copied with wide loads that stall on its narrow stores.
	var set setEnv
	set.t, set.addr, set.version, set.seq, set.domain = t, addr, version, out.Sequence, out.Domain
	body := pkt[hdrLen : hdrLen+n*recLen]
	switch version {
	case 1:
		readNetFlowV1Set(body, recs, &set, hdrLen)
	case 5:
		readNetFlowV5Set(body, recs, &set, hdrLen)
	default:
		readNetFlowV7Set(body, recs, &set, hdrLen)
	}
	domain, export, uptime, ether := out.Domain, out.ExportTime, out.SysUptime, t.etherType
	for i := range recs {
		r := &recs[i]
		r.Start = sinceUptime(export, uptime, r.Start)
		r.End = sinceUptime(export, uptime, r.End)
		r.EtherType = ether
		r.SamplingRate, r.Domain = rate, domain
		if r.Exporter != addr { // a pointer store the slot seldom needs
			r.Exporter = addr
		}
	}
	return err
}
