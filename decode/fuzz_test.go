package decode

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/internal/benchpkt"
)

// seeds returns every packet in testdata: the Python vectors, the
// real-exporter captures and the benchmark packets.
func seeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	names, _ := filepath.Glob(filepath.Join("..", "testdata", "python-netflow", "*.hex"))
	for _, n := range names {
		out = append(out, loadHex(tb, filepath.Base(n))...)
	}
	for _, c := range append(captures(tb), sflowCaptures(tb)...) {
		for _, p := range readCapture(tb, c) {
			out = append(out, p.data)
		}
	}
	v9t, v9d := benchpkt.V9()
	ipt, ipd := benchpkt.IPFIX()
	sft, sfd := benchpkt.V9Softflowd()
	out = append(out, benchpkt.V5(), cat(v9t), v9d, ipt, ipd, sft, sfd)
	// A template and its data concatenated into one packet, so single
	// fuzz inputs reach the data path.
	out = append(out, cat(v9t, v9d[20:]), cat(ipt, ipd[16:]))
	out = append(out, appSeeds()...)
	return out
}

// checkRecords verifies the invariants every decoded record must hold.
func checkRecords(t *testing.T, p *Packet) {
	for _, rs := range [][]Record{p.Records, p.Options} {
		for i := range rs {
			r := &rs[i]
			tm := r.Template()
			if r.Version == VersionSFlow5 {
				if tm != nil || r.Raw() != nil || len(p.SFlow) != len(p.Records) {
					t.Fatalf("sFlow record with a template or raw bytes, or %d samples for %d records", len(p.SFlow), len(p.Records))
				}
				continue
			}
			r.ApplicationName()
			// Walking the fields covers exactly the record's bytes.
			n, it := 0, r.Iter()
			for it.Next() {
				f := it.Field()
				n++
				// The typed accessors accept any length.
				f.Uint()
				f.Int()
				f.Float()
				f.Bool()
				f.Addr()
				f.Time()
			}
			if n != len(tm.Fields()) {
				t.Fatalf("record walked %d of %d fields", n, len(tm.Fields()))
			}
			// The generated straight-line readers (shape or class) and
			// the plain compiled steps agree.
			if tm.shape != nil || len(tm.classes) != 0 {
				var a, b Flow
				tm.readRecord(r.Raw(), &a, nil)
				plain := plainTemplate(t, tm)
				plain.readRecord(r.Raw(), &b, nil)
				if a != b {
					t.Fatalf("generated reader and steps disagree:\n%+v\n%+v", a, b)
				}
			}
		}
	}
}

// fuzzDecode feeds data twice to a decoder (the first pass learns
// templates), then retries what was missing.
func fuzzDecode(t *testing.T, data []byte) {
	var d Decoder
	var p Packet
	src := loopback
	var first []Record
	var firstOptions int
	var firstErr string
	for i := range 2 {
		err := d.Decode(src, data, &p)
		if i == 0 {
			first, firstOptions, firstErr = slices.Clone(p.Records), len(p.Options), exporterError(err, src)
		}
		checkRecords(t, &p)
		var me *MissingTemplateError
		if errors.As(err, &me) {
			_ = d.Retry(src, data, me.Sets, &p)
			checkRecords(t, &p)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) && me == nil {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			_ = err.Error()
		}
	}
	// The same packet from two more exporters: the third takes what the
	// second compiled from the Decoder's cache (exporters of one model
	// send the same templates) and decodes what the first did.
	for _, from := range []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("::1")} {
		err := d.Decode(from, data, &p)
		checkRecords(t, &p)
		if from.Is4() {
			continue
		}
		if e := exporterError(err, from); e != firstErr || len(p.Records) != len(first) || len(p.Options) != firstOptions {
			t.Fatalf("third exporter: %d+%d records (%s), first %d+%d (%s)", len(p.Records), len(p.Options), e, len(first), firstOptions, firstErr)
		}
		for j := range first {
			if a, b := &p.Records[j], &first[j]; a.Flow != b.Flow || a.SamplingRate != b.SamplingRate || a.Offset != b.Offset {
				t.Fatalf("third exporter: record %d:\n%+v\nfirst\n%+v", j, a.Flow, b.Flow)
			}
		}
	}
}

// exporterError is err's message with the exporter's address taken out.
func exporterError(err error, exporter netip.Addr) string {
	if err == nil {
		return ""
	}
	return strings.ReplaceAll(err.Error(), exporter.String(), "EXPORTER")
}

func FuzzDecode(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Fuzz(fuzzDecode)
}

func fuzzVersion(f *testing.F, version uint16) {
	for _, s := range seeds(f) {
		if len(s) >= 2 && binary.BigEndian.Uint16(s) == version {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 2 {
			binary.BigEndian.PutUint16(data, version)
		}
		fuzzDecode(t, data)
	})
}

func FuzzDecodeV9(f *testing.F)    { fuzzVersion(f, 9) }
func FuzzDecodeIPFIX(f *testing.F) { fuzzVersion(f, 10) }

func fuzzFixed(f *testing.F, version uint16, fn func([]byte, *Packet) error) {
	for _, s := range seeds(f) {
		if len(s) >= 2 && binary.BigEndian.Uint16(s) == version {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Packet
		err := fn(data, &p)
		checkRecords(t, &p)
		if err != nil && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrVersion) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

func FuzzDecodeV1(f *testing.F) { fuzzFixed(f, 1, DecodeV1) }
func FuzzDecodeV5(f *testing.F) { fuzzFixed(f, 5, DecodeV5) }
func FuzzDecodeV7(f *testing.F) { fuzzFixed(f, 7, DecodeV7) }

// Every generated shape reader agrees with the compiled steps on random
// records (the fuzz property, run deterministically in make test).
func TestShapesAgreeWithSteps(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for key, read := range shapeReaders {
		specs, ok := parseLayoutKey(key)
		if !ok || layoutKey(specs) != key {
			t.Fatalf("bad layout key %q", key)
		}
		tm, err := compile(9, 0, 256, specs, 0, false, nil)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if tm.shape == nil {
			t.Fatalf("%s: compiled template does not use its shape reader", key)
		}
		tm10, err := compile(10, 0, 256, specs, 0, false, nil)
		if err != nil || tm10.shape == nil {
			t.Fatalf("%s: IPFIX template does not use its shape reader", key)
		}
		buf := make([]byte, tm.minLen)
		for range 200 {
			for i := range buf {
				buf[i] = byte(r.Uint32())
			}
			var a, b Flow
			read(buf, &a)
			readSteps(buf, tm.steps, &b)
			if tm.deriveEther { // a shape reader derives the EtherType iff its template does
				deriveFromVersion(&b)
			}
			if a != b {
				t.Fatalf("%s: shape reader and steps disagree:\n%+v\n%+v", key, a, b)
			}
		}
		// The set reader, over three records into slots that held
		// records of other templates, gives each record what the steps
		// give it, and stamps it.
		const n = 3
		set := make([]byte, n*tm.minLen)
		for i := range set {
			set[i] = byte(r.Uint32())
		}
		recs := make([]Record, n)
		recs[1].Flow = Flow{Has: ^FieldSet(0) >> 1, SrcPort: 1, SamplerID: 2, SrcMAC: MAC{3}, BGPNextHop: netip.IPv6Loopback()}
		recs[2].tmpl = templateV1
		recs[2].Has, recs[2].TTL = HasTTL, 64
		tm.shapeSet(set, recs, &setEnv{t: tm, addr: netip.MustParseAddr("192.0.2.9"), version: 9, seq: 7, domain: 5}, 100)
		for i := range recs {
			rb := set[i*tm.minLen : (i+1)*tm.minLen]
			want := Flow{Has: tm.has}
			readSteps(rb, tm.steps, &want)
			if tm.deriveEther {
				deriveFromVersion(&want)
			}
			got := &recs[i]
			if got.Flow != want {
				t.Fatalf("%s: set reader, record %d:\n%+v\nwant\n%+v", key, i, got.Flow, want)
			}
			if got.tmpl != tm || got.Offset != 100+i*tm.minLen || &got.raw[0] != &rb[0] || got.Sequence != 7 || got.Domain != 5 || got.Exporter != netip.MustParseAddr("192.0.2.9") {
				t.Fatalf("%s: set reader, record %d not stamped: %+v", key, i, got)
			}
		}
	}
}

// Running the seeds through the fuzz function keeps it honest in make test
// even when nobody runs -fuzz.
func TestFuzzSeeds(t *testing.T) {
	for _, s := range seeds(t) {
		fuzzDecode(t, s)
	}

}

// plainTemplate recompiles tm without shape or class readers.
func plainTemplate(t testing.TB, tm *Template) *Template {
	specs := make([]fieldSpec, len(tm.fields))
	for i, f := range tm.fields {
		specs[i] = fieldSpec{pen: f.PEN, id: f.ID, length: f.Length, scope: f.Scope}
	}
	noSpecialize = true
	defer func() { noSpecialize = false }()
	p, err := compile(tm.Version, tm.Domain, tm.ID, specs, tm.ScopeFields, tm.options, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Every class reader, with its fields in random order among other fields,
// agrees with the compiled steps.
func TestClassesAgreeWithSteps(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	extra := []fieldSpec{{id: 60, length: 1}, {id: 61, length: 1}, {id: 89, length: 1}, {id: 82, length: 8}, {id: 136, length: 1}}
	for _, c := range classes {
		for range 20 {
			specs := append(append([]fieldSpec(nil), c.fields...), extra[:r.IntN(len(extra)+1)]...)
			r.Shuffle(len(specs), func(i, j int) { specs[i], specs[j] = specs[j], specs[i] })
			tm, err := compile(10, 0, 256, specs, 0, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tm.shape == nil && len(tm.classes) == 0 {
				t.Fatalf("template %v uses no generated reader", specs)
			}
			plain := plainTemplate(t, tm)
			buf := make([]byte, tm.minLen)
			for range 50 {
				for i := range buf {
					buf[i] = byte(r.Uint32())
				}
				var a, b Flow
				tm.readRecord(buf, &a, nil)
				plain.readRecord(buf, &b, nil)
				if a != b {
					t.Fatalf("class reader and steps disagree for %v:\n%+v\n%+v", specs, a, b)
				}
			}
		}
	}
}

// layoutKey formats the key of shapeReaders: "pen.id.len," per field.
func layoutKey(specs []fieldSpec) string {
	b := make([]byte, 0, len(specs)*10)
	for _, s := range specs {
		b = strconv.AppendUint(b, uint64(s.pen), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(s.id), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(s.length), 10)
		b = append(b, ',')
	}
	return string(b)
}

// Templates combining several classes' fields (and others) in random
// order: the class readers used together agree with the compiled steps.
func TestClassCombinationsAgreeWithSteps(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	extra := []fieldSpec{{id: 60, length: 1}, {id: 61, length: 1}, {id: 136, length: 1}, {id: 32, length: 2}, {id: 15, length: 4}}
	multi := 0
	for range 500 {
		var specs []fieldSpec
		seen := map[[2]uint16]bool{}
		targets := map[uint8]bool{}
		for range 1 + r.IntN(4) {
			for _, f := range classes[r.IntN(len(classes))].fields {
				_, tgt, _ := opFor(f.pen, f.id, f.length)
				if seen[[2]uint16{f.id, f.length}] || targets[tgt] {
					continue // one field per target, as exporters send them
				}
				seen[[2]uint16{f.id, f.length}], targets[tgt] = true, true
				specs = append(specs, f)
			}
		}
		specs = append(specs, extra[:r.IntN(len(extra)+1)]...)
		r.Shuffle(len(specs), func(i, j int) { specs[i], specs[j] = specs[j], specs[i] })
		tm, err := compile(10, 0, 256, specs, 0, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(tm.classes) > 1 {
			multi++
		}
		plain := plainTemplate(t, tm)
		buf := make([]byte, tm.minLen)
		for range 20 {
			for i := range buf {
				buf[i] = byte(r.Uint32())
			}
			var a, b Flow
			tm.readRecord(buf, &a, nil)
			plain.readRecord(buf, &b, nil)
			if a != b {
				t.Fatalf("class readers %d and steps disagree for %v:\n%+v\n%+v", len(tm.classes), specs, a, b)
			}
		}
	}
	if multi < 50 {
		t.Fatalf("only %d of 500 templates used several classes", multi)
	}
}

// Records of templates with variable-length fields in random places: the
// class readers and steps rebased on the ends of the variable-length
// fields read what the field-by-field walk of the plain steps finds.
func TestVarLenStepsAgreeWithWalk(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	withClasses := 0
	normal := []fieldSpec{{id: 8, length: 4}, {id: 12, length: 4}, {id: 7, length: 2}, {id: 11, length: 2}, {id: 4, length: 1},
		{id: 1, length: 8}, {id: 2, length: 4}, {id: 152, length: 8}, {id: 153, length: 8}, {id: 10, length: 4}, {id: 56, length: 6}}
	for range 300 {
		var specs []fieldSpec
		for _, f := range normal {
			if r.IntN(3) != 0 {
				specs = append(specs, f)
			}
		}
		for range 1 + r.IntN(5) {
			specs = append(specs, fieldSpec{pen: 43874, id: uint16(100 + r.IntN(50)), length: VariableLength})
		}
		r.Shuffle(len(specs), func(i, j int) { specs[i], specs[j] = specs[j], specs[i] })
		tm, err := compile(10, 0, 256, specs, 0, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		// A record: random bytes, variable-length fields of random sizes
		// (some with the 3-byte prefix).
		var rec []byte
		for _, s := range specs {
			if s.length != VariableLength {
				for range s.length {
					rec = append(rec, byte(r.Uint32()))
				}
				continue
			}
			n := r.IntN(20)
			if r.IntN(4) == 0 {
				n = 255 + r.IntN(300)
				rec = append(rec, 255, byte(n>>8), byte(n))
			} else {
				rec = append(rec, byte(n))
			}
			for range n {
				rec = append(rec, byte(r.Uint32()))
			}
		}
		if n := tm.recordLen(rec); n != len(rec) {
			t.Fatalf("recordLen %d, want %d (%v)", n, len(rec), specs)
		}
		var got, want Flow
		var scratch []step
		tm.readRecord(rec, &got, &scratch)
		if len(tm.classes) != 0 {
			withClasses++
		}
		// The walk: each step's field offset found field by field, for
		// every step of the template compiled without class readers.
		noSpecialize = true
		plain, err := compile(10, 0, 256, specs, 0, false, nil)
		noSpecialize = false
		if err != nil {
			t.Fatal(err)
		}
		want.Has = tm.has
		var walked []step
		fi, off := 0, 0
		for _, st := range plain.steps {
			for ; fi < int(st.field); fi++ {
				off += fieldLen(rec, off, tm.fields[fi].Length)
			}
			st.off = uint16(off)
			walked = append(walked, st)
		}
		readSteps(rec, walked, &want)
		if got != want {
			t.Fatalf("template %v (%d class readers):\n got %+v\nwant %+v", specs, len(tm.classes), got, want)
		}
		// A data set of the record three times, read by readVarSet into
		// slots that held records of other templates.
		rs := make([]Record, 1, 4)
		rs[0].Flow = Flow{Has: HasTTL, TTL: 9}
		rs = rs[:cap(rs)]
		rs[1].Flow = Flow{Has: ^FieldSet(0) >> 1, SrcPort: 1, SamplerID: 2, SrcMAC: MAC{3}}
		rs[1].tmpl = templateV5
		rs = rs[:1]
		body := append(append(append([]byte(nil), rec...), rec...), rec...)
		env := setEnv{t: tm, addr: netip.MustParseAddr("192.0.2.9"), version: 10, seq: 7, domain: 5}
		// Then the record less its last byte: truncated, or padding when
		// shorter than the template's minimum.
		wantAt, wantErr := 100+len(body), ErrTruncated
		if len(rec)-1 < tm.minLen {
			wantAt, wantErr = 0, nil
		}
		if at, err := readVarSet(tm, &rs, append(body, rec[:len(rec)-1]...), 100, 8192, &env); err != wantErr || at != wantAt {
			t.Fatalf("readVarSet with a cut record after the records: %d, %v; want %d, %v", at, err, wantAt, wantErr)
		}
		if len(rs) != 4 {
			t.Fatalf("readVarSet: %d slots, want 1 + 3", len(rs))
		}
		for i, r := range rs[1:] {
			if r.Flow != want || r.Offset != 100+i*len(rec) || len(r.raw) != len(rec) || r.tmpl != tm || r.Domain != 5 {
				t.Fatalf("template %v, readVarSet record %d:\n got %+v (offset %d)\nwant %+v", specs, i, r.Flow, r.Offset, want)
			}
		}
		rs = rs[:0]
		if _, err := readVarSet(tm, &rs, body, 100, 2, &env); err != ErrLimit || len(rs) != 2 {
			t.Fatalf("readVarSet with room for 2 of 3 records: %d records, %v", len(rs), err)
		}
	}
	if withClasses < 10 {
		t.Fatalf("only %d of 300 templates used class readers", withClasses)
	}
}
