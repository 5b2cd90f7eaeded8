package decisionlog

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // registers the "sqlite" database/sql driver
)

// DefaultDSN is the embedded log used when none is configured.
const DefaultDSN = "costgate-decisions.db"

// Open opens (creating when needed) the decision log named by dsn:
//
//	postgres://user@host:5432/db?sslmode=disable   PostgreSQL (also postgresql://)
//	sqlite:/var/lib/costgate/decisions.db           SQLite file
//	/var/lib/costgate/decisions.db                  SQLite file (any other value is a path)
//
// The schema is created on open, or upgraded in place when the log was
// written by an earlier costgate (its records are kept).
func Open(ctx context.Context, dsn string) (Log, error) {
	dsn = strings.TrimSpace(dsn)
	if dsn == "" {
		dsn = DefaultDSN
	}
	var l *sqlLog
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		l, err = openPostgres(dsn)
	default:
		l, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	if err := l.migrate(ctx); err != nil {
		l.db.Close()
		return nil, fmt.Errorf("open decision log %s: %w", Redact(dsn), err)
	}
	return l, nil
}

// Redact returns dsn with any password replaced by "xxxxx", for messages.
func Redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func openSQLite(path string) (*sqlLog, error) {
	if path == "" {
		return nil, fmt.Errorf("open decision log: empty SQLite path")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open decision log %s: %w", path, err)
		}
	}
	// WAL lets readers (costgate decisions) run beside a writer (serve);
	// immediate transactions and a busy timeout serialise writers from
	// several processes without SQLITE_BUSY errors.
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open decision log %s: %w", path, err)
	}
	return &sqlLog{db: db, where: path, d: dialect{
		name: "sqlite",
		schema: []string{
			`CREATE TABLE IF NOT EXISTS costgate_decisions (
				id INTEGER PRIMARY KEY AUTOINCREMENT,
				time INTEGER NOT NULL,
				surface TEXT NOT NULL,
				team TEXT NOT NULL,
				decision TEXT NOT NULL,
				input_sha256 TEXT NOT NULL,
				policy_revision TEXT NOT NULL,
				price_snapshot TEXT NOT NULL,
				context TEXT NOT NULL,
				findings TEXT NOT NULL,
				waivers_used TEXT NOT NULL,
				cost TEXT
			)`,
			`CREATE INDEX IF NOT EXISTS costgate_decisions_time ON costgate_decisions (time)`,
			`CREATE INDEX IF NOT EXISTS costgate_decisions_team ON costgate_decisions (team, time)`,
			`CREATE TABLE IF NOT EXISTS costgate_decision_rules (
				decision_id INTEGER NOT NULL REFERENCES costgate_decisions (id) ON DELETE CASCADE,
				rule_id TEXT NOT NULL,
				PRIMARY KEY (rule_id, decision_id)
			)`,
		},
		migrations: [][]string{
			// 1 -> 2: per-resource estimates.
			{`CREATE TABLE IF NOT EXISTS costgate_decision_resources (
				decision_id INTEGER NOT NULL REFERENCES costgate_decisions (id) ON DELETE CASCADE,
				seq INTEGER NOT NULL,
				address TEXT NOT NULL,
				type TEXT NOT NULL,
				action TEXT NOT NULL,
				provider TEXT NOT NULL,
				region TEXT NOT NULL,
				account TEXT NOT NULL,
				monthly_nanos INTEGER NOT NULL,
				ids TEXT NOT NULL,
				tags TEXT NOT NULL,
				PRIMARY KEY (decision_id, seq)
			)`},
		},
		placeholder: func(int) string { return "?" },
		timeArg:     func(t time.Time) any { return t.UTC().UnixNano() },
		scanTime: func(v any) (time.Time, error) {
			switch v := v.(type) {
			case int64:
				return time.Unix(0, v).UTC(), nil
			case string:
				n, err := strconv.ParseInt(v, 10, 64)
				return time.Unix(0, n).UTC(), err
			}
			return time.Time{}, fmt.Errorf("unexpected %T", v)
		},
		jsonCast: func(p string) string { return p },
	}}, nil
}

func openPostgres(dsn string) (*sqlLog, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open decision log %s: %w", Redact(dsn), err)
	}
	db.SetMaxOpenConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &sqlLog{db: db, where: Redact(dsn), d: dialect{
		name: "postgres",
		lock: `SELECT pg_advisory_xact_lock(7267426800)`, // several replicas may start at once
		schema: []string{
			`CREATE TABLE IF NOT EXISTS costgate_decisions (
				id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				time TIMESTAMPTZ NOT NULL,
				surface TEXT NOT NULL,
				team TEXT NOT NULL,
				decision TEXT NOT NULL,
				input_sha256 TEXT NOT NULL,
				policy_revision TEXT NOT NULL,
				price_snapshot TEXT NOT NULL,
				context JSONB NOT NULL,
				findings JSONB NOT NULL,
				waivers_used JSONB NOT NULL,
				cost JSONB
			)`,
			`CREATE INDEX IF NOT EXISTS costgate_decisions_time ON costgate_decisions (time)`,
			`CREATE INDEX IF NOT EXISTS costgate_decisions_team ON costgate_decisions (team, time)`,
			`CREATE TABLE IF NOT EXISTS costgate_decision_rules (
				decision_id BIGINT NOT NULL REFERENCES costgate_decisions (id) ON DELETE CASCADE,
				rule_id TEXT NOT NULL,
				PRIMARY KEY (rule_id, decision_id)
			)`,
		},
		migrations: [][]string{
			// 1 -> 2: per-resource estimates.
			{`CREATE TABLE IF NOT EXISTS costgate_decision_resources (
				decision_id BIGINT NOT NULL REFERENCES costgate_decisions (id) ON DELETE CASCADE,
				seq INTEGER NOT NULL,
				address TEXT NOT NULL,
				type TEXT NOT NULL,
				action TEXT NOT NULL,
				provider TEXT NOT NULL,
				region TEXT NOT NULL,
				account TEXT NOT NULL,
				monthly_nanos BIGINT NOT NULL,
				ids JSONB NOT NULL,
				tags JSONB NOT NULL,
				PRIMARY KEY (decision_id, seq)
			)`},
		},
		placeholder: func(n int) string { return "$" + strconv.Itoa(n) },
		timeArg:     func(t time.Time) any { return t.UTC() },
		scanTime: func(v any) (time.Time, error) {
			if t, ok := v.(time.Time); ok {
				return t.UTC(), nil
			}
			return time.Time{}, fmt.Errorf("unexpected %T", v)
		},
		jsonCast: func(p string) string { return p + "::jsonb" },
	}}, nil
}
