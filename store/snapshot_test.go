package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/costgate/costgate"
)

// TestSnapshotPinsGeneration: a snapshot keeps reading the rows of its
// generation after a replace, and the replaced segment file is deleted
// only when the snapshot closes.
func TestSnapshotPinsGeneration(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	cfg := smallConfig(8)
	p := cfg.partitions()[0]
	total := func(rows []costgate.LineItem) costgate.Sum {
		var sum costgate.Sum
		for _, r := range rows {
			sum.Add(r.EffectiveCost)
		}
		return sum
	}
	v0, v1 := cfg.generate(p, 0), cfg.generate(p, 1)
	if _, err := s.Replace(ctx, p, v0, "0", "0"); err != nil {
		t.Fatal(err)
	}
	oldFile := s.Partitions()[0].File
	sn, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replace(ctx, p, v1, "1", "1"); err != nil {
		t.Fatal(err)
	}
	r, err := sn.Query(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Rows[0].Values[0]; got != total(v0) {
		t.Fatalf("snapshot sees %s, want the old %s", got, total(v0))
	}
	r, err = s.Query(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Rows[0].Values[0]; got != total(v1) || r.Generation != sn.Generation()+1 {
		t.Fatalf("store sees %s (generation %d), want %s", got, r.Generation, total(v1))
	}
	if _, err := os.Stat(filepath.Join(dir, oldFile)); err != nil {
		t.Fatalf("old segment gone while a snapshot reads it: %v", err)
	}
	if err := sn.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, oldFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old segment still there after the last reader: %v", err)
	}
}

// TestConcurrentQueriesDuringReplace runs queries while partitions are
// replaced; every answer must be one generation's exact total. Run it with
// -race.
func TestConcurrentQueriesDuringReplace(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir())
	defer s.Close()
	cfg := smallConfig(9)
	cfg.RowsPer = 800
	parts := cfg.partitions()
	// Totals per (partition, version); a reader's answer is a sum over
	// partitions of one version each.
	valid := map[costgate.Sum]bool{}
	for _, p := range parts {
		if _, err := s.Replace(ctx, p, cfg.generate(p, 0), "0", "0"); err != nil {
			t.Fatal(err)
		}
	}
	sums := make([][2]costgate.Sum, len(parts))
	for i, p := range parts {
		for v := 0; v < 2; v++ {
			for _, r := range cfg.generate(p, v) {
				sums[i][v].Add(r.BilledCost)
			}
		}
	}
	for mask := 0; mask < 1<<len(parts); mask++ {
		var s costgate.Sum
		for i := range parts {
			s.AddSum(sums[i][mask>>i&1])
		}
		valid[s] = true
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := s.Query(ctx, Query{Measures: []Measure{BilledCost}, GroupBy: []string{"ServiceName"}})
				if err != nil {
					t.Error(err)
					return
				}
				var sum costgate.Sum
				for _, row := range r.Rows {
					sum.AddSum(row.Values[0])
				}
				if !valid[sum] {
					t.Errorf("generation %d: total %s matches no mix of whole partitions", r.Generation, sum)
					return
				}
			}
		}()
	}
	for round := 0; round < 20; round++ {
		p := parts[round%len(parts)]
		v := (round / len(parts)) % 2
		v = 1 - v
		if _, err := s.Replace(ctx, p, cfg.generate(p, v), "", ""); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
