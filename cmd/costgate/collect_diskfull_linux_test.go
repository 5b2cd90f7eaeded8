package main

import (
	"os"
	"strings"
	"testing"

	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/internal/testdisk"
)

// TestCollectFullDisk: a collect into a store whose disk is full fails
// (exit 2) with the file, "no space left on device" and the fix, leaves
// every partition as it was and no file behind, and loads once there is
// room. Rows are spilled next to the store (COSTGATE_SPILL_MIB=0) as a
// large export's would be, so the spill file meets the full disk too.
func TestCollectFullDisk(t *testing.T) {
	dir := t.TempDir()
	storeDir := testdisk.Small(t, 4<<20)
	sample, err := os.ReadFile(billing("focus", "focus_1.0_sample_1000_rows.csv"))
	if err != nil {
		t.Fatal(err)
	}
	data := writeFile(t, dir, "focus.csv", string(sample))
	cfg := writeFile(t, dir, "costgate.yaml", "store: "+storeDir+"\nsources:\n  - {name: focus-sample, type: focus, path: "+data+"}\n")
	t.Setenv(collector.SpillEnv, "0")
	costs := func() string {
		t.Helper()
		code, stdout, stderr := runCLI(t, "", "cost", "--config", cfg, "--by", "month", "--measure", "BilledCost", "--format", "csv")
		if code != 0 {
			t.Fatalf("cost: exit %d: %s", code, stderr)
		}
		return stdout
	}
	if code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg, "--log-level", "error"); code != 0 {
		t.Fatalf("first collect: exit %d\n%s\n%s", code, stdout, stderr)
	}
	before, info := costs(), storeInfo(t, cfg)
	// A new version of the export (one cost changed): its partitions are
	// all replaced, the file's content hash being new.
	changed := strings.Replace(string(sample), "NULL,0.00000080000,", "NULL,7.00000080000,", 1)
	if changed == string(sample) {
		t.Fatal("the sample's first row changed shape: update the edit")
	}
	writeFile(t, dir, "focus.csv", changed)
	// The export's rows meet the full disk when they are spilled (a
	// budget of 0) or, held in memory, when their segments are written.
	for _, round := range []struct {
		spill string
		free  int64
		fails string
	}{{"0", 0, "spill decoded rows"}, {"1024", 0, "write segment"}, {"1024", 16 << 10, "write segment"}, {"1024", 120 << 10, "write segment"}} {
		t.Setenv(collector.SpillEnv, round.spill)
		free := round.free
		filler := testdisk.Fill(t, storeDir, free)
		code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg, "--log-level", "error")
		os.Remove(filler)
		if code != 2 {
			t.Fatalf("free %d: exit %d, want 2\n%s\n%s", free, code, stdout, stderr)
		}
		for _, want := range []string{round.fails, "no space left on device", storeDir, "free space", "partitions left as they were"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("free %d: stderr lacks %q:\n%s", free, want, stderr)
			}
		}
		// Not one partition changed: the run's partitions are published
		// together or not at all (with 120 KiB free the three small
		// segments fit and the large one does not).
		if got := storeInfo(t, cfg); got != info {
			t.Fatalf("free %d: the store changed after the failed collect:\n%s\nwant\n%s", free, got, info)
		}
		ents, _ := os.ReadDir(storeDir)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), "costgate-spill-") || strings.HasSuffix(e.Name(), ".tmp") {
				t.Errorf("free %d: %s left in the store", free, e.Name())
			}
		}
	}
	if code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg, "--log-level", "error"); code != 0 || !strings.Contains(stdout, "4 partitions loaded, 0 unchanged") {
		t.Fatalf("collect with room: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if costs() == before {
		t.Fatal("the changed export did not change the store")
	}
}

// storeInfo is `costgate store info`: generation, partitions, their
// files and exports.
func storeInfo(t *testing.T, cfg string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, "", "store", "info", "--config", cfg)
	if code != 0 {
		t.Fatalf("store info: exit %d: %s", code, stderr)
	}
	return stdout
}
