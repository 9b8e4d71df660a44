package analyzer

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchLine is a flow as nfcollect writes it for a typical IPFIX template (~550 bytes).
var benchLine = []byte(`{"type":"IPFIX","time_received_ns":1700000020512345678,"sampler_address":"192.0.2.1","sequence_num":123456,"observation_domain_id":0,"template_id":256,"time_flow_start_ns":1700000000000000000,"time_flow_end_ns":1700000020000000000,"bytes":123456,"packets":321,"src_addr":"10.0.12.34","dst_addr":"198.51.100.77","src_port":51234,"dst_port":443,"proto":6,"etype":2048,"ip_tos":0,"tcp_flags":27,"in_if":3,"out_if":7,"src_as":64500,"dst_as":15169,"src_net":24,"dst_net":16,"next_hop":"192.0.2.254","flow_end_reason":3,"flowDirection":0,"ipClassOfService":0}`)

func scanAll(tb testing.TB, s *lineScanner, f *Flow, n int) {
	for i := 0; i < n; i++ {
		if err := s.scan(benchLine, f); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkScan is the hand-written scanner on one line.
func BenchmarkScan(b *testing.B) {
	var s lineScanner
	var f Flow
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	for b.Loop() {
		scanAll(b, &s, &f, 1)
	}
}

// BenchmarkScanStdJSON is the baseline: encoding/json into a struct of the same keys.
func BenchmarkScanStdJSON(b *testing.B) {
	var v struct {
		Type    string `json:"type"`
		Recv    int64  `json:"time_received_ns"`
		Sampler string `json:"sampler_address"`
		Start   int64  `json:"time_flow_start_ns"`
		End     int64  `json:"time_flow_end_ns"`
		Bytes   uint64 `json:"bytes"`
		Packets uint64 `json:"packets"`
		Src     string `json:"src_addr"`
		Dst     string `json:"dst_addr"`
		SrcPort uint16 `json:"src_port"`
		DstPort uint16 `json:"dst_port"`
		Proto   uint8  `json:"proto"`
		SrcAS   uint32 `json:"src_as"`
		DstAS   uint32 `json:"dst_as"`
	}
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	for b.Loop() {
		if err := json.Unmarshal(benchLine, &v); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScanAllocs keeps the scanner allocation-free on IPv4 lines.
func TestScanAllocs(t *testing.T) {
	var s lineScanner
	var f Flow
	if n := testing.AllocsPerRun(100, func() { scanAll(t, &s, &f, 1) }); n != 0 {
		t.Errorf("got %v allocations per line, want 0", n)
	}
}

// variedLines are flows like benchLine with numbers and addresses of varying
// length, as in real input (a single repeated line lets the CPU predict every
// branch).
func variedLines(n int) [][]byte {
	r := rand.New(rand.NewPCG(7, 7))
	lines := make([][]byte, n)
	for i := range lines {
		start := 1_700_000_000_000_000_000 + r.Int64N(1e12)
		end := start + r.Int64N(1e11)
		pk := 1 + r.IntN(300)
		lines[i] = fmt.Appendf(nil, `{"type":"IPFIX","time_received_ns":%d,"sampler_address":"192.0.2.%d","sequence_num":%d,"observation_domain_id":0,"template_id":256,"time_flow_start_ns":%d,"time_flow_end_ns":%d,"bytes":%d,"packets":%d,"src_addr":"10.%d.%d.%d","dst_addr":"198.51.%d.%d","src_port":%d,"dst_port":%d,"proto":%d,"etype":2048,"ip_tos":0,"tcp_flags":%d,"in_if":%d,"out_if":%d,"src_as":64500,"dst_as":%d,"src_net":24,"dst_net":16,"next_hop":"192.0.2.254","flow_end_reason":%d,"flowDirection":0,"ipClassOfService":0}`,
			end+r.Int64N(1e9), 1+r.IntN(3), r.IntN(1e7), start, end, pk*(40+r.IntN(1400)), pk,
			r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256),
			1024+r.IntN(64000), []int{443, 80, 53, 22, 8443, 3389}[r.IntN(6)], []int{6, 6, 17}[r.IntN(3)],
			r.IntN(64), r.IntN(20), r.IntN(200), []int{15169, 13335, 8075, 16509}[r.IntN(4)], 1+r.IntN(4))
	}
	return lines
}

// BenchmarkScanVaried scans lines that differ in their numbers and addresses.
func BenchmarkScanVaried(b *testing.B) {
	lines := variedLines(4096)
	var s lineScanner
	var f Flow
	var size int64
	for _, l := range lines {
		size += int64(len(l))
	}
	b.SetBytes(size / int64(len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := s.scan(lines[i&4095], &f); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
