package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// unsetenv removes key for the rest of the test and restores it after.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	t.Setenv(key, "") // registers the restore
	os.Unsetenv(key)
}

// TestTuneGC: collect lowers the collector's target unless GOGC is set;
// other commands keep theirs.
func TestTuneGC(t *testing.T) {
	t.Setenv("GOGC", "")
	if prev, set := tuneGC("collect"); set {
		debug.SetGCPercent(prev)
		t.Fatal("collect changed the target although GOGC is set")
	}
	// t.Setenv cannot unset; clear it by hand and restore after.
	unsetenv(t, "GOGC")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	if _, set := tuneGC("check"); set {
		t.Fatal("check changed the target")
	}
	if prev, set := tuneGC("collect"); !set || prev != 100 {
		t.Fatalf("collect: set %v, previous target %d, want 100", set, prev)
	}
	if now := debug.SetGCPercent(100); now != collectGCPercent {
		t.Fatalf("collect set %d, want %d", now, collectGCPercent)
	}
}
