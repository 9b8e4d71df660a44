package analyzer

import (
	"bytes"
	"math"
)

// scanRef is the scanner as it was before the key-order memo (jsonscan.go):
// the reference the fast scanner must agree with.
func (s *lineScanner) scanRef(line []byte, f *Flow) error {
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
	var haveSrc, haveDst, haveBytes, haveOutPackets bool
	var outPackets uint64
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
		if !controlFree(line[i+1 : j]) {
			return errAt(i, "control character in string")
		}
		key := line[i+1 : j]
		if bytes.IndexByte(key, '\\') >= 0 {
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
			v, i, err = uintValue(line, i, key, math.MaxInt64)
			f.Received = int64(v)
		case "time_flow_start_ns":
			v, i, err = uintValue(line, i, key, math.MaxInt64)
			f.Start = int64(v)
			f.Flags |= flowHasStart
		case "time_flow_end_ns":
			v, i, err = uintValue(line, i, key, math.MaxInt64)
			f.End = int64(v)
			f.Flags |= flowHasEnd
		case "bytes":
			f.Bytes, i, err = uintValue(line, i, key, math.MaxUint64)
			haveBytes = true
		case "packets":
			f.Packets, i, err = uintValue(line, i, key, math.MaxUint64)
		case "out_bytes":
			v, i, err = uintValue(line, i, key, math.MaxUint64)
			if !haveBytes {
				f.Bytes = v
			}
		case "out_packets":
			outPackets, i, err = uintValue(line, i, key, math.MaxUint64)
			haveOutPackets = true
		case "rev_bytes":
			f.RevBytes, i, err = uintValue(line, i, key, math.MaxUint64)
			f.Flags |= flowBiflow
		case "rev_packets":
			f.RevPackets, i, err = uintValue(line, i, key, math.MaxUint64)
			f.Flags |= flowBiflow
		case "flows":
			f.Flows, i, err = uintValue(line, i, key, math.MaxUint64)
		case "src_port":
			v, i, err = uintValue(line, i, key, 65535)
			f.SrcPort = uint16(v)
		case "dst_port":
			v, i, err = uintValue(line, i, key, 65535)
			f.DstPort = uint16(v)
		case "proto":
			v, i, err = uintValue(line, i, key, 255)
			f.Proto = uint8(v)
		case "src_as":
			v, i, err = uintValue(line, i, key, 4294967295)
			f.SrcAS = uint32(v)
		case "dst_as":
			v, i, err = uintValue(line, i, key, 4294967295)
			f.DstAS = uint32(v)
		case "icmp_type":
			v, i, err = uintValue(line, i, key, 255)
			icmpType = int(v)
		case "icmp_code":
			v, i, err = uintValue(line, i, key, 255)
			icmpCode = int(v)
		case "ip_tos":
			v, i, err = uintValue(line, i, key, 255)
			f.TOS = uint8(v)
		case "tcp_flags":
			v, i, err = uintValue(line, i, key, 65535)
			f.TCPFlags = uint16(v)
		case "src_vlan":
			v, i, err = uintValue(line, i, key, 65535)
			f.SrcVLAN = uint16(v)
		case "dst_vlan":
			v, i, err = uintValue(line, i, key, 65535)
			f.DstVLAN = uint16(v)
		case "in_if":
			v, i, err = uintValue(line, i, key, 4294967295)
			f.InIf = uint32(v)
		case "out_if":
			v, i, err = uintValue(line, i, key, 4294967295)
			f.OutIf = uint32(v)
		case "src_net":
			v, i, err = uintValue(line, i, key, 255)
			f.SrcMask = uint8(v)
		case "dst_net":
			v, i, err = uintValue(line, i, key, 255)
			f.DstMask = uint8(v)
		case "direction":
			v, i, err = uintValue(line, i, key, 255)
			f.Direction = uint8(v)
		case "src_mac":
			f.SrcMAC, i, err = macValue(line, i, "src_mac")
		case "dst_mac":
			f.DstMAC, i, err = macValue(line, i, "dst_mac")
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
	if f.Packets == 0 && haveOutPackets {
		f.Packets = outPackets
	}
	f.fixTimes()
	return nil
}
