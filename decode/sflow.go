package decode

import (
	"encoding/binary"
	"net/netip"
)

// sFlow version 5 (https://sflow.org/sflow_version_5.txt): a datagram is a
// header (agent address, sub-agent, sequence number, uptime) and samples,
// each tagged with its format and length (XDR, big-endian, 4-byte aligned).
// Flow samples become Records (one per sample, with the normalized fields
// filled from the sample's flow records) and an SFlowSample beside each;
// counter samples become SFlowCounters. Samples and records of formats
// not decoded here are skipped by their length and counted.

// The Version of sFlow v5 packets and records. The datagram's version field
// is 5, as NetFlow v5's; records say VersionSFlow5 so that the two are told
// apart (the output "type" is SFLOW_5, and SFLOW_5_COUNTERS for counters).
const (
	VersionSFlow5         uint16 = 105
	VersionSFlow5Counters uint16 = 106
)

// sFlow sample and record formats (enterprise 0).
const (
	sflowFlowSample             = 1
	sflowCountersSample         = 2
	sflowFlowSampleExpanded     = 3
	sflowCountersSampleExpanded = 4

	sflowRawHeader      = 1
	sflowEthernet       = 2
	sflowIPv4           = 3
	sflowIPv6           = 4
	sflowExtSwitch      = 1001
	sflowExtRouter      = 1002
	sflowExtGateway     = 1003
	sflowGenericIfCount = 1
	sflowEthernetCount  = 2

	sflowHeaderProtoEthernet = 1
	sflowHeaderProtoIPv4     = 11
	sflowHeaderProtoIPv6     = 12
	sflowHeaderProtoMPLS     = 13
	sflowHeaderProto80211    = 15

	sflowMinHeaderLen   = 28 // with an IPv4 agent address
	sflowFlowLen        = 32 // compact flow sample, up to its record count
	sflowFlowExpLen     = 44 // expanded flow sample
	sflowCountersLen    = 12
	sflowCountersExpLen = 16
	sflowGenericIfLen   = 88
	sflowEthernetLen    = 52
)

// SFlowHas says which parts an SFlowSample or SFlowCounters carries.
type SFlowHas uint16

// The parts of a flow or counter sample.
const (
	SFlowExpanded            SFlowHas = 1 << iota // an expanded sample (32-bit source id and interface formats)
	SFlowHasHeader                                // raw packet header record
	SFlowHasEthernet                              // sampled Ethernet frame record
	SFlowHasIPv4                                  // sampled IPv4 record
	SFlowHasIPv6                                  // sampled IPv6 record
	SFlowHasSwitch                                // extended switch record
	SFlowHasRouter                                // extended router record
	SFlowHasGateway                               // extended gateway record
	SFlowHasGenericIf                             // generic interface counters
	SFlowHasEthernetCounters                      // Ethernet interface counters
)

// Interface formats of a flow sample's input and output (the top 2 bits of
// a compact sample's interface, a word of its own in an expanded sample).
const (
	SFlowIfIndex     = 0 // the value is an ifIndex; 0x3FFFFFFF: the agent itself
	SFlowIfDiscarded = 1 // the packet was dropped; the value is the reason
	SFlowIfMultiple  = 2 // several output interfaces; the value is their number (0: unknown)
)

// SFlowSample is what an sFlow flow sample carries beyond the normalized
// fields of its Record: the sample's header and the fields of its records
// that have no normalized key.
type SFlowSample struct {
	// ASPath is the gateway record's destination AS path, every segment's
	// ASes in order; Communities its BGP communities (nil when empty).
	// They share a buffer of the Packet and are valid until the Packet's
	// next decode.
	ASPath      []uint32
	Communities []uint32
	Has         SFlowHas
	// Unknown counts the flow records of formats not decoded.
	Unknown      uint16
	SampleSeq    uint32 // the sample's sequence number (per source)
	SourceIDType uint32 // 0 ifIndex, 1 smonVlanDataSource, 2 entPhysicalEntry
	SourceIndex  uint32
	SamplePool   uint32 // packets that could have been sampled
	Drops        uint32 // packets dropped for lack of resources
	// Input and output interfaces as sent: a format (SFlowIfIndex, …) and
	// a value. The Record's InIf and OutIf are set when the format is
	// SFlowIfIndex.
	InFormat, InValue   uint32
	OutFormat, OutValue uint32
	// Raw packet header record.
	HeaderProtocol uint32 // 1 Ethernet, 11 IPv4, 12 IPv6, … (SFlowHasHeader)
	FrameLength    uint32 // the sampled frame's length
	Stripped       uint32 // bytes removed from the frame's end (FCS) before FrameLength
	// Extended switch record.
	SrcPriority, DstPriority uint32
	// Extended gateway record.
	RouterAS, SrcPeerAS, LocalPref uint32
}

// SFlowCounters is one sFlow counter sample.
type SFlowCounters struct {
	Exporter     netip.Addr
	Generic      SFlowIfCounters
	Ethernet     SFlowEthernetCounters
	Offset       int // the sample's byte offset in the datagram
	Has          SFlowHas
	Unknown      uint16 // counter records of formats not decoded
	SampleSeq    uint32
	SourceIDType uint32
	SourceIndex  uint32
}

// SFlowIfCounters is the generic interface counters record (format 1),
// as in the IF-MIB.
type SFlowIfCounters struct {
	Speed            uint64
	InOctets         uint64
	OutOctets        uint64
	Index            uint32
	Type             uint32
	Direction        uint32 // 0 unknown, 1 full-duplex, 2 half-duplex, 3 in, 4 out
	Status           uint32 // bit 0 ifAdminStatus up, bit 1 ifOperStatus up
	InUcastPkts      uint32
	InMulticastPkts  uint32
	InBroadcastPkts  uint32
	InDiscards       uint32
	InErrors         uint32
	InUnknownProtos  uint32
	OutUcastPkts     uint32
	OutMulticastPkts uint32
	OutBroadcastPkts uint32
	OutDiscards      uint32
	OutErrors        uint32
	PromiscuousMode  uint32
}

// SFlowEthernetCounters is the Ethernet interface counters record
// (format 2), as in the EtherLike-MIB.
type SFlowEthernetCounters struct {
	AlignmentErrors           uint32
	FCSErrors                 uint32
	SingleCollisionFrames     uint32
	MultipleCollisionFrames   uint32
	SQETestErrors             uint32
	DeferredTransmissions     uint32
	LateCollisions            uint32
	ExcessiveCollisions       uint32
	InternalMacTransmitErrors uint32
	CarrierSenseErrors        uint32
	FrameTooLongs             uint32
	InternalMacReceiveErrors  uint32
	SymbolErrors              uint32
}

// isSFlow5 reports whether pkt starts like an sFlow v5 datagram: its
// first 4 bytes are the version, 5.
//
//nfkit:hot
func isSFlow5(pkt []byte) bool {
	return len(pkt) >= 4 && binary.BigEndian.Uint32(pkt) == 5
}

// DecodeSFlow decodes an sFlow v5 datagram received from exporter into
// out: one Record per flow sample (Version VersionSFlow5) with
// out.SFlow[i] beside out.Records[i], and one SFlowCounters per counter
// sample. It needs no state; Decoder.Decode calls it for datagrams whose
// first 4 bytes are 0x00000005.
//
// Packet.Sequence is the datagram's sequence number, Domain its sub-agent
// id, SysUptime the agent's uptime (ms), Agent the agent address, Count
// the number of samples announced (at most 65535). Records alias nothing
// of pkt; ASPath and Communities live in out.
//
// On error (a *DecodeError naming the exporter and offset), out holds
// every sample decoded before and after the problem that could be framed.
//
//nfkit:hot
func DecodeSFlow(exporter netip.Addr, pkt []byte, out *Packet) error {
	out.reset(VersionSFlow5)
	//nfkit:allow closure inlined and does not escape
	derr := func(off int, err error, detail string) *DecodeError {
		return &DecodeError{Version: VersionSFlow5, Exporter: exporter, Offset: off, Err: err, Detail: detail}
	}
	if len(pkt) < sflowMinHeaderLen {
		return derr(0, ErrTruncated, "datagram header")
	}
	if v := binary.BigEndian.Uint32(pkt); v != 5 {
		return derr(0, ErrVersion, "sFlow datagram version is not 5")
	}
	off := 8
	switch binary.BigEndian.Uint32(pkt[4:]) {
	case 1:
		out.Agent = netip.AddrFrom4([4]byte(pkt[8:12]))
		off = 12
	case 2:
		if len(pkt) < sflowMinHeaderLen+12 {
			return derr(0, ErrTruncated, "datagram header")
		}
		out.Agent = netip.AddrFrom16([16]byte(pkt[8:24]))
		off = 24
	default:
		return derr(4, ErrFormat, "agent address type is neither 1 (IPv4) nor 2 (IPv6)")
	}
	h := (*[16]byte)(pkt[off:])
	out.Domain = binary.BigEndian.Uint32(h[0:])
	out.Sequence = binary.BigEndian.Uint32(h[4:])
	out.SysUptime = binary.BigEndian.Uint32(h[8:])
	n := binary.BigEndian.Uint32(h[12:])
	out.Count = uint16(min(n, 0xFFFF))

	// rest is what follows the samples decoded so far; its offset in pkt
	// is len(pkt)-len(rest).
	rest := pkt[off+16:]
	var first *DecodeError
	for ; n > 0 && len(rest) > 0; n-- {
		off := len(pkt) - len(rest)
		if len(rest) < 8 {
			first = keep(first, derr(off, ErrTruncated, "sample header"))
			break
		}
		sh := (*[8]byte)(rest)
		format := binary.BigEndian.Uint32(sh[0:])
		l := int64(binary.BigEndian.Uint32(sh[4:]))
		if l > int64(len(rest)-8) {
			first = keep(first, derr(off, ErrTruncated, "sample length past the end of the datagram"))
			break
		}
		b := rest[8 : 8+l]
		var err *DecodeError
		switch format {
		case sflowFlowSample, sflowFlowSampleExpanded:
			err = decodeFlowSample(exporter, off, b, format == sflowFlowSampleExpanded, out)
		case sflowCountersSample, sflowCountersSampleExpanded:
			err = decodeCounterSample(exporter, off, b, format == sflowCountersSampleExpanded, out)
		default:
			out.Skipped++ // another enterprise's or a newer format
		}
		first = keep(first, err)
		rest = rest[8+l:]
	}
	if n > 0 && first == nil {
		first = derr(len(pkt)-len(rest), ErrTruncated, "fewer samples than the datagram header announces")
	}
	if first != nil {
		return first
	}
	return nil
}

// keep returns the first non-nil error.
//
//nfkit:hot
func keep(first, err *DecodeError) *DecodeError {
	if first != nil {
		return first
	}
	return err
}

// decodeFlowSample decodes the flow sample at offset off of the datagram,
// whose body is b: the sample's header, then its records, the usual ones
// by a loop that calls nothing, the rest and the malformed ones by a
// general loop that goes on from where the first stopped.
//
//nfkit:hot
func decodeFlowSample(exporter netip.Addr, off int, b []byte, expanded bool, out *Packet) *DecodeError {
	p := sflowFlowLen
	if expanded {
		p = sflowFlowExpLen
	}
	if len(b) < p {
		if expanded {
			return sflowErr(exporter, off, ErrLength, "expanded flow sample shorter than its 44-byte header")
		}
		return sflowErr(exporter, off, ErrLength, "flow sample shorter than its 32-byte header")
	}
	// The record and sample slots: a length stored back, unless the
	// slices grow.
	nr := len(out.Records)
	if nr == cap(out.Records) {
		out.Records = append(out.Records, Record{})
	}
	out.Records = out.Records[:nr+1]
	r := &out.Records[nr]
	// A reused slot. Fields outside Has are zero (as everywhere in this
	// package), and the records below read no field, only Has: the slot
	// is cleared after them, of the fields the old record had and this
	// one has not, which for a slot that held a sample like this one is
	// none. A slot that held a record with other fields (NetFlow, IPFIX)
	// is cleared whole now, which costs less.
	old := r.Has
	if old&^sflowFields != 0 {
		r.Flow = Flow{}
		old = 0
	}
	if r.tmpl != nil || r.raw != nil {
		r.tmpl, r.raw = nil, nil
	}
	r.Version, r.TemplateID, r.Exporter, r.Sequence, r.Domain, r.Offset = VersionSFlow5, 0, exporter, out.Sequence, out.Domain, off
	r.OriginalSamplingRate = 0
	ns := len(out.SFlow)
	if ns == cap(out.SFlow) {
		out.SFlow = append(out.SFlow, SFlowSample{})
	}
	out.SFlow = out.SFlow[:ns+1]
	s := &out.SFlow[ns]
	// Zeroed, then written field by field: a composite literal would be
	// built on the stack and copied, and the copy's wide loads stall on the
	// narrow stores just made.
	*s = SFlowSample{}
	// Fixed-size fields are read through array pointers: one length
	// check each, none per field.
	var nrec uint32
	if expanded {
		h := (*[sflowFlowExpLen]byte)(b)
		s.Has = SFlowExpanded
		s.SampleSeq = binary.BigEndian.Uint32(h[0:])
		s.SourceIDType = binary.BigEndian.Uint32(h[4:])
		s.SourceIndex = binary.BigEndian.Uint32(h[8:])
		r.SamplingRate = uint64(binary.BigEndian.Uint32(h[12:]))
		s.SamplePool = binary.BigEndian.Uint32(h[12:])
		s.Drops = binary.BigEndian.Uint32(h[20:])
		s.InFormat, s.InValue = binary.BigEndian.Uint32(h[24:]), binary.BigEndian.Uint32(h[28:])
		s.OutFormat, s.OutValue = binary.BigEndian.Uint32(h[32:]), binary.BigEndian.Uint32(h[36:])
		nrec = binary.BigEndian.Uint32(h[40:])
	} else {
		h := (*[sflowFlowLen]byte)(b)
		s.SampleSeq = binary.BigEndian.Uint32(h[0:])
		src := binary.BigEndian.Uint32(h[4:])
		s.SourceIDType, s.SourceIndex = src>>24, src&0x00FFFFFF
		r.SamplingRate = uint64(binary.BigEndian.Uint32(h[8:]))
		s.SamplePool = binary.BigEndian.Uint32(h[12:])
		s.Drops = binary.BigEndian.Uint32(h[16:])
		in, o := binary.BigEndian.Uint32(h[20:]), binary.BigEndian.Uint32(h[24:])
		s.InFormat, s.InValue = in>>30, in&0x3FFFFFFF
		s.OutFormat, s.OutValue = o>>30, o&0x3FFFFFFF
		nrec = binary.BigEndian.Uint32(h[28:])
	}
	// A flow sample is one sampled packet (×SamplingRate with
	// Renormalize), whatever records describe it.
	r.Packets = 1
	has := HasPackets
	if s.InFormat == SFlowIfIndex {
		r.InIf = s.InValue
		has |= HasInIf
	}
	if s.OutFormat == SFlowIfIndex {
		r.OutIf = s.OutValue
		has |= HasOutIf
	}
	r.Has = has
	// rest is what follows the records decoded so far; its offset in pkt
	// is end-len(rest).
	end := off + 8 + len(b)
	rest := b[p:]

	// The records agents usually send (one raw Ethernet header, switch
	// data, an IPv4 next hop, one gateway record) are read by a loop
	// that calls nothing, through one array pointer over their framing
	// and first 16 bytes (rl >= 16: len(rest) >= 24); the header is
	// parsed and the gateway record decoded after it. Their fields are
	// none of the switch and router records', and the header's Bytes is
	// set in place, so that the fields come out as in record order. Any
	// other record, and any problem, ends this loop, and the general one
	// goes on from there, after them. (later holds them in memory rather
	// than in registers the loop would have to spill.)
	var later struct {
		frame, gw []byte
		gwOff     int
		frameSeen bool
		gwSeen    bool
	}
fast:
	for ; nrec > 0 && len(rest) >= 8; nrec-- {
		rh := (*[8]byte)(rest)
		rformat := binary.BigEndian.Uint32(rh[0:])
		rl := int64(binary.BigEndian.Uint32(rh[4:]))
		if rl > int64(len(rest)-8) {
			break
		}
		switch {
		case rformat == sflowRawHeader && rl >= 16:
			h := (*[24]byte)(rest)
			hl := int64(binary.BigEndian.Uint32(h[20:]))
			if later.frameSeen || binary.BigEndian.Uint32(h[8:]) != sflowHeaderProtoEthernet || hl > rl-16 {
				break fast
			}
			s.Has |= SFlowHasHeader
			s.HeaderProtocol = sflowHeaderProtoEthernet
			s.FrameLength = binary.BigEndian.Uint32(h[12:])
			s.Stripped = binary.BigEndian.Uint32(h[16:])
			if r.Has&HasBytes == 0 {
				r.Bytes = uint64(s.FrameLength)
				r.Has |= HasBytes
			}
			later.frame, later.frameSeen = rest[24:24+hl], true
		case rformat == sflowExtSwitch && rl >= 16:
			switchRecord((*[24]byte)(rest), r, s)
		case rformat == sflowExtRouter && rl >= 16 && binary.BigEndian.Uint32((*[24]byte)(rest)[8:]) == 1:
			h := (*[24]byte)(rest)
			s.Has |= SFlowHasRouter
			r.NextHop = netip.AddrFrom4([4]byte(h[12:16]))
			r.SrcMask = uint8(min(binary.BigEndian.Uint32(h[16:]), 128))
			r.DstMask = uint8(min(binary.BigEndian.Uint32(h[20:]), 128))
			r.Has |= HasNextHop | HasSrcMask | HasDstMask
		case rformat == sflowExtGateway && !later.gwSeen:
			later.gw, later.gwOff, later.gwSeen = rest[8:8+rl], end-len(rest), true
		default:
			break fast
		}
		rest = rest[8+rl:]
	}
	if later.frameSeen {
		parseFrame(later.frame, &r.Flow)
	}
	var err *DecodeError
	if later.gwSeen {
		if e := gatewayRecord(later.gw, r, s, out); e != "" {
			err = sflowErr(exporter, later.gwOff, ErrLength, e)
		}
	}

	for ; nrec > 0 && len(rest) > 0; nrec-- {
		if len(rest) < 8 {
			err = sflowErr(exporter, end-len(rest), ErrTruncated, "flow record header")
			break
		}
		rh := (*[8]byte)(rest)
		rformat := binary.BigEndian.Uint32(rh[0:])
		rl := int64(binary.BigEndian.Uint32(rh[4:]))
		if rl > int64(len(rest)-8) {
			err = sflowErr(exporter, end-len(rest), ErrLength, "flow record length past the end of its sample")
			break
		}
		rec := rest[8 : 8+rl]
		var e string
		switch rformat {
		case sflowRawHeader:
			e = rawHeaderRecord(rec, r, s)
		case sflowExtSwitch:
			if len(rec) < 16 {
				e = "extended switch record shorter than 16 bytes"
			} else {
				switchRecord((*[24]byte)(rest), r, s)
			}
		case sflowExtRouter:
			e = routerRecord(rec, r, s)
		case sflowExtGateway:
			e = gatewayRecord(rec, r, s, out)
		default:
			e = flowRecord(rformat, rec, r, s)
		}
		if e != "" {
			err = keep(err, sflowErr(exporter, end-len(rest), ErrLength, e))
		}
		rest = rest[8+rl:]
	}
	if nrec > 0 && err == nil {
		err = sflowErr(exporter, end-len(rest), ErrTruncated, "fewer flow records than the sample announces")
	}
	if stale := old &^ r.Has; stale != 0 {
		r.Flow.clear(stale)
	}
	return err
}

// sflowFields are the fields a flow sample can set.
const sflowFields = HasPackets | HasBytes | HasInIf | HasOutIf | HasSrcVLAN | HasDstVLAN |
	HasNextHop | HasSrcMask | HasDstMask | HasBGPNextHop | HasSrcAS | HasDstAS | frameFields

// rawHeaderRecord decodes a raw packet header record into r and s; it
// returns what is wrong with it, or "".
//
//nfkit:hot
func rawHeaderRecord(b []byte, r *Record, s *SFlowSample) string {
	if len(b) < 16 {
		return "raw packet header record shorter than 16 bytes"
	}
	proto := binary.BigEndian.Uint32(b)
	hl := binary.BigEndian.Uint32(b[12:])
	if uint64(hl) > uint64(len(b)-16) {
		return "sampled header longer than its record"
	}
	s.Has |= SFlowHasHeader
	s.HeaderProtocol = proto
	s.FrameLength = binary.BigEndian.Uint32(b[4:])
	s.Stripped = binary.BigEndian.Uint32(b[8:])
	if r.Has&HasBytes == 0 {
		r.Bytes = uint64(s.FrameLength)
		r.Has |= HasBytes
	}
	h := b[16 : 16+int(hl)]
	switch proto {
	case sflowHeaderProtoEthernet:
		parseFrame(h, &r.Flow)
	case sflowHeaderProtoIPv4, sflowHeaderProtoIPv6:
		parseIPHeader(h, &r.Flow)
	case sflowHeaderProtoMPLS:
		parseMPLS(h, &r.Flow)
	case sflowHeaderProto80211:
		parse80211Header(h, &r.Flow)
	}
	return ""
}

// switchRecord decodes the extended switch record framed by h (its
// header, then its 16 bytes).
//
//nfkit:hot
func switchRecord(h *[24]byte, r *Record, s *SFlowSample) {
	s.Has |= SFlowHasSwitch
	// VLAN 0 is no VLAN (agents that do not know send it): the frame's
	// own tag, if any, stays.
	if v := binary.BigEndian.Uint32(h[8:]); v != 0 {
		r.SrcVLAN = uint16(v)
		r.Has |= HasSrcVLAN
	}
	if v := binary.BigEndian.Uint32(h[16:]); v != 0 {
		r.DstVLAN = uint16(v)
		r.Has |= HasDstVLAN
	}
	s.SrcPriority = binary.BigEndian.Uint32(h[12:])
	s.DstPriority = binary.BigEndian.Uint32(h[20:])
}

// routerRecord decodes an extended router record: next hop and masks.
//
//nfkit:hot
func routerRecord(b []byte, r *Record, s *SFlowSample) string {
	a, n, ok := sflowAddr(b)
	if !ok || len(b) < n+8 {
		return "malformed extended router record"
	}
	s.Has |= SFlowHasRouter
	r.NextHop = a
	r.SrcMask = uint8(min(binary.BigEndian.Uint32(b[n:]), 128))
	r.DstMask = uint8(min(binary.BigEndian.Uint32(b[n+4:]), 128))
	r.Has |= HasNextHop | HasSrcMask | HasDstMask
	return ""
}

// flowRecord decodes a flow record of the formats decodeFlowSample leaves
// to it (sampled Ethernet, IPv4 and IPv6, and the unknown ones) into r
// and s; it returns what is wrong with it, or "".
//
//nfkit:hot
func flowRecord(format uint32, b []byte, r *Record, s *SFlowSample) string {
	switch format {
	case sflowEthernet:
		if len(b) < 24 {
			return "sampled Ethernet record shorter than 24 bytes"
		}
		s.Has |= SFlowHasEthernet
		if r.Has&HasBytes == 0 {
			r.Bytes = uint64(binary.BigEndian.Uint32(b))
			r.Has |= HasBytes
		}
		if r.Has&HasSrcMAC == 0 {
			r.SrcMAC = MAC(b[4:10])
			r.Has |= HasSrcMAC
		}
		if r.Has&HasDstMAC == 0 {
			r.DstMAC = MAC(b[12:18])
			r.Has |= HasDstMAC
		}
		if r.Has&HasEtherType == 0 {
			r.EtherType = uint16(binary.BigEndian.Uint32(b[20:]))
			r.Has |= HasEtherType
		}
	case sflowIPv4:
		if len(b) < 32 {
			return "sampled IPv4 record shorter than 32 bytes"
		}
		s.Has |= SFlowHasIPv4
		sampledIP(b, 4, r)
	case sflowIPv6:
		if len(b) < 56 {
			return "sampled IPv6 record shorter than 56 bytes"
		}
		s.Has |= SFlowHasIPv6
		sampledIP(b, 16, r)
	default:
		s.Unknown++
	}
	return ""
}

// sampledIP decodes a sampled IPv4 (alen 4) or IPv6 (alen 16) record.
//
//nfkit:hot
func sampledIP(b []byte, alen int, r *Record) {
	f := &r.Flow
	if f.Has&HasBytes == 0 {
		f.Bytes = uint64(binary.BigEndian.Uint32(b))
	}
	if f.Has&HasProto == 0 {
		f.Proto = uint8(binary.BigEndian.Uint32(b[4:]))
	}
	var src, dst netip.Addr
	var et uint16
	var v uint8
	o := 8 + 2*alen
	if alen == 4 {
		src, dst, et, v = netip.AddrFrom4([4]byte(b[8:12])), netip.AddrFrom4([4]byte(b[12:16])), etherTypeIPv4, 4
	} else {
		src, dst, et, v = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40])), etherTypeIPv6, 6
	}
	if f.Has&HasSrcAddr == 0 {
		f.SrcAddr = src
	}
	if f.Has&HasDstAddr == 0 {
		f.DstAddr = dst
	}
	if f.Has&HasIPVersion == 0 {
		f.IPVersion = v
	}
	if f.Has&HasEtherType == 0 {
		f.EtherType = et
	}
	if f.Has&HasSrcPort == 0 {
		f.SrcPort = uint16(binary.BigEndian.Uint32(b[o:]))
	}
	if f.Has&HasDstPort == 0 {
		f.DstPort = uint16(binary.BigEndian.Uint32(b[o+4:]))
	}
	if f.Has&HasTCPFlags == 0 {
		f.TCPFlags = uint16(binary.BigEndian.Uint32(b[o+8:]))
	}
	if f.Has&HasTOS == 0 {
		f.TOS = uint8(binary.BigEndian.Uint32(b[o+12:])) // IPv6: priority
	}
	f.Has |= HasBytes | HasProto | HasSrcAddr | HasDstAddr | HasIPVersion | HasEtherType | HasSrcPort | HasDstPort | HasTCPFlags | HasTOS
}

// sflowAddr reads an sFlow address (type 1 IPv4, 2 IPv6) and returns it
// and the bytes it took.
//
//nfkit:hot
func sflowAddr(b []byte) (netip.Addr, int, bool) {
	if len(b) < 8 {
		return netip.Addr{}, 0, false
	}
	switch binary.BigEndian.Uint32(b) {
	case 1:
		return netip.AddrFrom4([4]byte(b[4:8])), 8, true
	case 2:
		if len(b) < 20 {
			return netip.Addr{}, 0, false
		}
		return netip.AddrFrom16([16]byte(b[4:20])), 20, true
	case 0: // unknown: no address follows
		return netip.Addr{}, 4, true
	}
	return netip.Addr{}, 0, false
}

// gatewayRecord decodes an extended gateway record: BGP next hop, the
// router's, source and source peer AS, the destination AS path and the
// communities. dst_as is the path's last AS, or the router's own when the
// path is empty (the destination is in its AS).
//
//nfkit:hot
func gatewayRecord(b []byte, r *Record, s *SFlowSample, out *Packet) string {
	// The usual record, an IPv4 next hop, one AS path segment and no
	// communities, read in place; the others below.
	if len(b) >= 40 && binary.BigEndian.Uint32(b) == 1 && binary.BigEndian.Uint32(b[20:24]) == 1 {
		g := (*[32]byte)(b)
		n := int64(binary.BigEndian.Uint32(g[28:]))
		if n <= int64(len(b)-40)/4 && binary.BigEndian.Uint32(b[32+4*n:36+4*n]) == 0 {
			routerAS := binary.BigEndian.Uint32(g[8:])
			s.RouterAS = routerAS
			s.SrcPeerAS = binary.BigEndian.Uint32(g[16:])
			s.LocalPref = binary.BigEndian.Uint32(b[36+4*n : 40+4*n])
			s.Has |= SFlowHasGateway
			r.BGPNextHop = netip.AddrFrom4([4]byte(g[4:8]))
			r.SrcAS = binary.BigEndian.Uint32(g[12:])
			r.DstAS = routerAS
			if n > 0 {
				asns := out.asns
				start := len(asns)
				for p := int64(32); p < 32+4*n; p += 4 {
					asns = append(asns, binary.BigEndian.Uint32(b[p:p+4]))
				}
				out.asns = asns
				s.ASPath = asns[start:len(asns):len(asns)]
				r.DstAS = asns[len(asns)-1]
			}
			r.Has |= HasBGPNextHop | HasSrcAS | HasDstAS
			return ""
		}
	}
	var a netip.Addr
	var h *[16]byte                                      // router AS, source AS, source peer AS, AS path segments
	if len(b) >= 24 && binary.BigEndian.Uint32(b) == 1 { // an IPv4 next hop, as most are
		g := (*[24]byte)(b)
		a, h, b = netip.AddrFrom4([4]byte(g[4:8])), (*[16]byte)(g[8:]), b[24:]
	} else if len(b) >= 36 && binary.BigEndian.Uint32(b) == 2 { // IPv6
		g := (*[36]byte)(b)
		a, h, b = netip.AddrFrom16([16]byte(g[4:20])), (*[16]byte)(g[20:]), b[36:]
	} else {
		na, n, ok := sflowAddr(b)
		if !ok || len(b) < n+16 {
			return "malformed extended gateway record"
		}
		a, h, b = na, (*[16]byte)(b[n:]), b[n+16:]
	}
	routerAS := binary.BigEndian.Uint32(h[0:])
	src := binary.BigEndian.Uint32(h[4:])
	s.RouterAS = routerAS
	s.SrcPeerAS = binary.BigEndian.Uint32(h[8:])
	segs := binary.BigEndian.Uint32(h[12:])
	// The ASNs go to out.asns through a local slice; on a malformed
	// record nothing is kept.
	asns := out.asns
	start := len(asns)
	for ; segs > 0; segs-- {
		if len(b) < 8 {
			return "extended gateway AS path past the end of its record"
		}
		n := uint64(binary.BigEndian.Uint32((*[8]byte)(b)[4:]))
		b = b[8:]
		if n*4 > uint64(len(b)) {
			return "extended gateway AS path past the end of its record"
		}
		for ; n > 0; n-- {
			asns = append(asns, binary.BigEndian.Uint32((*[4]byte)(b)[:]))
			b = b[4:]
		}
	}
	path := len(asns)
	if len(b) < 4 {
		return "extended gateway communities past the end of its record"
	}
	nc := uint64(binary.BigEndian.Uint32(b))
	b = b[4:]
	if nc*4+4 > uint64(len(b)) {
		return "extended gateway communities past the end of its record"
	}
	for ; nc > 0; nc-- {
		asns = append(asns, binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	out.asns = asns
	s.LocalPref = binary.BigEndian.Uint32(b)
	s.Has |= SFlowHasGateway
	if path > start {
		s.ASPath = asns[start:path:path]
	}
	if len(asns) > path {
		s.Communities = asns[path:len(asns):len(asns)]
	}
	if a.IsValid() {
		r.BGPNextHop = a
		r.Has |= HasBGPNextHop
	}
	r.SrcAS = src
	r.DstAS = routerAS
	if path > start {
		r.DstAS = asns[path-1]
	}
	r.Has |= HasSrcAS | HasDstAS
	return ""
}

// decodeCounterSample decodes the counter sample at offset off of the
// datagram, whose body is b.
//
//nfkit:hot
func decodeCounterSample(exporter netip.Addr, off int, b []byte, expanded bool, out *Packet) *DecodeError {
	var c *SFlowCounters
	if len(out.Counters) < cap(out.Counters) {
		out.Counters = out.Counters[:len(out.Counters)+1]
	} else {
		out.Counters = append(out.Counters, SFlowCounters{})
	}
	c = &out.Counters[len(out.Counters)-1]
	*c = SFlowCounters{Exporter: exporter, Offset: off}
	base := off + 8
	var nrec uint32
	var p int
	if expanded {
		if len(b) < sflowCountersExpLen {
			out.Counters = out.Counters[:len(out.Counters)-1]
			return sflowErr(exporter, off, ErrLength, "expanded counter sample shorter than its 16-byte header")
		}
		c.Has = SFlowExpanded
		c.SampleSeq = binary.BigEndian.Uint32(b)
		c.SourceIDType = binary.BigEndian.Uint32(b[4:])
		c.SourceIndex = binary.BigEndian.Uint32(b[8:])
		nrec = binary.BigEndian.Uint32(b[12:])
		p = sflowCountersExpLen
	} else {
		if len(b) < sflowCountersLen {
			out.Counters = out.Counters[:len(out.Counters)-1]
			return sflowErr(exporter, off, ErrLength, "counter sample shorter than its 12-byte header")
		}
		c.SampleSeq = binary.BigEndian.Uint32(b)
		src := binary.BigEndian.Uint32(b[4:])
		c.SourceIDType, c.SourceIndex = src>>24, src&0x00FFFFFF
		nrec = binary.BigEndian.Uint32(b[8:])
		p = sflowCountersLen
	}
	var err *DecodeError
	var k uint32
	for ; k < nrec && p < len(b); k++ {
		if len(b)-p < 8 {
			err = sflowErr(exporter, base+p, ErrTruncated, "counter record header")
			break
		}
		format := binary.BigEndian.Uint32(b[p:])
		l := binary.BigEndian.Uint32(b[p+4:])
		if uint64(l) > uint64(len(b)-p-8) {
			err = sflowErr(exporter, base+p, ErrLength, "counter record length past the end of its sample")
			break
		}
		rec := b[p+8 : p+8+int(l)]
		switch format {
		case sflowGenericIfCount:
			if len(rec) < sflowGenericIfLen {
				err = keep(err, sflowErr(exporter, base+p, ErrLength, "generic interface counters shorter than 88 bytes"))
				break
			}
			c.Has |= SFlowHasGenericIf
			g := &c.Generic
			g.Index = binary.BigEndian.Uint32(rec)
			g.Type = binary.BigEndian.Uint32(rec[4:])
			g.Speed = binary.BigEndian.Uint64(rec[8:])
			g.Direction = binary.BigEndian.Uint32(rec[16:])
			g.Status = binary.BigEndian.Uint32(rec[20:])
			g.InOctets = binary.BigEndian.Uint64(rec[24:])
			g.InUcastPkts = binary.BigEndian.Uint32(rec[32:])
			g.InMulticastPkts = binary.BigEndian.Uint32(rec[36:])
			g.InBroadcastPkts = binary.BigEndian.Uint32(rec[40:])
			g.InDiscards = binary.BigEndian.Uint32(rec[44:])
			g.InErrors = binary.BigEndian.Uint32(rec[48:])
			g.InUnknownProtos = binary.BigEndian.Uint32(rec[52:])
			g.OutOctets = binary.BigEndian.Uint64(rec[56:])
			g.OutUcastPkts = binary.BigEndian.Uint32(rec[64:])
			g.OutMulticastPkts = binary.BigEndian.Uint32(rec[68:])
			g.OutBroadcastPkts = binary.BigEndian.Uint32(rec[72:])
			g.OutDiscards = binary.BigEndian.Uint32(rec[76:])
			g.OutErrors = binary.BigEndian.Uint32(rec[80:])
			g.PromiscuousMode = binary.BigEndian.Uint32(rec[84:])
		case sflowEthernetCount:
			if len(rec) < sflowEthernetLen {
				err = keep(err, sflowErr(exporter, base+p, ErrLength, "Ethernet interface counters shorter than 52 bytes"))
				break
			}
			c.Has |= SFlowHasEthernetCounters
			e := &c.Ethernet
			e.AlignmentErrors = binary.BigEndian.Uint32(rec)
			e.FCSErrors = binary.BigEndian.Uint32(rec[4:])
			e.SingleCollisionFrames = binary.BigEndian.Uint32(rec[8:])
			e.MultipleCollisionFrames = binary.BigEndian.Uint32(rec[12:])
			e.SQETestErrors = binary.BigEndian.Uint32(rec[16:])
			e.DeferredTransmissions = binary.BigEndian.Uint32(rec[20:])
			e.LateCollisions = binary.BigEndian.Uint32(rec[24:])
			e.ExcessiveCollisions = binary.BigEndian.Uint32(rec[28:])
			e.InternalMacTransmitErrors = binary.BigEndian.Uint32(rec[32:])
			e.CarrierSenseErrors = binary.BigEndian.Uint32(rec[36:])
			e.FrameTooLongs = binary.BigEndian.Uint32(rec[40:])
			e.InternalMacReceiveErrors = binary.BigEndian.Uint32(rec[44:])
			e.SymbolErrors = binary.BigEndian.Uint32(rec[48:])
		default:
			c.Unknown++
		}
		p += 8 + len(rec)
	}
	if k < nrec && err == nil {
		err = sflowErr(exporter, base+p, ErrTruncated, "fewer counter records than the sample announces")
	}
	return err
}

// sflowErr is the error of the sample or record at offset off.
//
//nfkit:hot
func sflowErr(exporter netip.Addr, off int, err error, detail string) *DecodeError {
	return &DecodeError{Version: VersionSFlow5, Exporter: exporter, Offset: off, Err: err, Detail: detail}
}
