package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/billgen"
)

// TestStoreInfo: store info lists the partitions with their run index,
// as a table and as JSON; --verify passes on a sound store and reports
// damage (exit 2) once a segment's byte is flipped.
func TestStoreInfo(t *testing.T) {
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	csv := filepath.Join(dir, "billing.csv")
	f, err := os.Create(csv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := billgen.WriteCSV(f, billgen.Options{Seed: 3, Months: 1, Rows: 60000, Start: costgate.Month{Year: 2026, Month: 10}}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cfg := writeFile(t, dir, "costgate.yaml", `store: `+storeDir+`
sources:
  - {name: gen, type: focus, path: `+csv+`}
  - {name: state, type: tfstate, path: `+tfstatePath()+`}
`)
	if code, stdout, stderr := runCLI(t, "", "collect", "--config", cfg, "--log-level", "error"); code != 0 {
		t.Fatalf("collect: exit %d\n%s\n%s", code, stdout, stderr)
	}

	code, stdout, stderr := runCLI(t, "", "store", "info", "--store", storeDir, "--verify")
	if code != 0 {
		t.Fatalf("store info: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"generation", "TABLE", "RUNS", "verify: every block matches its checksum, every run index its rows"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("store info lacks %q:\n%s", want, stdout)
		}
	}
	// A line-item partition with a run index shows its runs; the
	// inventory partition has none.
	if !regexp.MustCompile(`(?m)^lineitems\s+gen\s+\S+\s+2026-10\s+\d+\s+[1-9]\d*\s`).MatchString(stdout) {
		t.Errorf("no line-item partition with runs:\n%s", stdout)
	}
	if !regexp.MustCompile(`(?m)^inventory\s+state\s.*\s\d+\s+-\s`).MatchString(stdout) {
		t.Errorf("the inventory partition does not show - for runs:\n%s", stdout)
	}

	code, stdout, _ = runCLI(t, "", "store", "info", "--store", storeDir, "--format", "json")
	if code != 0 {
		t.Fatalf("store info --format json: exit %d\n%s", code, stdout)
	}
	var info struct {
		Partitions []struct {
			Table string `json:"table"`
			Rows  uint64 `json:"rows"`
			Runs  uint32 `json:"runs"`
			File  string `json:"file"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal([]byte(stdout), &info); err != nil {
		t.Fatalf("json: %v\n%s", err, stdout)
	}
	var segment string
	for _, p := range info.Partitions {
		if p.Table == "lineitems" && p.Runs > 0 {
			if uint64(p.Runs)*8 > p.Rows {
				t.Errorf("%s: %d runs in %d rows; an index needs at most a run per 8 rows", p.File, p.Runs, p.Rows)
			}
			segment = p.File
		}
	}
	if segment == "" {
		t.Fatalf("no line-item partition with a run index in the JSON:\n%s", stdout)
	}

	// Damage: flip a byte in the middle of that segment.
	path := filepath.Join(storeDir, segment)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "", "store", "info", "--store", storeDir, "--verify")
	if code != exitUsage || !strings.Contains(stdout, "DAMAGE FOUND") || !strings.Contains(stdout, segment) ||
		!strings.Contains(stderr, "re-ingesting") {
		t.Fatalf("store info --verify of a damaged store: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
}
