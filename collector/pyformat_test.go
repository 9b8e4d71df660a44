package collector

import (
	"context"
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// The receive time and client of the python-netflow tests.
var (
	pyTS     = time.Unix(0, 1795778775745432400)
	pyClient = netip.MustParseAddrPort("127.0.0.1:2055")
)

// Packet builders for the python-netflow tests.
func pyU16(v uint16) []byte  { return binary.BigEndian.AppendUint16(nil, v) }
func pyU32b(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func pyCat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// pySet is a v9 flowset or IPFIX set: id, length, body.
func pySet(id uint16, body ...[]byte) []byte {
	b := pyCat(body...)
	return pyCat(pyU16(id), pyU16(uint16(len(b)+4)), b)
}

// pyV9Packet is a v9 header (count, uptime 1000, export time, sequence 7,
// source id 0) and sets.
func pyV9Packet(sets ...[]byte) []byte {
	return pyCat(pyU16(9), pyU16(uint16(len(sets))), pyU32b(1000), pyU32b(1600000000), pyU32b(7), pyU32b(0), pyCat(sets...))
}

// pyIPFIXPacket is an IPFIX header (length, export time, sequence 7,
// domain 1) and sets.
func pyIPFIXPacket(sets ...[]byte) []byte {
	body := pyCat(sets...)
	return pyCat(pyU16(10), pyU16(uint16(16+len(body))), pyU32b(1600000000), pyU32b(7), pyU32b(1), body)
}

// pyCollect runs pkts (each from client, in order) through a collector
// writing the python-netflow format and returns the lines it wrote.
func pyCollect(t *testing.T, client netip.AddrPort, pkts ...[]byte) []map[string]any {
	t.Helper()
	out := filepath.Join(t.TempDir(), "py.json")
	c := newTestCollector(t, Config{Outputs: fileOutEnc(t, out, PythonNetflow{}), Workers: 1})
	for i, pkt := range pkts {
		c.Submit(context.Background(), Packet{Data: pkt, Source: client, Received: pyTS.UnixNano() + int64(i)}, true)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return readLines(t, out)
}

// pyLineFlows returns the header and flows of a line read by readLines.
func pyLineFlows(t *testing.T, line map[string]any) (map[string]any, []any) {
	t.Helper()
	if len(line) != 1 {
		t.Fatalf("line with %d keys", len(line))
	}
	for _, v := range line {
		e := v.(map[string]any)
		return e["header"].(map[string]any), e["flows"].([]any)
	}
	return nil, nil
}

// The Python collector writes a line for every export packet it parses,
// also when the packet holds no flows (templates only; v9 options data,
// which it does not write), with "flows": []. Data waiting for its
// template gets its line when it is decoded, one line per packet.
func TestPyCollectorPacketsWithoutFlows(t *testing.T) {
	v9tmpl := pySet(0, pyU16(300), pyU16(1), pyU16(1), pyU16(4)) // IN_BYTES
	v9otmpl := pySet(1, pyU16(301), pyU16(4), pyU16(4), pyU16(1), pyU16(4), pyU16(34), pyU16(4))
	v9odata := pySet(301, pyU32b(1), pyU32b(100))
	ipfixTmpl := pySet(2, pyU16(400), pyU16(1), pyU16(2), pyU16(4)) // packetDeltaCount
	ipfixOtmpl := pySet(3, pyU16(401), pyU16(2), pyU16(1), pyU16(143), pyU16(4), pyU16(34), pyU16(4))
	for _, c := range []struct {
		name  string
		pkts  [][]byte
		flows []int // flows per line, in order
	}{
		{"v9 template only", [][]byte{pyV9Packet(v9tmpl)}, []int{0}},
		{"v9 options template and data", [][]byte{pyV9Packet(v9otmpl, v9odata)}, []int{0}},
		{"v9 no flowsets", [][]byte{pyV9Packet()}, []int{0}},
		{"v9 data, then its template", [][]byte{
			pyV9Packet(pySet(300, pyU32b(5), pyU32b(6))), pyV9Packet(v9tmpl)}, []int{0, 2}},
		{"v9 options data, then its template", [][]byte{
			pyV9Packet(v9odata), pyV9Packet(v9otmpl)}, []int{0, 0}},
		{"v9 data of a known and an unknown template", [][]byte{
			pyV9Packet(v9tmpl), pyV9Packet(pySet(300, pyU32b(5)), pySet(302, pyU32b(6))),
			pyV9Packet(pySet(0, pyU16(302), pyU16(1), pyU16(2), pyU16(4)))}, []int{0, 1, 0, 1}},
		{"IPFIX template only", [][]byte{pyIPFIXPacket(ipfixTmpl)}, []int{0}},
		{"IPFIX options template and data", [][]byte{
			pyIPFIXPacket(ipfixOtmpl, pySet(401, pyU32b(7), pyU32b(100)))}, []int{1}},
		{"IPFIX data, then its template", [][]byte{
			pyIPFIXPacket(pySet(400, pyU32b(5))), pyIPFIXPacket(ipfixTmpl)}, []int{0, 1}},
		{"malformed", [][]byte{pyV9Packet(v9tmpl)[:10]}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			lines := pyCollect(t, pyClient, c.pkts...)
			var got []int
			for _, l := range lines {
				_, flows := pyLineFlows(t, l)
				got = append(got, len(flows))
			}
			if !reflect.DeepEqual(got, c.flows) {
				t.Errorf("flows per line %v, want %v", got, c.flows)
			}
		})
	}
}
