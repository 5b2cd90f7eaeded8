//go:build linux

// Package testdisk gives tests a real filesystem that fills up: a small
// tmpfs mounted on a temporary directory, where writes fail with ENOSPC as
// they do on a full disk (no stubbed writer). Mounting needs
// CAP_SYS_ADMIN; CI runs as root on its machine.
package testdisk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Small mounts a tmpfs of size bytes on a new temporary directory and
// unmounts it when the test ends. Without the privilege to mount, the
// test is skipped with the reason.
func Small(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		t.Skipf("a full-disk test mounts a small tmpfs and could not (%v): run it as root, as CI does", err)
	}
	// Registered after TempDir's cleanup, so it runs before the
	// directory is removed.
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes a file into dir that leaves about free bytes of its
// filesystem, and returns the file's path (remove it to make room).
func Fill(t *testing.T, dir string, free int64) string {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	avail := int64(st.Bavail) * int64(st.Bsize)
	name := filepath.Join(dir, "testdisk-filler")
	if err := os.WriteFile(name, make([]byte, max(0, avail-free)), 0o600); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	return name
}
