package decode

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/testvec"
)

// sameCompiled reports how a and b, templates of the same definition,
// differ in what compile made of it ("" if nothing).
func sameCompiled(a, b *Template) string {
	fp := func(f any) uintptr {
		if reflect.ValueOf(f).IsNil() {
			return 0
		}
		return reflect.ValueOf(f).Pointer()
	}
	switch {
	case a.ID != b.ID || a.Domain != b.Domain || a.Version != b.Version || a.ScopeFields != b.ScopeFields:
		return "header"
	case !reflect.DeepEqual(a.fields, b.fields):
		return "fields"
	case !reflect.DeepEqual(a.steps, b.steps) || !reflect.DeepEqual(a.stepSeg, b.stepSeg):
		return "steps"
	case !reflect.DeepEqual(a.other, b.other) || !reflect.DeepEqual(a.repeats, b.repeats):
		return "other fields"
	case !reflect.DeepEqual(a.vars, b.vars) || a.tail != b.tail || a.minLen != b.minLen || a.varLen != b.varLen:
		return "layout"
	case string(a.def) != string(b.def) || a.options != b.options:
		return "definition"
	case a.has != b.has || a.etherType != b.etherType || a.deriveEther != b.deriveEther || a.quiet != b.quiet || a.v9Uptime != b.v9Uptime || a.start != b.start || a.end != b.end:
		return "normalized fields"
	case a.section != b.section || a.frameSize != b.frameSize || a.sectionIP != b.sectionIP:
		return "sections"
	case fp(a.shape) != fp(b.shape) || len(a.classes) != len(b.classes):
		return "readers"
	case (a.app == nil) != (b.app == nil) || a.app != nil && (a.app.id != b.app.id || a.app.name != b.app.name):
		return "application link"
	}
	for i := range a.classes {
		if fp(a.classes[i].read) != fp(b.classes[i].read) || a.classes[i].offs != b.classes[i].offs || a.classes[i].seg != b.classes[i].seg || a.classes[i].kind != b.classes[i].kind {
			return fmt.Sprintf("class %d", i)
		}
	}
	return ""
}

// A template defined again as a definition the Decoder compiled before
// comes from the cache of replaced templates; it is the same as a fresh
// compile and every record of the capture decodes the same with it.
func TestTemplateCacheSameAsCompile(t *testing.T) {
	templateCaptures(t, func(t *testing.T, dgs []testvec.Datagram, tmpl, rotated []byte, n int) {
		src := dgs[0].Src.Addr()
		var cached, fresh Decoder
		var p Packet
		// Every ID gets another definition and its own back: the
		// second time, from the cache.
		first := map[tkey]*Template{}
		for i, pkt := range [][]byte{tmpl, rotated, tmpl} {
			if err := cached.Decode(src, pkt, &p); err != nil || p.Templates != n {
				t.Fatalf("%d templates: %v", p.Templates, err)
			}
			if i == 0 {
				for k, tm := range cached.exporters[src].templates {
					first[k] = tm
				}
			}
		}
		if err := fresh.Decode(src, tmpl, &p); err != nil {
			t.Fatal(err)
		}
		redefined := 0
		sameTemplates(t, cached.exporters[src], fresh.exporters[src], func(k tkey, got *Template) {
			if got == first[k] {
				return // two IDs of one definition: the rotation left it as it was
			}
			redefined++
			c := cached.tcache.m[string(cached.tcache.keyOf(got.Version, got.options, got.def))]
			if c == nil || len(got.fields) == 0 || &c.fields[0] != &got.fields[0] {
				t.Errorf("template %d was compiled again, not taken from the cache", got.ID)
			}
		})
		if redefined == 0 {
			t.Fatal("no template was redefined")
		}
		// The capture's data decodes the same.
		sameData(t, dgs, netip.Addr{}, &cached, &fresh)
	})
}

// templateCaptures runs test on every capture of testdata/ that has
// templates, in a subtest of its own, with its datagrams and
// testvec.TemplatePackets' template packet, rotated packet and template
// count; it fails when no capture has templates.
func templateCaptures(t *testing.T, test func(t *testing.T, dgs []testvec.Datagram, tmpl, rotated []byte, n int)) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(testvec.Root(), "testdata", "*.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, path := range names {
		name := filepath.Base(path)
		dgs := testvec.Capture(t, name)
		var pkts [][]byte
		for _, dg := range dgs {
			pkts = append(pkts, dg.Payload)
		}
		tmpl, rotated, n := testvec.TemplatePackets(pkts)
		if tmpl == nil {
			continue
		}
		tested++
		t.Run(strings.TrimSuffix(name, ".pcap"), func(t *testing.T) {
			test(t, dgs, tmpl, rotated, n)
		})
	}
	if tested == 0 {
		t.Fatal("no capture with templates")
	}
}

// sameTemplates checks that exporter state ex has every template of fx,
// compiled the same, and calls each with the key and ex's template.
func sameTemplates(t *testing.T, ex, fx *exporter, each func(k tkey, got *Template)) {
	t.Helper()
	for k, want := range fx.templates {
		got := ex.templates[k]
		if got == nil {
			t.Fatalf("template %d missing", want.ID)
		}
		if diff := sameCompiled(got, want); diff != "" {
			t.Errorf("template %d: %s differ", want.ID, diff)
		}
		each(k, got)
	}
}

// sameData checks that every datagram of dgs decodes the same with d as
// with fresh: the same error, records and options. The datagrams come
// from from, or from their own source when from is the zero Addr.
func sameData(t *testing.T, dgs []testvec.Datagram, from netip.Addr, d, fresh *Decoder) {
	t.Helper()
	var pc, pf Packet
	for i, dg := range dgs {
		src := from
		if !src.IsValid() {
			src = dg.Src.Addr()
		}
		errC := d.Decode(src, dg.Payload, &pc)
		errF := fresh.Decode(src, dg.Payload, &pf)
		if fmt.Sprint(errC) != fmt.Sprint(errF) || len(pc.Records) != len(pf.Records) || len(pc.Options) != len(pf.Options) {
			t.Fatalf("packet %d: %d+%d records (%v), fresh %d+%d (%v)", i, len(pc.Records), len(pc.Options), errC, len(pf.Records), len(pf.Options), errF)
		}
		for j := range pc.Records {
			a, b := &pc.Records[j], &pf.Records[j]
			if a.Flow != b.Flow || a.SamplingRate != b.SamplingRate || a.Offset != b.Offset {
				t.Fatalf("packet %d record %d:\n%+v\nfresh\n%+v", i, j, a.Flow, b.Flow)
			}
		}
	}
}

// floodDef is the i-th of many distinct 4-field definitions of template
// 256 (the first field's length differs).
func floodDef(i int, fields int) []byte {
	fl := make([]fs, fields)
	for k := range fl {
		fl[k] = fs{id: uint16(1 + k), length: 4}
	}
	fl[0] = fs{id: 1 + uint16(i>>3), pen: 1 + uint32(i), length: uint16(1 + i%8)}
	return ipfixTemplate(256, 0, fl...)
}

// An exporter redefining a template without end (a flood of distinct
// definitions) fills the cache of replaced templates to its bounds and no
// further: entries (Limits.MaxCachedTemplates) and fields; a negative
// limit keeps none. The Decoder's own budgets hold as before.
func TestTemplateCacheBounded(t *testing.T) {
	for _, tc := range []struct {
		max, fields, want int
	}{
		{0, 4, maxCacheTemplates},
		{8, 4, 8},
		{-1, 4, 0},
		{0, 1000, maxCacheFields / 1000},
	} {
		t.Run(fmt.Sprintf("max%d/fields%d", tc.max, tc.fields), func(t *testing.T) {
			d := Decoder{Limits: Limits{MaxCachedTemplates: tc.max}}
			from := netip.MustParseAddr("192.0.2.1")
			peak := 0
			for i := range 2*max(tc.want, 16) + 100 {
				pkt := ipfixPacket(exportSecs, 0, 0, set(2, floodDef(i, tc.fields)))
				if err := d.Decode(from, pkt, new(Packet)); err != nil {
					t.Fatalf("definition %d: %v", i, err)
				}
				if len(d.tcache.m) > peak {
					peak = len(d.tcache.m)
				}
				if d.tcache.fields > maxCacheFields {
					t.Fatalf("definition %d: %d fields cached", i, d.tcache.fields)
				}
				sum := 0
				for _, c := range d.tcache.m {
					sum += len(c.fields)
				}
				if sum != d.tcache.fields {
					t.Fatalf("definition %d: %d fields counted, %d cached", i, d.tcache.fields, sum)
				}
			}
			if peak != tc.want || len(d.tcache.m) != tc.want {
				t.Errorf("%d cached templates (peak %d), want %d", len(d.tcache.m), peak, tc.want)
			}
			if s := d.Stats(); s.Templates != 1 || s.Fields != tc.fields {
				t.Errorf("stats %+v, want 1 template of %d fields", s, tc.fields)
			}
		})
	}
}

// A redefinition to a definition in the cache allocates the new
// template's header and definition only: one allocation of less than
// what compiling a 20-field template allocates (its fields alone are 480
// bytes).
func TestTemplateCacheHitAllocs(t *testing.T) {
	from := netip.MustParseAddr("192.0.2.1")
	a := ipfixPacket(exportSecs, 0, 0, set(2, tmpl20(256)), set(2, tmpl20(257)))
	b := ipfixPacket(exportSecs, 0, 0, set(2, floodDef(1, 20)), set(2, cat(u16(257), floodDef(2, 20)[2:])))
	var d Decoder
	var p Packet
	for _, pkt := range [][]byte{a, b, a, b} {
		if err := d.Decode(from, pkt, &p); err != nil || p.Templates != 2 {
			t.Fatalf("%d templates: %v", p.Templates, err)
		}
	}
	i := 0
	run := func() {
		if i++; i&1 == 0 {
			d.Decode(from, a, &p)
		} else {
			d.Decode(from, b, &p)
		}
	}
	if allocs := testing.AllocsPerRun(100, run); allocs > 2 {
		t.Errorf("%.1f allocations per packet of 2 cached redefinitions, want at most 2", allocs)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		run()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / 200; per > 480 {
		t.Errorf("%d bytes allocated per cached redefinition", per)
	}
}

// Exporters of one model and configuration send the same definitions: once
// the Decoder knows more than one exporter, what it compiles is cached, and
// the next exporter to send a definition shares the compiled parts. Each
// such template is the same as a fresh compile, and the capture's data
// from that exporter decodes the same. A Decoder of one exporter keeps no
// cache.
func TestTemplateCacheSharedByExporters(t *testing.T) {
	templateCaptures(t, func(t *testing.T, dgs []testvec.Datagram, tmpl, _ []byte, n int) {
		a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("2001:db8::3")
		var d, fresh Decoder
		var p Packet
		for i, from := range []netip.Addr{a, b, c} {
			if err := d.Decode(from, tmpl, &p); err != nil || p.Templates != n {
				t.Fatalf("%v: %d templates: %v", from, p.Templates, err)
			}
			if i == 0 && len(d.tcache.m) != 0 {
				t.Fatalf("a Decoder of one exporter cached %d templates", len(d.tcache.m))
			}
		}
		if err := fresh.Decode(c, tmpl, &p); err != nil {
			t.Fatal(err)
		}
		sameTemplates(t, d.exporters[c], fresh.exporters[c], func(k tkey, got *Template) {
			if len(got.fields) > maxCacheFields {
				return
			}
			bt := d.exporters[b].templates[k]
			if bt == nil || len(got.fields) == 0 || &bt.fields[0] != &got.fields[0] {
				t.Errorf("template %d of the third exporter was compiled again, not shared with the second's", got.ID)
			}
		})
		// The capture's data from the third exporter decodes the same.
		sameData(t, dgs, c, &d, &fresh)
	})
}
