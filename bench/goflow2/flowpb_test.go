package goflow2bench

// The protobuf output of nfkit (package flowpb) read by goflow2's own
// generated FlowMessage code, and encoded beside goflow2's producer.

import (
	"bufio"
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	flowmessage "github.com/netsampler/goflow2/v2/pb"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/nfkit/nfkit/capture"
	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
	"github.com/nfkit/nfkit/flowpb"
)

// capturedRecords decodes a capture of testdata as nfcollect does (data
// before its template is kept by the decoder's caller; here the records
// decoded are taken as they come) and returns its records with their
// receive times.
func capturedRecords(t *testing.T, path string) ([]decode.Record, []int64) {
	t.Helper()
	f, err := capture.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var d decode.Decoder
	var p decode.Packet
	var rs []decode.Record
	var ts []int64
	for {
		dg, err := f.Next()
		if err == io.EOF {
			return rs, ts
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		err = d.Decode(dg.Src.Addr(), dg.Payload, &p)
		var missing *decode.MissingTemplateError
		if err != nil && !errors.As(err, &missing) {
			continue
		}
		for _, r := range p.Records {
			// Records alias the payload, which Next reuses: the
			// normalized fields used here are copies.
			rs = append(rs, r)
			ts = append(ts, dg.Time.UnixNano())
		}
	}
}

var (
	flowTypes = map[string]uint64{"SFLOW_5": 1, "NETFLOW_V5": 2, "NETFLOW_V9": 3, "IPFIX": 4}
	versions  = map[string]uint64{"NETFLOW_V1": 1, "NETFLOW_V5": 5, "NETFLOW_V7": 7, "NETFLOW_V9": 9, "IPFIX": 10, "SFLOW_5": 105}
)

// jsonValue returns what the FlowMessage field f must hold for the JSON
// record j: a uint64, or the address bytes (nil when absent).
// For an sFlow flow sample written by flowpb.AppendPacket (sflow), the
// sFlow fields come from the sample's keys and sampler_address is the
// agent's; otherwise the sFlow fields are absent.
func jsonValue(f flowpb.Field, j map[string]any, sflow bool) (any, error) {
	key := f.Key
	switch {
	case f.SFlow && !sflow:
		key = ""
	case sflow && f.Name == "sampler_address":
		key = "agent_address"
	}
	v, ok := j[key]
	switch {
	case !ok && f.Type == "bytes":
		return []byte(nil), nil
	case !ok && f.Type == "repeated uint32":
		return []uint64(nil), nil
	case !ok:
		return uint64(0), nil
	case f.Type == "repeated uint32" || f.Name == "next_hop_as":
		var l []uint64
		for _, x := range v.([]any) {
			u, err := strconv.ParseUint(string(x.(json.Number)), 10, 64)
			if err != nil {
				return nil, err
			}
			l = append(l, u)
		}
		if f.Name == "next_hop_as" {
			if len(l) == 0 {
				return uint64(0), nil
			}
			return l[0], nil
		}
		return l, nil
	case f.Name == "type":
		return flowTypes[v.(string)], nil
	case f.Name == "export_version":
		return versions[v.(string)], nil
	case f.Type == "bytes":
		a, err := netip.ParseAddr(v.(string))
		return a.AsSlice(), err
	case strings.HasSuffix(f.Key, "_mac"):
		hw, err := net.ParseMAC(v.(string))
		var u uint64
		for _, c := range hw {
			u = u<<8 | uint64(c)
		}
		return u, err
	}
	return strconv.ParseUint(string(v.(json.Number)), 10, 64)
}

// goflow2Value returns field f of m as goflow2's generated code decoded it:
// a known field through its descriptor (which must have f's name and
// kind), an extension from the unknown fields goflow2 kept.
func goflow2Value(f flowpb.Field, m *flowmessage.FlowMessage) (any, error) {
	r := m.ProtoReflect()
	fd := r.Descriptor().Fields().ByNumber(protoreflect.FieldNumber(f.Number))
	if f.Extension {
		if fd != nil {
			return nil, fmt.Errorf("extension %d is goflow2's field %s", f.Number, fd.Name())
		}
		unk := r.GetUnknown()
		for len(unk) > 0 {
			num, typ, n := protowire.ConsumeTag(unk)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			unk = unk[n:]
			if num == protowire.Number(f.Number) && typ == protowire.VarintType {
				v, n := protowire.ConsumeVarint(unk)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				return v, nil
			}
			if num == protowire.Number(f.Number) && typ == protowire.BytesType && f.Type == "bytes" {
				v, n := protowire.ConsumeBytes(unk)
				if n < 0 {
					return nil, protowire.ParseError(n)
				}
				return v, nil
			}
			n = protowire.ConsumeFieldValue(num, typ, unk)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			unk = unk[n:]
		}
		if f.Type == "bytes" {
			return []byte(nil), nil
		}
		return uint64(0), nil
	}
	if fd == nil {
		return nil, fmt.Errorf("goflow2's FlowMessage has no field %d (%s)", f.Number, f.Name)
	}
	if string(fd.Name()) != f.Name {
		return nil, fmt.Errorf("goflow2's field %d is %s, not %s", f.Number, fd.Name(), f.Name)
	}
	v := r.Get(fd)
	if fd.IsList() {
		if f.Type != "repeated "+fd.Kind().String() {
			return nil, fmt.Errorf("field %s is repeated %s in goflow2, %s in nfkit", f.Name, fd.Kind(), f.Type)
		}
		var l []uint64
		for i := range v.List().Len() {
			l = append(l, v.List().Get(i).Uint())
		}
		return l, nil
	}
	switch fd.Kind() {
	case protoreflect.EnumKind:
		if f.Type != "FlowType" {
			return nil, fmt.Errorf("field %s is an enum in goflow2, %s in nfkit", f.Name, f.Type)
		}
		return uint64(v.Enum()), nil
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		if string(fd.Kind().String()) != f.Type {
			return nil, fmt.Errorf("field %s is %s in goflow2, %s in nfkit", f.Name, fd.Kind(), f.Type)
		}
		return v.Uint(), nil
	case protoreflect.BytesKind:
		if f.Type != "bytes" {
			return nil, fmt.Errorf("field %s is bytes in goflow2, %s in nfkit", f.Name, f.Type)
		}
		if len(v.Bytes()) == 0 {
			return []byte(nil), nil
		}
		return v.Bytes(), nil
	}
	return nil, fmt.Errorf("field %s: goflow2 kind %s", f.Name, fd.Kind())
}

// TestFlowpbReadByGoflow2 encodes every record of every capture in
// testdata with flowpb, reads the stream back with goflow2's FlowMessage
// (protodelim, as goflow2's consumers do), and checks every field against
// nfkit's JSON output of the same record. It also checks that goflow2
// marshals the message it read back into the same bytes.
func TestFlowpbReadByGoflow2(t *testing.T) {
	paths, err := filepath.Glob("../../testdata/*.pcap")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	total := 0
	for _, path := range paths {
		if filepath.Base(path) == "synthetic-traffic.pcap" {
			continue // the traffic the exporters saw, not exports
		}
		rs, ts := capturedRecords(t, path)
		if len(rs) == 0 {
			t.Errorf("%s: no records", path)
		}
		for _, o := range []flowpb.Options{0, flowpb.Extensions} {
			var stream []byte
			for i := range rs {
				stream = flowpb.AppendRecord(stream, &rs[i], ts[i], o)
			}
			rd := bufio.NewReader(bytes.NewReader(stream))
			for i := range rs {
				var m flowmessage.FlowMessage
				if err := protodelim.UnmarshalFrom(rd, &m); err != nil {
					t.Fatalf("%s: message %d: %v", path, i, err)
				}
				line := flowjson.AppendRecord(nil, &rs[i], ts[i])
				dec := json.NewDecoder(bytes.NewReader(line))
				dec.UseNumber()
				var j map[string]any
				if err := dec.Decode(&j); err != nil {
					t.Fatal(err)
				}
				for _, f := range flowpb.Fields() {
					if f.Extension && o&flowpb.Extensions == 0 {
						continue
					}
					if f.SFlow {
						continue // AppendPacket's: TestSFlowProtobufMatchesGoflow2
					}
					got, err := goflow2Value(f, &m)
					if err != nil {
						t.Fatalf("%s: %v", path, err)
					}
					want, err := jsonValue(f, j, false)
					if err != nil {
						t.Fatalf("%s: %s: %v", path, f.Key, err)
					}
					if g, ok := got.([]byte); ok {
						if !bytes.Equal(g, want.([]byte)) {
							t.Errorf("%s record %d: %s = %v, JSON says %v (%s)", path, i, f.Name, g, want, line)
						}
					} else if got != want {
						t.Errorf("%s record %d: %s = %v, JSON says %v (%s)", path, i, f.Name, got, want, line)
					}
				}
				if o == 0 && len(m.ProtoReflect().GetUnknown()) != 0 {
					t.Errorf("%s record %d: unknown fields without Extensions", path, i)
				}
				var again bytes.Buffer
				if _, err := protodelim.MarshalTo(&again, &m); err != nil {
					t.Fatal(err)
				}
				ours := flowpb.AppendRecord(nil, &rs[i], ts[i], o)
				if !bytes.Equal(again.Bytes(), ours) {
					t.Errorf("%s record %d: goflow2 re-marshals\n%x\nnfkit wrote\n%x", path, i, again.Bytes(), ours)
				}
				total++
			}
			if _, err := rd.ReadByte(); err != io.EOF {
				t.Errorf("%s: bytes after the last message", path)
			}
		}
	}
	t.Logf("%d messages read by goflow2's FlowMessage", total)
}

// BenchmarkProtobuf compares, on the same packets, nfkit decoding and
// encoding goflow2's FlowMessage (flowpb, length-delimited, what nfcollect
// sends to Kafka) with goflow2 decoding, producing and marshalling its
// messages (-format=bin: MarshalBinary, one length-delimited message per
// flow, what goflow2 sends to Kafka).
func BenchmarkProtobuf(b *testing.B) {
	for _, fx := range fixtures() {
		ref := reference(b, fx)
		b.Run(fx.name, func(b *testing.B) {
			b.Run("nfkit-flowpb", func(b *testing.B) {
				im := prepare(b, impls[0].new, fx).(*nfkitImpl)
				var buf []byte
				b.ReportAllocs()
				b.SetBytes(int64(len(fx.pkt)))
				for b.Loop() {
					if err := im.d.Decode(exporter, fx.pkt, &im.p); err != nil {
						b.Fatal(err)
					}
					buf = flowpb.AppendRecords(buf[:0], im.p.Records, received.UnixNano(), 0)
					sink += len(buf)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(fx.records), "ns/flow")
			})
			b.Run("goflow2-producer-bin", func(b *testing.B) {
				g := prepare(b, impls[2].new, fx).(*goflow2Impl)
				verify(b, "goflow2-producer", g, fx, ref)
				b.ReportAllocs()
				b.SetBytes(int64(len(fx.pkt)))
				for b.Loop() {
					p, err := g.decodePacket(fx.pkt)
					if err != nil {
						b.Fatal(err)
					}
					msgs, err := g.producer.Produce(p, &g.args)
					if err != nil {
						b.Fatal(err)
					}
					for _, m := range msgs {
						out, err := m.(encoding.BinaryMarshaler).MarshalBinary()
						if err != nil {
							b.Fatal(err)
						}
						sink += len(out)
					}
					g.producer.Commit(msgs)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(fx.records), "ns/flow")
			})
		})
	}
}

// sameValue compares a value goflow2 read with the one the JSON gives.
func sameValue(got, want any) bool {
	switch g := got.(type) {
	case []byte:
		return bytes.Equal(g, want.([]byte))
	case []uint64:
		return slices.Equal(g, want.([]uint64))
	}
	return got == want
}
