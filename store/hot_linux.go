package store

import "syscall"

// adviseHuge asks for transparent huge pages (THP in madvise mode).
func adviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }

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
