package decode

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"sort"
)

// The template and sampling state of a Decoder can be saved and restored,
// so that a collector restarted between an exporter's template refreshes
// decodes data right away (templates are re-sent only every few minutes by
// many exporters).

type savedTemplate struct {
	Exporter netip.Addr `json:"exporter"`
	Version  uint16     `json:"version"`
	Domain   uint32     `json:"domain"`
	ID       uint16     `json:"id"`
	Options  bool       `json:"options,omitempty"`
	Def      string     `json:"def"` // the template record as received, hex
}

type savedValue struct {
	Exporter netip.Addr `json:"exporter"`
	Domain   uint32     `json:"domain"`
	Sampler  uint64     `json:"sampler,omitempty"`
	Value    uint64     `json:"value"`
}

type savedState struct {
	Format    int             `json:"format"`
	Templates []savedTemplate `json:"templates"`
	Samplers  []savedValue    `json:"samplers,omitempty"`
	InitTimes []savedValue    `json:"init_times,omitempty"`
}

const stateFormat = 1

// MarshalState returns the decoder's templates, announced sampling rates and
// system init times as JSON, in a stable order.
func (d *Decoder) MarshalState() ([]byte, error) {
	s := savedState{Format: stateFormat, Templates: []savedTemplate{}}
	for addr, ex := range d.exporters {
		for _, t := range ex.templates {
			s.Templates = append(s.Templates, savedTemplate{addr, t.Version, t.Domain, t.ID, t.options, hex.EncodeToString(t.def)})
		}
		for k, v := range ex.samplers {
			s.Samplers = append(s.Samplers, savedValue{addr, k.domain, k.id, v})
		}
		for k, v := range ex.initMs {
			s.InitTimes = append(s.InitTimes, savedValue{addr, k, 0, v})
		}
	}
	sort.Slice(s.Templates, func(i, j int) bool {
		a, b := s.Templates[i], s.Templates[j]
		if c := a.Exporter.Compare(b.Exporter); c != 0 {
			return c < 0
		}
		if a.Domain != b.Domain {
			return a.Domain < b.Domain
		}
		return a.ID < b.ID
	})
	less := func(v []savedValue) func(i, j int) bool {
		return func(i, j int) bool {
			if c := v[i].Exporter.Compare(v[j].Exporter); c != 0 {
				return c < 0
			}
			if v[i].Domain != v[j].Domain {
				return v[i].Domain < v[j].Domain
			}
			return v[i].Sampler < v[j].Sampler
		}
	}
	sort.Slice(s.Samplers, less(s.Samplers))
	sort.Slice(s.InitTimes, less(s.InitTimes))
	return json.MarshalIndent(s, "", " ")
}

// UnmarshalState restores state saved by MarshalState, adding to what the
// decoder already knows. Every template goes through the same validation
// and limits as one received from the network; invalid entries are skipped
// and reported in the returned error, the valid ones are kept.
func (d *Decoder) UnmarshalState(b []byte) error {
	var s savedState
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s.Format != stateFormat {
		return errors.New("decode: unknown state format")
	}
	d.init()
	var errs []error
	get := func(addr netip.Addr) *exporter {
		if ex := d.exporters[addr]; ex != nil {
			return ex
		}
		return d.newExporter(addr)
	}
	var p Packet
	for _, t := range s.Templates {
		def, err := hex.DecodeString(t.Def)
		if err != nil || (t.Version != 9 && t.Version != 10) {
			errs = append(errs, &DecodeError{Version: t.Version, Exporter: t.Exporter, TemplateID: t.ID, Err: ErrTemplate})
			continue
		}
		ex := d.exporters[t.Exporter]
		setID := uint16(0)
		switch {
		case t.Version == 9 && t.Options:
			setID = 1
		case t.Version == 10 && t.Options:
			setID = 3
		case t.Version == 10:
			setID = 2
		}
		if _, _, err := d.learnSet(&ex, t.Exporter, t.Version, t.Domain, setID, def, &p); err != nil {
			errs = append(errs, &DecodeError{Version: t.Version, Exporter: t.Exporter, TemplateID: t.ID, Err: err})
		}
	}
	for _, v := range s.Samplers {
		d.setSampler(get(v.Exporter), skey{v.Domain, v.Sampler}, v.Value)
	}
	for _, v := range s.InitTimes {
		d.setInitMs(get(v.Exporter), v.Domain, v.Value)
	}
	return errors.Join(errs...)
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
