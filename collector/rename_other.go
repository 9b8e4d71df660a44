//go:build !linux

package collector

import "errors"

// renameat2NoReplace is Linux only; elsewhere renameNoReplace links and
// removes.
func renameat2NoReplace(oldpath, newpath string) error { return errors.ErrUnsupported }
