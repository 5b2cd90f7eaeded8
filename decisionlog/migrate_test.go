package decisionlog_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/costgate/costgate"
	"github.com/costgate/costgate/decisionlog"
)

// schemaV1 is the decision log as costgate wrote it before per-resource
// estimates (schema version 1), spelled out here rather than taken from
// the package so that the upgrade is tested against what is on disk.
var schemaV1 = map[string][]string{
	"sqlite": {
		`CREATE TABLE costgate_schema (version INTEGER NOT NULL)`,
		`CREATE TABLE costgate_decisions (
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
		`CREATE INDEX costgate_decisions_time ON costgate_decisions (time)`,
		`CREATE INDEX costgate_decisions_team ON costgate_decisions (team, time)`,
		`CREATE TABLE costgate_decision_rules (
			decision_id INTEGER NOT NULL REFERENCES costgate_decisions (id) ON DELETE CASCADE,
			rule_id TEXT NOT NULL,
			PRIMARY KEY (rule_id, decision_id)
		)`,
		`INSERT INTO costgate_schema (version) VALUES (1)`,
		`INSERT INTO costgate_decisions (time, surface, team, decision, input_sha256, policy_revision, price_snapshot, context, findings, waivers_used, cost)
			VALUES (1791201600000000000, 'cli', 'payments', 'deny', 'abc', 'sha256:old', 'snap-1', '{"team":"payments"}',
			'[{"rule_id":"tags.required","severity":"deny","address":"aws_s3_bucket.a","message":"missing team","source":"","waived":false}]', '[]',
			'{"currency":"USD","monthly_before":"0","monthly_after":"12.5","monthly_delta":"12.5","unpriced":[]}')`,
		`INSERT INTO costgate_decision_rules (decision_id, rule_id) VALUES (1, 'tags.required')`,
	},
	"postgres": {
		`CREATE TABLE costgate_schema (version INTEGER NOT NULL)`,
		`CREATE TABLE costgate_decisions (
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
		`CREATE INDEX costgate_decisions_time ON costgate_decisions (time)`,
		`CREATE INDEX costgate_decisions_team ON costgate_decisions (team, time)`,
		`CREATE TABLE costgate_decision_rules (
			decision_id BIGINT NOT NULL REFERENCES costgate_decisions (id) ON DELETE CASCADE,
			rule_id TEXT NOT NULL,
			PRIMARY KEY (rule_id, decision_id)
		)`,
		`INSERT INTO costgate_schema (version) VALUES (1)`,
		`INSERT INTO costgate_decisions (time, surface, team, decision, input_sha256, policy_revision, price_snapshot, context, findings, waivers_used, cost)
			VALUES ('2026-10-05T12:00:00Z', 'cli', 'payments', 'deny', 'abc', 'sha256:old', 'snap-1', '{"team":"payments"}',
			'[{"rule_id":"tags.required","severity":"deny","address":"aws_s3_bucket.a","message":"missing team","source":"","waived":false}]', '[]',
			'{"currency":"USD","monthly_before":"0","monthly_after":"12.5","monthly_delta":"12.5","unpriced":[]}')`,
		`INSERT INTO costgate_decision_rules (decision_id, rule_id) VALUES (1, 'tags.required')`,
	},
}

// testUpgrade writes a version-1 log by hand through db, opens it with
// Open (which upgrades it), and checks that the old record is still
// there, that new records keep per-resource estimates, that the upgrade
// is recorded and that opening again changes nothing. A log of a newer
// version is refused.
func testUpgrade(t *testing.T, driver, dsn string, raw func() *sql.DB) {
	ctx := context.Background()
	db := raw()
	for _, stmt := range schemaV1[driver] {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("write the version-1 log: %v\n%s", err, stmt)
		}
	}
	db.Close()

	for round := 0; round < 2; round++ {
		l, err := decisionlog.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("open a version-1 log (round %d): %v", round, err)
		}
		got, err := l.Query(ctx, decisionlog.Filter{Rule: "tags.required", Resources: true})
		if err != nil || len(got) != 1 {
			t.Fatalf("round %d: the old record: %d found, err %v", round, len(got), err)
		}
		old := got[0]
		if old.ID != 1 || !old.Time.Equal(t0) || old.Team != "payments" || old.Decision != costgate.OutcomeDeny ||
			old.Cost == nil || old.Cost.MonthlyAfter != costgate.MustMoney("12.5") || len(old.Findings) != 1 || old.Resources != nil {
			t.Errorf("round %d: old record %+v", round, old)
		}
		if round == 0 {
			rec := decisionlog.NewRecord(t0.Add(time.Hour), decisionlog.SurfaceCLI, map[string]string{"team": "payments"}, decision(costgate.OutcomeAllow))
			rec.Resources = estimates()
			if _, err := l.Append(ctx, rec); err != nil {
				t.Fatalf("append after the upgrade: %v", err)
			}
		}
		got, err = l.Query(ctx, decisionlog.Filter{Decision: costgate.OutcomeAllow, Resources: true})
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0].Resources, estimates()) {
			t.Fatalf("round %d: new record after the upgrade: %+v, err %v", round, got, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}

	db = raw()
	defer db.Close()
	var versions []int
	rows, err := db.QueryContext(ctx, "SELECT version FROM costgate_schema")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	rows.Close()
	if len(versions) != 1 || versions[0] != 2 {
		t.Fatalf("costgate_schema holds %v, want [2]", versions)
	}
	if _, err := db.ExecContext(ctx, "UPDATE costgate_schema SET version = 3"); err != nil {
		t.Fatal(err)
	}
	if _, err := decisionlog.Open(ctx, dsn); err == nil || !strings.Contains(err.Error(), "newer than this costgate") {
		t.Fatalf("open a version-3 log: err %v, want one saying it is newer", err)
	}
}

func TestSQLiteUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	testUpgrade(t, "sqlite", path, func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}

func TestPostgresUpgrade(t *testing.T) {
	dsn := postgresDSN(t)
	testUpgrade(t, "postgres", dsn, func() *sql.DB {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		return db
	})
}
