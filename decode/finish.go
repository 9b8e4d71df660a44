package decode

// timeConv says how a raw time value read by a step becomes Unix ns. The
// generated code guards these values.
type timeConv uint8

const (
	convNone           timeConv = iota
	convUptime                  // ms of sysUptime
	convSeconds                 // Unix seconds
	convMillis                  // Unix ms
	convNTPMicros               // NTP timestamp (dateTimeMicroseconds)
	convTimeval                 // µs since the Unix epoch (struct timeval)
	convNTPNanos                // NTP timestamp (dateTimeNanoseconds)
	convDeltaMicros             // µs before the export time
	convDurationMillis          // ms after the flow start
	convDurationMicros          // µs after the flow start
)

const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86DD
)

// applyOptions records what an options data record announces: the
// sampling rate of a sampler or selector, and the exporter's system init
// time for sysUptime-relative IPFIX times.
//
//nfkit:hot
func (d *Decoder) applyOptions(ex *exporter, r *Record) {
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
// sets are read: absolute times, derived EtherType, sampling rate.
//
//nfkit:hot
func (d *Decoder) finish(ex *exporter, p *Packet) {
	if len(p.Records) == 0 {
		return
	}
	samplers := len(ex.samplers) != 0
	for i := range p.Records {
		r := &p.Records[i]
		f := &r.Flow
		t := r.tmpl
		switch {
		case t.start == convUptime && t.end == convUptime && p.Version != 10:
			// The common v9 case, inline: relative to the header's
			// uptime and export time, wrap-around safe (see absTime).
			f.Start = p.ExportTime - int64(int32(p.SysUptime-uint32(f.Start)))*1e6
			f.End = p.ExportTime - int64(int32(p.SysUptime-uint32(f.End)))*1e6
		case t.start == convMillis && t.end == convMillis:
			f.Start *= 1e6
			f.End *= 1e6
		case t.start|t.end != convNone:
			var init int64 = -1
			if p.Version == 10 && (t.start == convUptime || t.end == convUptime) {
				if f.Has&HasSystemInitMs != 0 {
					init = int64(f.SystemInitMs)
				} else if v, ok := ex.initMs[r.Domain]; ok {
					init = int64(v)
				}
			}
			finishTimes(f, t, p, init)
		}
		if t.etherType != 0 {
			f.EtherType = t.etherType
		} else {
			deriveEtherType(f)
		}
		if f.Has&samplingFields != 0 {
			r.SamplingRate = samplingRate(f)
		}
		if r.SamplingRate == 0 && samplers {
			var id uint64
			if f.Has&HasSamplerID != 0 {
				id = f.SamplerID
			}
			rate, ok := ex.samplers[skey{r.Domain, id}]
			if !ok && id != 0 {
				rate = ex.samplers[skey{r.Domain, 0}]
			}
			r.SamplingRate = rate
		}
	}
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
		// The difference is taken modulo 2^32 as a signed value, which
		// handles sysUptime wrap-around and small clock skew.
		return p.ExportTime - int64(int32(p.SysUptime-uint32(raw)))*1e6, true
	case convSeconds:
		return raw * 1e9, true
	case convMillis:
		return raw * 1e6, true
	case convNTPMicros, convNTPNanos:
		return ntpToUnixNano(uint64(raw)), true
	case convTimeval:
		return raw * 1e3, true
	case convDeltaMicros:
		return p.ExportTime - raw*1e3, true
	}
	return 0, false
}

// deriveEtherType fills EtherType from the IP version or address family
// when the record did not carry it.
//
//nfkit:hot
func deriveEtherType(f *Flow) {
	if f.Has&HasEtherType != 0 {
		return
	}
	switch {
	case f.Has&HasIPVersion != 0 && f.IPVersion == 4,
		f.Has&HasIPVersion == 0 && f.SrcAddr.Is4():
		f.EtherType = etherTypeIPv4
	case f.Has&HasIPVersion != 0 && f.IPVersion == 6,
		f.Has&HasIPVersion == 0 && f.SrcAddr.Is6():
		f.EtherType = etherTypeIPv6
	default:
		f.EtherType = 0
		return
	}
	f.Has |= HasEtherType
}
