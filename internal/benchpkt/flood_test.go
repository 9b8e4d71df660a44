package benchpkt_test

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/benchpkt"
)

var exporter = netip.MustParseAddr("127.1.0.1")

func TestTemplatePacket(t *testing.T) {
	for _, version := range []uint16{9, 10} {
		fields := benchpkt.V9Fields
		if version == 10 {
			fields = benchpkt.IPFIXFields
		}
		var d decode.Decoder
		var pkt decode.Packet
		const domain, first, n = 77, 300, 5
		b := benchpkt.AppendTemplatePacket(nil, version, domain, 1, first, n, fields)
		if err := d.Decode(exporter, b, &pkt); err != nil {
			t.Fatalf("v%d: got Decode = %v, want nil", version, err)
		}
		if pkt.Templates != n || pkt.Domain != domain {
			t.Errorf("v%d: got %d templates in domain %d, want %d in %d", version, pkt.Templates, pkt.Domain, n, domain)
		}
		for id := uint16(first); id < first+n; id++ {
			if d.Template(exporter, domain, id) == nil {
				t.Errorf("v%d: template %d not learned", version, id)
			}
		}
		// Data for one of them decodes.
		rec := make([]byte, 55)
		if version == 10 {
			rec = make([]byte, 63)
		}
		b = benchpkt.AppendDataPacket(nil, version, domain, 2, first+2, 3, rec)
		if err := d.Decode(exporter, b, &pkt); err != nil || len(pkt.Records) != 3 {
			t.Errorf("v%d: got data Decode = %d records, %v, want 3, nil", version, len(pkt.Records), err)
		}
	}
}

func TestTemplatesFit(t *testing.T) {
	for _, version := range []uint16{9, 10} {
		for _, fields := range [][]benchpkt.Field{benchpkt.TinyFields, benchpkt.V9Fields, make([]benchpkt.Field, 1024)} {
			for i := range fields {
				if fields[i].Len == 0 {
					fields[i] = benchpkt.Field{ID: uint16(1 + i%100), Len: 4}
				}
			}
			n := benchpkt.TemplatesFit(version, fields, benchpkt.MaxDatagram)
			b := benchpkt.AppendTemplatePacket(nil, version, 1, 1, 256, n, fields)
			next := len(b) + 4 + 4*len(fields)
			if n < 1 || len(b) > benchpkt.MaxDatagram || next <= benchpkt.MaxDatagram {
				t.Errorf("v%d, %d fields: got TemplatesFit = %d (%d bytes, one more %d), want the most that fit %d bytes",
					version, len(fields), n, len(b), next, benchpkt.MaxDatagram)
			}
			d := decode.Decoder{Limits: decode.Limits{MaxTemplates: 1 << 16}}
			var pkt decode.Packet
			if err := d.Decode(exporter, b, &pkt); err != nil || pkt.Templates != n {
				t.Errorf("v%d, %d fields: got Decode = %d templates, %v, want %d, nil", version, len(fields), pkt.Templates, err, n)
			}
		}
	}
}

func TestDataPacketSizes(t *testing.T) {
	// The 28-byte "data before its template" packet of both versions.
	for _, tc := range []struct {
		version uint16
		rec     int
	}{{9, 4}, {10, 8}} {
		b := benchpkt.AppendDataPacket(nil, tc.version, 1, 1, 60000, 1, make([]byte, tc.rec))
		if len(b) != 28 {
			t.Errorf("v%d: got %d bytes, want 28", tc.version, len(b))
		}
		var d decode.Decoder
		var pkt decode.Packet
		err := d.Decode(exporter, b, &pkt)
		var missing *decode.MissingTemplateError
		if !errors.As(err, &missing) || missing.TemplateID != 60000 {
			t.Errorf("v%d: got Decode = %v, want a missing template 60000", tc.version, err)
		}
	}
	// A datagram of exactly MaxDatagram bytes: 5953 records of 11 bytes.
	fields := []benchpkt.Field{{1, 4}, {2, 4}, {4, 1}, {7, 2}}
	var d decode.Decoder
	var pkt decode.Packet
	if err := d.Decode(exporter, benchpkt.AppendTemplatePacket(nil, 9, 0, 1, 256, 1, fields), &pkt); err != nil {
		t.Fatal(err)
	}
	b := benchpkt.AppendDataPacket(nil, 9, 0, 2, 256, 5953, make([]byte, 11))
	if len(b) != benchpkt.MaxDatagram {
		t.Errorf("got %d bytes, want %d", len(b), benchpkt.MaxDatagram)
	}
	if err := d.Decode(exporter, b, &pkt); err != nil || len(pkt.Records) != 5953 {
		t.Errorf("got Decode = %d records, %v, want 5953, nil", len(pkt.Records), err)
	}
}

func TestOptionsTemplatePacket(t *testing.T) {
	// Scope: system (v9) / observation domain (IPFIX); options: sampling
	// interval, algorithm, sampler id: an 11-byte record.
	for _, tc := range []struct {
		version uint16
		scope   benchpkt.Field
	}{{9, benchpkt.Field{ID: 1, Len: 4}}, {10, benchpkt.Field{ID: 149, Len: 4}}} {
		var d decode.Decoder
		var pkt decode.Packet
		fields := []benchpkt.Field{{34, 4}, {35, 1}, {48, 2}}
		b := benchpkt.AppendOptionsTemplatePacket(nil, tc.version, 5, 1, 300, []benchpkt.Field{tc.scope}, fields)
		if err := d.Decode(exporter, b, &pkt); err != nil || pkt.Templates != 1 {
			t.Fatalf("v%d: got Decode = %d templates, %v, want 1, nil", tc.version, pkt.Templates, err)
		}
		rec := []byte{0, 0, 0, 1, 0, 0, 0, 100, 2, 0, 7} // scope 1, 1 in 100, algorithm 2, sampler 7
		b = benchpkt.AppendDataPacket(nil, tc.version, 5, 2, 300, 9, rec)
		if err := d.Decode(exporter, b, &pkt); err != nil || len(pkt.Options) != 9 || len(pkt.Records) != 0 {
			t.Errorf("v%d: got Decode = %d options records, %d flows, %v, want 9, 0, nil", tc.version, len(pkt.Options), len(pkt.Records), err)
		}
		if got := d.SamplingRate(exporter, 5, 7); got != 100 {
			t.Errorf("v%d: got sampling rate %d for sampler 7, want 100", tc.version, got)
		}
	}
}

func TestGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var d decode.Decoder
	var pkt decode.Packet
	for i := range 3000 {
		kind := benchpkt.Garbage(i % 3)
		b := benchpkt.AppendGarbage(nil, r, kind)
		if len(b) == 0 || len(b) > 1400 {
			t.Fatalf("kind %d: got %d bytes, want 1..1400", kind, len(b))
		}
		err := d.Decode(exporter, b, &pkt)
		switch kind {
		case benchpkt.GarbageVersion:
			if !errors.Is(err, decode.ErrVersion) {
				t.Fatalf("got Decode(unknown version % x) = %v, want ErrVersion", b[:2], err)
			}
		case benchpkt.GarbageTruncated:
			if !errors.Is(err, decode.ErrTruncated) {
				t.Fatalf("got Decode(truncated header % x) = %v, want ErrTruncated", b, err)
			}
		}
	}
	// Out of range: a kind chosen at random, still garbage.
	if b := benchpkt.AppendGarbage(nil, r, -1); len(b) == 0 {
		t.Error("got an empty datagram")
	}
}
