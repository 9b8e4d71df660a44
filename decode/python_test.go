package decode

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

// Every test vector of the Python netflow library (testdata/python-netflow),
// with the counts and values its comments state.

func TestPythonInvalidVersion(t *testing.T) {
	var d Decoder
	var p Packet
	pkt := loadHex(t, "invalid_version_65535.hex")[0]
	err := d.Decode(loopback, pkt, &p)
	if !errors.Is(err, ErrVersion) {
		t.Fatalf("Decode = %v, want ErrVersion", err)
	}
	var de *DecodeError
	if !errors.As(err, &de) || de.Version != 65535 || de.Exporter != loopback {
		t.Errorf("error %#v does not name version 65535 and the exporter", err)
	}
	check(t, "records", len(p.Records), 0)
	// An invalid packet between valid ones changes nothing (the Python
	// test_ignore_invalid_packets sequence).
	tmpl := loadHex(t, "v9_template_2templates_8flows.hex")[0]
	data := loadHex(t, "v9_data_only_3pkts_12flows_each.hex")
	total := 0
	for _, pkt2 := range [][]byte{pkt, tmpl, data[0], pkt, data[1], pkt} {
		if err := d.Decode(loopback, pkt2, &p); err == nil {
			total += len(p.Records)
		}
	}
	check(t, "flows", total, 8+12+12)
}

func TestPythonV1(t *testing.T) {
	var p Packet
	if err := DecodeV1(loadHex(t, "v1_icmp_ping_2flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "version", p.Version, 1)
	check(t, "count", p.Count, 2)
	check(t, "uptime", p.SysUptime, 71835)
	check(t, "export time", p.ExportTime, 1585496876*1e9+802429000)
	if len(p.Records) != 2 {
		t.Fatalf("got %d records, want 2", len(p.Records))
	}
	r := &p.Records[0]
	check(t, "src", r.SrcAddr, netip.MustParseAddr("172.17.0.2"))
	check(t, "dst", r.DstAddr, netip.MustParseAddr("172.17.0.1"))
	check(t, "proto", r.Proto, 1)
	check(t, "packets", r.Packets, 10)
	check(t, "bytes", r.Bytes, 840)
	check(t, "dst port", r.DstPort, 2048)
	check(t, "src port", r.SrcPort, 0)
	check(t, "FIRST_SWITCHED raw", fieldUint(t, r, 0, 22), 10183)
	check(t, "LAST_SWITCHED raw", fieldUint(t, r, 0, 21), 19185)
	// Absolute time: export time minus (uptime - first) ms.
	check(t, "start", r.Start, p.ExportTime-(71835-10183)*1e6)
	check(t, "end", r.End, p.ExportTime-(71835-19185)*1e6)
	check(t, "etype", r.EtherType, etherTypeIPv4)
	check(t, "flow[1] src", p.Records[1].SrcAddr, netip.MustParseAddr("172.17.0.1"))
	check(t, "flow[1] dst port", p.Records[1].DstPort, 0)
}

func TestPythonV5(t *testing.T) {
	var p Packet
	if err := DecodeV5(loadHex(t, "v5_icmp_ping_multicast_3flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "count", p.Count, 3)
	check(t, "uptime", p.SysUptime, 227747)
	check(t, "export time", p.ExportTime, 1585497478*1e9+581262000)
	check(t, "sequence", p.Sequence, 0)
	check(t, "sampling interval", p.SamplingInterval, 0)
	if len(p.Records) != 3 {
		t.Fatalf("got %d records, want 3", len(p.Records))
	}
	r := &p.Records[0]
	check(t, "src", r.SrcAddr, netip.MustParseAddr("172.17.0.2"))
	check(t, "proto", r.Proto, 1)
	check(t, "dst port", r.DstPort, 2048)
	check(t, "packets", r.Packets, 10)
	check(t, "bytes", r.Bytes, 840)
	check(t, "start", r.Start, p.ExportTime-(227747-12108)*1e6)
	check(t, "end", r.End, p.ExportTime-(227747-21110)*1e6)
	r = &p.Records[2]
	check(t, "flow[2] dst", r.DstAddr, netip.MustParseAddr("224.0.0.251"))
	check(t, "flow[2] proto", r.Proto, 17)
	check(t, "flow[2] ports", [2]uint16{r.SrcPort, r.DstPort}, [2]uint16{5353, 5353})
	check(t, "flow[2] bytes", r.Bytes, 169)
	check(t, "flow[2] next hop", r.NextHop, netip.MustParseAddr("0.0.0.0"))
	check(t, "flow[2] src as", r.SrcAS, 0)
	if r.Has&(HasSrcAS|HasDstAS|HasSrcMask|HasDstMask|HasInIf|HasOutIf) == 0 {
		t.Error("v5 record lacks AS/mask/interface fields")
	}
}

func checkV9TemplateFlows(t *testing.T, p *Packet) {
	t.Helper()
	if len(p.Records) != 8 {
		t.Fatalf("got %d records, want 8", len(p.Records))
	}
	r := &p.Records[0]
	lo := netip.MustParseAddr("127.0.0.1")
	check(t, "src", r.SrcAddr, lo)
	check(t, "dst", r.DstAddr, lo)
	check(t, "proto", r.Proto, 6)
	check(t, "ports", [2]uint16{r.SrcPort, r.DstPort}, [2]uint16{80, 37932})
	check(t, "bytes", r.Bytes, 102416)
	check(t, "packets", r.Packets, 75)
	check(t, "tcp flags", r.TCPFlags, 27)
	check(t, "ip version", r.IPVersion, 4)
	check(t, "FIRST_SWITCHED", fieldUint(t, r, 0, 22), 4215019773)
	check(t, "LAST_SWITCHED", fieldUint(t, r, 0, 21), 4215020202)
	// uptime 3 ms, first 4215019773: the flow started 2^32-4215019773+3 ms
	// before export (sysUptime wrapped).
	check(t, "start", r.Start, p.ExportTime-int64(uint32(1<<32+3-4215019773))*1e6)
	check(t, "end", r.End, p.ExportTime-int64(uint32(1<<32+3-4215020202))*1e6)
	last := &p.Records[7]
	check(t, "last proto", last.Proto, 17)
	check(t, "last ports", [2]uint16{last.SrcPort, last.DstPort}, [2]uint16{46025, 53})
	check(t, "last bytes", last.Bytes, 60)
	check(t, "last packets", last.Packets, 1)
}

func TestPythonV9Template(t *testing.T) {
	var d Decoder
	var p Packet
	if err := d.Decode(loopback, loadHex(t, "v9_template_2templates_8flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "count", p.Count, 10)
	check(t, "sequence", p.Sequence, 1)
	check(t, "templates", p.Templates, 2)
	check(t, "known templates", d.NumTemplates(), 2)
	checkV9TemplateFlows(t, &p)
	if tm := d.Template(loopback, 0, 1024); tm == nil || !tm.specialized() {
		t.Error("softflowd template 1024 did not get its generated reader")
	}
}

func TestPythonV9DataBeforeTemplate(t *testing.T) {
	var d Decoder
	var p Packet
	if err := d.Decode(loopback, loadHex(t, "v9_template_mixed_data_before_templates_8flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "known templates", d.NumTemplates(), 2)
	checkV9TemplateFlows(t, &p)
}

func TestPythonV9DataOnlyThenRetry(t *testing.T) {
	var d Decoder
	var p Packet
	data := loadHex(t, "v9_data_only_3pkts_12flows_each.hex")
	var missing []*MissingTemplateError
	for i, pkt := range data {
		err := d.Decode(loopback, pkt, &p)
		var me *MissingTemplateError
		if !errors.As(err, &me) || !errors.Is(err, ErrUnknownTemplate) {
			t.Fatalf("packet %d: Decode = %v, want *MissingTemplateError", i, err)
		}
		check(t, "missing template", me.TemplateID, 1024)
		check(t, "missing exporter", me.Exporter, loopback)
		check(t, "missing sets", me.Sets, 1)
		check(t, "records", len(p.Records), 0)
		missing = append(missing, me)
	}
	if err := d.Decode(loopback, loadHex(t, "v9_template_2templates_8flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	total := len(p.Records)
	for i, pkt := range data {
		if err := d.Retry(loopback, pkt, missing[i].Sets, &p); err != nil {
			t.Fatalf("Retry %d: %v", i, err)
		}
		check(t, "sequence", p.Sequence, uint32(2+i))
		if len(p.Records) != 12 {
			t.Fatalf("retry %d: %d records, want 12", i, len(p.Records))
		}
		total += len(p.Records)
		switch i {
		case 0:
			r := &p.Records[0]
			check(t, "ports", [2]uint16{r.SrcPort, r.DstPort}, [2]uint16{53, 60034})
			check(t, "proto", r.Proto, 17)
			check(t, "bytes", r.Bytes, 328)
			check(t, "packets", r.Packets, 2)
			check(t, "FIRST_SWITCHED", fieldUint(t, r, 0, 22), 4215020029)
		case 1:
			r := &p.Records[2]
			check(t, "src port", r.SrcPort, 443)
			check(t, "bytes", r.Bytes, 185640)
			check(t, "packets", r.Packets, 151)
		case 2:
			r := &p.Records[11]
			check(t, "ports", [2]uint16{r.SrcPort, r.DstPort}, [2]uint16{59424, 80})
			check(t, "bytes", r.Bytes, 1436)
			check(t, "packets", r.Packets, 20)
		}
	}
	check(t, "total flows", total, 44)
}

// Upstream issue #36: a zero-filled tail (a flowset header 0/0) looped
// forever in the Python library.
func TestPythonV9ZeroPadded(t *testing.T) {
	var d Decoder
	var p Packet
	err := d.Decode(loopback, loadHex(t, "v9_zero_padded_unknown_template_issue36.hex")[0], &p)
	var me *MissingTemplateError
	if !errors.As(err, &me) {
		t.Fatalf("Decode = %v, want *MissingTemplateError", err)
	}
	check(t, "missing template", me.TemplateID, 260)
	check(t, "missing domain", me.Domain, 0x01020000)
	check(t, "missing count", me.Count, 5)
	if !errors.Is(err, ErrLength) {
		t.Errorf("Decode = %v, want the zero-length flowset reported as ErrLength too", err)
	}
	check(t, "records", len(p.Records), 0)
}

func TestPythonIPFIXTemplates(t *testing.T) {
	var d Decoder
	var p Packet
	if err := d.Decode(loopback, loadHex(t, "ipfix_templates_5_plus_20flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "length", p.Length, 1312)
	check(t, "sequence", p.Sequence, 19)
	check(t, "templates", p.Templates, 5)
	check(t, "options records", len(p.Options), 1)
	if len(p.Records) != 19 {
		t.Fatalf("got %d records, want 19 (+1 options record = the Python library's 20)", len(p.Records))
	}
	o := &p.Options[0]
	check(t, "meteringProcessId", fieldUint(t, o, 0, 143), 2649)
	check(t, "selectorAlgorithm", o.SamplingAlgorithm, 1)
	check(t, "systemInitTimeMilliseconds", o.SystemInitMs, 1585735165729)
	check(t, "samplingPacketInterval", o.SamplingPacketInterval, 1)
	check(t, "samplingPacketSpace", o.SamplingSpace, 0)
	r := &p.Records[0]
	check(t, "dst", r.DstAddr, netip.MustParseAddr("172.17.0.2"))
	check(t, "src", r.SrcAddr, netip.MustParseAddr("127.0.0.1"))
	check(t, "proto", r.Proto, 6)
	check(t, "ports", [2]uint16{r.SrcPort, r.DstPort}, [2]uint16{443, 57766})
	check(t, "tcp flags", r.TCPFlags, 0x1b)
	check(t, "bytes", r.Bytes, 5575)
	check(t, "packets", r.Packets, 13)
	// flowStartSysUpTime relative to systemInitTimeMilliseconds from the
	// options record of the same packet.
	check(t, "start", r.Start, int64(1585735165729+fieldUint(t, r, 0, 22))*1e6)
	check(t, "end", r.End, int64(1585735165729+fieldUint(t, r, 0, 21))*1e6)
	check(t, "sampling rate (1 selected, 0 skipped)", r.SamplingRate, 1)
	r = &p.Records[16]
	check(t, "flow[17] proto", r.Proto, 17)
	check(t, "flow[17] src", r.SrcAddr, netip.MustParseAddr("fde6:6f14:e0f1:9609:0:affe:affe:affe"))
	check(t, "flow[17] etype", r.EtherType, etherTypeIPv6)
}

func TestPythonIPFIXDataOnly(t *testing.T) {
	var d Decoder
	var p Packet
	data := loadHex(t, "ipfix_data_only_2sets_3flows.hex")[0]
	err := d.Decode(loopback, data, &p)
	var me *MissingTemplateError
	if !errors.As(err, &me) {
		t.Fatalf("Decode = %v, want *MissingTemplateError", err)
	}
	check(t, "missing template", me.TemplateID, 2049)
	check(t, "missing count", me.Count, 2)
	check(t, "missing sets", me.Sets, 3)
	total := 0
	if err := d.Decode(loopback, loadHex(t, "ipfix_templates_5_plus_20flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	total += len(p.Records) + len(p.Options)
	if err := d.Retry(loopback, data, me.Sets, &p); err != nil {
		t.Fatal(err)
	}
	total += len(p.Records)
	if len(p.Records) != 3 {
		t.Fatalf("got %d records, want 3", len(p.Records))
	}
	r := &p.Records[0]
	check(t, "ip version", r.IPVersion, 6)
	check(t, "icmp type", r.ICMPType, 0x87)
	check(t, "icmp code", r.ICMPCode, 0)
	check(t, "bytes", r.Bytes, 72)
	r = &p.Records[2]
	check(t, "proto", r.Proto, 6)
	check(t, "ports", [2]uint16{r.SrcPort, r.DstPort}, [2]uint16{58700, 443})
	check(t, "bytes", r.Bytes, 320)
	check(t, "packets", r.Packets, 4)
	check(t, "tcp flags", r.TCPFlags, 2)
	check(t, "dst", r.DstAddr, netip.MustParseAddr("2a04:4e42:200::223"))
	// The same bytes decoded again as a fresh packet give the same 3.
	if err := d.Decode(loopback, data, &p); err != nil {
		t.Fatal(err)
	}
	total += len(p.Records)
	check(t, "total (2+1+20+2+1 in the Python test)", total, 26)
}

func TestPythonIPFIXEther(t *testing.T) {
	var d Decoder
	var p Packet
	if err := d.Decode(loopback, loadHex(t, "ipfix_ether_templates_5_plus_14flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "sequence", p.Sequence, 13)
	check(t, "records+options", len(p.Records)+len(p.Options), 14)
	o := &p.Options[0]
	check(t, "meteringProcessId", fieldUint(t, o, 0, 143), 9)
	check(t, "selectorAlgorithm", o.SamplingAlgorithm, 1)
	check(t, "systemInitTimeMilliseconds", o.SystemInitMs, 759538800000)
	r := &p.Records[0]
	check(t, "dst", r.DstAddr, netip.MustParseAddr("172.17.0.2"))
	check(t, "src mac", r.SrcMAC.String(), "12:34:56:af:fe:fe")
	check(t, "dst mac (postDestinationMacAddress)", r.DstMAC.String(), "af:fe:af:fe:af:fe")
	check(t, "vlan", r.SrcVLAN, 0)
	check(t, "post vlan", r.DstVLAN, 0)
	if r.Has&(HasSrcVLAN|HasDstVLAN|HasSrcMAC|HasDstMAC) != HasSrcVLAN|HasDstVLAN|HasSrcMAC|HasDstMAC {
		t.Errorf("Has = %#x lacks VLAN/MAC bits", r.Has)
	}
	if err := d.Decode(loopback, loadHex(t, "ipfix_ether_data_only_9flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 9 {
		t.Fatalf("got %d records, want 9", len(p.Records))
	}
	r = &p.Records[0]
	check(t, "ip version", r.IPVersion, 6)
	check(t, "proto", r.Proto, 17)
	check(t, "ports", [2]uint16{r.SrcPort, r.DstPort}, [2]uint16{53761, 53})
	check(t, "bytes", r.Bytes, 74)
}

func TestPythonIPFIXPadding(t *testing.T) {
	var d Decoder
	var p Packet
	if err := d.Decode(loopback, loadHex(t, "ipfix_padding_set_padding_3flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "length", p.Length, 448)
	check(t, "records", len(p.Records), 2)
	check(t, "options", len(p.Options), 1)
	o := &p.Options[0]
	check(t, "meteringProcessId", fieldUint(t, o, 0, 143), 45786)
	f, ok := o.Lookup(0, 82)
	if !ok {
		t.Fatal("no interfaceName")
	}
	check(t, "interfaceName", string(bytes.TrimRight(f.Value, "\x00")), "testcapture_sing")
	check(t, "systemInitTimeMilliseconds", o.SystemInitMs, 1692447120686)
	r := &p.Records[0]
	check(t, "icmp type", r.ICMPType, 8)
	check(t, "proto", r.Proto, 1)
	check(t, "flow end reason", r.FlowEndReason, 1)
	check(t, "bytes", r.Bytes, 252)
}
