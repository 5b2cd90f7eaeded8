//go:build unix

package gate

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f read-only and faults them in at once
// (MAP_POPULATE where the system has it). ok is false when the file
// cannot be mapped; the caller then reads it.
func mapFile(f *os.File, size int64) (data []byte, ok bool) {
	if int64(int(size)) != size {
		return nil, false
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_PRIVATE|mapPopulate)
	if err != nil {
		return nil, false
	}
	return data, true
}
