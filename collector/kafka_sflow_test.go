package collector

import (
	"bytes"
	"testing"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
	"github.com/nfkit/nfkit/flowpb"
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

// An sFlow datagram in the protobuf format: one FlowMessage per flow
// sample with the sample's sFlow fields (flowpb.AppendPacket): the agent
// address in sampler_address, as goflow2 writes it, and the extensions.
func TestKafkaProtobufSFlow(t *testing.T) {
	var d decode.Decoder
	var p decode.Packet
	enc := KafkaEncoder{Format: KafkaProtobuf, Options: flowpb.Extensions}
	msgs := 0
	for _, dg := range testvec.Capture(t, "sfprobe-sflow.pcap") {
		if err := d.Decode(dg.Src.Addr(), dg.Payload, &p); err != nil {
			t.Fatal(err)
		}
		ex := &Export{Packet: &p, Source: dg.Src, Received: 1, Complete: true}
		batch := enc.AppendPacket(nil, ex)
		want := flowpb.AppendPacket(nil, &p, 1, flowpb.Extensions)
		var got []byte
		n, err := SplitKafkaBatch(batch, func(key, value []byte) {
			got = append(got, value...)
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != len(p.Records) || !bytes.Equal(got, want) {
			t.Fatalf("%d messages\n%x\nwant %d\n%x", n, got, len(p.Records), want)
		}
		agent := p.Agent.As4()
		if len(p.Records) > 0 && !bytes.Contains(got, append([]byte{11<<3 | 2, 4}, agent[:]...)) {
			t.Fatalf("no sampler_address %v in %x", p.Agent, got)
		}
		msgs += n
	}
	if msgs == 0 {
		t.Fatal("no flow samples")
	}
}
