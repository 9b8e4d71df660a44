package analyzer

import (
	"bytes"
	"errors"
)

// sFlow records that are not IP flows: counter samples (type
// SFLOW_5_COUNTERS) and flow samples of frames without an IP header (ARP,
// LLDP, …). They carry no addresses and are not connections: they are
// passed over, not reported as bad lines. nfcollect writes "type" first.
var sflowPrefix = []byte(`{"type":"SFLOW_5`)

// isNotIP reports whether err, from scanning line, is an sFlow record
// without addresses.
func isNotIP(err error, line []byte) bool {
	var m *missingError
	return errors.As(err, &m) && bytes.HasPrefix(line, sflowPrefix)
}
