package decode_test

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/nfkit/nfkit/decode"
	tv "github.com/nfkit/nfkit/internal/testvec"
)

var appExporter = netip.MustParseAddr("192.0.2.50")

// field specifiers of hand-built templates
func spec(id, length uint16) []byte { return tv.Cat(tv.U16(id), tv.U16(length)) }

// varBytes is an IPFIX variable-length value (short form).
func varBytes(v []byte) []byte { return append([]byte{byte(len(v))}, v...) }

// Application ids: NBAR's (engine 13, PANA-L7) ssh and http.
var (
	appSSH  = []byte{13, 0x00, 0x01, 0xc5} // 13:453
	appHTTP = []byte{13, 0x00, 0x00, 0x50} // 13:80
)

// appPackets builds IPFIX messages of domain 7: an options template 500
// (scope applicationId, then applicationName, both variable-length), a data
// template 501 (sourceIPv4Address, applicationId of 4 bytes), and the
// option and data records given.
type appPackets struct{ seq uint32 }

func (p *appPackets) templates() []byte {
	p.seq++
	return tv.IPFIX(p.seq, 7,
		tv.Set(3, tv.U16(500), tv.U16(2), tv.U16(1), spec(95, 0xffff), spec(96, 0xffff)),
		tv.Set(2, tv.U16(501), tv.U16(2), spec(8, 4), spec(95, 4)))
}

// names is an options data set announcing id → name pairs.
func names(pairs ...[]byte) []byte {
	var body []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		body = tv.Cat(body, varBytes(pairs[i]), varBytes(pairs[i+1]))
	}
	return tv.Set(500, body)
}

// flows is a data set of one flow per application id.
func flows(ids ...[]byte) []byte {
	var body []byte
	for i, id := range ids {
		body = tv.Cat(body, []byte{192, 0, 2, byte(i + 1)}, id)
	}
	return tv.Set(501, body)
}

func (p *appPackets) msg(sets ...[]byte) []byte {
	p.seq++
	return tv.IPFIX(p.seq, 7, sets...)
}

// appNameOf decodes pkt and returns the application name of each flow
// ("-" for none).
func appNameOf(t *testing.T, d *decode.Decoder, pkt []byte) []string {
	t.Helper()
	var out decode.Packet
	if err := d.Decode(appExporter, pkt, &out); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	var got []string
	for i := range out.Records {
		name, ok := out.Records[i].ApplicationName()
		if !ok {
			name = "-"
		}
		got = append(got, name)
	}
	return got
}

func checkNames(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: names %q, want %q", what, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: names %q, want %q", what, got, want)
			return
		}
	}
}

// TestApplicationName: names announced in options data (applicationId with
// applicationName) name the flows of the exporter's domain; a changed name
// replaces the old one, NUL padding goes, an empty name forgets the id.
func TestApplicationName(t *testing.T) {
	var d decode.Decoder
	var p appPackets
	checkNames(t, "before any name", appNameOf(t, &d, tv.Cat(p.templates())))
	checkNames(t, "no name yet", appNameOf(t, &d, p.msg(flows(appSSH))), "-")
	// Data before the options in the same message: the names apply to
	// the whole message.
	checkNames(t, "announced", appNameOf(t, &d, p.msg(flows(appSSH, appHTTP), names(appSSH, []byte("ssh"), appHTTP, []byte("http\x00\x00")))), "ssh", "http")
	checkNames(t, "changed", appNameOf(t, &d, p.msg(names(appSSH, []byte("secure-shell")), flows(appHTTP, appSSH))), "http", "secure-shell")
	checkNames(t, "removed", appNameOf(t, &d, p.msg(names(appHTTP, []byte{}), flows(appHTTP, appSSH))), "-", "secure-shell")
	if n := d.ApplicationNames(appExporter); n != 1 {
		t.Errorf("ApplicationNames = %d, want 1", n)
	}
	// Another domain has its own names.
	var out decode.Packet
	other := tv.IPFIX(99, 8, tv.Set(2, tv.U16(501), tv.U16(2), spec(8, 4), spec(95, 4)), flows(appSSH))
	if err := d.Decode(appExporter, other, &out); err != nil {
		t.Fatal(err)
	}
	if name, ok := out.Records[0].ApplicationName(); ok {
		t.Errorf("domain 8 flow named %q by domain 7's options", name)
	}
	// Bad names are not learned: invalid UTF-8, an id too long to keep.
	long := bytes.Repeat([]byte{1}, 17)
	checkNames(t, "bad names", appNameOf(t, &d, p.msg(names(appHTTP, []byte{0xff, 0xfe}, long, []byte("long")), flows(appHTTP))), "-")
	if n := d.ApplicationNames(appExporter); n != 1 {
		t.Errorf("ApplicationNames = %d after bad names, want 1", n)
	}
	// A long name is cut at a character boundary.
	longName := bytes.Repeat([]byte("é"), 100) // 200 bytes
	checkNames(t, "long name", appNameOf(t, &d, p.msg(names(appHTTP, longName), flows(appHTTP))), string(longName[:128]))
}

// TestApplicationNameBound: an exporter keeps at most MaxApplications
// names; further ids are ignored while known ones still change.
func TestApplicationNameBound(t *testing.T) {
	d := decode.Decoder{Limits: decode.Limits{MaxApplications: 2}}
	var p appPackets
	a, b, c := []byte{13, 0, 0, 1}, []byte{13, 0, 0, 2}, []byte{13, 0, 0, 3}
	checkNames(t, "bound", appNameOf(t, &d, tv.Cat(p.templates())))
	checkNames(t, "bound", appNameOf(t, &d, p.msg(names(a, []byte("a"), b, []byte("b"), c, []byte("c")), flows(a, b, c))), "a", "b", "-")
	if n := d.ApplicationNames(appExporter); n != 2 {
		t.Errorf("ApplicationNames = %d, want 2 (the bound)", n)
	}
	checkNames(t, "change at the bound", appNameOf(t, &d, p.msg(names(b, []byte("b2"), c, []byte("c")), flows(a, b, c))), "a", "b2", "-")
	checkNames(t, "room again", appNameOf(t, &d, p.msg(names(a, nil, c, []byte("c")), flows(a, b, c))), "-", "b2", "c")
}

// TestApplicationNameV9: Cisco's NetFlow v9 application table (options
// scope System, APPLICATION_TAG, 24-byte APPLICATION_NAME) and a FortiGate
// APP_ID_OPTIONS record (9-byte APPLICATION_ID, 64-byte name) name the
// APPLICATION_TAG of v9 flows.
func TestApplicationNameV9(t *testing.T) {
	var d decode.Decoder
	pad := func(s string, n int) []byte { return append([]byte(s), make([]byte, n-len(s))...) }
	forti := []byte{0x01, 0, 0, 0, 0, 0, 0, 0x3e, 0x81} // 9 bytes
	tmpl := tv.V9(1, 3,
		tv.Set(1, tv.U16(260), tv.U16(4), tv.U16(8), spec(1, 4), spec(95, 4), spec(96, 24)),
		tv.Set(1, tv.U16(261), tv.U16(4), tv.U16(8), spec(1, 4), spec(95, 9), spec(96, 64)),
		tv.Set(0, tv.U16(262), tv.U16(2), spec(8, 4), spec(95, 4)),
		tv.Set(0, tv.U16(263), tv.U16(2), spec(8, 4), spec(95, 9)))
	opts := tv.V9(2, 3,
		tv.Set(260, tv.U32(0), appSSH, pad("ssh", 24)),
		tv.Set(261, tv.U32(0), forti, pad("Google.Services", 64)))
	data := tv.V9(3, 3,
		tv.Set(262, []byte{192, 0, 2, 1}, appSSH, []byte{192, 0, 2, 2}, appHTTP),
		tv.Set(263, []byte{192, 0, 2, 3}, forti))
	var out decode.Packet
	for _, pkt := range [][]byte{tmpl, opts} {
		if err := d.Decode(appExporter, pkt, &out); err != nil {
			t.Fatal(err)
		}
	}
	checkNames(t, "v9", appNameOf(t, &d, data), "ssh", "-", "Google.Services")
}

// TestApplicationNameAllocs: re-sent names and the lookups allocate
// nothing.
func TestApplicationNameAllocs(t *testing.T) {
	var d decode.Decoder
	var p appPackets
	pkt := p.msg(names(appSSH, []byte("ssh"), appHTTP, []byte("http")), flows(appSSH, appHTTP))
	var out decode.Packet
	for _, b := range [][]byte{p.templates(), pkt} {
		if err := d.Decode(appExporter, b, &out); err != nil {
			t.Fatal(err)
		}
	}
	n := testing.AllocsPerRun(100, func() {
		if err := d.Decode(appExporter, pkt, &out); err != nil {
			t.Fatal(err)
		}
		for i := range out.Records {
			if _, ok := out.Records[i].ApplicationName(); !ok {
				t.Fatal("no name")
			}
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}

func TestParseApplicationID(t *testing.T) {
	for _, tc := range []struct {
		v    []byte
		want string
	}{
		{appSSH, "13:453"},
		{[]byte{3, 0x00, 0x50}, "3:80"},
		{[]byte{1, 0, 0, 0, 0, 0, 0, 0x3e, 0x81}, "1:16001"},
		{[]byte{20, 0, 0, 0, 9, 0x30, 0x39}, "20:9:12345"},
		{[]byte{13, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "13:18446744073709551615"},
	} {
		id, ok := decode.ParseApplicationID(tc.v)
		if !ok || id.String() != tc.want {
			t.Errorf("ParseApplicationID(%x) = %v, %v, want %s", tc.v, id, ok, tc.want)
		}
	}
	for _, v := range [][]byte{nil, {13}, {20, 0, 0, 0, 9}, bytes.Repeat([]byte{13}, 10), append([]byte{20, 0, 0, 0, 9}, bytes.Repeat([]byte{1}, 9)...)} {
		if id, ok := decode.ParseApplicationID(v); ok {
			t.Errorf("ParseApplicationID(%x) = %v, want not ok", v, id)
		}
	}
}

// TestApplicationNameState: application names are saved with the state
// and restored, so that flows right after a restart are named; a bad
// saved name is reported with its line and skipped.
func TestApplicationNameState(t *testing.T) {
	var d decode.Decoder
	var p appPackets
	checkNames(t, "learn", appNameOf(t, &d, tv.Cat(p.templates())))
	checkNames(t, "learn", appNameOf(t, &d, p.msg(names(appSSH, []byte("ssh"), appHTTP, []byte(`we"b`)), flows(appSSH))), "ssh")
	var saved bytes.Buffer
	if err := d.WriteState(&saved, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(saved.Bytes(), []byte(`"domain":7,"app_id":"0d000050","app_name":"we\"b"}`)) {
		t.Errorf("state lacks the application name line:\n%s", saved.Bytes())
	}
	var d2 decode.Decoder
	if err := d2.UnmarshalState(saved.Bytes()); err != nil {
		t.Fatal(err)
	}
	checkNames(t, "restored", appNameOf(t, &d2, p.msg(flows(appHTTP, appSSH))), `we"b`, "ssh")

	bad := `{"nfkit_state":2}` + "\n" +
		`{"exporter":"192.0.2.50","domain":7,"app_id":"zz","app_name":"x"}` + "\n" +
		`{"exporter":"192.0.2.50","domain":7,"app_id":"0d000050","app_name":""}` + "\n" +
		`{"exporter":"192.0.2.50","domain":7,"app_id":"0d0001c5","app_name":"ssh2"}` + "\n"
	var d3 decode.Decoder
	err := d3.UnmarshalState([]byte(bad))
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "bad application id or name") {
		t.Errorf("UnmarshalState(bad lines) = %v, want errors naming lines 2 and 3", err)
	}
	if n := d3.ApplicationNames(appExporter); n != 1 {
		t.Errorf("ApplicationNames = %d after loading, want 1", n)
	}
}
