package decode

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// floodAddr is the i-th address of a spoofed flood (198.18.0.0/15 and on).
func floodAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18 + byte(i>>16), byte(i >> 8), byte(i)})
}

// A small IPFIX template (source address, bytes) and a record of it.
var (
	smallTemplate = set(2, ipfixTemplate(256, 0, fs{id: 8, length: 4}, fs{id: 1, length: 4}))
	smallRecord   = cat([]byte{192, 0, 2, 7}, u32(1500))
)

func smallData(domain uint32) []byte {
	return ipfixPacket(exportSecs, 0, domain, set(256, smallRecord))
}

// decodeRecords decodes pkt and requires n records and no error.
func decodeRecords(t *testing.T, d *Decoder, from netip.Addr, pkt []byte, n int) {
	t.Helper()
	var p Packet
	if err := d.Decode(from, pkt, &p); err != nil {
		t.Fatalf("from %v: %v", from, err)
	}
	if len(p.Records) != n {
		t.Fatalf("from %v: %d records, want %d", from, len(p.Records), n)
	}
}

// 25,000 spoofed exporters each sending a template (and some data) do not
// lock out a router that starts afterwards: its template is learned and its
// data decodes.
func TestExporterFloodEvicts(t *testing.T) {
	var d Decoder
	for i := range 25000 {
		d.SetTime(int64(i))
		if i%10 == 0 {
			decodeRecords(t, &d, floodAddr(i), ipfixPacket(exportSecs, 0, 0, smallTemplate, set(256, smallRecord)), 1)
		} else {
			decodeRecords(t, &d, floodAddr(i), ipfixPacket(exportSecs, 0, 0, smallTemplate), 0)
		}
	}
	router := netip.MustParseAddr("203.0.113.1")
	d.SetTime(25000)
	decodeRecords(t, &d, router, ipfixPacket(exportSecs, 0, 0, smallTemplate), 0)
	d.SetTime(25001)
	decodeRecords(t, &d, router, smallData(0), 1)
	s := d.Stats()
	check(t, "exporters", s.Exporters, 10000)
	check(t, "evicted exporters", s.EvictedExporters, 15001)
	check(t, "templates of evicted exporters", s.TemplatesOfEvicted, 15001)
	check(t, "templates", s.Templates, 10000)
	// The proven flood exporters (every 10th sent data) were kept in
	// preference to the template-only ones, the oldest of which went.
	check(t, "proven", s.Proven, 2501)
	if d.TemplatesOf(floodAddr(0)) != 1 {
		t.Error("the first (proven) flood exporter was evicted before template-only ones")
	}
	if d.TemplatesOf(floodAddr(1)) != 0 {
		t.Error("the oldest template-only exporter survived")
	}
}

// tmpl20 is a 20-field IPFIX template with the given id; dataFor is a
// record of it.
func tmpl20(id uint16) []byte {
	fields := make([]fs, 20)
	for i := range fields {
		fields[i] = fs{id: uint16(1 + i), length: 4}
	}
	return ipfixTemplate(id, 0, fields...)
}

var record20 = make([]byte, 80)

// One exporter defining templates in many domains until its budgets are
// full evicts its own least recently used templates: another exporter's
// templates and data still work, and the first one's templates in use
// survive.
func TestTemplateFloodOneExporter(t *testing.T) {
	flooder := floodAddr(1)
	run := func(t *testing.T, d *Decoder, wantStat func(DecoderStats) uint64) {
		// The flooder's template in use: domain 0, id 256, with data.
		decodeRecords(t, d, flooder, ipfixPacket(exportSecs, 0, 0, set(2, tmpl20(256)), set(256, record20)), 1)
		n := 0
		for domain := uint32(1); domain <= 10; domain++ {
			for id := uint16(256); id < 1256; id++ {
				if err := d.Decode(flooder, ipfixPacket(exportSecs, 0, domain, set(2, tmpl20(id))), new(Packet)); err != nil {
					t.Fatalf("domain %d template %d: %v", domain, id, err)
				}
				if n++; n%100 == 0 {
					decodeRecords(t, d, flooder, ipfixPacket(exportSecs, 0, 0, set(256, record20)), 1)
				}
			}
		}
		if d.Template(flooder, 0, 256) == nil {
			t.Error("the template in use was evicted")
		}
		if d.Template(flooder, 10, 1255) == nil || d.Template(flooder, 10, 1200) == nil {
			t.Error("the latest templates were evicted")
		}
		if d.Template(flooder, 1, 256) != nil {
			t.Error("the oldest unused template survived")
		}
		// Another exporter is unaffected.
		router := netip.MustParseAddr("203.0.113.1")
		decodeRecords(t, d, router, ipfixPacket(exportSecs, 0, 0, set(2, tmpl20(256))), 0)
		decodeRecords(t, d, router, ipfixPacket(exportSecs, 0, 0, set(256, record20)), 1)
		decodeRecords(t, d, flooder, ipfixPacket(exportSecs, 0, 0, set(256, record20)), 1)
		s := d.Stats()
		if wantStat(s) == 0 {
			t.Errorf("no evictions counted: %+v", s)
		}
		if s.Fields > d.lim.MaxTotalFields || s.Templates > 2*d.lim.MaxTemplates {
			t.Errorf("state beyond the limits: %+v", s)
		}
	}
	t.Run("exporter budgets", func(t *testing.T) {
		// Default limits: 64 Ki fields per exporter (3276 templates of
		// 20 fields) binds before 4096 templates.
		var d Decoder
		run(t, &d, func(s DecoderStats) uint64 { return s.TemplatesEvictedMaxExporterFields })
		check(t, "flooder's fields", d.Exporters()[0].Fields <= 64<<10, true)
	})
	t.Run("template count", func(t *testing.T) {
		d := Decoder{Limits: Limits{MaxTemplates: 500}}
		run(t, &d, func(s DecoderStats) uint64 { return s.TemplatesEvictedMaxTemplates })
		check(t, "flooder's templates", d.TemplatesOf(flooder), 500)
	})
	t.Run("decoder total", func(t *testing.T) {
		// The flooder fills the decoder's total; the other exporter's
		// template evicts the flooder's least recently used one.
		d := Decoder{Limits: Limits{MaxTotalFields: 20000, MaxExporterFields: 30000}}
		run(t, &d, func(s DecoderStats) uint64 { return s.TemplatesEvictedMaxTotalFields })
		check(t, "total fields", d.Stats().Fields, 20000)
	})
}

// A template larger than the decoder's whole budget is still refused, and
// refusing it evicts nothing.
func TestTemplateLargerThanBudget(t *testing.T) {
	d := Decoder{Limits: Limits{MaxTotalFields: 19}}
	decodeRecords(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, smallTemplate), 0)
	err := d.Decode(exporter2, ipfixPacket(exportSecs, 0, 0, set(2, tmpl20(300))), new(Packet))
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("20-field template with MaxTotalFields 19: %v, want ErrLimit", err)
	}
	check(t, "templates", d.NumTemplates(), 1)
	check(t, "exporters", d.Stats().Exporters, 1)
}

// An exporter whose data has been decoded survives a flood of template-only
// exporters beyond MaxExporters, even without sending anything during the
// flood; when every exporter is proven, the least recently active goes.
func TestProvenExporterSurvivesFlood(t *testing.T) {
	var d Decoder
	router := netip.MustParseAddr("203.0.113.1")
	decodeRecords(t, &d, router, ipfixPacket(exportSecs, 0, 0, smallTemplate, set(256, smallRecord)), 1)
	for i := range 25000 {
		decodeRecords(t, &d, floodAddr(i), ipfixPacket(exportSecs, 0, 0, smallTemplate), 0)
	}
	decodeRecords(t, &d, router, smallData(0), 1)
	check(t, "evicted", d.Stats().EvictedExporters, 25000+1-10000)

	d2 := Decoder{Limits: Limits{MaxExporters: 10}}
	for i := range 11 {
		decodeRecords(t, &d2, floodAddr(i), ipfixPacket(exportSecs, 0, 0, smallTemplate, set(256, smallRecord)), 1)
		if i == 5 {
			decodeRecords(t, &d2, floodAddr(0), smallData(0), 1) // 0 active again
		}
	}
	check(t, "exporter 0 (active) kept", d2.TemplatesOf(floodAddr(0)), 1)
	check(t, "exporter 1 (least recently active) evicted", d2.TemplatesOf(floodAddr(1)), 0)
	check(t, "proven", d2.Stats().Proven, 10)
}

// The total budget takes templates from the least recently active other
// exporter, unproven ones first, and forgets an exporter left without any.
func TestTotalBudgetTakesFromOthers(t *testing.T) {
	d := Decoder{Limits: Limits{MaxTotalFields: 60}}
	a, b, c := floodAddr(1), floodAddr(2), floodAddr(3)
	decodeRecords(t, &d, a, ipfixPacket(exportSecs, 0, 0, set(2, tmpl20(256)), set(256, record20)), 1) // proven
	decodeRecords(t, &d, b, ipfixPacket(exportSecs, 0, 0, set(2, tmpl20(256))), 0)
	decodeRecords(t, &d, b, ipfixPacket(exportSecs, 0, 0, set(2, tmpl20(257))), 0)
	// c needs 20 fields: b (unproven) loses its least recently used one
	// although a is less recently active.
	decodeRecords(t, &d, c, ipfixPacket(exportSecs, 0, 0, set(2, tmpl20(256))), 0)
	if d.Template(b, 0, 256) != nil || d.Template(b, 0, 257) == nil || d.TemplatesOf(a) != 1 {
		t.Errorf("wrong template evicted: a %d, b %d", d.TemplatesOf(a), d.TemplatesOf(b))
	}
	// c again: b loses its last template and is forgotten.
	decodeRecords(t, &d, c, ipfixPacket(exportSecs, 0, 0, set(2, tmpl20(257))), 0)
	s := d.Stats()
	check(t, "exporters", s.Exporters, 2)
	check(t, "evicted templates", s.TemplatesEvictedMaxTotalFields, 2)
	check(t, "evicted exporters", s.EvictedExporters, 1)
	check(t, "a kept", d.TemplatesOf(a), 1)
}

// ExpireIdle forgets the exporters idle since the given time.
func TestExpireIdle(t *testing.T) {
	var d Decoder
	const hour = int64(3600e9)
	d.SetTime(10 * hour)
	decodeRecords(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, smallTemplate), 0)
	decodeRecords(t, &d, exporter2, ipfixPacket(exportSecs, 0, 0, smallTemplate), 0)
	d.SetTime(12 * hour)
	decodeRecords(t, &d, loopback, smallData(0), 1)
	check(t, "expired", d.ExpireIdle(11*hour), 1)
	check(t, "idle exporter forgotten", d.TemplatesOf(exporter2), 0)
	check(t, "active exporter kept", d.TemplatesOf(loopback), 1)
	s := d.Stats()
	check(t, "expired exporters", s.ExpiredExporters, 1)
	check(t, "templates of expired", s.TemplatesOfExpired, 1)
	check(t, "exporters", s.Exporters, 1)
	check(t, "none more", d.ExpireIdle(11*hour), 0)
	// The forgotten exporter starts again from its next template.
	decodeRecords(t, &d, exporter2, ipfixPacket(exportSecs, 0, 0, smallTemplate, set(256, smallRecord)), 1)
	e := d.Exporters()
	check(t, "activity", e[1].Active, 12*hour)
	check(t, "proven", e[1].Proven, true)
}

// The bookkeeping of a packet from a known exporter (list moves, template
// use, activity, proof) allocates nothing: two exporters and two templates
// alternate, and the time crosses ActivityResolution every packet.
func TestEvictionBookkeepingAllocs(t *testing.T) {
	var d Decoder
	var p Packet
	addrs := []netip.Addr{loopback, exporter2}
	tmpls := set(2, ipfixTemplate(256, 0, fs{id: 8, length: 4}, fs{id: 1, length: 4}), ipfixTemplate(257, 0, fs{id: 8, length: 4}, fs{id: 2, length: 4}))
	pkts := [][]byte{
		ipfixPacket(exportSecs, 0, 0, set(256, smallRecord)),
		ipfixPacket(exportSecs, 0, 0, set(257, smallRecord)),
		ipfixPacket(exportSecs, 0, 0, tmpls), // re-sent unchanged
	}
	for _, a := range addrs {
		decodeRecords(t, &d, a, ipfixPacket(exportSecs, 0, 0, tmpls), 0)
	}
	now, i := int64(0), 0
	step := func() {
		now += ActivityResolution
		d.SetTime(now)
		if err := d.Decode(addrs[i%2], pkts[(i/2)%3], &p); err != nil {
			t.Fatal(err)
		}
		i++
	}
	for range 12 {
		step()
	}
	v := d.StateVersion()
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
	if d.StateVersion() == v {
		t.Error("activity crossing ActivityResolution did not change StateVersion")
	}
	check(t, "proven", d.Stats().Proven, 2)
}

// StateVersion changes with what WriteState would save, and only then.
func TestStateVersion(t *testing.T) {
	var d Decoder
	v := d.StateVersion()
	changed := func(what string, want bool) {
		t.Helper()
		if got := d.StateVersion() != v; got != want {
			t.Errorf("%s: changed %v, want %v", what, got, want)
		}
		v = d.StateVersion()
	}
	d.SetTime(ActivityResolution)
	decodeRecords(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, smallTemplate), 0)
	changed("template", true)
	decodeRecords(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, smallTemplate), 0)
	changed("template re-sent", false)
	decodeRecords(t, &d, loopback, smallData(0), 1)
	changed("first data (proven)", true)
	decodeRecords(t, &d, loopback, smallData(0), 1)
	changed("more data", false)
	d.SetTime(ActivityResolution + 1e9)
	decodeRecords(t, &d, loopback, smallData(0), 1)
	changed("data a second later", false)
	d.SetTime(2 * ActivityResolution)
	decodeRecords(t, &d, loopback, smallData(0), 1)
	changed("data in the next ActivityResolution", true)
	opts := set(3, ipfixTemplate(300, 1, fs{id: 149, length: 4}, fs{id: 34, length: 4}))
	decodeRecords(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, opts, set(300, u32(0), u32(100))), 0)
	changed("sampler", true)
	decodeRecords(t, &d, loopback, ipfixPacket(exportSecs, 0, 0, set(300, u32(0), u32(100))), 0)
	changed("same rate again", false)
	d.ExpireIdle(0)
	changed("nothing expired", false)
	d.ExpireIdle(3 * ActivityResolution)
	changed("expired", true)
}

// StateVersion may be read by another goroutine while the decoder works
// (go test -race).
func TestStateVersionConcurrent(t *testing.T) {
	var d Decoder
	done := make(chan uint64)
	stop := make(chan struct{})
	go func() {
		var last uint64
		for {
			select {
			case <-stop:
				done <- last
				return
			default:
				last = d.StateVersion()
			}
		}
	}()
	for i := range 200 {
		d.SetTime(int64(i) * ActivityResolution)
		decodeRecords(t, &d, floodAddr(i%20), ipfixPacket(exportSecs, 0, 0, smallTemplate, set(256, smallRecord)), 1)
	}
	close(stop)
	if v := <-done; v > d.StateVersion() {
		t.Errorf("read version %d beyond the final %d", v, d.StateVersion())
	}
}

// TestPacketResetClearsEveryField guards Packet.reset, which clears field
// by field: a field added to Packet and not to reset fails here.
func TestPacketResetClearsEveryField(t *testing.T) {
	var p Packet
	v := reflect.ValueOf(&p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue // asns, below
		}
		switch f.Kind() {
		case reflect.Struct: // Agent
			f.Set(reflect.ValueOf(netip.MustParseAddr("192.0.2.1")))
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 4))
		case reflect.Int, reflect.Int64:
			f.SetInt(1)
		default:
			f.SetUint(1)
		}
	}
	p.asns = make([]uint32, 1, 4)
	p.reset(10)
	if p.Version != 10 || len(p.Records) != 0 || len(p.Options) != 0 || cap(p.Records) != 4 || cap(p.Options) != 4 {
		t.Fatalf("reset: version %d, records %d/%d, options %d/%d", p.Version, len(p.Records), cap(p.Records), len(p.Options), cap(p.Options))
	}
	want := Packet{Version: 10, Records: p.Records, Options: p.Options, SFlow: p.SFlow, Counters: p.Counters, asns: p.asns}
	if len(p.SFlow)+len(p.Counters)+len(p.asns) != 0 {
		t.Fatalf("reset: %d sFlow samples, %d counters, %d ASNs", len(p.SFlow), len(p.Counters), len(p.asns))
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("reset left fields set: %+v", p)
	}
}
