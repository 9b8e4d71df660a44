// Package flowjson is a hot-path package.
package flowjson

import (
	"m/collector" // want `package m/flowjson has //nfkit:hot functions and must not import m/collector`
	"m/other"
)

// Append is hot.
//
//nfkit:hot
func Append(b []byte) []byte { collector.Handle(nil); return append(b, other.X...) }
