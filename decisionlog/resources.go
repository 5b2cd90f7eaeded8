package decisionlog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/costgate/costgate"
)

// Per-resource estimates live in costgate_decision_resources, one row per
// resource: the decision's id, the resource's position in the record
// (seq), its address, type, action, provider, region and account, the
// monthly estimate as exact nano-units (monthly_nanos) and its ids (a
// JSON array) and tags (a JSON object).

// resourceColumns are the columns Append writes, in bind order.
const resourceColumns = 11

// resourceBatch is the number of rows per INSERT or ids per SELECT: well
// under SQLite's and PostgreSQL's bind-parameter limits.
const resourceBatch = 500

func (l *sqlLog) insertResources(ctx context.Context, tx *sql.Tx, id int64, rs []costgate.EstimatedResource) error {
	for lo := 0; lo < len(rs); lo += resourceBatch {
		hi := min(lo+resourceBatch, len(rs))
		var b strings.Builder
		b.WriteString("INSERT INTO costgate_decision_resources (decision_id, seq, address, type, action, provider, region, account, monthly_nanos, ids, tags) VALUES ")
		args := make([]any, 0, (hi-lo)*resourceColumns)
		for i := lo; i < hi; i++ {
			r := &rs[i]
			ids := r.IDs
			if ids == nil {
				ids = []string{}
			}
			tags := r.Tags
			if tags == nil {
				tags = map[string]string{}
			}
			idsJSON, err := json.Marshal(ids)
			if err != nil {
				return fmt.Errorf("%s: ids: %w", r.Address, err)
			}
			tagsJSON, err := json.Marshal(tags)
			if err != nil {
				return fmt.Errorf("%s: tags: %w", r.Address, err)
			}
			if i > lo {
				b.WriteString(", ")
			}
			n := len(args)
			b.WriteByte('(')
			for c := 1; c <= resourceColumns; c++ {
				if c > 1 {
					b.WriteString(", ")
				}
				ph := l.d.placeholder(n + c)
				if c >= resourceColumns-1 { // ids, tags
					ph = l.d.jsonCast(ph)
				}
				b.WriteString(ph)
			}
			b.WriteByte(')')
			args = append(args, id, i, r.Address, r.Type, r.Action, r.Provider, r.Region, r.Account,
				int64(r.Monthly), string(idsJSON), string(tagsJSON))
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// loadResources fills the Resources of recs, in the order they were
// appended.
func (l *sqlLog) loadResources(ctx context.Context, recs []Record) error {
	at := make(map[int64]int, len(recs))
	for i := range recs {
		at[recs[i].ID] = i
	}
	for lo := 0; lo < len(recs); lo += resourceBatch {
		hi := min(lo+resourceBatch, len(recs))
		marks := make([]string, 0, hi-lo)
		args := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			args = append(args, recs[i].ID)
			marks = append(marks, l.d.placeholder(len(args)))
		}
		q := "SELECT decision_id, address, type, action, provider, region, account, monthly_nanos, ids, tags FROM costgate_decision_resources WHERE decision_id IN (" +
			strings.Join(marks, ", ") + ") ORDER BY decision_id, seq"
		if err := l.scanResources(ctx, q, args, recs, at); err != nil {
			return err
		}
	}
	return nil
}

func (l *sqlLog) scanResources(ctx context.Context, q string, args []any, recs []Record, at map[int64]int) error {
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id        int64
			r         costgate.EstimatedResource
			monthly   int64
			ids, tags sql.NullString
		)
		if err := rows.Scan(&id, &r.Address, &r.Type, &r.Action, &r.Provider, &r.Region, &r.Account, &monthly, &ids, &tags); err != nil {
			return err
		}
		r.Monthly = costgate.Money(monthly)
		if err := unmarshalColumn(ids, &r.IDs); err != nil {
			return fmt.Errorf("decision %d: %s: ids: %w", id, r.Address, err)
		}
		if err := unmarshalColumn(tags, &r.Tags); err != nil {
			return fmt.Errorf("decision %d: %s: tags: %w", id, r.Address, err)
		}
		if len(r.IDs) == 0 {
			r.IDs = nil
		}
		if len(r.Tags) == 0 {
			r.Tags = nil
		}
		i, ok := at[id]
		if !ok {
			continue
		}
		recs[i].Resources = append(recs[i].Resources, r)
	}
	return rows.Err()
}
