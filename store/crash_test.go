package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

// The crash test runs a writer in a child process (this test binary, re-
// executed with -test.run=TestCrashChild) and kills it with SIGKILL at a
// random moment or at a named point of the commit. After each kill the
// store must reopen with every partition holding exactly one complete
// version of its rows, exact totals, and no file the manifest does not
// name.

const (
	crashEnv    = "COSTGATE_CRASH_DIR"
	crashTxnEnv = "COSTGATE_CRASH_TXN" // the child commits pairs of partitions in transactions
)

func crashConfig() genConfig {
	cfg := smallConfig(11)
	cfg.RowsPer = 2500
	return cfg
}

// TestCrashChild is the child: it replaces random partitions with random
// versions forever, syncing for real. It does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("crash test child only")
	}
	seed, _ := strconv.ParseUint(os.Getenv("COSTGATE_CRASH_SEED"), 10, 64)
	point := os.Getenv("COSTGATE_CRASH_POINT")
	rng := rand.New(rand.NewPCG(seed, 99))
	if point != "" {
		skip := rng.IntN(3)
		testHook = func(p string) {
			if p == point {
				if skip == 0 {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
				skip--
			}
		}
	}
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	cfg := crashConfig()
	parts := cfg.partitions()
	if os.Getenv(crashTxnEnv) != "" {
		// Pairs of partitions, each pair replaced in one transaction
		// with one version.
		for {
			k := 2 * rng.IntN(len(parts)/2)
			v := 1 + rng.IntN(4)
			tx := s.Begin()
			for _, p := range parts[k : k+2] {
				if _, err := tx.Replace(context.Background(), p, cfg.generate(p, v), strconv.Itoa(v), strconv.Itoa(v)); err != nil {
					fmt.Fprintln(os.Stderr, "child replace:", err)
					os.Exit(4)
				}
			}
			if _, err := tx.Commit(context.Background()); err != nil {
				fmt.Fprintln(os.Stderr, "child commit:", err)
				os.Exit(4)
			}
		}
	}
	for {
		p := parts[rng.IntN(len(parts))]
		v := 1 + rng.IntN(4)
		if _, err := s.Replace(context.Background(), p, cfg.generate(p, v), strconv.Itoa(v), strconv.Itoa(v)); err != nil {
			fmt.Fprintln(os.Stderr, "child replace:", err)
			os.Exit(4)
		}
	}
}

func TestCrashDuringReplace(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child")
	}
	iters := 40
	if testing.Short() {
		iters = 12
	}
	dir := t.TempDir()
	cfg := crashConfig()
	parts := cfg.partitions()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if _, err := s.Replace(context.Background(), p, cfg.generate(p, 0), "0", "0"); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// Expected rows and totals of every version.
	type key struct {
		p costgate.Partition
		v int
	}
	totals := map[key]costgate.Sum{}
	for _, p := range parts {
		for v := 0; v <= 4; v++ {
			var sum costgate.Sum
			for _, r := range cfg.generate(p, v) {
				sum.Add(r.BilledCost)
			}
			totals[key{p, v}] = sum
		}
	}
	points := []string{"", "", "segment-written", "manifest-temp-written", "manifest-renamed", "committed"}
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < iters; i++ {
		point := points[i%len(points)]
		killChild(t, i, point, time.Duration(20+rng.IntN(300))*time.Millisecond,
			crashEnv+"="+dir, fmt.Sprintf("COSTGATE_CRASH_SEED=%d", i))

		s, err := Open(dir, Options{Logger: quiet})
		if err != nil {
			t.Fatalf("iteration %d (%q): reopen: %v", i, point, err)
		}
		// No orphans: only the manifest, the lock and live segments.
		assertOnlyLive(t, s, dir)
		if len(s.Partitions()) != len(parts) {
			t.Fatalf("iteration %d: %d partitions, want %d", i, len(s.Partitions()), len(parts))
		}
		for _, pi := range s.Partitions() {
			v, err := strconv.Atoi(pi.ExportID)
			if err != nil || pi.Err != "" {
				t.Fatalf("iteration %d: partition %+v", i, pi)
			}
			// Sample the full row comparison; totals are checked always.
			if i%4 == 0 {
				got, err := s.LineItems(context.Background(), pi.Partition)
				if err != nil {
					t.Fatal(err)
				}
				if d := diffRows(got, cfg.generate(pi.Partition, v)); d != "" {
					t.Fatalf("iteration %d: %s is not version %d: %s", i, pi.Partition, v, d)
				}
			}
			r, err := s.Query(context.Background(), Query{
				Measures: []Measure{BilledCost},
				Filters:  []Filter{Eq("BillingAccountId", pi.Partition.BillingAccountID), Eq(colMonth, pi.Partition.BillingPeriod.String())},
			})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := r.Rows[0].Values[0], totals[key{pi.Partition, v}]; got != want {
				t.Fatalf("iteration %d: %s total %s, want %s (version %d)", i, pi.Partition, got, want, v)
			}
		}
		if err := s.Verify(context.Background()); err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		s.Close()
	}
	s, err = Open(dir, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if gen := s.Info().Generation; gen < uint64(len(parts)+iters/2) {
		t.Fatalf("generation %d after %d kills: the children hardly committed", gen, iters)
	}
}

// killChild runs TestCrashChild with env and kills it with SIGKILL: at
// its hook point when point is set (the child kills itself there),
// otherwise after wait. The child must die of the signal.
func killChild(t *testing.T, i int, point string, wait time.Duration, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), env...), "COSTGATE_CRASH_POINT="+point)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if point == "" {
		time.Sleep(wait)
		cmd.Process.Signal(syscall.SIGKILL)
	} else {
		select {
		case <-done:
			done <- nil
		case <-time.After(20 * time.Second):
			cmd.Process.Signal(syscall.SIGKILL)
			t.Fatalf("iteration %d: child did not reach %s", i, point)
		}
	}
	<-done
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("iteration %d: child was not killed (%v): %s", i, cmd.ProcessState, out.String())
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// TestCrashDuringTxn kills a child that replaces pairs of partitions in
// transactions (TestCrashChild with COSTGATE_CRASH_TXN), at random
// moments and at named points of the commit: after each kill both
// partitions of every pair hold the same version, with exact totals, and
// no staged segment is left behind.
func TestCrashDuringTxn(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("in the child")
	}
	iters := 18
	if testing.Short() {
		iters = 6
	}
	dir := t.TempDir()
	cfg := crashConfig()
	parts := cfg.partitions()
	if len(parts)%2 != 0 {
		t.Fatalf("%d partitions: the test pairs them", len(parts))
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if _, err := s.Replace(context.Background(), p, cfg.generate(p, 0), "0", "0"); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	points := []string{"", "segment-written", "manifest-temp-written", "manifest-renamed", "committed", ""}
	committed := 0
	for i := 0; i < iters; i++ {
		point := points[i%len(points)]
		killChild(t, i, point, time.Duration(50+(i*37)%300)*time.Millisecond,
			crashEnv+"="+dir, crashTxnEnv+"=1", fmt.Sprintf("COSTGATE_CRASH_SEED=%d", 100+i))
		s, err := Open(dir, Options{Logger: quiet})
		if err != nil {
			t.Fatalf("iteration %d (%q): reopen: %v", i, point, err)
		}
		assertOnlyLive(t, s, dir)
		version := map[costgate.Partition]int{}
		for _, pi := range s.Partitions() {
			v, err := strconv.Atoi(pi.ExportID)
			if err != nil || pi.Err != "" {
				t.Fatalf("iteration %d: partition %+v", i, pi)
			}
			version[pi.Partition] = v
			var want costgate.Sum
			for _, r := range cfg.generate(pi.Partition, v) {
				want.Add(r.BilledCost)
			}
			if got := partitionTotal(t, s, pi.Partition); got != want {
				t.Fatalf("iteration %d: %s total %s, want %s (version %d)", i, pi.Partition, got, want, v)
			}
		}
		for k := 0; k < len(parts); k += 2 {
			if a, b := version[parts[k]], version[parts[k+1]]; a != b {
				t.Fatalf("iteration %d (%q): a transaction was half applied: %s at version %d, %s at %d", i, point, parts[k], a, parts[k+1], b)
			}
		}
		if err := s.Verify(context.Background()); err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		if g := s.Info().Generation; g > uint64(len(parts)) {
			committed++
		}
		s.Close()
	}
	if committed == 0 {
		t.Fatal("no child ever committed a transaction: the test exercised nothing")
	}
}
