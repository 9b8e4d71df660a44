package capture_test

import (
	"errors"
	"fmt"
	"io"
	"log"

	"github.com/nfkit/nfkit/capture"
	"github.com/nfkit/nfkit/decode"
)

// Decode the flows of a capture of IPFIX exports: the capture package
// finds the export packets, the decode package reads them.
func Example() {
	f, err := capture.Open("../testdata/softflowd-ipfix.pcap") // or a .pcapng
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	var d decode.Decoder
	var p decode.Packet
	flows := 0
	for {
		dg, err := f.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, capture.ErrTruncated) {
			log.Print(err) // a capture cut short: every packet before the cut was read
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		// dg.Payload is valid until the next f.Next(); the decoder copies
		// what it keeps.
		if err := d.Decode(dg.Src.Addr(), dg.Payload, &p); err != nil {
			log.Printf("packet %d from %v: %v", dg.Packet, dg.Src, err)
		}
		for i := range p.Records {
			if flows++; flows == 1 {
				r := &p.Records[i]
				fmt.Printf("first flow: %v -> %v:%d, exported %v by %v\n", r.SrcAddr, r.DstAddr, r.DstPort,
					dg.Time.UTC().Format("2006-01-02 15:04:05"), dg.Src.Addr())
			}
		}
	}
	st := f.Stats()
	fmt.Printf("%d packets, %d export datagrams, %d flows; %d of %d bytes read\n",
		st.Packets, st.Datagrams, flows, f.Offset(), f.Size())
	// Output:
	// first flow: 192.0.2.20 -> 198.51.100.22:22, exported 2026-11-27 12:45:45 by 127.0.0.1
	// 3 packets, 3 export datagrams, 71 flows; 4074 of 4074 bytes read
}
