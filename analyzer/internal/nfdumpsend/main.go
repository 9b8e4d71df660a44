// Command nfdumpsend makes the flow set of the nfdump cross-check and sends flow
// sets to a NetFlow collector (nfcapd) as NetFlow v9, for
// scripts/make-nfdump-expect.sh:
//
//	go run ./analyzer/internal/nfdumpsend -gen -n 400 -seed 1 > flows.jsonl
//	go run ./analyzer/internal/nfdumpsend -send 127.0.0.1:9995 flows.jsonl
//
// The flow set is written in nfcollect's JSON-lines format; it is read back with
// encoding/json, independently of the analyzer's own reader. Each flow must have
// addresses, start and end times (multiples of a millisecond, as v9 carries them),
// bytes and packets; biflow and out_* counters are refused, because nfdump would
// not count them as nfanalyze does.
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

func main() {
	gen := flag.Bool("gen", false, "write a flow set to stdout")
	n := flag.Int("n", 400, "flows to generate")
	seed := flag.Uint64("seed", 1, "random seed of the generated flows")
	send := flag.String("send", "", "send the flows of the file argument to this `address` (loopback only) as NetFlow v9")
	perPacket := flag.Int("records", 20, "flow records per packet")
	pause := flag.Duration("pause", time.Millisecond, "pause between packets")
	flag.Parse()
	switch {
	case *gen:
		w := bufio.NewWriter(os.Stdout)
		generate(w, *n, *seed)
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
	case *send != "" && flag.NArg() == 1:
		flows, err := readFlows(flag.Arg(0))
		if err != nil {
			log.Fatal(err)
		}
		sent, err := sendV9(*send, flows, *perPacket, *pause)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "sent %d flows in %d packets to %s\n", len(flows), sent, *send)
	default:
		fmt.Fprintln(os.Stderr, "usage: nfdumpsend -gen [-n N] [-seed S] > flows.jsonl | nfdumpsend -send ADDR flows.jsonl")
		os.Exit(2)
	}
}

// generate writes n random flows: IPv4 and IPv6, TCP, UDP, ICMP, ICMPv6 and GRE,
// some hosts and ports much busier than others, AS numbers, over two hours,
// from two exporters (127.0.0.1 and 127.0.0.2, 20 flows each in turn, so that
// they can be sent from those addresses); with TCP flags, TOS, interfaces,
// VLANs, MACs, prefix lengths and direction, and an eighth of the flows
// shorter than a millisecond. The optional fields come from a second random
// source, so that the rest of each flow is what it was before they were added.
func generate(w io.Writer, n int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 4))
	r2 := rand.New(rand.NewPCG(seed, 5))
	macs := []string{"00:00:5e:00:53:01", "00:00:5e:00:53:02", "00:00:5e:00:53:0a", "02:42:ac:11:00:02", "0a:1b:2c:3d:4e:5f"}
	v4 := []string{"192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.20", "192.0.2.53", "198.51.100.7",
		"198.51.100.9", "198.51.100.25", "198.51.100.80", "203.0.113.5", "203.0.113.77", "203.0.113.200"}
	v6 := []string{"2001:db8::10", "2001:db8::11", "2001:db8:1::443", "2001:db8:1::53"}
	servers := []uint16{22, 25, 53, 80, 123, 443, 443, 443, 993, 3389, 8080}
	ases := []uint32{0, 64496, 64500, 64501, 64502, 65000, 4200000001}
	// Skewed choice: low indexes are picked more often, so that top-N lists have
	// clear leaders and a long tail.
	pick := func(k int) int { return min(int(r.ExpFloat64()*float64(k)/3), k-1) }
	base := time.Date(2017, 10, 28, 23, 0, 0, 0, time.UTC).UnixMilli()
	for i := 0; i < n; i++ {
		var src, dst string
		proto := []uint8{6, 6, 6, 6, 17, 17, 17, 1, 47}[r.IntN(9)]
		if r.IntN(5) == 0 {
			src, dst = v6[pick(len(v6))], v6[pick(len(v6))]
			if proto == 1 {
				proto = 58
			}
		} else {
			src, dst = v4[pick(len(v4))], v4[pick(len(v4))]
		}
		start := base + r.Int64N(2*3600*1000)
		end := start + r.Int64N(120*1000)
		if r2.IntN(8) == 0 {
			end = start
		}
		pkts := uint64(1 + pick(3000))
		bytes := pkts * uint64(40+r.IntN(1460))
		fmt.Fprintf(w, `{"type":"NETFLOW_V9","time_received_ns":%d,"sampler_address":"127.0.0.%d","sequence_num":%d,"observation_domain_id":0,"template_id":256,"time_flow_start_ns":%d,"time_flow_end_ns":%d,"bytes":%d,"packets":%d,"src_addr":"%s","dst_addr":"%s"`,
			(end+1000)*1e6, 1+i/20%2, i/40+1, start*1e6, end*1e6, bytes, pkts, src, dst)
		switch proto {
		case 6, 17:
			sp, dp := uint16(32768+r.IntN(28000)), servers[pick(len(servers))]
			if r.IntN(2) == 0 {
				sp, dp = dp, sp // a reply
			}
			fmt.Fprintf(w, `,"src_port":%d,"dst_port":%d`, sp, dp)
		case 1, 58:
			t := []int{8, 0, 3, 11}[r.IntN(4)]
			if proto == 58 {
				t = []int{128, 129, 1, 135}[r.IntN(4)]
			}
			fmt.Fprintf(w, `,"icmp_type":%d,"icmp_code":%d`, t, r.IntN(2))
		}
		fmt.Fprintf(w, `,"proto":%d,"src_as":%d,"dst_as":%d`, proto, ases[pick(len(ases))], ases[pick(len(ases))])
		var flags int
		if proto == 6 {
			flags = []int{0x02, 0x12, 0x10, 0x18, 0x11, 0x19, 0x1b, 0x04, 0x14, 0x1f, 0x3f, 0x01}[r2.IntN(12)]
		}
		masks := []int{0, 8, 16, 24, 32}
		if strings.Contains(src, ":") {
			masks = []int{0, 32, 48, 64, 128}
		}
		fmt.Fprintf(w, `,"ip_tos":%d,"tcp_flags":%d,"in_if":%d,"out_if":%d,"src_net":%d,"dst_net":%d,"src_vlan":%d,"dst_vlan":%d,"src_mac":"%s","dst_mac":"%s","direction":%d}`+"\n",
			[]int{0, 0, 0, 8, 16, 32, 184}[r2.IntN(7)], flags, 1+r2.IntN(8), 1+r2.IntN(8), masks[r2.IntN(5)], masks[r2.IntN(5)],
			[]int{0, 10, 20, 30}[r2.IntN(4)], []int{0, 10, 20, 30}[r2.IntN(4)], macs[r2.IntN(len(macs))], macs[r2.IntN(len(macs))], r2.IntN(2))
	}
}

// flow is what the v9 records carry.
type flow struct {
	Start    int64   `json:"time_flow_start_ns"`
	End      int64   `json:"time_flow_end_ns"`
	Bytes    *uint64 `json:"bytes"`
	Packets  *uint64 `json:"packets"`
	Src      string  `json:"src_addr"`
	Dst      string  `json:"dst_addr"`
	SrcPort  uint16  `json:"src_port"`
	DstPort  uint16  `json:"dst_port"`
	Proto    uint8   `json:"proto"`
	ICMPType *uint8  `json:"icmp_type"`
	ICMPCode uint8   `json:"icmp_code"`
	SrcAS    uint32  `json:"src_as"`
	DstAS    uint32  `json:"dst_as"`
	Exporter string  `json:"sampler_address"`
	TOS      uint8   `json:"ip_tos"`
	TCPFlags uint8   `json:"tcp_flags"`
	InIf     uint32  `json:"in_if"`
	OutIf    uint32  `json:"out_if"`
	SrcMask  uint8   `json:"src_net"`
	DstMask  uint8   `json:"dst_net"`
	SrcVLAN  uint16  `json:"src_vlan"`
	DstVLAN  uint16  `json:"dst_vlan"`
	SrcMAC   string  `json:"src_mac"`
	DstMAC   string  `json:"dst_mac"`
	Dir      uint8   `json:"direction"`

	RevBytes   *uint64 `json:"rev_bytes"`
	RevPackets *uint64 `json:"rev_packets"`
	OutBytes   *uint64 `json:"out_bytes"`
	OutPackets *uint64 `json:"out_packets"`
	Flows      *uint64 `json:"flows"`

	src, dst, exporter netip.Addr
	srcMAC, dstMAC     net.HardwareAddr
}

func readFlows(name string) ([]flow, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var flows []flow
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var f flow
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, i+1, err)
		}
		bad := func(msg string) error { return fmt.Errorf("%s:%d: %s", name, i+1, msg) }
		switch {
		case f.Bytes == nil || f.Packets == nil:
			return nil, bad("bytes and packets are needed")
		case f.RevBytes != nil || f.RevPackets != nil || f.OutBytes != nil || f.OutPackets != nil || f.Flows != nil:
			return nil, bad("rev_*, out_* and flows are not sent (nfdump counts them differently)")
		case f.Start <= 0 || f.End < f.Start || f.Start%1e6 != 0 || f.End%1e6 != 0:
			return nil, bad("start and end times in whole milliseconds are needed")
		}
		if f.src, err = netip.ParseAddr(f.Src); err != nil {
			return nil, bad(err.Error())
		}
		if f.dst, err = netip.ParseAddr(f.Dst); err != nil {
			return nil, bad(err.Error())
		}
		if f.src.Is4() != f.dst.Is4() {
			return nil, bad("source and destination of different families")
		}
		if f.exporter, err = netip.ParseAddr(f.Exporter); err != nil || !f.exporter.Is4() || !f.exporter.IsLoopback() {
			return nil, bad("sampler_address must be an IPv4 loopback address (the flows are sent from it)")
		}
		for _, m := range []struct {
			s   string
			dst *net.HardwareAddr
		}{{f.SrcMAC, &f.srcMAC}, {f.DstMAC, &f.dstMAC}} {
			*m.dst = make(net.HardwareAddr, 6)
			if m.s != "" {
				if *m.dst, err = net.ParseMAC(m.s); err != nil || len(*m.dst) != 6 {
					return nil, bad("bad MAC address " + m.s)
				}
			}
		}
		flows = append(flows, f)
	}
	return flows, nil
}

// NetFlow v9 (RFC 3954) templates: one for IPv4, one for IPv6, with the same
// fields otherwise. ICMP type and code travel in ICMP_TYPE (32) as type*256+code.
// Then TCP_FLAGS (6), SRC_TOS (5), INPUT_SNMP (10), OUTPUT_SNMP (14), SRC_VLAN
// (58), DST_VLAN (59), IN_SRC_MAC (56), IN_DST_MAC (80), SRC_MASK/DST_MASK (9,
// 13; IPv6: 29, 30) and DIRECTION (61).
var (
	fieldsV4 = [][2]uint16{{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 8}, {22, 4}, {21, 4}, {16, 4}, {17, 4}, {32, 2},
		{6, 1}, {5, 1}, {10, 4}, {14, 4}, {58, 2}, {59, 2}, {56, 6}, {80, 6}, {9, 1}, {13, 1}, {61, 1}}
	fieldsV6 = [][2]uint16{{27, 16}, {28, 16}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 8}, {22, 4}, {21, 4}, {16, 4}, {17, 4}, {32, 2},
		{6, 1}, {5, 1}, {10, 4}, {14, 4}, {58, 2}, {59, 2}, {56, 6}, {80, 6}, {29, 1}, {30, 1}, {61, 1}}
)

const (
	tmplV4 = 256
	tmplV6 = 257
	// uptime is the exporter's sysUptime in every header (ms); flow times are
	// sent relative to it (FIRST_SWITCHED, LAST_SWITCHED).
	uptime = 1_000_000_000
)

func appendTemplates(b []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, 0) // template flowset
	b = binary.BigEndian.AppendUint16(b, 0) // length, below
	for _, t := range []struct {
		id     uint16
		fields [][2]uint16
	}{{tmplV4, fieldsV4}, {tmplV6, fieldsV6}} {
		b = binary.BigEndian.AppendUint16(b, t.id)
		b = binary.BigEndian.AppendUint16(b, uint16(len(t.fields)))
		for _, f := range t.fields {
			b = binary.BigEndian.AppendUint16(b, f[0])
			b = binary.BigEndian.AppendUint16(b, f[1])
		}
	}
	binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
	return b
}

func appendRecord(b []byte, f *flow, exportMs int64) []byte {
	if f.src.Is4() {
		b = append(b, f.src.AsSlice()...)
		b = append(b, f.dst.AsSlice()...)
	} else {
		s, d := f.src.As16(), f.dst.As16()
		b = append(b, s[:]...)
		b = append(b, d[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, f.SrcPort)
	b = binary.BigEndian.AppendUint16(b, f.DstPort)
	b = append(b, f.Proto)
	b = binary.BigEndian.AppendUint64(b, *f.Bytes)
	b = binary.BigEndian.AppendUint64(b, *f.Packets)
	b = binary.BigEndian.AppendUint32(b, uint32(uptime-(exportMs-f.Start/1e6)))
	b = binary.BigEndian.AppendUint32(b, uint32(uptime-(exportMs-f.End/1e6)))
	b = binary.BigEndian.AppendUint32(b, f.SrcAS)
	b = binary.BigEndian.AppendUint32(b, f.DstAS)
	var icmp uint16
	if f.ICMPType != nil {
		icmp = uint16(*f.ICMPType)<<8 | uint16(f.ICMPCode)
	}
	b = binary.BigEndian.AppendUint16(b, icmp)
	b = append(b, f.TCPFlags, f.TOS)
	b = binary.BigEndian.AppendUint32(b, f.InIf)
	b = binary.BigEndian.AppendUint32(b, f.OutIf)
	b = binary.BigEndian.AppendUint16(b, f.SrcVLAN)
	b = binary.BigEndian.AppendUint16(b, f.DstVLAN)
	b = append(b, f.srcMAC...)
	b = append(b, f.dstMAC...)
	return append(b, f.SrcMask, f.DstMask, f.Dir)
}

// sendV9 sends the flows in packets of up to perPacket records, the templates
// in every tenth packet, and returns the number of packets.
func sendV9(addr string, flows []flow, perPacket int, pause time.Duration) (int, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return 0, errors.New("-send needs a loopback address and port, e.g. 127.0.0.1:9995")
	}
	// The flows of each exporter are sent from its address (nfcapd takes the
	// sender's address as the exporter's), with the templates in every packet.
	conns := map[netip.Addr]*net.UDPConn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// One export time for all packets, after the last flow ended: every flow's
	// times are then at most a few hours before it, well within the uptime.
	var last int64
	for i := range flows {
		last = max(last, flows[i].End/1e6)
	}
	exportMs := (last/1000 + 1) * 1000
	packets := 0
	for seq := 0; len(flows) > 0; seq++ {
		n := 1
		for n < min(perPacket, len(flows)) && flows[n].exporter == flows[0].exporter {
			n++
		}
		chunk := flows[:n]
		flows = flows[n:]
		conn := conns[chunk[0].exporter]
		if conn == nil {
			if conn, err = net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(chunk[0].exporter, 0)), net.UDPAddrFromAddrPort(ap)); err != nil {
				return packets, err
			}
			conns[chunk[0].exporter] = conn
		}
		b := make([]byte, 20, 1500)
		b = appendTemplates(b)
		count := 2
		for _, id := range []uint16{tmplV4, tmplV6} {
			start := len(b)
			b = binary.BigEndian.AppendUint16(b, id)
			b = binary.BigEndian.AppendUint16(b, 0)
			for i := range chunk {
				if chunk[i].src.Is4() == (id == tmplV4) {
					b = appendRecord(b, &chunk[i], exportMs)
					count++
				}
			}
			if len(b) == start+4 {
				b = b[:start] // no records of this family
				continue
			}
			for len(b)%4 != 0 {
				b = append(b, 0)
			}
			binary.BigEndian.PutUint16(b[start+2:], uint16(len(b)-start))
		}
		binary.BigEndian.PutUint16(b[0:], 9)
		binary.BigEndian.PutUint16(b[2:], uint16(count))
		binary.BigEndian.PutUint32(b[4:], uptime)
		binary.BigEndian.PutUint32(b[8:], uint32(exportMs/1000))
		binary.BigEndian.PutUint32(b[12:], uint32(seq))
		binary.BigEndian.PutUint32(b[16:], 0) // source ID
		if _, err := conn.Write(b); err != nil {
			return packets, err
		}
		packets++
		time.Sleep(pause)
	}
	return packets, nil
}
