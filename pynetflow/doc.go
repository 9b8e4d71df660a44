// Package pynetflow writes and reads the file format of python-netflow's
// collector (bitkeks/python-netflow 0.12.2, `python3 -m netflow.collector`,
// PyPI "netflow"), so that files of `nfcollect --format python-netflow`
// can replace that collector's and `nfanalyze` reads either.
//
// # The format
//
// One line per export packet, a JSON object with a single key, the time the
// packet was received, as Python's json.dumps writes it (separators ", "
// and ": ", ASCII only):
//
//	{"<receive time>": {"client": [host, port], "header": {...}, "flows": [{...}, ...]}}
//
// The receive time is Python's repr of time.time() ("1795778775.7454324").
// The client is [host, port] for an IPv4 exporter and [host, port, 0, 0]
// (flowinfo, scope id) for an IPv6 one, as a Python AF_INET6 socket reports
// it; an unmapped IPv4 address gives the form of python-netflow's default
// IPv4 socket. The header holds the attributes of python-netflow's header
// object, the flows the records of the packet. python-netflow's collector
// writes a line for every export packet it parses, with "flows": [] when the
// packet has no flow records (templates only, or v9 options data, which it
// does not write); a packet whose template is not known yet gets its line
// when it can be parsed, still under its receive time. Its files are gzip
// streams of one member per line.
//
// # What is the same, byte for byte
//
// AppendPacket writes the line python-netflow writes wherever python-netflow
// decodes the packet at all; Python's float repr, its string escapes and
// its ipaddress compression are reproduced:
//
//   - v1/v5: the Python header attributes; record keys IPV4_SRC_ADDR …
//     DST_MASK, every value an integer (addresses too); padding is not
//     written. v5's sampling_interval is the raw 16 bits (mode<<14|interval).
//   - v7 (which python-netflow rejects): the v5 layout without the engine
//     and sampling keys (v7 has none): header version, count, uptime,
//     timestamp, timestamp_nano, sequence; records the v5 keys plus FLAGS
//     (the flags word at offset 46; byte 36 is skipped as in v5) and
//     ROUTER_SC (the router shortcut address, an integer like NEXT_HOP).
//   - v9: names from python-netflow's V9_FIELD_TYPES with its quirks, types
//     missing from it under UNKNOWN_FIELD_TYPE; the address types 8, 12, 15,
//     18, 27, 28, 62, 63 as IP strings ("127.0.0.1", "2001:db8::1"), every
//     other value an unsigned big-endian integer (MACs and 8- or 16-byte
//     fields too). Options records are not written.
//   - IPFIX: IANA names and data types of python-netflow's table; addresses,
//     MACs and octet arrays as big-endian integers, strings as text (the
//     Python repr of the bytes when they are not UTF-8), micro/nanosecond
//     times as [seconds, fraction], numbers by type. Options records are
//     written among the flows, in packet order, as python-netflow does.
//
// The name tables are python-netflow's own (fields/data/v9_field_types.tsv
// and ipfix_field_types.tsv, generated into names_gen.go by gen), quirks
// included: v9 50 NTERVAL, 63 BPG_IPV6_NEXT_HOP, IPFIX header key
// obervation_domain_id, the export time under export_uptime.
//
// # Where python-netflow loses data, this writer keeps it
//
//   - A key that would repeat within a record (python-netflow keeps one value
//     in its dict: v9 writes every unknown type to UNKNOWN_FIELD_TYPE, and a
//     template may list a type twice) is written once per field: the first
//     under the plain key, the n-th under key_n (UNKNOWN_FIELD_TYPE,
//     UNKNOWN_FIELD_TYPE_2, …). A record with a single unknown field reads as
//     in python-netflow.
//   - Packets python-netflow fails on entirely are written: IPFIX elements
//     missing from its table (newer IANA ids, enterprise elements; Python
//     raises NotImplementedError or AttributeError) are written under our
//     table's name (reverseOctetDeltaCount, pen9_12 …) by our table's data
//     type; numbers of a length Python's struct cannot unpack (reduced-size
//     3/5/6/7 bytes, variable-length fields; IPFIXTemplateError) are written
//     as big-endian integers. Enterprise elements are never named after the
//     IANA element of the same id (python-netflow does that, mixing e.g.
//     RFC 5103 reverse counters into the forward keys).
//   - An integer of more than 4300 decimal digits (from a field of about
//     1786 bytes or more), which Python 3.11 and later can neither write nor
//     read as a JSON number (its int/str conversion limit), is written as a
//     string of Python's hex(): "0x…". python-netflow's collector stops on
//     such a field.
//   - A v9 address field of a length other than 1, 2, 4 or 16 bytes is
//     dropped from its record as in Python (its ValueError path); Python
//     then also misreads the following records of the set, we do not.
//
// # Remaining differences
//
// IPFIX key order is template order (Python's is arbitrary, from a set); v9
// data sets that wait for a template defined later in the same packet keep
// their packet position (Python appends them after the others); a
// v1/v5/v7 header residual of 10⁹ ns or more is written normalized (our
// decoder keeps the sum only); IPv6 addresses in v9 records are compressed
// the way Python up to 3.12 does (::ffff:7f00:1 for a mapped address;
// Python 3.13 writes ::ffff:127.0.0.1); a link-local IPv6 client keeps its
// zone in the host string with scope id 0 (Python writes the interface
// index); python-netflow's v9 record miscounts (records shorter than 4
// bytes under-read, 4 or more padding bytes read as a record) are not
// reproduced. nfcollect writes the records of a packet whose data sets
// partly wait for a template at once, and the rest in a second line with
// the same receive time when the template arrives (python-netflow holds the
// whole packet back, and drops it if a template never comes).
//
// # Reading
//
// A Reader turns lines of this format, from either collector, into flows:
// addresses, ports, protocol, counters (RFC 5103 and Cisco ASA reverse
// counters too), AS numbers and start and end as absolute times, from
// whichever of the v1/v5, v9 and IPFIX keys carry them. The keys come from
// the writer's tables; where a record has several keys for one field, the
// first in a fixed order wins. Python's NaN and Infinity values are
// accepted. What the format cannot give back: every v9 type missing from
// V9_FIELD_TYPES is written as UNKNOWN_FIELD_TYPE, so pmacct's v9 flow end
// time (type 153) or softflowd's v9 ICMPv6 type (139) are lost to a reader.
// The Reader uses encoding/json: the format is rarer than nfcollect's JSON
// lines and needs no fast path.
package pynetflow
