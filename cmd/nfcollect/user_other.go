//go:build !linux

package main

import "errors"

// dropPrivileges is implemented on Linux only; elsewhere run nfcollect
// as an unprivileged user from the start.
func dropPrivileges(name string) error {
	return errors.New("not supported on this system; start nfcollect as the user instead")
}
