package decode

// timeConv is the form of a time field on the wire. The generated code
// guards these values. Absolute times (Unix seconds, ms, NTP, struct
// timeval) are converted to Unix ns by the steps that read them, so a
// template's start and end conversions (opConv, finish) are only the forms
// relative to the packet or the exporter, or convNone.
type timeConv uint8

const (
	convNone           timeConv = iota
	convUptime                  // ms of sysUptime
	convSeconds                 // Unix seconds (converted by the step)
	convMillis                  // Unix ms (converted by the step)
	convNTPMicros               // NTP timestamp, dateTimeMicroseconds (converted by the step)
	convTimeval                 // struct timeval (converted by the step)
	convNTPNanos                // NTP timestamp, dateTimeNanoseconds (converted by the step)
	convDeltaMicros             // µs before the export time
	convDurationMillis          // ms after the flow start
	convDurationMicros          // µs after the flow start
)

const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86DD
)

// applyOptions records what an options data record announces: the
// sampling rate of a sampler or selector, the exporter's system init
// time for sysUptime-relative IPFIX times, and application names.
//
//nfkit:hot
func (d *Decoder) applyOptions(ex *exporter, r *Record) {
	if a := r.tmpl.app; a != nil && a.id >= 0 && a.name >= 0 {
		d.learnAppName(ex, r, a)
	}
	f := &r.Flow
	if f.Has&HasSystemInitMs != 0 {
		d.setInitMs(ex, r.Domain, f.SystemInitMs)
	}
	if rate := samplingRate(f); rate != 0 {
		var id uint64
		if f.Has&HasSamplerID != 0 {
			id = f.SamplerID
		}
		d.setSampler(ex, skey{r.Domain, id}, rate)
	}
}

// samplingRate derives a 1-in-N rate from the sampling fields of a record:
// RFC 5475 population/size, RFC 5477 packet interval and space, or a plain
// interval (samplingInterval, v9 FLOW_SAMPLER_RANDOM_INTERVAL).
//
//nfkit:hot
func samplingRate(f *Flow) uint64 {
	switch {
	case f.Has&(HasSamplingPopulation|HasSamplingSize) == HasSamplingPopulation|HasSamplingSize && f.SamplingSize != 0:
		return f.SamplingPopulation / f.SamplingSize
	case f.Has&(HasSamplingPacketInterval|HasSamplingSpace) == HasSamplingPacketInterval|HasSamplingSpace && f.SamplingPacketInterval != 0:
		return (f.SamplingPacketInterval + f.SamplingSpace) / f.SamplingPacketInterval
	case f.Has&HasSamplingInterval != 0:
		return f.SamplingInterval
	}
	return 0
}

const samplingFields = HasSamplingInterval | HasSamplingPacketInterval | HasSamplingPopulation

// finish completes the data records of a v9 or IPFIX packet once all its
// sets are read: absolute times, derived EtherType, sampling rate. (Options
// data later in the packet may announce what earlier records need.)
//
// Records come in runs of one template (a data set), so what depends only
// on the template and the packet is decided once per run and the loops
// over the run's records do only the arithmetic.
//
//nfkit:hot
func (d *Decoder) finish(ex *exporter, p *Packet) {
	fc := finishCtx{ex: ex, p: p, domainInit: unknownInit}
	recs := p.Records
	for i := 0; i < len(recs); {
		t := recs[i].tmpl
		j := i + 1
		for j < len(recs) && recs[j].tmpl == t {
			j++
		}
		fc.run(t, recs[i:j])
		i = j
	}
}

// unknownInit marks a domain init time not looked up yet.
const unknownInit = -2

// finishCtx is what finish looks up at most once per packet.
type finishCtx struct {
	ex         *exporter
	p          *Packet
	domainInit int64 // the domain's system init time (IPFIX, Unix ms), -1 if none
}

// init returns the domain's announced system init time in Unix ms, or -1.
//
//nfkit:hot
func (fc *finishCtx) init() int64 {
	if fc.domainInit == unknownInit {
		fc.domainInit = -1
		if v, ok := fc.ex.initMs[fc.p.Domain]; ok {
			fc.domainInit = int64(v)
		}
	}
	return fc.domainInit
}

// run finishes the records rs, all of template t.
//
//nfkit:hot
func (fc *finishCtx) run(t *Template, rs []Record) {
	p := fc.p
	// Times.
	switch start, end := t.start, t.end; {
	case start == convNone && end == convNone:
	case start == convUptime && end == convUptime && t.has&HasSystemInitMs == 0 && fc.init() >= 0:
		// IPFIX sysUpTime with the init time from options data.
		init := fc.domainInit
		for i := range rs {
			f := &rs[i].Flow
			f.Start = (init + f.Start) * 1e6
			f.End = (init + f.End) * 1e6
		}
	default:
		// Every other pair whose conversions are a*raw+b with a and b
		// known for the whole set (an absolute time, which its step
		// converted, µs before the export time, IPFIX sysUpTime with the
		// domain's init time, an end as a duration after the start) is one
		// loop of arithmetic.
		as, bs, okStart := fc.affine(t, start)
		ae, be, okEnd := fc.affine(t, end)
		switch {
		case okStart && okEnd:
			for i := range rs {
				f := &rs[i].Flow
				f.Start = f.Start*as + bs
				f.End = f.End*ae + be
			}
		case okStart && start != convNone && (end == convDurationMillis || end == convDurationMicros):
			unit := int64(1e6)
			if end == convDurationMicros {
				unit = 1e3
			}
			for i := range rs {
				f := &rs[i].Flow
				f.Start = f.Start*as + bs
				f.End = f.Start + f.End*unit
			}
		default:
			for i := range rs {
				f := &rs[i].Flow
				init := int64(-1)
				if p.Version == 10 && (start == convUptime || end == convUptime) {
					if f.Has&HasSystemInitMs != 0 {
						init = int64(f.SystemInitMs)
					} else {
						init = fc.init()
					}
				}
				finishTimes(f, t, p, init)
			}
		}
	}
	// EtherType.
	switch {
	case t.etherType != 0:
		for i := range rs {
			rs[i].EtherType = t.etherType
		}
	case t.sampled():
		// Derived as each record was read, after its headers
		// (sectionHeaders).
	case t.has&HasEtherType != 0:
	case t.deriveEther:
		// The readers derived it from the IP version as they read each
		// record (deriveFromVersion).
	default:
		for i := range rs {
			deriveEtherType(&rs[i].Flow)
		}
	}
	// Sampling rate: the record's own, else the one announced in options
	// data for its sampler (or for the domain).
	ex := fc.ex
	switch {
	case t.has&samplingFields != 0:
		for i := range rs {
			r := &rs[i]
			if r.Has&samplingFields != 0 {
				r.SamplingRate = samplingRate(&r.Flow)
			}
			if r.SamplingRate == 0 && len(ex.samplers) != 0 {
				r.SamplingRate = ex.samplerRate(p.Domain, samplerOf(&r.Flow))
			}
		}
	case len(ex.samplers) == 0:
	case t.has&HasSamplerID == 0:
		rate := ex.samplerRate(p.Domain, 0)
		for i := range rs {
			rs[i].SamplingRate = rate
		}
	default:
		for i := range rs {
			rs[i].SamplingRate = ex.samplerRate(p.Domain, rs[i].SamplerID)
		}
	}
}

// affine returns a and b such that a*raw+b is the Unix ns time of a raw
// value of conversion c in every record of t in the packet (a = 1, b = 0
// for convNone: the value stays), or ok false when the conversion is not
// of that form or depends on the record.
//
//nfkit:hot
func (fc *finishCtx) affine(t *Template, c timeConv) (a, b int64, ok bool) {
	switch c {
	case convNone:
		return 1, 0, true
	case convDeltaMicros:
		return -1e3, fc.p.ExportTime, true
	case convUptime:
		if fc.p.Version == 10 && t.has&HasSystemInitMs == 0 {
			if init := fc.init(); init >= 0 {
				return 1e6, init * 1e6, true
			}
		}
	}
	return 0, 0, false
}

// samplerOf returns the record's sampler id, 0 if it has none.
//
//nfkit:hot
func samplerOf(f *Flow) uint64 {
	if f.Has&HasSamplerID != 0 {
		return f.SamplerID
	}
	return 0
}

// samplerRate returns the rate announced for the sampler id of a domain,
// else the one announced without sampler id, else 0.
// The last answer is cached on the exporter until a rate changes.
//
//nfkit:hot
func (ex *exporter) samplerRate(domain uint32, id uint64) uint64 {
	c := &ex.rateCache
	if c.ok && c.domain == domain && c.id == id {
		return c.rate
	}
	rate, ok := ex.samplers[skey{domain, id}]
	if !ok && id != 0 {
		rate = ex.samplers[skey{domain, 0}]
	}
	*c = rateCache{domain: domain, id: id, rate: rate, ok: true}
	return rate
}

// rateCache is the last answer of samplerRate.
type rateCache struct {
	id, rate uint64
	domain   uint32
	ok       bool
}

// finishTimes turns the raw start and end values into Unix ns. init is the
// exporter's system init time in Unix ms for IPFIX sysUptime forms, or -1.
// A time that cannot be made absolute loses its Has bit; the raw field
// stays available.
//
//nfkit:hot
func finishTimes(f *Flow, t *Template, p *Packet, init int64) {
	if t.start != convNone {
		if v, ok := absTime(t.start, f.Start, p, init); ok {
			f.Start = v
		} else {
			f.Start, f.Has = 0, f.Has&^HasStart
		}
	}
	switch t.end {
	case convNone:
	case convDurationMillis, convDurationMicros:
		if f.Has&HasStart == 0 {
			f.End, f.Has = 0, f.Has&^HasEnd
			break
		}
		unit := int64(1e6)
		if t.end == convDurationMicros {
			unit = 1e3
		}
		f.End = f.Start + f.End*unit
	default:
		if v, ok := absTime(t.end, f.End, p, init); ok {
			f.End = v
		} else {
			f.End, f.Has = 0, f.Has&^HasEnd
		}
	}
}

//nfkit:hot
func absTime(c timeConv, raw int64, p *Packet, init int64) (int64, bool) {
	switch c {
	case convUptime:
		if p.Version == 10 {
			if init < 0 {
				return 0, false
			}
			return (init + raw) * 1e6, true
		}
		// v1/v5/v7/v9: relative to the header's uptime and export time.
		return sinceUptime(p.ExportTime, p.SysUptime, raw), true
	case convDeltaMicros:
		return p.ExportTime - raw*1e3, true
	}
	return 0, false
}

// deriveFromVersion sets the EtherType of a record of a template with an
// IP version field and no EtherType field (Template.deriveEther) from its
// IP version, as the record is read: IPv4 or IPv6, else none. Every reader
// of such templates calls it (or its generated shape readers do the same)
// after setting Has.
//
//nfkit:hot
func deriveFromVersion(f *Flow) {
	e := etherOfVersion[f.IPVersion]
	f.EtherType = e
	if e != 0 {
		f.Has |= HasEtherType
	}
}

// etherOfVersion is the EtherType of each IP version value (none but for
// 4 and 6): one load instead of a switch in the readers' loops.
var etherOfVersion = [256]uint16{4: etherTypeIPv4, 6: etherTypeIPv6}

// deriveEtherType fills EtherType from the IP version or address family
// when the record did not carry it.
//
//nfkit:hot
func deriveEtherType(f *Flow) {
	switch {
	case f.Has&HasEtherType != 0:
	case f.Has&HasIPVersion != 0:
		deriveFromVersion(f)
	case f.SrcAddr.Is4():
		f.EtherType, f.Has = etherTypeIPv4, f.Has|HasEtherType
	case f.SrcAddr.Is6():
		f.EtherType, f.Has = etherTypeIPv6, f.Has|HasEtherType
	default:
		f.EtherType = 0
	}
}

// sectionHeaders completes a flow record of a template with a sampled
// packet section or frame size as soon as it is read (after stamp): the
// fields it lacks from the section's headers, then its EtherType, derived
// unless the template fixes it (dataSet or finish sets that).
//
//nfkit:hot
func sectionHeaders(t *Template, r *Record) {
	headers(t, r)
	if t.etherType == 0 {
		deriveEtherType(&r.Flow)
	}
}

// headers fills the normalized fields a record with a sampled packet
// section lacks from the headers in it (addresses, ports, protocol, TOS,
// TTL, TCP flags, VLANs, MACs, EtherType), and takes the frame's size as
// its bytes (one packet) when it has no counters: the sampling rate then
// scales them with Renormalize as any sampled flow's.
//
//nfkit:hot
func headers(t *Template, r *Record) {
	f := &r.Flow
	if t.section >= 0 {
		var sec []byte
		if tf := &t.fields[t.section]; !t.varLen {
			// At a fixed place in a record of the template's length.
			sec = r.raw[tf.Offset : int(tf.Offset)+int(tf.Length)]
		} else if v, ok := r.FieldAt(int(t.section)); ok {
			sec = v.Value
		}
		if t.sectionIP {
			parseIPHeader(sec, f)
		} else {
			parseFrame(sec, f) // parseEthernetHeader, with the fast path for the usual frames
		}
	}
	if t.frameSize >= 0 && f.Has&HasBytes == 0 {
		if v, ok := r.FieldAt(int(t.frameSize)); ok {
			if n, ok := v.Uint(); ok {
				f.Bytes, f.Has = n, f.Has|HasBytes
				if f.Has&HasPackets == 0 {
					f.Packets, f.Has = 1, f.Has|HasPackets
				}
			}
		}
	}
}
