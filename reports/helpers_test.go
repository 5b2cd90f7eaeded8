package reports_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/internal/reportdemo"
	"github.com/costgate/costgate/store"
)

// The tests share one small store built from reportdemo.Small(); it is
// built once per test binary, in a directory TestMain removes.
var (
	storeOnce sync.Once
	storeDir  string
	storeErr  error
	sharedSt  *store.Store
	tmpRoot   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedSt != nil {
		sharedSt.Close()
	}
	if openSt != nil {
		openSt.Close()
	}
	if tmpRoot != "" {
		os.RemoveAll(tmpRoot)
	}
	os.Exit(code)
}

// quiet discards the log output of the code under test.
var quiet = slog.New(slog.DiscardHandler)

// openStore is reportdemo.Small() cut at 15 October 2026 09:30: October
// is open, as a collector sees it mid-month.
var (
	openOnce sync.Once
	openSt   *store.Store
	openErr  error
)

var openNow = time.Date(2026, 10, 15, 9, 30, 0, 0, time.UTC)

func openMonthStore(tb testing.TB) *store.Store {
	tb.Helper()
	smallStore(tb) // creates tmpRoot
	openOnce.Do(func() {
		st, err := store.Open(tmpRoot+"/open", store.Options{NoSync: true})
		if err != nil {
			openErr = err
			return
		}
		p := reportdemo.Small()
		p.Through = time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC)
		if _, err := p.Write(context.Background(), st); err != nil {
			openErr = err
			st.Close()
			return
		}
		openSt = st
	})
	if openErr != nil {
		tb.Fatalf("build the open-month store: %v", openErr)
	}
	return openSt
}

// smallStore returns the shared store of reportdemo.Small() data.
func smallStore(tb testing.TB) *store.Store {
	tb.Helper()
	storeOnce.Do(func() {
		tmpRoot, storeErr = os.MkdirTemp("", "costgate-reports-test-")
		if storeErr != nil {
			return
		}
		storeDir = tmpRoot + "/store"
		st, err := store.Open(storeDir, store.Options{NoSync: true})
		if err != nil {
			storeErr = err
			return
		}
		if _, err := reportdemo.Small().Write(context.Background(), st); err != nil {
			storeErr = err
			st.Close()
			return
		}
		sharedSt = st
	})
	if storeErr != nil {
		tb.Fatalf("build the test store: %v", storeErr)
	}
	return sharedSt
}

// oct2026 is the report month of most tests.
var oct2026 = costgate.Month{Year: 2026, Month: time.October}

// fixedClock returns a clock stopped at t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }
