package store

import (
	"os"
	"syscall"
)

// startWriteback asks the kernel to start writing f's range [off,
// off+n) to disk and returns at once (sync_file_range with
// SYNC_FILE_RANGE_WRITE). It promises nothing about durability: the
// fsync before the manifest commit still does. An error (a file system
// without support) only loses the head start.
func startWriteback(f *os.File, off, n int64) {
	const syncFileRangeWrite = 2 // SYNC_FILE_RANGE_WRITE
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) { //nolint:errcheck // see above
		syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n), syncFileRangeWrite, 0, 0) //nolint:errcheck // see above
	})
}
