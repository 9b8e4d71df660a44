package collector

import (
	"context"
	"encoding/binary"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/testvec"
)

// An IPFIX variable-length field that runs past its set is a decode error
// that is counted and logged (it used to end the set silently), and the
// records before it are kept.
func TestVarLenPastSetCounted(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.json")
	c := newTestCollector(t, Config{Outputs: fileOut(t, out), Workers: 1})
	tmpl := testvec.Set(2, []byte{1, 0, 0, 2, 0, 8, 0, 4, 0, 82, 0xff, 0xff}) // template 256: sourceIPv4Address, interfaceName (variable)
	good := []byte{192, 0, 2, 1, 3, 'l', 'o', '0'}
	bad := []byte{192, 0, 2, 2, 50, 'e', 't', 'h', '0'} // claims 50 bytes, has 4
	src := netip.MustParseAddrPort("192.0.2.9:4739")
	c.Submit(context.Background(), Packet{Data: testvec.IPFIX(0, 0, tmpl, testvec.Set(256, good, bad)), Source: src, Received: 1}, true)
	waitDecoded(t, c, 1)
	m := string(c.AppendMetrics(nil))
	c.Close()
	if !strings.Contains(m, `nfcollect_decode_errors_total{exporter="192.0.2.9",reason="truncated"} 1`) {
		t.Errorf("the bad record is not counted:\n%s", m)
	}
	if n := len(readLines(t, out)); n != 1 {
		t.Errorf("%d flows written, want the good one", n)
	}
}

// --renormalize multiplies the counters and marks the record: its
// sampling rate becomes 1 and the rate applied is kept, so that nothing
// downstream multiplies twice.
func TestRenormalizeMarked(t *testing.T) {
	dir := t.TempDir()
	plain, renorm := filepath.Join(dir, "plain.json"), filepath.Join(dir, "renorm.json")
	capture := filepath.Join("..", "testdata", "softflowd-v9-sampling.pcap")
	if err := replay(t, newTestCollector(t, Config{Outputs: fileOut(t, plain)}), capture); err != nil {
		t.Fatal(err)
	}
	if err := replay(t, newTestCollector(t, Config{Outputs: fileOut(t, renorm), Renormalize: true}), capture); err != nil {
		t.Fatal(err)
	}
	a, b := readLines(t, plain), readLines(t, renorm)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d and %d flows", len(a), len(b))
	}
	marked := 0
	for i := range a {
		rate, _ := a[i]["sampling_rate"].(float64)
		if rate <= 1 {
			continue
		}
		marked++
		if b[i]["sampling_rate"] != 1.0 || b[i]["original_sampling_rate"] != rate {
			t.Fatalf("flow %d: renormalized sampling_rate %v, original %v; want 1 and %v", i, b[i]["sampling_rate"], b[i]["original_sampling_rate"], rate)
		}
		if b[i]["bytes"] != a[i]["bytes"].(float64)*rate || b[i]["packets"] != a[i]["packets"].(float64)*rate {
			t.Fatalf("flow %d: counters %v/%v, want %v times %v/%v", i, b[i]["bytes"], b[i]["packets"], rate, a[i]["bytes"], a[i]["packets"])
		}
	}
	if marked == 0 {
		t.Error("no sampled flow in the capture")
	}
}

// IPFIX data that arrives before its template has an unknown record count:
// it must not be taken as loss, before or after it is decoded (it counted
// as 0 records: 15 in-order packets reported 379 lost).
func TestIPFIXHeldDataIsNotLoss(t *testing.T) {
	for _, name := range []string{"softflowd-ipfix.pcap", "pmacct-ipfix.pcap"} {
		pkts := capturePayloads(t, name)
		out := filepath.Join(t.TempDir(), "x.json")
		c := live(t, Config{Outputs: fileOut(t, out), Workers: 1}, func(addr netip.AddrPort, c *Collector) {
			s := newSender(t, "127.0.11.1", addr)
			// Data first: the first packet (templates and data) last.
			s.send(t, pkts[1:]...)
			waitIdle(t, c)
			s.send(t, pkts[0])
		})
		var lost uint64
		for _, e := range c.metrics.all() {
			lost += e.seqLost.Load()
		}
		if lost != 0 {
			t.Errorf("%s: %d records reported lost, none were", name, lost)
		}
		if got, want := len(readLines(t, out)), len(tsharkKeys(t, name)); got != want {
			t.Errorf("%s: %d flows, want %d", name, got, want)
		}
	}
}

// Templates of a transport session (IPFIX over TCP or SCTP) belong to it
// alone: two sessions of one exporter define template 256 differently and
// each decodes with its own; an ended session's templates are gone.
func TestSessionTemplates(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.json")
	c := newTestCollector(t, Config{Outputs: fileOut(t, out), Workers: 1})
	src := netip.MustParseAddrPort("192.0.2.7:4739")
	field := func(id, l uint16) []byte {
		return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, id), l)
	}
	tmplA := testvec.Set(2, []byte{1, 0, 0, 1}, field(8, 4))  // 256: sourceIPv4Address
	tmplB := testvec.Set(2, []byte{1, 0, 0, 1}, field(12, 4)) // 256: destinationIPv4Address
	data := testvec.Set(256, []byte{192, 0, 2, 99})
	sub := func(session uint64, end bool, sets ...[]byte) {
		c.Submit(context.Background(), Packet{Data: testvec.IPFIX(0, 0, sets...), Source: src, Received: 1, Session: session, End: end}, true)
	}
	sub(3, false, data) // waits for session 3's template, which never comes
	sub(3, true)
	sub(1, false, tmplA)
	sub(2, false, tmplB)
	sub(1, false, data)
	sub(2, false, data)
	sub(0, false, data) // the datagram scope knows no template 256
	sub(1, true)
	sub(1, false, data)  // a new session 1: no template
	waitDecoded(t, c, 7) // the two session ends are not packets
	var pending, dropped int64
	for _, e := range c.metrics.all() {
		pending += e.pending.Load()
		dropped += int64(e.pendingDrops.Load())
	}
	c.Close()
	if pending != 2 || dropped != 1 {
		t.Errorf("%d pending, %d dropped; want 2 (the datagram's and the new session's) and 1 (the ended session's)", pending, dropped)
	}
	lines := readLines(t, out)
	if len(lines) != 2 {
		t.Fatalf("%d flows, want 2: %v", len(lines), lines)
	}
	if lines[0]["src_addr"] != "192.0.2.99" || lines[1]["dst_addr"] != "192.0.2.99" {
		t.Errorf("sessions mixed their templates: %v", lines)
	}
}
