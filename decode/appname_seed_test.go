package decode

import "testing"

// appSeeds are fuzz seeds that reach the application name table: an IPFIX
// message with an options template (scope applicationId, applicationName),
// its names, a data template with applicationId and its flows, and the
// same as NetFlow v9 (Cisco's application table layout).
func appSeeds() [][]byte {
	ssh := []byte{13, 0, 1, 0xc5}
	ipfix := ipfixPacket(1600000000, 1, 7,
		set(3, ipfixTemplate(500, 1, fs{id: 95, length: 0xffff}, fs{id: 96, length: 0xffff})),
		set(2, ipfixTemplate(501, 0, fs{id: 8, length: 4}, fs{id: 95, length: 4})),
		set(500, u8(4), ssh, u8(3), []byte("ssh")),
		set(501, u32(0xc0000201), ssh))
	v9 := v9Packet(1000, 1600000000, 1, 3, 4,
		set(1, v9OptionsTemplate(260, []fs{{id: 1, length: 4}}, []fs{{id: 95, length: 4}, {id: 96, length: 24}})),
		set(0, v9Template(262, fs{id: 8, length: 4}, fs{id: 95, length: 4})),
		set(260, u32(0), ssh, append([]byte("ssh"), make([]byte, 21)...)),
		set(262, u32(0xc0000201), ssh))
	return [][]byte{ipfix, v9}
}

// TestAppSeeds: the seeds do reach the table (their flow is named).
func TestAppSeeds(t *testing.T) {
	for i, pkt := range appSeeds() {
		var d Decoder
		var p Packet
		if err := d.Decode(loopback, pkt, &p); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		if len(p.Records) != 1 {
			t.Fatalf("seed %d: %d flows, want 1", i, len(p.Records))
		}
		if name, ok := p.Records[0].ApplicationName(); name != "ssh" || !ok {
			t.Errorf("seed %d: ApplicationName = %q, %v, want ssh", i, name, ok)
		}
	}
}
