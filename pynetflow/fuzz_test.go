package pynetflow

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/testvec"
)

// lineSeeds returns lines of the format: the writer's goldens and the
// analyzer's python-netflow inputs (good and bad lines).
func lineSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "write", "*.golden"))
	files = append(files,
		filepath.Join(testvec.Root(), "analyzer", "testdata", "python.jsonl"),
		filepath.Join(testvec.Root(), "analyzer", "testdata", "bad.jsonl"))
	var out [][]byte
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
		f.Close()
		if err := sc.Err(); err != nil {
			tb.Fatal(err)
		}
	}
	if len(out) < 10 {
		tb.Fatalf("only %d seed lines", len(out))
	}
	return out
}

// readResult is everything ReadLine reports for a line.
type readResult struct {
	flows   []Flow
	skipped []string
	err     string
}

func readOnce(line []byte) readResult {
	var r Reader
	var res readResult
	skipped, err := r.ReadLine(line, func(f *Flow) { res.flows = append(res.flows, *f) })
	for _, e := range skipped {
		res.skipped = append(res.skipped, e.Error())
	}
	if err != nil {
		res.err = err.Error()
	}
	return res
}

// FuzzReadLine: any line is read without a panic, the same way every time
// (whatever Go's map order), with either a line error and nothing else or
// flows that have both addresses.
func FuzzReadLine(f *testing.F) {
	for _, l := range lineSeeds(f) {
		f.Add(l)
	}
	f.Add([]byte(`{"1.0": {"client": ["::1", 1, 0, 0], "header": {"version": 10}, "flows": [{"sourceIPv6Address": 1, ` +
		`"destinationIPv4Address": 2, "absoluteError": NaN, "x": [Infinity, -Infinity], "s": "NaN"}]}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		a := readOnce(line)
		if b := readOnce(line); !reflect.DeepEqual(a, b) {
			t.Fatalf("two reads differ:\n%+v\n%+v", a, b)
		}
		if a.err != "" && (len(a.flows) > 0 || len(a.skipped) > 0) {
			t.Fatalf("line error %q with %d flows and %d record errors", a.err, len(a.flows), len(a.skipped))
		}
		for _, fl := range a.flows {
			if !fl.Src.IsValid() || !fl.Dst.IsValid() {
				t.Fatalf("flow without addresses: %+v", fl)
			}
		}
	})
}

// FuzzWriteRead: for any export packet (decoded after a packet that may
// define its templates), AppendPacket writes one ASCII line that reads
// back without a line error, with no more flows and record errors than it
// holds records.
func FuzzWriteRead(f *testing.F) {
	for _, v := range pyVectors {
		pkts := pyLoadHex(f, v.name+".hex")
		var prior []byte
		if v.prior != "" {
			prior = pyLoadHex(f, v.prior+".hex")[0]
		}
		for _, p := range pkts {
			f.Add(prior, p)
		}
	}
	for _, name := range []string{"softflowd-v5.pcap", "softflowd-v9.pcap", "softflowd-ipfix-biflow.pcap",
		"pmacct-ipfix-usec.pcap", "pmacct-v9-sampling.pcap", "fprobe-v7.pcap"} {
		pkts := capturePayloads(f, name)
		for i := 1; i < len(pkts) && i < 4; i++ {
			f.Add(pkts[0], pkts[i])
		}
	}
	ts := time.Unix(0, 1700000000_000000001)
	client := netip.MustParseAddrPort("[2001:db8::9]:2055")
	f.Fuzz(func(t *testing.T, prior, pkt []byte) {
		var d decode.Decoder
		var p decode.Packet
		d.Decode(client.Addr(), prior, &p)
		if err := d.Decode(client.Addr(), pkt, &p); err != nil && len(p.Records) == 0 && len(p.Options) == 0 {
			return
		}
		line := AppendPacket(nil, ts, client, &p)
		if bytes.IndexByte(line, '\n') != len(line)-1 {
			t.Fatalf("not one line: %q", line)
		}
		for _, c := range line {
			if c >= 0x80 {
				t.Fatalf("not ASCII: %q", line)
			}
		}
		if !json.Valid(nullConstants(line)) {
			t.Fatalf("not JSON: %s", line)
		}
		var r Reader
		n := 0
		skipped, err := r.ReadLine(line, func(*Flow) { n++ })
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if n+len(skipped) > FlowCount(&p) {
			t.Fatalf("%d flows and %d record errors from %d records", n, len(skipped), FlowCount(&p))
		}
	})
}
