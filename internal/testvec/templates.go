package testvec

import "encoding/binary"

// TemplatePackets returns, for the NetFlow v9 or IPFIX export packets of a
// capture, a packet that carries only the template and options template
// sets of the first packet that has any (same header), with the number of
// template records in it, and the same packet with the template IDs of the
// records rotated by one (each ID then names another definition). Both are
// nil when no packet has a template set of two or more records.
func TemplatePackets(pkts [][]byte) (tmpl, rotated []byte, n int) {
	for _, pkt := range pkts {
		if len(pkt) < 20 {
			continue
		}
		version := binary.BigEndian.Uint16(pkt)
		hdr := 20
		if version == 10 {
			hdr = 16
		} else if version != 9 {
			continue
		}
		var ids []int // offsets of the template ids in the kept sets
		out := append([]byte(nil), pkt[:hdr]...)
		for off := hdr; off+4 <= len(pkt); {
			id := binary.BigEndian.Uint16(pkt[off:])
			l := int(binary.BigEndian.Uint16(pkt[off+2:]))
			if l < 4 || off+l > len(pkt) {
				break
			}
			if (version == 9 && id <= 1) || (version == 10 && (id == 2 || id == 3)) {
				base := len(out) + 4
				recs := templateRecordOffsets(version, id, pkt[off+4:off+l])
				for _, r := range recs {
					ids = append(ids, base+r)
				}
				out = append(out, pkt[off:off+l]...)
			}
			off += l
		}
		if len(ids) < 2 {
			continue
		}
		if version == 9 {
			binary.BigEndian.PutUint16(out[2:], uint16(len(ids)))
		} else {
			binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
		}
		rot := append([]byte(nil), out...)
		for i, at := range ids {
			next := binary.BigEndian.Uint16(out[ids[(i+1)%len(ids)]:])
			binary.BigEndian.PutUint16(rot[at:], next)
		}
		return out, rot, len(ids)
	}
	return nil, nil, 0
}

// templateRecordOffsets returns the offsets in body (a template or options
// template set body of set id) of its records' template IDs.
func templateRecordOffsets(version, setID uint16, body []byte) []int {
	var offs []int
	for off := 0; off+4 <= len(body); {
		tid := binary.BigEndian.Uint16(body[off:])
		count := int(binary.BigEndian.Uint16(body[off+2:]))
		if tid < 256 {
			break // padding
		}
		n := 4
		switch {
		case version == 9 && setID == 1:
			if off+6 > len(body) {
				return offs
			}
			n = 6 + int(binary.BigEndian.Uint16(body[off+2:])) + int(binary.BigEndian.Uint16(body[off+4:]))
		case version == 9:
			n += 4 * count
		default:
			if setID == 3 {
				n = 6
			}
			for range count {
				if off+n+4 > len(body) {
					return offs
				}
				enterprise := body[off+n]&0x80 != 0
				n += 4
				if enterprise {
					n += 4
				}
			}
		}
		if off+n > len(body) {
			break
		}
		offs = append(offs, off)
		off += n
	}
	return offs
}
