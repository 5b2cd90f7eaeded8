package focus

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/collector"
	"github.com/costgate/costgate/internal/collectstore"
	"github.com/costgate/costgate/store"
)

func testdata(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata", "billing"}, parts...)...)
}

func openStore(tb testing.TB, dir string) *store.Store {
	tb.Helper()
	st, err := store.Open(dir, store.Options{NoSync: true, Logger: quiet()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// collect runs one source against st at the given time.
func collect(tb testing.TB, st *store.Store, now time.Time, srcs ...collector.Source) ([]collector.Summary, error) {
	tb.Helper()
	return collector.Run(context.Background(), collectstore.New(st), srcs, collector.Options{
		Logger: quiet(),
		Now:    func() time.Time { return now },
	})
}

func spec(name, path string) collector.Spec {
	return collector.Spec{Name: name, Type: Type, Path: path}
}

var later = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func month(y int, m time.Month) costgate.Month { return costgate.Month{Year: y, Month: m} }
