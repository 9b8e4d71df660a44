package analyzer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"strconv"
)

// This file is the hot path: a hand-written scanner for nfcollect's JSON lines
// (docs/output-schema.md). It reads only the keys the analyzer needs and skips every
// other value without decoding it. It does not allocate for a well-formed line
// (TestScanAllocs), except to parse an IPv6 address the first time it is seen.

// syntaxError is a JSON syntax or schema problem in one line; Col is 1-based.
type syntaxError struct {
	Col int
	Msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

func errAt(i int, format string, args ...any) error {
	return &syntaxError{Col: i + 1, Msg: fmt.Sprintf(format, args...)}
}

// errMissing reports a required key that a line lacks.
type missingError struct{ Key string }

func (e *missingError) Error() string { return "missing field " + strconv.Quote(e.Key) }

// lineScanner parses nfcollect JSON lines into Flows. The zero value is ready to use.
// Not safe for concurrent use.
type lineScanner struct {
	v6 map[string]netip.Addr // parsed IPv6 (and other non-fast-path) addresses
}

const maxAddrCache = 1 << 16

// versionOf maps the schema's "type" strings to version numbers.
func versionOf(s []byte) uint8 {
	switch string(s) {
	case "NETFLOW_V1":
		return 1
	case "NETFLOW_V5":
		return 5
	case "NETFLOW_V7":
		return 7
	case "NETFLOW_V9":
		return 9
	case "IPFIX":
		return 10
	}
	return 0
}

// isPythonLine reports whether line looks like python-netflow's collector format,
// whose only key is the receive timestamp ({"1700000000.123": {...}}).
func isPythonLine(line []byte) bool {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i = skipWS(line, i+1)
	return i+1 < len(line) && line[i] == '"' && line[i+1] >= '0' && line[i+1] <= '9'
}

// scan parses one line into f (which it resets).
func (s *lineScanner) scan(line []byte, f *Flow) error {
	*f = Flow{}
	n := len(line)
	i := skipWS(line, 0)
	if i >= n || line[i] != '{' {
		return errAt(i, "expected '{' at the start of a record")
	}
	i = skipWS(line, i+1)
	if i < n && line[i] == '}' {
		return &missingError{"src_addr"}
	}
	var haveSrc, haveDst, haveBytes bool
	var icmpType, icmpCode int
	icmpType = -1
	for {
		if i >= n || line[i] != '"' {
			return errAt(i, "expected a key")
		}
		// Keys of the schema are short and never contain escapes; an escaped key is
		// read as unknown.
		j := indexQuote(line, i+1)
		if j < 0 {
			return errAt(i, "unterminated key")
		}
		key := line[i+1 : j]
		if line[j-1] == '\\' {
			var err error
			if j, err = skipString(line, i); err != nil {
				return err
			}
			key = nil
			i = j
		} else {
			i = j + 1
		}
		if i < n && line[i] == ':' {
			i++
		} else {
			i = skipWS(line, i)
			if i >= n || line[i] != ':' {
				return errAt(i, "expected ':' after key")
			}
			i++
		}
		if i < n && line[i] <= ' ' {
			i = skipWS(line, i)
		}
		if i >= n {
			return errAt(i, "missing value")
		}
		var err error
		var v uint64
		if line[i] == 'n' { // null: treat as absent
			if i+4 > n || string(line[i:i+4]) != "null" {
				return errAt(i, "invalid literal")
			}
			i += 4
			goto next
		}
		switch string(key) {
		case "src_addr":
			f.Src, i, err = s.addr(line, i)
			haveSrc = err == nil
		case "dst_addr":
			f.Dst, i, err = s.addr(line, i)
			haveDst = err == nil
		case "sampler_address":
			f.Exporter, i, err = s.addr(line, i)
		case "type":
			var str []byte
			str, i, err = plainString(line, i)
			f.Version = versionOf(str)
		case "time_received_ns":
			v, i, err = uintValue(line, i, key)
			f.Received = int64(v)
		case "time_flow_start_ns":
			v, i, err = uintValue(line, i, key)
			f.Start = int64(v)
			f.Flags |= flowHasStart
		case "time_flow_end_ns":
			v, i, err = uintValue(line, i, key)
			f.End = int64(v)
			f.Flags |= flowHasEnd
		case "bytes":
			f.Bytes, i, err = uintValue(line, i, key)
			haveBytes = true
		case "packets":
			f.Packets, i, err = uintValue(line, i, key)
		case "out_bytes":
			v, i, err = uintValue(line, i, key)
			if !haveBytes {
				f.Bytes = v
			}
		case "out_packets":
			v, i, err = uintValue(line, i, key)
			if f.Packets == 0 {
				f.Packets = v
			}
		case "rev_bytes":
			f.RevBytes, i, err = uintValue(line, i, key)
			f.Flags |= flowBiflow
		case "rev_packets":
			f.RevPackets, i, err = uintValue(line, i, key)
			f.Flags |= flowBiflow
		case "flows":
			f.Flows, i, err = uintValue(line, i, key)
		case "src_port":
			v, i, err = uintValue(line, i, key)
			f.SrcPort = uint16(v)
		case "dst_port":
			v, i, err = uintValue(line, i, key)
			f.DstPort = uint16(v)
		case "proto":
			v, i, err = uintValue(line, i, key)
			f.Proto = uint8(v)
		case "src_as":
			v, i, err = uintValue(line, i, key)
			f.SrcAS = uint32(v)
		case "dst_as":
			v, i, err = uintValue(line, i, key)
			f.DstAS = uint32(v)
		case "icmp_type":
			v, i, err = uintValue(line, i, key)
			icmpType = int(v)
		case "icmp_code":
			v, i, err = uintValue(line, i, key)
			icmpCode = int(v)
		default:
			i, err = skipValue(line, i, 0)
		}
		if err != nil {
			return err
		}
	next:
		if i < n && line[i] <= ' ' {
			i = skipWS(line, i)
		}
		if i >= n {
			return errAt(i, "unexpected end of line (truncated record?)")
		}
		if line[i] == ',' {
			i++
			if i < n && line[i] <= ' ' {
				i = skipWS(line, i)
			}
			continue
		}
		if line[i] == '}' {
			i++
			break
		}
		return errAt(i, "expected ',' or '}'")
	}
	if i = skipWS(line, i); i < n {
		return errAt(i, "unexpected data after the record")
	}
	if !haveSrc {
		return &missingError{"src_addr"}
	}
	if !haveDst {
		return &missingError{"dst_addr"}
	}
	if icmpType >= 0 && f.SrcPort == 0 && f.DstPort == 0 {
		f.DstPort = uint16(icmpType<<8 | icmpCode&0xff)
	}
	f.fixTimes()
	return nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// uintValue reads an unsigned integer at b[i:]. A float value (1.5e9) is accepted
// and truncated; a negative value or anything else is an error.
func uintValue(b []byte, i int, key []byte) (uint64, int, error) {
	start := i
	var v uint64
	// Eight digits at a time while they last (SWAR), then one at a time.
	for i+8 <= len(b) && i-start < 16 {
		chunk := binary.LittleEndian.Uint64(b[i:])
		if !allDigits(chunk) {
			break
		}
		v = v*100000000 + parse8(chunk)
		i += 8
	}
	for i < len(b) {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		if v > (1<<64-1-9)/10 {
			return 0, start, errAt(start, "number out of range for %q", key)
		}
		v = v*10 + uint64(c)
		i++
	}
	if i == start {
		return 0, start, errAt(start, "expected a non-negative integer for %q", key)
	}
	if i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		x, err := strconv.ParseFloat(string(b[start:j]), 64)
		if err != nil || x < 0 || x >= 1<<64 {
			return 0, start, errAt(start, "bad number for %q", key)
		}
		return uint64(x), j, nil
	}
	return v, i, nil
}

// allDigits reports whether the 8 bytes of x (little endian) are all '0'..'9'.
func allDigits(x uint64) bool {
	return x&0xF0F0F0F0F0F0F0F0 == 0x3030303030303030 &&
		(x+0x0606060606060606)&0xF0F0F0F0F0F0F0F0 == 0x3030303030303030
}

// parse8 converts 8 ASCII digits (little endian, first digit in the low byte).
func parse8(x uint64) uint64 {
	x -= 0x3030303030303030
	x = x*10 + x>>8
	x = ((x&0x000000FF000000FF)*(100+(1000000<<32)) + (x>>16&0x000000FF000000FF)*(1+(10000<<32))) >> 32
	return x
}

// indexQuote returns the index of the first '"' in b at or after i, or -1.
func indexQuote(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:]) ^ 0x2222222222222222
		if t := (x - 0x0101010101010101) &^ x & 0x8080808080808080; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
		i += 8
	}
	for ; i < len(b); i++ {
		if b[i] == '"' {
			return i
		}
	}
	return -1
}

// plainString returns the contents of the string at b[i:], which must not
// contain escapes (addresses, version names).
func plainString(b []byte, i int) ([]byte, int, error) {
	if b[i] != '"' {
		return nil, i, errAt(i, "expected a string")
	}
	j := indexQuote(b, i+1)
	if j < 0 {
		return nil, i, errAt(i, "unterminated string")
	}
	s := b[i+1 : j]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, i, errAt(i, "unexpected escape in string")
	}
	return s, j + 1, nil
}

// addr reads an IP address string (or a python-netflow style integer for IPv4).
func (s *lineScanner) addr(b []byte, i int) (netip.Addr, int, error) {
	if b[i] >= '0' && b[i] <= '9' { // IPv4 as integer
		v, j, err := uintValue(b, i, []byte("address"))
		if err != nil || v > 0xffffffff {
			return netip.Addr{}, i, errAt(i, "bad address")
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), j, nil
	}
	if a, j, ok := quotedIPv4(b, i); ok {
		return a, j, nil
	}
	str, j, err := plainString(b, i)
	if err != nil {
		return netip.Addr{}, i, err
	}
	if a, ok := parseIPv4(str); ok {
		return a, j, nil
	}
	if a, ok := s.v6[string(str)]; ok {
		return a, j, nil
	}
	a, perr := netip.ParseAddr(string(str))
	if perr != nil {
		return netip.Addr{}, i, errAt(i, "bad address %q", str)
	}
	if s.v6 == nil || len(s.v6) >= maxAddrCache {
		s.v6 = make(map[string]netip.Addr, 1024)
	}
	s.v6[string(str)] = a
	return a, j, nil
}

// quotedIPv4 reads a string at b[i:] that is a dotted-quad IPv4 address as
// parseIPv4 takes it, in one pass; ok is false for anything else (which the
// caller then reads the slow way).
func quotedIPv4(b []byte, i int) (netip.Addr, int, bool) {
	if b[i] != '"' {
		return netip.Addr{}, i, false
	}
	var a [4]byte
	k, v, digits := 0, 0, 0
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c-'0' <= 9:
			if digits > 0 && v == 0 {
				return netip.Addr{}, i, false // leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, i, false
			}
		case c == '.':
			if digits == 0 || k == 3 {
				return netip.Addr{}, i, false
			}
			a[k] = byte(v)
			k, v, digits = k+1, 0, 0
		case c == '"':
			if k != 3 || digits == 0 {
				return netip.Addr{}, i, false
			}
			a[3] = byte(v)
			return netip.AddrFrom4(a), j + 1, true
		default:
			return netip.Addr{}, i, false
		}
	}
	return netip.Addr{}, i, false
}

// parseIPv4 parses dotted-quad IPv4 without allocating.
func parseIPv4(s []byte) (netip.Addr, bool) {
	var a [4]byte
	k, v, digits := 0, 0, 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && v == 0 {
				return netip.Addr{}, false // leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, false
			}
		case c == '.':
			if digits == 0 || k == 3 {
				return netip.Addr{}, false
			}
			a[k] = byte(v)
			k, v, digits = k+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if k != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	a[3] = byte(v)
	return netip.AddrFrom4(a), true
}

// skipString returns the index after the string starting at b[i] ('"').
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := indexQuote(b, j)
		if k < 0 {
			return i, errAt(i, "unterminated string")
		}
		j = k
		// count the backslashes before the quote
		bs := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			bs++
		}
		j++
		if bs%2 == 0 {
			return j, nil
		}
	}
}

const maxDepth = 64

var errDepth = errors.New("nested too deeply")

// skipValue returns the index after the JSON value at b[i:].
func skipValue(b []byte, i int, depth int) (int, error) {
	if i >= len(b) {
		return i, errAt(i, "missing value")
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(b) {
			c := b[j]
			if c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' {
				j++
				continue
			}
			break
		}
		return j, nil
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return i, errAt(i, "%v", errDepth)
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		j := skipWS(b, i+1)
		if j < len(b) && b[j] == end {
			return j + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if j >= len(b) || b[j] != '"' {
					return j, errAt(j, "expected a key")
				}
				if j, err = skipString(b, j); err != nil {
					return j, err
				}
				j = skipWS(b, j)
				if j >= len(b) || b[j] != ':' {
					return j, errAt(j, "expected ':'")
				}
				j = skipWS(b, j+1)
			}
			if j, err = skipValue(b, j, depth+1); err != nil {
				return j, err
			}
			j = skipWS(b, j)
			if j >= len(b) {
				return j, errAt(j, "unexpected end of line (truncated record?)")
			}
			if b[j] == end {
				return j + 1, nil
			}
			if b[j] != ',' {
				return j, errAt(j, "expected ',' or '%c'", end)
			}
			j = skipWS(b, j+1)
		}
	}
	return i, errAt(i, "unexpected character %q", b[i])
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, errAt(i, "invalid literal")
	}
	return i + len(lit), nil
}
