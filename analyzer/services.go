package analyzer

import (
	_ "embed"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:generate go run ./internal/mkservices -src /etc/services -note "Debian netbase 6.4, /etc/services" -o services.txt

// services.txt maps port/protocol to IANA service names; it is embedded so that
// the binary does not depend on /etc/services being present.
//
//go:embed services.txt
var servicesTxt string

var (
	servicesOnce sync.Once
	serviceNames map[uint32]string // port<<8 | proto
	// The names of TCP and UDP ports as indexes into serviceList (0: none), so that
	// the common lookups are an array access rather than a map lookup.
	tcpService, udpService *[1 << 16]uint16
	namedPort              [1 << 10]uint64 // bit per port: named for TCP or UDP
	serviceList            []string
	serviceUpper           []string    // serviceList in upper case, for the table
	serviceCell            [][2]uint64 // serviceUpper padded with spaces to 16 bytes, as words
)

func serviceKey(port uint16, proto uint8) uint32 { return uint32(port)<<8 | uint32(proto) }

func loadServices() {
	serviceNames = make(map[uint32]string, 400)
	for _, line := range strings.Split(servicesTxt, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		port, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		var proto uint8
		switch f[1] {
		case "tcp":
			proto = 6
		case "udp":
			proto = 17
		case "sctp":
			proto = 132
		case "dccp":
			proto = 33
		default:
			continue
		}
		serviceNames[serviceKey(uint16(port), proto)] = f[2]
	}
	tcpService, udpService = new([1 << 16]uint16), new([1 << 16]uint16)
	serviceList, serviceUpper = []string{""}, []string{""}
	index := map[string]uint16{}
	for k, name := range serviceNames {
		var tab *[1 << 16]uint16
		switch uint8(k) {
		case 6:
			tab = tcpService
		case 17:
			tab = udpService
		default:
			continue
		}
		i, ok := index[name]
		if !ok {
			i = uint16(len(serviceList))
			index[name] = i
			serviceList = append(serviceList, name)
			serviceUpper = append(serviceUpper, strings.ToUpper(name))
		}
		tab[k>>8] = i
		namedPort[k>>14] |= 1 << (k >> 8 & 63)
	}
	serviceCell = make([][2]uint64, len(serviceUpper))
	for i, name := range serviceUpper {
		if len(name) <= 16 {
			var w [16]byte
			copy(w[copy(w[:], name):], "                ")
			serviceCell[i] = [2]uint64{binary.LittleEndian.Uint64(w[:8]), binary.LittleEndian.Uint64(w[8:])}
		}
	}
}

// serviceIndex is ServiceName as an index into serviceList (0: no name) for
// TCP and UDP, and -1 for other protocols (ask ServiceName).
func serviceIndex(port uint16, proto uint8) int {
	servicesOnce.Do(loadServices)
	if proto == 6 || proto == 17 {
		// Most ports have no name: the bitmap answers from cache where the
		// tables (128 KiB each) would miss.
		if namedPort[port>>6]&(1<<(port&63)) == 0 {
			return 0
		}
	}
	switch proto {
	case 6:
		if i := tcpService[port]; i != 0 {
			return int(i)
		}
		return int(udpService[port])
	case 17:
		if i := udpService[port]; i != 0 {
			return int(i)
		}
		return int(tcpService[port])
	}
	return -1
}

// hasServiceName reports whether ServiceName(port, proto) != "".
func hasServiceName(port uint16, proto uint8) bool {
	if i := serviceIndex(port, proto); i >= 0 {
		return i != 0
	}
	return ServiceName(port, proto) != ""
}

// ServiceName returns the IANA service name of port for the IP protocol proto
// ("ssh" for 22/6), falling back to the name the port has for TCP or UDP
// (as getservbyport does when asked for any protocol), or "".
func ServiceName(port uint16, proto uint8) string {
	servicesOnce.Do(loadServices)
	if s, ok := serviceNames[serviceKey(port, proto)]; ok {
		return s
	}
	if !hasPorts(proto) {
		return ""
	}
	if s, ok := serviceNames[serviceKey(port, 6)]; ok {
		return s
	}
	return serviceNames[serviceKey(port, 17)]
}

// hasPorts reports whether proto carries transport ports.
func hasPorts(proto uint8) bool {
	return proto == 6 || proto == 17 || proto == 132 || proto == 33 || proto == 136
}

var protoNames = map[uint8]string{
	1: "ICMP", 2: "IGMP", 4: "IPIP", 6: "TCP", 17: "UDP", 33: "DCCP", 41: "IPv6",
	46: "RSVP", 47: "GRE", 50: "ESP", 51: "AH", 58: "ICMPv6", 88: "EIGRP", 89: "OSPF",
	103: "PIM", 112: "VRRP", 115: "L2TP", 132: "SCTP", 136: "UDPLite",
}

// protoNameTab is protoNames as an array.
var protoNameTab = func() (t [256]string) {
	for p, s := range protoNames {
		t[p] = s
	}
	return t
}()

// ProtoName returns "TCP", "UDP", "ICMP"... or the number as text.
func ProtoName(p uint8) string {
	if s := protoNameTab[p]; s != "" {
		return s
	}
	return strconv.Itoa(int(p))
}

// parseProto reads a protocol name (case-insensitive) or number.
func parseProto(s string) (uint8, bool) {
	if n, err := strconv.ParseUint(s, 10, 8); err == nil {
		return uint8(n), true
	}
	for k, v := range protoNames {
		if strings.EqualFold(v, s) {
			return k, true
		}
	}
	if strings.EqualFold(s, "icmp6") {
		return 58, true
	}
	return 0, false
}

// serverSide decides which port of a flow is the service: it returns true when
// the destination port is (dst is the server). A port with a service name wins
// over one without; otherwise the lower port does (ephemeral ports are high).
func serverSide(f *Flow) (dstIsServer bool, known bool) {
	if !hasPorts(f.Proto) {
		return true, false
	}
	sn := hasServiceName(f.SrcPort, f.Proto)
	dn := hasServiceName(f.DstPort, f.Proto)
	switch {
	case dn && !sn:
		return true, true
	case sn && !dn:
		return false, true
	}
	if f.DstPort != f.SrcPort {
		return f.DstPort < f.SrcPort, dn
	}
	return true, dn
}

// servicePort returns the port of f's well-known side (see serverSide).
func servicePort(f *Flow) uint16 {
	if dst, _ := serverSide(f); dst {
		return f.DstPort
	}
	return f.SrcPort
}

// Service names the service of a flow: the name of the well-known side's port
// ("https"), "tcp/8080" for an unnamed port, or the protocol ("icmp") for
// protocols without ports.
func Service(f *Flow) string {
	if !hasPorts(f.Proto) {
		return strings.ToLower(ProtoName(f.Proto))
	}
	port := servicePort(f)
	if s := ServiceName(port, f.Proto); s != "" {
		return s
	}
	return strings.ToLower(ProtoName(f.Proto)) + "/" + strconv.Itoa(int(port))
}

// appendService appends Service(f) to b, in upper case when upper is true.
func appendService(b []byte, f *Flow, upper bool) []byte {
	if hasPorts(f.Proto) {
		port := servicePort(f)
		if i := serviceIndex(port, f.Proto); i > 0 {
			if upper {
				return append(b, serviceUpper[i]...)
			}
			return append(b, serviceList[i]...)
		} else if i < 0 {
			if s := ServiceName(port, f.Proto); s != "" {
				if upper {
					return append(b, strings.ToUpper(s)...)
				}
				return append(b, s...)
			}
		}
		b = appendProtoName(b, f.Proto, upper)
		b = append(b, '/')
		return strconv.AppendUint(b, uint64(port), 10)
	}
	return appendProtoName(b, f.Proto, upper)
}

// appendServiceCell appends appendService(b, f, true) padded with spaces to
// width n (at most 16) for the table: a name from the table is written as
// two words, already padded, rather than copied and then padded.
func appendServiceCell(b []byte, f *Flow, n int) []byte {
	if hasPorts(f.Proto) {
		port := servicePort(f)
		if i := serviceIndex(port, f.Proto); i > 0 && len(serviceUpper[i]) <= n && n <= 16 {
			w := &serviceCell[i]
			l := len(b)
			b = slices.Grow(b, 16)[:l+16]
			binary.LittleEndian.PutUint64(b[l:], w[0])
			binary.LittleEndian.PutUint64(b[l+8:], w[1])
			return b[:l+n]
		}
	}
	start := len(b)
	return padFrom(appendService(b, f, true), start, n, false)
}

// appendProtoName appends ProtoName(p) in lower case, or in upper case when
// upper is true ("icmpv6", "ICMPV6").
func appendProtoName(b []byte, p uint8, upper bool) []byte {
	s := protoNameTab[p]
	if s == "" {
		return strconv.AppendUint(b, uint64(p), 10)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// isICMPRequest reports whether f is an ICMP echo/timestamp/information request
// (type in DstPort>>8 as v5 exporters encode it), i.e. sent by the client.
func isICMPRequest(f *Flow) bool {
	t := f.DstPort >> 8
	switch f.Proto {
	case 1:
		return t == 8 || t == 13 || t == 15 || t == 17
	case 58:
		return t == 128
	}
	return false
}
