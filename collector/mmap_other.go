//go:build !unix

package collector

import (
	"io"
	"os"
)

// mapFile reads the file back where mmap is not available.
func mapFile(f *os.File, size int64) ([]byte, error) {
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

func unmapFile([]byte) error { return nil }
