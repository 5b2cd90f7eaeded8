package main

import (
	"runtime"
	"syscall"
	"unsafe"
)

// madviseHugeHeap maps n bytes of heap, marks the whole 2 MiB pages of it
// MADV_HUGEPAGE and gives it back to the allocator. It returns the range
// marked (empty if none).
func madviseHugeHeap(n int) (beg, end uintptr) {
	const huge = 2 << 20
	b := make([]byte, n)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	beg = (start + huge - 1) &^ (huge - 1)
	end = (start + uintptr(n)) &^ (huge - 1)
	if beg >= end {
		return 0, 0
	}
	// An error (no THP support) leaves ordinary pages: nothing lost.
	if syscall.Madvise(b[beg-start:end-start], syscall.MADV_HUGEPAGE) != nil {
		beg, end = 0, 0
	}
	// b is dead from here: the collection frees it, sweeping included.
	runtime.GC()
	return beg, end
}
