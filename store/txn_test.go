package store

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/costgate/costgate"
)

// partitionTotal is p's BilledCost in s's current generation.
func partitionTotal(t *testing.T, s *Store, p costgate.Partition) costgate.Sum {
	t.Helper()
	r, err := s.Query(context.Background(), Query{Measures: []Measure{BilledCost},
		Filters: []Filter{Eq("BillingAccountId", p.BillingAccountID), Eq(colMonth, p.BillingPeriod.String())}})
	if err != nil {
		t.Fatal(err)
	}
	return r.Rows[0].Values[0]
}

func rowsTotal(rows []costgate.LineItem) costgate.Sum {
	var s costgate.Sum
	for _, r := range rows {
		s.Add(r.BilledCost)
	}
	return s
}

// TestTxn: partitions replaced in a transaction (concurrently, through
// both Replace and ReplaceSource) stay invisible until Commit, which
// publishes them in one generation; a partition replaced twice keeps
// the last rows; unchanged content is not staged; Abort leaves the store
// and its directory as they were; a finished transaction refuses more.
func TestTxn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	cfg := smallConfig(7)
	parts := cfg.partitions()
	for _, p := range parts {
		if _, err := s.Replace(ctx, p, cfg.generate(p, 0), "v0", "h0"+p.String()); err != nil {
			t.Fatal(err)
		}
	}
	gen := s.Info().Generation
	old := map[costgate.Partition]costgate.Sum{}
	for _, p := range parts {
		old[p] = partitionTotal(t, s, p)
	}

	tx := s.Begin()
	var wg sync.WaitGroup
	errs := make([]error, len(parts))
	for i, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows := cfg.generate(p, 1)
			var changed bool
			var err error
			if i%2 == 0 {
				changed, err = tx.Replace(ctx, p, rows, "v1", "h1"+p.String())
			} else {
				changed, err = tx.ReplaceSource(ctx, p, newCodedSource(rows), "v1", "h1"+p.String())
			}
			if err == nil && !changed {
				err = errors.New("new content reported unchanged")
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// The first partition again, with other rows: the last one wins.
	last := cfg.generate(parts[0], 2)
	if _, err := tx.Replace(ctx, parts[0], last, "v2", "h2"); err != nil {
		t.Fatal(err)
	}
	// Content the store holds is not staged.
	if changed, err := tx.Replace(ctx, parts[1], cfg.generate(parts[1], 0), "v0", "h0"+parts[1].String()); err != nil || changed {
		t.Fatalf("same content: changed=%v err=%v", changed, err)
	}
	for _, p := range parts {
		if got := partitionTotal(t, s, p); got != old[p] {
			t.Fatalf("%s changed before Commit: %s, want %s", p, got, old[p])
		}
	}
	n, err := tx.Commit(ctx)
	if err != nil || n != len(parts) {
		t.Fatalf("commit: %d changed, %v; want %d", n, err, len(parts))
	}
	if g := s.Info().Generation; g != gen+1 {
		t.Fatalf("generation %d after the commit, want one more than %d", g, gen)
	}
	for i, p := range parts {
		want := rowsTotal(cfg.generate(p, 1))
		if i == 0 {
			want = rowsTotal(last)
		}
		if got := partitionTotal(t, s, p); got != want {
			t.Fatalf("%s after Commit: %s, want %s", p, got, want)
		}
	}
	assertOnlyLive(t, s, dir)
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Replace(ctx, parts[0], last, "v3", "h3"); !errors.Is(err, ErrTxnDone) {
		t.Fatalf("replace after commit: %v", err)
	}
	if _, err := tx.Commit(ctx); !errors.Is(err, ErrTxnDone) {
		t.Fatalf("second commit: %v", err)
	}

	// Abort: nothing changes, nothing is left.
	before := s.Info().Generation
	tx = s.Begin()
	if _, err := tx.Replace(ctx, parts[0], cfg.generate(parts[0], 3), "v3", "h3"); err != nil {
		t.Fatal(err)
	}
	tx.Abort()
	tx.Abort()
	if s.Info().Generation != before || partitionTotal(t, s, parts[0]) != rowsTotal(last) {
		t.Fatal("Abort changed the store")
	}
	assertOnlyLive(t, s, dir)
	// Content that reaches the store between a transaction's replace and
	// its commit is not committed twice: the staged segment is dropped.
	tx = s.Begin()
	v4 := cfg.generate(parts[1], 4)
	if _, err := tx.Replace(ctx, parts[1], v4, "v4", "h4"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Replace(ctx, parts[2], cfg.generate(parts[2], 4), "v4", "h4-2"); err != nil {
		t.Fatal(err)
	}
	if changed, err := s.Replace(ctx, parts[1], v4, "v4", "h4"); err != nil || !changed {
		t.Fatalf("direct replace: %v %v", changed, err)
	}
	if n, err := tx.Commit(ctx); n != 1 || err != nil {
		t.Fatalf("commit after the same content arrived: %d changed, %v; want 1 (the other partition)", n, err)
	}
	if partitionTotal(t, s, parts[1]) != rowsTotal(v4) || partitionTotal(t, s, parts[2]) != rowsTotal(cfg.generate(parts[2], 4)) {
		t.Fatal("wrong totals after the commit")
	}
	assertOnlyLive(t, s, dir)
	before = s.Info().Generation

	// An empty transaction commits nothing.
	if n, err := s.Begin().Commit(ctx); n != 0 || err != nil || s.Info().Generation != before {
		t.Fatalf("empty commit: %d, %v", n, err)
	}
}

// assertOnlyLive fails when dir holds a file other than the manifest, the
// lock and the segments the store names.
func assertOnlyLive(t *testing.T, s *Store, dir string) {
	t.Helper()
	live := []string{manifestName, lockName}
	for _, pi := range s.Partitions() {
		live = append(live, pi.File)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !slices.Contains(live, e.Name()) {
			t.Fatalf("%s left in the store (live: %v)", e.Name(), live)
		}
	}
}
