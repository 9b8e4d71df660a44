package analyzer

import (
	"bufio"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// connWriter prints connections in one of the output formats.
type connWriter struct {
	w      *bufio.Writer
	format string
	loc    *time.Location
	names  func(netip.Addr) string // nil: no resolution
	header bool
	buf    []byte
	times  timeCache
}

func (cw *connWriter) name(a netip.Addr) string {
	if cw.names == nil {
		return ""
	}
	return cw.names(a)
}

// appendHost appends "name (address)", or the address alone when it has no name.
func (cw *connWriter) appendHost(b []byte, a netip.Addr) []byte {
	if n := cw.name(a); n != "" {
		b = append(b, n...)
		b = append(b, " ("...)
		b = appendAddr(b, a)
		return append(b, ')')
	}
	return appendAddr(b, a)
}

var jsonCounterKeys = [...]string{`,"bytes":`, `,"packets":`, `,"fwd_bytes":`, `,"fwd_packets":`, `,"rev_bytes":`, `,"rev_packets":`}

// connFlushAt is how much output connWriter gathers before writing it on.
const connFlushAt = 32 << 10

// write formats c. Rows gather in cw.buf and go to cw.w in large pieces (flush
// writes the rest), rather than being copied into cw.w's buffer one by one.
func (cw *connWriter) write(c *Conn) error {
	b := cw.buf
	counters := [...]uint64{c.Bytes(), c.Packets(), c.A.Bytes, c.A.Packets, c.ReverseBytes(), c.ReversePackets()}
	switch cw.format {
	case "csv":
		if !cw.header {
			cw.header = true
			b = append(b, "start,end,duration_ms,service,proto,src_addr,src_port,src_name,dst_addr,dst_port,dst_name,bytes,packets,fwd_bytes,fwd_packets,rev_bytes,rev_packets,one_way,exporter\n"...)
		}
		b = appendRFC3339(b, c.Start)
		b = append(b, ',')
		b = appendRFC3339(b, c.End)
		b = append(b, ',')
		b = strconv.AppendInt(b, (c.End-c.Start)/1e6, 10)
		b = append(b, ',')
		start := len(b)
		b = appendService(b, &c.A, false)
		if needsCSVQuote(b[start:]) {
			b = appendCSV(b[:start], string(b[start:]))
		}
		b = append(b, ',')
		b = append(b, ProtoName(c.A.Proto)...)
		b = append(b, ',')
		b = appendAddr(b, c.A.Src)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(c.A.SrcPort), 10)
		b = append(b, ',')
		b = appendCSV(b, cw.name(c.A.Src))
		b = append(b, ',')
		b = appendAddr(b, c.A.Dst)
		b = append(b, ',')
		b = strconv.AppendUint(b, uint64(c.A.DstPort), 10)
		b = append(b, ',')
		b = appendCSV(b, cw.name(c.A.Dst))
		for _, v := range counters {
			b = append(b, ',')
			b = strconv.AppendUint(b, v, 10)
		}
		b = append(b, ',')
		b = strconv.AppendBool(b, c.OneWay())
		b = append(b, ',')
		if c.A.Exporter.IsValid() {
			b = appendAddr(b, c.A.Exporter)
		}
		b = append(b, '\n')
	case "json":
		b = append(b, `{"start":"`...)
		b = appendRFC3339(b, c.Start)
		b = append(b, `","end":"`...)
		b = appendRFC3339(b, c.End)
		b = append(b, `","start_ns":`...)
		b = strconv.AppendInt(b, c.Start, 10)
		b = append(b, `,"end_ns":`...)
		b = strconv.AppendInt(b, c.End, 10)
		b = append(b, `,"duration_ms":`...)
		b = strconv.AppendInt(b, (c.End-c.Start)/1e6, 10)
		b = append(b, `,"service":"`...)
		b = appendService(b, &c.A, false) // service names need no escapes
		b = append(b, `","proto":`...)
		b = strconv.AppendUint(b, uint64(c.A.Proto), 10)
		b = append(b, `,"src_addr":"`...)
		b = appendAddr(b, c.A.Src)
		b = append(b, `","src_port":`...)
		b = strconv.AppendUint(b, uint64(c.A.SrcPort), 10)
		if n := cw.name(c.A.Src); n != "" {
			b = append(b, `,"src_name":`...)
			b = appendJSONString(b, n)
		}
		b = append(b, `,"dst_addr":"`...)
		b = appendAddr(b, c.A.Dst)
		b = append(b, `","dst_port":`...)
		b = strconv.AppendUint(b, uint64(c.A.DstPort), 10)
		if n := cw.name(c.A.Dst); n != "" {
			b = append(b, `,"dst_name":`...)
			b = appendJSONString(b, n)
		}
		for i, v := range counters {
			b = append(b, jsonCounterKeys[i]...)
			b = strconv.AppendUint(b, v, 10)
		}
		b = append(b, `,"one_way":`...)
		b = strconv.AppendBool(b, c.OneWay())
		if c.A.Exporter.IsValid() {
			b = append(b, `,"exporter":"`...)
			b = appendAddr(b, c.A.Exporter)
			b = append(b, '"')
		}
		b = append(b, "}\n"...)
	default:
		if !cw.header {
			cw.header = true
			b = append(b, padRight("Timestamp", 19)+" | "+padRight("Service", 14)+" | "+padRight("Size", 8)+" | "+
				padRight("Duration", 9)+" | "+padRight("Packets", 7)+" | Involved hosts\n"...)
			b = append(b, strings.Repeat("-", 100)...)
			b = append(b, '\n')
			cw.times.loc = cw.loc
		}
		b = cw.times.appendPython(b, c.Start)
		b = append(b, ' ', '|', ' ')
		b = appendServiceCell(b, &c.A, 14)
		b = append(b, ' ', '|', ' ')
		// Right-aligned cells: the spaces first where the text's length is
		// known (padFrom then has nothing to do), else moved after.
		start := len(b)
		b = padLeftFor(b, 8, humanSizeLen(counters[0]))
		b = appendHumanSize(b, counters[0])
		b = padFrom(b, start, 8, true)
		b = append(b, ' ', '|', ' ')
		start = len(b)
		b = padLeftFor(b, 9, humanDurationLen(c.End-c.Start))
		b = appendHumanDuration(b, c.End-c.Start)
		b = padFrom(b, start, 9, true)
		b = append(b, ' ', '|', ' ')
		start = len(b)
		b = padLeftFor(b, 7, decLen(counters[1]))
		b = appendUint(b, counters[1])
		b = padFrom(b, start, 7, true)
		b = append(b, ' ', '|', ' ')
		b = cw.appendHost(b, c.A.Src)
		b = append(b, ' ', 't', 'o', ' ')
		b = cw.appendHost(b, c.A.Dst)
		if c.OneWay() {
			b = append(b, " (one-way)"...)
		}
		b = append(b, '\n')
	}
	cw.buf = b
	if len(b) >= connFlushAt {
		return cw.flush()
	}
	return nil
}

// flush writes the gathered rows on to cw.w (which the caller flushes).
func (cw *connWriter) flush() error {
	if len(cw.buf) == 0 {
		return nil
	}
	_, err := cw.w.Write(cw.buf)
	cw.buf = cw.buf[:0]
	return err
}

func padRight(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

func padLeft(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat(" ", n-len(s)) + s
}
