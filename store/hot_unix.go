//go:build unix

package store

import "syscall"

func anonMap(size int) ([]byte, error) {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, err
	}
	adviseHuge(b)
	return b, nil
}

func anonUnmap(b []byte) { _ = syscall.Munmap(b) }

// dropMapped releases the process's pages of a mapped file range that
// was copied (the page cache keeps the data; only whole pages inside b).
func dropMapped(b []byte) {
	const page = 4096
	if len(b) < 2*page {
		return
	}
	start := (page - int(uintptrOf(b))%page) % page
	end := start + (len(b)-start)/page*page
	if end > start {
		_ = syscall.Madvise(b[start:end], syscall.MADV_DONTNEED)
	}
}
