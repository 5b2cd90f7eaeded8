package main

import (
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestTunedGCPercent(t *testing.T) {
	cases := []struct {
		live, headroom int64
		base, want     int
	}{
		{20 << 20, 256 << 20, 400, 1280},           // serve under load: goal live+256 MiB
		{256 << 20, 256 << 20, 400, 400},           // base allows more
		{1 << 30, 256 << 20, 400, 400},             // a big plan in flight: base rules
		{64 << 20, 256 << 20, 400, 400},            // exactly base
		{63 << 20, 256 << 20, 400, 406},            // just above
		{0, 256 << 20, 100, 25600},                 // under 1 MiB counts as 1 MiB
		{1, 1 << 40, 100, maxTunedGCPercent},       // capped
		{10 << 20, 0, 250, 250},                    // no headroom
		{3 << 20, 256 << 20, 100_000 + 1, 100_001}, // base above the cap
	}
	for _, c := range cases {
		if got := tunedGCPercent(c.live, c.headroom, c.base); got != c.want {
			t.Errorf("tunedGCPercent(%d, %d, %d) = %d, want %d", c.live, c.headroom, c.base, got, c.want)
		}
	}
}

// TestGCTuner runs the tuner in this process: after collections the GC
// percent and the heap goal the runtime reports follow the live heap
// (goal >= live + headroom, where GOGC 100 alone would put it at twice
// this test's few MiB), and after stop it no longer runs.
func TestGCTuner(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	const headroom = 64 << 20
	tu := startGCTuner(100, headroom, slog.New(slog.DiscardHandler))
	defer tu.stop()
	collectUntil(t, func() bool { return tu.tuned.Load() >= 2 })
	percent, live := tu.state()
	if live <= 0 {
		t.Fatalf("live heap %d", live)
	}
	if want := tunedGCPercent(live, headroom, 100); percent != want {
		t.Errorf("percent %d for live %d, want %d", percent, live, want)
	}
	if live < headroom && percent <= 100 {
		t.Errorf("live %d MiB under the headroom but percent %d", live>>20, percent)
	}
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	if got := int(s[0].Value.Uint64()); got != percent {
		t.Errorf("runtime's GOGC %d, tuner's %d", got, percent)
	}
	if goal := int64(s[1].Value.Uint64()); goal < headroom {
		t.Errorf("heap goal %d MiB, want at least the %d MiB headroom (live %d MiB)", goal>>20, headroom>>20, live>>20)
	}

	// A second tuner stops the first: GOGC is one per process.
	second := startGCTuner(100, headroom, slog.New(slog.DiscardHandler))
	if !tu.stopped.Load() {
		t.Error("starting a second tuner left the first running")
	}
	second.stop()
	tu.stop()
	// A collection may have queued the cleanup before stop: let it run.
	collectUntil(t, nil)
	n := tu.tuned.Load()
	collectUntil(t, nil)
	collectUntil(t, nil)
	if got := tu.tuned.Load(); got != n {
		t.Errorf("tuner ran %d more times after stop", got-n)
	}
}

// collectUntil runs collections until done reports true (nil: until the
// cleanups queued by one collection have run, seen by a marker object's
// own cleanup), failing after 10 s.
func collectUntil(t *testing.T, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	if done == nil {
		ran := make(chan struct{})
		runtime.AddCleanup(new(gcSentinel), func(ch chan struct{}) { close(ch) }, ran)
		done = func() bool {
			select {
			case <-ran:
				return true
			default:
				return false
			}
		}
	}
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal("collections did not run the cleanups in 10 s")
		}
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
}
