package collector

import (
	"math"
	"math/bits"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nfkit/nfkit/decode"
)

// The output format of python-netflow's collector (bitkeks/python-netflow
// 0.12.2, `python3 -m netflow.collector`), written by `nfcollect --format
// python-netflow` so that scripts reading that collector's files keep
// working. One line per export packet, as Python's json.dumps writes it
// (separators ", " and ": ", ASCII only):
//
//	{"<receive time>": {"client": [host, port], "header": {...}, "flows": [{...}, ...]}}
//
// The receive time is Python's repr of time.time(). The client is [host,
// port] for an IPv4 address and [host, port, 0, 0] (flowinfo, scope id) for
// an IPv6 one, as a Python AF_INET6 socket reports it; pass an unmapped
// address to get the form of python-netflow's default IPv4 socket.
//
// Header keys and flow keys and values follow python-netflow exactly where it
// decodes a packet at all:
//
//   - v1/v5: the Python header attributes; record keys IPV4_SRC_ADDR …
//     DST_MASK, every value an integer (addresses too); padding is not
//     written. v5's sampling_interval is the raw 16 bits (mode<<14|interval).
//   - v7 (which python-netflow rejects): the v5 layout without the engine
//     and sampling keys (v7 has none): header version, count, uptime,
//     timestamp, timestamp_nano, sequence; records the v5 keys plus FLAGS
//     (the flags word at offset 46; byte 36 is skipped as in v5) and
//     ROUTER_SC (the router shortcut address, an integer like NEXT_HOP).
//   - v9: names from python-netflow's V9_FIELD_TYPES with its quirks, types
//     missing from it under UNKNOWN_FIELD_TYPE; the address types 8, 12, 15,
//     18, 27, 28, 62, 63 as IP strings ("127.0.0.1", "2001:db8::1"), every
//     other value an unsigned big-endian integer (MACs and 8- or 16-byte
//     fields too). Options records are not written.
//   - IPFIX: IANA names and data types of python-netflow's table; addresses,
//     MACs and octet arrays as big-endian integers, strings as text (the
//     Python repr of the bytes when they are not UTF-8), micro/nanosecond
//     times as [seconds, fraction], numbers by type. Options records are
//     written among the flows, in packet order, as python-netflow does.
//
// Where python-netflow loses data, this writer keeps it:
//
//   - A key that would repeat within a record (python-netflow keeps one value
//     in its dict: v9 writes every unknown type to UNKNOWN_FIELD_TYPE, and a
//     template may list a type twice) is written once per field: the first
//     under the plain key, the n-th under key_n (UNKNOWN_FIELD_TYPE,
//     UNKNOWN_FIELD_TYPE_2, …). A record with a single unknown field reads as
//     in python-netflow.
//   - Packets python-netflow fails on entirely are written: IPFIX elements
//     missing from its table (newer IANA ids, enterprise elements; Python
//     raises NotImplementedError or AttributeError) are written under our
//     table's name (reverseOctetDeltaCount, pen9_12 …) by our table's data
//     type; numbers of a length Python's struct cannot unpack (reduced-size
//     3/5/6/7 bytes, variable-length fields; IPFIXTemplateError) are written
//     as big-endian integers. Enterprise elements are never named after the
//     IANA element of the same id (python-netflow does that, mixing e.g.
//     RFC 5103 reverse counters into the forward keys).
//   - A v9 address field of a length other than 1, 2, 4 or 16 bytes is
//     dropped from its record as in Python (its ValueError path); Python
//     then also misreads the following records of the set, we do not.
//
// Remaining differences: IPFIX key order is template order (Python's is
// arbitrary, from a set); v9 data sets that wait for a template defined later
// in the same packet keep their packet position (Python appends them after
// the others); a v1/v5/v7 header residual of 10⁹ ns or more is written
// normalized (our decoder keeps the sum only); IPv6 addresses in v9 records
// are compressed the way Python up to 3.12 does (::ffff:7f00:1 for a mapped
// address; Python 3.13 writes ::ffff:127.0.0.1); a link-local IPv6 client
// keeps its zone in the host string with scope id 0 (Python writes the
// interface index); python-netflow's v9 record miscounts (records shorter
// than 4 bytes under-read, 4 or more padding bytes read as a record) are not
// reproduced.

// AppendPythonPacket appends one python-netflow collector line (with the
// trailing '\n') for packet p received at ts from client. It does not
// allocate when b has room, except for integer fields longer than 512 bytes.
func AppendPythonPacket(b []byte, ts time.Time, client netip.AddrPort, p *decode.Packet) []byte {
	b = append(b, '{', '"')
	b = pyAppendFloat(b, float64(ts.UnixNano())/1e9)
	b = append(b, `": {"client": [`...)
	var host [64]byte
	b = pyAppendString(b, client.Addr().AppendTo(host[:0]))
	b = append(b, ", "...)
	b = strconv.AppendUint(b, uint64(client.Port()), 10)
	if !client.Addr().Is4() {
		b = append(b, ", 0, 0"...)
	}
	b = append(b, `], "header": {`...)
	b = pyAppendHeader(b, p)
	b = append(b, `}, "flows": [`...)
	switch p.Version {
	case 1, 5, 7:
		for i := range p.Records {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = pyAppendFixedRecord(b, &p.Records[i])
		}
	case 9:
		var dk pyDupKeys
		for i := range p.Records {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = pyAppendRecord(b, &p.Records[i], false, &dk)
		}
	case 10:
		// Data and options records merged back into packet order.
		var dk pyDupKeys
		rs, os := p.Records, p.Options
		for n := 0; len(rs) > 0 || len(os) > 0; n++ {
			if n > 0 {
				b = append(b, ", "...)
			}
			if len(os) == 0 || len(rs) > 0 && rs[0].Offset < os[0].Offset {
				b = pyAppendRecord(b, &rs[0], true, &dk)
				rs = rs[1:]
			} else {
				b = pyAppendRecord(b, &os[0], true, &dk)
				os = os[1:]
			}
		}
	}
	return append(b, "]}}\n"...)
}

// pyAppendHeader appends the keys of python-netflow's header.to_dict().
func pyAppendHeader(b []byte, p *decode.Packet) []byte {
	kv := func(b []byte, first bool, key string, v uint64) []byte {
		if !first {
			b = append(b, ", "...)
		}
		b = append(b, '"')
		b = append(b, key...)
		b = append(b, `": `...)
		return strconv.AppendUint(b, v, 10)
	}
	secs := uint64(p.ExportTime / 1e9)
	b = kv(b, true, "version", uint64(p.Version))
	switch p.Version {
	case 1, 5, 7:
		b = kv(b, false, "count", uint64(p.Count))
		b = kv(b, false, "uptime", uint64(p.SysUptime))
		b = kv(b, false, "timestamp", secs)
		b = kv(b, false, "timestamp_nano", uint64(p.ExportTime%1e9))
		if p.Version != 1 {
			b = kv(b, false, "sequence", uint64(p.Sequence))
		}
		if p.Version == 5 {
			b = kv(b, false, "engine_type", uint64(p.EngineType))
			b = kv(b, false, "engine_id", uint64(p.EngineID))
			b = kv(b, false, "sampling_interval", uint64(p.SamplingMode)<<14|uint64(p.SamplingInterval))
		}
	case 9:
		b = kv(b, false, "count", uint64(p.Count))
		b = kv(b, false, "uptime", uint64(p.SysUptime))
		b = kv(b, false, "timestamp", secs)
		b = kv(b, false, "sequence", uint64(p.Sequence))
		b = kv(b, false, "source_id", uint64(p.Domain))
	case 10:
		b = kv(b, false, "length", uint64(p.Length))
		b = kv(b, false, "export_uptime", secs) // sic: the export time
		b = kv(b, false, "sequence_number", uint64(p.Sequence))
		b = kv(b, false, "obervation_domain_id", uint64(p.Domain)) // sic
	}
	return b
}

// pyPENV7 is fields.PENV7, the pseudo enterprise number of the two v7 record
// fields without a v9 type.
const pyPENV7 = 0xFFFF_FF07

// pyFixedName returns the python-netflow v1/v5 key of a field of the
// built-in v1/v5/v7 layouts (v9 type ids), "" for padding.
func pyFixedName(f *decode.TemplateField) string {
	if f.PEN == pyPENV7 {
		switch f.ID {
		case 1:
			return "FLAGS"
		case 2:
			return "ROUTER_SC"
		}
		return ""
	}
	if f.PEN != 0 {
		return ""
	}
	switch f.ID {
	case 8:
		return "IPV4_SRC_ADDR"
	case 12:
		return "IPV4_DST_ADDR"
	case 15:
		return "NEXT_HOP"
	case 10:
		return "INPUT"
	case 14:
		return "OUTPUT"
	case 2:
		return "IN_PACKETS"
	case 1:
		return "IN_OCTETS"
	case 22:
		return "FIRST_SWITCHED"
	case 21:
		return "LAST_SWITCHED"
	case 7:
		return "SRC_PORT"
	case 11:
		return "DST_PORT"
	case 4:
		return "PROTO"
	case 5:
		return "TOS"
	case 6:
		return "TCP_FLAGS"
	case 16:
		return "SRC_AS"
	case 17:
		return "DST_AS"
	case 9:
		return "SRC_MASK"
	case 13:
		return "DST_MASK"
	}
	return "" // 210 paddingOctets
}

// pyAppendFixedRecord appends a v1/v5/v7 record: its fields in layout order
// (which is python-netflow's key order), every value an integer.
func pyAppendFixedRecord(b []byte, r *decode.Record) []byte {
	b = append(b, '{')
	first := true
	it := r.Iter()
	for it.Next() {
		f := it.Field()
		name := pyFixedName(f.TemplateField)
		if name == "" {
			continue
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `": `...)
		b = pyAppendBigUint(b, f.Value)
	}
	return append(b, '}')
}

// pyV9Name returns the python-netflow name of v9 field type id.
func pyV9Name(id uint16) string {
	if int(id) < len(pyV9Names) {
		if n := pyV9Names[id]; n != "" {
			return n
		}
		return pyV9Unknown
	}
	lo, hi := 0, len(pyV9Vendor)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if pyV9Vendor[m].id < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(pyV9Vendor) && pyV9Vendor[lo].id == id {
		return pyV9Vendor[lo].name
	}
	return pyV9Unknown
}

// pyV9Dropped reports whether python-netflow drops a v9 field: an address
// type whose value ipaddress.ip_address rejects (only 1-, 2- and 4-byte
// integers and 16-byte strings are accepted).
func pyV9Dropped(f *decode.TemplateField) bool {
	if !pyV9IPType(f.ID) {
		return false
	}
	switch f.Length {
	case 1, 2, 4, 16:
		return false
	}
	return true
}

// pyIPFIXEntry returns the key and value rule of an IPFIX field: the
// python-netflow table entry for IANA elements it knows, else our table's
// name and data type.
func pyIPFIXEntry(f *decode.TemplateField) (string, pyType) {
	if f.PEN == 0 && int(f.ID) < len(pyIPFIX) && pyIPFIX[f.ID].ok {
		e := &pyIPFIX[f.ID]
		return e.name, e.typ
	}
	switch f.Element.Type {
	case decode.Signed8, decode.Signed16, decode.Signed32, decode.Signed64:
		return f.Element.Name, pySigned
	case decode.Float32, decode.Float64:
		return f.Element.Name, pyFloat
	case decode.OctetArray, decode.MACAddress, decode.IPv4Address, decode.IPv6Address:
		return f.Element.Name, pyBytesInt
	case decode.String:
		return f.Element.Name, pyString
	case decode.DateTimeMicroseconds, decode.DateTimeNanoseconds:
		return f.Element.Name, pyTimeFraction
	}
	return f.Element.Name, pyUnsigned
}

// pyKey returns the base key of template field f ("" when python-netflow
// drops the field) and its value rule.
func pyKey(f *decode.TemplateField, ipfix bool) (string, pyType) {
	if ipfix {
		return pyIPFIXEntry(f)
	}
	if pyV9Dropped(f) {
		return "", 0
	}
	return pyV9Name(f.ID), pyUnsigned
}

// pyDupKeys remembers whether the last template seen repeats a key, so
// that the records of a packet, which mostly share templates, are checked
// once.
type pyDupKeys struct {
	t   *decode.Template
	dup bool
}

// has reports whether two fields of t have the same key.
func (d *pyDupKeys) has(t *decode.Template, ipfix bool) bool {
	if t != d.t {
		d.t, d.dup = t, false
		tfs := t.Fields()
		for i := 1; i < len(tfs) && !d.dup; i++ {
			d.dup = pyOccurrence(tfs, i, ipfix) > 1
		}
	}
	return d.dup
}

// pyOccurrence returns how many fields of tfs[:i+1] write the key of field
// i (0 when python-netflow drops field i).
func pyOccurrence(tfs []decode.TemplateField, i int, ipfix bool) int {
	key, _ := pyKey(&tfs[i], ipfix)
	if key == "" && !ipfix {
		return 0
	}
	n := 1
	for j := range i {
		if k, _ := pyKey(&tfs[j], ipfix); k == key && (ipfix || k != "") {
			n++
		}
	}
	return n
}

// pyAppendRecord appends a v9 or IPFIX record as a JSON object in template
// order. A key already written for an earlier field of the record gets the
// suffix _n for its n-th occurrence (see the file comment).
func pyAppendRecord(b []byte, r *decode.Record, ipfix bool, dk *pyDupKeys) []byte {
	b = append(b, '{')
	t := r.Template()
	if t == nil {
		return append(b, '}')
	}
	tfs := t.Fields()
	dup := dk.has(t, ipfix)
	first := true
	it := r.Iter()
	for it.Next() {
		f := it.Field()
		i := it.Index()
		key, typ := pyKey(&tfs[i], ipfix)
		if key == "" && !ipfix {
			continue
		}
		n := 1
		if dup {
			n = pyOccurrence(tfs, i, ipfix)
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, '"')
		b = pyAppendKey(b, key)
		if n > 1 {
			b = append(b, '_')
			b = strconv.AppendUint(b, uint64(n), 10)
		}
		b = append(b, `": `...)
		if ipfix {
			b = pyAppendIPFIXValue(b, f.Value, typ)
		} else {
			b = pyAppendV9Value(b, f)
		}
	}
	return append(b, '}')
}

// pyAppendV9Value appends a v9 value: an IP string for the address types,
// else an unsigned big-endian integer.
func pyAppendV9Value(b []byte, f decode.Field) []byte {
	v := f.Value
	if !pyV9IPType(f.ID) {
		return pyAppendBigUint(b, v)
	}
	b = append(b, '"')
	if len(v) == 16 {
		b = pyAppendIPv6(b, [16]byte(v))
	} else {
		// ipaddress.ip_address(int) of a 1-, 2- or 4-byte value is IPv4.
		b = netip.AddrFrom4(pyU32(v)).AppendTo(b)
	}
	return append(b, '"')
}

// pyU32 returns the 4-byte big-endian form of an unsigned value of up to 4
// bytes.
func pyU32(v []byte) [4]byte {
	var a [4]byte
	copy(a[4-len(v):], v)
	return a
}

// pyAppendIPFIXValue appends an IPFIX value by python-netflow's rules for
// its data type and wire length.
func pyAppendIPFIXValue(b []byte, v []byte, typ pyType) []byte {
	switch typ {
	case pySigned:
		if n := len(v); n > 0 && n <= 8 {
			shift := 64 - 8*uint(n)
			return strconv.AppendInt(b, int64(pyUint64(v)<<shift)>>shift, 10)
		}
	case pyFloat:
		switch len(v) {
		case 4:
			return pyAppendFloat(b, float64(math.Float32frombits(uint32(pyUint64(v)))))
		case 8:
			return pyAppendFloat(b, math.Float64frombits(pyUint64(v)))
		}
	case pyString:
		if utf8.Valid(v) {
			return pyAppendString(b, v)
		}
		return pyAppendBytesRepr(b, v)
	case pyTimeFraction:
		// (int.from_bytes(v[:4]), int.from_bytes(v[4:])) as a JSON array.
		k := min(len(v), 4)
		b = append(b, '[')
		b = pyAppendBigUint(b, v[:k])
		b = append(b, ", "...)
		b = pyAppendBigUint(b, v[k:])
		return append(b, ']')
	}
	return pyAppendBigUint(b, v)
}

func pyUint64(v []byte) uint64 {
	var x uint64
	for _, c := range v {
		x = x<<8 | uint64(c)
	}
	return x
}

// pyAppendBigUint appends v, a big-endian unsigned integer of any length
// (Python's int.from_bytes(v, "big")), in decimal.
func pyAppendBigUint(b []byte, v []byte) []byte {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) <= 8 {
		return strconv.AppendUint(b, pyUint64(v), 10)
	}
	if len(v) <= 16 {
		hi := pyUint64(v[:len(v)-8])
		lo := pyUint64(v[len(v)-8:])
		// At most three base-10¹⁹ digits.
		const base = 1e19
		var d [3]uint64
		n := 0
		for hi != 0 || lo != 0 {
			var r uint64
			hi, r = hi/base, hi%base
			lo, r = bits.Div64(r, lo, base)
			d[n] = r
			n++
		}
		b = strconv.AppendUint(b, d[n-1], 10)
		for i := n - 2; i >= 0; i-- {
			b = pyAppendPadded(b, d[i], 19)
		}
		return b
	}
	return pyAppendLongUint(b, v)
}

// pyAppendPadded appends x in decimal, zero-padded to width digits.
func pyAppendPadded(b []byte, x uint64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendUint(buf[:0], x, 10)
	for range width - len(s) {
		b = append(b, '0')
	}
	return append(b, s...)
}

// pyAppendLongUint appends a big-endian unsigned integer longer than 16
// bytes (without leading zero bytes) in decimal: repeated division by 10⁹
// of a copy of its 32-bit limbs, the base-10⁹ digits written last first and
// reversed at the end.
func pyAppendLongUint(b []byte, v []byte) []byte {
	var stack [128]uint32
	nl := (len(v) + 3) / 4
	var limbs []uint32
	if nl <= len(stack) {
		limbs = stack[:nl]
	} else {
		limbs = make([]uint32, nl)
	}
	// limbs[0] is the most significant.
	for i := range limbs {
		limbs[i] = 0
	}
	for i, c := range v {
		pos := len(v) - 1 - i // byte position from the least significant
		limbs[nl-1-pos/4] |= uint32(c) << (8 * (pos % 4))
	}
	start := len(b)
	for len(limbs) > 0 {
		var rem uint64
		for i, l := range limbs {
			cur := rem<<32 | uint64(l)
			limbs[i] = uint32(cur / 1e9)
			rem = cur % 1e9
		}
		for len(limbs) > 0 && limbs[0] == 0 {
			limbs = limbs[1:]
		}
		// Nine digits, least significant first; the last group without
		// its leading zeros.
		for k := 0; k < 9; k++ {
			if len(limbs) == 0 && rem == 0 && k > 0 {
				break
			}
			b = append(b, byte('0'+rem%10))
			rem /= 10
		}
	}
	for i, j := start, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return b
}

// pyAppendIPv6 appends a as Python's ipaddress compresses it (up to Python
// 3.12): lower-case hex groups, the longest run of two or more zero groups
// (the first of equal runs) replaced by "::", no dotted IPv4 form.
func pyAppendIPv6(b []byte, a [16]byte) []byte {
	var g [8]uint16
	for i := range g {
		g[i] = uint16(a[2*i])<<8 | uint16(a[2*i+1])
	}
	best, bestLen, cur, curLen := -1, 0, -1, 0
	for i, x := range g {
		if x != 0 {
			cur, curLen = -1, 0
			continue
		}
		if cur < 0 {
			cur = i
		}
		curLen++
		if curLen > bestLen {
			best, bestLen = cur, curLen
		}
	}
	if bestLen < 2 {
		best = -1
	}
	for i := 0; i < 8; i++ {
		if i == best {
			b = append(b, ':', ':')
			i += bestLen - 1
			continue
		}
		if i > 0 && i != best+bestLen {
			b = append(b, ':')
		}
		b = strconv.AppendUint(b, uint64(g[i]), 16)
	}
	return b
}

// pyAppendFloat appends f as Python's float repr (which json.dumps uses):
// the shortest round-tripping digits, in positional form for decimal
// exponents -4 < e < 16 (always with a fractional part) and as d.ddde±XX
// otherwise; NaN and infinities as json.dumps writes them.
func pyAppendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // [-]d[.ddd]e±dd
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	var digits [24]byte
	nd := 0
	i := 0
	for ; s[i] != 'e'; i++ {
		if s[i] != '.' {
			digits[nd] = s[i]
			nd++
		}
	}
	exp := 0
	neg := s[i+1] == '-'
	for _, c := range s[i+2:] {
		exp = exp*10 + int(c-'0')
	}
	if neg {
		exp = -exp
	}
	d := digits[:nd]
	decpt := exp + 1 // the value is 0.d × 10^decpt
	switch {
	case decpt <= -4 || decpt > 16:
		b = append(b, d[0])
		if nd > 1 {
			b = append(b, '.')
			b = append(b, d[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	case decpt <= 0:
		b = append(b, '0', '.')
		for range -decpt {
			b = append(b, '0')
		}
		return append(b, d...)
	case decpt >= nd:
		b = append(b, d...)
		for range decpt - nd {
			b = append(b, '0')
		}
		return append(b, '.', '0')
	default:
		b = append(b, d[:decpt]...)
		b = append(b, '.')
		return append(b, d[decpt:]...)
	}
}

// pyAppendString appends s (valid UTF-8) as json.dumps writes a str with
// ensure_ascii: short escapes for \" \\ \b \f \n \r \t, \u00XX for other
// control characters and DEL, \uXXXX (surrogate pairs beyond the BMP) for
// everything outside ASCII.
func pyAppendString(b []byte, s []byte) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			b = pyAppendEscapedASCII(b, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		i += n
		if r >= 0x10000 {
			r -= 0x10000
			b = pyAppendU(b, 0xD800+r>>10)
			b = pyAppendU(b, 0xDC00+r&0x3FF)
		} else {
			b = pyAppendU(b, r)
		}
	}
	return append(b, '"')
}

// pyAppendKey appends a key from our tables, which are ASCII, as a JSON
// string body (without quotes).
func pyAppendKey(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			b = append(b, s[:i]...)
			for ; i < len(s); i++ {
				b = pyAppendEscapedASCII(b, s[i])
			}
			return b
		}
	}
	return append(b, s...)
}

// pyAppendEscapedASCII appends the ASCII character c as json.dumps does.
// (A byte ≥ 0x80 in a key would be written as \u00XX.)
func pyAppendEscapedASCII(b []byte, c byte) []byte {
	switch {
	case c == '"' || c == '\\':
		return append(b, '\\', c)
	case c == '\b':
		return append(b, '\\', 'b')
	case c == '\f':
		return append(b, '\\', 'f')
	case c == '\n':
		return append(b, '\\', 'n')
	case c == '\r':
		return append(b, '\\', 'r')
	case c == '\t':
		return append(b, '\\', 't')
	case c < 0x20 || c >= 0x7f:
		return pyAppendU(b, rune(c))
	}
	return append(b, c)
}

// pyAppendU appends the JSON escape \uXXXX (lower-case hex, as Python).
func pyAppendU(b []byte, r rune) []byte {
	const hexd = "0123456789abcdef"
	return append(b, '\\', 'u', hexd[r>>12&0xF], hexd[r>>8&0xF], hexd[r>>4&0xF], hexd[r&0xF])
}

// pyAppendBytesRepr appends str(v) of Python bytes v as a JSON string:
// what python-netflow stores for a string field that is not UTF-8, e.g.
// "b'\\xff\\xfe'".
func pyAppendBytesRepr(b []byte, v []byte) []byte {
	const hexd = "0123456789abcdef"
	quote := byte('\'')
	hasSingle, hasDouble := false, false
	for _, c := range v {
		hasSingle = hasSingle || c == '\''
		hasDouble = hasDouble || c == '"'
	}
	if hasSingle && !hasDouble {
		quote = '"'
	}
	// The repr is ASCII; its characters are escaped for JSON on the way.
	esc := func(b []byte, c byte) []byte {
		if c == '"' || c == '\\' {
			return append(b, '\\', c)
		}
		return append(b, c)
	}
	b = append(b, '"', 'b')
	b = esc(b, quote)
	for _, c := range v {
		switch {
		case c == quote || c == '\\':
			b = esc(b, '\\')
			b = esc(b, c)
		case c == '\t':
			b = esc(b, '\\')
			b = append(b, 't')
		case c == '\n':
			b = esc(b, '\\')
			b = append(b, 'n')
		case c == '\r':
			b = esc(b, '\\')
			b = append(b, 'r')
		case c < 0x20 || c >= 0x7f:
			b = esc(b, '\\')
			b = append(b, 'x', hexd[c>>4], hexd[c&0xF])
		default:
			b = esc(b, c)
		}
	}
	b = esc(b, quote)
	return append(b, '"')
}
