package pynetflow

import (
	"strconv"
	"testing"

	"github.com/nfkit/nfkit/decode"
)

// timingPackets are decoded python-netflow vectors, one per version.
func timingPackets(b *testing.B) map[string]*decode.Packet {
	out := map[string]*decode.Packet{}
	for name, vector := range map[string]string{"v5": "v5_icmp_ping_multicast_3flows",
		"v9": "v9_template_2templates_8flows", "ipfix": "ipfix_templates_5_plus_20flows"} {
		var d decode.Decoder
		p := new(decode.Packet)
		if err := d.Decode(pyLoop, pyLoadHex(b, vector+".hex")[0], p); err != nil {
			b.Fatal(err)
		}
		out[name] = p
	}
	return out
}

var sinkLine []byte

func BenchmarkAppendPacket(b *testing.B) {
	for name, p := range timingPackets(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			sinkLine = AppendPacket(sinkLine[:0], pyTS, pyClient, p)
			b.SetBytes(int64(len(sinkLine)))
			for b.Loop() {
				sinkLine = AppendPacket(sinkLine[:0], pyTS, pyClient, p)
			}
		})
	}
}

func BenchmarkReadLine(b *testing.B) {
	for name, p := range timingPackets(b) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			line := AppendPacket(nil, pyTS, pyClient, p)
			b.SetBytes(int64(len(line)))
			var r Reader
			n := 0
			for b.Loop() {
				if _, err := r.ReadLine(line, func(*Flow) { n++ }); err != nil {
					b.Fatal(err)
				}
			}
			if n == 0 {
				b.Fatal("no flows")
			}
		})
	}
}

// BenchmarkAppendBigUint writes octet arrays of growing length as integers
// (a variable-length IPFIX field may hold nearly 64 KiB).
func BenchmarkAppendBigUint(b *testing.B) {
	for _, n := range []int{16, 100, 512, 4096, 65000} {
		v := make([]byte, n)
		for i := range v {
			v[i] = byte(i*7 + 3)
		}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				sinkLine = appendBigUint(sinkLine[:0], v)
			}
		})
	}
}
