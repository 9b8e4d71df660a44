// Package benchpkt builds the deterministic, realistic export packets that
// the decoder benchmarks (decode/*_timing_test.go) and the side-by-side
// comparison with goflow2 (bench/goflow2) decode, so both measure the same
// bytes.
package benchpkt

import (
	"encoding/binary"
	"math/rand/v2"
)

// Record counts per packet.
const (
	V5Records        = 30
	V9Records        = 25
	IPFIXRecords     = 22
	SoftflowdRecords = 24
)

var be = binary.BigEndian

// Field is a template field: element id and length.
type Field struct{ ID, Len uint16 }

// V9Fields is a 20-field, 55-byte template in the spirit of softflowd and
// router exports: addresses, next hop, interfaces, counters, uptime
// times, ports, flags, protocol, ToS, AS numbers, masks, IP version and
// direction. It is deliberately not one of the generated shapes, so it
// measures the compiled step list.
var V9Fields = []Field{
	{8, 4}, {12, 4}, {15, 4}, {10, 4}, {14, 4}, {2, 4}, {1, 4}, {22, 4}, {21, 4}, {7, 2},
	{11, 2}, {6, 1}, {4, 1}, {5, 1}, {16, 4}, {17, 4}, {9, 1}, {13, 1}, {60, 1}, {61, 1},
}

// IPFIXFields is V9Fields with absolute millisecond times (152/153) in
// place of the uptime-relative 22/21: 20 fields, 63 bytes.
var IPFIXFields = func() []Field {
	f := append([]Field(nil), V9Fields...)
	f[7], f[8] = Field{152, 8}, Field{153, 8}
	return f
}()

// SoftflowdFields is softflowd's IPv4 v9 template (a generated shape).
var SoftflowdFields = []Field{
	{8, 4}, {12, 4}, {21, 4}, {22, 4}, {1, 4}, {2, 4}, {10, 4}, {14, 4}, {7, 2}, {11, 2},
	{4, 1}, {6, 1}, {60, 1}, {5, 1},
}

const (
	exportSecs = 1700000000
	uptimeMs   = 86400000
)

// value returns a plausible field value for record i.
func value(r *rand.Rand, id uint16, i int) uint64 {
	switch id {
	case 8, 15:
		return 0xC0000200 | uint64(r.IntN(256)) // 192.0.2.x
	case 12:
		return 0xC6336400 | uint64(r.IntN(256)) // 198.51.100.x
	case 10, 14:
		return uint64(1 + r.IntN(48))
	case 2:
		return uint64(1 + r.IntN(5000))
	case 1:
		return uint64(40 + r.IntN(5000000))
	case 22:
		return uptimeMs - 60000 - uint64(i)*100
	case 21:
		return uptimeMs - 1000 - uint64(i)*10
	case 152:
		return exportSecs*1000 - 60000 - uint64(i)*100
	case 153:
		return exportSecs*1000 - 1000 - uint64(i)*10
	case 7:
		return uint64(1024 + r.IntN(60000))
	case 11:
		return []uint64{80, 443, 53, 22, 123}[i%5]
	case 6:
		return 0x1b
	case 4:
		return []uint64{6, 6, 17, 6, 17}[i%5]
	case 5:
		return 0
	case 16, 17:
		return uint64(64496 + r.IntN(16))
	case 9, 13:
		return 24
	case 60:
		return 4
	case 61:
		return uint64(i & 1)
	}
	return 0
}

func appendRecord(b []byte, r *rand.Rand, fields []Field, i int) []byte {
	for _, f := range fields {
		v := value(r, f.ID, i)
		switch f.Len {
		case 1:
			b = append(b, byte(v))
		case 2:
			b = be.AppendUint16(b, uint16(v))
		case 4:
			b = be.AppendUint32(b, uint32(v))
		case 8:
			b = be.AppendUint64(b, v)
		}
	}
	return b
}

func setHeader(b []byte, id uint16, start int) []byte {
	for (len(b)-start)%4 != 0 {
		b = append(b, 0) // pad the set to 4 bytes
	}
	be.PutUint16(b[start:], id)
	be.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

// V5 returns a NetFlow v5 packet of V5Records records.
func V5() []byte {
	r := rand.New(rand.NewPCG(5, 5))
	b := be.AppendUint16(nil, 5)
	b = be.AppendUint16(b, V5Records)
	b = be.AppendUint32(b, uptimeMs)
	b = be.AppendUint32(b, exportSecs)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 1000) // sequence
	b = append(b, 0, 0)          // engine type, id
	b = be.AppendUint16(b, 0)    // sampling
	for i := range V5Records {
		b = be.AppendUint32(b, uint32(value(r, 8, i)))
		b = be.AppendUint32(b, uint32(value(r, 12, i)))
		b = be.AppendUint32(b, uint32(value(r, 15, i)))
		b = be.AppendUint16(b, uint16(value(r, 10, i)))
		b = be.AppendUint16(b, uint16(value(r, 14, i)))
		b = be.AppendUint32(b, uint32(value(r, 2, i)))
		b = be.AppendUint32(b, uint32(value(r, 1, i)))
		b = be.AppendUint32(b, uint32(value(r, 22, i)))
		b = be.AppendUint32(b, uint32(value(r, 21, i)))
		b = be.AppendUint16(b, uint16(value(r, 7, i)))
		b = be.AppendUint16(b, uint16(value(r, 11, i)))
		b = append(b, 0, 0x1b, byte(value(r, 4, i)), 0)
		b = be.AppendUint16(b, uint16(value(r, 16, i)))
		b = be.AppendUint16(b, uint16(value(r, 17, i)))
		b = append(b, 24, 24, 0, 0)
	}
	return b
}

func v9Header(count uint16, seq uint32) []byte {
	b := be.AppendUint16(nil, 9)
	b = be.AppendUint16(b, count)
	b = be.AppendUint32(b, uptimeMs)
	b = be.AppendUint32(b, exportSecs)
	b = be.AppendUint32(b, seq)
	return be.AppendUint32(b, 1) // source ID
}

func ipfixHeader(seq uint32) []byte {
	b := be.AppendUint16(nil, 10)
	b = be.AppendUint16(b, 0) // length, set at the end
	b = be.AppendUint32(b, exportSecs)
	b = be.AppendUint32(b, seq)
	return be.AppendUint32(b, 1) // observation domain
}

func appendTemplate(b []byte, setID, tid uint16, fields []Field) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	b = be.AppendUint16(b, tid)
	b = be.AppendUint16(b, uint16(len(fields)))
	for _, f := range fields {
		b = be.AppendUint16(b, f.ID)
		b = be.AppendUint16(b, f.Len)
	}
	return setHeader(b, setID, start)
}

func appendData(b []byte, r *rand.Rand, tid uint16, fields []Field, n int) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0)
	for i := range n {
		b = appendRecord(b, r, fields, i)
	}
	return setHeader(b, tid, start)
}

// V9 returns a template packet and a data packet of V9Records records
// with V9Fields (template 256).
func V9() (template, data []byte) {
	return v9(V9Fields, V9Records)
}

// V9Softflowd returns a template and a data packet with softflowd's IPv4
// template (a generated straight-line shape).
func V9Softflowd() (template, data []byte) {
	return v9(SoftflowdFields, SoftflowdRecords)
}

func v9(fields []Field, n int) (template, data []byte) {
	r := rand.New(rand.NewPCG(9, 9))
	template = appendTemplate(v9Header(1, 1), 0, 256, fields)
	data = appendData(v9Header(uint16(n), 2), r, 256, fields, n)
	return template, data
}

// IPFIX returns a template message and a data message of IPFIXRecords
// records with IPFIXFields (template 256).
func IPFIX() (template, data []byte) {
	r := rand.New(rand.NewPCG(10, 10))
	template = appendTemplate(ipfixHeader(0), 2, 256, IPFIXFields)
	be.PutUint16(template[2:], uint16(len(template)))
	data = appendData(ipfixHeader(0), r, 256, IPFIXFields, IPFIXRecords)
	be.PutUint16(data[2:], uint16(len(data)))
	return template, data
}
