package decode

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var updateState = flag.Bool("update-state", false, "rewrite testdata/state/format2.jsonl")

var exporter3 = netip.MustParseAddr("192.0.2.3")

// stateDecoder returns a decoder that knows IPFIX templates with an init
// time and a sampler (loopback), v9 templates with a sampler (exporter2),
// both with data, and a template without data (exporter3), at known
// activity times.
func stateDecoder(t *testing.T) *Decoder {
	t.Helper()
	d := new(Decoder)
	var p Packet
	d.SetTime(1_700_000_000e9)
	if err := d.Decode(loopback, loadHex(t, "ipfix_templates_5_plus_20flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	d.SetTime(1_700_003_600e9)
	if err := d.Decode(exporter2, loadHex(t, "v9_template_2templates_8flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	opts := set(1, v9OptionsTemplate(257, []fs{{id: 1, length: 4}}, []fs{{id: 48, length: 1}, {id: 50, length: 4}}), u16(0))
	if err := d.Decode(exporter2, v9Packet(1, exportSecs, 2, 0, 2, opts, set(257, u32(0), u8(5), u32(64), u16(0))), &p); err != nil {
		t.Fatal(err)
	}
	if err := d.Decode(exporter3, ipfixPacket(exportSecs, 0, 0, smallTemplate), &p); err != nil {
		t.Fatal(err)
	}
	return d
}

func writeState(t testing.TB, d *Decoder, activeSince int64) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := d.WriteState(&b, activeSince); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func readState(t testing.TB, state []byte, d *Decoder) error {
	t.Helper()
	return ReadState(bytes.NewReader(state), func(netip.Addr) *Decoder { return d })
}

// checkRestored requires that d decodes the data of stateDecoder's
// exporters without their templates being re-sent.
func checkRestored(t *testing.T, d *Decoder) {
	t.Helper()
	var p Packet
	if err := d.Decode(loopback, loadHex(t, "ipfix_data_only_2sets_3flows.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "IPFIX records", len(p.Records), 3)
	if p.Records[0].Has&HasStart == 0 {
		t.Error("restored decoder lost the system init time")
	}
	if err := d.Decode(exporter2, loadHex(t, "v9_data_only_3pkts_12flows_each.hex")[0], &p); err != nil {
		t.Fatal(err)
	}
	check(t, "v9 records", len(p.Records), 12)
	check(t, "sampler restored", d.SamplingRate(exporter2, 0, 5), 64)
}

func TestStateStreamRoundTrip(t *testing.T) {
	d := stateDecoder(t)
	state := writeState(t, d, 0)
	golden := filepath.Join("testdata", "state", "format2.jsonl")
	if *updateState {
		if err := os.WriteFile(golden, state, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want, err := os.ReadFile(golden); err != nil || !bytes.Equal(state, want) {
		t.Errorf("state differs from %s (go test ./decode -run TestStateStreamRoundTrip -update-state):\n%s", golden, state)
	}
	if !bytes.HasPrefix(state, []byte(`{"nfkit_state":2}`+"\n")) {
		t.Errorf("state does not start with the format line: %.40q", state)
	}
	var d2 Decoder
	if err := readState(t, state, &d2); err != nil {
		t.Fatal(err)
	}
	check(t, "templates", d2.NumTemplates(), d.NumTemplates())
	check(t, "stable", string(writeState(t, &d2, 0)), string(state))
	e := d2.Exporters()
	check(t, "activity restored (rounded)", e[0].Active, floorActivity(1_700_000_000e9))
	check(t, "proven restored", e[0].Proven, true)
	check(t, "unproven restored", e[2].Proven, false)
	checkRestored(t, &d2)

	// A concatenation of two decoders' states is one stream; each
	// exporter goes to the decoder into chooses.
	var a, b Decoder
	a.Limits.MaxExporters = 1
	halves := [2]*Decoder{&a, &b}
	var both bytes.Buffer
	for _, half := range []netip.Addr{loopback, exporter2, exporter3} {
		var one Decoder
		if err := ReadState(bytes.NewReader(state), func(a netip.Addr) *Decoder {
			if a == half {
				return &one
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		both.Write(writeState(t, &one, 0))
	}
	err := ReadState(&both, func(addr netip.Addr) *Decoder {
		if addr == loopback {
			return halves[0]
		}
		return halves[1]
	})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "first decoder", a.TemplatesOf(loopback), 5)
	check(t, "second decoder", b.TemplatesOf(exporter2), 3)
	check(t, "first decoder has only its exporter", a.TemplatesOf(exporter2), 0)
	check(t, "first decoder evicted nothing", a.Stats().EvictedExporters, 0)
}

// WriteState leaves out exporters idle since activeSince; ReadState skips
// the exporters into returns nil for.
func TestWriteStateActiveSince(t *testing.T) {
	d := stateDecoder(t)
	state := writeState(t, d, 1_700_003_600e9)
	if bytes.Contains(state, []byte(`"127.0.0.1"`)) || !bytes.Contains(state, []byte(`"192.0.2.2"`)) {
		t.Errorf("idle exporter not skipped:\n%s", state)
	}
	var d2 Decoder
	if err := ReadState(bytes.NewReader(writeState(t, d, 0)), func(a netip.Addr) *Decoder {
		if a == loopback {
			return nil
		}
		return &d2
	}); err != nil {
		t.Fatal(err)
	}
	check(t, "skipped exporter", d2.TemplatesOf(loopback), 0)
	check(t, "kept exporter", d2.TemplatesOf(exporter2), 3)
	// Expiry survives a restart: the restored activity times.
	check(t, "expired after restore", d2.ExpireIdle(1_700_003_600e9-ActivityResolution), 0)
	check(t, "expired after restore", d2.ExpireIdle(1_700_003_600e9+1), 2)
}

// A state file written by earlier versions (format 1, one JSON document)
// still loads.
func TestStateLegacyFormat(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "state", "format1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	if err := readState(t, b, &d); err != nil {
		t.Fatal(err)
	}
	check(t, "templates", d.NumTemplates(), 8)
	checkRestored(t, &d)
	// Its bad entries are reported, the good ones kept.
	bad := `{"format":1,"templates":[{"exporter":"192.0.2.1","version":10,"domain":0,"id":256,"def":"01000001"},
		{"exporter":"nonsense","version":10,"domain":0,"id":258,"def":"0102000100080004"},
		{"exporter":"192.0.2.1","version":10,"domain":0,"id":257,"def":"0101000100080004"}],
		"samplers":[{"exporter":"192.0.2.1","domain":0,"value":10}]}`
	var d2 Decoder
	err = readState(t, []byte(bad), &d2)
	if !errors.Is(err, ErrTemplate) || !errors.Is(err, ErrState) {
		t.Errorf("bad format 1 entries: %v, want ErrTemplate and ErrState", err)
	}
	check(t, "good template kept", d2.TemplatesOf(netip.MustParseAddr("192.0.2.1")), 1)
	check(t, "sampler kept", d2.SamplingRate(netip.MustParseAddr("192.0.2.1"), 0, 0), 10)
	// An unknown format is refused as a whole.
	if err := readState(t, []byte(`{"format":3,"templates":[]}`), &d2); !errors.Is(err, ErrState) {
		t.Errorf("format 3: %v", err)
	}
	if err := readState(t, []byte(`{"nfkit_state":3}`+"\n"), &d2); !errors.Is(err, ErrState) {
		t.Errorf("nfkit_state 3: %v", err)
	}
	if err := readState(t, []byte("  \n"), &d2); err != nil {
		t.Errorf("empty state: %v", err)
	}
	if err := readState(t, []byte("PK\x03\x04"), &d2); !errors.Is(err, ErrState) {
		t.Errorf("not a state file: %v", err)
	}
}

// Corrupt lines are reported with their line number and skipped; the valid
// entries before and after them are kept.
func TestStateCorruptLines(t *testing.T) {
	d := stateDecoder(t)
	lines := strings.SplitAfter(string(writeState(t, d, 0)), "\n")
	// lines: 0 header, 1 exporter 127.0.0.1, 2-6 its templates, ...
	var b strings.Builder
	b.WriteString(lines[0])
	b.WriteString(lines[1])
	b.WriteString(lines[2])
	b.WriteString("{\"exporter\":\"127.0.0.1\",\"template\":\n")                                         // line 4: broken JSON
	b.WriteString(`{"exporter":"127.0.0.1","template":999,"version":10,"domain":0,"def":"03e7"}` + "\n") // 5: bad template
	b.WriteString(`{"exporter":"127.0.0.1","template":300,"version":10,"domain":0,"def":"zz"}` + "\n")   // 6: bad hex
	b.WriteString(`{"exporter":"127.0.0.1","template":300,"version":10,"domain":0,"def":"` +
		strings.Repeat("00", 200<<10) + "\"}\n") // 7: too long
	b.WriteString(`{"exporter":"127.0.0.1","domain":0}` + "\n")                                                        // 8: no kind
	b.WriteString(`{"exporter":"127.0.0.1","template":256,"version":10,"domain":0,"def":"010100010008000400"}` + "\n") // 9: id mismatch
	b.WriteString("\n")                                                                                                // 10: blank
	for _, l := range lines[3:] {
		b.WriteString(l)
	}
	b.WriteString(`{"exporter":"192.0.2.9","templ`) // cut last line
	var d2 Decoder
	err := readState(t, []byte(b.String()), &d2)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"state line 4:", "state line 5 exporter 127.0.0.1 template 999: malformed template",
		"state line 6 exporter 127.0.0.1 template 300", "state line 7: malformed state entry: line longer than",
		"state line 8 exporter 127.0.0.1: malformed state entry", "state line 9 exporter 127.0.0.1 template 256: malformed template"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	var se *StateError
	if !errors.As(err, &se) || se.Line != 4 {
		t.Errorf("first error %v, want a *StateError of line 4", se)
	}
	check(t, "templates", d2.NumTemplates(), d.NumTemplates())
	checkRestored(t, &d2)

	// Thousands of bad lines: the error stays small.
	var many bytes.Buffer
	many.WriteString(`{"nfkit_state":2}` + "\n")
	for range 5000 {
		many.WriteString("garbage\n")
	}
	err = readState(t, many.Bytes(), &d2)
	if !strings.Contains(err.Error(), "4984 more unusable state entries") || len(err.Error()) > 4096 {
		t.Errorf("error for 5000 bad lines: %.300s", err)
	}
}

// Saved templates go through the limits of the decoder they are read into.
func TestReadStateLimits(t *testing.T) {
	d := stateDecoder(t)
	d2 := Decoder{Limits: Limits{MaxTemplates: 2}}
	if err := readState(t, writeState(t, d, 0), &d2); err != nil {
		t.Fatal(err)
	}
	check(t, "templates per exporter", d2.TemplatesOf(loopback), 2)
	check(t, "evicted", d2.Stats().TemplatesEvictedMaxTemplates, 3+1)
	d3 := Decoder{Limits: Limits{MaxFields: 3}}
	if err := readState(t, writeState(t, d, 0), &d3); !errors.Is(err, ErrLimit) {
		t.Errorf("templates larger than MaxFields: %v, want ErrLimit", err)
	}
}

// manyTemplates returns a decoder with exporters × perExporter one-field
// templates.
func manyTemplates(t testing.TB, exporters, perExporter int) *Decoder {
	d := new(Decoder)
	var p Packet
	var sets [][]byte
	for e := range exporters {
		for id := 0; id < perExporter; id += 100 {
			sets = sets[:0]
			for j := id; j < min(id+100, perExporter); j++ {
				sets = append(sets, ipfixTemplate(uint16(256+j), 0, fs{id: 8, length: 4}))
			}
			if err := d.Decode(floodAddr(e), ipfixPacket(exportSecs, 0, 0, set(2, sets...)), &p); err != nil {
				t.Fatal(err)
			}
		}
	}
	return d
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// WriteState streams: writing twice the templates allocates no more, and
// far less than the output.
func TestWriteStateMemory(t *testing.T) {
	small, large := manyTemplates(t, 4, 4096), manyTemplates(t, 8, 4096)
	var n int64
	write := func(d *Decoder) func() {
		return func() {
			w := &countWriter{}
			if err := d.WriteState(w, 0); err != nil {
				t.Fatal(err)
			}
			n = w.n
		}
	}
	a := allocated(write(small))
	b := allocated(write(large))
	t.Logf("%d templates: %d bytes allocated; %d templates: %d bytes allocated for %d bytes written", 4*4096, a, 8*4096, b, n)
	if b > a+4096 || b > uint64(n)/8 {
		t.Errorf("WriteState allocates with the state: %d bytes for %d templates, %d for %d (output %d bytes)", a, 4*4096, b, 8*4096, n)
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// ReadState streams: entries are learned while the input is still being
// read, with a bounded buffer.
func TestReadStateStreams(t *testing.T) {
	state := writeState(t, manyTemplates(t, 8, 4096), 0)
	var d Decoder
	r := &watchReader{b: state, d: &d}
	if err := ReadState(r, func(netip.Addr) *Decoder { return &d }); err != nil {
		t.Fatal(err)
	}
	check(t, "templates", d.NumTemplates(), 8*4096)
	// When the last bytes were handed over, all but at most a buffer's
	// worth of entries were already in the decoder.
	perLine := len(state) / (8 * 4096)
	if r.atLast < 8*4096-2*maxStateLine/perLine {
		t.Errorf("only %d of %d templates learned before the end of the input: ReadState buffers", r.atLast, 8*4096)
	}
}

// watchReader hands out b in small pieces and notes how many templates d
// knew when it handed out the last one.
type watchReader struct {
	b      []byte
	d      *Decoder
	atLast int
}

func (r *watchReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 4096)], r.b)
	r.b = r.b[n:]
	if len(r.b) == 0 {
		r.atLast = r.d.NumTemplates()
	}
	return n, nil
}

// WriteState into a caller's bufio.Writer leaves the flush to the caller.
func TestWriteStateBufio(t *testing.T) {
	d := stateDecoder(t)
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := d.WriteState(w, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	check(t, "same bytes", b.String(), string(writeState(t, d, 0)))
	if err := d.WriteState(failWriter{}, 0); err == nil {
		t.Error("write error not returned")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// An exporter address with an IPv6 zone is written as valid JSON.
func TestWriteStateZone(t *testing.T) {
	var d Decoder
	zoned := netip.MustParseAddr(`fe80::1%eth"0\`)
	decodeRecords(t, &d, zoned, ipfixPacket(exportSecs, 0, 0, smallTemplate), 0)
	var d2 Decoder
	if err := readState(t, writeState(t, &d, 0), &d2); err != nil {
		t.Fatal(err)
	}
	check(t, "zoned exporter restored", d2.TemplatesOf(zoned), 1)
}

// FuzzReadState: any input gives typed errors, never a panic, and what was
// loaded writes out and reads back to the same state.
func FuzzReadState(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "state", "*"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	limits := Limits{MaxExporters: 8, MaxTemplates: 16, MaxTotalFields: 4096, MaxSamplers: 8}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := Decoder{Limits: limits}
		if err := readState(t, data, &d); err != nil {
			_ = err.Error()
			var se *StateError
			if !errors.As(err, &se) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
		}
		state := writeState(t, &d, 0)
		d2 := Decoder{Limits: limits}
		if err := readState(t, state, &d2); err != nil {
			t.Fatalf("reading written state: %v\n%s", err, state)
		}
		if again := writeState(t, &d2, 0); !bytes.Equal(again, state) {
			t.Fatalf("state changed on reading:\n%s\n%s", state, again)
		}
	})
}

// Saving and restoring the state of 8 exporters × 4096 templates.
func BenchmarkWriteState(b *testing.B) {
	d := manyTemplates(b, 8, 4096)
	w := &countWriter{}
	b.ReportAllocs()
	for b.Loop() {
		w.n = 0
		if err := d.WriteState(w, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(w.n)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(8*4096), "ns/template")
}

func BenchmarkReadState(b *testing.B) {
	state := writeState(b, manyTemplates(b, 8, 4096), 0)
	b.ReportAllocs()
	b.SetBytes(int64(len(state)))
	for b.Loop() {
		var d Decoder
		if err := readState(b, state, &d); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(8*4096), "ns/template")
}
