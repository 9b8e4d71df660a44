package analyzer

import (
	"encoding/json"
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
