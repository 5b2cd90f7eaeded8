package billgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/focus"
	"github.com/costgate/costgate/internal/collectstore"
	"github.com/costgate/costgate/store"
)

func TestDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if _, err := WriteCSV(&a, Options{Seed: 7, Rows: 3000, Months: 2}); err != nil {
		t.Fatal(err)
	}
	WriteCSV(&b, Options{Seed: 7, Rows: 3000, Months: 2})
	if sha256.Sum256(a.Bytes()) != sha256.Sum256(b.Bytes()) {
		t.Fatal("the same options gave different bytes")
	}
	var c bytes.Buffer
	WriteCSV(&c, Options{Seed: 8, Rows: 3000, Months: 2})
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("another seed gave the same bytes")
	}
}

// TestCollectRoundTrip: the monthly files, collected, hold exactly the
// totals the generator wrote, per month and per partition.
func TestCollectRoundTrip(t *testing.T) {
	dir := t.TempDir()
	paths, want, err := WriteMonthly(filepath.Join(dir, "billing"), Options{Seed: 1, Rows: 20_000, Months: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 || len(want.Partitions) != 6 {
		t.Fatalf("%d files, %d partitions", len(paths), len(want.Partitions))
	}
	st, err := store.Open(filepath.Join(dir, "store"), store.Options{NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := focus.New(collector.Spec{Name: "gen", Type: focus.Type, Path: filepath.Join(dir, "billing")})
	sums, err := collector.Run(context.Background(), collectstore.New(st), []collector.Source{src},
		collector.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if sums[0].Rows != want.Rows {
		t.Fatalf("%s, generator wrote %d rows", sums[0].String(), want.Rows)
	}
	res, err := st.Query(context.Background(), store.Query{
		Measures: []store.Measure{store.EffectiveCost, store.BilledCost, store.ListCost},
		GroupBy:  []string{"month"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var eff, billed, list costgate.Sum
	for _, r := range res.Rows {
		m, _ := costgate.ParseMonth(r.Keys[0])
		if w := want.ByMonth[m]; r.Values[0].Cmp(w) != 0 {
			t.Errorf("%s EffectiveCost %s, generator %s", m, r.Values[0].String(), w.String())
		}
		eff.AddSum(r.Values[0])
		billed.AddSum(r.Values[1])
		list.AddSum(r.Values[2])
	}
	if eff.Cmp(want.EffectiveCost) != 0 || billed.Cmp(want.BilledCost) != 0 || list.Cmp(want.ListCost) != 0 {
		t.Fatalf("totals %s %s %s, generator %s %s %s", eff.String(), billed.String(), list.String(),
			want.EffectiveCost.String(), want.BilledCost.String(), want.ListCost.String())
	}
	for _, p := range st.Partitions() {
		k := costgate.Partition{BillingAccountID: p.Partition.BillingAccountID, BillingPeriod: p.Partition.BillingPeriod}
		if int64(p.Rows) != want.Partitions[k] {
			t.Errorf("%s: %d rows, generator %d", k, p.Rows, want.Partitions[k])
		}
	}
	// Teams are there, with some rows untagged.
	res, err = st.Query(context.Background(), store.Query{GroupBy: []string{"tag:team"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != len(teams)+1 || res.Rows[0].Keys[0] != "" {
		t.Fatalf("team groups %+v", res.Rows)
	}
}
