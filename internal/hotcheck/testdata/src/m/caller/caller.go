// Package caller calls the marked and unmarked functions of another
// package of the module: the marks travel as facts.
package caller

import "m/hot"

//nfkit:hot
func Caller() int { // want Caller:"hot"
	return hot.Exported() + hot.Cold() + hot.Unmarked() // want `calls hot.Unmarked, which is marked neither`
}
