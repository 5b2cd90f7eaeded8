package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/costgate/costgate"
)

// Benchmarks on STORE.md's data shape scaled to benchRows (1M by default,
// COSTGATE_BENCH_ROWS to change): 20 accounts × 3 months (92 days), 60
// services, 15 regions, 600 SKUs, 200k resources, 30 teams, 8% untagged.
//
//	go test ./store -run '^$' -bench . -benchtime 2s

func benchRows() int {
	if v, err := strconv.Atoi(os.Getenv("COSTGATE_BENCH_ROWS")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

func benchConfig() genConfig {
	const accounts = 20
	months := []costgate.Month{{Year: 2026, Month: time.August}, {Year: 2026, Month: time.September}, {Year: 2026, Month: time.October}}
	return genConfig{
		Seed: 42, Source: "bench", Accounts: accounts, Months: months,
		RowsPer:  benchRows() / (accounts * len(months)),
		Services: 60, Regions: 15, SKUs: 600, Resources: 200_000 / accounts, Teams: 30,
		Untagged: 0.08, Credits: 0.01,
	}
}

var benchData struct {
	once     sync.Once
	rowsOnce sync.Once
	parts    []costgate.Partition
	rows     [][]costgate.LineItem
	dir      string
	keep     bool
	err      error
}

func benchGenerate() ([]costgate.Partition, [][]costgate.LineItem) {
	benchData.rowsOnce.Do(func() {
		cfg := benchConfig()
		benchData.parts = cfg.partitions()
		benchData.rows = make([][]costgate.LineItem, len(benchData.parts))
		var wg sync.WaitGroup
		for i, p := range benchData.parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				benchData.rows[i] = cfg.generate(p, 0)
			}()
		}
		wg.Wait()
	})
	return benchData.parts, benchData.rows
}

// benchFixture builds a store from the generated data once. With
// COSTGATE_BENCH_DIR set, the store is kept there and reused by later
// runs.
func benchFixture(b *testing.B) string {
	b.Helper()
	benchData.once.Do(func() {
		dir := os.Getenv("COSTGATE_BENCH_DIR")
		if dir != "" {
			benchData.keep = true
			if s, err := Open(dir, Options{ReadOnly: true}); err == nil {
				n := len(s.Partitions())
				s.Close()
				if n == len(benchConfig().partitions()) {
					benchData.dir = dir
					return
				}
			}
		} else {
			var err error
			if dir, err = os.MkdirTemp("", "costgate-bench-"); err != nil {
				benchData.err = err
				return
			}
		}
		benchData.dir = dir
		s, err := Open(dir, Options{NoSync: true})
		if err != nil {
			benchData.err = err
			return
		}
		defer s.Close()
		// Generate and replace partition by partition so that 10M rows
		// never sit in memory at once.
		cfg := benchConfig()
		parts := cfg.partitions()
		errs := make([]error, len(parts))
		parallel(len(parts), 2, func(i int) {
			_, errs[i] = s.Replace(context.Background(), parts[i], cfg.generate(parts[i], 0), "bench", fmt.Sprint(benchRows()))
		})
		benchData.err = errors.Join(errs...)
	})
	if benchData.err != nil {
		b.Fatal(benchData.err)
	}
	return benchData.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchData.dir != "" && !benchData.keep {
		os.RemoveAll(benchData.dir)
	}
	os.Exit(code)
}

func BenchmarkBuild(b *testing.B) {
	parts, rows := benchGenerate()
	total := 0
	for _, r := range rows {
		total += len(r)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		s, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		// Partitions are replaced concurrently, two at a time, as a
		// collector syncing several exports would.
		var wg sync.WaitGroup
		sem := make(chan struct{}, 2)
		for j, p := range parts {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if _, err := s.Replace(context.Background(), p, rows[j], "bench", ""); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchQueries are STORE.md's query classes and a few more shapes.
func benchQueries() map[string]Query {
	return map[string]Query{
		"filtered-sum": {Filters: []Filter{Eq(colMonth, "2026-10"), Eq("tag:team", "team-07")}},
		"group-by-service": {Filters: []Filter{Eq(colMonth, "2026-10"), Eq("tag:team", "team-07")},
			GroupBy: []string{"ServiceName"}},
		"top20-resources": {Filters: []Filter{Eq(colMonth, "2026-10")}, GroupBy: []string{"ResourceId"},
			OrderBy: []Order{{By: "EffectiveCost", Desc: true}}, Limit: 20},
		"mom-by-account": {Filters: []Filter{In(colMonth, "2026-09", "2026-10")}, GroupBy: []string{colMonth, "BillingAccountId"}},
		"untagged-by-account": {Filters: []Filter{Eq(colMonth, "2026-10"), TagAbsent("team")},
			GroupBy: []string{"BillingAccountId"}},
		"daily-by-service-week": {Filters: []Filter{TimeRange(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 12, 0, 0, 0, 0, time.UTC))},
			GroupBy: []string{colDay, "ServiceName"}},
		"cost-over-10-by-team": {Filters: []Filter{Eq(colMonth, "2026-10"), CostAtLeast(EffectiveCost, 10*costgate.NanosPerUnit)},
			GroupBy: []string{"tag:team"}},
		"total-all": {Measures: []Measure{EffectiveCost, BilledCost, Count}},
	}
}

func BenchmarkQuery(b *testing.B) {
	dir := benchFixture(b)
	s, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	for _, name := range []string{"filtered-sum", "group-by-service", "top20-resources", "mom-by-account",
		"untagged-by-account", "daily-by-service-week", "cost-over-10-by-team", "total-all"} {
		q := benchQueries()[name]
		b.Run(name, func(b *testing.B) {
			if _, err := s.Query(ctx, q); err != nil { // warm
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, err := s.Query(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	dir := benchFixture(b)
	for i := 0; i < b.N; i++ {
		s, err := Open(dir, Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// TestBenchQueriesMatchModel checks the benchmark queries' answers on a
// small instance of the same data against the model.
func TestBenchQueriesMatchModel(t *testing.T) {
	cfg := benchConfig()
	cfg.RowsPer, cfg.Resources = 500, 300
	s := openTest(t, t.TempDir())
	defer s.Close()
	m := &model{parts: map[string][]costgate.LineItem{}}
	for _, p := range cfg.partitions() {
		rows := cfg.generate(p, 0)
		if _, err := s.Replace(context.Background(), p, rows, "", ""); err != nil {
			t.Fatal(err)
		}
		m.parts[p.String()] = rows
	}
	for name, q := range benchQueries() {
		got, err := s.Query(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := sameResult(got, m.query(q)); d != "" {
			t.Errorf("%s: %s", name, d)
		}
		if len(got.Rows) == 0 || got.Rows[0].Count == 0 {
			t.Errorf("%s: no rows", name)
		}
	}
}

// internStrings makes equal strings of rows share their bytes, as a
// parser's rows (the collector's decoders intern) and the peer
// benchmark's do; the generator formats most strings afresh per row.
func internStrings(rows []costgate.LineItem) []costgate.LineItem {
	seen := map[string]string{}
	intern := func(v string) string {
		if s, ok := seen[v]; ok {
			return s
		}
		seen[v] = v
		return v
	}
	tags := map[string]map[string]string{}
	for i := range rows {
		li := &rows[i]
		for _, f := range lineItemStrings {
			if v := f.get(li); v != "" {
				f.set(li, intern(v))
			}
		}
		if li.Tags != nil {
			k := fmt.Sprint(li.Tags)
			if t, ok := tags[k]; ok {
				li.Tags = t
			} else {
				tags[k] = li.Tags
			}
		}
	}
	return rows
}

// BenchmarkBuildPartition builds one partition's segment (no fsync), to
// see the build's own cost per row.
func BenchmarkBuildPartition(b *testing.B) {
	benchBuild(b, func(s *Store, p costgate.Partition, rows []costgate.LineItem) func() error {
		rows = internStrings(rows)
		return func() error {
			_, err := s.Replace(context.Background(), p, rows, "bench", "")
			return err
		}
	})
}

// BenchmarkBuildPartitionCoded is BenchmarkBuildPartition from a coded
// source (costgate.CodedLineItemSource), the form collect hands rows in.
func BenchmarkBuildPartitionCoded(b *testing.B) {
	benchBuild(b, func(s *Store, p costgate.Partition, rows []costgate.LineItem) func() error {
		src := newCodedSource(rows)
		return func() error {
			_, err := s.ReplaceSource(context.Background(), p, src, "bench", "")
			return err
		}
	})
}

// benchBuild times replace, made by prepare from one partition's rows
// (prepare itself is not timed).
func benchBuild(b *testing.B, prepare func(s *Store, p costgate.Partition, rows []costgate.LineItem) (replace func() error)) {
	cfg := benchConfig()
	cfg.RowsPer = 166_666
	p := cfg.partitions()[0]
	rows := cfg.generate(p, 0)
	s, err := Open(b.TempDir(), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	replace := prepare(s, p, rows)
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		if err := replace(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/float64(len(rows)), "cpu-ns/row")
}
