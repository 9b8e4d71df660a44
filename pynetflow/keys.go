package pynetflow

import "github.com/nfkit/nfkit/decode"

// The keys the reader takes its values from are those the writer writes:
// derived here from the same tables by v9 type and IPFIX element id, never
// spelled out a second time.

// key is a JSON key of a flow record the reader reads.
type key struct {
	name string
	v6   bool // an address key whose integers are IPv6 (IPFIX ipv6Address)
}

// timeKeys are the keys of one time (the start or the end of a flow) in
// each form an exporter may send it.
type timeKeys struct {
	uptimeMs        string // v1/v5/v9: exporter uptime in ms
	seconds, millis string // IPFIX dateTimeSeconds, dateTimeMilliseconds
	micros, nanos   string // IPFIX dateTimeMicro/Nanoseconds: [NTP seconds, fraction]
	sysUpTime       string // IPFIX: ms since systemInitTimeMilliseconds
	deltaMicros     string // IPFIX: µs before the export time
}

// keys are the keys of each Flow field, in order of preference.
var keys = struct {
	src, dst, srcPort, dstPort, proto []key
	bytes, packets, flows             []key
	revBytes, revPackets              []key
	srcAS, dstAS                      []key
	outBytes, outPackets              []key // fallbacks of bytes and packets
	icmp, asaICMPType, asaICMPCode    []key // where there are no ports
	start, end                        timeKeys
	createTime, sysInit               string
}{
	src:         join(v9Keys(8), ipv6(v9Keys(27)), ipfixKeys(8), ipv6(ipfixKeys(27))),
	dst:         join(v9Keys(12), ipv6(v9Keys(28)), ipfixKeys(12), ipv6(ipfixKeys(28))),
	srcPort:     join(v9Keys(7), ipfixKeys(7)),
	dstPort:     join(v9Keys(11), ipfixKeys(11)),
	proto:       join(v9Keys(4), ipfixKeys(4)),
	bytes:       join(v9Keys(1), ipfixKeys(1, 85), v9Keys(231)), // 85 octetTotalCount, 231 ASA forward bytes
	packets:     join(v9Keys(2), ipfixKeys(2, 86)),
	revBytes:    join(v9Keys(232), ourKeys(penReverse, 1)), // ASA; RFC 5103 reverseOctetDeltaCount
	revPackets:  ourKeys(penReverse, 2),
	flows:       v9Keys(3),
	srcAS:       join(v9Keys(16), ipfixKeys(16)),
	dstAS:       join(v9Keys(17), ipfixKeys(17)),
	outBytes:    join(v9Keys(23), ipfixKeys(23)),
	outPackets:  join(v9Keys(24), ipfixKeys(24)),
	icmp:        join(v9Keys(32), ipfixKeys(32, 139)),
	asaICMPType: v9Keys(176, 178),
	asaICMPCode: v9Keys(177, 179),
	start: timeKeys{uptimeMs: mustV9(22), seconds: mustIPFIX(150), millis: mustIPFIX(152),
		micros: mustIPFIX(154), nanos: mustIPFIX(156), sysUpTime: mustIPFIX(22), deltaMicros: mustIPFIX(158)},
	end: timeKeys{uptimeMs: mustV9(21), seconds: mustIPFIX(151), millis: mustIPFIX(153),
		micros: mustIPFIX(155), nanos: mustIPFIX(157), sysUpTime: mustIPFIX(21), deltaMicros: mustIPFIX(159)},
	createTime: mustV9(152), // ASA flow creation time, Unix ms
	sysInit:    mustIPFIX(160),
}

// v9Keys returns the keys of v9 field types ids: for each, its v1/v5 key
// (if the fixed layouts have the type) and its V9_FIELD_TYPES name.
func v9Keys(ids ...uint16) []key {
	var ks []key
	for _, id := range ids {
		if n := fixedName(0, id); n != "" {
			ks = append(ks, key{name: n})
		}
		ks = append(ks, key{name: mustV9(id)})
	}
	return join(ks)
}

// ipfixKeys returns python-netflow's names of IPFIX elements ids.
func ipfixKeys(ids ...uint16) []key {
	var ks []key
	for _, id := range ids {
		ks = append(ks, key{name: mustIPFIX(id)})
	}
	return ks
}

// penReverse is the enterprise number of the RFC 5103 reverse elements.
const penReverse = 29305

// ourKeys returns the keys the writer gives elements missing from
// python-netflow's table: our table's names (decode.LookupIPFIX).
func ourKeys(pen uint32, ids ...uint16) []key {
	var ks []key
	for _, id := range ids {
		e := decode.LookupIPFIX(pen, id)
		if e == nil {
			panic("pynetflow: the element tables lack an element the reader needs")
		}
		ks = append(ks, key{name: e.Name})
	}
	return ks
}

// ipv6 marks ks as keys of IPv6 addresses.
func ipv6(ks []key) []key {
	for i := range ks {
		ks[i].v6 = true
	}
	return ks
}

// join concatenates lists, leaving out repeated names.
func join(lists ...[]key) []key {
	var out []key
	seen := map[string]bool{}
	for _, l := range lists {
		for _, k := range l {
			if !seen[k.name] {
				seen[k.name] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// mustV9 and mustIPFIX return a table name the reader relies on; a table
// without it is a build error caught by every test of the package.
func mustV9(id uint16) string {
	n, ok := v9Name(id)
	if !ok {
		panic("pynetflow: V9_FIELD_TYPES lacks a type the reader needs")
	}
	return n
}

func mustIPFIX(id uint16) string {
	n, ok := ipfixName(id)
	if !ok || n == "" {
		panic("pynetflow: iana_field_types lacks an element the reader needs")
	}
	return n
}
