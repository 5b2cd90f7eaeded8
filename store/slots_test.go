package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// setHook installs fn as testHook for the test (hooks run on the
// replacing goroutines).
func setHook(t *testing.T, fn func(point string)) {
	t.Helper()
	testHook = fn
	t.Cleanup(func() { testHook = nil })
}

// TestBuildSlotsBoundBuilds: with Builds 1, four partitions replaced at
// once never build two at a time, and all of them land.
func TestBuildSlotsBoundBuilds(t *testing.T) {
	s, err := Open(t.TempDir(), Options{NoSync: true, Logger: quiet, Builds: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := mostBuilding(t, s, smallConfig(3), "build-done"); got != 1 {
		t.Fatalf("at most %d builds ran at once, want 1", got)
	}
}

// mostBuilding replaces every partition of cfg at once and returns the
// most builds that ran at the same time: from "build-start" to end (a
// hook point).
func mostBuilding(t *testing.T, s *Store, cfg genConfig, end string) int32 {
	t.Helper()
	var building, most atomic.Int32
	setHook(t, func(p string) {
		switch p {
		case "build-start":
			n := building.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(5 * time.Millisecond) // widen the window an overlap would show in
		case end:
			building.Add(-1)
		}
	})
	replaceAll(t, s, cfg)
	return most.Load()
}

// replaceAll replaces every partition of cfg (4 with smallConfig), all at
// once, and checks that they all landed.
func replaceAll(t *testing.T, s *Store, cfg genConfig) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	parts := cfg.partitions()
	errs := make(chan error, len(parts))
	for _, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Replace(ctx, p, cfg.generate(p, 0), "e", "h-"+p.String()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := len(s.Partitions()); got != len(parts) {
		t.Fatalf("%d partitions, want %d", got, len(parts))
	}
}

// partitionRows is the fewest rows cfg generates for a partition.
func partitionRows(cfg genConfig) int {
	n := -1
	for _, p := range cfg.partitions() {
		if k := len(cfg.generate(p, 0)); n < 0 || k < n {
			n = k
		}
	}
	return n
}

// TestBuildRowsBoundBuilds: with two slots but a row budget that one
// partition fits and two do not, partitions build one at a time, and
// each keeps its slot through its write (it did not take the whole
// budget).
func TestBuildRowsBoundBuilds(t *testing.T) {
	cfg := smallConfig(3)
	rows := partitionRows(cfg)
	s, err := Open(t.TempDir(), Options{NoSync: true, Logger: quiet, Builds: 2, BuildRows: rows + rows/2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// "build-done" comes after the write, just before the slot is given up.
	if got := mostBuilding(t, s, cfg, "build-done"); got != 1 {
		t.Fatalf("at most %d builds (or writes) ran at once, want 1", got)
	}
}

// TestBigBuildRunsAlone: a partition with as many rows as the budget
// builds with no other build beside it, even with slots free.
func TestBigBuildRunsAlone(t *testing.T) {
	cfg := smallConfig(6)
	s, err := Open(t.TempDir(), Options{NoSync: true, Logger: quiet, Builds: 4, BuildRows: partitionRows(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// At "write-start" a build that ran alone has given its slot up.
	if got := mostBuilding(t, s, cfg, "write-start"); got != 1 {
		t.Fatalf("at most %d builds ran at once, want 1", got)
	}
}

// TestBigBuildFreesSlotBeforeWrite: a build that took the whole row
// budget gives its slot up before writing its segment, so the next
// partition builds during the write; one that did not keeps its slot
// until the segment is written.
func TestBigBuildFreesSlotBeforeWrite(t *testing.T) {
	for _, big := range []bool{true, false} {
		t.Run(map[bool]string{true: "alone", false: "shared"}[big], func(t *testing.T) {
			ctx := context.Background()
			cfg := smallConfig(7)
			rows := partitionRows(cfg)
			budget := 4 * rows
			if big {
				budget = rows
			}
			s, err := Open(t.TempDir(), Options{NoSync: true, Logger: quiet, Builds: 1, BuildRows: budget})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			parts := cfg.partitions()
			unblock := make(chan struct{})
			var unblockOnce sync.Once
			release := func() { unblockOnce.Do(func() { close(unblock) }) }
			defer release()
			secondBuilds := make(chan struct{})
			var starts, writes atomic.Int32
			setHook(t, func(p string) {
				switch p {
				case "build-start":
					if starts.Add(1) == 2 {
						close(secondBuilds)
					}
				case "write-start":
					if writes.Add(1) == 1 {
						<-unblock // the first replace holds here, before its write
					}
				}
			})
			first := make(chan error, 1)
			go func() {
				_, err := s.Replace(ctx, parts[0], cfg.generate(parts[0], 0), "e", "h0")
				first <- err
			}()
			for writes.Load() == 0 {
				time.Sleep(time.Millisecond)
			}
			second := make(chan error, 1)
			go func() {
				_, err := s.Replace(ctx, parts[1], cfg.generate(parts[1], 0), "e", "h1")
				second <- err
			}()
			if big {
				select {
				case <-secondBuilds:
				case <-time.After(30 * time.Second):
					t.Fatal("the second build did not start while the first, alone, wrote its segment")
				}
			} else {
				select {
				case <-secondBuilds:
					t.Fatal("the second build started while the first still held the only slot")
				case <-time.After(200 * time.Millisecond):
				}
			}
			release()
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			if err := <-second; err != nil {
				t.Fatal(err)
			}
			if got := starts.Load(); got != 2 {
				t.Fatalf("%d builds, want 2", got)
			}
		})
	}
}

// TestSmallBuildsShareSlots: partitions well inside the row budget build
// side by side when there are slots for them.
func TestSmallBuildsShareSlots(t *testing.T) {
	cfg := smallConfig(8)
	s, err := Open(t.TempDir(), Options{NoSync: true, Logger: quiet, Builds: 2, BuildRows: 10 * partitionRows(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	both := make(chan struct{})
	var starts atomic.Int32
	var waited atomic.Bool
	setHook(t, func(p string) {
		if p != "build-start" {
			return
		}
		switch starts.Add(1) {
		case 1:
			// The first build waits here for a second one to start.
			select {
			case <-both:
				waited.Store(true)
			case <-time.After(30 * time.Second):
			}
		case 2:
			close(both)
		}
	})
	replaceAll(t, s, cfg)
	if !waited.Load() {
		t.Fatal("no second build started while the first was building")
	}
}

// TestBuildSlotFreedBeforeSync: a replace gives its slot up once its
// segment is written, so another partition builds while the first
// waits for the disk.
func TestBuildSlotFreedBeforeSync(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{NoSync: true, Logger: quiet, Builds: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := smallConfig(4)
	parts := cfg.partitions()
	unblock := make(chan struct{})
	var unblockOnce sync.Once
	release := func() { unblockOnce.Do(func() { close(unblock) }) }
	defer release() // a failed wait below must not leave the first replace blocked
	second := make(chan struct{})
	var n atomic.Int32
	setHook(t, func(p string) {
		if p != "segment-unsynced" {
			return
		}
		switch n.Add(1) {
		case 1:
			<-unblock // the first replace holds here, before its fsync
		case 2:
			close(second)
		}
	})
	first := make(chan error, 1)
	go func() {
		_, err := s.Replace(ctx, parts[0], cfg.generate(parts[0], 0), "e", "h0")
		first <- err
	}()
	for n.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	secondDone := make(chan error, 1)
	go func() {
		_, err := s.Replace(ctx, parts[1], cfg.generate(parts[1], 0), "e", "h1")
		secondDone <- err
	}()
	select {
	case <-second:
	case <-time.After(30 * time.Second):
		t.Fatal("the second build did not run while the first segment waited to be synced")
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-secondDone; err != nil {
		t.Fatal(err)
	}
}

// TestBuildSlotWaitCancelled: a replace waiting for a slot returns the
// context's error and changes nothing.
func TestBuildSlotWaitCancelled(t *testing.T) {
	s, err := Open(t.TempDir(), Options{NoSync: true, Logger: quiet, Builds: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release, _, err := s.buildSlot(context.Background(), 1) // the only slot
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	cfg := smallConfig(5)
	p := cfg.partitions()[0]
	changed, err := s.Replace(ctx, p, cfg.generate(p, 0), "e", "h")
	if !errors.Is(err, context.DeadlineExceeded) || changed {
		t.Fatalf("changed=%v err=%v, want the deadline's error", changed, err)
	}
	if got := len(s.Partitions()); got != 0 {
		t.Fatalf("%d partitions after a cancelled replace, want 0", got)
	}
}

// TestWriteback: data written through writeback (which hands each
// writebackChunk to the kernel's writeback as it goes) reaches the file
// whole and in order, and every full chunk was handed over.
func TestWriteback(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "wb"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := &writeback{f: f}
	want := make([]byte, 3*writebackChunk+12345)
	for i := range want {
		want[i] = byte(i * 7 >> 3)
	}
	for rest, n := want, 1; len(rest) > 0; n = n*3 + 1 { // odd, growing sizes
		k := min(n, len(rest))
		if got, err := w.Write(rest[:k]); err != nil || got != k {
			t.Fatalf("write %d: %d, %v", k, got, err)
		}
		rest = rest[k:]
	}
	if w.started < 3*writebackChunk || w.started > w.off {
		t.Fatalf("writeback started for %d of %d bytes, want at least %d", w.started, w.off, 3*writebackChunk)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("file holds %d bytes, not the %d written", len(got), len(want))
	}
}
