package collector

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// frame serializes an export packet as Ethernet (optionally 802.1Q) +
// IPv4 or IPv6 + UDP. With frag > 0 the IPv4 datagram is split into
// fragments of frag payload bytes.
func frames(t *testing.T, payload []byte, src string, vlan bool, frag int) [][]byte {
	t.Helper()
	ip := net.ParseIP(src)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	udp := &layers.UDP{SrcPort: 40000, DstPort: 2055}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	var netLayer gopacket.SerializableLayer
	etype := layers.EthernetTypeIPv4
	if ip.To4() != nil {
		v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: ip.To4(), DstIP: net.IP{192, 0, 2, 254}, Id: 77}
		udp.SetNetworkLayerForChecksum(v4)
		netLayer = v4
	} else {
		etype = layers.EthernetTypeIPv6
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: ip, DstIP: net.ParseIP("2001:db8::fe")}
		udp.SetNetworkLayerForChecksum(v6)
		netLayer = v6
	}
	link := []gopacket.SerializableLayer{eth}
	if vlan {
		eth.EthernetType = layers.EthernetTypeDot1Q
		link = append(link, &layers.Dot1Q{VLANIdentifier: 100, Type: etype})
	} else {
		eth.EthernetType = etype
	}
	if frag == 0 {
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, opts, append(link, netLayer, udp, gopacket.Payload(payload))...); err != nil {
			t.Fatal(err)
		}
		return [][]byte{append([]byte(nil), buf.Bytes()...)}
	}
	// Serialize UDP + payload, then cut the IPv4 payload into fragments.
	ub := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(ub, opts, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	whole := ub.Bytes()
	var out [][]byte
	for off := 0; off < len(whole); off += frag {
		end := min(off+frag, len(whole))
		v4 := *netLayer.(*layers.IPv4)
		v4.FragOffset = uint16(off / 8)
		if end < len(whole) {
			v4.Flags = layers.IPv4MoreFragments
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, opts, append(link, &v4, gopacket.Payload(whole[off:end]))...); err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), buf.Bytes()...))
	}
	// Out of order, as fragments may arrive.
	out[0], out[len(out)-1] = out[len(out)-1], out[0]
	return out
}

// TestReplayEncapsulations replays pcap and pcapng files carrying the same
// export packets over VLAN-tagged IPv4, IPv6 and fragmented IPv4.
func TestReplayEncapsulations(t *testing.T) {
	payloads := capturePayloads(t, "softflowd-v5.pcap")
	want := tsharkKeys(t, "softflowd-v5.pcap")
	cases := []struct {
		name string
		src  string
		vlan bool
		frag int
		ng   bool
	}{
		{"ipv4", "192.0.2.1", false, 0, false},
		{"vlan", "192.0.2.1", true, 0, false},
		{"ipv6", "2001:db8::1", false, 0, false},
		{"ipv6-vlan-pcapng", "2001:db8::1", true, 0, true},
		{"ipv4-fragments", "192.0.2.1", false, 512, false},
		{"ipv4-fragments-pcapng", "192.0.2.1", true, 256, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.pcap")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			ts := time.Unix(1700000000, 0)
			type pw interface {
				WritePacket(gopacket.CaptureInfo, []byte) error
			}
			var w pw
			var flush func() error
			if c.ng {
				ng, err := pcapgo.NewNgWriter(f, layers.LinkTypeEthernet)
				if err != nil {
					t.Fatal(err)
				}
				w, flush = ng, ng.Flush
			} else {
				pw := pcapgo.NewWriter(f)
				pw.WriteFileHeader(65535, layers.LinkTypeEthernet)
				w, flush = pw, func() error { return nil }
			}
			for _, p := range payloads {
				for _, fr := range frames(t, p, c.src, c.vlan, c.frag) {
					if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(fr), Length: len(fr)}, fr); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := flush(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			out := filepath.Join(dir, "flows.json")
			col := newTestCollector(t, Config{Outputs: fileOut(t, out)})
			if err := replay(t, col, path); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, out)
			equalKeys(t, c.name, keys(lines), want)
			if len(lines) > 0 {
				if got := lines[0]["sampler_address"]; got != net.ParseIP(c.src).String() {
					t.Errorf("sampler_address %v, want %s", got, c.src)
				}
				if got := lines[0]["time_received_ns"]; got != float64(ts.UnixNano()) {
					t.Errorf("time_received_ns %v, want the capture time", got)
				}
			}
		})
	}
}

func TestReplayErrors(t *testing.T) {
	dir := t.TempDir()
	newCol := func() *Collector {
		return newTestCollector(t, Config{Outputs: fileOut(t, filepath.Join(dir, "x.json"))})
	}
	if err := replay(t, newCol(), filepath.Join(dir, "missing.pcap")); err == nil {
		t.Error("missing file: no error")
	}
	bad := filepath.Join(dir, "bad.pcap")
	os.WriteFile(bad, []byte("this is not a capture file"), 0o644)
	if err := replay(t, newCol(), bad); err == nil {
		t.Error("not a capture: no error")
	}
	// A capture cut in the middle keeps what was read.
	raw, _ := os.ReadFile(filepath.Join("..", "testdata", "softflowd-v9.pcap"))
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, raw[:len(raw)-100], 0o644)
	if err := replay(t, newCol(), cut); err != nil {
		t.Errorf("truncated capture: %v", err)
	}
}
