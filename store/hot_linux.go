package store

import "syscall"

// adviseHuge asks for transparent huge pages (THP in madvise mode).
func adviseHuge(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
