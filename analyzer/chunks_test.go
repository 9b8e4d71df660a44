package analyzer

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// chunkedFile makes a file as nfcollect writes it: members (frames) of about
// size bytes of flow lines each, compressed one by one. It returns the file,
// each member's offset in it and the number of lines in each.
func chunkedFile(t testing.TB, c codec, members, size int) (file []byte, offs []int, lines []int) {
	t.Helper()
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	n := 0
	for m := 0; m < members; m++ {
		var chunk []byte
		k := 0
		for len(chunk) < size {
			chunk = fmt.Appendf(chunk, `{"type":"IPFIX","time_received_ns":%d,"sampler_address":"192.0.2.1","time_flow_start_ns":%d,"time_flow_end_ns":%d,"bytes":%d,"packets":%d,"src_addr":"10.%d.%d.%d","dst_addr":"198.51.100.%d","src_port":%d,"dst_port":443,"proto":6}`+"\n",
				1700000000000000000+int64(n)*1e6, 1700000000000000000+int64(n)*1e6, 1700000000000000000+int64(n)*1e6+5e8, 100+n%1000, 1+n%7, n>>16&255, n>>8&255, n&255, n%200, 1024+n%60000)
			n++
			k++
		}
		offs = append(offs, len(file))
		lines = append(lines, k)
		switch c {
		case codecGzip:
			var b bytes.Buffer
			z, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
			z.Write(chunk)
			z.Close()
			file = append(file, b.Bytes()...)
		case codecZstd:
			file = zw.EncodeAll(chunk, file)
		}
	}
	return file, offs, lines
}

func total(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// TestDamagedMembers: files of many members (frames) with one damaged in the
// middle, in several ways, or cut at the end. Every flow of every intact
// member is read, no garbage makes bad lines, and the damage is reported once
// with its byte offsets.
func TestDamagedMembers(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []codec{codecGzip, codecZstd} {
		file, offs, lines := chunkedFile(t, c, 12, 256<<10)
		const k = 5 // the damaged member
		end := func(i int) int {
			if i+1 < len(offs) {
				return offs[i+1]
			}
			return len(file)
		}
		mid := (offs[k] + end(k)) / 2
		cases := []struct {
			name   string
			damage func(b []byte) []byte
			lost   []int  // members whose flows are lost
			msg    string // in stderr
		}{
			{"intact", func(b []byte) []byte { return b }, nil, ""},
			{"bytes changed", func(b []byte) []byte {
				for i := mid; i < mid+256; i++ {
					b[i] ^= 0x5a
				}
				return b
			}, []int{k}, fmt.Sprintf("bytes %d to %d skipped: a damaged", offs[k], offs[k+1])},
			{"one bit", func(b []byte) []byte { b[mid] ^= 0x10; return b }, []int{k}, fmt.Sprintf("bytes %d to %d skipped", offs[k], offs[k+1])},
			{"end of member changed", func(b []byte) []byte {
				for i := end(k) - 40; i < end(k); i++ {
					b[i] ^= 0xff
				}
				return b
			}, []int{k}, fmt.Sprintf("bytes %d to %d skipped", offs[k], offs[k+1])},
			{"header destroyed", func(b []byte) []byte { copy(b[offs[k]:], "junk"); return b }, []int{k}, fmt.Sprintf("bytes %d to %d skipped", offs[k], offs[k+1])},
			{"zeros over a boundary", func(b []byte) []byte { clear(b[end(k)-2048 : end(k)+2048]); return b }, []int{k, k + 1},
				fmt.Sprintf("bytes %d to %d skipped", offs[k], offs[k+2])},
			{"member cut short", func(b []byte) []byte { return append(b[:mid:mid], b[end(k):]...) }, []int{k}, fmt.Sprintf("bytes %d to %d skipped", offs[k], mid)},
			{"garbage at the start", func(b []byte) []byte { return append([]byte("\x00\x01garbage\x00"), b...) }, nil, "bytes 0 to 10 skipped: data that is not " + c.String()},
		}
		for _, d := range cases {
			t.Run(c.String()+"/"+d.name, func(t *testing.T) {
				name := writeFile(t, dir, c.String()+"-"+strings.ReplaceAll(d.name, " ", "-"), d.damage(bytes.Clone(file)))
				var out, errb bytes.Buffer
				sum, err := Run(Config{Inputs: []string{name}, StatKeys: []string{"src"}, Top: 1}, &out, &errb)
				if err != nil {
					t.Fatal(err)
				}
				var want int64
				for i, n := range lines {
					lost := false
					for _, l := range d.lost {
						lost = lost || l == i
					}
					if !lost {
						want += int64(n)
					}
				}
				if sum.Flows != want || sum.SkippedLines != 0 {
					t.Errorf("read %d flows and %d bad lines, want %d flows (every intact member's) and no bad line\n%s", sum.Flows, sum.SkippedLines, want, errb.String())
				}
				if d.msg == "" {
					if sum.Skipped() || errb.Len() > 0 {
						t.Errorf("intact file: %+v\n%s", sum, errb.String())
					}
					return
				}
				if !strings.Contains(errb.String(), d.msg) || strings.Count(errb.String(), "skipped:") != 2 || sum.Damaged != 1 || sum.FilesPartial != 1 {
					t.Errorf("got %+v and stderr\n%s\nwant one report containing %q", sum, errb.String(), d.msg)
				}
			})
		}
		t.Run(c.String()+"/cut at the end", func(t *testing.T) {
			cut := len(file) - (len(file)-offs[len(offs)-1])/3
			name := writeFile(t, dir, c.String()+"-cut", file[:cut])
			var out, errb bytes.Buffer
			sum, err := Run(Config{Inputs: []string{name}, StatKeys: []string{"src"}, Top: 1}, &out, &errb)
			if err != nil {
				t.Fatal(err)
			}
			intact := int64(total(lines[:len(lines)-1]))
			if sum.Flows < intact || sum.Flows >= intact+int64(lines[len(lines)-1]) || sum.SkippedLines != 0 || sum.Damaged != 1 || sum.FilesPartial != 1 {
				t.Errorf("read %+v; want at least the %d flows of the intact members, and no bad line\n%s", sum, intact, errb.String())
			}
			if want := fmt.Sprintf("the file ends inside the %s at byte %d (cut short at byte %d)", map[codec]string{codecGzip: "gzip member", codecZstd: "zstd frame"}[c], offs[len(offs)-1], cut); !strings.Contains(errb.String(), want) {
				t.Errorf("stderr\n%s\nwant %q", errb.String(), want)
			}
		})
	}
}

// TestChunkReaderBounded: a single member larger than the check's buffer is
// handed out as it is decoded, and the reader's memory stays bounded.
func TestChunkReaderBounded(t *testing.T) {
	file, _, _ := chunkedFile(t, codecGzip, 1, chunkOutMax*3)
	cr := newChunkReader(bytes.NewReader(file), codecGzip, func(m string) { t.Error(m) })
	n, err := io.Copy(io.Discard, cr)
	if err != nil || cr.Damaged != 0 {
		t.Fatalf("read %d bytes, %v, %d damaged", n, err, cr.Damaged)
	}
	if cap(cr.out) > chunkOutMax+128<<10 || cap(cr.src.keep) > 2*chunkRawMax+256<<10 {
		t.Errorf("buffers of %d and %d bytes", cap(cr.out), cap(cr.src.keep))
	}
}

// FuzzChunkReader: any damage to a file of gzip members or zstd frames never
// makes the reader panic or hang, and an undamaged file reads back exactly.
// The files: generated flows in members of 2 KiB, and testdata/flows.jsonl in
// one member per line (as python-netflow's collector writes), each as gzip
// and as zstd.
func FuzzChunkReader(f *testing.F) {
	flows, err := os.ReadFile("testdata/flows.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	zw, _ := zstd.NewWriter(nil)
	var seeds [4][]byte
	for i, c := range []codec{codecGzip, codecZstd} {
		seeds[i], _, _ = chunkedFile(f, c, 4, 2<<10)
		for _, line := range bytes.SplitAfter(flows, []byte("\n")) {
			if c == codecZstd {
				seeds[i+2] = zw.EncodeAll(line, seeds[i+2])
				continue
			}
			var b bytes.Buffer
			z := gzip.NewWriter(&b)
			z.Write(line)
			z.Close()
			seeds[i+2] = append(seeds[i+2], b.Bytes()...)
		}
	}
	for i, file := range seeds {
		f.Add(i, 0, []byte{})
		f.Add(i, len(file)/2, []byte{0, 0, 0, 0})
		f.Add(i, len(file)-5, []byte{0x1f, 0x8b, 0x08, 0x28, 0xb5, 0x2f, 0xfd})
	}
	f.Fuzz(func(t *testing.T, which, at int, damage []byte) {
		which &= 3
		c := []codec{codecGzip, codecZstd}[which&1]
		file := bytes.Clone(seeds[which])
		want, _ := io.ReadAll(newChunkReader(bytes.NewReader(file), c, func(m string) { t.Fatalf("intact file: %s", m) }))
		at = int(uint(at) % uint(len(file)+1))
		file = append(file[:at:at], append(damage, file[min(at+len(damage), len(file)):]...)...)
		cr := newChunkReader(bytes.NewReader(file), c, func(string) {})
		got, err := io.ReadAll(cr)
		if err != nil {
			t.Fatal(err)
		}
		if len(damage) == 0 && !bytes.Equal(got, want) {
			t.Fatal("an intact file read back differently")
		}
		if len(got) > len(want)+chunkOutMax {
			t.Fatalf("%d bytes read from %d", len(got), len(want))
		}
	})
}

// TestChunkReaderNested: gzip members nested in each other's stored blocks,
// each with a wrong checksum, make every search from a failed member's start
// decode the rest of the file again. The work stays linear in the input: past
// a bound, reading goes on where the decoder stopped.
func TestChunkReaderNested(t *testing.T) {
	var file []byte
	for range 4000 { // about 100 KB; without the bound, 200 MB to decode

		var m []byte
		m = append(m, 0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff) // header: deflate, no flags
		for rest := file; ; {                                   // stored blocks
			n := min(len(rest), 0xffff)
			final := byte(0)
			if n == len(rest) {
				final = 1
			}
			m = append(m, final, byte(n), byte(n>>8), ^byte(n), ^byte(n>>8))
			m = append(m, rest[:n]...)
			rest = rest[n:]
			if final == 1 {
				break
			}
		}
		file = append(m, 1, 2, 3, 4, 5, 6, 7, 8) // a checksum that does not match
	}
	var msgs []string
	cr := newChunkReader(bytes.NewReader(file), codecGzip, func(m string) { msgs = append(msgs, m) })
	got, err := io.ReadAll(cr)
	if err != nil || len(got) != 0 || len(msgs) != 1 || !strings.Contains(msgs[0], "(the end) skipped") {
		t.Errorf("read %d bytes, %v, %q", len(got), err, msgs)
	}
	if bound := 16*(int64(len(file))+1<<20) + int64(len(file)); cr.wasted > bound {
		t.Errorf("decoded %d bytes in failed members, more than %d for a %d-byte file", cr.wasted, bound, len(file))
	}
}
