package analyzer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// This file reads the line format of python-netflow's collector (and nfcollect
// --format python-netflow): one export packet per line,
//
//	{"<receive ts>": {"client": [host, port], "header": {...}, "flows": [{...}, ...]}}
//
// with v1/v5 names (IPV4_SRC_ADDR as integers, IN_OCTETS, IN_PACKETS, SRC_PORT),
// v9 names (addresses as strings, IN_BYTES, IN_PKTS, L4_SRC_PORT) and IPFIX names
// (sourceIPv4Address as integer or string, octetDeltaCount, flowStartMilliseconds...).
// This format is rarer than JSON lines, so it uses encoding/json.

// pyParser is not safe for concurrent use.
type pyParser struct {
	// systemInitTimeMilliseconds per exporter (IPFIX options data), to turn
	// flowStartSysUpTime into absolute time.
	sysInit map[netip.Addr]int64
}

// pyFlowError is a problem with one flow record of an otherwise good line.
type pyFlowError struct {
	Index int
	Err   error
}

func (e *pyFlowError) Error() string { return fmt.Sprintf("flow %d: %v", e.Index, e.Err) }

const ntpEpochOffset = 2208988800 // seconds from 1900-01-01 to 1970-01-01

// parse reads one line and calls emit for each flow record. Records without
// addresses (IPFIX options data) are not flows and are passed over silently.
// It returns the per-record errors of a line it could read, or a line error.
func (p *pyParser) parse(line []byte, emit func(*Flow)) (recErrs []error, err error) {
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var outer map[string]json.RawMessage
	if err := d.Decode(&outer); err != nil {
		return nil, jsonErr(err)
	}
	if d.More() {
		return nil, errors.New("unexpected data after the record")
	}
	if len(outer) != 1 {
		return nil, fmt.Errorf("python-netflow line has %d keys, want 1 (the receive time)", len(outer))
	}
	var tsKey string
	var body json.RawMessage
	for k, v := range outer {
		tsKey, body = k, v
	}
	recv, perr := strconv.ParseFloat(tsKey, 64)
	if perr != nil {
		return nil, fmt.Errorf("key %q is not a receive timestamp", tsKey)
	}
	var pkt struct {
		Client []any            `json:"client"`
		Header map[string]any   `json:"header"`
		Flows  []map[string]any `json:"flows"`
	}
	d = json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&pkt); err != nil {
		return nil, jsonErr(err)
	}
	if pkt.Header == nil {
		return nil, &missingError{"header"}
	}
	version, ok := num(pkt.Header["version"])
	if !ok {
		return nil, &missingError{"header.version"}
	}
	var exporter netip.Addr
	if len(pkt.Client) > 0 {
		if s, ok := pkt.Client[0].(string); ok {
			exporter, _ = netip.ParseAddr(s)
		}
	}
	recvNs := int64(math.Round(recv * 1e9))

	// Export time and uptime from the header.
	var exportNs int64
	var uptime uint64
	switch version {
	case 10:
		t, _ := num(pkt.Header["export_uptime"]) // RFC 7011 Export Time, misnamed
		exportNs = int64(t) * 1e9
	default:
		t, _ := num(pkt.Header["timestamp"])
		nano, _ := num(pkt.Header["timestamp_nano"])
		exportNs = int64(t)*1e9 + int64(nano)
		uptime, _ = num(pkt.Header["uptime"])
	}
	if exportNs == 0 {
		exportNs = recvNs
	}
	// IPFIX options records carry systemInitTimeMilliseconds; read them first,
	// since the key order of a record and the record order are arbitrary.
	for _, rec := range pkt.Flows {
		if v, ok := num(rec["systemInitTimeMilliseconds"]); ok {
			if p.sysInit == nil {
				p.sysInit = map[netip.Addr]int64{}
			}
			p.sysInit[exporter] = int64(v) * 1e6
		}
	}
	// uptime-relative ms (v1/v5/v9 FIRST_SWITCHED) to Unix ns; uptime wraps at 2^32.
	rel := func(ms uint64) int64 {
		return exportNs - int64(int32(uint32(uptime)-uint32(ms)))*1e6
	}
	var f Flow
	for idx, rec := range pkt.Flows {
		f = Flow{Received: recvNs, Exporter: exporter, Version: uint8(version)}
		var haveSrc, haveDst bool
		var ferr error
		for k, v := range rec {
			var err error
			switch k {
			case "IPV4_SRC_ADDR", "IPV6_SRC_ADDR", "sourceIPv4Address", "sourceIPv6Address":
				f.Src, err = pyAddr(v, k)
				haveSrc = err == nil
			case "IPV4_DST_ADDR", "IPV6_DST_ADDR", "destinationIPv4Address", "destinationIPv6Address":
				f.Dst, err = pyAddr(v, k)
				haveDst = err == nil
			case "SRC_PORT", "L4_SRC_PORT", "sourceTransportPort":
				f.SrcPort = uint16(mustNum(v, k, &err))
			case "DST_PORT", "L4_DST_PORT", "destinationTransportPort":
				f.DstPort = uint16(mustNum(v, k, &err))
			case "PROTO", "PROTOCOL", "protocolIdentifier":
				f.Proto = uint8(mustNum(v, k, &err))
			case "IN_OCTETS", "IN_BYTES", "octetDeltaCount", "octetTotalCount", "NF_F_FWD_FLOW_DELTA_BYTES":
				f.Bytes = mustNum(v, k, &err)
			case "IN_PACKETS", "IN_PKTS", "packetDeltaCount", "packetTotalCount":
				f.Packets = mustNum(v, k, &err)
			case "NF_F_REV_FLOW_DELTA_BYTES":
				f.RevBytes = mustNum(v, k, &err)
				f.Flags |= flowBiflow
			case "SRC_AS", "bgpSourceAsNumber":
				f.SrcAS = uint32(mustNum(v, k, &err))
			case "DST_AS", "bgpDestinationAsNumber":
				f.DstAS = uint32(mustNum(v, k, &err))
			case "FLOWS":
				f.Flows = mustNum(v, k, &err)
			}
			if err != nil && ferr == nil {
				ferr = err
			}
		}
		if !haveSrc && !haveDst && ferr == nil {
			continue // options data or a layer-2 only record
		}
		if ferr == nil && !haveSrc {
			ferr = &missingError{"source address"}
		}
		if ferr == nil && !haveDst {
			ferr = &missingError{"destination address"}
		}
		if ferr != nil {
			recErrs = append(recErrs, &pyFlowError{idx, ferr})
			continue
		}
		// Fallback counters for exporters that only send egress counters.
		if f.Bytes == 0 {
			if v, ok := num(firstOf(rec, "OUT_BYTES", "postOctetDeltaCount")); ok {
				f.Bytes = v
			}
		}
		if f.Packets == 0 {
			if v, ok := num(firstOf(rec, "OUT_PKTS", "postPacketDeltaCount")); ok {
				f.Packets = v
			}
		}
		// ICMP type/code where there are no ports.
		if f.SrcPort == 0 && f.DstPort == 0 {
			if v, ok := num(firstOf(rec, "ICMP_TYPE", "icmpTypeCodeIPv4", "icmpTypeCodeIPv6")); ok {
				f.DstPort = uint16(v)
			} else if t, ok := num(firstOf(rec, "NF_F_ICMP_TYPE", "NF_F_ICMP_TYPE_IPV6")); ok {
				c, _ := num(firstOf(rec, "NF_F_ICMP_CODE", "NF_F_ICMP_CODE_IPV6"))
				f.DstPort = uint16(t<<8 | c&0xff)
			}
		}
		f.Start, f.End = p.times(rec, exporter, exportNs, rel, &f.Flags)
		f.fixTimes()
		emit(&f)
	}
	return recErrs, nil
}

// times finds the flow start/end in any of the forms v1/v5/v9/IPFIX send them.
func (p *pyParser) times(rec map[string]any, exporter netip.Addr, exportNs int64, rel func(uint64) int64, flags *uint8) (start, end int64) {
	get := func(names [7]string) (int64, bool) {
		// names: uptime-relative ms, absolute s, ms, NTP µs, NTP ns, sysUpTime ms, delta µs
		if v, ok := num(rec[names[0]]); ok && names[0] != "" {
			return rel(v), true
		}
		if v, ok := num(rec[names[1]]); ok {
			return int64(v) * 1e9, true
		}
		if v, ok := num(rec[names[2]]); ok {
			return int64(v) * 1e6, true
		}
		for _, n := range names[3:5] {
			if t, ok := rec[n].([]any); ok && len(t) == 2 {
				s, ok1 := num(t[0])
				fr, ok2 := num(t[1])
				if ok1 && ok2 {
					ns := int64(fr) * 1e9 >> 32
					if n == names[3] {
						ns = ns / 1000 * 1000 // microsecond precision: the low 11 bits are ignored
					}
					return (int64(s)-ntpEpochOffset)*1e9 + ns, true
				}
			}
		}
		if v, ok := num(rec[names[5]]); ok {
			if base, ok := p.sysInit[exporter]; ok {
				return base + int64(v)*1e6, true
			}
			return exportNs, true // no systemInitTimeMilliseconds seen: best effort
		}
		if v, ok := num(rec[names[6]]); ok {
			return exportNs - int64(v)*1e3, true
		}
		return 0, false
	}
	var ok bool
	start, ok = get([7]string{"FIRST_SWITCHED", "flowStartSeconds", "flowStartMilliseconds", "flowStartMicroseconds", "flowStartNanoseconds", "flowStartSysUpTime", "flowStartDeltaMicroseconds"})
	if !ok {
		if v, ok2 := num(rec["NF_F_FLOW_CREATE_TIME_MSEC"]); ok2 {
			start, ok = int64(v)*1e6, true
		}
	}
	if ok {
		*flags |= flowHasStart
	}
	end, ok = get([7]string{"LAST_SWITCHED", "flowEndSeconds", "flowEndMilliseconds", "flowEndMicroseconds", "flowEndNanoseconds", "flowEndSysUpTime", "flowEndDeltaMicroseconds"})
	if ok {
		*flags |= flowHasEnd
	}
	return start, end
}

func firstOf(rec map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := rec[k]; ok {
			return v
		}
	}
	return nil
}

// num reads a non-negative integer JSON value.
func num(v any) (uint64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
		return u, true
	}
	if f, err := n.Float64(); err == nil && f >= 0 && f < 1<<64 {
		return uint64(f), true
	}
	return 0, false
}

func mustNum(v any, key string, err *error) uint64 {
	u, ok := num(v)
	if !ok {
		*err = fmt.Errorf("%s: expected a non-negative number, got %s", key, short(v))
	}
	return u
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		b = append(b[:37], "..."...)
	}
	return string(b)
}

// pyAddr reads an address given as a string or as an integer (IPv4 up to 2^32-1
// for v1/v5/IPFIX ipv4Address, IPv6 as a 128-bit integer for IPFIX ipv6Address).
func pyAddr(v any, key string) (netip.Addr, error) {
	switch x := v.(type) {
	case string:
		a, err := netip.ParseAddr(x)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%s: bad address %q", key, x)
		}
		return a, nil
	case json.Number:
		hi, lo, ok := parseUint128(string(x))
		if !ok {
			return netip.Addr{}, fmt.Errorf("%s: bad address %s", key, x)
		}
		v6 := strings.Contains(key, "IPV6") || strings.Contains(key, "IPv6")
		if !v6 {
			if hi != 0 || lo > math.MaxUint32 {
				return netip.Addr{}, fmt.Errorf("%s: %s is not an IPv4 address", key, x)
			}
			return netip.AddrFrom4([4]byte{byte(lo >> 24), byte(lo >> 16), byte(lo >> 8), byte(lo)}), nil
		}
		var b [16]byte
		for i := 0; i < 8; i++ {
			b[i] = byte(hi >> (56 - 8*i))
			b[8+i] = byte(lo >> (56 - 8*i))
		}
		return netip.AddrFrom16(b), nil
	}
	return netip.Addr{}, fmt.Errorf("%s: expected an address, got %s", key, short(v))
}

// parseUint128 parses a decimal string of up to 128 bits.
func parseUint128(s string) (hi, lo uint64, ok bool) {
	if s == "" {
		return 0, 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, 0, false
		}
		// (hi,lo) = (hi,lo)*10 + c
		h1, l1 := bits.Mul64(lo, 10)
		if hi > (math.MaxUint64-h1)/10 {
			return 0, 0, false
		}
		nhi := hi*10 + h1
		nlo := l1 + uint64(c)
		if nlo < l1 {
			if nhi == math.MaxUint64 {
				return 0, 0, false
			}
			nhi++
		}
		hi, lo = nhi, nlo
	}
	return hi, lo, true
}

func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &syntaxError{Col: int(se.Offset), Msg: se.Error()}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of line (truncated record?)")
	}
	return err
}
