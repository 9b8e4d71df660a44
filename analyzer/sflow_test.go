package analyzer

import (
	"io"
	"strings"
	"testing"
)

// TestSFlowRecordsWithoutAddresses: nfcollect's sFlow output mixes flow
// samples with counter samples and samples of non-IP frames; only the IP
// flows are read, and the others are not bad lines. A NetFlow line without
// addresses still is.
func TestSFlowRecordsWithoutAddresses(t *testing.T) {
	in := strings.Join([]string{
		`{"type":"SFLOW_5","time_received_ns":1,"sampler_address":"127.0.0.1","sequence_num":1,"observation_domain_id":7,"template_id":0,"bytes":64,"packets":1,"src_addr":"192.0.2.10","dst_addr":"198.51.100.80","src_port":40001,"dst_port":80,"proto":6,"sampling_rate":1,"agent_address":"192.0.2.254","as_path":[64497],"bgp_communities":[]}`,
		`{"type":"SFLOW_5","time_received_ns":1,"sampler_address":"127.0.0.1","sequence_num":1,"observation_domain_id":7,"template_id":0,"bytes":64,"packets":1,"etype":2054,"src_mac":"02:00:5e:10:00:11","sampling_rate":1,"agent_address":"192.0.2.254"}`,
		`{"type":"SFLOW_5_COUNTERS","time_received_ns":2,"sampler_address":"127.0.0.1","sequence_num":48,"observation_domain_id":7,"agent_address":"192.0.2.254","if_index":3,"if_in_octets":68131}`,
		`{"type":"NETFLOW_V9","time_received_ns":3,"sampler_address":"127.0.0.1","sequence_num":1,"observation_domain_id":0,"template_id":256,"bytes":1,"packets":1}`,
	}, "\n") + "\n"
	var errb strings.Builder
	sum, err := Run(Config{Inputs: []string{"-"}, Stdin: strings.NewReader(in), Output: "csv"}, io.Discard, &errb)
	if err != nil || sum.Flows != 1 || sum.SkippedLines != 1 {
		t.Fatalf("Run = %+v, %v (want 1 flow, 1 bad line: the NetFlow one)\n%s", sum, err, errb.String())
	}
	if !strings.Contains(errb.String(), "<stdin>:4:") {
		t.Errorf("the bad line reported is not line 4: %s", errb.String())
	}
}
