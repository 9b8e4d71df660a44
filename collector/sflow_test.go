package collector

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/decode"
)

// TestSFlowPort: a second UDP input (nfcollect --sflow-port) receives sFlow
// beside NetFlow on the first; both go to one output, sFlow's flow samples
// and counter samples as tshark sees them, and the flows are counted by
// type.
func TestSFlowPort(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flows.json")
	c := newTestCollector(t, Config{Host: "127.0.0.1", Outputs: fileOut(t, out)})
	nf, err := c.ListenUDP()
	if err != nil {
		t.Fatal(err)
	}
	sf, err := c.ListenUDPPort(0)
	if err != nil {
		t.Fatal(err)
	}
	if nf.Addr().Port() == sf.Addr().Port() {
		t.Fatalf("both inputs on port %d", nf.Addr().Port())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Serve(ctx, nf, sf) }()
	const sfCapture, nfCapture = "sfprobe-sflow.pcap", "softflowd-v5.pcap"
	newSender(t, "127.0.3.1", sf.Addr()).send(t, capturePayloads(t, sfCapture)...)
	newSender(t, "127.0.3.2", nf.Addr()).send(t, capturePayloads(t, nfCapture)...)
	waitIdle(t, c)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var sfLines, nfLines []map[string]any
	for _, m := range readLines(t, out) {
		if strings.HasPrefix(m["type"].(string), "SFLOW_5") {
			sfLines = append(sfLines, m)
		} else {
			nfLines = append(nfLines, m)
		}
	}
	equalKeys(t, sfCapture, keys(sfLines), tsharkKeys(t, sfCapture))
	equalKeys(t, nfCapture, keys(nfLines), tsharkKeys(t, nfCapture))
	for _, m := range sfLines {
		if m["sampler_address"] != "127.0.3.1" || m["agent_address"] != "192.0.2.254" || m["observation_domain_id"] != float64(7) {
			t.Fatalf("sFlow line with the wrong exporter, agent or sub-agent: %v", m)
		}
	}
	var flows uint64
	for _, l := range sfLines {
		if l["type"] == "SFLOW_5" {
			flows++
		}
	}
	if got := c.metrics.flowsByVersion[versionSlot(decode.VersionSFlow5)].Load(); got != flows || flows == 0 {
		t.Errorf("flows_decoded_total{type=SFLOW_5} = %d, want %d", got, flows)
	}
	if s := c.Stats(); s.Errors != 0 || s.SeqLost != 0 {
		t.Errorf("stats %+v: want no errors or sequence loss", s)
	}
}

// TestSFlowSequenceLoss: a missing sFlow datagram is one lost datagram
// (sFlow numbers datagrams, as v9 does packets), not a count of samples.
func TestSFlowSequenceLoss(t *testing.T) {
	pkts := capturePayloads(t, "sfprobe-sflow.pcap")
	out := filepath.Join(t.TempDir(), "flows.json")
	c := live(t, Config{Outputs: fileOut(t, out)}, func(addr netip.AddrPort, c *Collector) {
		s := newSender(t, "127.0.3.3", addr)
		s.send(t, pkts[:8]...)
		s.send(t, pkts[9:20]...) // datagram 9 lost
	})
	if s := c.Stats(); s.SeqLost != 1 {
		t.Errorf("sequence loss %d, want 1 datagram", s.SeqLost)
	}
}

// TestSFlowSequenceObserve: sFlow's sequence number counts datagrams,
// whatever their number of samples.
func TestSFlowSequenceObserve(t *testing.T) {
	var s seqState
	var lost uint32
	for seq := uint32(1); seq <= 20; seq++ {
		if seq == 9 {
			continue
		}
		l, reset := s.observe(seqObs{version: decode.VersionSFlow5, seq: seq, count: 5})
		if reset {
			t.Fatalf("seq %d: reset", seq)
		}
		lost += l
	}
	if lost != 1 {
		t.Errorf("lost %d, want 1", lost)
	}
}
