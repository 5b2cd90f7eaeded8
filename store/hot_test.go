package store

import (
	"context"
	"testing"
	"time"
)

// TestHotCopies: large column blocks are copied into the store's
// anonymous arena on first use, within Options.HotBytes, and queries give
// the same answers as from the mapped files; the copies go when the store
// closes.
func TestHotCopies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := smallConfig(9)
	cfg.RowsPer = 40_000 // money blocks of 320 KB: over hotMin
	s, err := Open(dir, Options{NoSync: true, HotBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cfg.partitions() {
		if _, err := s.Replace(ctx, p, cfg.generate(p, 1), "v1", ""); err != nil {
			t.Fatal(err)
		}
	}
	queries := []Query{
		{GroupBy: []string{"ServiceName"}},
		{Filters: []Filter{CostAtLeast(EffectiveCost, 1)}, GroupBy: []string{"tag:team"}},
		{Filters: []Filter{TimeRange(time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 9, 0, 0, 0, 0, time.UTC))}, GroupBy: []string{colDay, "ServiceName"}},
		{GroupBy: []string{"ResourceId"}, OrderBy: []Order{{By: "EffectiveCost", Desc: true}}, Limit: 5},
	}
	var want []*Result
	for _, q := range queries {
		r, err := s.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	if s.hot.used.Load() != 0 {
		t.Fatalf("HotBytes -1 copied %d bytes", s.hot.used.Load())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for _, limit := range []int64{0, hotChunk} {
		s, err := Open(dir, Options{ReadOnly: true, HotBytes: limit})
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range queries {
			got, err := s.Query(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameResult(got, want[i]); d != "" {
				t.Errorf("HotBytes %d, query %d: %s", limit, i, d)
			}
		}
		used := s.hot.used.Load()
		switch {
		case used == 0:
			t.Errorf("HotBytes %d: nothing copied", limit)
		case used > s.hot.limit:
			t.Errorf("HotBytes %d: %d bytes copied, over the limit %d", limit, used, s.hot.limit)
		}
		hot := s.hot
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if n := hot.used.Load(); n != 0 {
			t.Errorf("HotBytes %d: %d bytes still held after Close", limit, n)
		}
	}
}
