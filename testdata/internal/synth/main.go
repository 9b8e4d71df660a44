// Command synth writes a small, deterministic pcap of synthetic traffic that
// is fed to real NetFlow/IPFIX exporters (softflowd, pmacctd, fprobe) by
// scripts/make-testdata.sh.
//
// The output depends only on the constants in this file: a fixed random seed,
// a fixed start time and documentation address prefixes (RFC 5737 and
// RFC 3849). It contains IPv4 and IPv6, TCP connections in both directions
// with SYN/ACK/PSH/FIN/RST flags, UDP DNS (53) and NTP (123), ICMP and ICMPv6
// echo, a few 802.1Q-tagged frames and a handful of distinct MAC addresses.
//
// The pcap is written by hand (classic libpcap format, microsecond
// timestamps, LINKTYPE_ETHERNET) so that only gopacket/layers is needed.
//
// Usage (testdata/internal is its own module): cd testdata/internal && go run ./synth -o ../synthetic-traffic.pcap
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Fixed inputs: change them and every capture derived from the pcap changes.
const (
	seed1, seed2 = 0x6e666b6974, 0x7379 // "nfkit", "sy"
	duration     = 120 * time.Second
)

var startTime = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// Hosts. MACs are locally administered unicast addresses.
type host struct {
	mac  net.HardwareAddr
	ip4  net.IP
	ip6  net.IP
	vlan uint16 // 0: untagged
}

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0x00, 0x5e, 0x10, 0x00, last} }

var (
	gw      = host{mac: mac(0x01)} // the "router": every off-subnet packet goes to/from it
	client1 = host{mac: mac(0x11), ip4: net.ParseIP("192.0.2.10").To4(), ip6: net.ParseIP("2001:db8:1::10")}
	client2 = host{mac: mac(0x12), ip4: net.ParseIP("192.0.2.20").To4(), ip6: net.ParseIP("2001:db8:1::20")}
	client3 = host{mac: mac(0x13), ip4: net.ParseIP("192.0.2.30").To4(), ip6: net.ParseIP("2001:db8:1::30"), vlan: 100}
	web     = host{ip4: net.ParseIP("198.51.100.80").To4(), ip6: net.ParseIP("2001:db8:2::80")}
	ssh     = host{ip4: net.ParseIP("198.51.100.22").To4()}
	dns     = host{ip4: net.ParseIP("203.0.113.53").To4(), ip6: net.ParseIP("2001:db8:53::53")}
	ntp     = host{ip4: net.ParseIP("203.0.113.123").To4()}
	pinged  = host{ip4: net.ParseIP("198.51.100.1").To4(), ip6: net.ParseIP("2001:db8:2::1")}
)

type frame struct {
	t    time.Duration // offset from startTime
	seq  int           // tie-breaker: generation order
	data []byte
}

type gen struct {
	rng    *rand.Rand
	frames []frame
}

// mplsMode (-mpls) puts an MPLS label stack on every untagged frame.
var mplsMode bool

// l2 returns the link layers for a packet between a local client and the
// gateway. toGW is true for client -> network packets.
func l2(c host, toGW bool, et layers.EthernetType) []gopacket.SerializableLayer {
	eth := &layers.Ethernet{SrcMAC: c.mac, DstMAC: gw.mac, EthernetType: et}
	if !toGW {
		eth.SrcMAC, eth.DstMAC = gw.mac, c.mac
	}
	if c.vlan == 0 && mplsMode {
		// Two labels: a transport label per client and direction, and
		// a service label per direction (EXP 3), bottom of stack.
		top, svc := uint32(16000)+uint32(c.mac[5]), uint32(100)
		if !toGW {
			top, svc = 17000+uint32(c.mac[5]), 200
		}
		eth.EthernetType = layers.EthernetTypeMPLSUnicast
		return []gopacket.SerializableLayer{eth,
			&layers.MPLS{Label: top, TTL: 64},
			&layers.MPLS{Label: svc, TrafficClass: 3, StackBottom: true, TTL: 64}}
	}
	if c.vlan == 0 {
		return []gopacket.SerializableLayer{eth}
	}
	eth.EthernetType = layers.EthernetTypeDot1Q
	return []gopacket.SerializableLayer{eth, &layers.Dot1Q{VLANIdentifier: c.vlan, Type: et}}
}

// ipPair builds the network layer. v6 selects IPv6. tos is the IPv4 TOS /
// IPv6 traffic class.
func ipPair(v6 bool, src, dst net.IP, proto layers.IPProtocol, tos uint8, ttl uint8, id uint16) gopacket.NetworkLayer {
	if v6 {
		return &layers.IPv6{Version: 6, TrafficClass: tos, HopLimit: ttl, NextHeader: proto, SrcIP: src, DstIP: dst}
	}
	return &layers.IPv4{Version: 4, IHL: 5, TOS: tos, TTL: ttl, Id: id, Flags: layers.IPv4DontFragment, Protocol: proto, SrcIP: src, DstIP: dst}
}

func (g *gen) emit(t time.Duration, ls ...gopacket.SerializableLayer) {
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ls...); err != nil {
		panic(err)
	}
	b := append([]byte(nil), buf.Bytes()...)
	if len(b) < 60 { // pad to the Ethernet minimum as a real NIC capture would show
		b = append(b, make([]byte, 60-len(b))...)
	}
	g.frames = append(g.frames, frame{t: t, seq: len(g.frames), data: b})
}

func (g *gen) payload(n int) gopacket.Payload {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(g.rng.IntN(256))
	}
	return p
}

func (g *gen) jitter(max time.Duration) time.Duration {
	return time.Duration(g.rng.Int64N(int64(max)))
}

// tcpConn emits one TCP connection from client c to server s:dport starting
// at t: handshake, `exchanges` request/response pairs and a FIN (or RST)
// teardown. Returns the time of the last packet.
func (g *gen) tcpConn(t time.Duration, c, s host, v6 bool, sport, dport uint16, tos uint8, exchanges int, rst bool) time.Duration {
	var cip, sip net.IP = c.ip4, s.ip4
	et := layers.EthernetTypeIPv4
	if v6 {
		cip, sip, et = c.ip6, s.ip6, layers.EthernetTypeIPv6
	}
	cseq, sseq := g.rng.Uint32(), g.rng.Uint32()
	ipid := uint16(g.rng.IntN(65536))
	rtt := 2*time.Millisecond + g.jitter(40*time.Millisecond)
	send := func(fromClient bool, flags string, n int) {
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Window: 64240}
		src, dst := cip, sip
		seq, ack := &cseq, sseq
		if !fromClient {
			tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
			src, dst = sip, cip
			seq, ack = &sseq, cseq
		}
		for _, f := range flags {
			switch f {
			case 'S':
				tcp.SYN = true
			case 'A':
				tcp.ACK = true
			case 'P':
				tcp.PSH = true
			case 'F':
				tcp.FIN = true
			case 'R':
				tcp.RST = true
			}
		}
		tcp.Seq = *seq
		if tcp.ACK {
			tcp.Ack = ack
		}
		if tcp.SYN {
			tcp.Options = []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{0x05, 0xb4}}}
		}
		*seq += uint32(n)
		if tcp.SYN || tcp.FIN {
			*seq++
		}
		ttl := uint8(64)
		if !fromClient {
			ttl = 57
		}
		ipid++
		ip := ipPair(v6, src, dst, layers.IPProtocolTCP, tos, ttl, ipid)
		_ = tcp.SetNetworkLayerForChecksum(ip)
		ls := append(l2(c, fromClient, et), ip.(gopacket.SerializableLayer), tcp)
		if n > 0 {
			ls = append(ls, g.payload(n))
		}
		g.emit(t, ls...)
	}
	send(true, "S", 0)
	t += rtt
	send(false, "SA", 0)
	t += time.Millisecond
	send(true, "A", 0)
	for i := 0; i < exchanges; i++ {
		t += g.jitter(3 * time.Second)
		send(true, "PA", 40+g.rng.IntN(400))
		t += rtt
		resp := 1 + g.rng.IntN(3)
		for j := 0; j < resp; j++ {
			send(false, "PA", 200+g.rng.IntN(1200))
			t += time.Millisecond
		}
		send(true, "A", 0)
	}
	t += g.jitter(2 * time.Second)
	if rst {
		send(false, "RA", 0)
		return t
	}
	send(true, "FA", 0)
	t += rtt
	send(false, "FA", 0)
	t += time.Millisecond
	send(true, "A", 0)
	return t
}

// udpExchange emits a request and (optionally) a response between client c
// and server s.
func (g *gen) udpExchange(t time.Duration, c, s host, v6 bool, sport, dport uint16, req, resp gopacket.SerializableLayer, tos uint8) {
	var cip, sip net.IP = c.ip4, s.ip4
	et := layers.EthernetTypeIPv4
	if v6 {
		cip, sip, et = c.ip6, s.ip6, layers.EthernetTypeIPv6
	}
	ip := ipPair(v6, cip, sip, layers.IPProtocolUDP, tos, 64, uint16(g.rng.IntN(65536)))
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	_ = udp.SetNetworkLayerForChecksum(ip)
	g.emit(t, append(l2(c, true, et), ip.(gopacket.SerializableLayer), udp, req)...)
	if resp == nil {
		return
	}
	t += 1*time.Millisecond + g.jitter(30*time.Millisecond)
	ip = ipPair(v6, sip, cip, layers.IPProtocolUDP, tos, 57, uint16(g.rng.IntN(65536)))
	udp = &layers.UDP{SrcPort: layers.UDPPort(dport), DstPort: layers.UDPPort(sport)}
	_ = udp.SetNetworkLayerForChecksum(ip)
	g.emit(t, append(l2(c, false, et), ip.(gopacket.SerializableLayer), udp, resp)...)
}

func (g *gen) dnsQuery(t time.Duration, c host, v6 bool, name string, id uint16) {
	q := layers.DNSQuestion{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}
	if v6 {
		q.Type = layers.DNSTypeAAAA
	}
	req := &layers.DNS{ID: id, RD: true, OpCode: layers.DNSOpCodeQuery, QDCount: 1, Questions: []layers.DNSQuestion{q}}
	ans := layers.DNSResourceRecord{Name: q.Name, Type: q.Type, Class: q.Class, TTL: 300}
	if v6 {
		ans.IP = web.ip6
	} else {
		ans.IP = web.ip4
	}
	resp := &layers.DNS{ID: id, QR: true, RD: true, RA: true, OpCode: layers.DNSOpCodeQuery, QDCount: 1, ANCount: 1,
		Questions: []layers.DNSQuestion{q}, Answers: []layers.DNSResourceRecord{ans}}
	g.udpExchange(t, c, dns, v6, uint16(20000+g.rng.IntN(40000)), 53, req, resp, 0)
}

func (g *gen) ntpQuery(t time.Duration, c host) {
	req := make([]byte, 48)
	req[0] = 0x23 // LI 0, VN 4, mode 3 (client)
	resp := g.payload(48)
	resp[0] = 0x24 // mode 4 (server)
	g.udpExchange(t, c, ntp, false, 123, 123, gopacket.Payload(req), gopacket.Payload(resp), 0xb8)
}

// ping emits `count` echo request/reply pairs one second apart.
func (g *gen) ping(t time.Duration, c, s host, v6 bool, id uint16, count int) {
	for i := 0; i < count; i++ {
		seq := uint16(i + 1)
		data := g.payload(56)
		for dir := 0; dir < 2; dir++ {
			toGW := dir == 0
			var src, dst net.IP
			if v6 {
				src, dst = c.ip6, s.ip6
			} else {
				src, dst = c.ip4, s.ip4
			}
			if !toGW {
				src, dst = dst, src
			}
			if v6 {
				ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolICMPv6, SrcIP: src, DstIP: dst}
				typ := uint8(layers.ICMPv6TypeEchoRequest)
				if !toGW {
					typ = layers.ICMPv6TypeEchoReply
				}
				icmp := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(typ, 0)}
				_ = icmp.SetNetworkLayerForChecksum(ip)
				g.emit(t, append(l2(c, toGW, layers.EthernetTypeIPv6), ip, icmp,
					&layers.ICMPv6Echo{Identifier: id, SeqNumber: seq}, gopacket.Payload(data))...)
			} else {
				ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Id: uint16(g.rng.IntN(65536)), Protocol: layers.IPProtocolICMPv4, SrcIP: src, DstIP: dst}
				typ := uint8(layers.ICMPv4TypeEchoRequest)
				if !toGW {
					typ = layers.ICMPv4TypeEchoReply
				}
				icmp := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(typ, 0), Id: id, Seq: seq}
				g.emit(t, append(l2(c, toGW, layers.EthernetTypeIPv4), ip, icmp, gopacket.Payload(data))...)
			}
			t += 5*time.Millisecond + g.jitter(10*time.Millisecond)
		}
		t += time.Second
	}
}

func (g *gen) build() {
	// IPv4 TCP: web (80, 443) and ssh (22), several clients, one in VLAN 100.
	g.tcpConn(0, client1, web, false, 40001, 80, 0, 3, false)
	g.tcpConn(4*time.Second, client2, web, false, 40002, 443, 0, 4, false)
	g.tcpConn(10*time.Second, client3, ssh, false, 40003, 22, 0x10, 6, false)
	g.tcpConn(35*time.Second, client1, web, false, 40004, 443, 0, 2, false)
	g.tcpConn(60*time.Second, client2, ssh, false, 40005, 22, 0x10, 3, true) // reset by the server
	g.tcpConn(80*time.Second, client3, web, false, 40006, 80, 0, 2, false)
	g.tcpConn(92*time.Second, client1, ssh, false, 40007, 22, 0x10, 8, false)
	g.tcpConn(25*time.Second, client2, web, false, 40008, 8080, 0x28, 5, false)
	// IPv6 TCP.
	g.tcpConn(15*time.Second, client1, web, true, 50001, 443, 0, 3, false)
	g.tcpConn(70*time.Second, client3, web, true, 50002, 80, 0, 2, false)
	g.tcpConn(45*time.Second, client2, web, true, 50003, 443, 0x20, 4, false)
	// DNS over IPv4 and IPv6: each query is a new 5-tuple.
	names := []string{"www.example.com", "mail.example.net", "ntp.example.org", "example.com", "cdn.example.net", "api.example.org"}
	for i := 0; i < 14; i++ {
		c := []host{client1, client2, client3}[i%3]
		g.dnsQuery(time.Duration(i)*8*time.Second+g.jitter(3*time.Second), c, false, names[i%len(names)], uint16(g.rng.IntN(65536)))
	}
	for i := 0; i < 5; i++ {
		c := []host{client1, client2}[i%2]
		g.dnsQuery(time.Duration(i)*20*time.Second+5*time.Second+g.jitter(5*time.Second), c, true, names[i%len(names)], uint16(g.rng.IntN(65536)))
	}
	// NTP (same 5-tuple each time: one flow per direction and client).
	for i := 0; i < 4; i++ {
		g.ntpQuery(time.Duration(i)*32*time.Second+2*time.Second, client1)
	}
	g.ntpQuery(50*time.Second, client3)
	// ICMP / ICMPv6 echo.
	g.ping(20*time.Second, client2, pinged, false, 0x1234, 5)
	g.ping(90*time.Second, client3, pinged, false, 0x4321, 3)
	g.ping(40*time.Second, client1, pinged, true, 0x0bad, 4)
	// A lone UDP packet without answer (syslog-ish, to a closed port).
	g.udpExchange(100*time.Second, client2, ntp, false, 51414, 514, gopacket.Payload([]byte("<13>nfkit synthetic")), nil, 0)
}

// Inputs of the longer traffic (-long). Its own seed, so that the default
// output above stays byte-for-byte what it was.
const (
	longSeed1, longSeed2 = 0x6e666b6974, 0x6c6f6e67 // "nfkit", "long"
	longDuration         = 450 * time.Second
)

// buildLong makes the traffic behind the *-long captures: seven minutes of
// mostly short flows, many of them in bursts, so that softflowd with a small
// flow table (-m) exports many small packets of varying size and re-sends
// its templates and options data several times. Every 10 s a client does
// one of: a burst of 1-4 DNS lookups (IPv4 or IPv6), a lookup and a short
// TCP connection, a short ping, or nothing. NTP runs every 64 s from two
// clients (the same 5-tuple each time), and once a host sends datagrams to
// 16 closed syslog-like ports at once.
func (g *gen) buildLong() {
	names := []string{"www.example.com", "mail.example.net", "ntp.example.org", "example.com", "cdn.example.net", "api.example.org"}
	clients := []host{client1, client2, client3}
	sport := uint16(41000)
	pingID := uint16(0x2000)
	for slot := 0; slot < 42; slot++ {
		t := time.Duration(slot)*10*time.Second + g.jitter(2*time.Second)
		c := clients[g.rng.IntN(len(clients))]
		v6 := g.rng.IntN(4) == 0
		switch k := g.rng.IntN(10); {
		case k < 5: // DNS burst
			n := 1 + g.rng.IntN(4)
			for i := 0; i < n; i++ {
				g.dnsQuery(t+time.Duration(i)*(20*time.Millisecond+g.jitter(30*time.Millisecond)), c, v6, names[g.rng.IntN(len(names))], uint16(g.rng.IntN(65536)))
			}
		case k < 8: // lookup, then a short connection to the web server
			g.dnsQuery(t, c, v6, names[g.rng.IntN(len(names))], uint16(g.rng.IntN(65536)))
			sport++
			dport := []uint16{80, 443, 8080}[g.rng.IntN(3)]
			g.tcpConnSmall(t+100*time.Millisecond, c, web, v6, sport, dport, []uint8{0, 0, 0x10, 0x28}[g.rng.IntN(4)])
		case k < 9: // ping
			pingID++
			if v6 {
				g.ping(t, client1, pinged, true, pingID, 1+g.rng.IntN(2))
			} else {
				g.ping(t, c, pinged, false, pingID, 1+g.rng.IntN(2))
			}
		}
	}
	for i := 0; i < 7; i++ {
		g.ntpQuery(time.Duration(i)*64*time.Second+3*time.Second, client1)
		g.ntpQuery(time.Duration(i)*64*time.Second+35*time.Second, client3)
	}
	// 16 datagrams to closed ports within 32 ms: 16 one-way flows at once.
	for i := 0; i < 16; i++ {
		t := 205*time.Second + time.Duration(i)*2*time.Millisecond
		g.udpExchange(t, client2, ntp, false, 52000, uint16(600+i), gopacket.Payload([]byte("<13>nfkit long")), nil, 0)
	}
}

// tcpConnSmall is a short TCP connection with small payloads (a request and
// one response), to keep the long traffic file small.
func (g *gen) tcpConnSmall(t time.Duration, c, s host, v6 bool, sport, dport uint16, tos uint8) {
	var cip, sip net.IP = c.ip4, s.ip4
	et := layers.EthernetTypeIPv4
	if v6 {
		cip, sip, et = c.ip6, s.ip6, layers.EthernetTypeIPv6
	}
	cseq, sseq := g.rng.Uint32(), g.rng.Uint32()
	rtt := 2*time.Millisecond + g.jitter(40*time.Millisecond)
	send := func(fromClient bool, syn, ack, psh, fin bool, n int) {
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Window: 64240, SYN: syn, ACK: ack, PSH: psh, FIN: fin}
		src, dst, seq, peer := cip, sip, &cseq, sseq
		ttl := uint8(64)
		if !fromClient {
			tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
			src, dst, seq, peer, ttl = sip, cip, &sseq, cseq, 57
		}
		tcp.Seq = *seq
		if ack {
			tcp.Ack = peer
		}
		*seq += uint32(n)
		if syn || fin {
			*seq++
		}
		ip := ipPair(v6, src, dst, layers.IPProtocolTCP, tos, ttl, uint16(g.rng.IntN(65536)))
		_ = tcp.SetNetworkLayerForChecksum(ip)
		ls := append(l2(c, fromClient, et), ip.(gopacket.SerializableLayer), tcp)
		if n > 0 {
			ls = append(ls, g.payload(n))
		}
		g.emit(t, ls...)
		t += rtt
	}
	send(true, true, false, false, false, 0)
	send(false, true, true, false, false, 0)
	send(true, false, true, false, false, 0)
	send(true, false, true, true, false, 40+g.rng.IntN(80))
	send(false, false, true, true, false, 100+g.rng.IntN(200))
	send(true, false, true, false, true, 0)
	send(false, false, true, false, true, 0)
	send(true, false, true, false, false, 0)
}

func writePcap(path string, frames []frame) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4) // microsecond resolution
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535) // snaplen
	binary.LittleEndian.PutUint32(hdr[20:], 1)     // LINKTYPE_ETHERNET
	w.Write(hdr)
	rec := make([]byte, 16)
	for _, fr := range frames {
		ts := startTime.Add(fr.t)
		binary.LittleEndian.PutUint32(rec[0:], uint32(ts.Unix()))
		binary.LittleEndian.PutUint32(rec[4:], uint32(ts.Nanosecond()/1000))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(fr.data)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(fr.data)))
		w.Write(rec)
		w.Write(fr.data)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func main() {
	out := flag.String("o", "../synthetic-traffic.pcap", "output pcap (default: testdata/synthetic-traffic.pcap when run from testdata/internal)")
	long := flag.Bool("long", false, "write the longer traffic of the *-long captures (7 minutes of short flows) instead")
	flag.BoolVar(&mplsMode, "mpls", false, "write the default traffic with a two-label MPLS stack on every untagged frame (the input of the *-mpls captures)")
	flag.Parse()
	g := &gen{rng: rand.New(rand.NewPCG(seed1, seed2))}
	limit := duration
	if *long {
		g.rng = rand.New(rand.NewPCG(longSeed1, longSeed2))
		limit = longDuration
		g.buildLong()
	} else {
		g.build()
	}
	sort.SliceStable(g.frames, func(i, j int) bool {
		if g.frames[i].t != g.frames[j].t {
			return g.frames[i].t < g.frames[j].t
		}
		return g.frames[i].seq < g.frames[j].seq
	})
	// Truncate to microseconds (pcap resolution) and keep the order strictly
	// non-decreasing after truncation.
	for i := range g.frames {
		g.frames[i].t = g.frames[i].t.Truncate(time.Microsecond)
		if g.frames[i].t > limit {
			fmt.Fprintf(os.Stderr, "synth: frame %d at %v is past %v\n", i, g.frames[i].t, limit)
			os.Exit(1)
		}
	}
	if err := writePcap(*out, g.frames); err != nil {
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "synth: wrote %d frames to %s\n", len(g.frames), *out)
}
