package decode

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// compareMore checks the tshark fields of the router-like captures
// (pmacct-*-wide, pmacct-ipfix-pen, nfreplay-*, softflowd-ipfix-mpls,
// softflowd-psamp) that compareRecord does not: BGP next hop, IPv6 masks,
// flow and out-direction counters, MPLS label stacks, PSAMP packet reports,
// enterprise and variable-length elements, and the raw elements that have
// no normalized field. It
// reports whether it knew k.
func compareMore(t *testing.T, at string, r *Record, k string, vs []string) bool {
	t.Helper()
	f := &r.Flow
	has := func(bit FieldSet, what string) bool {
		if f.Has&bit == 0 {
			t.Errorf("%s: tshark shows %s, record lacks it (Has=%#x)", at, what, f.Has)
			return false
		}
		return true
	}
	num := func(bit FieldSet, got uint64) {
		if has(bit, k) {
			check(t, at+" "+k, got, parseNum(t, vs[0]))
		}
	}
	mac := func(id uint16) string {
		fl, ok := r.Lookup(0, id)
		if !ok {
			t.Errorf("%s: no field %d for %s", at, id, k)
			return ""
		}
		return net.HardwareAddr(fl.Value).String()
	}
	_, hasIn80 := r.Lookup(0, 80)
	_, hasIn56 := r.Lookup(0, 56)
	switch k {
	case "cflow.flows":
		num(HasFlows, f.Flows)
	case "cflow.post_octets":
		num(HasOutBytes, f.OutBytes)
	case "cflow.post_packets":
		num(HasOutPackets, f.OutPackets)
	case "cflow.srcmaskv6":
		num(HasSrcMask, uint64(f.SrcMask))
	case "cflow.dstmaskv6":
		num(HasDstMask, uint64(f.DstMask))
	case "cflow.bgpnexthop", "cflow.bgpnexthopv6":
		if has(HasBGPNextHop, k) {
			check(t, at+" "+k, f.BGPNextHop.String(), vs[0])
		}
	case "cflow.post_dstmac":
		// IE 57. With IE 80 (cflow.dstmac) in the same record,
		// DstMAC is 80's value (nfreplay sends both, 57 zero).
		check(t, at+" "+k, mac(57), vs[0])
		if !hasIn80 && has(HasDstMAC, k) {
			check(t, at+" "+k+" DstMAC", f.DstMAC.String(), vs[0])
		}
	case "cflow.post_srcmac":
		// IE 81; SrcMAC is IE 56's value when both are sent.
		check(t, at+" "+k, mac(81), vs[0])
		if !hasIn56 && has(HasSrcMAC, k) {
			check(t, at+" "+k+" SrcMAC", f.SrcMAC.String(), vs[0])
		}
	case "cflow.post_tos":
		check(t, at+" "+k, fieldUint(t, r, 0, 55), parseNum(t, vs[0]))
	case "cflow.engine_type":
		check(t, at+" "+k, fieldUint(t, r, 0, 38), parseNum(t, vs[0]))
	case "cflow.engine_id":
		check(t, at+" "+k, fieldUint(t, r, 0, 39), parseNum(t, vs[0]))
	case "cflow.forwarding_status":
		// IE 89: status in the top 2 bits, reason code below.
		check(t, at+" "+k, fieldUint(t, r, 0, 89)>>6, parseNum(t, vs[0]))
	case "cflow.forwarding_status_unknown_code", "cflow.forwarding_status_forward_code",
		"cflow.forwarding_status_drop_code", "cflow.forwarding_status_consume_code":
		check(t, at+" "+k, fieldUint(t, r, 0, 89)&0x3f, parseNum(t, vs[0]))
	case "cflow.mpls_label", "cflow.mpls_exp", "cflow.mpls_bos":
		// IEs 70-79, one 3-byte label stack entry each, in template
		// order: 20-bit label, 3-bit EXP, bottom-of-stack bit.
		var got []string
		for fl := range r.Fields() {
			if fl.PEN != 0 || fl.ID < 70 || fl.ID > 79 {
				continue
			}
			v, ok := fl.Uint()
			if !ok {
				t.Errorf("%s: MPLS field %d: %x", at, fl.ID, fl.Value)
				continue
			}
			switch k {
			case "cflow.mpls_label":
				v >>= 4
			case "cflow.mpls_exp":
				v = v >> 1 & 7
			default:
				v &= 1
			}
			got = append(got, fmt.Sprint(v))
		}
		check(t, at+" "+k, fmt.Sprint(got), fmt.Sprint(vs))
	case "cflow.selection_sequence_id":
		check(t, at+" "+k, fieldUint(t, r, 0, 301), parseNum(t, vs[0]))
	case "cflow.section_exported_octets":
		check(t, at+" "+k, fieldUint(t, r, 0, 410), parseNum(t, vs[0]))
	case "cflow.observation_time_microseconds":
		// IE 324 in NTP format; tshark truncates the fraction
		// (testdata/README.md), hence the 1 µs slack.
		fl, _ := r.Lookup(0, 324)
		got, ok := fl.Time()
		want := parseDate(t, vs[0]).UnixNano()
		if !ok || got-want < -1000 || got-want > 1000 {
			t.Errorf("%s: %s = %v (%v), tshark %s", at, k, time.Unix(0, got).UTC(), ok, vs[0])
		}
	case "cflow.data_link_frame_section":
		// IE 315: the frame's first bytes, zero-padded by softflowd.
		fl, _ := r.Lookup(0, 315)
		check(t, at+" "+k, colonHex(fl.Value), vs[0])
	case "cflow.enterprise_private_entry":
		// Elements of an enterprise tshark has no names for (pmacct's
		// 43874), as hex bytes in template order.
		var got []string
		for fl := range r.Fields() {
			if fl.PEN != 0 && fl.PEN != 29305 {
				got = append(got, colonHex(fl.Value))
			}
		}
		check(t, at+" "+k, fmt.Sprint(got), fmt.Sprint(vs))
	case "cflow.string_len_short":
		// The one-byte length of each variable-length field.
		var got []string
		for fl := range r.Fields() {
			if fl.Length == VariableLength {
				got = append(got, fmt.Sprint(len(fl.Value)))
			}
		}
		check(t, at+" "+k, fmt.Sprint(got), fmt.Sprint(vs))
	default:
		return false
	}
	return true
}

// colonHex formats b as tshark prints bytes: "0a:1b:...".
func colonHex(b []byte) string {
	s := make([]string, len(b))
	for i, c := range b {
		s[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(s, ":")
}
