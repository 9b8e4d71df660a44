package pynetflow

import (
	"math"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nfkit/nfkit/decode"
)

// AppendPacket appends one python-netflow collector line (with the
// trailing '\n') for packet p received at ts from client: its header and
// the records p holds (FlowCount of them), "flows": [] when there are none.
// It does not allocate when b has room, except for integer fields of 513
// to 1786 bytes.
//
//nfkit:hot
func AppendPacket(b []byte, ts time.Time, client netip.AddrPort, p *decode.Packet) []byte {
	b = append(b, '{', '"')
	b = appendFloat(b, float64(ts.UnixNano())/1e9)
	b = append(b, `": {"client": [`...)
	var host [64]byte
	b = appendString(b, client.Addr().AppendTo(host[:0]))
	b = append(b, ", "...)
	b = strconv.AppendUint(b, uint64(client.Port()), 10)
	if !client.Addr().Is4() {
		b = append(b, ", 0, 0"...)
	}
	b = append(b, `], "header": {`...)
	b = appendHeader(b, p)
	b = append(b, `}, "flows": [`...)
	switch p.Version {
	case 1, 5, 7:
		for i := range p.Records {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendFixedRecord(b, &p.Records[i])
		}
	case 9:
		var dk dupKeys
		for i := range p.Records {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendRecord(b, &p.Records[i], false, &dk)
		}
	case 10:
		// Data and options records merged back into packet order.
		var dk dupKeys
		rs, os := p.Records, p.Options
		for n := 0; len(rs) > 0 || len(os) > 0; n++ {
			if n > 0 {
				b = append(b, ", "...)
			}
			if len(os) == 0 || len(rs) > 0 && rs[0].Offset < os[0].Offset {
				b = appendRecord(b, &rs[0], true, &dk)
				rs = rs[1:]
			} else {
				b = appendRecord(b, &os[0], true, &dk)
				os = os[1:]
			}
		}
	}
	return append(b, "]}}\n"...)
}

// FlowCount returns the number of entries in the "flows" list of p's line:
// the data records, and for IPFIX the options records too (python-netflow
// writes IPFIX options records as flows and leaves v9 ones out).
//
//nfkit:hot
func FlowCount(p *decode.Packet) int {
	if p.Version == 10 {
		return len(p.Records) + len(p.Options)
	}
	return len(p.Records)
}

// appendHeader appends the keys of python-netflow's header.to_dict().
//
//nfkit:hot
func appendHeader(b []byte, p *decode.Packet) []byte {
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

// appendFixedRecord appends a v1/v5/v7 record: its fields in layout order
// (which is python-netflow's key order), every value an integer.
//
//nfkit:hot
func appendFixedRecord(b []byte, r *decode.Record) []byte {
	b = append(b, '{')
	first := true
	it := r.Iter()
	for it.Next() {
		f := it.Field()
		name := fixedName(f.PEN, f.ID)
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
		b = appendBigUint(b, f.Value)
	}
	return append(b, '}')
}

// dupKeys remembers whether the last template seen repeats a key, so
// that the records of a packet, which mostly share templates, are checked
// once.
type dupKeys struct {
	t   *decode.Template
	dup bool
}

// has reports whether two fields of t have the same key.
//
//nfkit:hot
func (d *dupKeys) has(t *decode.Template, ipfix bool) bool {
	if t != d.t {
		d.t, d.dup = t, false
		tfs := t.Fields()
		for i := 1; i < len(tfs) && !d.dup; i++ {
			d.dup = occurrence(tfs, i, ipfix) > 1
		}
	}
	return d.dup
}

// occurrence returns how many fields of tfs[:i+1] write the key of field
// i (0 when python-netflow drops field i).
//
//nfkit:hot
func occurrence(tfs []decode.TemplateField, i int, ipfix bool) int {
	key, _ := fieldKey(&tfs[i], ipfix)
	if key == "" && !ipfix {
		return 0
	}
	n := 1
	for j := range i {
		if k, _ := fieldKey(&tfs[j], ipfix); k == key && (ipfix || k != "") {
			n++
		}
	}
	return n
}

// appendRecord appends a v9 or IPFIX record as a JSON object in template
// order. A key already written for an earlier field of the record gets the
// suffix _n for its n-th occurrence (see the package doc).
//
//nfkit:hot
func appendRecord(b []byte, r *decode.Record, ipfix bool, dk *dupKeys) []byte {
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
		key, typ := fieldKey(&tfs[i], ipfix)
		if key == "" && !ipfix {
			continue
		}
		n := 1
		if dup {
			n = occurrence(tfs, i, ipfix)
		}
		if !first {
			b = append(b, ", "...)
		}
		first = false
		b = append(b, '"')
		b = appendKey(b, key)
		if n > 1 {
			b = append(b, '_')
			b = strconv.AppendUint(b, uint64(n), 10)
		}
		b = append(b, `": `...)
		if ipfix {
			b = appendIPFIXValue(b, f.Value, typ)
		} else {
			b = appendV9Value(b, f)
		}
	}
	return append(b, '}')
}

// appendV9Value appends a v9 value: an IP string for the address types,
// else an unsigned big-endian integer.
//
//nfkit:hot
func appendV9Value(b []byte, f decode.Field) []byte {
	v := f.Value
	if !v9IsIP(f.ID) {
		return appendBigUint(b, v)
	}
	b = append(b, '"')
	if len(v) == 16 {
		b = appendIPv6(b, [16]byte(v))
	} else {
		// ipaddress.ip_address(int) of a 1-, 2- or 4-byte value is IPv4.
		b = netip.AddrFrom4(u32(v)).AppendTo(b)
	}
	return append(b, '"')
}

// u32 returns the 4-byte big-endian form of an unsigned value of up to 4
// bytes.
//
//nfkit:hot
func u32(v []byte) [4]byte {
	var a [4]byte
	copy(a[4-len(v):], v)
	return a
}

// appendIPFIXValue appends an IPFIX value by python-netflow's rules for
// its data type and wire length.
//
//nfkit:hot
func appendIPFIXValue(b []byte, v []byte, typ kind) []byte {
	switch typ {
	case kindSigned:
		if n := len(v); n > 0 && n <= 8 {
			shift := 64 - 8*uint(n)
			return strconv.AppendInt(b, int64(beUint64(v)<<shift)>>shift, 10)
		}
	case kindFloat:
		switch len(v) {
		case 4:
			return appendFloat(b, float64(math.Float32frombits(uint32(beUint64(v)))))
		case 8:
			return appendFloat(b, math.Float64frombits(beUint64(v)))
		}
	case kindString:
		if utf8.Valid(v) {
			return appendString(b, v)
		}
		return appendBytesRepr(b, v)
	case kindTimeFraction:
		// (int.from_bytes(v[:4]), int.from_bytes(v[4:])) as a JSON array.
		k := min(len(v), 4)
		b = append(b, '[')
		b = appendBigUint(b, v[:k])
		b = append(b, ", "...)
		b = appendBigUint(b, v[k:])
		return append(b, ']')
	}
	return appendBigUint(b, v)
}

//nfkit:hot
func beUint64(v []byte) uint64 {
	var x uint64
	for _, c := range v {
		x = x<<8 | uint64(c)
	}
	return x
}
