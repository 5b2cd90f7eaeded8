package decisionlog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/costgate/costgate"
)

// dialect is what differs between the SQL drivers.
type dialect struct {
	name string
	// schema creates the version-1 tables of a new log; it runs inside
	// migrate's transaction.
	schema []string
	// migrations[v-1] upgrades a log at version v to v+1, in place.
	migrations [][]string
	// lock serialises migrations between processes ("" for none).
	lock string
	// placeholder returns the n-th (1-based) bind parameter.
	placeholder func(n int) string
	// timeArg and scanTime convert Record.Time to and from a column.
	timeArg  func(t time.Time) any
	scanTime func(v any) (time.Time, error)
	// jsonCast wraps a bind parameter that holds JSON text.
	jsonCast func(p string) string
}

// sqlLog is a Log over database/sql.
type sqlLog struct {
	db     *sql.DB
	d      dialect
	closed atomic.Bool
	// where names the log in errors: the SQLite file, or the redacted
	// PostgreSQL DSN.
	where string
}

// schemaVersion is the version of the tables this costgate writes:
//
//	1  costgate_decisions, costgate_decision_rules
//	2  + costgate_decision_resources (per-resource estimates)
const schemaVersion = 2

// createSchemaTable holds the version (one row); both dialects spell it
// alike.
const createSchemaTable = `CREATE TABLE IF NOT EXISTS costgate_schema (version INTEGER NOT NULL)`

// migrate creates the tables of a new log, or upgrades an older one in
// place, in one transaction (under an advisory lock on PostgreSQL, so
// that replicas starting together upgrade once). A log written by a newer
// costgate is refused rather than written in a form it does not expect.
func (l *sqlLog) migrate(ctx context.Context) error {
	if len(l.d.migrations) != schemaVersion-1 {
		return fmt.Errorf("migrate decision log: %s has %d migrations for schema version %d", l.d.name, len(l.d.migrations), schemaVersion)
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate decision log: %w", err)
	}
	defer tx.Rollback()
	if l.d.lock != "" {
		if _, err := tx.ExecContext(ctx, l.d.lock); err != nil {
			return fmt.Errorf("migrate decision log: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, createSchemaTable); err != nil {
		return fmt.Errorf("migrate decision log: %w", err)
	}
	var v int
	err = tx.QueryRowContext(ctx, "SELECT version FROM costgate_schema").Scan(&v)
	switch {
	case err == sql.ErrNoRows:
		v = 0
	case err != nil:
		return fmt.Errorf("migrate decision log: %w", err)
	case v > schemaVersion:
		return fmt.Errorf("decision log schema version %d is newer than this costgate (%d): upgrade costgate", v, schemaVersion)
	case v < 1:
		return fmt.Errorf("decision log schema version %d: not a costgate decision log", v)
	}
	if v == 0 {
		for _, stmt := range l.d.schema {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate decision log: %w", err)
			}
		}
	}
	for from := max(v, 1); from < schemaVersion; from++ {
		for _, stmt := range l.d.migrations[from-1] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate decision log from version %d: %w", from, err)
			}
		}
	}
	switch {
	case v == 0:
		_, err = tx.ExecContext(ctx, "INSERT INTO costgate_schema (version) VALUES ("+l.d.placeholder(1)+")", schemaVersion)
	case v < schemaVersion:
		_, err = tx.ExecContext(ctx, "UPDATE costgate_schema SET version = "+l.d.placeholder(1), schemaVersion)
	}
	if err != nil {
		return fmt.Errorf("migrate decision log: %w", err)
	}
	return tx.Commit()
}

func (l *sqlLog) Driver() string { return l.d.name }

func (l *sqlLog) Ping(ctx context.Context) error {
	if l.closed.Load() {
		return ErrClosed
	}
	return l.db.PingContext(ctx)
}

func (l *sqlLog) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	return l.db.Close()
}

func (l *sqlLog) Append(ctx context.Context, r Record) (int64, error) {
	id, err := l.append(ctx, r)
	if err != nil && diskFull(err) {
		err = fmt.Errorf("%w (the disk holding the decision log %s is full: free space there; decisions are not recorded until then)", err, l.where)
	}
	return id, err
}

// diskFull reports a write refused for want of space: SQLITE_FULL, ENOSPC
// or PostgreSQL's disk_full (53100).
func diskFull(err error) bool {
	var se interface{ Code() int }
	if errors.As(err, &se) && se.Code()&0xff == sqliteFull {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "53100" {
		return true
	}
	return errors.Is(err, syscall.ENOSPC)
}

// sqliteFull is SQLITE_FULL, the primary result code of a full disk.
const sqliteFull = 13

func (l *sqlLog) append(ctx context.Context, r Record) (int64, error) {
	if l.closed.Load() {
		return 0, ErrClosed
	}
	if r.Time.IsZero() {
		return 0, fmt.Errorf("append decision: time is zero")
	}
	if r.Findings == nil {
		r.Findings = []costgate.Finding{}
	}
	if r.WaiversUsed == nil {
		r.WaiversUsed = []costgate.Waiver{}
	}
	if r.Context == nil {
		r.Context = map[string]string{}
	}
	ctxJSON, err := json.Marshal(r.Context)
	if err != nil {
		return 0, fmt.Errorf("append decision: context: %w", err)
	}
	findings, err := json.Marshal(r.Findings)
	if err != nil {
		return 0, fmt.Errorf("append decision: findings: %w", err)
	}
	waivers, err := json.Marshal(r.WaiversUsed)
	if err != nil {
		return 0, fmt.Errorf("append decision: waivers: %w", err)
	}
	var cost any
	if r.Cost != nil {
		b, err := json.Marshal(r.Cost)
		if err != nil {
			return 0, fmt.Errorf("append decision: cost: %w", err)
		}
		cost = string(b)
	}
	p := l.d.placeholder
	j := l.d.jsonCast
	stmt := "INSERT INTO costgate_decisions (time, surface, team, decision, input_sha256, policy_revision, price_snapshot, context, findings, waivers_used, cost) VALUES (" +
		strings.Join([]string{p(1), p(2), p(3), p(4), p(5), p(6), p(7), j(p(8)), j(p(9)), j(p(10)), j(p(11))}, ", ") + ") RETURNING id"
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("append decision: %w", err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, stmt, l.d.timeArg(r.Time), r.Surface, r.Team, string(r.Decision), r.InputSHA256,
		r.PolicyRevision, r.PriceSnapshot, string(ctxJSON), string(findings), string(waivers), cost).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("append decision: %w", err)
	}
	for _, rule := range r.Rules() {
		if _, err := tx.ExecContext(ctx, "INSERT INTO costgate_decision_rules (decision_id, rule_id) VALUES ("+p(1)+", "+p(2)+")", id, rule); err != nil {
			return 0, fmt.Errorf("append decision: rules: %w", err)
		}
	}
	if err := l.insertResources(ctx, tx, id, r.Resources); err != nil {
		return 0, fmt.Errorf("append decision: resources: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("append decision: %w", err)
	}
	return id, nil
}

func (l *sqlLog) Query(ctx context.Context, f Filter) ([]Record, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("query decisions: %w", err)
	}
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "?", l.d.placeholder(len(args))))
	}
	if !f.Since.IsZero() {
		add("d.time >= ?", l.d.timeArg(f.Since))
	}
	if !f.Until.IsZero() {
		add("d.time < ?", l.d.timeArg(f.Until))
	}
	if f.Decision != "" {
		add("d.decision = ?", string(f.Decision))
	}
	if f.Surface != "" {
		add("d.surface = ?", f.Surface)
	}
	if f.Team != "" {
		add("d.team = ?", f.Team)
	}
	if f.Rule != "" {
		add("EXISTS (SELECT 1 FROM costgate_decision_rules r WHERE r.decision_id = d.id AND r.rule_id = ?)", f.Rule)
	}
	q := "SELECT d.id, d.time, d.surface, d.team, d.decision, d.input_sha256, d.policy_revision, d.price_snapshot, d.context, d.findings, d.waivers_used, d.cost FROM costgate_decisions d"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY d.time DESC, d.id DESC LIMIT " + strconv.Itoa(f.limit())
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query decisions: %w", err)
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		var (
			r                                  Record
			t                                  any
			decision                           string
			ctxJSON, findings, waivers, costJS sql.NullString
		)
		if err := rows.Scan(&r.ID, &t, &r.Surface, &r.Team, &decision, &r.InputSHA256, &r.PolicyRevision, &r.PriceSnapshot,
			&ctxJSON, &findings, &waivers, &costJS); err != nil {
			return nil, fmt.Errorf("query decisions: %w", err)
		}
		if r.Time, err = l.d.scanTime(t); err != nil {
			return nil, fmt.Errorf("query decisions: decision %d: time: %w", r.ID, err)
		}
		r.Decision = costgate.Outcome(decision)
		if err := unmarshalColumn(ctxJSON, &r.Context); err != nil {
			return nil, fmt.Errorf("query decisions: decision %d: context: %w", r.ID, err)
		}
		if err := unmarshalColumn(findings, &r.Findings); err != nil {
			return nil, fmt.Errorf("query decisions: decision %d: findings: %w", r.ID, err)
		}
		if err := unmarshalColumn(waivers, &r.WaiversUsed); err != nil {
			return nil, fmt.Errorf("query decisions: decision %d: waivers: %w", r.ID, err)
		}
		if costJS.Valid {
			r.Cost = &costgate.CostTotals{}
			if err := json.Unmarshal([]byte(costJS.String), r.Cost); err != nil {
				return nil, fmt.Errorf("query decisions: decision %d: cost: %w", r.ID, err)
			}
		}
		if r.Context == nil {
			r.Context = map[string]string{}
		}
		if r.Findings == nil {
			r.Findings = []costgate.Finding{}
		}
		if r.WaiversUsed == nil {
			r.WaiversUsed = []costgate.Waiver{}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query decisions: %w", err)
	}
	rows.Close()
	if f.Resources {
		if err := l.loadResources(ctx, out); err != nil {
			return nil, fmt.Errorf("query decisions: resources: %w", err)
		}
	}
	return out, nil
}

func unmarshalColumn(s sql.NullString, v any) error {
	if !s.Valid || s.String == "" {
		return nil
	}
	return json.Unmarshal([]byte(s.String), v)
}
