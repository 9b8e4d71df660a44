//go:build !unix

package spool

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockDir opens dir/lock; without flock, nothing keeps a second process
// away.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	return f, nil
}
