package pynetflow

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
)

// Flow is one flow record of a line, as a Reader reads it. Times are Unix
// nanoseconds.
type Flow struct {
	Received int64      // the line's receive time
	Exporter netip.Addr // the line's client; zero when it is not an address
	Version  uint8      // the header's version: 1, 5, 7, 9 or 10 (IPFIX)

	Src, Dst         netip.Addr
	SrcPort, DstPort uint16 // for ICMP without ports: DstPort = type<<8 | code
	Proto            uint8
	SrcAS, DstAS     uint32

	Bytes, Packets       uint64 // in-direction counters, else the egress ones
	RevBytes, RevPackets uint64 // reverse counters of a biflow (RFC 5103, Cisco ASA)
	Biflow               bool   // reverse counters were sent
	Flows                uint64 // aggregated flow count; 0 when not sent

	Start, End       int64 // meaningful only when HasStart / HasEnd
	HasStart, HasEnd bool
}

// RecordError is a flow record of a good line that could not be read.
type RecordError struct {
	Index int // the record's position in the line's flows
	Err   error
}

func (e *RecordError) Error() string { return fmt.Sprintf("flow %d: %v", e.Index, e.Err) }
func (e *RecordError) Unwrap() error { return e.Err }

// SyntaxError is a line that is not JSON.
type SyntaxError struct {
	Col int // 1-based position where the problem was noticed
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// MissingError is a line or record without a key it needs.
type MissingError struct{ Key string }

func (e *MissingError) Error() string { return "missing field " + strconv.Quote(e.Key) }

// Reader turns lines of the format into flows. It remembers the
// systemInitTimeMilliseconds an exporter sent in IPFIX options data, to
// place later flowStartSysUpTime times. The zero Reader is ready to use; a
// Reader is not safe for concurrent use.
type Reader struct {
	sysInit map[netip.Addr]int64 // ns
}

// maxExporters bounds the exporters whose init time a Reader remembers, so
// that a hostile file cannot grow it without end; later ones fall back to
// the export time.
const maxExporters = 1 << 16

const ntpEpochOffset = 2208988800 // seconds from 1900-01-01 to 1970-01-01

// ReadLine parses one line and calls fn for each flow in it (with a Flow
// valid during the call). Records without addresses (IPFIX options data,
// layer-2 records) are not flows and are passed over. A record that cannot
// be read is skipped and reported in skipped as a *RecordError; err is a
// problem of the line as a whole, which then gives no flows.
func (r *Reader) ReadLine(line []byte, fn func(*Flow)) (skipped []error, err error) {
	pkt, h, err := parseLine(line)
	if err != nil {
		return nil, err
	}
	// IPFIX options records carry systemInitTimeMilliseconds; read them first,
	// since the key order of a record and the record order are arbitrary.
	for _, rec := range pkt.Flows {
		if v, ok := num(rec[keys.sysInit]); ok {
			r.setSysInit(h.exporter, int64(v)*1e6)
		}
	}
	t := recTimes{r: r, exporter: h.exporter, exportNs: h.exportNs, uptime: h.uptime}
	var f Flow
	for idx, rec := range pkt.Flows {
		f = Flow{Received: h.recvNs, Exporter: h.exporter, Version: h.version}
		ok, ferr := f.read(rec, &t)
		if ferr != nil {
			skipped = append(skipped, &RecordError{idx, ferr})
			continue
		}
		if ok {
			fn(&f)
		}
	}
	return skipped, nil
}

// pyPacket is a line's export packet.
type pyPacket struct {
	Client []any            `json:"client"`
	Header map[string]any   `json:"header"`
	Flows  []map[string]any `json:"flows"`
}

// lineHeader is what a line says of its export packet as a whole.
type lineHeader struct {
	recvNs, exportNs int64
	uptime           uint64
	exporter         netip.Addr
	version          uint8
}

// parseLine parses a line's JSON and its packet's header.
func parseLine(line []byte) (*pyPacket, lineHeader, error) {
	var h lineHeader
	line = nullConstants(line)
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var outer map[string]json.RawMessage
	if err := d.Decode(&outer); err != nil {
		return nil, h, jsonErr(err)
	}
	if d.More() {
		return nil, h, errors.New("unexpected data after the record")
	}
	if len(outer) != 1 {
		return nil, h, fmt.Errorf("python-netflow line has %d keys, want 1 (the receive time)", len(outer))
	}
	var tsKey string
	var body json.RawMessage
	for k, v := range outer {
		tsKey, body = k, v
	}
	recv, perr := strconv.ParseFloat(tsKey, 64)
	// Beyond ±9.2e9 s the time does not fit int64 nanoseconds.
	if perr != nil || math.IsNaN(recv) || math.Abs(recv) >= 9.2e9 {
		return nil, h, fmt.Errorf("key %q is not a receive timestamp", tsKey)
	}
	pkt := new(pyPacket)
	d = json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(pkt); err != nil {
		return nil, h, jsonErr(err)
	}
	if pkt.Header == nil {
		return nil, h, &MissingError{"header"}
	}
	version, ok := num(pkt.Header["version"])
	if !ok || version > math.MaxUint8 {
		return nil, h, &MissingError{"header.version"}
	}
	h.version = uint8(version)
	if len(pkt.Client) > 0 {
		if s, ok := pkt.Client[0].(string); ok {
			h.exporter, _ = netip.ParseAddr(s)
		}
	}
	h.recvNs = int64(math.Round(recv * 1e9))
	// Export time and uptime from the header.
	switch version {
	case 10:
		t, _ := num(pkt.Header["export_uptime"]) // RFC 7011 Export Time, misnamed
		h.exportNs = int64(t) * 1e9
	default:
		t, _ := num(pkt.Header["timestamp"])
		nano, _ := num(pkt.Header["timestamp_nano"])
		h.exportNs = int64(t)*1e9 + int64(nano)
		h.uptime, _ = num(pkt.Header["uptime"])
	}
	if h.exportNs == 0 {
		h.exportNs = h.recvNs
	}
	return pkt, h, nil
}

// read fills f from one record of a line. It reports false, without an
// error, for a record that is not a flow (options data, a layer-2 only
// record); a value that is not a number of its field's range is an error.
func (f *Flow) read(rec map[string]any, t *recTimes) (bool, error) {
	var ferr error
	var haveSrc, haveDst bool
	f.Src, haveSrc = addrOf(rec, keys.src, &ferr)
	f.Dst, haveDst = addrOf(rec, keys.dst, &ferr)
	f.SrcPort = uint16(numOf(rec, keys.srcPort, math.MaxUint16, &ferr))
	f.DstPort = uint16(numOf(rec, keys.dstPort, math.MaxUint16, &ferr))
	f.Proto = uint8(numOf(rec, keys.proto, math.MaxUint8, &ferr))
	f.Bytes = numOf(rec, keys.bytes, math.MaxUint64, &ferr)
	f.Packets = numOf(rec, keys.packets, math.MaxUint64, &ferr)
	f.RevBytes = numOf(rec, keys.revBytes, math.MaxUint64, &ferr)
	f.RevPackets = numOf(rec, keys.revPackets, math.MaxUint64, &ferr)
	f.Biflow = has(rec, keys.revBytes) || has(rec, keys.revPackets)
	f.SrcAS = uint32(numOf(rec, keys.srcAS, math.MaxUint32, &ferr))
	f.DstAS = uint32(numOf(rec, keys.dstAS, math.MaxUint32, &ferr))
	f.Flows = numOf(rec, keys.flows, math.MaxUint64, &ferr)
	switch {
	case ferr != nil:
		return false, ferr
	case !haveSrc && !haveDst:
		return false, nil // options data or a layer-2 only record
	case !haveSrc:
		return false, &MissingError{"source address"}
	case !haveDst:
		return false, &MissingError{"destination address"}
	}
	// Fallback counters for exporters that only send egress counters.
	if f.Bytes == 0 {
		if v, ok := firstNum(rec, keys.outBytes); ok {
			f.Bytes = v
		}
	}
	if f.Packets == 0 {
		if v, ok := firstNum(rec, keys.outPackets); ok {
			f.Packets = v
		}
	}
	// ICMP type/code where there are no ports.
	if f.SrcPort == 0 && f.DstPort == 0 {
		if v, ok := firstNum(rec, keys.icmp); ok && v <= math.MaxUint16 {
			f.DstPort = uint16(v)
		} else if ty, ok := firstNum(rec, keys.asaICMPType); ok && ty <= math.MaxUint8 {
			c, _ := firstNum(rec, keys.asaICMPCode)
			f.DstPort = uint16(ty<<8 | c&0xff)
		}
	}
	var terr error
	if f.Start, f.HasStart, terr = t.get(rec, &keys.start); terr != nil {
		return false, terr
	}
	if !f.HasStart {
		if v, ok := num(rec[keys.createTime]); ok && v <= math.MaxInt64/1_000_000 {
			f.Start, f.HasStart = int64(v)*1e6, true
		}
	}
	if f.End, f.HasEnd, terr = t.get(rec, &keys.end); terr != nil {
		return false, terr
	}
	return true, nil
}

func (r *Reader) setSysInit(exporter netip.Addr, ns int64) {
	if r.sysInit == nil {
		r.sysInit = map[netip.Addr]int64{}
	}
	if _, ok := r.sysInit[exporter]; ok || len(r.sysInit) < maxExporters {
		r.sysInit[exporter] = ns
	}
}

// recTimes turns the time fields of a line's records into Unix ns.
type recTimes struct {
	r        *Reader
	exporter netip.Addr
	exportNs int64
	uptime   uint64
}

// get returns the first time of k present in rec, in any of the forms
// v1/v5/v9/IPFIX send them.
func (t *recTimes) get(rec map[string]any, k *timeKeys) (int64, bool, error) {
	scaled := func(name string, v uint64, unit int64) (int64, bool, error) {
		if v > uint64(math.MaxInt64/unit) {
			return 0, false, fmt.Errorf("%s: %d is out of range for a time", name, v)
		}
		return int64(v) * unit, true, nil
	}
	if v, ok := num(rec[k.uptimeMs]); ok {
		// Uptime-relative ms (v1/v5/v9 FIRST_SWITCHED); uptime wraps at 2^32.
		return t.exportNs - int64(int32(uint32(t.uptime)-uint32(v)))*1e6, true, nil
	}
	if v, ok := num(rec[k.seconds]); ok {
		return scaled(k.seconds, v, 1e9)
	}
	if v, ok := num(rec[k.millis]); ok {
		return scaled(k.millis, v, 1e6)
	}
	for i, name := range [2]string{k.micros, k.nanos} {
		if a, ok := rec[name].([]any); ok && len(a) == 2 {
			if ns, ok := fractionTime(a, i == 0); ok {
				return ns, true, nil
			}
		}
	}
	if v, ok := num(rec[k.sysUpTime]); ok {
		base, known := t.r.sysInit[t.exporter]
		if !known {
			return t.exportNs, true, nil // no systemInitTimeMilliseconds seen: best effort
		}
		ns, ok, err := scaled(k.sysUpTime, v, 1e6)
		if err != nil || ns > math.MaxInt64-base {
			return 0, false, fmt.Errorf("%s: %d is out of range for a time", k.sysUpTime, v)
		}
		return base + ns, ok, nil
	}
	if v, ok := num(rec[k.deltaMicros]); ok {
		ns, ok, err := scaled(k.deltaMicros, v, 1e3)
		return t.exportNs - ns, ok, err
	}
	return 0, false, nil
}

// fractionTime reads a dateTimeMicroseconds or dateTimeNanoseconds value:
// python-netflow's [first 4 bytes, the rest] of the field as integers. For
// the 8-byte NTP form that is [seconds since 1900, binary fraction]; a
// 16-byte microsecond field (pmacct's struct timeval: 8 bytes of Unix
// seconds, 8 of microseconds) gives a 12-byte rest.
func fractionTime(a []any, micros bool) (int64, bool) {
	s, ok := num(a[0])
	if !ok {
		return 0, false
	}
	if fr, ok := num(a[1]); ok {
		ns := int64(fr) * 1e9 >> 32
		if micros {
			ns = ns / 1000 * 1000 // microsecond precision: the low 11 bits are ignored
		}
		return (int64(s)-ntpEpochOffset)*1e9 + ns, true
	}
	n, ok := a[1].(json.Number)
	if !micros || !ok || s > math.MaxUint32 {
		return 0, false
	}
	hi, lo, ok := parseUint128(string(n))
	if !ok || hi > math.MaxUint32 {
		return 0, false
	}
	sec, usec := s<<32|hi, lo
	if sec > math.MaxInt64/1_000_000_000 || usec > math.MaxInt64/1_000 || int64(sec)*1e9 > math.MaxInt64-int64(usec)*1e3 {
		return 0, false // not a time the analyzer can hold
	}
	return int64(sec)*1e9 + int64(usec)*1e3, true
}

// has reports whether rec holds any of names.
func has(rec map[string]any, names []key) bool {
	for _, k := range names {
		if _, ok := rec[k.name]; ok {
			return true
		}
	}
	return false
}

// numOf returns the value of the first of names in rec that is a
// non-negative integer up to max, 0 if none is. Every one present is
// checked, in order: the first that is not such a number sets *err (when
// unset); a value is never wrapped into the field's range.
func numOf(rec map[string]any, names []key, max uint64, err *error) uint64 {
	var out uint64
	found := false
	for _, k := range names {
		v, ok := rec[k.name]
		if !ok {
			continue
		}
		u, ok := num(v)
		if !ok || u > max {
			if *err == nil {
				if ok {
					*err = fmt.Errorf("%s: %d is out of range (at most %d)", k.name, u, max)
				} else {
					*err = fmt.Errorf("%s: expected a non-negative integer, got %s", k.name, short(v))
				}
			}
			continue
		}
		if !found {
			out, found = u, true
		}
	}
	return out
}

// addrOf is numOf for addresses: it reports whether one was read.
func addrOf(rec map[string]any, names []key, err *error) (netip.Addr, bool) {
	var out netip.Addr
	found := false
	for _, k := range names {
		v, ok := rec[k.name]
		if !ok {
			continue
		}
		a, e := addr(v, k)
		if e != nil {
			if *err == nil {
				*err = e
			}
			continue
		}
		if !found {
			out, found = a, true
		}
	}
	return out, found
}

// firstNum returns the first of names in rec that is a non-negative
// integer, ignoring any that is not.
func firstNum(rec map[string]any, names []key) (uint64, bool) {
	for _, k := range names {
		if v, ok := num(rec[k.name]); ok {
			return v, true
		}
	}
	return 0, false
}

// num reads a non-negative integer JSON value (a whole number written in
// float form, 1e3 or 6.0, is one; 6.9 is not).
func num(v any) (uint64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
		return u, true
	}
	if f, err := n.Float64(); err == nil && f >= 0 && f < 1<<64 && f == math.Trunc(f) {
		return uint64(f), true
	}
	return 0, false
}

// short returns v as JSON, cut to 40 bytes, for messages.
func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 40 {
		b = append(b[:37], "..."...)
	}
	return string(b)
}

// addr reads an address given as a string (v9) or as an integer: up to
// 2^32-1 for v1/v5 and IPFIX ipv4Address, a 128-bit integer for IPFIX
// ipv6Address.
func addr(v any, k key) (netip.Addr, error) {
	switch x := v.(type) {
	case string:
		a, err := netip.ParseAddr(x)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("%s: bad address %q", k.name, x)
		}
		return a, nil
	case json.Number:
		hi, lo, ok := parseUint128(string(x))
		if !ok {
			return netip.Addr{}, fmt.Errorf("%s: bad address %s", k.name, x)
		}
		if !k.v6 {
			if hi != 0 || lo > math.MaxUint32 {
				return netip.Addr{}, fmt.Errorf("%s: %s is not an IPv4 address", k.name, x)
			}
			return netip.AddrFrom4([4]byte{byte(lo >> 24), byte(lo >> 16), byte(lo >> 8), byte(lo)}), nil
		}
		var b [16]byte
		for i := range 8 {
			b[i] = byte(hi >> (56 - 8*i))
			b[8+i] = byte(lo >> (56 - 8*i))
		}
		return netip.AddrFrom16(b), nil
	}
	return netip.Addr{}, fmt.Errorf("%s: expected an address, got %s", k.name, short(v))
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

// nullConstants returns line with the values NaN, Infinity and -Infinity,
// which Python's json.dumps writes for such floats (and its json.loads
// reads), replaced by null, so that encoding/json reads the rest of the
// line. A line without them is returned as it is.
func nullConstants(line []byte) []byte {
	var out []byte
	in := false // inside a string
	last := 0   // line[last:i] is not copied to out yet
	for i := 0; i < len(line); i++ {
		c := line[i]
		if in {
			switch c {
			case '\\':
				i++
			case '"':
				in = false
			}
			continue
		}
		n := 0
		switch {
		case c == '"':
			in = true
		case bytes.HasPrefix(line[i:], []byte("NaN")):
			n = 3
		case bytes.HasPrefix(line[i:], []byte("Infinity")):
			n = 8
		case bytes.HasPrefix(line[i:], []byte("-Infinity")):
			n = 9
		}
		if n > 0 {
			out = append(out, line[last:i]...)
			out = append(out, "null"...)
			i += n - 1
			last = i + 1
		}
	}
	if out == nil {
		return line
	}
	return append(out, line[last:]...)
}

func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &SyntaxError{Col: int(se.Offset), Msg: se.Error()}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of line (truncated record?)")
	}
	return err
}
