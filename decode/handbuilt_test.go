package decode

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
)

// Hand-built packets for what exporters rarely send.

const exportSecs = 1700000000

func decodeOK(t *testing.T, d *Decoder, from netip.Addr, pkt []byte) *Packet {
	t.Helper()
	p := new(Packet)
	if err := d.Decode(from, pkt, p); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return p
}

func TestIPFIXWithdrawal(t *testing.T) {
	var d Decoder
	tmpl := set(2, ipfixTemplate(300, 0, fs{id: 8, length: 4}), ipfixTemplate(301, 0, fs{id: 12, length: 4}))
	opts := set(3, ipfixTemplate(400, 1, fs{id: 149, length: 4}, fs{id: 34, length: 4}))
	decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 7, tmpl, opts))
	check(t, "templates", d.NumTemplates(), 3)

	// Withdraw 300 only.
	p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 7, set(2, u16(300), u16(0))))
	check(t, "templates after withdrawing 300", d.NumTemplates(), 2)
	check(t, "packet.Templates", p.Templates, 1)
	err := d.Decode(loopback, ipfixPacket(exportSecs, 0, 7, set(300, u32(1))), p)
	if !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("data for a withdrawn template: %v, want ErrUnknownTemplate", err)
	}
	// Withdraw all data templates (id 2): the options template stays.
	decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 7, set(2, u16(2), u16(0))))
	check(t, "templates after withdraw-all", d.NumTemplates(), 1)
	if d.Template(loopback, 7, 400) == nil {
		t.Error("withdraw-all of data templates removed the options template")
	}
	// Withdraw all options templates (id 3).
	decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 7, set(3, u16(3), u16(0))))
	check(t, "templates after options withdraw-all", d.NumTemplates(), 0)
}

func TestIPFIXVariableLength(t *testing.T) {
	var d Decoder
	tmpl := set(2, ipfixTemplate(256, 0,
		fs{id: 82, length: VariableLength}, // interfaceName
		fs{id: 8, length: 4},
		fs{id: 94, length: VariableLength}, // applicationDescription
		fs{id: 1, length: 8},
	))
	long := bytes.Repeat([]byte("x"), 300)
	data := set(256,
		// 1-byte length form
		u8(4), []byte("eth0"), []byte{192, 0, 2, 1}, u8(0), u64(1000),
		// 3-byte length form (255, then a 16-bit length)
		u8(255), u16(3), []byte("lo0"), []byte{192, 0, 2, 2}, u8(255), u16(300), long, u64(2000),
	)
	p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, tmpl, data))
	if len(p.Records) != 2 {
		t.Fatalf("got %d records, want 2", len(p.Records))
	}
	check(t, "rec0 src", p.Records[0].SrcAddr, netip.MustParseAddr("192.0.2.1"))
	check(t, "rec0 bytes", p.Records[0].Bytes, 1000)
	check(t, "rec1 src", p.Records[1].SrcAddr, netip.MustParseAddr("192.0.2.2"))
	check(t, "rec1 bytes", p.Records[1].Bytes, 2000)
	f, _ := p.Records[1].Lookup(0, 82)
	check(t, "rec1 interfaceName", string(f.Value), "lo0")
	f, _ = p.Records[1].Lookup(0, 94)
	check(t, "rec1 description length", len(f.Value), 300)
	f, _ = p.Records[0].Lookup(0, 94)
	check(t, "rec0 empty description", len(f.Value), 0)

	// Fewer bytes than the shortest record are padding (the 200-byte
	// length is never read): no record, no error, nothing read out of
	// bounds.
	bad := set(256, u8(200), []byte("short"))
	p = new(Packet)
	if err := d.Decode(loopback, ipfixPacket(exportSecs, 0, 0, bad), p); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	check(t, "records from a short var-length record", len(p.Records), 0)
}

// A variable-length field whose length runs past the end of its set is
// reported (it used to end the set silently), with the set, template and
// offset; the records before it and the sets after it are kept.
func TestIPFIXVariableLengthPastSet(t *testing.T) {
	var d Decoder
	tmpl := set(2, ipfixTemplate(256, 0, fs{id: 8, length: 4}, fs{id: 82, length: VariableLength}))
	good := cat([]byte{192, 0, 2, 1}, u8(3), []byte("lo0"))
	pkt := ipfixPacket(exportSecs, 0, 0, tmpl,
		set(256, good, []byte{192, 0, 2, 2}, u8(50), []byte("eth0")), // second record claims 50 bytes, has 4
		set(256, good))
	var p Packet
	err := d.Decode(loopback, pkt, &p)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("Decode = %v, want ErrTruncated", err)
	}
	var de *DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("%T is not a *DecodeError", err)
	}
	badAt := 16 + len(tmpl) + 4 + len(good)
	check(t, "set", de.SetID, 256)
	check(t, "template", de.TemplateID, 256)
	check(t, "offset", de.Offset, badAt)
	check(t, "exporter", de.Exporter, loopback)
	check(t, "records kept", len(p.Records), 2)
	check(t, "record before", p.Records[0].Offset, badAt-len(good))
	check(t, "record of the next set", p.Records[1].SrcAddr, netip.MustParseAddr("192.0.2.1"))
}

func TestIPFIXReverseElements(t *testing.T) {
	var d Decoder
	tmpl := set(2, ipfixTemplate(256, 0,
		fs{id: 8, length: 4}, fs{id: 12, length: 4},
		fs{id: 1, length: 8}, fs{id: 1, length: 8, pen: 29305},
		fs{id: 2, length: 4}, fs{id: 2, length: 4, pen: 29305},
	))
	data := set(256, []byte{192, 0, 2, 1}, []byte{198, 51, 100, 1}, u64(1500), u64(90000), u32(10), u32(70))
	p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, tmpl, data))
	r := &p.Records[0]
	check(t, "bytes", r.Bytes, 1500)
	check(t, "rev bytes", r.RevBytes, 90000)
	check(t, "packets", r.Packets, 10)
	check(t, "rev packets", r.RevPackets, 70)
	f, ok := r.Lookup(29305, 1)
	if !ok {
		t.Fatal("no reverse field")
	}
	check(t, "reverse name", f.Element.Name, "reverseOctetDeltaCount")
	check(t, "reverse type", f.Element.Type, Unsigned64)
}

func TestTimeForms(t *testing.T) {
	const (
		startNs = int64(1700000000123456789)
		endNs   = int64(1700000060987654321)
	)
	ntp := func(ns int64) uint64 {
		sec := uint64(ns/1e9) + 2208988800
		frac := (uint64(ns%1e9)<<32 + 1e9 - 1) / 1e9 // round up so truncation gives ns back
		return sec<<32 | frac
	}
	cases := []struct {
		name             string
		fields           []fs
		values           []byte
		wantStart, wantE int64
	}{
		{"seconds 150/151", []fs{{id: 150, length: 4}, {id: 151, length: 4}},
			cat(u32(uint32(startNs/1e9)), u32(uint32(endNs/1e9))), startNs / 1e9 * 1e9, endNs / 1e9 * 1e9},
		{"milliseconds 152/153", []fs{{id: 152, length: 8}, {id: 153, length: 8}},
			cat(u64(uint64(startNs/1e6)), u64(uint64(endNs/1e6))), startNs / 1e6 * 1e6, endNs / 1e6 * 1e6},
		{"NTP microseconds 154/155", []fs{{id: 154, length: 8}, {id: 155, length: 8}},
			cat(u64(ntp(startNs)), u64(ntp(endNs))), startNs, endNs},
		{"NTP nanoseconds 156/157", []fs{{id: 156, length: 8}, {id: 157, length: 8}},
			cat(u64(ntp(startNs)), u64(ntp(endNs))), startNs, endNs},
		{"timeval 154/155 (pmacct, 16 bytes)", []fs{{id: 154, length: 16}, {id: 155, length: 16}},
			cat(u64(uint64(startNs/1e9)), u64(uint64(startNs%1e9/1e3)), u64(uint64(endNs/1e9)), u64(uint64(endNs%1e9/1e3))),
			startNs / 1e3 * 1e3, endNs / 1e3 * 1e3},
		{"delta microseconds 158/159", []fs{{id: 158, length: 4}, {id: 159, length: 4}},
			cat(u32(5000000), u32(1000)), exportSecs*1e9 - 5e9, exportSecs*1e9 - 1e6},
		{"start + duration ms 152/161", []fs{{id: 152, length: 8}, {id: 161, length: 4}},
			cat(u64(uint64(startNs/1e6)), u32(1500)), startNs / 1e6 * 1e6, startNs/1e6*1e6 + 1500e6},
		{"sysUptime 22/21 with 160 in the record", []fs{{id: 160, length: 8}, {id: 22, length: 4}, {id: 21, length: 4}},
			cat(u64(1699999000000), u32(1000), u32(2000)), 1699999001000 * 1e6, 1699999002000 * 1e6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Decoder
			p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0,
				set(2, ipfixTemplate(256, 0, c.fields...)), set(256, c.values)))
			r := &p.Records[0]
			if r.Has&(HasStart|HasEnd) != HasStart|HasEnd {
				t.Fatalf("Has = %#x, want start and end", r.Has)
			}
			check(t, "start", r.Start, c.wantStart)
			check(t, "end", r.End, c.wantE)
		})
	}
	// IPFIX sysUptime without any system init time cannot be made
	// absolute: the normalized times are dropped, the raw fields stay.
	var d Decoder
	p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0,
		set(2, ipfixTemplate(256, 0, fs{id: 22, length: 4}, fs{id: 21, length: 4})), set(256, u32(1), u32(2))))
	if p.Records[0].Has&(HasStart|HasEnd) != 0 {
		t.Errorf("uptime times without init time: Has = %#x, want no start/end", p.Records[0].Has)
	}
	check(t, "raw flowStartSysUpTime", fieldUint(t, &p.Records[0], 0, 22), 1)
}

func TestReducedSizeEncoding(t *testing.T) {
	for _, l := range []uint16{1, 2, 3, 4, 5, 6, 7, 8} {
		var d Decoder
		v := uint64(0x0102030405060708) >> (64 - 8*uint(l))
		val := u64(v)[8-l:]
		p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0,
			set(2, ipfixTemplate(256, 0, fs{id: 1, length: l}, fs{id: 10, length: min(l, 4)})),
			set(256, val, val[:min(l, 4)])))
		check(t, "bytes from "+string(rune('0'+l))+" bytes", p.Records[0].Bytes, v)
		check(t, "in_if", uint64(p.Records[0].InIf), v>>(8*uint(l-min(l, 4))))
	}
	// A field longer than its normalized type is kept raw, not truncated.
	var d Decoder
	p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0,
		set(2, ipfixTemplate(256, 0, fs{id: 7, length: 4})), set(256, u32(0x10050))))
	if p.Records[0].Has&HasSrcPort != 0 {
		t.Error("a 4-byte port was normalized into a 16-bit field")
	}
	check(t, "raw 4-byte port", fieldUint(t, &p.Records[0], 0, 7), 0x10050)
}

func TestZeroLengthFields(t *testing.T) {
	var d Decoder
	p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0,
		set(2, ipfixTemplate(256, 0, fs{id: 8, length: 4}, fs{id: 82, length: 0}, fs{id: 1, length: 4})),
		set(256, []byte{192, 0, 2, 9}, u32(77))))
	check(t, "src", p.Records[0].SrcAddr, netip.MustParseAddr("192.0.2.9"))
	check(t, "bytes", p.Records[0].Bytes, 77)

	// A template whose records are all zero-length is rejected: it would
	// make a data set an endless run of empty records.
	for _, version := range []uint16{9, 10} {
		var pkt []byte
		if version == 9 {
			pkt = v9Packet(1, exportSecs, 0, 0, 2, set(0, v9Template(256, fs{id: 1, length: 0})), set(256, u32(0)))
		} else {
			pkt = ipfixPacket(exportSecs, 0, 0, set(2, ipfixTemplate(256, 0, fs{id: 1, length: 0}, fs{id: 2, length: 0})), set(256, u32(0)))
		}
		err := d.Decode(exporter2, pkt, p)
		if !errors.Is(err, ErrTemplate) {
			t.Errorf("v%d all-zero-length template: %v, want ErrTemplate", version, err)
		}
	}
}

func TestMalformedSets(t *testing.T) {
	tmpl := set(2, ipfixTemplate(256, 0, fs{id: 8, length: 4}, fs{id: 1, length: 4}))
	rec := cat([]byte{192, 0, 2, 1}, u32(5))
	cases := []struct {
		name    string
		pkt     []byte
		want    error
		records int
	}{
		{"set length past the end keeps whole records", func() []byte {
			p := ipfixPacket(exportSecs, 0, 0, tmpl, set(256, rec, rec, rec))
			return p[:len(p)-4] // cut into the third record, message length still claims it
		}(), ErrTruncated, 2},
		{"set length below 4", ipfixPacket(exportSecs, 0, 0, tmpl, cat(u16(256), u16(2)), rec), ErrLength, 0},
		{"set length 0", ipfixPacket(exportSecs, 0, 0, tmpl, cat(u16(256), u16(0))), ErrLength, 0},
		{"message length below header", func() []byte {
			p := ipfixPacket(exportSecs, 0, 0, tmpl)
			be.PutUint16(p[2:], 8)
			return p
		}(), ErrLength, 0},
		{"truncated header", ipfixPacket(exportSecs, 0, 0)[:10], ErrTruncated, 0},
		{"template field count past the set", ipfixPacket(exportSecs, 0, 0, set(2, u16(256), u16(65535), u16(8), u16(4))), ErrLimit, 0},
		{"template field count past the set, within limits", ipfixPacket(exportSecs, 0, 0, set(2, u16(256), u16(500), u16(8), u16(4))), ErrTemplate, 0},
		{"template id below 256", ipfixPacket(exportSecs, 0, 0, set(2, ipfixTemplate(255, 0, fs{id: 8, length: 4}))), ErrTemplate, 0},
		{"options template with scope count 0", ipfixPacket(exportSecs, 0, 0, set(3, u16(256), u16(1), u16(0), u16(8), u16(4))), ErrTemplate, 0},
		{"options template with scope count above field count", ipfixPacket(exportSecs, 0, 0, set(3, u16(256), u16(1), u16(2), u16(8), u16(4))), ErrTemplate, 0},
		{"v9 template with zero fields", v9Packet(1, exportSecs, 0, 0, 1, set(0, u16(256), u16(0), u32(0))), ErrTemplate, 0},
		{"v9 options template with odd scope length", v9Packet(1, exportSecs, 0, 0, 1, set(1, u16(256), u16(3), u16(4), u32(0), u32(0))), ErrTemplate, 0},
		{"v9 truncated header", v9Packet(1, exportSecs, 0, 0, 0)[:12], ErrTruncated, 0},
		{"empty packet", nil, ErrTruncated, 0},
		{"version 8", cat(u16(8), make([]byte, 30)), ErrVersion, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d Decoder
			var p Packet
			err := d.Decode(exporter2, c.pkt, &p)
			if !errors.Is(err, c.want) {
				t.Fatalf("Decode = %v, want %v", err, c.want)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Exporter != exporter2 {
				t.Errorf("error %q does not name the exporter", err)
			}
			check(t, "records", len(p.Records), c.records)
		})
	}
}

func TestHugeFieldCountAllocatesNothingBig(t *testing.T) {
	var d Decoder
	var p Packet
	pkt := ipfixPacket(exportSecs, 0, 0, set(2, u16(256), u16(65535)))
	n := testing.AllocsPerRun(10, func() { _ = d.Decode(loopback, pkt, &p) })
	if n > 2 {
		t.Errorf("%v allocations for a 65535-field template claim", n)
	}
}

func TestTemplatesPerExporterAndDomain(t *testing.T) {
	var d Decoder
	// Same template id, different layouts, from two exporters and two
	// domains of one exporter: none overwrites another (the Python
	// library keys templates by id alone).
	a := ipfixPacket(exportSecs, 0, 1, set(2, ipfixTemplate(256, 0, fs{id: 1, length: 4})), set(256, u32(111)))
	b := ipfixPacket(exportSecs, 0, 1, set(2, ipfixTemplate(256, 0, fs{id: 2, length: 4})), set(256, u32(222)))
	c := ipfixPacket(exportSecs, 0, 2, set(2, ipfixTemplate(256, 0, fs{id: 7, length: 2})), set(256, u16(333)))
	decodeOK(t, &d, loopback, a)
	decodeOK(t, &d, exporter2, b)
	decodeOK(t, &d, loopback, c)
	pa := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 1, set(256, u32(1))))
	pb := decodeOK(t, &d, exporter2, ipfixPacket(exportSecs, 0, 1, set(256, u32(2))))
	pc := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 2, set(256, u16(3))))
	check(t, "exporter 1 domain 1 bytes", pa.Records[0].Bytes, 1)
	check(t, "exporter 2 domain 1 packets", pb.Records[0].Packets, 2)
	check(t, "exporter 1 domain 2 port", pc.Records[0].SrcPort, 3)
	check(t, "templates", d.NumTemplates(), 3)

	// Redefinition with the same key replaces.
	decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 1, set(2, ipfixTemplate(256, 0, fs{id: 11, length: 2}))))
	pa = decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 1, set(256, u16(443))))
	check(t, "after redefinition", pa.Records[0].DstPort, 443)
	check(t, "templates after redefinition", d.NumTemplates(), 3)
}

func TestUnknownAndVendorFields(t *testing.T) {
	var d Decoder
	tmpl := set(2, ipfixTemplate(256, 0,
		fs{id: 1, length: 4, pen: 99999},     // unknown enterprise element with IANA id 1
		fs{id: 12345, length: 2},             // unassigned IANA id
		fs{id: 1, length: 4},                 // the real octetDeltaCount
		fs{id: 4315, length: 4, pen: 9},      // Cisco element
		fs{id: 1, length: 4, pen: 29305 + 1}, // another PEN, same id
	))
	data := set(256, u32(0xAAAA), u16(0xBBBB), u32(42), u32(7), u32(0xCCCC))
	p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, tmpl, data))
	r := &p.Records[0]
	check(t, "bytes (only from IANA 1)", r.Bytes, 42)
	var names []string
	for f := range r.Fields() {
		names = append(names, f.Element.Name)
	}
	want := []string{"pen99999_1", "field_12345", "octetDeltaCount", "tcpWindowSizeMin", "pen29306_1"}
	for i := range want {
		if i >= len(names) || names[i] != want[i] {
			t.Fatalf("field names = %q, want %q", names, want)
		}
	}
	f, _ := r.Lookup(99999, 1)
	check(t, "unknown PEN raw", hex.EncodeToString(f.Value), "0000aaaa")
	check(t, "unknown PEN kept its PEN", f.PEN, 99999)
	f, _ = r.Lookup(29306, 1)
	check(t, "other PEN raw", bytes.Equal(f.Value, u32(0xCCCC)), true)
}

func TestV9InAndOutCounters(t *testing.T) {
	var d Decoder
	tmpl := set(0, v9Template(256, fs{id: 1, length: 8}, fs{id: 2, length: 8}, fs{id: 23, length: 8}, fs{id: 24, length: 8}, fs{id: 56, length: 6}, fs{id: 80, length: 6}))
	data := set(256, u64(1000), u64(10), u64(2000), u64(20), []byte{0, 1, 2, 3, 4, 5}, []byte{6, 7, 8, 9, 10, 11})
	p := decodeOK(t, &d, loopback, v9Packet(1000, exportSecs, 5, 0, 2, tmpl, data))
	r := &p.Records[0]
	check(t, "in bytes", r.Bytes, 1000)
	check(t, "in packets", r.Packets, 10)
	check(t, "out bytes", r.OutBytes, 2000)
	check(t, "out packets", r.OutPackets, 20)
	check(t, "src mac", r.SrcMAC.String(), "00:01:02:03:04:05")
	check(t, "dst mac", r.DstMAC.String(), "06:07:08:09:0a:0b")
	names := ""
	for f := range r.Fields() {
		names += f.Element.Name + " "
	}
	check(t, "v9 names", names, "IN_BYTES IN_PKTS OUT_BYTES OUT_PKTS IN_SRC_MAC IN_DST_MAC ")
}

func TestV9SamplingOptions(t *testing.T) {
	var d Decoder
	// Options template: scope System (type 1!), FLOW_SAMPLER_ID 48,
	// FLOW_SAMPLER_MODE 49, FLOW_SAMPLER_RANDOM_INTERVAL 50 (pmacct).
	opts := set(1, v9OptionsTemplate(257, []fs{{id: 1, length: 4}}, []fs{{id: 48, length: 1}, {id: 49, length: 1}, {id: 50, length: 4}}), u16(0))
	odata := set(257, u32(0xFFFFFFFF), u8(3), u8(2), u32(100), u16(0))
	tmpl := set(0, v9Template(256, fs{id: 1, length: 4}, fs{id: 48, length: 1}))
	data := set(256, u32(500), u8(3), u32(600), u8(9))
	p := decodeOK(t, &d, loopback, v9Packet(1, exportSecs, 1, 0, 4, opts, tmpl, odata, data))
	check(t, "options records", len(p.Options), 1)
	o := &p.Options[0]
	if o.Has&HasBytes != 0 {
		t.Error("the System scope field (type 1) was read as IN_BYTES")
	}
	check(t, "scope name", o.Template().Fields()[0].Element.Name, "scopeSystem")
	check(t, "sampler id", o.SamplerID, 3)
	check(t, "sampling interval", o.SamplingInterval, 100)
	check(t, "rate of sampler 3", p.Records[0].SamplingRate, 100)
	check(t, "rate of unknown sampler 9", p.Records[1].SamplingRate, 0)
	check(t, "decoder rate", d.SamplingRate(loopback, 0, 3), 100)
}

func TestIPFIXSamplingOptions(t *testing.T) {
	var d Decoder
	opts := set(3, ipfixTemplate(300, 1, fs{id: 302, length: 4}, fs{id: 305, length: 4}, fs{id: 306, length: 4}))
	odata := set(300, u32(1), u32(1), u32(99))
	tmpl := set(2, ipfixTemplate(256, 0, fs{id: 1, length: 4}, fs{id: 302, length: 4}), ipfixTemplate(257, 0, fs{id: 1, length: 4}))
	data := set(256, u32(500), u32(1))
	// A second packet: sampled by the domain's only announced selector
	// without a selector id in the record.
	p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, opts, odata, tmpl, data))
	check(t, "rate (1 selected, 99 skipped)", p.Records[0].SamplingRate, 100)

	opts2 := set(3, ipfixTemplate(301, 1, fs{id: 149, length: 4}, fs{id: 34, length: 4}))
	p = decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, opts2, set(301, u32(0), u32(1000)), set(257, u32(1))))
	check(t, "domain default rate from samplingInterval", p.Records[0].SamplingRate, 1000)
}

// Full budgets evict the least recently used state; only a template larger
// than a budget is refused.
func TestLimits(t *testing.T) {
	d := Decoder{Limits: Limits{MaxTemplates: 2, MaxExporters: 1, MaxFields: 4, MaxExporterFields: 3}}
	var p Packet
	one := func(id uint16) []byte { return ipfixTemplate(id, 0, fs{id: 1, length: 4}) }
	tmpls := set(2, one(256), one(257), one(258))
	if err := d.Decode(loopback, ipfixPacket(exportSecs, 0, 0, tmpls), &p); err != nil {
		t.Errorf("third template: %v", err)
	}
	check(t, "templates kept", d.NumTemplates(), 2)
	if d.Template(loopback, 0, 256) != nil || d.Template(loopback, 0, 258) == nil {
		t.Error("the third template did not replace the least recently used one")
	}
	check(t, "evicted by MaxTemplates", d.Stats().TemplatesEvictedMaxTemplates, 1)
	if err := d.Decode(exporter2, ipfixPacket(exportSecs, 0, 0, set(2, one(256))), &p); err != nil {
		t.Errorf("second exporter: %v", err)
	}
	check(t, "first exporter evicted", d.TemplatesOf(loopback), 0)
	check(t, "second exporter's template", d.TemplatesOf(exporter2), 1)
	check(t, "evicted exporters", d.Stats().EvictedExporters, 1)
	fields := []fs{{id: 1, length: 1}, {id: 2, length: 1}, {id: 3, length: 1}, {id: 4, length: 1}, {id: 5, length: 1}}
	if err := d.Decode(exporter2, ipfixPacket(exportSecs, 0, 0, set(2, ipfixTemplate(257, 0, fields...))), &p); !errors.Is(err, ErrLimit) {
		t.Errorf("5-field template with MaxFields 4: %v, want ErrLimit", err)
	}
	if err := d.Decode(exporter2, ipfixPacket(exportSecs, 0, 0, set(2, ipfixTemplate(257, 0, fields[:4]...))), &p); !errors.Is(err, ErrLimit) {
		t.Errorf("4-field template with MaxExporterFields 3: %v, want ErrLimit", err)
	}
	check(t, "templates after refusals", d.TemplatesOf(exporter2), 1)
}

func TestV5TruncatedKeepsWholeRecords(t *testing.T) {
	pkt := loadHex(t, "v5_icmp_ping_multicast_3flows.hex")[0]
	var p Packet
	err := DecodeV5(pkt[:24+48*2+10], &p)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("DecodeV5 = %v, want ErrTruncated", err)
	}
	check(t, "records", len(p.Records), 2)
	if err := DecodeV5(loadHex(t, "v1_icmp_ping_2flows.hex")[0], &p); !errors.Is(err, ErrVersion) {
		t.Errorf("DecodeV5 of a v1 packet = %v, want ErrVersion", err)
	}
}

// The normalized fields are copies: changing the packet afterwards does not
// change them.
func TestRecordDoesNotRetainInput(t *testing.T) {
	var d Decoder
	pkt := loadHex(t, "v9_template_2templates_8flows.hex")[0]
	var p Packet
	if err := d.Decode(loopback, pkt, &p); err != nil {
		t.Fatal(err)
	}
	before := p.Records[0].Flow
	for i := range pkt {
		pkt[i] = 0xEE
	}
	if p.Records[0].Flow != before {
		t.Error("normalized fields changed with the input buffer")
	}
}

func TestV7(t *testing.T) {
	hdr := cat(u16(7), u16(1), u32(10000), u32(exportSecs), u32(0), u32(42), u32(0))
	rec := cat([]byte{192, 0, 2, 1}, []byte{198, 51, 100, 2}, []byte{203, 0, 113, 1}, u16(1), u16(2), u32(3), u32(400),
		u32(5000), u32(9000), u16(1234), u16(80), u8(0), u8(0x12), u8(6), u8(0), u16(64500), u16(64501), u8(24), u8(16),
		u16(0x0003), []byte{203, 0, 113, 254})
	var p Packet
	if err := DecodeV7(cat(hdr, rec), &p); err != nil {
		t.Fatal(err)
	}
	r := &p.Records[0]
	check(t, "sequence", p.Sequence, 42)
	check(t, "src", r.SrcAddr, netip.MustParseAddr("192.0.2.1"))
	check(t, "bytes", r.Bytes, 400)
	check(t, "dst port", r.DstPort, 80)
	check(t, "dst as", r.DstAS, 64501)
	check(t, "dst mask", r.DstMask, 16)
	check(t, "start", r.Start, exportSecs*1e9-5000*1e6)
	f, _ := r.Lookup(PENV7, 2)
	a, _ := f.Addr()
	check(t, "router shortcut", a.String(), "203.0.113.254")
}

func TestStateRoundTrip(t *testing.T) {
	var d Decoder
	var p Packet
	if err := d.Decode(loopback, loadHex(t, "ipfix_templates_5_plus_20flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(exporter2, loadHex(t, "v9_template_2templates_8flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	// A v9 sampler announcement too.
	opts := set(1, v9OptionsTemplate(257, []fs{{id: 1, length: 4}}, []fs{{id: 48, length: 1}, {id: 50, length: 4}}), u16(0))
	if err := d.Decode(exporter2, v9Packet(1, exportSecs, 2, 0, 2, opts, set(257, u32(0), u8(5), u32(64), u16(0))), &p); err != nil {
		t.Fatal(err)
	}
	state, err := d.MarshalState()
	if err != nil {
		t.Fatal(err)
	}
	var d2 Decoder
	if err := d2.UnmarshalState(state); err != nil {
		t.Fatal(err)
	}
	check(t, "templates restored", d2.NumTemplates(), d.NumTemplates())
	check(t, "sampler restored", d2.SamplingRate(exporter2, 0, 5), 64)
	again, _ := d2.MarshalState()
	check(t, "stable state", string(again), string(state))
	// Data right after the "restart" decodes, including IPFIX uptime
	// times that need the restored system init time.
	if err := d2.Decode(loopback, loadHex(t, "ipfix_data_only_2sets_3flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "records", len(p.Records), 3)
	if p.Records[0].Has&HasStart == 0 {
		t.Error("restored decoder lost the system init time")
	}
	if err := d2.Decode(exporter2, loadHex(t, "v9_data_only_3pkts_12flows_each.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "v9 records", len(p.Records), 12)
	// Corrupt entries are reported, valid ones kept.
	var d3 Decoder
	bad := []byte(`{"format":1,"templates":[{"exporter":"192.0.2.1","version":10,"domain":0,"id":256,"def":"01000001"},
		{"exporter":"192.0.2.1","version":10,"domain":0,"id":257,"def":"010100010008000400"}]}`)
	if err := d3.UnmarshalState(bad); !errors.Is(err, ErrTemplate) {
		t.Errorf("UnmarshalState(bad) = %v, want ErrTemplate", err)
	}
}

// A template of 1-byte records cannot make one datagram cost unbounded
// memory: records past Limits.MaxRecords are refused with ErrLimit.
func TestRecordLimit(t *testing.T) {
	d := Decoder{Limits: Limits{MaxRecords: 100}}
	var p Packet
	pkt := ipfixPacket(exportSecs, 0, 0, set(2, ipfixTemplate(256, 0, fs{id: 4, length: 1})), set(256, make([]byte, 1000)))
	err := d.Decode(loopback, pkt, &p)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("Decode = %v, want ErrLimit", err)
	}
	check(t, "records kept", len(p.Records), 100)
	var d2 Decoder // default limit
	if err := d2.Decode(loopback, ipfixPacket(exportSecs, 0, 0, set(2, ipfixTemplate(256, 0, fs{id: 4, length: 1})), set(256, make([]byte, 60000))), &p); !errors.Is(err, ErrLimit) {
		t.Fatalf("default limit: %v", err)
	}
	check(t, "default limit", len(p.Records), 8192)
	// Records with a variable-length field (interfaceName, 82) count
	// against the limit too.
	rec := cat(u8(3), []byte("lo0"))
	var recs []byte
	for range 300 {
		recs = append(recs, rec...)
	}
	vd := Decoder{Limits: Limits{MaxRecords: 100}}
	err = vd.Decode(loopback, ipfixPacket(exportSecs, 0, 0, set(2, ipfixTemplate(256, 0, fs{id: 82, length: VariableLength})), set(256, recs)), &p)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("variable-length records: Decode = %v, want ErrLimit", err)
	}
	check(t, "variable-length records kept", len(p.Records), 100)
}

// A data set is read with the template in force where it stands in the
// packet: a redefinition later in the same packet applies to the data sets
// after it, and data before its template's first definition still decodes,
// with every record in packet order.
func TestTemplateInForceWhereDataStands(t *testing.T) {
	ex := netip.MustParseAddr("192.0.2.1")
	var d Decoder
	var p Packet
	old := set(2, ipfixTemplate(256, 0, fs{id: 2, length: 4}))   // packetDeltaCount
	redef := set(2, ipfixTemplate(256, 0, fs{id: 1, length: 4})) // octetDeltaCount
	late := set(2, ipfixTemplate(257, 0, fs{id: 1, length: 4}))  // defined after its data
	pkt := ipfixPacket(1700000000, 1, 0,
		set(257, u32(5)), // waits for its template below
		old, set(256, u32(7)), redef, set(256, u32(9)), late)
	if err := d.Decode(ex, pkt, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 3 {
		t.Fatalf("%d records, want 3", len(p.Records))
	}
	// Packet order: the 257 record first, decoded once its template came.
	r0, r1, r2 := &p.Records[0], &p.Records[1], &p.Records[2]
	if r0.TemplateID != 257 || r0.Bytes != 5 {
		t.Errorf("first record: template %d, bytes %d; want 257, 5", r0.TemplateID, r0.Bytes)
	}
	if r1.TemplateID != 256 || r1.Packets != 7 || r1.Has&HasBytes != 0 {
		t.Errorf("second record: template %d, packets %d, has bytes %v; want 256, packets 7 (the first definition)", r1.TemplateID, r1.Packets, r1.Has&HasBytes != 0)
	}
	if r2.TemplateID != 256 || r2.Bytes != 9 || r2.Has&HasPackets != 0 {
		t.Errorf("third record: template %d, bytes %d, has packets %v; want 256, bytes 9 (the redefinition)", r2.TemplateID, r2.Bytes, r2.Has&HasPackets != 0)
	}
	if !(r0.Offset < r1.Offset && r1.Offset < r2.Offset) {
		t.Errorf("records out of packet order: offsets %d, %d, %d", r0.Offset, r1.Offset, r2.Offset)
	}
}

// The EtherType of a template with an IP version field and no EtherType
// field is derived from each record's IP version by whichever reader reads
// it (class readers and steps, a set of variable-length records, a set cut
// by the record limit), and a record of another version in a slot that
// held an IPv4 record keeps none; an EtherType field of the template wins.
func TestEtherTypeFromVersion(t *testing.T) {
	key := []fs{{id: 8, length: 4}, {id: 12, length: 4}, {id: 7, length: 2}, {id: 11, length: 2}, {id: 4, length: 1}, {id: 60, length: 1}, {id: 1, length: 4}}
	rec := func(version uint8) []byte {
		return cat([]byte{192, 0, 2, 1}, []byte{192, 0, 2, 2}, u16(1), u16(2), u8(6), u8(version), u32(100))
	}
	cases := []struct {
		name   string
		fields []fs
		rec    func(version uint8) []byte
		limit  int
		want   func(version uint8) (uint16, bool)
	}{
		{"classes and steps", key, rec, 0, nil},
		{"variable-length records", append(append([]fs(nil), key...), fs{id: 82, length: VariableLength}),
			func(v uint8) []byte { return cat(rec(v), u8(3), []byte("lo0")) }, 0, nil},
		{"a set cut by the record limit", key, rec, 2, nil},
		{"an EtherType field", append(append([]fs(nil), key...), fs{id: 256, length: 2}),
			func(v uint8) []byte { return cat(rec(v), u16(0x8847)) }, 0,
			func(uint8) (uint16, bool) { return 0x8847, true }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decoder{Limits: Limits{MaxRecords: c.limit}}
			var p Packet
			tmpl := set(2, ipfixTemplate(256, 0, c.fields...))
			for _, v := range []uint8{4, 6, 0, 4} {
				pkt := ipfixPacket(exportSecs, 0, 0, tmpl, set(256, c.rec(v), c.rec(v), c.rec(v)))
				err := d.Decode(loopback, pkt, &p)
				if c.limit == 0 && err != nil || c.limit != 0 && !errors.Is(err, ErrLimit) {
					t.Fatalf("version %d: %v", v, err)
				}
				wantType, wantHas := map[uint8]uint16{4: 0x0800, 6: 0x86DD}[v], v == 4 || v == 6
				if c.want != nil {
					wantType, wantHas = c.want(v)
				}
				for i := range p.Records {
					r := &p.Records[i]
					if r.EtherType != wantType || (r.Has&HasEtherType != 0) != wantHas {
						t.Fatalf("version %d, record %d: EtherType %#x (has %v), want %#x (%v)", v, i, r.EtherType, r.Has&HasEtherType != 0, wantType, wantHas)
					}
				}
			}
		})
	}
}

// Records of a template that finish has nothing else to do for (absolute
// times, EtherType from the IP version) get the rate the exporter announced
// as they are read; options data later in the same packet still set the
// rate of the records before them.
func TestSamplingRateOfQuietTemplates(t *testing.T) {
	var d Decoder
	tmpl := set(2, ipfixTemplate(256, 0, fs{id: 8, length: 4}, fs{id: 60, length: 1}, fs{id: 1, length: 4}, fs{id: 152, length: 8}))
	opts := set(3, ipfixTemplate(301, 1, fs{id: 149, length: 4}, fs{id: 34, length: 4}))
	rate := func(n uint32) []byte { return set(301, u32(0), u32(n)) }
	data := set(256, cat([]byte{192, 0, 2, 1}, u8(4), u32(10), u64(1700000000000)), cat([]byte{192, 0, 2, 2}, u8(4), u32(20), u64(1700000000000)))
	if tm := func() *Template {
		decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, tmpl))
		return d.Template(loopback, 0, 256)
	}(); tm == nil || !tm.quiet {
		t.Fatal("the test template is not quiet")
	}
	for _, c := range []struct {
		name string
		sets [][]byte
		want uint64
	}{
		{"no rate announced", [][]byte{data}, 0},
		{"rate before the data", [][]byte{opts, rate(1000), data}, 1000},
		{"data only", [][]byte{data}, 1000},
		{"rate after the data", [][]byte{data, rate(500)}, 500},
		{"data only again", [][]byte{data, data}, 500},
	} {
		p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, c.sets...))
		for i := range p.Records {
			if r := &p.Records[i]; r.SamplingRate != c.want || r.EtherType != 0x0800 || r.Start != 1700000000000*1e6 {
				t.Errorf("%s: record %d: rate %d, EtherType %#x, start %d; want %d, 0x800, %d", c.name, i, r.SamplingRate, r.EtherType, r.Start, c.want, int64(1700000000000*1e6))
			}
		}
	}
	// Records with a selector id (302) take their selector's rate, else
	// the domain's (500 above).
	stmpl := set(2, ipfixTemplate(257, 0, fs{id: 8, length: 4}, fs{id: 60, length: 1}, fs{id: 302, length: 4}))
	sopts := set(3, ipfixTemplate(300, 1, fs{id: 302, length: 4}, fs{id: 305, length: 4}, fs{id: 306, length: 4}))
	sdata := set(257, cat([]byte{192, 0, 2, 1}, u8(4), u32(1)), cat([]byte{192, 0, 2, 2}, u8(4), u32(7)))
	decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, stmpl, sopts, set(300, u32(1), u32(1), u32(99))))
	if tm := d.Template(loopback, 0, 257); tm == nil || !tm.quiet {
		t.Fatal("the selector template is not quiet")
	}
	for _, sets := range [][][]byte{{sdata}, {sdata, sdata}} {
		p := decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, sets...))
		for i := range p.Records {
			want := []uint64{100, 500}[i%2]
			if r := &p.Records[i]; r.SamplingRate != want {
				t.Errorf("selector %d: rate %d, want %d", r.SamplerID, r.SamplingRate, want)
			}
		}
	}
}

// NetFlow v9 sysUptime times are made absolute from the header by every
// reader of a data set (the set loop and, for a set the record limit cuts,
// the record-by-record loop), with sysUptime wrap-around.
func TestV9UptimeEveryPath(t *testing.T) {
	const uptime, export = 5000, 1700000000 // the header's sysUptime (ms) and export time (s)
	tmpl := set(0, v9Template(256, fs{id: 1, length: 4}, fs{id: 22, length: 4}, fs{id: 21, length: 4}))
	rec := func(first, last uint32) []byte { return cat(u32(100), u32(first), u32(last)) }
	// 1 s before the export; and a start before a sysUptime wrap.
	recs := [][]byte{rec(4000, 4500), rec(1<<32-1000, 4000), rec(0, 5000)}
	want := [][2]int64{{export*1e9 - 1e9, export*1e9 - 500e6}, {export*1e9 - 6e9, export*1e9 - 1e9}, {export*1e9 - 5e9, export * 1e9}}
	for _, limit := range []int{0, 2} {
		d := Decoder{Limits: Limits{MaxRecords: limit}}
		var p Packet
		err := d.Decode(loopback, v9Packet(uptime, export, 1, 0, 2, tmpl, set(256, recs...)), &p)
		if limit == 0 && err != nil || limit != 0 && !errors.Is(err, ErrLimit) {
			t.Fatalf("limit %d: %v", limit, err)
		}
		for i := range p.Records {
			if r := &p.Records[i]; r.Start != want[i][0] || r.End != want[i][1] {
				t.Errorf("limit %d, record %d: start %d, end %d; want %d, %d", limit, i, r.Start, r.End, want[i][0], want[i][1])
			}
		}
	}
}

// A template with IPv6 addresses and neither an IP version nor an
// EtherType field gives every record EtherType IPv6, read by the set loop
// or record by record (a set cut by the record limit).
func TestEtherTypeOfAddressTemplate(t *testing.T) {
	tmpl := set(2, ipfixTemplate(256, 0, fs{id: 27, length: 16}, fs{id: 1, length: 4}, fs{id: 152, length: 8}))
	rec := cat(netip.MustParseAddr("2001:db8::1").AsSlice(), u32(5), u64(1700000000000))
	for _, limit := range []int{0, 2} {
		d := Decoder{Limits: Limits{MaxRecords: limit}}
		var p Packet
		for range 2 {
			err := d.Decode(loopback, ipfixPacket(exportSecs, 0, 0, tmpl, set(256, rec, rec, rec)), &p)
			if limit == 0 && err != nil || limit != 0 && !errors.Is(err, ErrLimit) {
				t.Fatalf("limit %d: %v", limit, err)
			}
			for i := range p.Records {
				if r := &p.Records[i]; r.EtherType != 0x86DD || r.Has&HasEtherType == 0 {
					t.Errorf("limit %d, record %d: EtherType %#x, has %v", limit, i, r.EtherType, r.Has&HasEtherType != 0)
				}
			}
		}
	}
}

// A template set that re-sends known templates and then defines a bad one
// keeps the re-sent ones, counts them, learns a good one after them, and
// reports the bad record at its own offset, with its template ID.
func TestResentThenBadTemplate(t *testing.T) {
	var d Decoder
	a := ipfixTemplate(256, 0, fs{id: 8, length: 4}, fs{id: 12, length: 4})
	b := ipfixTemplate(257, 0, fs{id: 8, length: 4})
	decodeOK(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, set(2, a, b)))
	t258 := ipfixTemplate(258, 0, fs{id: 12, length: 4})
	bad := ipfixTemplate(255, 0, fs{id: 8, length: 4}) // IDs below 256 are reserved
	for _, c := range []struct {
		body []byte
		good int
	}{{cat(a, b, bad), 2}, {cat(a, b, t258, bad), 3}} {
		body := c.body
		var p Packet
		err := d.Decode(loopback, ipfixPacket(exportSecs, 0, 0, set(2, body)), &p)
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, ErrTemplate) {
			t.Fatalf("Decode = %v, want ErrTemplate", err)
		}
		if want := ipfixHeaderLen + setHeaderLen + len(body) - len(bad); de.Offset != want || de.TemplateID != 255 {
			t.Errorf("error at offset %d template %d, want %d and 255", de.Offset, de.TemplateID, want)
		}
		if p.Templates != c.good {
			t.Errorf("%d templates counted, want %d", p.Templates, c.good)
		}
	}
	if d.Template(loopback, 0, 258) == nil || d.Template(loopback, 0, 256) == nil {
		t.Error("a template of the set is missing")
	}
}
