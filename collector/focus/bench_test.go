package focus

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/collector/blob"
	"github.com/costgate/costgate/internal/billgen"
	"github.com/costgate/costgate/internal/collectstore"
	"github.com/costgate/costgate/store"
)

// BenchmarkIngest ingests a generated FOCUS CSV.gz end to end: read and
// gunzip, parse CSV and values, group into partitions, sort and build the
// segments, commit with fsync. COSTGATE_BENCH_ROWS sets the usage rows
// (default 1,000,000; the file has a few hundred monthly rows more);
// COSTGATE_BENCH_DIR keeps the generated file between runs.
//
//	go test ./collector/focus -run '^$' -bench Ingest -benchtime 3x
//	COSTGATE_BENCH_ROWS=10000000 COSTGATE_BENCH_DIR=/tmp/cgbench go test ./collector/focus -run '^$' -bench Ingest -benchtime 1x -timeout 1h
func BenchmarkIngest(b *testing.B) {
	path, fi := benchFile(b)
	b.ResetTimer()
	var total int64
	for i := 0; i < b.N; i++ {
		st, err := store.Open(filepath.Join(b.TempDir(), "store"), store.Options{Logger: quiet()})
		if err != nil {
			b.Fatal(err)
		}
		sums, err := collector.Run(context.Background(), collectstore.New(st), []collector.Source{New(spec("bench", path))},
			collector.Options{Logger: quiet(), Now: func() time.Time { return later }})
		if err != nil {
			b.Fatal(err)
		}
		total += sums[0].Rows
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
	}
	secs := b.Elapsed().Seconds()
	b.ReportMetric(float64(total)/secs, "rows/s")
	b.ReportMetric(float64(fi.Size())*float64(b.N)/secs/(1<<20), "gzMiB/s")
}

// BenchmarkDecode is the read side alone (gunzip, CSV, values): rows
// are decoded and dropped.
func BenchmarkDecode(b *testing.B) {
	path, fi := benchFile(b)
	obj := blob.Object{Key: path, Size: fi.Size()}
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		_, err := ReadFile(context.Background(), blob.Local{}, obj, "", nopSink{}, collector.NewRows(func(*costgate.LineItem) error { n++; return nil }))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}

type nopSink struct{}

func (nopSink) Known() []collector.Loaded         { return nil }
func (nopSink) Unchanged(...costgate.Partition)   {}
func (nopSink) Fail(error, ...costgate.Partition) {}
func (nopSink) Progress() *collector.Progress     { return &collector.Progress{} }
func (nopSink) Now() time.Time                    { return later }
func (nopSink) Logger() *slog.Logger              { return quiet() }
func (nopSink) Replace(context.Context, costgate.Partition, []costgate.LineItem, string, string) error {
	return nil
}
func (nopSink) ReplaceSource(context.Context, costgate.Partition, costgate.LineItemSource, string, string) error {
	return nil
}
func (nopSink) Inventory(context.Context, []costgate.Resource, string, string) error { return nil }

// benchFile generates (once per COSTGATE_BENCH_DIR) the benchmark file.
func benchFile(b *testing.B) (string, os.FileInfo) {
	b.Helper()
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("COSTGATE_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	dir := os.Getenv("COSTGATE_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("focus-%d.csv.gz", rows))
	if _, err := os.Stat(path); err != nil {
		start := time.Now()
		if _, err := billgen.WriteCSVGz(path, billgen.Options{Seed: 1, Rows: rows, Months: 6}); err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %s in %s", path, time.Since(start).Round(time.Millisecond))
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return path, fi
}
