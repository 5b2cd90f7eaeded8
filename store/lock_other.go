//go:build !unix

package store

import (
	"fmt"
	"os"
)

// lockDir creates dir/LOCK; without flock the lock is advisory only.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	return f, nil
}
