//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/nfkit/nfkit/capture"
	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/internal/spoof"
)

// exportPacket is one UDP payload of the legitimate exporter's capture.
type exportPacket struct {
	data     []byte
	template bool // has a template set: pause after it
}

// legit is the capture a legitimate exporter replays, and the flows a
// collector writes for it.
type legit struct {
	path    string
	pkts    []exportPacket
	flows   int // per replay, as nfcollect -r writes them
	decoded int // per replay, as package decode counts them (a cross-check)
}

// readCapture returns the UDP payloads of a pcap or pcapng file in order.
func readCapture(path string) ([]exportPacket, error) {
	f, err := capture.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var pkts []exportPacket
	for {
		d, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(d.Payload) == 0 {
			continue
		}
		b := bytes.Clone(d.Payload)
		pkts = append(pkts, exportPacket{data: b, template: hasTemplateSet(b)})
	}
	if len(pkts) == 0 {
		return nil, fmt.Errorf("%s: no UDP datagrams", path)
	}
	return pkts, nil
}

// hasTemplateSet reports whether a v9 or IPFIX packet carries a template
// or options template set.
func hasTemplateSet(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	off := 0
	switch binary.BigEndian.Uint16(b) {
	case 9:
		off = 20
	case 10:
		off = 16
	default:
		return false
	}
	v := binary.BigEndian.Uint16(b)
	for off+4 <= len(b) {
		id := binary.BigEndian.Uint16(b[off:])
		n := int(binary.BigEndian.Uint16(b[off+2:]))
		if v == 9 && id <= 1 || v == 10 && (id == 2 || id == 3) {
			return true
		}
		if n < 4 {
			break
		}
		off += n
	}
	return false
}

// decodedFlows counts the data records package decode finds in the
// packets once every template of the capture is known (a first pass
// learns them).
func decodedFlows(pkts []exportPacket) int {
	var d decode.Decoder
	var out decode.Packet
	src := netip.MustParseAddr("192.0.2.1")
	for _, p := range pkts {
		d.Decode(src, p.data, &out)
	}
	n := 0
	for _, p := range pkts {
		d.Decode(src, p.data, &out)
		n += len(out.Records)
	}
	return n
}

// loadLegit reads the capture and counts the flows that bin writes for
// it alone (nfcollect -r).
func loadLegit(bin, path, work string) (*legit, error) {
	pkts, err := readCapture(path)
	if err != nil {
		return nil, err
	}
	out := filepath.Join(work, "reference.jsonl")
	if b, err := commandOutput(time.Minute, true, bin, "-r", path, "-o", out); err != nil {
		return nil, fmt.Errorf("%s -r %s: %v: %s", bin, path, err, firstLine(b))
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := countLines(f)
	if err != nil {
		return nil, err
	}
	return &legit{path: path, pkts: pkts, flows: n, decoded: decodedFlows(pkts)}, nil
}

func countLines(r io.Reader) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// replay sends the capture's payloads from src in order: a 20 ms pause
// after a packet with templates (so that the collector has them before
// the data), 1 ms after the others.
func (l *legit) replay(s *spoof.Sender, src netip.Addr, dst netip.AddrPort) (sent int, err error) {
	for _, p := range l.pkts {
		if err := s.Send(src, dst, p.data); err != nil {
			return sent, err
		}
		sent++
		if p.template {
			time.Sleep(20 * time.Millisecond)
		} else {
			time.Sleep(time.Millisecond)
		}
	}
	return sent, nil
}

// fill reads into b until it is full or r fails; unlike io.ReadFull it
// returns r's error as it is (io.EOF at a clean end).
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// outputCount is what a collector's output file holds.
type outputCount struct {
	Lines  int64
	From   map[netip.Addr]int64 // lines whose sampler_address is a watched address
	Bytes  int64                // compressed size
	Err    string               // a read error (a file cut by SIGKILL)
	ReadIn time.Duration
}

// countOutput counts the JSON lines of a zstd output file, in total and
// per sampler_address for the watched addresses.
func countOutput(path string, watch ...netip.Addr) outputCount {
	t := time.Now()
	oc := outputCount{From: map[netip.Addr]int64{}}
	defer func() { oc.ReadIn = time.Since(t) }()
	f, err := os.Open(path)
	if err != nil {
		oc.Err = err.Error()
		return oc
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		oc.Bytes = fi.Size()
	}
	zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
	if err != nil {
		oc.Err = err.Error()
		return oc
	}
	defer zr.Close()
	keys := make([][]byte, len(watch))
	overlap := 0
	for i, a := range watch {
		keys[i] = []byte(`"sampler_address":"` + a.String() + `"`)
		overlap = max(overlap, len(keys[i])-1)
	}
	// Count newlines and keys block by block (a key occurs once per line),
	// keeping the last bytes of a block in front of the next so that a
	// key cut by a block boundary is found once.
	buf := make([]byte, overlap+1<<20)
	kept := 0
	var rerr error
	for rerr == nil {
		var n int
		n, rerr = fill(zr, buf[kept:])
		if n == 0 {
			break
		}
		block := buf[:kept+n]
		oc.Lines += int64(bytes.Count(block[kept:], []byte{'\n'}))
		for i, k := range keys {
			// Keys wholly inside the carried bytes were counted with the
			// block before.
			oc.From[watch[i]] += int64(bytes.Count(block, k) - bytes.Count(block[:kept], k))
		}
		kept = min(overlap, len(block))
		copy(buf, block[len(block)-kept:])
	}
	if rerr != io.EOF {
		oc.Err = rerr.Error()
	}
	return oc
}
