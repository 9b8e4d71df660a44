package decode

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sFlow v5 captures of pmacct's sfprobe, compared field by field with
// tshark's sflow dissector (scripts/make-testdata.sh, tsharkjson -sflow).

type sflowTsharkFile struct {
	Counts  map[string]int `json:"counts"`
	Packets []struct {
		Frame   int            `json:"frame"`
		Src     string         `json:"src"`
		Header  map[string]any `json:"header"`
		Samples []struct {
			Name    string         `json:"name"`
			Fields  map[string]any `json:"-"`
			Records []map[string]any
		} `json:"samples"`
	} `json:"packets"`
}

// sflowCaptures lists the sFlow captures in testdata.
func sflowCaptures(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("..", "testdata", "sfprobe-*.pcap"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no sFlow captures: %v", err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func loadSFlowTshark(t *testing.T, name string) (sflowTsharkFile, []map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", strings.TrimSuffix(name, ".pcap")+".tshark.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f sflowTsharkFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	// The samples' own fields, beside their records.
	var generic struct {
		Packets []struct {
			Samples []map[string]any `json:"samples"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	var samples []map[string]any
	for _, p := range generic.Packets {
		samples = append(samples, p.Samples...)
	}
	return f, samples
}

// tsv returns field k of m as one string ("" when absent); a repeated
// field is joined with ",".
func tsv(m map[string]any, k string) string {
	v, ok := m[k]
	if !ok {
		return ""
	}
	return strings.Join(tsharkValues(v), ",")
}

func tsnum(t *testing.T, m map[string]any, k string) uint64 {
	t.Helper()
	s := tsv(m, k)
	if s == "" {
		t.Fatalf("tshark has no %s in %v", k, m)
	}
	return parseNum(t, s)
}

func TestSFlowCapturesAgainstTshark(t *testing.T) {
	for _, name := range sflowCaptures(t) {
		t.Run(strings.TrimSuffix(name, ".pcap"), func(t *testing.T) {
			want, samples := loadSFlowTshark(t, name)
			pkts := readCapture(t, name)
			if len(pkts) != len(want.Packets) {
				t.Fatalf("capture has %d packets, tshark saw %d", len(pkts), len(want.Packets))
			}
			var d Decoder
			var p Packet
			si := 0
			flows, counters, headers := 0, 0, 0
			for i, pk := range pkts {
				wp := want.Packets[i]
				at := fmt.Sprintf("frame %d", wp.Frame)
				check(t, at+" source", pk.src.String(), wp.Src)
				if err := d.Decode(pk.src, pk.data, &p); err != nil {
					t.Fatalf("%s: %v", at, err)
				}
				h := wp.Header
				check(t, at+" version", p.Version, VersionSFlow5)
				agent := tsv(h, "sflow_245.agent") + tsv(h, "sflow_245.agent.v6")
				check(t, at+" agent", p.Agent.String(), agent)
				check(t, at+" sub-agent", uint64(p.Domain), tsnum(t, h, "sflow_245.sub_agent_id"))
				check(t, at+" sequence", uint64(p.Sequence), tsnum(t, h, "sflow_245.sequence_number"))
				check(t, at+" uptime", uint64(p.SysUptime), tsnum(t, h, "sflow_245.sysuptime"))
				check(t, at+" samples", uint64(p.Count), tsnum(t, h, "sflow_245.numsamples"))
				fi, ci := 0, 0
				for j, ws := range wp.Samples {
					sm := samples[si]
					si++
					sat := fmt.Sprintf("%s sample %d (%s)", at, j, ws.Name)
					switch tsv(sm, "sflow_245.sampletype") {
					case "1":
						if fi >= len(p.Records) {
							t.Fatalf("%s: only %d flow samples decoded", sat, len(p.Records))
						}
						compareSFlowSample(t, sat, &p.Records[fi], &p.SFlow[fi], sm, ws.Records)
						headers += int(p.SFlow[fi].Has&SFlowHasHeader) / int(SFlowHasHeader)
						fi++
					case "2":
						if ci >= len(p.Counters) {
							t.Fatalf("%s: only %d counter samples decoded", sat, len(p.Counters))
						}
						compareSFlowCounters(t, sat, &p.Counters[ci], sm, ws.Records)
						ci++
					default:
						t.Fatalf("%s: sample type %s not in the captures before", sat, tsv(sm, "sflow_245.sampletype"))
					}
				}
				check(t, at+" flow samples", len(p.Records), fi)
				check(t, at+" counter samples", len(p.Counters), ci)
				flows += fi
				counters += ci
			}
			check(t, "flow samples", flows, want.Counts["flow_samples"])
			check(t, "counter samples", counters, want.Counts["counter_samples"])
			if flows == 0 || headers != flows {
				t.Errorf("%d flow samples, %d with a raw header", flows, headers)
			}
		})
	}
}

func compareSFlowSample(t *testing.T, at string, r *Record, s *SFlowSample, sm map[string]any, recs []map[string]any) {
	t.Helper()
	check(t, at+" record version", r.Version, VersionSFlow5)
	check(t, at+" sample seq", uint64(s.SampleSeq), tsnum(t, sm, "sflow.flow_sample.sequence_number"))
	check(t, at+" source class", uint64(s.SourceIDType), tsnum(t, sm, "sflow.flow_sample.source_id_class"))
	check(t, at+" source index", uint64(s.SourceIndex), tsnum(t, sm, "sflow.flow_sample.index"))
	check(t, at+" sampling rate", r.SamplingRate, tsnum(t, sm, "sflow.flow_sample.sampling_rate"))
	check(t, at+" sample pool", uint64(s.SamplePool), tsnum(t, sm, "sflow.flow_sample.sample_pool"))
	check(t, at+" drops", uint64(s.Drops), tsnum(t, sm, "sflow.flow_sample.dropped_packets"))
	in := tsnum(t, sm, "sflow.flow_sample.input_interface")
	check(t, at+" input", uint64(s.InFormat)<<30|uint64(s.InValue), in)
	check(t, at+" in_if", r.Has&HasInIf != 0 && uint64(r.InIf) == in, s.InFormat == SFlowIfIndex)
	check(t, at+" output format", uint64(s.OutFormat), tsnum(t, sm, "sflow.flow_sample.output_interface_format"))
	check(t, at+" output value", uint64(s.OutValue), tsnum(t, sm, "sflow.flow_sample.output_interface_value"))
	if s.OutFormat == SFlowIfIndex {
		check(t, at+" out_if", uint64(r.OutIf), uint64(s.OutValue))
	}
	check(t, at+" records", len(recs), int(tsnum(t, sm, "sflow.flow_sample.flow_record")))
	switchVLAN := false
	for _, rec := range recs {
		rat := at + " " + tsv(rec, "name")
		switch tsv(rec, "sflow_245.flow_record_format") {
		case "1001":
			check(t, rat+" has", s.Has&SFlowHasSwitch != 0, true)
			if v := tsnum(t, rec, "sflow_245.vlan.in"); v != 0 {
				check(t, rat+" src vlan", uint64(r.SrcVLAN), v)
				switchVLAN = true
			}
			if v := tsnum(t, rec, "sflow_245.vlan.out"); v != 0 {
				check(t, rat+" dst vlan", uint64(r.DstVLAN), v)
			} else {
				check(t, rat+" no dst vlan", r.Has&HasDstVLAN, FieldSet(0))
			}
			check(t, rat+" src priority", uint64(s.SrcPriority), tsnum(t, rec, "sflow_245.pri.in"))
			check(t, rat+" dst priority", uint64(s.DstPriority), tsnum(t, rec, "sflow_245.pri.out"))
		case "1002":
			check(t, rat+" has", s.Has&SFlowHasRouter != 0, true)
			check(t, rat+" next hop", r.NextHop.String(), tsv(rec, "sflow_245.nexthop")+tsv(rec, "sflow_245.nexthop.v6"))
			check(t, rat+" src mask", uint64(r.SrcMask), tsnum(t, rec, "sflow_245.nexthop.src_mask"))
			check(t, rat+" dst mask", uint64(r.DstMask), tsnum(t, rec, "sflow_245.nexthop.dst_mask"))
		case "1003":
			check(t, rat+" has", s.Has&SFlowHasGateway != 0, true)
			check(t, rat+" bgp next hop", r.BGPNextHop.String(), tsv(rec, "sflow_245.nexthop")+tsv(rec, "sflow_245.nexthop.v6"))
			check(t, rat+" router as", uint64(s.RouterAS), tsnum(t, rec, "sflow_245.as"))
			check(t, rat+" src as", uint64(r.SrcAS), tsnum(t, rec, "sflow_245.srcAS"))
			check(t, rat+" peer as", uint64(s.SrcPeerAS), tsnum(t, rec, "sflow_245.peerAS"))
			check(t, rat+" as path", joinU32(s.ASPath), tsv(rec, "sflow_245.dstAS"))
			check(t, rat+" communities", joinU32(s.Communities), tsv(rec, "sflow_245.community"))
			check(t, rat+" local pref", uint64(s.LocalPref), tsnum(t, rec, "sflow_245.localpref"))
			wantDst := s.RouterAS
			if len(s.ASPath) > 0 {
				wantDst = s.ASPath[len(s.ASPath)-1]
			}
			check(t, rat+" dst as", r.DstAS, wantDst)
		case "1":
			check(t, rat+" has", s.Has&SFlowHasHeader != 0, true)
			check(t, rat+" protocol", uint64(s.HeaderProtocol), tsnum(t, rec, "sflow_245.header_protocol"))
			check(t, rat+" frame length", uint64(s.FrameLength), tsnum(t, rec, "sflow_245.header.frame_length"))
			check(t, rat+" bytes", r.Bytes, tsnum(t, rec, "sflow_245.header.frame_length"))
			check(t, rat+" packets", r.Packets, uint64(1))
			check(t, rat+" stripped", uint64(s.Stripped), tsnum(t, rec, "sflow_245.header.payload_stripped"))
			h, _ := rec["header"].(map[string]any)
			compareSampledHeader(t, rat, r, h, switchVLAN)
		default:
			t.Errorf("%s: record format %s not in the captures before", rat, tsv(rec, "sflow_245.flow_record_format"))
		}
	}
}

// compareSampledHeader compares what the parser read from a raw packet
// header with tshark's dissection of the same bytes.
func compareSampledHeader(t *testing.T, at string, r *Record, h map[string]any, switchVLAN bool) {
	t.Helper()
	f := &r.Flow
	check(t, at+" dst mac", f.DstMAC.String(), tsv(h, "eth.dst"))
	check(t, at+" src mac", f.SrcMAC.String(), tsv(h, "eth.src"))
	et := tsv(h, "eth.type")
	if v := tsv(h, "vlan.etype"); v != "" {
		et = v
		if !switchVLAN {
			check(t, at+" vlan", uint64(f.SrcVLAN), tsnum(t, h, "vlan.id"))
		}
	} else if !switchVLAN {
		check(t, at+" no vlan", f.Has&HasSrcVLAN, FieldSet(0))
	}
	check(t, at+" ethertype", uint64(f.EtherType), parseNum(t, et))
	switch {
	case tsv(h, "ip.src") != "":
		check(t, at+" ip version", f.IPVersion, uint8(4))
		check(t, at+" src", f.SrcAddr.String(), tsv(h, "ip.src"))
		check(t, at+" dst", f.DstAddr.String(), tsv(h, "ip.dst"))
		check(t, at+" proto", uint64(f.Proto), tsnum(t, h, "ip.proto"))
		check(t, at+" tos", uint64(f.TOS), tsnum(t, h, "ip.dsfield"))
		check(t, at+" ttl", uint64(f.TTL), tsnum(t, h, "ip.ttl"))
	case tsv(h, "ipv6.src") != "":
		check(t, at+" ip version", f.IPVersion, uint8(6))
		check(t, at+" src", f.SrcAddr.String(), tsv(h, "ipv6.src"))
		check(t, at+" dst", f.DstAddr.String(), tsv(h, "ipv6.dst"))
		check(t, at+" proto", uint64(f.Proto), tsnum(t, h, "ipv6.nxt"))
		check(t, at+" tos", uint64(f.TOS), tsnum(t, h, "ipv6.tclass"))
		check(t, at+" ttl", uint64(f.TTL), tsnum(t, h, "ipv6.hlim"))
	default:
		check(t, at+" no addresses", f.Has&(HasSrcAddr|HasDstAddr), FieldSet(0))
	}
	sp, dp := tsv(h, "tcp.srcport")+tsv(h, "udp.srcport"), tsv(h, "tcp.dstport")+tsv(h, "udp.dstport")
	if sp != "" {
		check(t, at+" src port", strconv.Itoa(int(f.SrcPort)), sp)
		check(t, at+" dst port", strconv.Itoa(int(f.DstPort)), dp)
	} else {
		check(t, at+" no ports", f.Has&(HasSrcPort|HasDstPort), FieldSet(0))
	}
	if v := tsv(h, "tcp.flags"); v != "" {
		check(t, at+" tcp flags", uint64(f.TCPFlags), parseNum(t, v))
	}
	if v := tsv(h, "icmp.type") + tsv(h, "icmpv6.type"); v != "" {
		check(t, at+" icmp type", strconv.Itoa(int(f.ICMPType)), v)
		check(t, at+" icmp code", strconv.Itoa(int(f.ICMPCode)), tsv(h, "icmp.code")+tsv(h, "icmpv6.code"))
	}
}

func compareSFlowCounters(t *testing.T, at string, c *SFlowCounters, sm map[string]any, recs []map[string]any) {
	t.Helper()
	check(t, at+" sample seq", uint64(c.SampleSeq), tsnum(t, sm, "sflow.counters_sample.sequence_number"))
	check(t, at+" source type", uint64(c.SourceIDType), tsnum(t, sm, "sflow.counters_sample.source_id_type"))
	check(t, at+" source index", uint64(c.SourceIndex), tsnum(t, sm, "sflow.counters_sample.source_id_index"))
	check(t, at+" records", len(recs), int(tsnum(t, sm, "sflow.counters_sample.counters_records")))
	for _, rec := range recs {
		rat := at + " " + tsv(rec, "name")
		switch tsv(rec, "sflow_245.counters_record_format") {
		case "1":
			check(t, rat+" has", c.Has&SFlowHasGenericIf != 0, true)
			g := &c.Generic
			for _, x := range []struct {
				k   string
				got uint64
			}{
				{"sflow_245.ifindex", uint64(g.Index)}, {"sflow_245.iftype", uint64(g.Type)}, {"sflow_245.ifspeed", g.Speed},
				{"sflow_245.ifdirection", uint64(g.Direction)}, {"sflow_245.ifadmin_status", uint64(g.Status & 1)},
				{"sflow_245.ifoper_status", uint64(g.Status >> 1 & 1)}, {"sflow_245.ifinoct", g.InOctets},
				{"sflow_245.ifinpkt", uint64(g.InUcastPkts)}, {"sflow_245.ifinmcast", uint64(g.InMulticastPkts)},
				{"sflow_245.ifinbcast", uint64(g.InBroadcastPkts)}, {"sflow_245.ifindisc", uint64(g.InDiscards)},
				{"sflow_245.ifinerr", uint64(g.InErrors)}, {"sflow_245.ifinunk", uint64(g.InUnknownProtos)},
				{"sflow_245.ifoutoct", g.OutOctets}, {"sflow_245.ifoutpkt", uint64(g.OutUcastPkts)},
				{"sflow_245.ifoutmcast", uint64(g.OutMulticastPkts)}, {"sflow_245.ifoutbcast", uint64(g.OutBroadcastPkts)},
				{"sflow_245.ifoutdisc", uint64(g.OutDiscards)}, {"sflow_245.ifouterr", uint64(g.OutErrors)},
				{"sflow_245.ifpromisc", uint64(g.PromiscuousMode)},
			} {
				check(t, rat+" "+x.k, x.got, tsnum(t, rec, x.k))
			}
		default:
			t.Errorf("%s: counter record format %s not in the captures before", rat, tsv(rec, "sflow_245.counters_record_format"))
		}
	}
}

func joinU32(v []uint32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatUint(uint64(x), 10)
	}
	return strings.Join(s, ",")
}

// ---- hand-built datagrams ------------------------------------------------

// sfw appends XDR words.
func sfw(b []byte, v ...uint32) []byte {
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, x)
	}
	return b
}

// sfDatagram builds a datagram of an IPv4 agent.
func sfDatagram(seq uint32, samples ...[]byte) []byte {
	b := sfw(nil, 5, 1)                             // version, agent address type IPv4
	b = append(b, 192, 0, 2, 254)                   // agent
	b = sfw(b, 7, seq, 60000, uint32(len(samples))) // sub-agent, sequence, uptime, samples
	for _, s := range samples {
		b = append(b, s...)
	}
	return b
}

// sfTagged is a sample or record: format, length, body.
func sfTagged(format uint32, body []byte) []byte {
	return append(sfw(nil, format, uint32(len(body))), body...)
}

// sfFlow builds a compact flow sample.
func sfFlow(seq, rate, in, out uint32, records ...[]byte) []byte {
	b := sfw(nil, seq, 3<<24|42, rate, 1000*seq, 2, in, out, uint32(len(records))) // seq, source id (type 3, index 42), rate, pool, drops, input, output, records
	for _, r := range records {
		b = append(b, r...)
	}
	return sfTagged(1, b)
}

// sfHeader is a raw packet header record of an Ethernet frame.
func sfHeader(frameLen uint32, frame []byte) []byte {
	b := sfw(nil, 1, frameLen, 4, uint32(len(frame)))
	b = append(b, frame...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return sfTagged(1, b)
}

func sfGateway(routerAS, srcAS, peerAS uint32, path [][]uint32, communities []uint32, localPref uint32) []byte {
	b := sfw(nil, 1)
	b = append(b, 203, 0, 113, 1) // BGP next hop
	b = sfw(b, routerAS, srcAS, peerAS, uint32(len(path)))
	for _, seg := range path {
		b = sfw(b, 2, uint32(len(seg))) // AS_SEQUENCE
		b = sfw(b, seg...)
	}
	b = sfw(b, uint32(len(communities)))
	b = sfw(b, communities...)
	b = sfw(b, localPref)
	return sfTagged(1003, b)
}

func TestSFlowHandBuilt(t *testing.T) {
	frame := handFrames(t)[0] // QinQ, IPv4, TCP
	ipv6 := sfTagged(4, append(append(sfw(nil, 1500, 17), netip.MustParseAddr("2001:db8::1").AsSlice()...),
		append(netip.MustParseAddr("2001:db8::2").AsSlice(), sfw(nil, 5000, 53, 0, 0xb8)...)...))
	pkt := sfDatagram(99,
		sfFlow(1, 512, 3, 1<<30|257, // discarded: reason 257 (TTL exceeded)
			sfTagged(1001, sfw(nil, 10, 3, 20, 5)), // switch: VLAN 10 prio 3 → VLAN 20 prio 5
			sfHeader(1518, frame),
			sfGateway(64500, 64496, 64497, [][]uint32{{64510, 64511}, {64512}}, []uint32{64500<<16 | 1, 64500<<16 | 2}, 100),
			sfTagged(2000, []byte{1, 2, 3, 4}), // unknown record: skipped
		),
		sfTagged(4, sfw(nil, 5, 0, 7, 2, // expanded counters: seq, type, index, 2 records
			1, 88, 7, 6, 0, 1e9, 1, 3, 0, 123456, 10, 1, 2, 0, 0, 0, 0, 654321, 11, 0, 0, 0, 0, 0, // generic
			2, 52, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)), // Ethernet
		// An expanded flow sample: seq 2, source ifIndex 43, rate 1, pool
		// 100, in ifIndex 5, out to 2 interfaces, one sampled IPv6 record.
		sfTagged(3, append(sfw(nil, 2, 0, 43, 1, 100, 0, 0, 5, 2, 2, 1), ipv6...)),
	)
	var d Decoder
	var p Packet
	if err := d.Decode(netip.MustParseAddr("198.51.100.9"), pkt, &p); err != nil {
		t.Fatal(err)
	}
	check(t, "records", len(p.Records), 2)
	check(t, "counters", len(p.Counters), 1)
	r, s := &p.Records[0], &p.SFlow[0]
	check(t, "agent", p.Agent, netip.MustParseAddr("192.0.2.254"))
	check(t, "sequence", p.Sequence, uint32(99))
	check(t, "domain", r.Domain, uint32(7))
	check(t, "exporter", r.Exporter, netip.MustParseAddr("198.51.100.9"))
	check(t, "rate", r.SamplingRate, uint64(512))
	check(t, "source", [2]uint32{s.SourceIDType, s.SourceIndex}, [2]uint32{3, 42})
	check(t, "in_if", r.InIf, uint32(3))
	check(t, "out format", [2]uint32{s.OutFormat, s.OutValue}, [2]uint32{SFlowIfDiscarded, 257})
	check(t, "no out_if", r.Has&HasOutIf, FieldSet(0))
	check(t, "vlans", [2]uint16{r.SrcVLAN, r.DstVLAN}, [2]uint16{10, 20})
	check(t, "priorities", [2]uint32{s.SrcPriority, s.DstPriority}, [2]uint32{3, 5})
	check(t, "bytes", [2]uint64{r.Bytes, r.Packets}, [2]uint64{1518, 1})
	check(t, "src", r.SrcAddr, netip.MustParseAddr("192.0.2.1"))
	check(t, "ports", [2]uint16{r.SrcPort, r.DstPort}, [2]uint16{40000, 443})
	check(t, "tcp flags", r.TCPFlags, uint16(0x112))
	check(t, "as path", joinU32(s.ASPath), "64510,64511,64512")
	check(t, "communities", joinU32(s.Communities), strconv.Itoa(64500<<16|1)+","+strconv.Itoa(64500<<16|2))
	check(t, "as", [2]uint32{r.SrcAS, r.DstAS}, [2]uint32{64496, 64512})
	check(t, "gateway", [3]uint32{s.RouterAS, s.SrcPeerAS, s.LocalPref}, [3]uint32{64500, 64497, 100})
	check(t, "bgp next hop", r.BGPNextHop, netip.MustParseAddr("203.0.113.1"))
	check(t, "unknown records", s.Unknown, uint16(1))
	c := &p.Counters[0]
	check(t, "counters source", [3]uint32{c.SampleSeq, c.SourceIDType, c.SourceIndex}, [3]uint32{5, 0, 7})
	check(t, "counters has", c.Has, SFlowExpanded|SFlowHasGenericIf|SFlowHasEthernetCounters)
	check(t, "if", [3]uint64{uint64(c.Generic.Index), c.Generic.Speed, c.Generic.InOctets}, [3]uint64{7, 1e9, 123456})
	check(t, "out octets", c.Generic.OutOctets, uint64(654321))
	check(t, "symbol errors", c.Ethernet.SymbolErrors, uint32(13))
	r, s = &p.Records[1], &p.SFlow[1]
	check(t, "expanded", s.Has, SFlowExpanded|SFlowHasIPv6)
	check(t, "expanded source", s.SourceIndex, uint32(43))
	check(t, "expanded out", [3]uint32{s.OutFormat, s.OutValue, r.InIf}, [3]uint32{SFlowIfMultiple, 2, 5})
	check(t, "ipv6", [2]netip.Addr{r.SrcAddr, r.DstAddr}, [2]netip.Addr{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")})
	check(t, "ipv6 fields", [4]uint64{r.Bytes, uint64(r.Proto), uint64(r.DstPort), uint64(r.TOS)}, [4]uint64{1500, 17, 53, 0xb8})

	// The input may be reused: nothing in the records aliases it.
	before := p.SFlow[0]
	path := joinU32(before.ASPath)
	rec := p.Records[0]
	for i := range pkt {
		pkt[i] = 0xEE
	}
	check(t, "as path after reuse", joinU32(p.SFlow[0].ASPath), path)
	check(t, "record after reuse", p.Records[0].Flow, rec.Flow)

	// An IPv6 agent.
	v6 := sfw(nil, 5, 2)
	v6 = append(v6, netip.MustParseAddr("2001:db8::fe").AsSlice()...)
	v6 = sfw(v6, 1, 2, 3, 0)
	if err := DecodeSFlow(netip.Addr{}, v6, &p); err != nil {
		t.Fatal(err)
	}
	check(t, "v6 agent", p.Agent, netip.MustParseAddr("2001:db8::fe"))
	check(t, "v6 header", [3]uint32{p.Domain, p.Sequence, p.SysUptime}, [3]uint32{1, 2, 3})
}

// TestSFlowMalformed: every malformed datagram is an error naming the
// problem, the exporter and the offset; the samples that could be framed
// are kept.
func TestSFlowMalformed(t *testing.T) {
	good := sfFlow(1, 10, 1, 2, sfHeader(64, handFrames(t)[1]))
	exp := netip.MustParseAddr("192.0.2.77")
	cases := []struct {
		name   string
		pkt    []byte
		err    error
		detail string
		flows  int
	}{
		{"short header", sfDatagram(1)[:20], ErrTruncated, "datagram header", 0},
		{"agent type", func() []byte { b := sfDatagram(1); b[7] = 3; return b }(), ErrFormat, "agent address type", 0},
		{"short IPv6 header", sfw(nil, 5, 2, 0, 0, 0, 0, 0, 0), ErrTruncated, "datagram header", 0},
		{"sample past the end", sfDatagram(1, good, sfw(nil, 1, 1000)), ErrTruncated, "sample length past the end", 1},
		{"sample header cut", sfDatagram(1, good, []byte{0, 0, 0}), ErrTruncated, "sample header", 1},
		{"fewer samples", func() []byte { b := sfDatagram(1, good); binary.BigEndian.PutUint32(b[24:], 3); return b }(), ErrTruncated, "fewer samples", 1},
		{"huge sample count", func() []byte { b := sfDatagram(1, good); binary.BigEndian.PutUint32(b[24:], 0xFFFFFFFF); return b }(), ErrTruncated, "fewer samples", 1},
		{"short flow sample", sfDatagram(1, sfTagged(1, sfw(nil, 1, 2, 3)), good), ErrLength, "flow sample shorter", 1},
		{"short expanded sample", sfDatagram(1, sfTagged(3, sfw(nil, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)), good), ErrLength, "expanded flow sample shorter", 1},
		{"record past its sample", sfDatagram(1, sfFlow(1, 10, 1, 2, sfTagged(1, sfw(nil, 1, 64, 4, 100)))), ErrLength, "sampled header longer", 1},
		{"record length past sample", sfDatagram(1, sfTagged(1, sfw(nil, 1, 0, 1, 1, 0, 1, 2, 1, 1, 500))), ErrLength, "flow record length past", 1},
		{"fewer records", sfDatagram(1, sfTagged(1, sfw(nil, 1, 0, 1, 1, 0, 1, 2, 1000))), ErrTruncated, "fewer flow records", 1},
		{"short IPv4 record", sfDatagram(1, sfFlow(1, 10, 1, 2, sfTagged(3, sfw(nil, 1, 2)))), ErrLength, "sampled IPv4 record shorter", 1},
		{"short switch record", sfDatagram(1, sfFlow(1, 10, 1, 2, sfTagged(1001, sfw(nil, 1)))), ErrLength, "extended switch", 1},
		{"router address type", sfDatagram(1, sfFlow(1, 10, 1, 2, sfTagged(1002, sfw(nil, 9, 1, 2, 3)))), ErrLength, "extended router", 1},
		{"AS path count", sfDatagram(1, sfFlow(1, 10, 1, 2, sfTagged(1003, sfw(nil, 1, 0, 1, 2, 3, 0xFFFFFFFF, 2)))), ErrLength, "AS path past the end", 1},
		{"AS segment count", sfDatagram(1, sfFlow(1, 10, 1, 2, sfTagged(1003, sfw(nil, 1, 0, 1, 2, 3, 1, 2, 0x40000000, 5)))), ErrLength, "AS path past the end", 1},
		{"communities count", sfDatagram(1, sfFlow(1, 10, 1, 2, sfTagged(1003, sfw(nil, 1, 0, 1, 2, 3, 0, 0x40000001, 1)))), ErrLength, "communities past the end", 1},
		{"short counter sample", sfDatagram(1, sfTagged(2, sfw(nil, 1)), good), ErrLength, "counter sample shorter", 1},
		{"short generic counters", sfDatagram(1, sfTagged(2, sfw(nil, 1, 1, 1, 1, 8, 0, 0))), ErrLength, "generic interface counters shorter", 0},
		{"counter record past", sfDatagram(1, sfTagged(2, sfw(nil, 1, 1, 1, 1, 800, 0, 0))), ErrLength, "counter record length past", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Decoder
			var p Packet
			err := d.Decode(exp, c.pkt, &p)
			var de *DecodeError
			if !errors.As(err, &de) || !errors.Is(err, c.err) {
				t.Fatalf("got error %v, want %v", err, c.err)
			}
			if !strings.Contains(err.Error(), c.detail) || !strings.Contains(err.Error(), "sFlow v5 from 192.0.2.77") {
				t.Errorf("error %q does not name %q and the exporter", err, c.detail)
			}
			check(t, "flows kept", len(p.Records), c.flows)
			check(t, "samples beside them", len(p.SFlow), len(p.Records))
		})
	}
}

// TestSFlowSkipsUnknown: samples of other enterprises and formats are
// skipped by their length, not errors.
func TestSFlowSkipsUnknown(t *testing.T) {
	var p Packet
	pkt := sfDatagram(1, sfTagged(4300<<12|5, []byte{1, 2, 3, 4}), sfTagged(9, nil), sfFlow(1, 1, 1, 1))
	if err := DecodeSFlow(netip.Addr{}, pkt, &p); err != nil {
		t.Fatal(err)
	}
	check(t, "skipped", p.Skipped, 2)
	check(t, "flows", len(p.Records), 1)
	check(t, "packets of a sample without records", [2]uint64{p.Records[0].Packets, uint64(p.Records[0].Has & (HasPackets | HasBytes))}, [2]uint64{1, uint64(HasPackets)})
	// A NetFlow v5 packet is not taken for sFlow, nor sFlow for v5.
	if err := DecodeV5(pkt, &p); !errors.Is(err, ErrVersion) {
		t.Errorf("DecodeV5 of sFlow: %v", err)
	}
}

func sflowPayloads(tb testing.TB) [][]byte {
	var out [][]byte
	for _, c := range sflowCaptures(tb) {
		for _, p := range readCapture(tb, c) {
			out = append(out, p.data)
		}
	}
	return out
}

// decodeSFlowAll decodes every sFlow capture datagram; shared by the
// allocation test and the benchmark.
func decodeSFlowAll(tb testing.TB, d *Decoder, p *Packet, pkts [][]byte) (samples int) {
	for _, pk := range pkts {
		if err := d.Decode(loopback, pk, p); err != nil {
			tb.Fatal(err)
		}
		samples += len(p.Records) + len(p.Counters)
	}
	return samples
}

func TestDecodeSFlowAllocs(t *testing.T) {
	pkts := sflowPayloads(t)
	var d Decoder
	var p Packet
	decodeSFlowAll(t, &d, &p, pkts) // grows the Packet's slices
	if n := testing.AllocsPerRun(20, func() { decodeSFlowAll(t, &d, &p, pkts) }); n != 0 {
		t.Errorf("decoding the sFlow captures: %v allocations per run, want 0", n)
	}
}

func FuzzDecodeSFlow(f *testing.F) {
	for _, s := range sflowShapes(f) { // the captures' datagrams and hand-built ones
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Packet
		err := DecodeSFlow(loopback, data, &p)
		if len(p.SFlow) != len(p.Records) {
			t.Fatalf("%d samples for %d records", len(p.SFlow), len(p.Records))
		}
		for i := range p.Records {
			r := &p.Records[i]
			if r.Version != VersionSFlow5 || r.Offset < 0 || r.Offset >= len(data) {
				t.Fatalf("record %d: version %d offset %d", i, r.Version, r.Offset)
			}
		}
		if len(p.asns) > len(data)/4 {
			t.Fatalf("%d ASNs from %d bytes", len(p.asns), len(data))
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Detail == "" {
				t.Fatalf("error without detail: %v", err)
			}
			_ = err.Error()
		}
	})
}

// BenchmarkDecodeSFlow decodes every datagram of the sFlow captures per op;
// ns/sample is per flow or counter sample.
func BenchmarkDecodeSFlow(b *testing.B) {
	pkts := sflowPayloads(b)
	var d Decoder
	var p Packet
	samples := decodeSFlowAll(b, &d, &p, pkts)
	n := 0
	for _, pk := range pkts {
		n += len(pk)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		decodeSFlowAll(b, &d, &p, pkts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(samples), "ns/sample")
}

// TestSFlowHeaderProtocols: raw packet headers of IEEE 802.11 (15) and
// MPLS (13) frames, and of bare IPv4 (11).
func TestSFlowHeaderProtocols(t *testing.T) {
	ipUDP := []byte{
		0x45, 0x00, 0, 33, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2, // IPv4 UDP
		0x13, 0x88, 0x00, 0x35, 0, 13, 0, 0, 'x', // UDP 5000 → 53
	}
	wifi := append([]byte{
		0x08, 0x01, 0, 0, // data frame, To DS
		2, 0, 0, 0, 0, 1, // address 1: the AP
		2, 0, 0, 0, 0, 2, // address 2: the source
		2, 0, 0, 0, 0, 3, // address 3: the destination
		0, 0, // sequence control
		0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00, // LLC/SNAP, IPv4
	}, ipUDP...)
	mpls := append([]byte{0x00, 0x01, 0x01, 0x40}, ipUDP...) // label 16, bottom of stack
	header := func(proto uint32, h []byte) []byte {
		b := sfw(nil, proto, uint32(len(h)+4), 4, uint32(len(h)))
		b = append(b, h...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return sfTagged(1, b)
	}
	var p Packet
	pkt := sfDatagram(1, sfFlow(1, 1, 1, 1, header(15, wifi)), sfFlow(2, 1, 1, 1, header(13, mpls)), sfFlow(3, 1, 1, 1, header(11, ipUDP)))
	if err := DecodeSFlow(netip.Addr{}, pkt, &p); err != nil {
		t.Fatal(err)
	}
	check(t, "records", len(p.Records), 3)
	for i := range p.Records {
		r := &p.Records[i]
		check(t, fmt.Sprint("record ", i, " addresses"), [2]netip.Addr{r.SrcAddr, r.DstAddr}, [2]netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.2")})
		check(t, fmt.Sprint("record ", i, " ports"), [3]uint16{r.SrcPort, r.DstPort, uint16(r.Proto)}, [3]uint16{5000, 53, 17})
	}
	check(t, "802.11 MACs", [2]MAC{p.Records[0].SrcMAC, p.Records[0].DstMAC}, [2]MAC{{2, 0, 0, 0, 0, 2}, {2, 0, 0, 0, 0, 3}})
	check(t, "802.11 ethertype", p.Records[0].EtherType, uint16(0x0800))
}
