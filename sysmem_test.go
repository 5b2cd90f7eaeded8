package costgate

import (
	"os"
	"testing"
)

func TestMemTotal(t *testing.T) {
	m := MemTotal()
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		if m != 0 {
			t.Errorf("MemTotal %d without /proc/meminfo", m)
		}
		return
	}
	if m < 64<<20 {
		t.Errorf("MemTotal read as %d bytes", m)
	}
	if got := ShareOfMemory(1<<62, 4); got != m/4 {
		t.Errorf("ShareOfMemory(huge, 4) = %d, want %d", got, m/4)
	}
	if got := ShareOfMemory(1<<20, 4); got != 1<<20 {
		t.Errorf("ShareOfMemory(1 MiB, 4) = %d", got)
	}
}
