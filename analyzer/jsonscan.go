package analyzer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"strconv"
	"unsafe"
)

// This file is the hot path: a hand-written scanner for nfcollect's JSON lines
// (docs/output-schema.md). It reads only the keys the analyzer needs and skips every
// other value without decoding it. It does not allocate for a well-formed line
// (TestScanAllocs), except to parse an IPv6 address the first time it is seen.

// syntaxError is a JSON syntax or schema problem in one line; Col is 1-based.
type syntaxError struct {
	Col int
	Msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

func errAt(i int, format string, args ...any) error {
	return &syntaxError{Col: i + 1, Msg: fmt.Sprintf(format, args...)}
}

// missingError reports a required key that a line lacks.
type missingError struct{ Key string }

func (e *missingError) Error() string { return "missing field " + strconv.Quote(e.Key) }

// lineScanner parses nfcollect JSON lines into Flows. The zero value is ready to use.
// Not safe for concurrent use.
type lineScanner struct {
	v6   map[string]netip.Addr // parsed IPv6 (and other non-fast-path) addresses
	memo []memoKey             // the key order of recent lines
	pad  []byte                // a copy of a line with spare bytes after it
	skip uint64                // bit per action: read its key's value as unknown
}

const maxAddrCache = 1 << 16

// isPythonLine reports whether line looks like python-netflow's collector format,
// whose only key is the receive timestamp ({"1700000000.123": {...}}).
func isPythonLine(line []byte) bool {
	i := skipWS(line, 0)
	if i >= len(line) || line[i] != '{' {
		return false
	}
	i = skipWS(line, i+1)
	return i+1 < len(line) && line[i] == '"' && line[i+1] >= '0' && line[i+1] <= '9'
}

// Key actions: what scan does with the value of a key it knows. The values of
// the number actions (those below numActs) are kept in an array by action and
// put into the Flow at the end of the line.
const (
	actSkip uint8 = iota
	actReceived
	actStart
	actEnd
	actBytes
	actPackets
	actSrcPort
	actDstPort
	actProto
	actSrcAS
	actDstAS
	actOutBytes
	actOutPackets
	actRevBytes
	actRevPackets
	actFlows
	actICMPType
	actICMPCode
	actTOS
	actTCPFlags
	actSrcVLAN
	actDstVLAN
	actInIf
	actOutIf
	actSrcMask
	actDstMask
	actDirection
	numActs // not an action: the number actions end here

	actType
	actExporter
	actSrc
	actDst
	actSrcMAC
	actDstMAC
)

// optionalActs are the actions a run reads only when it uses their values
// (Config.needs); the scanner skips the others' values unread.
const optionalActs uint64 = 1<<actType | 1<<actExporter | 1<<actSrcAS | 1<<actDstAS |
	1<<actTOS | 1<<actTCPFlags | 1<<actSrcVLAN | 1<<actDstVLAN | 1<<actInIf | 1<<actOutIf |
	1<<actSrcMask | 1<<actDstMask | 1<<actDirection | 1<<actSrcMAC | 1<<actDstMAC

// colAct is what scan does with the value of each column of the schema
// (schema_gen.go) it reads; the other columns are skipped.
var colAct = [numColumns]uint8{
	colType: actType, colSamplerAddress: actExporter, colSrcAddr: actSrc, colDstAddr: actDst,
	colTimeReceived: actReceived, colStart: actStart, colEnd: actEnd,
	colBytes: actBytes, colPackets: actPackets, colOutBytes: actOutBytes, colOutPackets: actOutPackets,
	colRevBytes: actRevBytes, colRevPackets: actRevPackets, colFlows: actFlows,
	colSrcPort: actSrcPort, colDstPort: actDstPort, colProto: actProto,
	colSrcAS: actSrcAS, colDstAS: actDstAS, colICMPType: actICMPType, colICMPCode: actICMPCode,
	colTOS: actTOS, colTCPFlags: actTCPFlags, colSrcVLAN: actSrcVLAN, colDstVLAN: actDstVLAN,
	colInIf: actInIf, colOutIf: actOutIf, colSrcMask: actSrcMask, colDstMask: actDstMask,
	colDirection: actDirection, colSrcMAC: actSrcMAC, colDstMAC: actDstMAC,
}

// keyAction returns the action of a key (actSkip for keys the analyzer does not read).
func keyAction(key []byte) uint8 { return colAct[columnOf(key)] }

// actKeys names the keys of the number actions, for error messages, and
// actMax is the largest value of each (the schema's ranges: ports 65535,
// protocol and ICMP type and code 255, AS numbers 2^32-1, times (Unix ns)
// 2^63-1, counters 2^64-1). A larger value is a bad line, never wrapped.
// actMax is indexed by any uint8, so that the fast path needs no bounds
// check.
var (
	actKeys [numActs][]byte
	actMax  [256]uint64
)

func init() {
	for col, act := range colAct {
		if act != actSkip && act < numActs {
			actKeys[act] = []byte(columnKeys[col])
			actMax[act] = columnMax[col]
		}
	}
}

// The key-order memo. nfcollect writes the keys of every record in one order
// (the schema's, then a template's extra fields), so the keys of a line are
// mostly the keys of the line before, and a few keys of other templates
// between them. The memo remembers that order: scan compares the bytes at the
// read position with the next few remembered keys, a few word compares,
// instead of finding the key's end and looking the key up. A key the memo
// lacks is read the general way and inserted where it was found.
const (
	memoKeys      = 96 // remembered keys at most
	memoLookahead = 3  // remembered keys tried at one position
	memoKeyMax    = 32 // longest remembered key, with the byte before it, its quotes and colon
)

// memoKey is a remembered key as it appears in a line with the byte before it,
// ',"key":' or '{"key":'.
type memoKey struct {
	w, m [4]uint64 // the bytes, little endian, and which of them count
	n    int
	act  uint8
}

func newMemoKey(quoted []byte, act uint8) (memoKey, bool) {
	if len(quoted) > memoKeyMax {
		return memoKey{}, false
	}
	var buf, mask [memoKeyMax]byte
	copy(buf[:], quoted)
	for i := range quoted {
		mask[i] = 0xff
	}
	k := memoKey{n: len(quoted), act: act}
	for i := range k.w {
		k.w[i] = binary.LittleEndian.Uint64(buf[8*i:])
		k.m[i] = binary.LittleEndian.Uint64(mask[8*i:])
	}
	return k, true
}

// memoAt returns the memo entry at byte offset off from base.
func memoAt(base unsafe.Pointer, off uintptr) *memoKey { return (*memoKey)(unsafe.Add(base, off)) }

// atp reports whether the memoKeyMax bytes at p+i start with the key.
func (k *memoKey) atp(p unsafe.Pointer, i int) bool {
	return (le64(p, i)^k.w[0])&k.m[0]|(le64(p, i+8)^k.w[1])&k.m[1]|
		(le64(p, i+16)^k.w[2])&k.m[2]|(le64(p, i+24)^k.w[3])&k.m[3] == 0
}

// memoPlace finds key (quoted, with its colon) among the next remembered keys
// from position pos of the order, or else remembers it at pos, and returns the
// position after it.
func (s *lineScanner) memoPlace(pos int, quoted []byte, act uint8) int {
	k, ok := newMemoKey(quoted, act)
	if !ok {
		return pos
	}
	for c := pos; c < min(pos+memoLookahead, len(s.memo)); c++ {
		if s.memo[c] == k {
			return c + 1
		}
	}
	if len(s.memo) >= memoKeys {
		return pos
	}
	s.memo = append(s.memo, memoKey{})
	copy(s.memo[pos+1:], s.memo[pos:])
	s.memo[pos] = k
	return pos + 1
}

// scanVals collects what scan reads from a line before it becomes a Flow.
type scanVals struct {
	num      [numActs]uint64 // values of the number actions
	seen     uint32          // bit per number action and for src and dst: seen
	src, dst netip.Addr
}

const (
	seenSrc = 1 << (numActs + iota)
	seenDst
)

// scan parses one line into f (which it resets).
func (s *lineScanner) scan(line []byte, f *Flow) error {
	var v scanVals
	*f = Flow{}
	if end, ok := s.scanFast(line, f, &v); !ok || end != len(line) {
		v = scanVals{}
		*f = Flow{}
		if err := s.scanGeneral(line, f, &v); err != nil {
			return err
		}
	}
	return finish(f, &v)
}

// scanPrefix reads the line at the start of b, the rest of the input, when the
// fast path can read it, and returns the line's length up to its closing '}'.
// ok is false when the fast path cannot, or the line lacks an address (which
// scan then reports): the caller then finds the line's end and calls scan.
func (s *lineScanner) scanPrefix(b []byte, f *Flow) (n int, ok bool) {
	var v scanVals
	*f = Flow{}
	n, ok = s.scanFast(b, f, &v)
	if !ok || v.seen&(seenSrc|seenDst) != seenSrc|seenDst {
		return 0, false
	}
	return n, finish(f, &v) == nil
}

// finish makes the Flow from what a scan read.
func finish(f *Flow, v *scanVals) error {
	if v.seen&seenSrc == 0 {
		return &missingError{"src_addr"}
	}
	if v.seen&seenDst == 0 {
		return &missingError{"dst_addr"}
	}
	f.Src, f.Dst = v.src, v.dst
	f.Received = int64(v.num[actReceived])
	f.Start = int64(v.num[actStart])
	f.End = int64(v.num[actEnd])
	if v.seen&(1<<actStart) != 0 {
		f.Flags |= flowHasStart
	}
	if v.seen&(1<<actEnd) != 0 {
		f.Flags |= flowHasEnd
	}
	// bytes wins over out_bytes, and packets over out_packets unless packets is 0.
	f.Bytes = v.num[actBytes]
	if v.seen&(1<<actBytes) == 0 {
		f.Bytes = v.num[actOutBytes]
	}
	f.Packets = v.num[actPackets]
	if f.Packets == 0 && v.seen&(1<<actOutPackets) != 0 {
		f.Packets = v.num[actOutPackets]
	}
	if v.seen&(1<<actRevBytes|1<<actRevPackets) != 0 {
		f.Flags |= flowBiflow
	}
	f.RevBytes = v.num[actRevBytes]
	f.RevPackets = v.num[actRevPackets]
	f.Flows = v.num[actFlows]
	f.SrcPort = uint16(v.num[actSrcPort])
	f.DstPort = uint16(v.num[actDstPort])
	f.Proto = uint8(v.num[actProto])
	f.SrcAS = uint32(v.num[actSrcAS])
	f.DstAS = uint32(v.num[actDstAS])
	if v.seen&(1<<actICMPType) != 0 && f.SrcPort == 0 && f.DstPort == 0 {
		f.DstPort = uint16(v.num[actICMPType]<<8 | v.num[actICMPCode]&0xff)
	}
	f.TOS = uint8(v.num[actTOS])
	f.TCPFlags = uint16(v.num[actTCPFlags])
	f.SrcVLAN = uint16(v.num[actSrcVLAN])
	f.DstVLAN = uint16(v.num[actDstVLAN])
	f.InIf = uint32(v.num[actInIf])
	f.OutIf = uint32(v.num[actOutIf])
	f.SrcMask = uint8(v.num[actSrcMask])
	f.DstMask = uint8(v.num[actDstMask])
	f.Direction = uint8(v.num[actDirection])
	f.fixTimes()
	return nil
}

// scanFast reads a line as nfcollect writes it (no white space, no escapes,
// integers, the keys in the memo's order) and reports whether it could, and
// where the line's closing '}' ends: it may have more after it. It gives up on
// anything else, and then scanGeneral reads the line from the start. It never
// reads past a newline (strings may not hold control characters), so it does
// not run into the next line. Its loop makes no calls but for addresses, so
// that its few variables stay in registers.
func (s *lineScanner) scanFast(line []byte, f *Flow, v *scanVals) (end int, ok bool) {
	n := len(line)
	if n < 2 || line[0] != '{' {
		return 0, false
	}
	// Reads of up to memoKeyMax bytes may go past the line into its capacity
	// (the rest of the input buffer); what lies there never decides a match.
	// A line without that much to spare (the last of a file) is copied.
	if cap(line)-n < memoKeyMax+8 && n < 1<<12 {
		s.pad = append(append(s.pad[:0], line...), make([]byte, memoKeyMax+8)...)
		line = s.pad[:n]
	}
	full := line[:cap(line)]
	p := unsafe.Pointer(unsafe.SliceData(full))
	// The memo is walked by byte offset (off, up to memoEnd), without index
	// arithmetic or bounds checks; a pointer is made only for an offset
	// inside it.
	const keySize = unsafe.Sizeof(memoKey{})
	base := unsafe.Pointer(unsafe.SliceData(s.memo))
	memoEnd := uintptr(len(s.memo)) * keySize
	off := uintptr(0)
	i := 0 // remembered keys start with the byte before them: '{' or ','
	for {
		// From here, the words at i up to i+memoKeyMax+8 may be read.
		if i+memoKeyMax+8 > len(full) {
			return 0, false
		}
		var k *memoKey
		if off < memoEnd {
			k = memoAt(base, off) // k.atp(p, i), inlined by hand
			if (le64(p, i)^k.w[0])&k.m[0]|(le64(p, i+8)^k.w[1])&k.m[1]|
				(le64(p, i+16)^k.w[2])&k.m[2]|(le64(p, i+24)^k.w[3])&k.m[3] != 0 {
				k = nil
			}
		}
		switch {
		case k != nil:
		case off+keySize < memoEnd && memoAt(base, off+keySize).atp(p, i):
			off += keySize
			k = memoAt(base, off)
		case off+2*keySize < memoEnd && memoAt(base, off+2*keySize).atp(p, i):
			off += 2 * keySize
			k = memoAt(base, off)
		default:
			// No key: the end of the line, or something the fast path does not take.
			return i + 1, i < n && line[i] == '}'
		}
		off += keySize
		i += k.n // at most memoKeyMax
		act := k.act
		if i >= n { // the key matched past the line
			return 0, false
		}
		x := le64(p, i)
		if act-1 < numActs-1 { // a number action
			l := digitRun(x)
			if l == 0 || l > 1 && byte(x) == '0' {
				return 0, false
			}
			var u uint64
			if l < 8 {
				u = parse8digits((x - 0x3030303030303030) << (64 - 8*l))
			} else {
				// 8 to 19 digits: large counters, times in nanoseconds.
				if i+24 > len(full) {
					return 0, false
				}
				x1 := le64(p, i+8)
				u = parse8(x)
				if l = digitRun(x1); l < 8 {
					if l > 0 {
						u = u*pow10[l] + parse8digits((x1-0x3030303030303030)<<(64-8*l))
					}
					l += 8
				} else {
					x2 := le64(p, i+16)
					if l = digitRun(x2); l >= 4 {
						return 0, false // 20 digits or more: uintValue says what is wrong
					}
					u = u*1e8 + parse8(x1)
					if l > 0 {
						u = u*pow10[l] + parse8digits((x2-0x3030303030303030)<<(64-8*l))
					}
					l += 16
				}
			}
			if u > actMax[act] {
				return 0, false // out of range: uintValue says so
			}
			v.num[act] = u
			v.seen |= 1 << act
			i += l
		} else {
			switch act {
			case actSkip:
				if l := digitRun(x); l > 0 && (l == 1 || byte(x) != '0') {
					for l == 8 {
						i += 8
						if i+8 > len(full) {
							return 0, false
						}
						l = digitRun(le64(p, i))
					}
					i += l
				} else if byte(x) == '"' {
					j := indexQuote(line, i+1)
					if j < 0 || !plainChars(line[i+1:j]) {
						return 0, false
					}
					i = j + 1
				} else {
					return 0, false
				}
			case actSrc, actDst, actExporter:
				a, j, err := s.addr(line, i)
				if err != nil {
					return 0, false
				}
				i = j
				switch act {
				case actSrc:
					v.src = a
					v.seen |= seenSrc
				case actDst:
					v.dst = a
					v.seen |= seenDst
				default:
					f.Exporter = a
				}
			case actType:
				str, j, err := plainString(line, i)
				if err != nil {
					return 0, false
				}
				f.Version = versionOf(str)
				i = j
			case actSrcMAC, actDstMAC:
				m, j, err := macValue(line, i, "")
				if err != nil {
					return 0, false
				}
				if act == actSrcMAC {
					f.SrcMAC = m
				} else {
					f.DstMAC = m
				}
				i = j
			default:
				return 0, false
			}
		}
	}
}

// scanGeneral reads any JSON object line, remembering its keys in the memo.
func (s *lineScanner) scanGeneral(line []byte, f *Flow, v *scanVals) error {
	n := len(line)
	i := skipWS(line, 0)
	if i >= n || line[i] != '{' {
		return errAt(i, "expected '{' at the start of a record")
	}
	i = skipWS(line, i+1)
	if i < n && line[i] == '}' {
		return &missingError{"src_addr"}
	}
	cur := 0 // position in s.memo
	for {
		if i >= n || line[i] != '"' {
			return errAt(i, "expected a key")
		}
		// Keys of the schema are short and never contain escapes; an escaped key is
		// read as unknown.
		act := actSkip
		keyStart := i
		j := indexQuote(line, i+1)
		if j < 0 {
			return errAt(i, "unterminated key")
		}
		if !controlFree(line[i+1 : j]) {
			return errAt(i, "control character in string")
		}
		escaped := bytes.IndexByte(line[i+1:j], '\\') >= 0
		if escaped {
			var err error
			if j, err = skipString(line, i); err != nil {
				return err
			}
			i = j
		} else {
			act = keyAction(line[i+1 : j])
			if s.skip>>act&1 != 0 {
				act = actSkip
			}
			i = j + 1
		}
		if i < n && line[i] == ':' {
			i++
			if !escaped {
				// Remembered with the byte before it, '{' or ',' (not white
				// space, which the fast path does not take).
				if c := line[keyStart-1]; c == '{' || c == ',' {
					cur = s.memoPlace(cur, line[keyStart-1:i], act)
				}
			}
		} else {
			i = skipWS(line, i)
			if i >= n || line[i] != ':' {
				return errAt(i, "expected ':' after key")
			}
			i++
		}
		if i < n && line[i] <= ' ' {
			i = skipWS(line, i)
		}
		if i >= n {
			return errAt(i, "missing value")
		}
		if line[i] == 'n' { // null: treat as absent
			if i+4 > n || string(line[i:i+4]) != "null" {
				return errAt(i, "invalid literal")
			}
			i += 4
		} else {
			var err error
			switch {
			case act < numActs && act != actSkip:
				v.num[act], i, err = uintValue(line, i, actKeys[act], actMax[act])
				v.seen |= 1 << act
			case act == actSrc:
				v.src, i, err = s.addr(line, i)
				v.seen |= seenSrc
			case act == actDst:
				v.dst, i, err = s.addr(line, i)
				v.seen |= seenDst
			case act == actExporter:
				f.Exporter, i, err = s.addr(line, i)
			case act == actType:
				var str []byte
				str, i, err = plainString(line, i)
				f.Version = versionOf(str)
			case act == actSrcMAC:
				f.SrcMAC, i, err = macValue(line, i, "src_mac")
			case act == actDstMAC:
				f.DstMAC, i, err = macValue(line, i, "dst_mac")
			default:
				i, err = skipValue(line, i, 0)
			}
			if err != nil {
				return err
			}
		}
		if i < n && line[i] <= ' ' {
			i = skipWS(line, i)
		}
		if i >= n {
			return errAt(i, "unexpected end of line (truncated record?)")
		}
		if line[i] == ',' {
			i++
			if i < n && line[i] <= ' ' {
				i = skipWS(line, i)
			}
			continue
		}
		if line[i] == '}' {
			i++
			break
		}
		return errAt(i, "expected ',' or '}'")
	}
	if i = skipWS(line, i); i < n {
		return errAt(i, "unexpected data after the record")
	}
	return nil
}

// macValue reads a MAC address string ("aa:bb:cc:dd:ee:ff", as nfcollect
// writes it; '-' also separates) at b[i] as a 48-bit number.
func macValue(b []byte, i int, key string) (uint64, int, error) {
	str, j, err := plainString(b, i)
	if err != nil {
		return 0, i, err
	}
	m, ok := parseMAC(str)
	if !ok {
		return 0, i, errAt(i, "%q: %q is not a MAC address (like 00:11:22:33:44:55)", key, str)
	}
	return m, j, nil
}

// parseMAC reads six hexadecimal octets separated by ':' or '-'.
func parseMAC[T string | []byte](s T) (uint64, bool) {
	if len(s) != 17 {
		return 0, false
	}
	var m uint64
	for k := 0; k < 17; k++ {
		c := s[k]
		if k%3 == 2 {
			if c != ':' && c != '-' {
				return 0, false
			}
			continue
		}
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		m = m<<4 | uint64(d)
	}
	return m, true
}

// digitRun returns the number of leading ASCII digits in the 8 bytes of x
// (little endian, first byte lowest), 0 to 8.
func digitRun(x uint64) int {
	// The top bit of a byte of m is set where x is below '0' (the subtraction
	// borrows), above '9' (the addition reaches 0x80), or not ASCII. A borrow
	// or carry moves only into later bytes, so it never hides the first
	// non-digit nor flags a byte before it.
	m := ((x - 0x3030303030303030) | (x + 0x4646464646464646) | x) & 0x8080808080808080
	return bits.TrailingZeros64(m) >> 3
}

var pow10 = [8]uint64{1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7}

// parse8digits converts 8 digit values 0..9 (little endian, first digit in the
// low byte) to their number.
func parse8digits(x uint64) uint64 {
	x = x*10 + x>>8
	return ((x&0x000000FF000000FF)*(100+(1000000<<32)) + (x>>16&0x000000FF000000FF)*(1+(10000<<32))) >> 32
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// uintValue reads the JSON number at b[i:] for key as an unsigned integer of
// at most max. A number written with a fraction or an exponent is taken when
// its value is a whole number (1.5e3, 6.0); a negative number, a fraction
// (6.9), a value above max and anything but a number are errors that name the
// key and the value.
func uintValue(b []byte, i int, key []byte, max uint64) (uint64, int, error) {
	start := i
	if i+1 < len(b) && b[i] == '0' && b[i+1] >= '0' && b[i+1] <= '9' {
		return 0, start, errAt(start, "bad number for %q (leading zero)", key)
	}
	var v uint64
	// Eight digits at a time while they last (SWAR), then one at a time.
	for i+8 <= len(b) && i-start < 16 {
		chunk := binary.LittleEndian.Uint64(b[i:])
		if digitRun(chunk) != 8 {
			break
		}
		v = v*100000000 + parse8(chunk)
		i += 8
	}
	over := false // v overflowed uint64
	for i < len(b) {
		c := b[i] - '0'
		if c > 9 {
			break
		}
		if v > (math.MaxUint64-uint64(c))/10 {
			over = true
		}
		v = v*10 + uint64(c)
		i++
	}
	if i == start || i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
		j, err := skipNumber(b, start)
		if err != nil {
			if i == start {
				return 0, start, errAt(start, "expected a non-negative integer for %q", key)
			}
			return 0, start, errAt(start, "bad number for %q", key)
		}
		var ok bool
		if v, ok, err = wholeNumber(b[start:j]); err != nil {
			return 0, start, errAt(start, "%q: %s %v", key, numText(b[start:j]), err)
		}
		over, i = !ok, j
	}
	if over || v > max {
		return 0, start, errAt(start, "%q: %s is out of range (0 to %d)", key, numText(b[start:i]), max)
	}
	return v, i, nil
}

// numText returns a number's text for an error message, cut when long.
func numText(s []byte) string {
	if len(s) > 40 {
		return string(s[:37]) + "..."
	}
	return string(s)
}

var (
	errNegative   = errors.New("is negative")
	errFractional = errors.New("is not a whole number")
)

// wholeNumber returns the value of s, a valid JSON number, when it is a
// non-negative whole number, exactly (12.0, 1.5e3, 0.0): errNegative or
// errFractional otherwise. ok is false when the value does not fit a uint64.
func wholeNumber(s []byte) (v uint64, ok bool, err error) {
	if s[0] == '-' {
		return 0, false, errNegative
	}
	// The digits are ip then fp (the integer part and the fraction); after the
	// exponent, the decimal point goes after the first point of them.
	ip, fp := s, s[:0]
	exp := 0
	if e := bytes.IndexAny(s, "eE"); e >= 0 {
		neg := false
		for _, c := range s[e+1:] {
			switch {
			case c == '-':
				neg = true
			case c >= '0' && c <= '9':
				exp = min(exp*10+int(c-'0'), 1<<20) // beyond: as far out of range
			}
		}
		if neg {
			exp = -exp
		}
		ip = s[:e]
	}
	if dot := bytes.IndexByte(ip, '.'); dot >= 0 {
		ip, fp = ip[:dot], ip[dot+1:]
	}
	n := len(ip) + len(fp)
	digit := func(k int) byte {
		if k < len(ip) {
			return ip[k]
		}
		return fp[k-len(ip)]
	}
	// Leading and trailing zeros do not matter.
	lo, hi := 0, n
	for lo < hi && digit(lo) == '0' {
		lo++
	}
	for hi > lo && digit(hi-1) == '0' {
		hi--
	}
	if lo == hi {
		return 0, true, nil
	}
	point := len(ip) + exp // digits before it are the integer part
	if point < hi {
		return 0, false, errFractional
	}
	if point-lo > 20 {
		return 0, false, nil
	}
	for k := lo; k < point; k++ {
		c := uint64(0)
		if k < hi {
			c = uint64(digit(k) - '0')
		}
		if v > (math.MaxUint64-c)/10 {
			return 0, false, nil
		}
		v = v*10 + c
	}
	return v, true, nil
}

// parse8 converts 8 ASCII digits (little endian, first digit in the low byte).
func parse8(x uint64) uint64 { return parse8digits(x - 0x3030303030303030) }

// plainChars reports whether s has neither a control character nor a
// backslash: a string the fast path takes as it is.
func plainChars(s []byte) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		y := x ^ 0x5c5c5c5c5c5c5c5c // zero where x has a backslash
		if ((x-0x2020202020202020)&^x|(y-0x0101010101010101)&^y)&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == '\\' {
			return false
		}
	}
	return true
}

// controlFree reports whether s has no control character (below 0x20), which
// JSON strings may not hold.
func controlFree(s []byte) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		if (x-0x2020202020202020)&^x&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] < 0x20 {
			return false
		}
	}
	return true
}

// indexQuote returns the index of the first '"' in b at or after i, or -1.
func indexQuote(b []byte, i int) int {
	for i+8 <= len(b) {
		x := binary.LittleEndian.Uint64(b[i:]) ^ 0x2222222222222222
		if t := (x - 0x0101010101010101) &^ x & 0x8080808080808080; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
		i += 8
	}
	for ; i < len(b); i++ {
		if b[i] == '"' {
			return i
		}
	}
	return -1
}

// plainString returns the contents of the string at b[i:], which must not
// contain escapes (addresses, version names).
func plainString(b []byte, i int) ([]byte, int, error) {
	if b[i] != '"' {
		return nil, i, errAt(i, "expected a string")
	}
	j := indexQuote(b, i+1)
	if j < 0 {
		return nil, i, errAt(i, "unterminated string")
	}
	s := b[i+1 : j]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, i, errAt(i, "unexpected escape in string")
	}
	if !controlFree(s) {
		return nil, i, errAt(i, "control character in string")
	}
	return s, j + 1, nil
}

// addr reads an IP address string (or a python-netflow style integer for IPv4).
func (s *lineScanner) addr(b []byte, i int) (netip.Addr, int, error) {
	if b[i] >= '0' && b[i] <= '9' { // IPv4 as integer
		v, j, err := uintValue(b, i, []byte("address"), math.MaxUint32)
		if err != nil {
			return netip.Addr{}, i, errAt(i, "bad address")
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), j, nil
	}
	if a, j, ok := quotedIPv4(b, i); ok {
		return a, j, nil
	}
	str, j, err := plainString(b, i)
	if err != nil {
		return netip.Addr{}, i, err
	}
	if a, ok := parseIPv4(str); ok {
		return a, j, nil
	}
	if a, ok := s.v6[string(str)]; ok {
		return a, j, nil
	}
	a, perr := netip.ParseAddr(string(str))
	if perr != nil {
		return netip.Addr{}, i, errAt(i, "bad address %q", str)
	}
	if s.v6 == nil || len(s.v6) >= maxAddrCache {
		s.v6 = make(map[string]netip.Addr, 1024)
	}
	s.v6[string(str)] = a
	return a, j, nil
}

// quotedIPv4 reads a string at b[i:] that is a dotted-quad IPv4 address as
// parseIPv4 takes it, in one pass; ok is false for anything else (which the
// caller then reads the slow way).
func quotedIPv4(b []byte, i int) (netip.Addr, int, bool) {
	if b[i] != '"' {
		return netip.Addr{}, i, false
	}
	var a [4]byte
	k, v, digits := 0, 0, 0
	for j := i + 1; j < len(b); j++ {
		c := b[j]
		switch {
		case c-'0' <= 9:
			if digits > 0 && v == 0 {
				return netip.Addr{}, i, false // leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, i, false
			}
		case c == '.':
			if digits == 0 || k == 3 {
				return netip.Addr{}, i, false
			}
			a[k] = byte(v)
			k, v, digits = k+1, 0, 0
		case c == '"':
			if k != 3 || digits == 0 {
				return netip.Addr{}, i, false
			}
			a[3] = byte(v)
			return netip.AddrFrom4(a), j + 1, true
		default:
			return netip.Addr{}, i, false
		}
	}
	return netip.Addr{}, i, false
}

// parseIPv4 parses dotted-quad IPv4 without allocating.
func parseIPv4(s []byte) (netip.Addr, bool) {
	var a [4]byte
	k, v, digits := 0, 0, 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && v == 0 {
				return netip.Addr{}, false // leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return netip.Addr{}, false
			}
		case c == '.':
			if digits == 0 || k == 3 {
				return netip.Addr{}, false
			}
			a[k] = byte(v)
			k, v, digits = k+1, 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if k != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	a[3] = byte(v)
	return netip.AddrFrom4(a), true
}

// skipString returns the index after the string starting at b[i] ('"').
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := indexQuote(b, j)
		if k < 0 {
			return i, errAt(i, "unterminated string")
		}
		j = k
		// count the backslashes before the quote
		bs := 0
		for p := j - 1; p > i && b[p] == '\\'; p-- {
			bs++
		}
		j++
		if bs%2 == 0 {
			body := b[i+1 : j-1]
			if !controlFree(body) {
				return i, errAt(i, "control character in string")
			}
			if k := badEscape(body); k >= 0 {
				return i, errAt(i+1+k, "invalid escape %q in string", body[k:min(k+2, len(body))])
			}
			return j, nil
		}
	}
}

// badEscape returns the index in s, the contents of a string, of the first
// backslash that does not start a JSON escape (\" \\ \/ \b \f \n \r \t or \u
// and four hex digits), or -1.
func badEscape(s []byte) int {
	for k := 0; k < len(s); k++ {
		if s[k] != '\\' {
			continue
		}
		if k+1 >= len(s) {
			return k
		}
		switch s[k+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			k++
		case 'u':
			if k+6 > len(s) {
				return k
			}
			for _, c := range s[k+2 : k+6] {
				if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
					return k
				}
			}
			k += 5
		default:
			return k
		}
	}
	return -1
}

const maxDepth = 64

var errDepth = errors.New("nested too deeply")

// skipValue returns the index after the JSON value at b[i:].
func skipValue(b []byte, i int, depth int) (int, error) {
	if i >= len(b) {
		return i, errAt(i, "missing value")
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '-' || c >= '0' && c <= '9':
		return skipNumber(b, i)
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return i, errAt(i, "%v", errDepth)
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		j := skipWS(b, i+1)
		if j < len(b) && b[j] == end {
			return j + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if j >= len(b) || b[j] != '"' {
					return j, errAt(j, "expected a key")
				}
				if j, err = skipString(b, j); err != nil {
					return j, err
				}
				j = skipWS(b, j)
				if j >= len(b) || b[j] != ':' {
					return j, errAt(j, "expected ':'")
				}
				j = skipWS(b, j+1)
			}
			if j, err = skipValue(b, j, depth+1); err != nil {
				return j, err
			}
			j = skipWS(b, j)
			if j >= len(b) {
				return j, errAt(j, "unexpected end of line (truncated record?)")
			}
			if b[j] == end {
				return j + 1, nil
			}
			if b[j] != ',' {
				return j, errAt(j, "expected ',' or '%c'", end)
			}
			j = skipWS(b, j+1)
		}
	}
	return i, errAt(i, "unexpected character %q", b[i])
}

// skipNumber returns the index after the JSON number at b[i:]:
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) (int, error) {
	j := i
	digits := func() int {
		k := j
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(b) && b[j] == '-' {
		j++
	}
	start := j
	if n := digits(); n == 0 || n > 1 && b[start] == '0' {
		return i, errAt(i, "bad number")
	}
	if j < len(b) && b[j] == '.' {
		j++
		if digits() == 0 {
			return i, errAt(i, "bad number")
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return i, errAt(i, "bad number")
		}
	}
	return j, nil
}

func literal(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, errAt(i, "invalid literal")
	}
	return i + len(lit), nil
}
