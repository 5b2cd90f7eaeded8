package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/costgate/costgate"
)

// faultFixture builds a store with two accounts' partitions and returns
// the queries' reference answers.
func faultFixture(t *testing.T) (dir string, victim costgate.Partition, victimFile string, other costgate.Partition) {
	t.Helper()
	dir = t.TempDir()
	s := openTest(t, dir)
	defer s.Close()
	cfg := smallConfig(3)
	cfg.RowsPer = 1500
	for _, p := range cfg.partitions() {
		if _, err := s.Replace(context.Background(), p, cfg.generate(p, 0), "", ""); err != nil {
			t.Fatal(err)
		}
	}
	parts := cfg.partitions()
	victim, other = parts[0], parts[len(parts)-1]
	for _, pi := range s.Partitions() {
		if pi.Partition == victim {
			victimFile = pi.File
		}
	}
	if victim.BillingAccountID == other.BillingAccountID {
		t.Fatal("fixture needs two accounts")
	}
	return dir, victim, victimFile, other
}

// faultQueries are run on a damaged store: all must fail with a named
// corruption or return the undamaged answers.
var faultQueries = []Query{
	{},
	{GroupBy: []string{"ServiceName"}, Measures: []Measure{EffectiveCost, BilledCost, ListCost, ConsumedQuantity, Count}},
	{GroupBy: []string{"ResourceId", "tag:team"}},
	{Filters: []Filter{Eq("tag:team", "team-01"), CostAtLeast(BilledCost, costgate.NanosPerUnit/2)}, GroupBy: []string{colDay}},
	{Filters: []Filter{TagAbsent("team"), Not(Eq("RegionId", "region-01"))}, GroupBy: []string{"SkuId", "x_UsageType"}},
}

type faultAnswers struct {
	results []*Result
	items   map[costgate.Partition][]costgate.LineItem
}

func collect(t *testing.T, s *Store, parts []costgate.Partition) (faultAnswers, error) {
	t.Helper()
	var a faultAnswers
	a.items = map[costgate.Partition][]costgate.LineItem{}
	var errs []error
	for _, q := range faultQueries {
		r, err := s.Query(context.Background(), q)
		errs = append(errs, err)
		a.results = append(a.results, r)
	}
	for _, p := range parts {
		li, err := s.LineItems(context.Background(), p)
		errs = append(errs, err)
		a.items[p] = li
	}
	errs = append(errs, s.Verify(context.Background()))
	return a, errors.Join(errs...)
}

func checkNamed(t *testing.T, err error, file string) {
	t.Helper()
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("error %v is not ErrCorrupt", err)
	}
	if !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "block") {
		t.Fatalf("error %q does not name file %s and a block", err, file)
	}
}

func TestCorruptSegmentFlippedBytes(t *testing.T) {
	dir, victim, file, other := faultFixture(t)
	s := openTest(t, dir)
	parts := []costgate.Partition{victim, other}
	want, err := collect(t, s, parts)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	path := filepath.Join(dir, file)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	offsets := []int{0, 9, 13, len(orig) - 1, len(orig) - 20, len(orig) - trailerSize - 5}
	iters := 150
	if testing.Short() {
		iters = 30
	}
	for i := 0; i < iters; i++ {
		offsets = append(offsets, rng.IntN(len(orig)))
	}
	detected := 0
	for _, off := range offsets {
		b := slices.Clone(orig)
		b[off] ^= 1 << rng.IntN(8)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		s := openTest(t, dir)
		got, err := collect(t, s, parts)
		if err != nil {
			detected++
			checkNamed(t, err, file)
			// The other account's partition stays readable.
			r, err := s.Query(context.Background(), Query{Filters: []Filter{Eq("BillingAccountId", other.BillingAccountID)}})
			if err != nil {
				t.Fatalf("offset %d: other partition unreadable: %v", off, err)
			}
			if r.Rows[0].Count == 0 {
				t.Fatalf("offset %d: other partition empty", off)
			}
			if _, err := s.LineItems(context.Background(), other); err != nil {
				t.Fatalf("offset %d: %v", off, err)
			}
		} else {
			// Undetected flips may only hit alignment padding: every
			// answer must be unchanged.
			for i := range want.results {
				if d := sameResult(got.results[i], want.results[i]); d != "" {
					t.Fatalf("offset %d: undetected corruption changed query %d: %s", off, i, d)
				}
			}
			for p, rows := range want.items {
				if d := diffRows(got.items[p], rows); d != "" {
					t.Fatalf("offset %d: undetected corruption changed %s: %s", off, p, d)
				}
			}
		}
		s.Close()
	}
	if detected < len(offsets)/2 {
		t.Fatalf("only %d of %d flips detected", detected, len(offsets))
	}
	os.WriteFile(path, orig, 0o644)
}

func TestCorruptSegmentTruncated(t *testing.T) {
	dir, victim, file, other := faultFixture(t)
	path := filepath.Join(dir, file)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 10, headerSize, len(orig) / 2, len(orig) - trailerSize, len(orig) - 1} {
		if err := os.WriteFile(path, orig[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		s := openTest(t, dir)
		var bad *PartitionInfo
		for _, pi := range s.Partitions() {
			if pi.File == file {
				bad = &pi
			}
		}
		if bad == nil || bad.Err == "" || !strings.Contains(bad.Err, file) {
			t.Fatalf("truncated to %d: partition info %+v does not report the damage", n, bad)
		}
		_, err := s.Query(context.Background(), Query{})
		checkNamed(t, err, file)
		_, err = s.LineItems(context.Background(), victim)
		checkNamed(t, err, file)
		if _, err := s.Query(context.Background(), Query{Filters: []Filter{Eq("BillingAccountId", other.BillingAccountID)}}); err != nil {
			t.Fatalf("truncated to %d: other partition: %v", n, err)
		}
		// Replacing the damaged partition repairs the store.
		cfg := smallConfig(3)
		if _, err := s.Replace(context.Background(), victim, cfg.generate(victim, 1), "", ""); err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(context.Background()); err != nil {
			t.Fatalf("after repair: %v", err)
		}
		s.Close()
		// Put the damaged file back under its old name for the next
		// round: the manifest now names a new file, so restore the store.
		dir2, _, file2, _ := faultFixture(t)
		dir, file, path = dir2, file2, filepath.Join(dir2, file2)
		orig, _ = os.ReadFile(path)
	}
}

func TestCorruptManifest(t *testing.T) {
	dir, _, _, _ := faultFixture(t)
	path := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x20
	os.WriteFile(path, b, 0o644)
	if _, err := Open(dir, Options{NoSync: true}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open with a damaged manifest: %v", err)
	}
}
