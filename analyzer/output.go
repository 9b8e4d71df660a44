package analyzer

import (
	"bufio"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// connWriter prints connections in one output format. Rows gather in buf
// and go to w in large pieces (flush writes the rest), rather than being
// copied into w's buffer one by one.
type connWriter struct {
	w      *bufio.Writer
	f      connFormat
	header bool // written
	buf    []byte
}

// connFormat is an output format of connections, chosen once per run so that
// writing a row does not look at the format again.
type connFormat interface {
	// header appends what comes before the first row.
	header(b []byte) []byte
	// row appends the row of c.
	row(b []byte, c *Conn) []byte
}

// newConnWriter returns a writer of connections in format ("table", "csv" or
// "json") to w, with times of the table in loc and host names from names
// (nil: none).
func newConnWriter(w *bufio.Writer, format string, loc *time.Location, names func(netip.Addr) string, width int) (*connWriter, error) {
	cw := &connWriter{w: w}
	switch format {
	case "table":
		cw.f = &tableFormat{names: names, times: timeCache{loc: loc}, width: width}
	case "csv":
		cw.f = csvFormat{names: names}
	case "json":
		cw.f = jsonFormat{names: names}
	default:
		return nil, fmt.Errorf("unknown output format %q (want table, csv or json)", format)
	}
	return cw, nil
}

// connFlushAt is how much output connWriter gathers before writing it on.
const connFlushAt = 32 << 10

// write formats c.
func (cw *connWriter) write(c *Conn) error {
	b := cw.buf
	if !cw.header {
		cw.header = true
		b = cw.f.header(b)
	}
	b = cw.f.row(b, c)
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

// hostNames returns the name of an address, "" when it has none; nil: no
// resolution.
type hostNames func(netip.Addr) string

func (n hostNames) name(a netip.Addr) string {
	if n == nil {
		return ""
	}
	return n(a)
}

// tableFormat is the default output: the Python analyzer's table, or, with
// width set (a terminal of that many columns), a compact one that fits it.
type tableFormat struct {
	names hostNames
	times timeCache
	width int
}

func (t *tableFormat) header(b []byte) []byte {
	if t.width > 0 {
		b = append(b, "Time           Service        Size  Duration Packets Hosts\n"...)
		b = append(b, strings.Repeat("-", min(t.width, compactFixed+30))...)
		return append(b, '\n')
	}
	b = append(b, padRight("Timestamp", 19)+" | "+padRight("Service", 14)+" | "+padRight("Size", 8)+" | "+
		padRight("Duration", 9)+" | "+padRight("Packets", 7)+" | Involved hosts\n"...)
	b = append(b, strings.Repeat("-", 100)...)
	return append(b, '\n')
}

// compactFixed is the width of the compact table's columns before the hosts.
const compactFixed = 14 + 1 + 10 + 1 + 8 + 1 + 9 + 1 + 7 + 1

// compactRow is row in the compact layout: the date without the year, no
// bars, the service in 10 columns, and the hosts cut to the width ("…").
func (t *tableFormat) compactRow(b []byte, c *Conn) []byte {
	line := len(b)
	b = t.times.appendPython(b, c.Start)
	// "2006-01-02 15:04.05" -> "01-02 15:04:05"
	copy(b[line:], b[line+5:])
	b = b[:len(b)-5]
	b[line+11] = ':'
	b = append(b, ' ')
	start := len(b)
	b = appendService(b, &c.A, true)
	if len(b)-start > 10 {
		b = b[:start+10]
	}
	b = padFrom(b, start, 10, false)
	b = append(b, ' ')
	start = len(b)
	b = appendHumanSize(b, c.Bytes())
	b = padFrom(b, start, 8, true)
	b = append(b, ' ')
	start = len(b)
	b = appendHumanDuration(b, c.End-c.Start)
	b = padFrom(b, start, 9, true)
	b = append(b, ' ')
	start = len(b)
	b = appendUint(b, c.Packets())
	b = padFrom(b, start, 7, true)
	b = append(b, ' ')
	hosts := len(b)
	b = t.appendHosts(b, c)
	if c.OneWay() {
		b = append(b, " (one-way)"...)
	}
	if room := t.width - (hosts - line); room > 0 && utf8.RuneCount(b[hosts:]) > room {
		b = append(b[:hosts+room-1], "…"...)
	}
	return append(b, '\n')
}

// appendHosts appends "A to B", with the ports when no service name
// explains them (neither port has one).
func (t *tableFormat) appendHosts(b []byte, c *Conn) []byte {
	ports := hasPorts(c.A.Proto) && !hasServiceName(c.A.SrcPort, c.A.Proto) && !hasServiceName(c.A.DstPort, c.A.Proto)
	b = t.appendHost(b, c.A.Src, c.A.SrcPort, ports)
	b = append(b, ' ', 't', 'o', ' ')
	return t.appendHost(b, c.A.Dst, c.A.DstPort, ports)
}

func (t *tableFormat) row(b []byte, c *Conn) []byte {
	if t.width > 0 {
		return t.compactRow(b, c)
	}
	b = t.times.appendPython(b, c.Start)
	b = append(b, ' ', '|', ' ')
	b = appendServiceCell(b, &c.A, 14)
	b = append(b, ' ', '|', ' ')
	// Right-aligned cells: the spaces first where the text's length is
	// known (padFrom then has nothing to do), else moved after.
	size := c.Bytes()
	start := len(b)
	b = padLeftFor(b, 8, humanSizeLen(size))
	b = appendHumanSize(b, size)
	b = padFrom(b, start, 8, true)
	b = append(b, ' ', '|', ' ')
	start = len(b)
	b = padLeftFor(b, 9, humanDurationLen(c.End-c.Start))
	b = appendHumanDuration(b, c.End-c.Start)
	b = padFrom(b, start, 9, true)
	b = append(b, ' ', '|', ' ')
	packets := c.Packets()
	start = len(b)
	b = padLeftFor(b, 7, decLen(packets))
	b = appendUint(b, packets)
	b = padFrom(b, start, 7, true)
	b = append(b, ' ', '|', ' ')
	b = t.appendHosts(b, c)
	if c.OneWay() {
		b = append(b, " (one-way)"...)
	}
	return append(b, '\n')
}

// appendHost appends "name (address)", or the address alone when it has no
// name (the compact table: the name alone when there is one); with port,
// "address:port" ("[v6]:port").
func (t *tableFormat) appendHost(b []byte, a netip.Addr, port uint16, withPort bool) []byte {
	n := t.names.name(a)
	if n != "" && t.width > 0 {
		return append(b, n...) // compact: the name alone
	}
	if n != "" {
		b = append(b, n...)
		b = append(b, " ("...)
	}
	if withPort && !a.Is4() {
		b = append(b, '[')
	}
	b = appendAddr(b, a)
	if withPort {
		if !a.Is4() {
			b = append(b, ']')
		}
		b = appendUint(append(b, ':'), uint64(port))
	}
	if n != "" {
		b = append(b, ')')
	}
	return b
}

// csvFormat is --output csv: a header line, then one line per connection.
type csvFormat struct{ names hostNames }

func (csvFormat) header(b []byte) []byte {
	return append(b, "start,end,duration_ms,service,proto,src_addr,src_port,src_name,dst_addr,dst_port,dst_name,bytes,packets,fwd_bytes,fwd_packets,rev_bytes,rev_packets,one_way,exporter\n"...)
}

func (f csvFormat) row(b []byte, c *Conn) []byte {
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
	b = appendCSV(b, f.names.name(c.A.Src))
	b = append(b, ',')
	b = appendAddr(b, c.A.Dst)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(c.A.DstPort), 10)
	b = append(b, ',')
	b = appendCSV(b, f.names.name(c.A.Dst))
	for _, v := range [...]uint64{c.Bytes(), c.Packets(), c.A.Bytes, c.A.Packets, c.ReverseBytes(), c.ReversePackets()} {
		b = append(b, ',')
		b = strconv.AppendUint(b, v, 10)
	}
	b = append(b, ',')
	b = strconv.AppendBool(b, c.OneWay())
	b = append(b, ',')
	if c.A.Exporter.IsValid() {
		b = appendAddr(b, c.A.Exporter)
	}
	return append(b, '\n')
}

// jsonFormat is --output json: one object per connection and line.
type jsonFormat struct{ names hostNames }

func (jsonFormat) header(b []byte) []byte { return b }

var jsonCounterKeys = [...]string{`,"bytes":`, `,"packets":`, `,"fwd_bytes":`, `,"fwd_packets":`, `,"rev_bytes":`, `,"rev_packets":`}

func (f jsonFormat) row(b []byte, c *Conn) []byte {
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
	if n := f.names.name(c.A.Src); n != "" {
		b = append(b, `,"src_name":`...)
		b = appendJSONString(b, n)
	}
	b = append(b, `,"dst_addr":"`...)
	b = appendAddr(b, c.A.Dst)
	b = append(b, `","dst_port":`...)
	b = strconv.AppendUint(b, uint64(c.A.DstPort), 10)
	if n := f.names.name(c.A.Dst); n != "" {
		b = append(b, `,"dst_name":`...)
		b = appendJSONString(b, n)
	}
	for i, v := range [...]uint64{c.Bytes(), c.Packets(), c.A.Bytes, c.A.Packets, c.ReverseBytes(), c.ReversePackets()} {
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
	return append(b, "}\n"...)
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
