package collector

import (
	"bytes"
	"testing"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
	"github.com/nfkit/nfkit/internal/testvec"
)

// An sFlow datagram in the Kafka JSON format: one message per line of the
// file schema, counter samples included, keyed by the agent's exporter.
func TestKafkaJSONSFlow(t *testing.T) {
	var d decode.Decoder
	var p decode.Packet
	enc := KafkaEncoder{Format: KafkaJSON}
	msgs, lines, counters := 0, 0, 0
	for _, dg := range testvec.Capture(t, "sfprobe-sflow.pcap") {
		if err := d.Decode(dg.Src.Addr(), dg.Payload, &p); err != nil {
			t.Fatal(err)
		}
		ex := &Export{Packet: &p, Source: dg.Src, Received: 1, Complete: true}
		batch := enc.AppendPacket(nil, ex)
		want := flowjson.AppendSFlow(nil, &p, 1)
		var got []byte
		n, err := SplitKafkaBatch(batch, func(key, value []byte) {
			got = append(append(got, value...), '\n')
		})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
			t.Fatalf("messages\n%s\nwant\n%s", got, want)
		}
		msgs += n
		lines += bytes.Count(want, []byte("\n"))
		counters += len(p.Counters)
	}
	if msgs != lines || msgs == 0 || counters == 0 {
		t.Fatalf("%d messages, %d lines, %d counter samples", msgs, lines, counters)
	}
}
