package decode

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
)

// The template and sampling state of a Decoder can be saved and restored,
// so that a collector restarted between an exporter's template refreshes
// decodes data right away (templates are re-sent only every few minutes by
// many exporters).
//
// The format is JSON lines, written and read as a stream so that neither
// side holds more than one exporter's entries besides the Decoder itself:
//
//	{"nfkit_state":2}
//	{"exporter":"192.0.2.1","active":1709294400,"proven":true}
//	{"exporter":"192.0.2.1","template":256,"version":10,"domain":0,"def":"0100000200080004000c0004"}
//	{"exporter":"192.0.2.1","template":257,"version":10,"domain":0,"options":true,"def":"..."}
//	{"exporter":"192.0.2.1","domain":0,"sampler":5,"rate":64}
//	{"exporter":"192.0.2.1","domain":0,"init_ms":1709290000000}
//	{"exporter":"192.0.2.1","domain":0,"app_id":"0d0001c5","app_name":"ssh"}
//
// The first line names the format. Then, per exporter in address order,
// an exporter line (last activity in Unix seconds, rounded down to
// ActivityResolution; "proven" when data was decoded with its templates),
// its templates ordered by domain and id (def is the template record as
// received, in hex), its announced sampling rates and its system init times
// (Unix ms) ordered by domain and sampler, and its application names
// (applicationId in hex) ordered by domain and id. (Versions before
// application names skip their lines, reporting each.) Every line is self-contained, so
// a bad line loses only its own entry, and a concatenation of several
// WriteState outputs (one per Decoder) is a valid state stream.

const (
	stateHeader  = `{"nfkit_state":2}`
	stateFormat  = 2
	legacyFormat = 1
	// maxStateLine bounds a line of a state stream (and a legacy entry):
	// a template record fits in a 64 KiB set, 128 KiB in hex.
	maxStateLine = 256 << 10
	// maxStateErrors bounds the entry errors ReadState keeps.
	maxStateErrors = 16
)

// WriteState writes the decoder's templates, announced sampling rates,
// system init times and exporter activity to w as a stream of JSON lines
// (see the format above), in a stable order, without building the state in
// memory. Exporters whose last packet came before activeSince (Unix ns, see
// SetTime) are left out; 0 leaves out none. When w is a *bufio.Writer,
// WriteState writes into it and leaves flushing to the caller; otherwise
// it buffers and flushes itself.
func (d *Decoder) WriteState(w io.Writer, activeSince int64) error {
	bw, caller := w.(*bufio.Writer)
	if !caller {
		bw = bufio.NewWriterSize(w, 64<<10)
	}
	if _, err := bw.WriteString(stateHeader + "\n"); err != nil {
		return err
	}
	addrs := make([]netip.Addr, 0, len(d.exporters))
	for a, ex := range d.exporters {
		if ex.active >= activeSince {
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	var (
		line  []byte
		tmpls []*Template
		skeys []skey
		doms  []uint32
		akeys []appKey
	)
	write := func() error {
		line = append(line, "}\n"...)
		_, err := bw.Write(line)
		return err
	}
	for _, a := range addrs {
		ex := d.exporters[a]
		line = appendExporterKey(line[:0], a)
		line = append(line, `,"active":`...)
		line = strconv.AppendInt(line, floorActivity(ex.active)/1e9, 10)
		if ex.class == proven {
			line = append(line, `,"proven":true`...)
		}
		if err := write(); err != nil {
			return err
		}

		tmpls = tmpls[:0]
		for _, t := range ex.templates {
			tmpls = append(tmpls, t)
		}
		slices.SortFunc(tmpls, func(a, b *Template) int {
			return cmp.Or(cmp.Compare(a.Domain, b.Domain), cmp.Compare(a.ID, b.ID))
		})
		for _, t := range tmpls {
			line = appendExporterKey(line[:0], a)
			line = append(line, `,"template":`...)
			line = strconv.AppendUint(line, uint64(t.ID), 10)
			line = append(line, `,"version":`...)
			line = strconv.AppendUint(line, uint64(t.Version), 10)
			line = append(line, `,"domain":`...)
			line = strconv.AppendUint(line, uint64(t.Domain), 10)
			if t.options {
				line = append(line, `,"options":true`...)
			}
			line = append(line, `,"def":"`...)
			line = hex.AppendEncode(line, t.def)
			line = append(line, '"')
			if err := write(); err != nil {
				return err
			}
		}

		skeys = skeys[:0]
		for k := range ex.samplers {
			skeys = append(skeys, k)
		}
		slices.SortFunc(skeys, func(a, b skey) int {
			return cmp.Or(cmp.Compare(a.domain, b.domain), cmp.Compare(a.id, b.id))
		})
		for _, k := range skeys {
			line = appendExporterKey(line[:0], a)
			line = append(line, `,"domain":`...)
			line = strconv.AppendUint(line, uint64(k.domain), 10)
			line = append(line, `,"sampler":`...)
			line = strconv.AppendUint(line, k.id, 10)
			line = append(line, `,"rate":`...)
			line = strconv.AppendUint(line, ex.samplers[k], 10)
			if err := write(); err != nil {
				return err
			}
		}

		doms = doms[:0]
		for k := range ex.initMs {
			doms = append(doms, k)
		}
		slices.Sort(doms)
		for _, k := range doms {
			line = appendExporterKey(line[:0], a)
			line = append(line, `,"domain":`...)
			line = strconv.AppendUint(line, uint64(k), 10)
			line = append(line, `,"init_ms":`...)
			line = strconv.AppendUint(line, ex.initMs[k], 10)
			if err := write(); err != nil {
				return err
			}
		}

		akeys = akeys[:0]
		for k := range ex.apps.m {
			akeys = append(akeys, k)
		}
		slices.SortFunc(akeys, compareAppKeys)
		for _, k := range akeys {
			line = appendExporterKey(line[:0], a)
			line = append(line, `,"domain":`...)
			line = strconv.AppendUint(line, uint64(k.domain), 10)
			line = append(line, `,"app_id":"`...)
			line = hex.AppendEncode(line, k.id[:k.n])
			line = append(line, `","app_name":`...)
			name, err := json.Marshal(ex.apps.m[k])
			if err != nil {
				return err
			}
			line = append(line, name...)
			if err := write(); err != nil {
				return err
			}
		}
	}
	if caller {
		return nil
	}
	return bw.Flush()
}

// appendExporterKey appends `{"exporter":"<addr>"` with the address as a
// JSON string (an IPv6 zone may hold any byte).
func appendExporterKey(b []byte, a netip.Addr) []byte {
	b = append(b, `{"exporter":"`...)
	start := len(b)
	b = a.AppendTo(b)
	for i := start; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			q, _ := json.Marshal(a.String())
			return append(b[:start-1], q...)
		}
	}
	return append(b, '"')
}

// ReadState reads saved state (WriteState's format, or the single JSON
// document of format 1 written by earlier versions) and adds each
// exporter's entries to the Decoder that into returns for the exporter's
// address (nil skips the exporter). It reads one entry at a time; every
// template goes through the same validation and limits as one received
// from the network, and an exporter's saved activity time and proven state
// are restored (its place among the exporters follows from them).
//
// A bad entry (malformed JSON, an invalid template, a line longer than 256
// KiB) is skipped and reported as a *StateError naming its line; the valid
// entries before and after it are kept. The returned error joins the first
// 16 such errors (and says how many more there were), and an error that
// stopped reading (from r, an unknown format, or broken format 1 JSON).
func ReadState(r io.Reader, into func(exporter netip.Addr) *Decoder) error {
	br := bufio.NewReaderSize(r, maxStateLine)
	l := stateLoader{into: into}
	var err error
	if head, _ := br.Peek(len(stateHeader) - 2); string(head) == stateHeader[:len(stateHeader)-2] {
		err = l.readLines(br)
	} else {
		err = l.readOther(br)
	}
	for _, d := range l.decoders {
		d.sortLRU()
	}
	if err != nil {
		l.errs = append(l.errs, err)
	}
	if l.more > 0 {
		l.errs = append(l.errs, errors.New("decode: "+strconv.Itoa(l.more)+" more unusable state entries"))
	}
	return errors.Join(l.errs...)
}

// readOther reads what is not format 2: format 1, or nothing at all.
func (l *stateLoader) readOther(br *bufio.Reader) error {
	for {
		c, err := br.ReadByte()
		switch {
		case err == io.EOF:
			return nil // empty: nothing was saved
		case err != nil:
			return err
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		case c == '{':
			_ = br.UnreadByte()
			return l.readLegacy(br)
		}
		return &StateError{Line: 1, Err: ErrState, Detail: "not an nfkit state stream"}
	}
}

// StateError is an entry of saved state that ReadState could not use. Err
// is ErrState (the entry itself is malformed) or the sentinel error that
// the template or value got from the decoder (ErrTemplate, ErrLimit).
type StateError struct {
	Line       int        // line of the entry (1 is the first); 0 in format 1
	Exporter   netip.Addr // the entry's exporter, when known
	TemplateID uint16     // the entry's template, or 0
	Err        error
	Detail     string // what was wrong, when Err does not say it all
}

func (e *StateError) Error() string {
	b := make([]byte, 0, 96)
	b = append(b, "decode: state"...)
	if e.Line > 0 {
		b = append(b, " line "...)
		b = strconv.AppendInt(b, int64(e.Line), 10)
	}
	if e.Exporter.IsValid() {
		b = append(b, " exporter "...)
		b = e.Exporter.AppendTo(b)
	}
	if e.TemplateID != 0 {
		b = append(b, " template "...)
		b = strconv.AppendUint(b, uint64(e.TemplateID), 10)
	}
	b = append(b, ": "...)
	b = append(b, e.Err.Error()...)
	if e.Detail != "" {
		b = append(b, ": "...)
		b = append(b, e.Detail...)
	}
	return string(b)
}

func (e *StateError) Unwrap() error { return e.Err }

// stateLoader applies saved entries to the Decoders chosen by into.
type stateLoader struct {
	into     func(netip.Addr) *Decoder
	last     netip.Addr // the exporter of the previous entry
	lastDec  *Decoder
	cached   bool
	decoders []*Decoder // every Decoder that received entries
	errs     []error
	more     int
	def      []byte
}

// fail records a bad entry, keeping the first maxStateErrors.
func (l *stateLoader) fail(err *StateError) {
	if len(l.errs) < maxStateErrors {
		l.errs = append(l.errs, err)
	} else {
		l.more++
	}
}

// decoder returns the Decoder for a's entries, or nil.
func (l *stateLoader) decoder(a netip.Addr) *Decoder {
	if l.cached && a == l.last {
		return l.lastDec
	}
	d := l.into(a)
	l.last, l.lastDec, l.cached = a, d, true
	if d != nil {
		d.init()
		if !slices.Contains(l.decoders, d) {
			l.decoders = append(l.decoders, d)
		}
	}
	return d
}

// stateLine is any line of format 2; which pointer is set says which kind.
type stateLine struct {
	Format   *int       `json:"nfkit_state"`
	Exporter netip.Addr `json:"exporter"`
	Active   *int64     `json:"active"` // exporter line
	Proven   bool       `json:"proven"`
	Template *uint16    `json:"template"` // template line
	Version  uint16     `json:"version"`
	Domain   uint32     `json:"domain"`
	Options  bool       `json:"options"`
	Def      string     `json:"def"`
	Sampler  *uint64    `json:"sampler"` // sampler line
	Rate     uint64     `json:"rate"`
	InitMs   *uint64    `json:"init_ms"` // init time line
	AppID    *string    `json:"app_id"`  // application name line
	AppName  string     `json:"app_name"`
}

// readLines reads format 2, one line at a time.
func (l *stateLoader) readLines(br *bufio.Reader) error {
	for n := 1; ; n++ {
		b, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			l.fail(&StateError{Line: n, Err: ErrState, Detail: "line longer than " + strconv.Itoa(maxStateLine) + " bytes"})
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
		} else if len(bytes.TrimSpace(b)) > 0 {
			if ferr := l.line(n, b); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &StateError{Line: n, Err: err}
		}
	}
}

// line applies one line of format 2. It returns an error only for a header
// of another format, which stops reading.
func (l *stateLoader) line(n int, b []byte) error {
	var s stateLine
	if err := json.Unmarshal(b, &s); err != nil {
		l.fail(&StateError{Line: n, Err: ErrState, Detail: err.Error()})
		return nil
	}
	if s.Format != nil {
		if *s.Format != stateFormat {
			return &StateError{Line: n, Err: ErrState, Detail: "unsupported state format " + strconv.Itoa(*s.Format)}
		}
		return nil // a header: the start of the stream, or of one appended to it
	}
	bad := func(err error, detail string) {
		var id uint16
		if s.Template != nil {
			id = *s.Template
		}
		l.fail(&StateError{Line: n, Exporter: s.Exporter, TemplateID: id, Err: err, Detail: detail})
	}
	kinds := 0
	for _, set := range []bool{s.Active != nil, s.Template != nil, s.Sampler != nil, s.InitMs != nil, s.AppID != nil} {
		if set {
			kinds++
		}
	}
	if !s.Exporter.IsValid() || kinds != 1 {
		bad(ErrState, "not an exporter, template, sampler, init time or application name entry")
		return nil
	}
	d := l.decoder(s.Exporter)
	if d == nil {
		return nil
	}
	switch {
	case s.Active != nil:
		if *s.Active > math.MaxInt64/int64(1e9) || *s.Active < math.MinInt64/int64(1e9) {
			bad(ErrState, "activity time out of range")
			return nil
		}
		ex := d.loadExporter(s.Exporter)
		d.setActive(ex, *s.Active*1e9)
		if s.Proven && ex.class == unproven {
			d.prove(ex)
		}
	case s.Template != nil:
		if err := l.template(d, s.Exporter, s.Version, s.Domain, *s.Template, s.Options, s.Def); err != nil {
			bad(err, "")
		}
	case s.Sampler != nil:
		d.setSampler(d.loadExporter(s.Exporter), skey{s.Domain, *s.Sampler}, s.Rate)
	case s.AppID != nil:
		id, err := hex.DecodeString(*s.AppID)
		k, ok := makeAppKey(s.Domain, id)
		name := appName([]byte(s.AppName))
		if err != nil || !ok || len(name) == 0 {
			bad(ErrState, "bad application id or name")
			return nil
		}
		d.storeAppName(d.loadExporter(s.Exporter), k, name)
	default:
		d.setInitMs(d.loadExporter(s.Exporter), s.Domain, *s.InitMs)
	}
	return nil
}

// loadExporter returns the state of exporter a, created if new.
func (d *Decoder) loadExporter(a netip.Addr) *exporter {
	if ex := d.exporters[a]; ex != nil {
		return ex
	}
	return d.newExporter(a)
}

// template learns a saved template record, exactly as if it came from the
// network in a set of its kind.
func (l *stateLoader) template(d *Decoder, a netip.Addr, version uint16, domain uint32, id uint16, options bool, defHex string) error {
	if version != 9 && version != 10 {
		return ErrTemplate
	}
	def, err := hex.AppendDecode(l.def[:0], []byte(defHex))
	if err != nil {
		return ErrTemplate
	}
	l.def = def
	// One template record with the entry's id; never a withdrawal.
	if len(def) < 4 || binary.BigEndian.Uint16(def) != id || binary.BigEndian.Uint16(def[2:]) == 0 {
		return ErrTemplate
	}
	var setID uint16
	switch {
	case version == 9 && options:
		setID = 1
	case version == 10 && options:
		setID = 3
	case version == 10:
		setID = 2
	}
	ex := d.exporters[a]
	_, err = d.learnRecord(&ex, a, version, domain, setID, def)
	return err
}

// Entries of format 1.
type savedTemplate struct {
	Exporter netip.Addr `json:"exporter"`
	Version  uint16     `json:"version"`
	Domain   uint32     `json:"domain"`
	ID       uint16     `json:"id"`
	Options  bool       `json:"options,omitempty"`
	Def      string     `json:"def"`
}

type savedValue struct {
	Exporter netip.Addr `json:"exporter"`
	Domain   uint32     `json:"domain"`
	Sampler  uint64     `json:"sampler,omitempty"`
	Value    uint64     `json:"value"`
}

// capReader fails reads past max bytes: it bounds what a json.Decoder may
// buffer for one value.
type capReader struct {
	r      io.Reader
	n, max int
}

var errLegacyEntry = errors.New("entry longer than " + strconv.Itoa(maxStateLine) + " bytes")

func (c *capReader) Read(p []byte) (int, error) {
	if c.n >= c.max {
		return 0, errLegacyEntry
	}
	if len(p) > c.max-c.n {
		p = p[:c.max-c.n]
	}
	k, err := c.r.Read(p)
	c.n += k
	return k, err
}

// readLegacy reads format 1, {"format":1,"templates":[…],"samplers":[…],
// "init_times":[…]}, one array element at a time.
func (l *stateLoader) readLegacy(r io.Reader) error {
	cr := &capReader{r: r, max: maxStateLine}
	dec := json.NewDecoder(cr)
	broken := func(err error) error {
		return &StateError{Err: ErrState, Detail: "format 1: " + err.Error()}
	}
	if _, err := dec.Token(); err != nil { // the '{' seen by ReadState
		return broken(err)
	}
	format := 0
	for dec.More() {
		cr.max = cr.n + maxStateLine
		tok, err := dec.Token()
		if err != nil {
			return broken(err)
		}
		key, _ := tok.(string)
		if key == "format" {
			if err := dec.Decode(&format); err != nil {
				return broken(err)
			}
			continue
		}
		if format != legacyFormat {
			return &StateError{Err: ErrState, Detail: "unknown state format " + strconv.Itoa(format)}
		}
		switch key {
		case "templates", "samplers", "init_times":
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				return broken(errors.New(key + " is not an array"))
			}
			for dec.More() {
				cr.max = cr.n + maxStateLine
				if err := l.legacyEntry(dec, key); err != nil {
					return broken(err)
				}
			}
			if _, err := dec.Token(); err != nil {
				return broken(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return broken(err)
			}
		}
	}
	if format != legacyFormat {
		return &StateError{Err: ErrState, Detail: "unknown state format " + strconv.Itoa(format)}
	}
	return nil
}

// legacyEntry applies one element of a format 1 array. A bad element is
// recorded; only an error that desynchronizes the stream is returned.
func (l *stateLoader) legacyEntry(dec *json.Decoder, key string) error {
	if key == "templates" {
		var t savedTemplate
		if err := dec.Decode(&t); err != nil {
			return l.legacyValueErr(err)
		}
		if !t.Exporter.IsValid() {
			l.fail(&StateError{TemplateID: t.ID, Err: ErrState, Detail: "format 1 template without exporter"})
			return nil
		}
		if d := l.decoder(t.Exporter); d != nil {
			if err := l.template(d, t.Exporter, t.Version, t.Domain, t.ID, t.Options, t.Def); err != nil {
				l.fail(&StateError{Exporter: t.Exporter, TemplateID: t.ID, Err: err})
			}
		}
		return nil
	}
	var v savedValue
	if err := dec.Decode(&v); err != nil {
		return l.legacyValueErr(err)
	}
	if !v.Exporter.IsValid() {
		l.fail(&StateError{Err: ErrState, Detail: "format 1 " + key + " entry without exporter"})
		return nil
	}
	if d := l.decoder(v.Exporter); d != nil {
		ex := d.loadExporter(v.Exporter)
		if key == "samplers" {
			d.setSampler(ex, skey{v.Domain, v.Sampler}, v.Value)
		} else {
			d.setInitMs(ex, v.Domain, v.Value)
		}
	}
	return nil
}

// legacyValueErr sorts a json.Decoder error: a value of the wrong type was
// read whole and is only recorded; anything else is returned.
func (l *stateLoader) legacyValueErr(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) || errors.Is(err, errLegacyEntry) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return err
	}
	l.fail(&StateError{Err: ErrState, Detail: "format 1: " + err.Error()})
	return nil
}

// MarshalState returns the decoder's state as WriteState writes it (all
// exporters). Kept for callers of earlier versions; WriteState streams.
func (d *Decoder) MarshalState() ([]byte, error) {
	var b bytes.Buffer
	err := d.WriteState(&b, 0)
	return b.Bytes(), err
}

// UnmarshalState adds saved state (either format) to what the decoder
// knows, as ReadState does with every exporter going to d. Kept for
// callers of earlier versions; ReadState streams.
func (d *Decoder) UnmarshalState(b []byte) error {
	return ReadState(bytes.NewReader(b), func(netip.Addr) *Decoder { return d })
}

// ExporterStats describes the state kept for one exporter.
type ExporterStats struct {
	Exporter  netip.Addr
	Templates int
	Samplers  int
	Fields    int   // fields of its templates
	Active    int64 // time of its last packet (SetTime), Unix ns
	Proven    bool  // data has been decoded with its templates
}

// Exporters returns the state kept per exporter, sorted by address.
func (d *Decoder) Exporters() []ExporterStats {
	out := make([]ExporterStats, 0, len(d.exporters))
	for addr, ex := range d.exporters {
		out = append(out, ExporterStats{addr, len(ex.templates), len(ex.samplers), ex.nfields, ex.active, ex.class == proven})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Exporter.Less(out[j].Exporter) })
	return out
}
