// Package decode imports only the standard library.
package decode

import (
	"encoding/binary"

	"m/fields" // want `package decode imports only the standard library, not m/fields \[layering\]`
)

// Read is hot.
//
//nfkit:hot
func Read(b []byte) uint16 { return binary.BigEndian.Uint16(b) + fields.N }
