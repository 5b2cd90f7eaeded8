package store

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

var quiet = slog.New(slog.DiscardHandler)

func smallConfig(seed uint64) genConfig {
	return genConfig{
		Seed: seed, Source: "test", Accounts: 2,
		Months:  []costgate.Month{{Year: 2026, Month: time.September}, {Year: 2026, Month: time.October}},
		RowsPer: 3000, Services: 6, Regions: 3, SKUs: 30, Resources: 200, Teams: 5,
		Untagged: 0.1, Credits: 0.02,
	}
}

func openTest(tb testing.TB, dir string) *Store {
	tb.Helper()
	s, err := Open(dir, Options{NoSync: true, Logger: quiet})
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	return s
}

func TestReplaceAndTotals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	cfg := smallConfig(1)
	var want costgate.Sum
	for _, p := range cfg.partitions() {
		rows := cfg.generate(p, 0)
		for _, r := range rows {
			want.Add(r.EffectiveCost)
		}
		changed, err := s.Replace(ctx, p, rows, "e1", "h-"+p.String())
		if err != nil || !changed {
			t.Fatalf("replace %s: changed=%v err=%v", p, changed, err)
		}
	}
	res, err := s.Query(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0].Values[0]; got != want {
		t.Fatalf("total %s, want %s", got, want)
	}
	p := cfg.partitions()[0]
	changed, err := s.Replace(ctx, p, cfg.generate(p, 0), "e1", "h-"+p.String())
	if err != nil || changed {
		t.Fatalf("same hash: changed=%v err=%v", changed, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, dir)
	defer s.Close()
	res, err = s.Query(ctx, Query{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0].Values[0]; got != want {
		t.Fatalf("after reopen total %s, want %s", got, want)
	}
	if err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReplaceEdgeCases(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir)
	cfg := smallConfig(4)
	p := cfg.partitions()[0]
	rows := cfg.generate(p, 0)
	if _, err := s.Replace(ctx, p, rows, "", ""); err != nil {
		t.Fatal(err)
	}
	// An empty restatement empties the partition.
	if _, err := s.Replace(ctx, p, nil, "empty", "empty"); err != nil {
		t.Fatal(err)
	}
	r, err := s.Query(ctx, Query{Measures: []Measure{EffectiveCost, Count}})
	if err != nil || r.Rows[0].Count != 0 || !r.Rows[0].Values[0].IsZero() {
		t.Fatalf("after empty replace: %+v %v", r, err)
	}
	if got, err := s.LineItems(ctx, p); err != nil || len(got) != 0 {
		t.Fatalf("line items: %d %v", len(got), err)
	}
	tests := map[string]struct {
		p    costgate.Partition
		rows []costgate.LineItem
	}{
		"wrong account": {costgate.Partition{Source: "s", BillingAccountID: "other", BillingPeriod: p.BillingPeriod}, rows[:1]},
		"wrong period":  {costgate.Partition{Source: "s", BillingAccountID: p.BillingAccountID, BillingPeriod: p.BillingPeriod.Next()}, rows[:1]},
		"no source":     {costgate.Partition{BillingAccountID: p.BillingAccountID, BillingPeriod: p.BillingPeriod}, rows[:1]},
		"bad extension": {p, []costgate.LineItem{func() costgate.LineItem {
			li := rows[0]
			li.Extensions = map[string]string{"Foo": "x"}
			return li
		}()}},
		"no charge time": {p, []costgate.LineItem{func() costgate.LineItem {
			li := rows[0]
			li.ChargePeriodStart = time.Time{}
			return li
		}()}},
	}
	for name, tc := range tests {
		if _, err := s.Replace(ctx, tc.p, tc.rows, "", ""); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replace(ctx, p, rows, "", ""); !errors.Is(err, ErrClosed) {
		t.Errorf("replace after close: %v", err)
	}
	if _, err := s.Query(ctx, Query{}); !errors.Is(err, ErrClosed) {
		t.Errorf("query after close: %v", err)
	}
	ro, err := Open(dir, Options{ReadOnly: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Replace(ctx, p, rows, "", ""); !errors.Is(err, ErrReadOnly) {
		t.Errorf("replace read-only: %v", err)
	}
	w := openTest(t, dir)
	defer w.Close()
	if _, err := Open(dir, Options{Logger: quiet}); !errors.Is(err, ErrLocked) {
		t.Errorf("second writer: %v", err)
	}
	for name, q := range map[string]Query{
		"unknown column":  {GroupBy: []string{"Service"}},
		"unknown measure": {Measures: []Measure{"Cost"}},
		"bad order":       {OrderBy: []Order{{By: "ServiceName"}}},
		"empty in":        {Filters: []Filter{In("ServiceName")}},
		"tag filter":      {Filters: []Filter{{Op: costgate.FilterTagPresent, Column: "ServiceName"}}},
		"count range":     {Filters: []Filter{CostAtLeast(Count, 1)}},
		"negative limit":  {Limit: -1},
		"twice":           {GroupBy: []string{"day", "day"}},
	} {
		if _, err := w.Query(ctx, q); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestReplaceSourceChecksRows: a row source's rows are checked like
// Replace's, the first bad row (lowest index, though rows are read by
// several workers) is named, keys missing from MapKeys are an error, and
// a failed replace leaves the partition as it was.
func TestReplaceSourceChecksRows(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{NoSync: true, Parallelism: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := smallConfig(3)
	cfg.RowsPer = 50_000
	p := cfg.partitions()[0]
	good := cfg.generate(p, 1)
	if _, err := s.ReplaceSource(ctx, p, opaqueSource{good}, "v1", "v1"); err != nil {
		t.Fatal(err)
	}
	before, err := s.LineItems(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRows(before, good); d != "" {
		t.Fatalf("rows read back: %s", d)
	}

	bad := slices.Clone(good)
	bad[40_000].BillingAccountID = "someone-else"
	bad[30_000].ChargePeriodStart = time.Time{}
	_, err = s.ReplaceSource(ctx, p, opaqueSource{bad}, "v2", "v2")
	if err == nil || !strings.Contains(err.Error(), "row 30000: ChargePeriodStart is required") {
		t.Errorf("bad rows: %v, want the error of row 30000", err)
	}
	// A refused row is a *costgate.RowError, from a row source, a slice
	// and a transaction alike: the collector fails that partition alone.
	for name, err := range map[string]error{
		"source": err,
		"slice":  second(s.Replace(ctx, p, bad, "v2", "v2")),
		"txn":    second(s.Begin().Replace(ctx, p, bad, "v2", "v2")),
	} {
		if re, ok := errors.AsType[*costgate.RowError](err); !ok || re.Row != 30000 {
			t.Errorf("%s: %v is not the RowError of row 30000", name, err)
		}
	}
	missing := slices.Clone(good)
	missing[7].Tags = map[string]string{"not-listed": "x"}
	_, err = s.ReplaceSource(ctx, p, listedKeys{opaqueSource{missing}}, "v3", "v3")
	if err == nil || !strings.Contains(err.Error(), "row 7: a tag key is missing") {
		t.Errorf("tag key missing from MapKeys: %v", err)
	}
	after, err := s.LineItems(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffRows(after, good); d != "" {
		t.Errorf("after failed replaces the partition changed: %s", d)
	}
}

// listedKeys leaves the key "not-listed" out of MapKeys.
type listedKeys struct{ opaqueSource }

func (l listedKeys) MapKeys() (tags, exts []string) {
	tags, exts = l.opaqueSource.MapKeys()
	return slices.DeleteFunc(tags, func(k string) bool { return k == "not-listed" }), exts
}

// TestReplaceChecksBillingPeriod: a row's BillingPeriodStart must fall in
// the partition's month (in UTC, to the nanosecond at both ends), from a
// slice and from a row source alike.
func TestReplaceChecksBillingPeriod(t *testing.T) {
	ctx := context.Background()
	cfg := smallConfig(12)
	p := cfg.partitions()[1] // October 2026
	rows := cfg.generate(p, 0)[:50]
	s := openTest(t, t.TempDir())
	defer s.Close()
	oct := time.Date(2026, time.October, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		bps time.Time
		ok  bool
	}{
		{oct, true},
		{oct.AddDate(0, 1, 0).Add(-time.Nanosecond), true},
		{time.Date(2026, time.October, 1, 2, 30, 0, 0, time.FixedZone("CEST", 2*3600)), true},  // 00:30 UTC
		{time.Date(2026, time.October, 1, 0, 30, 0, 0, time.FixedZone("CEST", 2*3600)), false}, // September 30 in UTC
		{oct.Add(-time.Nanosecond), false},
		{oct.AddDate(0, 1, 0), false},
		{time.Time{}, false},
	} {
		bad := slices.Clone(rows)
		bad[7].BillingPeriodStart = c.bps
		for _, src := range []string{"slice", "source"} {
			var err error
			if src == "slice" {
				_, err = s.Replace(ctx, p, bad, "x", "")
			} else {
				_, err = s.ReplaceSource(ctx, p, costgate.LineItemSlice(bad), "x", "")
			}
			if c.ok && err != nil {
				t.Errorf("%s, BillingPeriodStart %s: %v", src, c.bps, err)
			}
			if !c.ok && (err == nil || !strings.Contains(err.Error(), "row 7: BillingPeriodStart")) {
				t.Errorf("%s, BillingPeriodStart %s: err %v, want row 7 named", src, c.bps, err)
			}
		}
	}
}

// second is the error of a (value, error) pair.
func second[T any](_ T, err error) error { return err }
