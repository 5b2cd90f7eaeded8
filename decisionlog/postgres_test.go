package decisionlog_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate/decisionlog"
)

// PostgresDSNEnv names the environment variable that points the
// PostgreSQL tests at a server (scripts/ci-postgres.sh starts one and
// prints it). The tests create and drop their own database in it.
const PostgresDSNEnv = "COSTGATE_TEST_POSTGRES_DSN"

// postgresDSN returns a DSN for a fresh database on the test server. In CI
// (CI=true) a missing server fails the test instead of skipping it, so the
// PostgreSQL driver is never silently untested.
func postgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresDSNEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set: CI must run scripts/ci-postgres.sh before the tests", PostgresDSNEnv)
		}
		tb.Skipf("%s not set; run `eval $(scripts/ci-postgres.sh)` to test the PostgreSQL driver", PostgresDSNEnv)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := fmt.Sprintf("costgate_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDatabase(tb, base, name)
}

func withDatabase(tb testing.TB, dsn, db string) string {
	i := strings.Index(dsn, "://")
	rest := dsn[i+3:]
	q := ""
	if j := strings.IndexByte(rest, '?'); j >= 0 {
		rest, q = rest[:j], rest[j:]
	}
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	return dsn[:i+3] + rest + "/" + db + q
}

func TestPostgres(t *testing.T) {
	dsn := postgresDSN(t)
	testLog(t, func(tb testing.TB) decisionlog.Log {
		l, err := decisionlog.Open(context.Background(), dsn)
		if err != nil {
			tb.Fatal(err)
		}
		if l.Driver() != "postgres" {
			tb.Fatalf("driver %q", l.Driver())
		}
		return l
	})
}

// TestPostgresReplicas opens the same database from several "replicas" at
// once (the migration takes an advisory lock) and reads each other's
// records.
func TestPostgresReplicas(t *testing.T) {
	dsn := postgresDSN(t)
	ctx := context.Background()
	logs := make([]decisionlog.Log, 3)
	errs := make(chan error, len(logs))
	for i := range logs {
		go func(i int) {
			l, err := decisionlog.Open(ctx, dsn)
			logs[i] = l
			errs <- err
		}(i)
	}
	for range logs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, l := range logs {
			l.Close()
		}
	}()
	recs := fixture(t, logs[0])
	got, err := logs[2].Query(ctx, decisionlog.Filter{})
	if err != nil || len(got) != len(recs) {
		t.Fatalf("replica sees %d records, err %v; want %d", len(got), err, len(recs))
	}
}
