package collector

import (
	"os"
	"strings"
	"testing"
)

func TestSpillBudget(t *testing.T) {
	t.Setenv(SpillEnv, "3")
	b, warn := newBudget()
	if warn != "" || b.limit != 3<<20 {
		t.Fatalf("3 MiB: limit %d, warning %q", b.limit, warn)
	}
	if !b.take(2<<20) || b.take(2<<20) || !b.take(1<<20) || b.take(1) {
		t.Errorf("takes against 3 MiB: held %d", b.held.Load())
	}
	for _, bad := range []string{"lots", "-1", "1.5"} {
		t.Setenv(SpillEnv, bad)
		b, warn := newBudget()
		if b.limit != defaultSpillBytes() || !strings.Contains(warn, SpillEnv) || !strings.Contains(warn, bad) {
			t.Errorf("%q: limit %d, warning %q", bad, b.limit, warn)
		}
	}
	os.Unsetenv(SpillEnv)
	if d := defaultSpillBytes(); d <= 0 || d > 256<<20 {
		t.Errorf("default budget %d, want (0, 256 MiB]", d)
	}
}

func TestSpillFile(t *testing.T) {
	dir := t.TempDir()
	sp, err := newSpill(dir)
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the spill file is visible: %v", left)
	}
	a, b := []byte("12345678"), []byte("abcdefghABCDEFGH")
	offA, err := sp.Write(a)
	if err != nil {
		t.Fatal(err)
	}
	offB, err := sp.Write(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.Write([]byte("odd")); err == nil {
		t.Error("a write that breaks 8-byte alignment was taken")
	}
	if err := sp.seal(); err != nil {
		t.Fatal(err)
	}
	if got := string(sp.Bytes(offA, 8)) + string(sp.Bytes(offB, 16)); got != string(a)+string(b) {
		t.Errorf("read back %q", got)
	}
	if err := sp.close(); err != nil {
		t.Fatal(err)
	}
	if _, err := newSpill(dir + "/missing"); err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), SpillEnv) {
		t.Errorf("unwritable directory: %v", err)
	}
}
