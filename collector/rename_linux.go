package collector

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// renameat2NoReplace renames without replacing an existing newpath
// (RENAME_NOREPLACE). Filesystems without it report
// errors.ErrUnsupported.
func renameat2NoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ENOSYS):
		return errors.ErrUnsupported
	}
	return fmt.Errorf("rename %s %s: %w", oldpath, newpath, err)
}
