package collector

import (
	"context"
	"net/netip"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/nfkit/nfkit/internal/testvec"
)

// The receive time and client of the python-netflow tests.
var (
	pyTS     = time.Unix(0, 1795778775745432400)
	pyClient = netip.MustParseAddrPort("127.0.0.1:2055")
)

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
	v9tmpl := testvec.Set(0, testvec.U16(300), testvec.U16(1), testvec.U16(1), testvec.U16(4)) // IN_BYTES
	v9otmpl := testvec.Set(1, testvec.U16(301), testvec.U16(4), testvec.U16(4), testvec.U16(1), testvec.U16(4), testvec.U16(34), testvec.U16(4))
	v9odata := testvec.Set(301, testvec.U32(1), testvec.U32(100))
	ipfixTmpl := testvec.Set(2, testvec.U16(400), testvec.U16(1), testvec.U16(2), testvec.U16(4)) // packetDeltaCount
	ipfixOtmpl := testvec.Set(3, testvec.U16(401), testvec.U16(2), testvec.U16(1), testvec.U16(143), testvec.U16(4), testvec.U16(34), testvec.U16(4))
	for _, c := range []struct {
		name  string
		pkts  [][]byte
		flows []int // flows per line, in order
	}{
		{"v9 template only", [][]byte{pyV9(v9tmpl)}, []int{0}},
		{"v9 options template and data", [][]byte{pyV9(v9otmpl, v9odata)}, []int{0}},
		{"v9 no flowsets", [][]byte{pyV9()}, []int{0}},
		{"v9 data, then its template", [][]byte{
			pyV9(testvec.Set(300, testvec.U32(5), testvec.U32(6))), pyV9(v9tmpl)}, []int{0, 2}},
		{"v9 options data, then its template", [][]byte{
			pyV9(v9odata), pyV9(v9otmpl)}, []int{0, 0}},
		{"v9 data of a known and an unknown template", [][]byte{
			pyV9(v9tmpl), pyV9(testvec.Set(300, testvec.U32(5)), testvec.Set(302, testvec.U32(6))),
			pyV9(testvec.Set(0, testvec.U16(302), testvec.U16(1), testvec.U16(2), testvec.U16(4)))}, []int{0, 1, 0, 1}},
		{"IPFIX template only", [][]byte{pyIPFIX(ipfixTmpl)}, []int{0}},
		{"IPFIX options template and data", [][]byte{
			pyIPFIX(ipfixOtmpl, testvec.Set(401, testvec.U32(7), testvec.U32(100)))}, []int{1}},
		{"IPFIX data, then its template", [][]byte{
			pyIPFIX(testvec.Set(400, testvec.U32(5))), pyIPFIX(ipfixTmpl)}, []int{0, 1}},
		{"malformed", [][]byte{pyV9(v9tmpl)[:10]}, nil},
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

// pyV9 and pyIPFIX are the packets of these tests: sequence 7, source ID 0
// (v9) or observation domain 1 (IPFIX).
func pyV9(sets ...[]byte) []byte    { return testvec.V9(7, 0, sets...) }
func pyIPFIX(sets ...[]byte) []byte { return testvec.IPFIX(7, 1, sets...) }
