// Package other has no hot functions: it may import the collector, and
// its structs are not checked.
package other

import _ "m/collector"

const X = "x"

type loose struct {
	a bool
	b int64
	c bool
}
