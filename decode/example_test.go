package decode_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
)

func Example() {
	// A template and one data record, built by hand for the example.
	pkt, _ := hex.DecodeString("0009000200000003" + "5c9f5598" + "00000001" + "00000000" +
		// template flowset: template 1024: IPV4_SRC_ADDR, IPV4_DST_ADDR, IN_BYTES, L4_DST_PORT
		"0000001804000004" + "00080004000c000400010004000b0002" +
		// data flowset 1024: one record, 2 bytes of padding
		"04000014" + "c0000201" + "c6336407" + "000005dc" + "01bb" + "0000")
	exporter := netip.MustParseAddr("192.0.2.254")

	var d decode.Decoder // keeps templates per exporter; one per goroutine
	var p decode.Packet  // reused from packet to packet
	if err := d.Decode(exporter, pkt, &p); err != nil {
		var missing *decode.MissingTemplateError
		if errors.As(err, &missing) {
			// Buffer pkt and call d.Retry(exporter, pkt, missing.Sets, &p)
			// once the template has arrived.
		}
		fmt.Println(err)
	}
	for i := range p.Records {
		r := &p.Records[i]
		fmt.Printf("%v -> %v:%d %d bytes\n", r.SrcAddr, r.DstAddr, r.DstPort, r.Bytes)
		for f := range r.Fields() {
			fmt.Printf("  %s = %s\n", f.Element.Name, flowjson.AppendValue(nil, f))
		}
	}
	// Output:
	// 192.0.2.1 -> 198.51.100.7:443 1500 bytes
	//   IPV4_SRC_ADDR = "192.0.2.1"
	//   IPV4_DST_ADDR = "198.51.100.7"
	//   IN_BYTES = 1500
	//   L4_DST_PORT = 443
}

func ExampleDecoder_Retry() {
	data, _ := hex.DecodeString("0009000100000003" + "5c9f5598" + "00000002" + "00000000" +
		"0400000c" + "c0000201" + "c6336407")
	tmpl, _ := hex.DecodeString("0009000100000003" + "5c9f5598" + "00000001" + "00000000" +
		"0000001004000002" + "00080004000c0004")
	exporter := netip.MustParseAddr("192.0.2.254")
	var d decode.Decoder
	var p decode.Packet

	err := d.Decode(exporter, data, &p) // data before its template
	var missing *decode.MissingTemplateError
	if errors.As(err, &missing) {
		fmt.Println(err)
	}
	_ = d.Decode(exporter, tmpl, &p)
	if err := d.Retry(exporter, data, missing.Sets, &p); err == nil {
		fmt.Println(p.Records[0].SrcAddr, "->", p.Records[0].DstAddr)
	}
	// Output:
	// decode NetFlow v9 from 192.0.2.254: unknown template 1024 in domain 0
	// 192.0.2.1 -> 198.51.100.7
}
