package collector

import "github.com/nfkit/nfkit/decode"

// sFlow v5 needs nothing of its own in the collector: decode.Decoder
// takes a datagram whose first 4 bytes are 0x00000005 for sFlow on any
// port (ListenUDPPort adds sFlow's), the JSONLines encoder writes its flow
// and counter samples (flowjson.AppendSFlow), the python-netflow format
// skips it, and its datagram sequence numbers are tracked per agent
// address and sub-agent like NetFlow v9's.

// versionSlot is the index of a version in the per-version flow counters:
// NetFlow and IPFIX by their number, sFlow v5 after them.
//
//nfkit:hot
func versionSlot(v uint16) int {
	if v == decode.VersionSFlow5 {
		return 11
	}
	return min(int(v), 10)
}
