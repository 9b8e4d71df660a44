package decode

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"net/netip"
	"slices"
	"sync/atomic"
)

// Limits bound the state a Decoder keeps for hostile or broken exporters.
// Zero fields take the defaults.
//
// A full budget makes room by evicting what was used least recently rather
// than by refusing the newcomer, so that a flood of spoofed exporters or
// templates cannot lock out a legitimate exporter that starts afterwards.
// Exporters whose data has been decoded ("proven") are kept in preference
// to exporters that have only sent templates. Stats counts the evictions.
type Limits struct {
	// MaxExporters bounds the exporters with templates (default 10000).
	// A new exporter beyond it evicts the least recently active unproven
	// exporter with all its state, or the least recently active proven
	// one when every exporter is proven.
	MaxExporters int
	// MaxTemplates bounds the templates of one exporter, all domains
	// together (default 4096). A new template beyond it evicts the
	// exporter's least recently used template (used: data decoded with
	// it, or defined or re-sent).
	MaxTemplates int
	// MaxFields bounds the fields of one template (default 1024); a larger
	// template is refused with ErrLimit.
	MaxFields int
	// MaxExporterFields bounds the fields of all templates of one exporter
	// (default 64 Ki, about 5 MiB of compiled templates: many times what
	// the largest real template sets need, a few hundred templates of
	// tens of fields, and a 64th of MaxTotalFields). A new template
	// beyond it evicts the exporter's least recently used templates.
	MaxExporterFields int
	// MaxTotalFields bounds the fields of all templates of all exporters
	// (default 4 Mi). A new template beyond it evicts templates of the
	// least recently active other exporters, unproven ones first; an
	// exporter left without templates is forgotten. A template with more
	// fields than MaxExporterFields or MaxTotalFields is refused with
	// ErrLimit.
	MaxTotalFields int
	// MaxSamplers bounds the sampler entries and the init time entries of
	// one exporter (default 1024); further ones are ignored.
	MaxSamplers int
	// MaxApplications bounds the application names (RFC 6759, learned
	// from options data) kept for one exporter (default 4096); names of
	// further application ids are ignored.
	MaxApplications int
	// MaxRecords bounds the records (data and options) decoded from one
	// packet (default 8192), so that a hostile template of 1-byte records
	// cannot make one 64 KiB datagram cost tens of MiB of records.
	MaxRecords int
	// MaxCachedTemplates bounds the compiled templates a Decoder keeps
	// so that a definition that comes back (after a redefinition replaced
	// it, or from another exporter) is not compiled again (default 256,
	// together at most 16 Ki fields; negative: keep none).
	MaxCachedTemplates int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxExporters, 10000)
	def(&l.MaxTemplates, 4096)
	def(&l.MaxFields, 1024)
	def(&l.MaxExporterFields, 64<<10)
	def(&l.MaxTotalFields, 4<<20)
	def(&l.MaxSamplers, 1024)
	def(&l.MaxRecords, 8192)
	def(&l.MaxApplications, 4096)
	if l.MaxCachedTemplates == 0 {
		l.MaxCachedTemplates = maxCacheTemplates
	}
	return l
}

// Packet is a decoded export packet. Decode resets it and reuses its slices.
type Packet struct {
	Version uint16
	// Count is the header's record count (v1/v5/v7: flows; v9: records of
	// all kinds); 0 for IPFIX.
	Count uint16
	// Length is the IPFIX message length; 0 for the other versions.
	Length uint16
	// SysUptime is the exporter's uptime in ms (v1/v5/v7/v9).
	SysUptime uint32
	// ExportTime is the header's export time in Unix ns.
	ExportTime int64
	Sequence   uint32
	// Domain is the v9 source ID, the IPFIX observation domain, or v5/v7
	// engine type<<8|engine id.
	Domain uint32
	// v5 header fields.
	EngineType, EngineID uint8
	SamplingMode         uint8  // v5: top 2 bits of the sampling field
	SamplingInterval     uint16 // v5: low 14 bits
	// Records are the data records (flows), in packet order.
	Records []Record
	// Options are the options data records, in packet order.
	Options []Record
	// Templates counts the templates and options templates defined,
	// redefined or withdrawn by this packet.
	Templates int

	// sFlow v5 (Version VersionSFlow5; see DecodeSFlow): the agent
	// address of the datagram header, SFlow[i] the sample of Records[i],
	// the counter samples, and the samples of formats not decoded.
	Agent    netip.Addr
	SFlow    []SFlowSample
	Counters []SFlowCounters
	Skipped  int
	asns     []uint32 // AS paths and communities of SFlow
}

//nfkit:hot
func (p *Packet) reset(version uint16) {
	// Field by field: assigning a whole Packet would rewrite the slice
	// pointers (with write barriers) for nothing.
	p.Version, p.Count, p.Length, p.SysUptime = version, 0, 0, 0
	p.ExportTime, p.Sequence, p.Domain, p.Templates = 0, 0, 0, 0
	p.EngineType, p.EngineID, p.SamplingMode, p.SamplingInterval = 0, 0, 0, 0
	p.Records, p.Options = p.Records[:0], p.Options[:0]
	if len(p.SFlow)|len(p.Counters)|len(p.asns)|p.Skipped != 0 || p.Agent.IsValid() {
		p.Agent, p.Skipped = netip.Addr{}, 0
		p.SFlow, p.Counters, p.asns = p.SFlow[:0], p.Counters[:0], p.asns[:0]
	}
}

// next appends a record slot to rs and returns it, reusing capacity.
//
//nfkit:hot
func next(rs *[]Record) *Record {
	s := *rs
	if len(s) < cap(s) {
		s = s[:len(s)+1]
	} else {
		s = append(s, Record{})
	}
	*rs = s
	return &s[len(s)-1]
}

// tkey is a template's key in its exporter's map: domain<<16 | id, one
// word so that the lookup takes the map's fast 64-bit path.
type tkey uint64

//
//nfkit:hot
func tk(domain uint32, id uint16) tkey { return tkey(domain)<<16 | tkey(id) }

type skey struct {
	domain uint32
	id     uint64
}

// exporter is the template and sampling state of one exporter address.
type exporter struct {
	addr      netip.Addr
	templates map[tkey]*Template
	// recent caches templates by id (16 pairs, the more recently used of a
	// pair first), so that the data and re-sent template sets of the few
	// templates an exporter uses do not hash; entries are cleared when
	// their template is dropped.
	recent    [2 << 4]*Template
	samplers  map[skey]uint64 // (domain, sampler id) → 1-in-N rate
	rateCache rateCache       // cleared when samplers change
	initMs    map[uint32]uint64
	apps      appNames // application names (appname.go)
	nfields   int

	// newest and oldest are the ends of the template list, in order of
	// use (see evict.go).
	newest, oldest *Template

	active   int64 // time of the last packet (Decoder.SetTime)
	nextStep int64 // activity time at which the saved activity changes
	class    uint8 // unproven or proven: the list in Decoder.lru
	// prev and next link the exporter into Decoder.lru[class]; prev is
	// more recently active.
	prev, next *exporter
}

// Decoder decodes export packets of all versions and keeps the template
// and sampling state of every exporter it has seen, keyed by (exporter
// address, source ID / observation domain, template ID).
//
// The zero Decoder is ready to use. A Decoder is not safe for concurrent
// use (StateVersion excepted); use one per goroutine. A Decoder must not be
// copied after first use.
type Decoder struct {
	Limits Limits

	lim         Limits
	exporters   map[netip.Addr]*exporter
	last        *exporter // of the last packet, or nil: exporters send runs of packets
	lru         [2]exList // unproven, proven exporters
	now         int64
	totalFields int
	ntemplates  int
	stats       DecoderStats // the counters
	version     atomic.Uint64
	specs       []fieldSpec
	tcache      templateCache // compiled templates to share (tcache.go)
	scratch     []step
	sets        []setRef
	env         setEnv // of the data set being read (dataSet)
	// loud says that the packet being decoded has records that finish
	// must complete (of a template that is not quiet).
	loud bool
}

//nfkit:cold its body runs once per Decoder, on the first packet: it makes the exporter map
func (d *Decoder) init() {
	if d.exporters == nil {
		d.lim = d.Limits.withDefaults()
		d.exporters = make(map[netip.Addr]*exporter)
	}
}

type setRef struct {
	id, length uint16
	off        int
	bit        uint64 // the set's bit in Retry's mask
}

// Decode decodes one export packet received from exporter into out. The
// version is taken from the packet. Records of out alias pkt.
//
// On error, out holds every record decoded before the problem: valid data
// is never discarded. A *MissingTemplateError means some data sets wait for
// their template (see Retry); any other error is a *DecodeError.
//
//nfkit:hot
func (d *Decoder) Decode(exporter netip.Addr, pkt []byte, out *Packet) error {
	if len(pkt) < 2 {
		out.reset(0)
		return &DecodeError{Exporter: exporter, Err: ErrTruncated}
	}
	switch v := binary.BigEndian.Uint16(pkt); v {
	case 1, 5, 7:
		return decodeFixed(exporter, pkt, out)
	case 9, 10:
		return d.decodeSets(exporter, pkt, out, ^uint64(0), false)
	case 0:
		if isSFlow5(pkt) {
			return DecodeSFlow(exporter, pkt, out)
		}
		out.reset(v)
		return &DecodeError{Version: v, Exporter: exporter, Err: ErrVersion}
	default:
		out.reset(v)
		return &DecodeError{Version: v, Exporter: exporter, Err: ErrVersion}
	}
}

// Retry decodes again the data sets of pkt marked in sets (from a
// *MissingTemplateError of an earlier Decode of the same bytes), now that
// more templates may be known. Template sets are not learned again, so an
// old buffered packet cannot replace a newer template.
//
//nfkit:hot
func (d *Decoder) Retry(exporter netip.Addr, pkt []byte, sets uint64, out *Packet) error {
	if len(pkt) < 2 {
		out.reset(0)
		return &DecodeError{Exporter: exporter, Err: ErrTruncated}
	}
	switch v := binary.BigEndian.Uint16(pkt); v {
	case 9, 10:
		return d.decodeSets(exporter, pkt, out, sets, true)
	default:
		return d.Decode(exporter, pkt, out)
	}
}

const (
	v9HeaderLen    = 20
	ipfixHeaderLen = 16
	setHeaderLen   = 4
)

// decodeSets decodes a v9 or IPFIX packet. want selects the sets to decode
// (bit i for set i; bit 63 covers the rest); retry skips template sets.
//
//nfkit:hot
func (d *Decoder) decodeSets(addr netip.Addr, pkt []byte, out *Packet, want uint64, retry bool) error {
	d.init()
	version := binary.BigEndian.Uint16(pkt)
	out.reset(version)
	//nfkit:allow closure inlined and does not escape (go build -gcflags=-m: can inline (*Decoder).decodeSets.func1)
	derr := func(off int, set, tmpl uint16, err error) *DecodeError {
		return &DecodeError{Version: version, Exporter: addr, SetID: set, TemplateID: tmpl, Offset: off, Err: err}
	}
	hdr := v9HeaderLen
	end := len(pkt)
	if version == 9 {
		if len(pkt) < v9HeaderLen {
			return derr(0, 0, 0, ErrTruncated)
		}
		out.Count = binary.BigEndian.Uint16(pkt[2:])
		out.SysUptime = binary.BigEndian.Uint32(pkt[4:])
		out.ExportTime = int64(binary.BigEndian.Uint32(pkt[8:])) * 1e9
		out.Sequence = binary.BigEndian.Uint32(pkt[12:])
		out.Domain = binary.BigEndian.Uint32(pkt[16:])
	} else {
		hdr = ipfixHeaderLen
		if len(pkt) < ipfixHeaderLen {
			return derr(0, 0, 0, ErrTruncated)
		}
		out.Length = binary.BigEndian.Uint16(pkt[2:])
		out.ExportTime = int64(binary.BigEndian.Uint32(pkt[4:])) * 1e9
		out.Sequence = binary.BigEndian.Uint32(pkt[8:])
		out.Domain = binary.BigEndian.Uint32(pkt[12:])
		if int(out.Length) < ipfixHeaderLen {
			return derr(2, 0, 0, ErrLength)
		}
		if int(out.Length) < end {
			end = int(out.Length) // trailing bytes are not part of the message
		}
	}

	ex := d.exporterOf(addr)
	if ex != nil {
		d.touch(ex)
	}
	// One walk over the sets: template sets are learned, and data sets
	// decoded as they come, each with the template in force where it
	// stands. A data set whose template is not known yet may be waiting for
	// a template later in the packet: it is decoded after the walk, and
	// the records are then put back in packet order.
	var walkErr error
	var missing *MissingTemplateError
	d.sets = d.sets[:0]
	d.loud = false
	off := hdr
	for i := 0; off < end; i++ {
		if end-off < setHeaderLen {
			// v9 exporters may pad the packet; a partial set header in
			// IPFIX means the message length lied.
			if version == 10 {
				walkErr = derr(off, 0, 0, ErrTruncated)
			}
			break
		}
		id := binary.BigEndian.Uint16(pkt[off:])
		l := int(binary.BigEndian.Uint16(pkt[off+2:]))
		if l < setHeaderLen {
			walkErr = derr(off, id, 0, ErrLength)
			break
		}
		var cut error
		if off+l > end {
			// Keep the complete records of a truncated set.
			cut = derr(off, id, 0, ErrTruncated)
			l = end - off
		}
		switch {
		case isTemplateSet(version, id):
			if retry {
				break
			}
			body, skip := pkt[off+setHeaderLen:off+l], 0
			if ex != nil {
				if skip = ex.resentSet(version, id, body, out); len(body)-skip < 4 {
					break // all re-sent (or padding)
				}
			}
			if tid, at, err := d.learnSet(&ex, addr, version, out.Domain, id, body[skip:], out); err != nil && walkErr == nil {
				// A bad template ends this set only; the rest of the
				// packet is still decoded.
				walkErr = derr(off+setHeaderLen+skip+at, id, tid, err)
			}
		case id < 256 || want != ^uint64(0) && want&(1<<min(i, 63)) == 0:
		default:
			s := setRef{id: id, length: uint16(l), off: off, bit: 1 << min(i, 63)}
			var t *Template
			if ex != nil {
				t = ex.template(out.Domain, id)
			}
			if t == nil {
				d.sets = append(d.sets, s)
				break
			}
			d.dataSet(ex, addr, t, pkt, s, out, &walkErr)
		}
		if cut != nil {
			if walkErr == nil {
				walkErr = cut
			}
			break
		}
		off += l
	}
	if version == 10 && len(pkt) < int(out.Length) && walkErr == nil {
		walkErr = derr(len(pkt), 0, 0, ErrTruncated)
	}
	if len(d.sets) != 0 {
		missing = d.laterSets(ex, addr, pkt, out, &walkErr)
	}
	if d.loud {
		d.finish(ex, out)
	}
	if missing != nil {
		if walkErr != nil {
			missing.Err = walkErr
		}
		return missing
	}
	if walkErr != nil {
		return walkErr
	}
	return nil
}

// laterSets decodes the data sets of d.sets, which came before their
// template in pkt, now that the whole packet is walked, and puts the
// records back in packet order. It returns the sets whose template is
// still missing, or nil.
//
//nfkit:cold only data that precedes its template's first definition in a packet (an exporter's first packets) comes here
func (d *Decoder) laterSets(ex *exporter, addr netip.Addr, pkt []byte, out *Packet, walkErr *error) *MissingTemplateError {
	var missing *MissingTemplateError
	nr, no := len(out.Records), len(out.Options)
	for _, s := range d.sets {
		var t *Template
		if ex != nil {
			t = ex.template(out.Domain, s.id)
		}
		if t == nil {
			if missing == nil {
				missing = &MissingTemplateError{Version: out.Version, Exporter: addr, Domain: out.Domain, TemplateID: s.id}
			}
			missing.Count++
			missing.Sets |= s.bit
			continue
		}
		d.dataSet(ex, addr, t, pkt, s, out, walkErr)
	}
	byOffset := func(a, b Record) int { return a.Offset - b.Offset }
	if len(out.Records) > nr && nr > 0 {
		slices.SortStableFunc(out.Records, byOffset)
	}
	if len(out.Options) > no && no > 0 {
		slices.SortStableFunc(out.Options, byOffset)
	}
	return missing
}

// dataSet decodes the data set s of pkt with its template t, and keeps
// its error in *walkErr unless one is there already.
//
//nfkit:hot
func (d *Decoder) dataSet(ex *exporter, addr netip.Addr, t *Template, pkt []byte, s setRef, out *Packet, walkErr *error) {
	body := pkt[s.off+setHeaderLen : s.off+int(s.length)]
	if !t.options && !t.varLen {
		// The bulk of every export: flow records of a fixed length, with
		// room for all of them.
		start := len(out.Records)
		if n := t.records(len(body)); n > 0 && n <= d.lim.MaxRecords-start-len(out.Options) {
			out.Records = slices.Grow(out.Records, n)[:start+n]
			recs, base := out.Records[start:], s.off+setHeaderLen
			// The set's environment lives in the Decoder: a call
			// through t.shapeSet would move a local one to the heap,
			// and passing it by value copies it through the stack.
			set := &d.env
			set.t, set.addr, set.version, set.seq, set.domain = t, addr, out.Version, out.Sequence, out.Domain
			set.rate = 0
			bySampler := false
			if t.quiet && len(ex.samplers) != 0 {
				// What finish would set (options data in this
				// packet make it run again, and it sets the rates
				// they announce).
				if bySampler = t.has&HasSamplerID != 0; !bySampler {
					set.rate = ex.samplerRate(out.Domain, 0)
				}
			}
			switch {
			case t.sampled():
				readSectioned(t, recs, body, set, base, &d.scratch)
			case t.shapeSet != nil:
				t.shapeSet(body, recs, set, base)
			default:
				readClassed(t, recs, body, set, base)
			}
			if t.v9Uptime {
				convertV9Uptime(recs, out)
			}
			if e := t.etherType; e != 0 {
				for i := range recs {
					recs[i].EtherType = e
				}
			}
			if bySampler {
				for i := range recs {
					recs[i].SamplingRate = ex.samplerRate(out.Domain, recs[i].SamplerID)
				}
			}
			if !t.quiet {
				d.loud = true
			}
			ex.useRecent(t)
			if ex.class == unproven {
				d.prove(ex)
			}
			return
		}
	}
	n := len(out.Records) + len(out.Options)
	d.loud = true // options data, variable-length sets, …: finish goes over every record
	at, err := d.decodeData(ex, addr, t, body, s.off+setHeaderLen, out)
	if err != nil && *walkErr == nil {
		*walkErr = &DecodeError{Version: out.Version, Exporter: addr, SetID: s.id, TemplateID: s.id, Offset: at, Err: err}
	}
	if len(out.Records)+len(out.Options) > n {
		ex.useTemplate(t)
		if ex.class == unproven {
			d.prove(ex)
		}
	}
}

// exporterOf returns the state of the exporter at addr, or nil.
//
//nfkit:hot
func (d *Decoder) exporterOf(addr netip.Addr) *exporter {
	if ex := d.last; ex != nil && ex.addr == addr {
		return ex
	}
	ex := d.exporters[addr]
	if ex != nil {
		d.last = ex
	}
	return ex
}

// template returns the exporter's template (domain, id), or nil.
//
//nfkit:hot
func (ex *exporter) template(domain uint32, id uint16) *Template {
	p := ex.recentPair(domain, id)
	if t := p[0]; t != nil && t.ID == id && t.Domain == domain {
		return t
	}
	if t := p[1]; t != nil && t.ID == id && t.Domain == domain {
		p[0], p[1] = t, p[0]
		return t
	}
	t := ex.templates[tk(domain, id)]
	if t != nil {
		p[0], p[1] = t, p[0]
	}
	return t
}

// recentPair is the pair of exporter.recent that may hold template (domain,
// id): a multiplicative hash, since exporters number templates in round
// steps (256, 1024, 2048, …) that a plain modulo would put in one pair; two
// ways, so that two templates used in turn do not evict each other.
//
//nfkit:hot
func (ex *exporter) recentPair(domain uint32, id uint16) *[2]*Template {
	i := ((uint32(id) ^ domain*0x85EBCA6B) * 0x9E3779B1) >> 28 // 16 pairs
	return (*[2]*Template)(ex.recent[2*i : 2*i+2])
}

//nfkit:hot
func isTemplateSet(version uint16, id uint16) bool {
	if version == 9 {
		return id == 0 || id == 1
	}
	return id == 2 || id == 3
}

// decodeData decodes the records of one data set body with template t of
// exporter ex. Bytes after the last whole record are padding (RFC 7011
// §3.3.1, RFC 3954 §5.3) and are ignored. When a record cannot be decoded
// it returns the record's offset in the packet and ErrLimit (the packet's
// record limit is reached) or ErrTruncated (a variable-length field runs
// past the end of the set); the records before it are kept.
//
//nfkit:hot
func (d *Decoder) decodeData(ex *exporter, addr netip.Addr, t *Template, b []byte, base int, out *Packet) (int, error) {
	rs := &out.Records
	if t.options {
		rs = &out.Options
	}
	room := d.lim.MaxRecords - len(out.Records) - len(out.Options)
	var set setEnv // field by field (see decodeFixed)
	set.t, set.addr, set.version, set.seq, set.domain = t, addr, out.Version, out.Sequence, out.Domain
	// The two loops below are the decoder's hottest: each record is read
	// into its slot and stamped with what the set gives it. A slot that
	// last held a record of another template keeps its zero fields (a
	// Flow's absent fields are zero), so only the fields that record had
	// and this one will not set are cleared.
	if t.varLen {
		if !t.options && !t.sampled() && len(t.vars) <= maxVarSegs {
			return readVarSet(t, rs, b, base, room, &set)
		}
		for len(b) >= t.minLen {
			n := t.recordLen(b)
			if n <= 0 {
				return base, ErrTruncated
			}
			if room--; room < 0 {
				return base, ErrLimit
			}
			r, rb := next(rs), b[:n:n]
			if r.tmpl != t || t.sampled() {
				if s := r.Has &^ t.has; s != 0 {
					r.Flow.reset(s)
				}
			}
			t.readRecord(rb, &r.Flow, &d.scratch)
			set.stamp(r, base, rb)
			if t.options {
				d.applyOptions(ex, r)
			} else if t.sampled() {
				sectionHeaders(t, r)
			}
			b, base = b[n:], base+n
		}
		return 0, nil
	}
	// Fixed-length records: size the slice once, then a tight loop.
	l := t.minLen
	n := t.records(len(b))
	var err error
	if n > room {
		n, err = max(room, 0), ErrLimit
	}
	if n == 0 {
		return base, err
	}
	start := len(*rs)
	*rs = slices.Grow(*rs, n)[:start+n]
	recs := (*rs)[start:]
	// (Flow sets that fit the record limit took dataSet's short path;
	// here are options and a set the limit cuts.)
	options, sections := t.options, !t.options && t.sampled()
	for i := range recs {
		r, rb := &recs[i], b[:l:l]
		b = b[l:]
		if r.tmpl != t || sections { // headers add to a record's fields
			if s := r.Has &^ t.has; s != 0 {
				r.Flow.reset(s)
			}
		}
		t.readRecord(rb, &r.Flow, &d.scratch)
		set.stamp(r, base+i*l, rb)
		if options {
			d.applyOptions(ex, r)
		} else if sections {
			sectionHeaders(t, r)
		}
	}
	if t.v9Uptime {
		convertV9Uptime(recs, out)
	}
	return base + n*l, err
}

// convertV9Uptime makes the NetFlow v9 sysUptime times of records just
// read (Template.v9Uptime) absolute (sinceUptime).
//
//nfkit:hot
func convertV9Uptime(recs []Record, p *Packet) {
	export, uptime := p.ExportTime, p.SysUptime
	for i := range recs {
		f := &recs[i].Flow
		f.Start = sinceUptime(export, uptime, f.Start)
		f.End = sinceUptime(export, uptime, f.End)
	}
}

// sinceUptime is the Unix ns time of a sysUptime value raw (ms) in a
// NetFlow v1/v5/v7/v9 packet exported at export (Unix ns) when the
// exporter's uptime was uptime: relative to those, the difference taken
// modulo 2³² as a signed value, which handles sysUptime wrap-around and
// small clock skew.
//
//nfkit:hot
func sinceUptime(export int64, uptime uint32, raw int64) int64 {
	return export - int64(int32(uptime-uint32(raw)))*1e6
}

// readVarSet reads the records of a data set body b of flow template t
// with variable-length fields (no options, no sampled packet section, at
// most maxVarSegs such fields) into rs: one walk over each record's length
// prefixes finds both its length and the bases of its fields' offsets
// (readVar), and the record is read with the template's class readers and
// steps. It returns what decodeData does.
//
//nfkit:hot
func readVarSet(t *Template, rs *[]Record, b []byte, base, room int, set *setEnv) (int, error) {
	for len(b) >= t.minLen {
		var ends [maxVarSegs + 1]int // ends[k]: the end of the k-th variable-length field
		off := 0
		for k, v := range t.vars {
			off += v.fixed
			if off >= len(b) {
				return base, ErrTruncated
			}
			n := int(b[off])
			off++
			if n == 255 {
				if off+2 > len(b) {
					return base, ErrTruncated
				}
				n = int(b[off])<<8 | int(b[off+1])
				off += 2
			}
			off += n
			ends[k+1] = off
		}
		if off += int(t.tail); off > len(b) {
			return base, ErrTruncated
		}
		if room--; room < 0 {
			return base, ErrLimit
		}
		r, rb := next(rs), b[:off:off]
		if r.tmpl != t && r.Has&^t.has != 0 {
			r.Flow.reset(r.Has &^ t.has)
		}
		f := &r.Flow
		f.Has = t.has
		for i := range t.classes {
			c := &t.classes[i]
			c.read(rb[ends[c.seg]:], &c.offs, f)
		}
		if len(t.steps) != 0 {
			readStepsVar(rb, t.steps, t.stepSeg, &ends, f)
		}
		if t.deriveEther {
			deriveFromVersion(f)
		}
		set.stamp(r, base, rb)
		b, base = b[off:], base+off
	}
	return 0, nil
}

// readClassed reads len(recs) records of t with its class readers and
// steps from b.
//
//nfkit:hot
func readClassed(t *Template, recs []Record, b []byte, set *setEnv, base int) {
	l, cs, steps := t.minLen, t.classes, t.steps
	for i := range recs {
		r, rb := &recs[i], b[:l:l]
		b = b[l:]
		if r.tmpl != t && r.Has&^t.has != 0 {
			r.Flow.reset(r.Has &^ t.has) // fields its last record had that t does not set
		}
		r.Has = t.has
		readClasses(rb, cs, &r.Flow)
		if len(steps) != 0 {
			readSteps(rb, steps, &r.Flow)
		}
		if t.deriveEther {
			deriveFromVersion(&r.Flow)
		}
		set.stamp(r, base+i*l, rb)
	}
}

// readSectioned is readClassed for the fixed-length records of a template
// with a sampled packet section or frame size: each record also takes the
// fields it lacks from the headers in its section (sectionHeaders). A slot
// keeps none of the fields its last record had and this one has not; they
// are cleared once the record is read, so that the usual run of frames
// with the same headers (whose fields are all written again) clears
// nothing. (The header parsers test Has, never a field's value.)
//
//nfkit:hot
func readSectioned(t *Template, recs []Record, b []byte, set *setEnv, base int, scratch *[]step) {
	l := t.minLen
	for i := range recs {
		r, rb := &recs[i], b[:l:l]
		b = b[l:]
		last := r.Has
		t.readRecord(rb, &r.Flow, scratch)
		set.stamp(r, base+i*l, rb)
		sectionHeaders(t, r)
		if s := last &^ r.Has; s != 0 {
			r.Flow.clear(s)
		}
	}
}

// reset clears the fields in s of a record slot about to be read again
// (readRecord sets Has and the fields it reads): field by field for a few,
// beyond that one block clear of the whole Flow, which is cheaper than a
// switch per field (sampled packet sections add many fields to a record).
//
// Not inlined, so that its callers in the per-record loops are.
//
//go:noinline
//nfkit:hot
func (f *Flow) reset(s FieldSet) {
	if bits.OnesCount64(uint64(s)) > 4 {
		*f = Flow{}
		return
	}
	f.clear(s)
}

// setEnv is what every record of a data set takes from the set and its
// packet.
type setEnv struct {
	t           *Template
	addr        netip.Addr
	version     uint16
	seq, domain uint32
	rate        uint64 // the sampling rate of a quiet template's records (dataSet), else 0
}

// stamp sets the fields of r that come from its set, its offset off in the
// packet and its bytes b.
//
//nfkit:hot
func (s *setEnv) stamp(r *Record, off int, b []byte) {
	r.SamplingRate, r.OriginalSamplingRate = s.rate, 0
	if r.tmpl != s.t {
		// A template belongs to one exporter, version and domain: a slot
		// that last held a record of it keeps them.
		r.Version, r.Exporter, r.Domain, r.TemplateID, r.tmpl = s.version, s.addr, s.domain, s.t.ID, s.t
	}
	r.Sequence, r.Offset, r.raw = s.seq, off, b
}

// resentSet returns the length of the run of template records at the
// start of the template set body b (set ID setID) that the exporter
// re-sends unchanged, found in its recent templates, and counts them in
// out.Templates. Most exporters repeat their templates every few packets
// or seconds (nfreplay in every packet): the same bytes parse the same
// way, so nothing is parsed, in a function of its own, small and with few
// arguments, that decodeSets calls before learnSet.
//
//nfkit:hot
func (ex *exporter) resentSet(version, setID uint16, b []byte, out *Packet) int {
	options, domain := setID == 1 || setID == 3, out.Domain
	off := 0
	for len(b)-off >= 4 {
		rest := b[off:]
		tid := binary.BigEndian.Uint16(rest)
		p := ex.recentPair(domain, tid)
		t := p[0]
		if t == nil || t.ID != tid || t.Domain != domain {
			t = p[1]
		}
		if t == nil || t.ID != tid || t.Domain != domain || t.options != options || t.Version != version {
			break
		}
		l := len(t.def)
		if l < 4 || l > len(rest) || string(rest[2:l]) != string(t.def[2:]) {
			break
		}
		if nw := ex.newest; nw != t && nw.older != t {
			// Re-sent templates come in turns: the two most recently
			// used need not change places.
			ex.useTemplate(t)
		}
		out.Templates++
		off += l
	}
	return off
}

// learnSet learns the templates of one template or options template set
// body b from addr (resentSet has taken the ones re-sent unchanged before
// it), creating the exporter's state *ex when it learns the first. It
// returns the template id and body offset of a bad template.
//
//nfkit:cold template sets: compiling a template allocates by design, once per template
func (d *Decoder) learnSet(ex **exporter, addr netip.Addr, version uint16, domain uint32, setID uint16, b []byte, out *Packet) (uint16, int, error) {
	off := 0
	for {
		rest := b[off:]
		if len(rest) < 4 {
			return 0, 0, nil // padding
		}
		tid := binary.BigEndian.Uint16(rest)
		count := binary.BigEndian.Uint16(rest[2:])
		if tid == 0 && count == 0 {
			return 0, 0, nil // zero padding
		}
		if version == 10 && count == 0 {
			// Withdrawal (RFC 7011 §8.1).
			if *ex != nil {
				d.withdraw(*ex, domain, tid, setID == 3)
			}
			out.Templates++
			off += 4
			continue
		}
		if old := resent(*ex, version, domain, setID, tid, rest); old != nil {
			// Re-sent unchanged (most exporters repeat their templates
			// every few packets or seconds): the same bytes parse the
			// same way, so nothing is parsed.
			(*ex).useTemplate(old)
			out.Templates++
			off += len(old.def)
			continue
		}
		n, err := d.learnRecord(ex, addr, version, domain, setID, rest)
		if err != nil {
			return tid, off, err
		}
		out.Templates++
		off += n
	}
}

// resent returns the template of ex that the template record at the start
// of b defines again byte for byte, or nil.
//
//nfkit:hot
func resent(ex *exporter, version uint16, domain uint32, setID, tid uint16, b []byte) *Template {
	if ex == nil {
		return nil
	}
	old := ex.template(domain, tid)
	if old == nil || old.options != (setID == 1 || setID == 3) || old.Version != version ||
		len(b) < len(old.def) || !bytes.Equal(b[:len(old.def)], old.def) {
		return nil
	}
	return old
}

// learnRecord parses and learns the template record (not a withdrawal) at
// the start of b, and returns its length. (learnSet has already skipped a
// template re-sent byte for byte; learn skips one that parses the same.)
func (d *Decoder) learnRecord(ex **exporter, addr netip.Addr, version uint16, domain uint32, setID uint16, b []byte) (int, error) {
	tid := binary.BigEndian.Uint16(b)
	count := int(binary.BigEndian.Uint16(b[2:]))
	var (
		n     int
		scope int
		err   error
	)
	options := setID == 1 || setID == 3
	switch {
	case version == 9 && setID == 1:
		n, scope, err = d.parseV9Options(b)
	case version == 9:
		n, err = d.parseFields(b[4:], count, false)
		n += 4
	default: // IPFIX
		hdr := 4
		if options {
			if len(b) < 6 {
				return 0, ErrTemplate
			}
			scope = int(binary.BigEndian.Uint16(b[4:]))
			if scope == 0 || scope > count {
				return 0, ErrTemplate
			}
			hdr = 6
		}
		n, err = d.parseFields(b[hdr:], count, true)
		n += hdr
		for i := 0; i < scope && err == nil; i++ {
			d.specs[i].scope = true
		}
	}
	if err != nil {
		return 0, err
	}
	if tid < 256 {
		return 0, ErrTemplate
	}
	if err := d.learn(ex, addr, version, domain, tid, scope, options, b[:n]); err != nil {
		return 0, err
	}
	return n, nil
}

// parseFields parses count field specifiers into d.specs and returns the
// bytes they took.
func (d *Decoder) parseFields(b []byte, count int, ipfix bool) (int, error) {
	if count == 0 {
		return 0, ErrTemplate
	}
	if count > d.lim.MaxFields {
		return 0, ErrLimit
	}
	if count*4 > len(b) {
		return 0, ErrTemplate
	}
	if cap(d.specs) < count {
		// Sized for this template, doubling as larger ones come (a new
		// Decoder's first templates pay for no more than they use);
		// count <= MaxFields.
		d.specs = make([]fieldSpec, max(count, 2*cap(d.specs), 8))
	}
	specs := d.specs[:count]
	if !ipfix {
		// v9: 4 bytes per field, no enterprise numbers.
		b = b[:4*count]
		for i := range specs {
			f := b[4*i : 4*i+4]
			l := binary.BigEndian.Uint16(f[2:])
			if l == VariableLength {
				return 0, ErrTemplate // v9 has no variable-length fields
			}
			specs[i] = fieldSpec{id: binary.BigEndian.Uint16(f), length: l}
		}
		d.specs = specs
		return 4 * count, nil
	}
	off := 0
	for i := range specs {
		if off+4 > len(b) {
			return 0, ErrTemplate
		}
		s := fieldSpec{id: binary.BigEndian.Uint16(b[off:]), length: binary.BigEndian.Uint16(b[off+2:])}
		off += 4
		if s.id&0x8000 != 0 {
			if off+4 > len(b) {
				return 0, ErrTemplate
			}
			s.id &^= 0x8000
			s.pen = binary.BigEndian.Uint32(b[off:])
			off += 4
		}
		specs[i] = s
	}
	d.specs = specs
	return off, nil
}

// parseV9Options parses a v9 options template record (RFC 3954 §6.1):
// template id, scope length and option length in bytes, then the fields.
func (d *Decoder) parseV9Options(b []byte) (n, scope int, err error) {
	if len(b) < 6 {
		return 0, 0, ErrTemplate
	}
	scopeLen := int(binary.BigEndian.Uint16(b[2:]))
	optLen := int(binary.BigEndian.Uint16(b[4:]))
	if scopeLen%4 != 0 || optLen%4 != 0 || 6+scopeLen+optLen > len(b) {
		return 0, 0, ErrTemplate
	}
	scope = scopeLen / 4
	m, err := d.parseFields(b[6:6+scopeLen+optLen], scope+optLen/4, false)
	if err != nil {
		return 0, 0, err
	}
	for i := range scope {
		d.specs[i].scope = true
	}
	return 6 + m, scope, nil
}

// learn compiles and stores a template of the exporter *ex (created if
// nil) unless an identical one is known, evicting what it must to stay
// within the limits.
func (d *Decoder) learn(exp **exporter, addr netip.Addr, version uint16, domain uint32, tid uint16, scope int, options bool, def []byte) error {
	ex := *exp
	var old *Template
	if ex != nil {
		old = ex.template(domain, tid)
	}
	if old != nil && old.options == options && bytes.Equal(old.def, def) {
		// Re-sent unchanged: nothing to do, nothing allocated.
		ex.useTemplate(old)
		return nil
	}
	if len(d.specs) > d.lim.MaxExporterFields || len(d.specs) > d.lim.MaxTotalFields {
		return ErrLimit
	}
	t := d.tcache.get(version, domain, tid, options, def)
	if t == nil {
		var err error
		if t, err = compile(version, domain, tid, d.specs, scope, options, def); err != nil {
			return err
		}
		exporters := len(d.exporters) // with this one, once it has state
		if ex == nil {
			exporters++
		}
		if exporters > 1 {
			// Exporters of one model and configuration send the same
			// definitions: the next one to send this one shares what
			// was compiled. (A Decoder of one exporter keeps no cache
			// until a redefinition.)
			d.tcache.put(t, d.lim.MaxCachedTemplates)
		}
	}
	if ex == nil {
		ex = d.newExporter(addr)
		*exp = ex
	}
	if old != nil {
		// A redefinition: the new template takes the old one's map entry.
		d.tcache.put(old, d.lim.MaxCachedTemplates)
		d.retireTemplate(ex, old)
	}
	if !d.makeRoom(ex, len(t.fields), old != nil) {
		if old != nil {
			delete(ex.templates, tk(domain, tid))
		}
		return ErrLimit
	}
	d.addTemplate(ex, t)
	return nil
}

// withdraw removes a template, or all data (tid 2) or options (tid 3)
// templates of the domain.
func (d *Decoder) withdraw(ex *exporter, domain uint32, tid uint16, options bool) {
	if tid == 2 || tid == 3 {
		for _, t := range ex.templates {
			if t.Domain == domain && t.options == options {
				d.dropTemplate(ex, t)
			}
		}
		return
	}
	if t := ex.template(domain, tid); t != nil {
		d.dropTemplate(ex, t)
	}
}

// Template returns the template (domain, id) known for exporter, or nil.
func (d *Decoder) Template(exporter netip.Addr, domain uint32, id uint16) *Template {
	if ex := d.exporters[exporter]; ex != nil {
		return ex.templates[tk(domain, id)]
	}
	return nil
}

// TemplatesOf returns the number of templates known for exporter.
//
//nfkit:hot
func (d *Decoder) TemplatesOf(exporter netip.Addr) int {
	if ex := d.exporters[exporter]; ex != nil {
		return len(ex.templates)
	}
	return 0
}

// NumTemplates returns the number of templates known for all exporters.
func (d *Decoder) NumTemplates() int { return d.ntemplates }

// SamplingRate returns the sampling rate an exporter announced for the
// domain and sampler id (0 for an announcement without sampler id), or 0.
func (d *Decoder) SamplingRate(exporter netip.Addr, domain uint32, sampler uint64) uint64 {
	if ex := d.exporters[exporter]; ex != nil {
		return ex.samplers[skey{domain, sampler}]
	}
	return 0
}
