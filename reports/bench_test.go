package reports_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/reportdemo"
	"github.com/costgate/costgate/reports"
	"github.com/costgate/costgate/store"
)

// benchParams are STORE.md's data set: 10M line items over 92 days
// (August to October 2026), 20 accounts, 60 services, 200k resources, 30
// teams, 8% untagged.
func benchParams() reportdemo.Params {
	return reportdemo.Params{Seed: 10, From: costgate.Month{Year: 2026, Month: time.August}, Months: 3,
		RowsPerMonth: 10_000_000 / 3, Accounts: 20, Services: 60, Resources: 200_000, Teams: 30,
		UntaggedPct: 8, NoEnvPct: 10, Currency: "USD"}
}

// benchStore opens the 10M-row store, building it the first time under
// $TMPDIR/costgate-reportbench-KEY (KEY hashes the parameters) so later
// runs start at once. Remove the directory to rebuild.
func benchStore(b *testing.B) *store.Store {
	b.Helper()
	p := benchParams()
	dir := filepath.Join(os.TempDir(), "costgate-reportbench-"+p.Key())
	done := filepath.Join(dir, "COMPLETE")
	if _, err := os.Stat(done); err != nil {
		b.Logf("building the benchmark store in %s (once; about a minute or two)", dir)
		start := time.Now()
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(dir, store.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		n, err := p.Write(context.Background(), st)
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(done, []byte("ok\n"), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("built %d line items in %s", n, time.Since(start).Round(time.Second))
	}
	st, err := store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkCompanyReport10M builds and renders (HTML, text, CSV, charts)
// the October company report from the 10M-row store, with budgets for
// every team. Target: under 2 s.
//
//	go test ./reports -run '^$' -bench CompanyReport10M -benchtime 5x
func BenchmarkCompanyReport10M(b *testing.B) {
	st := benchStore(b)
	budgets := map[string]costgate.Money{}
	for _, t := range benchParams().TeamNames() {
		budgets[t] = costgate.MustMoney("250000")
	}
	logger := quiet
	if os.Getenv("REPORT_BENCH_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts := reports.Options{Month: costgate.Month{Year: 2026, Month: time.October}, Budgets: budgets, Logger: logger,
		Now: fixedClock(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC))}
	for _, bc := range []struct {
		name string
		now  time.Time
	}{{"closed", time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)}, {"open", time.Date(2026, 10, 20, 8, 0, 0, 0, time.UTC)}} {
		b.Run(bc.name, func(b *testing.B) {
			o := opts
			o.Now = fixedClock(bc.now)
			var built, rendered time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				r, err := reports.Build(context.Background(), st, o)
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := reports.Render(r); err != nil {
					b.Fatal(err)
				}
				built += t1.Sub(t0)
				rendered += time.Since(t1)
			}
			b.ReportMetric(float64(built.Milliseconds())/float64(b.N), "build-ms/op")
			b.ReportMetric(float64(rendered.Milliseconds())/float64(b.N), "render-ms/op")
		})
	}
}

// BenchmarkFirstCompanyReport10M opens the 10M-row store and builds and
// renders one company report, as `costgate report` does in a fresh
// process: the store's first queries included. The page cache is warm
// (the store was read before); the target is the same 2 s.
//
//	go test ./reports -run '^$' -bench FirstCompanyReport10M -benchtime 3x
func BenchmarkFirstCompanyReport10M(b *testing.B) {
	benchStore(b).Close() // build it once, outside the timing
	p := benchParams()
	dir := filepath.Join(os.TempDir(), "costgate-reportbench-"+p.Key())
	budgets := map[string]costgate.Money{}
	for _, t := range p.TeamNames() {
		budgets[t] = costgate.MustMoney("250000")
	}
	logger := quiet
	if os.Getenv("REPORT_BENCH_DEBUG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	opts := reports.Options{Month: costgate.Month{Year: 2026, Month: time.October}, Budgets: budgets, Logger: logger,
		Now: fixedClock(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC))}
	for b.Loop() {
		st, err := store.Open(dir, store.Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		r, err := reports.Build(context.Background(), st, opts)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := reports.Render(r); err != nil {
			b.Fatal(err)
		}
		st.Close()
	}
}
