package main

import (
	"encoding/binary"
	"testing"
)

// v9Frame returns an Ethernet/IPv4/UDP frame to port carrying a NetFlow v9
// header with count and one 8-byte flowset per entry of setIDs.
func v9Frame(port, count int, setIDs ...uint16) []byte {
	nf := make([]byte, 20, 20+8*len(setIDs))
	binary.BigEndian.PutUint16(nf, 9)
	binary.BigEndian.PutUint16(nf[2:], uint16(count))
	for _, id := range setIDs {
		nf = binary.BigEndian.AppendUint16(nf, id)
		nf = binary.BigEndian.AppendUint16(nf, 8)
		nf = append(nf, 0, 0, 0, 0)
	}
	f := make([]byte, 14+20+8, 14+20+8+len(nf))
	binary.BigEndian.PutUint16(f[12:], 0x0800)
	f[14] = 0x45
	f[14+9] = 17
	binary.BigEndian.PutUint16(f[34+2:], uint16(port))
	binary.BigEndian.PutUint16(f[34+4:], uint16(8+len(nf)))
	return append(f, nf...)
}

func pcapOf(frames ...[]byte) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b, 0xa1b2c3d4)
	binary.LittleEndian.PutUint32(b[20:], 1)
	for _, f := range frames {
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(f)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(f)))
		b = append(append(b, rec...), f...)
	}
	return b
}

func TestV9CountPatch(t *testing.T) {
	in := pcapOf(
		v9Frame(2055, 2, 0, 0, 1, 256, 1024), // softflowd-style: Count = data records only
		v9Frame(2055, 9, 0, 1024),            // Count covers the flowsets
		v9Frame(9999, 1, 0, 0, 1024),         // another port
	)
	orig := append([]byte(nil), in...)
	out, counts, err := v9CountPatch(in, 2055)
	if err != nil {
		t.Fatal(err)
	}
	if string(in) != string(orig) {
		t.Error("the input was modified")
	}
	if len(counts) != 1 || counts[1] != [2]int{2, 5} {
		t.Fatalf("counts %v, want frame 1: 2 -> 5", counts)
	}
	if len(out) != len(in) {
		t.Fatalf("length %d, want %d", len(out), len(in))
	}
	var diff []int
	for i := range in {
		if in[i] != out[i] {
			diff = append(diff, i)
		}
	}
	// Only the low byte of frame 1's Count: pcap header 24, record header
	// 16, Ethernet 14, IPv4 20, UDP 8, then version(2) and Count(2).
	if want := 24 + 16 + 14 + 20 + 8 + 3; len(diff) != 1 || diff[0] != want || out[want] != 5 {
		t.Errorf("bytes changed at %v, want only %d (set to 5)", diff, want)
	}

	if out, counts, err := v9CountPatch(pcapOf(v9Frame(2055, 3, 0, 1024)), 2055); err != nil || out != nil || counts != nil {
		t.Errorf("nothing to patch: got %d bytes, %v, %v", len(out), counts, err)
	}
	if _, _, err := v9CountPatch(in[:30], 2055); err == nil {
		t.Error("a truncated record header gives no error")
	}
	if _, _, err := v9CountPatch([]byte("not a pcap file at all!!"), 2055); err == nil {
		t.Error("a bad magic gives no error")
	}
}
