package decode

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"net/netip"
	"strconv"
	"unicode/utf8"
)

// Application ids and names (RFC 6759).
//
// applicationId (IANA 95, NetFlow v9 APPLICATION_TAG) is a classification
// engine id (one byte) followed by a selector id: "13:453" is NBAR's
// (engine 13, PANA-L7) selector 453. Exporters that classify applications
// (Cisco AVC/NBAR, FortiGate) announce the names of their ids in options
// data, an options template with applicationId and applicationName (96);
// the Decoder keeps them per exporter and observation domain, and
// Record.ApplicationName gives the name of a flow's applicationId.

const (
	ieApplicationID   = 95
	ieApplicationName = 96
	// engineL7PEN is the classification engine PANA-L7-PEN (RFC 6759
	// §4.1): the selector starts with a 4-byte enterprise number.
	engineL7PEN = 20
	// maxAppIDLen bounds the applicationId values that name tables learn
	// (the longest seen, FortiGate's, have 9 bytes); maxAppNameLen bounds
	// a kept name, in bytes (longer ones are cut at a character boundary).
	maxAppIDLen   = 16
	maxAppNameLen = 128
)

// ApplicationID is an RFC 6759 application id: a classification engine id
// and a selector id. For engine 20 (PANA-L7-PEN) PEN is the selector's
// enterprise number and Selector what follows it.
type ApplicationID struct {
	Selector uint64
	PEN      uint32
	Engine   uint8
}

// ParseApplicationID reads an applicationId value: an engine byte and a
// selector of 1 to 8 bytes (engine 20: a 4-byte enterprise number and 1
// to 8 bytes). It reports false for any other form.
//
//nfkit:hot
func ParseApplicationID(v []byte) (ApplicationID, bool) {
	if len(v) < 2 {
		return ApplicationID{}, false
	}
	a := ApplicationID{Engine: v[0]}
	sel := v[1:]
	if a.Engine == engineL7PEN {
		if len(sel) < 5 {
			return ApplicationID{}, false
		}
		a.PEN = binary.BigEndian.Uint32(sel)
		sel = sel[4:]
	}
	if len(sel) > 8 {
		return ApplicationID{}, false
	}
	a.Selector = beUint(sel)
	return a, true
}

// AppendText appends the id as engine:selector ("13:453"), or
// engine:pen:selector for engine 20 ("20:9:12345").
//
//nfkit:hot
func (a ApplicationID) AppendText(b []byte) ([]byte, error) {
	b = strconv.AppendUint(b, uint64(a.Engine), 10)
	b = append(b, ':')
	if a.Engine == engineL7PEN {
		b = strconv.AppendUint(b, uint64(a.PEN), 10)
		b = append(b, ':')
	}
	return strconv.AppendUint(b, a.Selector, 10), nil
}

func (a ApplicationID) String() string {
	b, _ := a.AppendText(make([]byte, 0, 24))
	return string(b)
}

// IsApplicationID reports whether the field is an applicationId (IANA 95,
// NetFlow v9 APPLICATION_TAG), whose value ParseApplicationID reads.
//
//nfkit:hot
func (f *TemplateField) IsApplicationID() bool {
	return f.PEN == 0 && f.ID == ieApplicationID && f.Element.Semantics != semanticsUnknown
}

// appKey is an application id of one observation domain in an exporter's
// name table.
type appKey struct {
	domain uint32
	n      uint8
	id     [maxAppIDLen]byte
}

// makeAppKey returns the key of application id v in domain, false when v
// is empty or longer than maxAppIDLen.
//
//nfkit:hot
func makeAppKey(domain uint32, v []byte) (appKey, bool) {
	k := appKey{domain: domain, n: uint8(len(v))}
	if len(v) == 0 || len(v) > maxAppIDLen {
		return k, false
	}
	copy(k.id[:], v)
	return k, true
}

// appNames is an exporter's table of application names, bounded by
// Limits.MaxApplications.
type appNames struct {
	m map[appKey]string
}

// appLink is what a template that carries applicationId or applicationName
// needs: the fields' indices (-1 when absent) and its exporter's table,
// set when the template is stored.
type appLink struct {
	names    *appNames
	id, name int
}

// linkApp returns the appLink of a compiled template, nil when it has
// neither element. (v9 options scope fields have their own number space.)
func linkApp(t *Template) *appLink {
	id, name := -1, -1
	for i := range t.fields {
		f := &t.fields[i]
		if f.PEN != 0 || (f.Scope && t.Version != 10) {
			continue
		}
		switch {
		case f.ID == ieApplicationID && id < 0:
			id = i
		case f.ID == ieApplicationName && name < 0:
			name = i
		}
	}
	if id < 0 && name < 0 {
		return nil // no allocation for the templates without either
	}
	return &appLink{id: id, name: name}
}

// ApplicationName returns the name the exporter announced (in options
// data: applicationId with applicationName) for the record's
// applicationId in its observation domain, and whether there is one. It
// reads the Decoder's table as it is when called, so names announced later
// in the same packet count; call it before the Decoder decodes the next
// packet (like the record itself). The string stays valid.
//
//nfkit:hot
func (r *Record) ApplicationName() (string, bool) {
	t := r.tmpl
	if t == nil || t.app == nil || t.app.id < 0 || t.app.names == nil || len(t.app.names.m) == 0 {
		return "", false
	}
	f, ok := r.FieldAt(t.app.id)
	if !ok {
		return "", false
	}
	k, ok := makeAppKey(r.Domain, f.Value)
	if !ok {
		return "", false
	}
	name, ok := t.app.names.m[k]
	return name, ok
}

// learnAppName records the application name an options record of template
// t announces for its application id: a new or changed name replaces the
// old one, an empty name removes it, and a new id beyond
// Limits.MaxApplications is ignored. Names are kept without the NUL
// padding of fixed-length fields, valid UTF-8 only, cut to maxAppNameLen
// bytes.
//
//nfkit:hot
func (d *Decoder) learnAppName(ex *exporter, r *Record, a *appLink) {
	idf, ok := r.FieldAt(a.id)
	if !ok {
		return
	}
	nf, ok := r.FieldAt(a.name)
	if !ok {
		return
	}
	k, ok := makeAppKey(r.Domain, idf.Value)
	if !ok {
		return
	}
	d.storeAppName(ex, k, appName(nf.Value))
}

// storeAppName records name for application id k of ex, as learnAppName
// describes.
//
//nfkit:hot
func (d *Decoder) storeAppName(ex *exporter, k appKey, name []byte) {
	if !utf8.Valid(name) {
		return
	}
	old, have := ex.apps.m[k]
	switch {
	case have && old == string(name):
		return
	case len(name) == 0:
		if have {
			delete(ex.apps.m, k)
			d.changed()
		}
		return
	case !have && len(ex.apps.m) >= d.lim.MaxApplications:
		return
	}
	d.setAppName(ex, k, name)
}

// setAppName stores a new or changed name.
//
//nfkit:cold once per new or changed application name, bounded by MaxApplications
func (d *Decoder) setAppName(ex *exporter, k appKey, name []byte) {
	if ex.apps.m == nil {
		ex.apps.m = make(map[appKey]string)
	}
	ex.apps.m[k] = string(name)
	d.changed()
}

// appName trims the NUL padding of v and cuts it to maxAppNameLen bytes at
// a character boundary.
//
//nfkit:hot
func appName(v []byte) []byte {
	for len(v) > 0 && v[len(v)-1] == 0 {
		v = v[:len(v)-1]
	}
	if len(v) > maxAppNameLen {
		cut := maxAppNameLen
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		v = v[:cut]
	}
	return v
}

// ApplicationNames returns the number of application names known for
// exporter.
func (d *Decoder) ApplicationNames(exporter netip.Addr) int {
	if ex := d.exporters[exporter]; ex != nil {
		return len(ex.apps.m)
	}
	return 0
}

// compareAppKeys orders the keys of a name table by domain, then id.
func compareAppKeys(a, b appKey) int {
	if a.domain != b.domain {
		return cmp.Compare(a.domain, b.domain)
	}
	return bytes.Compare(a.id[:a.n], b.id[:b.n])
}
