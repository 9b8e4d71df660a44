package decode

import (
	"cmp"
	"net/netip"
	"slices"
)

// The Decoder's state is bounded by Limits, and a full budget makes room by
// forgetting what was used least recently instead of refusing newcomers:
// a flood of spoofed exporters or templates then costs the flood its own
// entries, not the legitimate exporters that start afterwards.
//
// Exporters sit in two intrusive lists ordered by activity, most recent at
// the head: unproven exporters (templates only so far) and proven ones
// (data records were decoded with their templates). Eviction takes the
// tail of the unproven list first. Each exporter keeps its templates in a
// list of its own, ordered by use (data decoded with it, or (re)defined).
// Every operation on these lists is O(1).

// List classes of exporters, the index of Decoder.lru.
const (
	unproven = 0
	proven   = 1
)

// ActivityResolution is the precision of the activity times saved by
// WriteState, in ns (10 minutes). Saved times are rounded down to it, so
// that an exporter's steady traffic changes the saved state (and
// StateVersion) once per ActivityResolution, not on every packet.
const ActivityResolution int64 = 10 * 60 * 1e9

// exList is a list of exporters, most recently active at head.
type exList struct {
	head, tail *exporter
	n          int
}

//nfkit:hot
func (l *exList) pushFront(e *exporter) {
	e.prev, e.next = nil, l.head
	if l.head != nil {
		l.head.prev = e
	} else {
		l.tail = e
	}
	l.head = e
	l.n++
}

//nfkit:hot
func (l *exList) remove(e *exporter) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
	l.n--
}

// pushTemplate makes t the exporter's most recently used template.
//
//nfkit:hot
func (ex *exporter) pushTemplate(t *Template) {
	t.older, t.newer = ex.newest, nil
	if ex.newest != nil {
		ex.newest.newer = t
	} else {
		ex.oldest = t
	}
	ex.newest = t
}

//nfkit:hot
func (ex *exporter) unlinkTemplate(t *Template) {
	if t.newer != nil {
		t.newer.older = t.older
	} else {
		ex.newest = t.older
	}
	if t.older != nil {
		t.older.newer = t.newer
	} else {
		ex.oldest = t.newer
	}
	t.older, t.newer = nil, nil
}

// useTemplate marks t, a template of ex, as just used.
//
//nfkit:hot
func (ex *exporter) useTemplate(t *Template) {
	if ex.newest != t {
		ex.unlinkTemplate(t)
		ex.pushTemplate(t)
	}
}

// useRecent marks t, a template of ex, as just used, but leaves it in
// place when it is the second most recently used: exporters send the sets
// of their two busiest templates in turns (softflowd's IPv4 and IPv6 sets
// alternate in every packet), and swapping them at every set would relink
// the list for nothing.
//
//nfkit:hot
func (ex *exporter) useRecent(t *Template) {
	if nw := ex.newest; nw != t && nw.older != t {
		ex.unlinkTemplate(t)
		ex.pushTemplate(t)
	}
}

// floorActivity rounds an activity time down to ActivityResolution.
//
//nfkit:hot
func floorActivity(t int64) int64 {
	r := t % ActivityResolution
	if r < 0 {
		r += ActivityResolution
	}
	return t - r
}

// touch records a packet from ex: its activity time and its place at the
// head of its list. Inlined; the rest is in touchSlow.
//
//nfkit:hot
func (d *Decoder) touch(ex *exporter) {
	if d.now > ex.active || d.lru[ex.class].head != ex {
		d.touchSlow(ex)
	}
}

//nfkit:hot
func (d *Decoder) touchSlow(ex *exporter) {
	if d.now > ex.active {
		ex.active = d.now
		if d.now >= ex.nextStep {
			// The saved (rounded) activity changes.
			ex.nextStep = floorActivity(d.now) + ActivityResolution
			d.changed()
		}
	}
	if l := &d.lru[ex.class]; l.head != ex {
		l.remove(ex)
		l.pushFront(ex)
	}
}

// prove moves ex to the proven exporters: data was decoded with its
// templates.
//
//nfkit:hot
func (d *Decoder) prove(ex *exporter) {
	d.lru[ex.class].remove(ex)
	ex.class = proven
	d.lru[proven].pushFront(ex)
	d.changed()
}

// setActive sets the activity time of an exporter restored from saved state
// (the later of the saved and the known time, but not past the decoder's
// clock when it has one).
func (d *Decoder) setActive(ex *exporter, t int64) {
	if d.now != 0 && t > d.now {
		t = d.now
	}
	if t > ex.active {
		ex.active = t
		ex.nextStep = floorActivity(t) + ActivityResolution
		d.changed()
	}
}

// victim returns the exporter to take state from: the least recently
// active unproven exporter other than not, else the least recently active
// proven one, or nil.
func (d *Decoder) victim(not *exporter) *exporter {
	for i := range d.lru {
		e := d.lru[i].tail
		if e != nil && e == not {
			e = e.prev
		}
		if e != nil {
			return e
		}
	}
	return nil
}

// newExporter adds the state of an exporter, evicting the least recently
// active one when Limits.MaxExporters are known.
func (d *Decoder) newExporter(addr netip.Addr) *exporter {
	for len(d.exporters) >= d.lim.MaxExporters {
		v := d.victim(nil)
		if v == nil {
			break
		}
		d.stats.EvictedExporters++
		d.stats.TemplatesOfEvicted += uint64(len(v.templates))
		d.removeExporter(v)
	}
	ex := &exporter{
		addr:      addr,
		templates: make(map[tkey]*Template),
		active:    d.now,
		nextStep:  floorActivity(d.now) + ActivityResolution,
	}
	d.exporters[addr] = ex
	d.lru[unproven].pushFront(ex)
	d.changed()
	return ex
}

// removeExporter forgets an exporter and all its state.
func (d *Decoder) removeExporter(ex *exporter) {
	d.lru[ex.class].remove(ex)
	delete(d.exporters, ex.addr)
	if d.last == ex {
		d.last = nil
	}
	d.totalFields -= ex.nfields
	d.ntemplates -= len(ex.templates)
	d.changed()
}

// dropTemplate forgets template t of ex.
func (d *Decoder) dropTemplate(ex *exporter, t *Template) {
	delete(ex.templates, tk(t.Domain, t.ID))
	d.retireTemplate(ex, t)
}

// retireTemplate forgets template t of ex but for its entry in
// ex.templates, which a redefinition is about to overwrite.
func (d *Decoder) retireTemplate(ex *exporter, t *Template) {
	ex.unlinkTemplate(t)
	p := ex.recentPair(t.Domain, t.ID)
	for i := range p {
		if p[i] == t {
			p[i] = nil
		}
	}
	ex.nfields -= len(t.fields)
	d.totalFields -= len(t.fields)
	d.ntemplates--
	d.changed()
}

// addTemplate stores the new template t of ex (after makeRoom) as its most
// recently used one.
func (d *Decoder) addTemplate(ex *exporter, t *Template) {
	if t.app != nil {
		t.app.names = &ex.apps
	}
	ex.templates[tk(t.Domain, t.ID)] = t
	ex.pushTemplate(t)
	ex.nfields += len(t.fields)
	d.totalFields += len(t.fields)
	d.ntemplates++
	d.changed()
}

// makeRoom evicts templates until a new template of n fields fits the
// budgets of ex and of the decoder. It reports false when n exceeds a
// budget on its own. replacing says that ex.templates holds a retired
// template the new one replaces (it does not count).
func (d *Decoder) makeRoom(ex *exporter, n int, replacing bool) bool {
	if n > d.lim.MaxExporterFields || n > d.lim.MaxTotalFields {
		return false
	}
	retired := 0
	if replacing {
		retired = 1
	}
	for len(ex.templates)-retired >= d.lim.MaxTemplates && ex.oldest != nil {
		d.dropTemplate(ex, ex.oldest)
		d.stats.TemplatesEvictedMaxTemplates++
	}
	for ex.nfields+n > d.lim.MaxExporterFields && ex.oldest != nil {
		d.dropTemplate(ex, ex.oldest)
		d.stats.TemplatesEvictedMaxExporterFields++
	}
	for d.totalFields+n > d.lim.MaxTotalFields {
		v := d.victim(ex)
		switch {
		case v == nil:
			// No other exporter is left; the total is ex's own.
			if ex.oldest == nil {
				return false // cannot happen: the total would be 0
			}
			d.dropTemplate(ex, ex.oldest)
		case v.oldest == nil:
			// An exporter without templates is worth nothing here.
			d.stats.EvictedExporters++
			d.removeExporter(v)
			continue
		default:
			d.dropTemplate(v, v.oldest)
			if v.oldest == nil {
				d.stats.EvictedExporters++
				d.removeExporter(v)
			}
		}
		d.stats.TemplatesEvictedMaxTotalFields++
	}
	return true
}

// setSampler records an announced sampling rate, unless the exporter
// already has MaxSamplers others.
//
//nfkit:hot
func (d *Decoder) setSampler(ex *exporter, k skey, rate uint64) {
	old, ok := ex.samplers[k]
	if (ok && old == rate) || (!ok && len(ex.samplers) >= d.lim.MaxSamplers) {
		return
	}
	if ex.samplers == nil { // most exporters announce none
		ex.samplers = make(map[skey]uint64) //nfkit:allow make once per exporter that announces a rate
	}
	ex.samplers[k] = rate //nfkit:allow mapwrite only when an announced rate changes; bounded by MaxSamplers
	ex.rateCache = rateCache{}
	d.changed()
}

// setInitMs records a domain's system init time (Unix ms), unless the
// exporter already has MaxSamplers others.
//
//nfkit:hot
func (d *Decoder) setInitMs(ex *exporter, domain uint32, ms uint64) {
	old, ok := ex.initMs[domain]
	if (ok && old == ms) || (!ok && len(ex.initMs) >= d.lim.MaxSamplers) {
		return
	}
	if ex.initMs == nil {
		ex.initMs = make(map[uint32]uint64) //nfkit:allow make once per exporter that announces an init time
	}
	ex.initMs[domain] = ms //nfkit:allow mapwrite only when an init time changes; bounded by MaxSamplers
	d.changed()
}

// changed records a change to the state WriteState would save.
//
//nfkit:hot
func (d *Decoder) changed() { d.version.Add(1) }

// sortLRU orders the exporter lists by activity time, after a load has
// added exporters in address order.
func (d *Decoder) sortLRU() {
	var all []*exporter
	for i := range d.lru {
		all = all[:0]
		for e := d.lru[i].tail; e != nil; e = e.prev {
			all = append(all, e)
		}
		slices.SortStableFunc(all, func(a, b *exporter) int { return cmp.Compare(a.active, b.active) })
		d.lru[i] = exList{}
		for _, e := range all {
			d.lru[i].pushFront(e)
		}
	}
}

// SetTime gives the decoder the current time in Unix ns, typically the
// receive time of the next packet (a coarse clock, updated per batch of
// packets, is enough). The decoder records it as the activity time of the
// exporters whose packets it decodes; ExpireIdle, WriteState and
// ExporterStats use these times. Without SetTime every activity time is 0
// and only the order of activity is known.
//
//nfkit:hot
func (d *Decoder) SetTime(unixNano int64) { d.now = unixNano }

// ExpireIdle forgets every exporter (templates, sampling rates, init
// times) whose last packet came before the given Unix ns time, and returns
// how many it forgot. Activity times come from SetTime (or from saved
// state); without SetTime they are all 0. It takes time proportional to
// the number of exporters; call it periodically, not per packet.
func (d *Decoder) ExpireIdle(before int64) int {
	n := 0
	for _, ex := range d.exporters {
		if ex.active < before {
			d.stats.ExpiredExporters++
			d.stats.TemplatesOfExpired += uint64(len(ex.templates))
			d.removeExporter(ex)
			n++
		}
	}
	return n
}

// DecoderStats counts the state a Decoder keeps and what it evicted to stay
// within its Limits.
type DecoderStats struct {
	Exporters int // exporters with state
	Proven    int // of them, exporters whose data has been decoded
	Templates int // templates of all exporters
	Fields    int // fields of all templates (counted against MaxTotalFields)

	// The counters below are cumulative.

	// EvictedExporters counts exporters forgotten to make room: for a new
	// exporter (MaxExporters), or because MaxTotalFields took their last
	// template. TemplatesOfEvicted counts the templates they held
	// (MaxExporters only).
	EvictedExporters   uint64
	TemplatesOfEvicted uint64
	// ExpiredExporters counts exporters forgotten by ExpireIdle, and
	// TemplatesOfExpired the templates they held.
	ExpiredExporters   uint64
	TemplatesOfExpired uint64
	// Templates evicted to make room for a new template, by the Limits
	// budget that was full: the exporter's own MaxTemplates or
	// MaxExporterFields (its least recently used templates), or the
	// decoder's MaxTotalFields (templates of the least recently active
	// other exporters).
	TemplatesEvictedMaxTemplates      uint64
	TemplatesEvictedMaxExporterFields uint64
	TemplatesEvictedMaxTotalFields    uint64
}

// Stats returns the decoder's state sizes and eviction counters.
//
//nfkit:hot
func (d *Decoder) Stats() DecoderStats {
	s := d.stats
	s.Exporters = len(d.exporters)
	s.Proven = d.lru[proven].n
	s.Templates = d.ntemplates
	s.Fields = d.totalFields
	return s
}

// StateVersion returns a counter that changes whenever the state WriteState
// would save changes (templates, sampling rates, init times, exporters
// added or forgotten, an exporter proven, an activity time crossing
// ActivityResolution), so a caller can skip saving an unchanged state. It
// is safe to call concurrently with the Decoder's other methods.
func (d *Decoder) StateVersion() uint64 { return d.version.Load() }
