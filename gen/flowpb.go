package main

import (
	"fmt"
	"sort"
	"strings"

	. "github.com/dave/jennifer/jen"

	"github.com/nfkit/nfkit/fields"
)

// pbWire is a protobuf wire form of a FlowMessage field.
type pbWire uint8

const (
	pbVarint pbWire = iota // wire type 0: uint32, uint64, enum
	pbBytes                // wire type 2: bytes (addresses)
	pbPacked               // wire type 2: packed repeated uint32 (AS paths, communities)
)

// pbField is one field of goflow2's FlowMessage (pb/flow.proto of goflow2
// v2.2.6) that nfkit writes, or one of nfkit's extension fields, and the
// schema key whose value it carries.
type pbField struct {
	Num   int    // field number
	Name  string // field name in the .proto
	Key   string // the schema key (fields.Envelope, fields.Flow, fields.Trailer JSON) that feeds it
	Wire  pbWire
	Ext   bool // not in goflow2's FlowMessage: written only with flowpb.Extensions
	Proto string
	// SFlow marks a field written only for sFlow flow samples; its Key is
	// then a key of fields.SFlowFlowKeys (or a schema key).
	SFlow bool
}

// pbFields maps the output schema onto goflow2's FlowMessage. Every key of
// the schema must appear here at least once (gen fails otherwise), so a new
// normalized field needs a decision: a goflow2 field, or an extension.
//
// Extensions: flow_direction is 42, the number goflow2's own example
// mapping (cmd/goflow2/mapping.yaml) gives it; the other fields goflow2 has
// no slot for are numbered from 1000, above any number goflow2 uses.
var pbFields = []pbField{
	{Num: 1, Name: "type", Key: "type", Wire: pbVarint, Proto: "FlowType"},
	{Num: 3, Name: "sampling_rate", Key: "sampling_rate", Wire: pbVarint, Proto: "uint64"},
	{Num: 4, Name: "sequence_num", Key: "sequence_num", Wire: pbVarint, Proto: "uint32"},
	{Num: 6, Name: "src_addr", Key: "src_addr", Wire: pbBytes, Proto: "bytes"},
	{Num: 7, Name: "dst_addr", Key: "dst_addr", Wire: pbBytes, Proto: "bytes"},
	{Num: 9, Name: "bytes", Key: "bytes", Wire: pbVarint, Proto: "uint64"},
	{Num: 10, Name: "packets", Key: "packets", Wire: pbVarint, Proto: "uint64"},
	{Num: 11, Name: "sampler_address", Key: "sampler_address", Wire: pbBytes, Proto: "bytes"},
	{Num: 12, Name: "next_hop", Key: "next_hop", Wire: pbBytes, Proto: "bytes"},
	{Num: 14, Name: "src_as", Key: "src_as", Wire: pbVarint, Proto: "uint32"},
	{Num: 15, Name: "dst_as", Key: "dst_as", Wire: pbVarint, Proto: "uint32"},
	{Num: 16, Name: "src_net", Key: "src_net", Wire: pbVarint, Proto: "uint32"},
	{Num: 17, Name: "dst_net", Key: "dst_net", Wire: pbVarint, Proto: "uint32"},
	{Num: 18, Name: "in_if", Key: "in_if", Wire: pbVarint, Proto: "uint32"},
	{Num: 19, Name: "out_if", Key: "out_if", Wire: pbVarint, Proto: "uint32"},
	{Num: 20, Name: "proto", Key: "proto", Wire: pbVarint, Proto: "uint32"},
	{Num: 21, Name: "src_port", Key: "src_port", Wire: pbVarint, Proto: "uint32"},
	{Num: 22, Name: "dst_port", Key: "dst_port", Wire: pbVarint, Proto: "uint32"},
	{Num: 23, Name: "ip_tos", Key: "ip_tos", Wire: pbVarint, Proto: "uint32"},
	{Num: 25, Name: "ip_ttl", Key: "ip_ttl", Wire: pbVarint, Proto: "uint32"},
	{Num: 26, Name: "tcp_flags", Key: "tcp_flags", Wire: pbVarint, Proto: "uint32"},
	{Num: 27, Name: "src_mac", Key: "src_mac", Wire: pbVarint, Proto: "uint64"},
	{Num: 28, Name: "dst_mac", Key: "dst_mac", Wire: pbVarint, Proto: "uint64"},
	// goflow2 fills vlan_id from NetFlow's SRC_VLAN too.
	{Num: 29, Name: "vlan_id", Key: "src_vlan", Wire: pbVarint, Proto: "uint32"},
	{Num: 30, Name: "etype", Key: "etype", Wire: pbVarint, Proto: "uint32"},
	{Num: 31, Name: "icmp_type", Key: "icmp_type", Wire: pbVarint, Proto: "uint32"},
	{Num: 32, Name: "icmp_code", Key: "icmp_code", Wire: pbVarint, Proto: "uint32"},
	{Num: 33, Name: "src_vlan", Key: "src_vlan", Wire: pbVarint, Proto: "uint32"},
	{Num: 34, Name: "dst_vlan", Key: "dst_vlan", Wire: pbVarint, Proto: "uint32"},
	{Num: 70, Name: "observation_domain_id", Key: "observation_domain_id", Wire: pbVarint, Proto: "uint32"},
	{Num: 100, Name: "bgp_next_hop", Key: "bgp_next_hop", Wire: pbBytes, Proto: "bytes"},
	{Num: 110, Name: "time_received_ns", Key: "time_received_ns", Wire: pbVarint, Proto: "uint64"},
	{Num: 111, Name: "time_flow_start_ns", Key: "time_flow_start_ns", Wire: pbVarint, Proto: "uint64"},
	{Num: 112, Name: "time_flow_end_ns", Key: "time_flow_end_ns", Wire: pbVarint, Proto: "uint64"},

	{Num: 42, Name: "flow_direction", Key: "direction", Wire: pbVarint, Ext: true, Proto: "uint32"},
	{Num: 1000, Name: "export_version", Key: "type", Wire: pbVarint, Ext: true, Proto: "uint32"},
	{Num: 1001, Name: "template_id", Key: "template_id", Wire: pbVarint, Ext: true, Proto: "uint32"},
	{Num: 1002, Name: "out_bytes", Key: "out_bytes", Wire: pbVarint, Ext: true, Proto: "uint64"},
	{Num: 1003, Name: "out_packets", Key: "out_packets", Wire: pbVarint, Ext: true, Proto: "uint64"},
	{Num: 1004, Name: "rev_bytes", Key: "rev_bytes", Wire: pbVarint, Ext: true, Proto: "uint64"},
	{Num: 1005, Name: "rev_packets", Key: "rev_packets", Wire: pbVarint, Ext: true, Proto: "uint64"},
	{Num: 1006, Name: "flows", Key: "flows", Wire: pbVarint, Ext: true, Proto: "uint64"},
	{Num: 1007, Name: "flow_end_reason", Key: "flow_end_reason", Wire: pbVarint, Ext: true, Proto: "uint32"},
	{Num: 1008, Name: "original_sampling_rate", Key: "original_sampling_rate", Wire: pbVarint, Ext: true, Proto: "uint64"},

	// sFlow v5 flow samples. goflow2's sFlow producer fills
	// sampler_address with the agent address of the datagram header (see
	// samplerAddress in flowpb), next_hop_as with the AS path's first AS,
	// as_path and bgp_communities from the extended gateway record.
	{Num: 13, Name: "next_hop_as", Key: "as_path", Wire: pbVarint, Proto: "uint32", SFlow: true},
	{Num: 101, Name: "bgp_communities", Key: "bgp_communities", Wire: pbPacked, Proto: "repeated uint32", SFlow: true},
	{Num: 102, Name: "as_path", Key: "as_path", Wire: pbPacked, Proto: "repeated uint32", SFlow: true},
	// The rest of an sFlow sample's keys have no slot in goflow2's
	// FlowMessage: extensions from 1009. exporter_address is the address
	// the datagram came from (the JSON's sampler_address), since
	// sampler_address carries the agent's.
	{Num: 1009, Name: "exporter_address", Key: "sampler_address", Wire: pbBytes, Ext: true, Proto: "bytes", SFlow: true},
	{Num: 1010, Name: "agent_uptime_ms", Key: "agent_uptime_ms", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1011, Name: "sample_sequence_num", Key: "sample_sequence_num", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1012, Name: "source_id_type", Key: "source_id_type", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1013, Name: "source_id_index", Key: "source_id_index", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1014, Name: "sample_pool", Key: "sample_pool", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1015, Name: "drops", Key: "drops", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1016, Name: "in_if_format", Key: "in_if_format", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1017, Name: "in_if_value", Key: "in_if_value", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1018, Name: "out_if_format", Key: "out_if_format", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1019, Name: "out_if_value", Key: "out_if_value", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1020, Name: "header_protocol", Key: "header_protocol", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1021, Name: "frame_length", Key: "frame_length", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1022, Name: "stripped", Key: "stripped", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1023, Name: "src_priority", Key: "src_priority", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1024, Name: "dst_priority", Key: "dst_priority", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1025, Name: "router_as", Key: "router_as", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1026, Name: "src_peer_as", Key: "src_peer_as", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1027, Name: "local_pref", Key: "local_pref", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
	{Num: 1028, Name: "unknown_records", Key: "unknown_records", Wire: pbVarint, Ext: true, Proto: "uint32", SFlow: true},
}

// pbFlowTypes maps export versions to goflow2's FlowMessage.FlowType;
// versions goflow2 has no value for (v1, v7) are FLOWUNKNOWN (0), and
// export_version says which they are.
var pbFlowTypes = map[uint16]int{fields.SFlowVersion: 1, 5: 2, 9: 3, 10: 4}

// pbSource is how a schema key's value is read from a decode.Record.
type pbSource struct {
	expr *Statement // the value expression (r.X, received, …)
	has  string     // the decode.Has bit that must be set, or ""
	kind fields.Kind
	bits int
	env  *fields.Key
	sf   *fields.SFlowKey // a key of an sFlow flow sample
}

// pbSources indexes the schema's keys by JSON name.
func pbSources() map[string]pbSource {
	src := map[string]pbSource{}
	for _, ks := range [][]fields.Key{fields.Envelope, fields.Trailer} {
		for i := range ks {
			k := &ks[i]
			e := Id("r").Dot(k.Field)
			if k.Field == "Received" {
				e = Id("received")
			}
			src[k.JSON] = pbSource{expr: e, env: k, bits: k.Bits}
		}
	}
	for _, n := range flowBits() {
		if n.JSON == "" {
			continue
		}
		src[n.JSON] = pbSource{expr: Id("r").Dot(n.Name), has: "Has" + n.Name, kind: n.Kind, bits: n.Bits}
	}
	for i := range fields.SFlowFlowKeys {
		k := &fields.SFlowFlowKeys[i]
		if _, ok := src[k.JSON]; !ok {
			src[k.JSON] = pbSource{expr: sflowValue(k.Field), sf: k}
		}
	}
	return src
}

// pbTag returns the varint bytes of a field's tag.
func pbTag(f pbField) []byte {
	wt := 0
	if f.Wire == pbBytes || f.Wire == pbPacked {
		wt = 2
	}
	return appendUvarint(nil, uint64(f.Num)<<3|uint64(wt))
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// sortedPBFields returns the fields in the order they are written: goflow2's
// fields by number, then the extensions by number (protobuf-go keeps
// unknown fields after the known ones when it marshals, so a goflow2
// consumer that re-marshals a message gives back the same bytes).
func sortedPBFields() []pbField {
	fs := append([]pbField(nil), pbFields...)
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Ext != fs[j].Ext {
			return !fs[i].Ext
		}
		return fs[i].Num < fs[j].Num
	})
	return fs
}

// checkPBFields verifies the mapping: numbers unique, every schema key
// written somewhere, every source known.
func checkPBFields(pbFields []pbField, src map[string]pbSource) error {
	nums := map[int]string{}
	used := map[string]bool{}
	for _, f := range pbFields {
		if old, ok := nums[f.Num]; ok {
			return fmt.Errorf("FlowMessage field %d twice: %s and %s", f.Num, old, f.Name)
		}
		nums[f.Num] = f.Name
		if f.Num <= 0 || f.Num >= 1<<29 || (f.Num >= 19000 && f.Num <= 19999) {
			return fmt.Errorf("FlowMessage field %s: number %d is not a valid field number", f.Name, f.Num)
		}
		s, ok := src[f.Key]
		if !ok {
			return fmt.Errorf("FlowMessage field %s: no schema key %q", f.Name, f.Key)
		}
		if s.sf != nil && !f.SFlow {
			return fmt.Errorf("FlowMessage field %s: sFlow key %q in a field not marked SFlow", f.Name, f.Key)
		}
		used[f.Key] = true
		if f.Name == "sampler_address" {
			// For sFlow samples it carries the agent address (flowpb's
			// samplerAddress).
			used["agent_address"] = true
		}
	}
	var missing []string
	for k := range src {
		if !used[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("schema keys %v have no FlowMessage field: add them to gen/flowpb.go's pbFields", missing)
	}
	return nil
}

// genFlowPB emits the generated half of package flowpb: appendMessage, the
// writer of one FlowMessage body in goflow2's field numbers, straight-line
// from the mapping table.
func genFlowPB(f *File) error {
	src := pbSources()
	if err := checkPBFields(pbFields, src); err != nil {
		return err
	}
	fs := sortedPBFields()
	// The largest body: every field present with its largest value; the
	// packed lists add 5 bytes per element (sizeHint), and their length
	// prefix is counted here at its largest (3 bytes: a list is within one
	// datagram, under 64 KiB).
	maxLen := 0
	for _, pf := range fs {
		maxLen += len(pbTag(pf))
		switch pf.Wire {
		case pbBytes:
			maxLen += 1 + 16
		case pbPacked:
			maxLen += 3
		default:
			maxLen += 10
		}
	}
	if maxLen >= 1<<14 {
		return fmt.Errorf("a FlowMessage may take %d bytes: more than a 2-byte length prefix holds", maxLen)
	}
	f.Comment("messageMax bounds the bytes of one FlowMessage body appendMessage writes.")
	f.Const().Id("messageMax").Op("=").Lit(maxLen)

	f.Comment("flowType returns goflow2's FlowMessage.FlowType of an export version")
	f.Comment("(FLOWUNKNOWN, 0, for versions it has no value for).")
	f.Func().Id("flowType").Params(Id("v").Uint16()).Uint64().Block(
		Switch(Id("v")).BlockFunc(func(g *Group) {
			var vs []int
			for v := range pbFlowTypes {
				vs = append(vs, int(v))
			}
			sort.Ints(vs)
			for _, v := range vs {
				g.Case(Lit(v)).Block(Return(Lit(pbFlowTypes[uint16(v)])))
			}
		}),
		Return(Lit(0)),
	)

	f.Comment("appendMessage writes the FlowMessage body of r at b[n:], which has room for")
	f.Comment("messageMax bytes, and returns the new end: goflow2's fields in number order,")
	f.Comment("then, with ext, nfkit's extension fields. A field is written only when the")
	f.Comment("record carries it and its value is not zero (proto3's default), as")
	f.Comment("protobuf-go would marshal it. s is the sFlow flow sample of r (nil for")
	f.Comment("other records) and p its datagram; the packed lists of s need")
	f.Comment("sizeHint(s) bytes more.")
	var err error
	f.Func().Id("appendMessage").Params(
		Id("b").Index().Byte(), Id("n").Int(), Id("r").Op("*").Qual(decodePkg, "Record"),
		Id("received").Int64(), Id("ext").Bool(),
		Id("p").Op("*").Qual(decodePkg, "Packet"), Id("s").Op("*").Qual(decodePkg, "SFlowSample"),
	).Int().BlockFunc(func(g *Group) {
		g.Id("h").Op(":=").Id("r").Dot("Has")
		extOpen := false
		for _, pf := range fs {
			if pf.Ext && !extOpen {
				extOpen = true
				g.If(Op("!").Id("ext")).Block(Return(Id("n")))
			}
			s := src[pf.Key]
			tag := pbTag(pf)
			var put []Code
			for i, c := range tag {
				at := Id("b").Index(Id("n"))
				if i > 0 {
					at = Id("b").Index(Id("n").Op("+").Lit(i))
				}
				st := at.Op("=").Lit(int(c))
				if i == 0 {
					st.Comment(fmt.Sprintf("%d %s", pf.Num, pf.Name))
				}
				put = append(put, st)
			}
			put = append(put, Id("n").Op("+=").Lit(len(tag)))
			var cond *Statement
			val := s.expr
			switch {
			case pf.SFlow:
				c, p, e := pbSFlowPut(pf, s)
				if e != nil {
					err = e
					return
				}
				cond, put = c, append(put, p...)
			case pf.Name == "sampler_address":
				// sFlow: the agent address, as goflow2 writes it.
				cond = Id("a").Op(":=").Id("samplerAddress").Call(Id("r"), Id("p"), Id("s")).Op(";").Id("a").Dot("IsValid").Call()
				put = append(put, Id("n").Op("=").Id("putAddr").Call(Id("b"), Id("n"), Id("a").Dot("Unmap").Call()))
			case pf.Name == "type":
				cond = Id("t").Op(":=").Id("flowType").Call(Id("r").Dot("Version")).Op(";").Id("t").Op("!=").Lit(0)
				put = append(put, Id("n").Op("=").Id("putVarint").Call(Id("b"), Id("n"), Id("t")))
			case pf.Name == "export_version":
				cond = Id("r").Dot("Version").Op("!=").Lit(0)
				put = append(put, Id("n").Op("=").Id("putVarint").Call(Id("b"), Id("n"), Uint64().Call(Id("r").Dot("Version"))))
			case s.env != nil && s.env.Kind == fields.ValueAddr:
				cond = Add(val).Dot("IsValid").Call()
				put = append(put, Id("n").Op("=").Id("putAddr").Call(Id("b"), Id("n"), Add(val).Dot("Unmap").Call()))
			case s.env != nil && (s.env.Kind == fields.ValueUint || s.env.Kind == fields.ValueInt):
				cond = Add(val).Op(">").Lit(0)
				put = append(put, Id("n").Op("=").Id("putVarint").Call(Id("b"), Id("n"), Uint64().Call(val)))
			case s.env != nil:
				err = fmt.Errorf("FlowMessage field %s: key %s cannot be written", pf.Name, pf.Key)
				return
			default:
				has := Id("h").Op("&").Qual(decodePkg, s.has).Op("!=").Lit(0)
				switch s.kind {
				case fields.KindUint:
					cond = has.Op("&&").Add(val).Op("!=").Lit(0)
					put = append(put, Id("n").Op("=").Id("putVarint").Call(Id("b"), Id("n"), Uint64().Call(val)))
				case fields.KindTime:
					cond = has.Op("&&").Add(val).Op(">").Lit(0)
					put = append(put, Id("n").Op("=").Id("putVarint").Call(Id("b"), Id("n"), Uint64().Call(val)))
				case fields.KindAddr:
					cond = has
					put = append(put, Id("n").Op("=").Id("putAddr").Call(Id("b"), Id("n"), val))
				case fields.KindMAC:
					cond = has.Op("&&").Add(val).Op("!=").Parens(Qual(decodePkg, "MAC").Values())
					put = append(put, Id("n").Op("=").Id("putVarint").Call(Id("b"), Id("n"), Id("macUint").Call(val)))
				default:
					err = fmt.Errorf("FlowMessage field %s: kind %d cannot be written", pf.Name, s.kind)
					return
				}
			}
			g.If(cond).Block(put...)
		}
		g.Return(Id("n"))
	})
	if err != nil {
		return err
	}

	f.Comment("fieldTable lists the FlowMessage fields appendMessage writes, in the order it")
	f.Comment("writes them (Fields returns a copy).")
	f.Var().Id("fieldTable").Op("=").Index().Id("Field").ValuesFunc(func(g *Group) {
		for _, pf := range fs {
			g.Line().Values(Dict{
				Id("Number"):    Lit(pf.Num),
				Id("Name"):      Lit(pf.Name),
				Id("Type"):      Lit(pf.Proto),
				Id("Key"):       Lit(pf.Key),
				Id("Extension"): Lit(pf.Ext),
				Id("SFlow"):     Lit(pf.SFlow),
			})
		}
		g.Line()
	})
	return nil
}

// pbSFlowPut returns the condition and the value statements of a field
// written only for sFlow flow samples (s not nil).
func pbSFlowPut(pf pbField, s pbSource) (*Statement, []Code, error) {
	isSFlow := Id("s").Op("!=").Nil()
	put := func(v Code) []Code {
		return []Code{Id("n").Op("=").Id("putVarint").Call(Id("b"), Id("n"), Uint64().Call(v))}
	}
	switch {
	case pf.Name == "next_hop_as":
		// goflow2: the first AS of the path.
		first := Id("s").Dot("ASPath").Index(Lit(0))
		return isSFlow.Op("&&").Len(Id("s").Dot("ASPath")).Op(">").Lit(0).Op("&&").Add(first).Op("!=").Lit(0), put(first), nil
	case pf.Wire == pbPacked:
		if s.sf == nil || s.sf.Kind != fields.ValueList {
			return nil, nil, fmt.Errorf("FlowMessage field %s: key %s is not a list", pf.Name, pf.Key)
		}
		return isSFlow.Op("&&").Len(s.expr).Op(">").Lit(0),
			[]Code{Id("n").Op("=").Id("putPacked").Call(Id("b"), Id("n"), s.expr)}, nil
	case pf.Wire == pbBytes && s.env != nil && s.env.Kind == fields.ValueAddr:
		return isSFlow.Op("&&").Add(s.expr).Dot("IsValid").Call(),
			[]Code{Id("n").Op("=").Id("putAddr").Call(Id("b"), Id("n"), Add(s.expr).Dot("Unmap").Call())}, nil
	case s.sf != nil && s.sf.Kind == fields.ValueUint && pf.Wire == pbVarint:
		cond := isSFlow
		if b, ok := strings.CutPrefix(s.sf.When, "has:"); ok {
			cond = cond.Op("&&").Id("s").Dot("Has").Op("&").Qual(decodePkg, b).Op("!=").Lit(0)
		}
		if f, ok := strings.CutPrefix(s.sf.When, "nonzero:"); ok {
			cond = cond.Op("&&").Add(sflowValue(f)).Op("!=").Lit(0)
		}
		return cond.Op("&&").Add(s.expr).Op("!=").Lit(0), put(s.expr), nil
	}
	return nil, nil, fmt.Errorf("FlowMessage field %s: key %s cannot be written", pf.Name, pf.Key)
}
