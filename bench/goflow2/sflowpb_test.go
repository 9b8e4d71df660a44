package goflow2bench

// nfkit's FlowMessages of sFlow flow samples (flowpb.AppendPacket) read by
// goflow2's own FlowMessage code and compared, field by field, with what
// goflow2's sFlow producer makes of the same datagrams.

import (
	"bufio"
	"bytes"
	"fmt"
	"slices"
	"testing"

	flowmessage "github.com/netsampler/goflow2/v2/pb"
	protoproducer "github.com/netsampler/goflow2/v2/producer/proto"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowpb"
)

// sflowPBDifferences are the FlowMessage fields in which nfkit's message
// of an sFlow flow sample deliberately differs from goflow2's, and why.
// Each allows a difference only where its check says so.
var sflowPBDifferences = map[string]struct {
	why string
	ok  func(ours, theirs protoreflect.Value, s *decode.SFlowSample, p *decode.Packet) bool
}{
	// goflow2 leaves it 0 for sFlow; nfkit writes the datagram's
	// sub-agent id there, as its JSON's observation_domain_id.
	"observation_domain_id": {
		why: "nfkit: the sub-agent id (the JSON's observation_domain_id); goflow2 leaves it 0",
		ok: func(o, g protoreflect.Value, _ *decode.SFlowSample, p *decode.Packet) bool {
			return g.Uint() == 0 && o.Uint() == uint64(p.Domain)
		},
	},
	// goflow2 copies the compact interface word, format bits included,
	// or an expanded sample's value whatever its format; nfkit writes an
	// ifIndex only (format 0) and the format and value apart.
	"in_if": {
		why: "nfkit: only an ifIndex (format 0); a discarded or multiple format is in_if_format/in_if_value",
		ok: func(o, g protoreflect.Value, s *decode.SFlowSample, _ *decode.Packet) bool {
			return s.InFormat != 0 && o.Uint() == 0
		},
	},
	"out_if": {
		why: "nfkit: only an ifIndex (format 0); a discard or several interfaces is out_if_format/out_if_value",
		ok: func(o, g protoreflect.Value, s *decode.SFlowSample, _ *decode.Packet) bool {
			return s.OutFormat != 0 && o.Uint() == 0
		},
	},
	// goflow2 takes the router's own AS when the source AS is 0; nfkit
	// writes the source AS as sent (router_as is extension 1025).
	"src_as": {
		why: "nfkit: the source AS as sent; goflow2 substitutes the router's AS for 0",
		ok: func(o, g protoreflect.Value, s *decode.SFlowSample, _ *decode.Packet) bool {
			return o.Uint() == 0 && g.Uint() == uint64(s.RouterAS)
		},
	},
	// sFlow samples have no flow times: goflow2 writes the receive time
	// as the flow's start and end, nfkit leaves them out, as its JSON does
	// (time_received_ns is there in both).
	"time_flow_start_ns": {
		why: "sFlow has no flow times: goflow2 writes the receive time, nfkit nothing (as its JSON)",
		ok: func(o, g protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool {
			return o.Uint() == 0 && g.Uint() == uint64(received.UnixNano())
		},
	},
	"time_flow_end_ns": {
		why: "sFlow has no flow times: goflow2 writes the receive time, nfkit nothing (as its JSON)",
		ok: func(o, g protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool {
			return o.Uint() == 0 && g.Uint() == uint64(received.UnixNano())
		},
	},
	// goflow2 v2.2.6 never fills ICMP type and code from a sampled
	// header: its parser counts a layer's call before calling it, so its
	// "first time calling" test (pc.Calls == 0) is never true. nfkit's
	// values are tshark's (decode's capture tests).
	"icmp_type": {
		why: "goflow2 v2.2.6 leaves ICMP type 0 (its first-call test never holds)",
		ok: func(o, g protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool {
			return g.Uint() == 0
		},
	},
	"icmp_code": {
		why: "goflow2 v2.2.6 leaves ICMP code 0 (its first-call test never holds)",
		ok: func(o, g protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool {
			return g.Uint() == 0
		},
	},
	// Header fields nfkit's decoder does not extract (no key in the
	// output schema): goflow2's parser fills them from the sampled
	// header; nfkit leaves them out.
	"ip_flags":        {why: "not in nfkit's schema", ok: func(o, _ protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool { return o.Uint() == 0 }},
	"fragment_id":     {why: "not in nfkit's schema", ok: func(o, _ protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool { return o.Uint() == 0 }},
	"fragment_offset": {why: "not in nfkit's schema", ok: func(o, _ protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool { return o.Uint() == 0 }},
	"ipv6_flow_label": {why: "not in nfkit's schema", ok: func(o, _ protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool { return o.Uint() == 0 }},
	"layer_stack": {why: "not in nfkit's schema", ok: func(o, _ protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool {
		return o.List().Len() == 0
	}},
	"layer_size": {why: "not in nfkit's schema", ok: func(o, _ protoreflect.Value, _ *decode.SFlowSample, _ *decode.Packet) bool {
		return o.List().Len() == 0
	}},
}

// TestSFlowProtobufMatchesGoflow2 encodes every flow sample of the sFlow
// captures with flowpb.AppendPacket, reads the messages with goflow2's
// FlowMessage, and compares every field goflow2's FlowMessage has with the
// message goflow2's sFlow producer makes of the same datagram. The fields
// that differ must be in sflowPBDifferences, and each difference is
// counted in the log. With Extensions, the extra fields are unknown to
// goflow2 and kept as such; without, the message has none.
func TestSFlowProtobufMatchesGoflow2(t *testing.T) {
	pkts, _ := sflowFixture(t)
	prod := newGoflow2SFlow(true)
	var d decode.Decoder
	var p decode.Packet
	fds := (&flowmessage.FlowMessage{}).ProtoReflect().Descriptor().Fields()
	diffs := map[string]int{}
	same := map[string]int{}
	flows := 0
	for i, pkt := range pkts {
		if err := d.Decode(exporter, pkt, &p); err != nil {
			t.Fatalf("datagram %d: nfkit: %v", i, err)
		}
		if err := prod.decodePacket(pkt); err != nil {
			t.Fatalf("datagram %d: goflow2: %v", i, err)
		}
		msgs, err := prod.producer.Produce(&prod.pkt, &prod.args)
		if err != nil {
			t.Fatalf("datagram %d: goflow2 producer: %v", i, err)
		}
		if len(msgs) != len(p.Records) {
			t.Fatalf("datagram %d: goflow2 %d messages, nfkit %d", i, len(msgs), len(p.Records))
		}
		for _, o := range []flowpb.Options{0, flowpb.Extensions} {
			stream := flowpb.AppendPacket(nil, &p, received.UnixNano(), o)
			rd := bufio.NewReader(bytes.NewReader(stream))
			for j, m := range msgs {
				theirs := &m.(*protoproducer.ProtoProducerMessage).FlowMessage
				var ours flowmessage.FlowMessage
				if err := protodelim.UnmarshalFrom(rd, &ours); err != nil {
					t.Fatalf("datagram %d message %d: %v", i, j, err)
				}
				if unk := ours.ProtoReflect().GetUnknown(); (len(unk) != 0) != (o != 0) {
					t.Errorf("datagram %d message %d: %d bytes of extensions with options %d", i, j, len(unk), o)
				}
				for k := range fds.Len() {
					fd := fds.Get(k)
					name := string(fd.Name())
					ov, gv := ours.ProtoReflect().Get(fd), theirs.ProtoReflect().Get(fd)
					if equalValue(fd, ov, gv) {
						if o == 0 && ours.ProtoReflect().Has(fd) {
							same[name]++
						}
						continue
					}
					if dd, ok := sflowPBDifferences[name]; ok && dd.ok(ov, gv, &p.SFlow[j], &p) {
						if o == 0 {
							diffs[name]++
						}
						continue
					}
					t.Errorf("datagram %d sample %d: %s: nfkit %v, goflow2 %v", i, j, name, ov, gv)
				}
				if o == 0 {
					flows++
				}
			}
			// And goflow2 marshals what it read into nfkit's bytes.
			var again []byte
			rd = bufio.NewReader(bytes.NewReader(stream))
			for range msgs {
				var m flowmessage.FlowMessage
				if err := protodelim.UnmarshalFrom(rd, &m); err != nil {
					t.Fatal(err)
				}
				b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&m)
				if err != nil {
					t.Fatal(err)
				}
				again = append(protowireLen(again, len(b)), b...)
			}
			if !bytes.Equal(again, stream) {
				t.Errorf("datagram %d: goflow2 re-marshals different bytes", i)
			}
		}
		prod.producer.Commit(msgs)
	}
	if flows == 0 {
		t.Fatal("no flow samples")
	}
	var names []string
	for n := range same {
		names = append(names, n)
	}
	slices.Sort(names)
	t.Logf("%d flow samples; fields equal and present: %v", flows, names)
	for n, c := range diffs {
		t.Logf("%s differs in %d samples: %s", n, c, sflowPBDifferences[n].why)
	}
}

func protowireLen(b []byte, n int) []byte {
	for n >= 0x80 {
		b = append(b, byte(n)|0x80)
		n >>= 7
	}
	return append(b, byte(n))
}

// equalValue compares two values of field fd.
func equalValue(fd protoreflect.FieldDescriptor, a, b protoreflect.Value) bool {
	if fd.IsList() {
		la, lb := a.List(), b.List()
		if la.Len() != lb.Len() {
			return false
		}
		for i := range la.Len() {
			if fmt.Sprint(la.Get(i).Interface()) != fmt.Sprint(lb.Get(i).Interface()) {
				return false
			}
		}
		return true
	}
	if fd.Kind() == protoreflect.BytesKind {
		return bytes.Equal(a.Bytes(), b.Bytes())
	}
	return a.Equal(b)
}
