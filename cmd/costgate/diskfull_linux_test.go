package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/costgate/costgate/internal/testdisk"
)

// TestOutputsOnFullDisk: check --out and report --out on a full disk
// (a real tmpfs) exit 2 naming the file and the fix, and leave neither a
// partial file nor a temporary one; with room they write.
func TestOutputsOnFullDisk(t *testing.T) {
	dir := t.TempDir()
	disk := testdisk.Small(t, 1<<20)
	plan, _ := filepath.Abs(filepath.Join("..", "..", "testdata", "plans", "aws_39_resource_types_tags.json"))
	cfg := writeFile(t, dir, "costgate.yaml", "report:\n  budgets: {search: '6000'}\n")
	st := reportStore(t)
	commands := map[string]struct {
		args []string
		out  string
	}{
		"check":  {[]string{"check", plan, "--no-cost", "--format", "json", "--out", filepath.Join(disk, "decision.json")}, "decision.json"},
		"report": {[]string{"report", "--config", cfg, "--store", st, "--month", "2026-10", "--now", "2026-11-02T08:00:00Z", "--out", filepath.Join(disk, "report")}, "report"},
	}
	for name, c := range commands {
		t.Run(name, func(t *testing.T) {
			filler := testdisk.Fill(t, disk, 0)
			code, _, stderr := runCLI(t, "", c.args...)
			if code != 2 {
				t.Fatalf("exit %d on a full disk, want 2\n%s", code, stderr)
			}
			for _, want := range []string{"no space left on device", filepath.Join(disk, c.out), "free space"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			// No temporary file anywhere, and no partial output file: a
			// report's files are each written whole or not at all.
			filepath.WalkDir(disk, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && path != filler {
					if strings.HasPrefix(d.Name(), ".") || name == "check" {
						t.Errorf("%s left on the disk", path)
					}
				}
				return nil
			})
			os.Remove(filler)
			if code, _, stderr := runCLI(t, "", c.args...); code > 1 {
				t.Fatalf("with room: exit %d\n%s", code, stderr)
			}
			if _, err := os.Stat(filepath.Join(disk, c.out)); err != nil {
				t.Fatal(err)
			}
			os.RemoveAll(filepath.Join(disk, c.out))
		})
	}
}
